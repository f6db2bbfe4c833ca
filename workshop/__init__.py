"""Start-Up de Territoire: the app that runs the evening and follows its ideas."""

import os

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from . import transport, wire
from .config import ROOT, engine_options, load_config
from .extensions import babel, compress, csrf, db, login_manager, migrate, socketio
from .sqlite import serialize_writes, wait_for_disk


def select_locale() -> str:
    """French unless the visitor chose otherwise or their browser prefers English."""
    from flask import current_app, has_request_context

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the CLI, a background task: the default language
        return languages[0]
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def _answer_once_on_disk(response):
    # Nothing a request stored is answered before it is on disk (GroupFlush).
    wait_for_disk()
    return response


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory."""
    app = transport.App(
        __name__,
        instance_path=os.environ.get("WORKSHOP_INSTANCE") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(load_config(app.instance_path))
    if test_config:
        app.config.update(test_config)
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    )

    # Socket handlers must be declared before the first socketio.init_app():
    # Flask-SocketIO then keeps them and registers them on every app's server.
    from . import cli, jobs, publisher, sockets, web  # noqa: F401
    from .services import writes
    from .synthesis import jobs as synthesis_jobs

    writes.load_operations()

    db.init_app(app)
    with app.app_context():
        serialize_writes(db.engine, cooperative=app.config["SOCKETIO_ASYNC_MODE"] == "gevent")
    app.after_request(_answer_once_on_disk)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    compress.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(ROOT / "workshop" / "translations"),
    )
    login_manager.init_app(app)
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        channel=app.config["SOCKETIO_CHANNEL"],
        **transport.message_queue(app.config),
        # Pings every 10 s: a phone that lost the Wi-Fi is noticed quickly.
        # (Shorter in the tests of silent clients, whose READ_TIMEOUT is short.)
        ping_interval=float(os.environ.get("PING_INTERVAL", "10")),
        ping_timeout=20,
        # A polling request's body is refused above this, before it is read.
        max_http_buffer_size=transport.MAX_MESSAGE,
        # A connection's events are handled one after the other, where they
        # are read: in the order the screen sent them, without a task started
        # for each (a cost on every write), and a screen that floods the server
        # with events waits for its own instead of taking the loop from others.
        async_handlers=False,
        # Packets written and read with orjson (workshop/wire.py).
        serializer=wire.Packet,
    )
    transport.harden(app, socketio)
    if app.config["TRUSTED_PROXIES"]:
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    web.register(app)
    cli.register(app)
    # What the data calls for, derived at every housekeeping round (workshop/jobs.py).
    jobs.runner(app).derivers.append(synthesis_jobs.derive)
    return app
