"""Start the server: migrate the database, print the addresses, serve.

python run.py            # PORT (default 5000), all interfaces
"""

import gc
import logging
import os

ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "gevent")
if ASYNC_MODE == "gevent":
    # First thing, before anything imports socket or threading.
    from gevent import monkey

    monkey.patch_all()

from flask_migrate import upgrade  # noqa: E402

from workshop import create_app  # noqa: E402
from workshop.checkpointer import Checkpointer  # noqa: E402
from workshop.config import protect_files  # noqa: E402
from workshop.extensions import socketio  # noqa: E402
from workshop.housekeeping import start_housekeeping  # noqa: E402
from workshop.qr import lan_addresses  # noqa: E402
from workshop.services import accounts, changes, steps  # noqa: E402
from workshop.sqlite import database_file  # noqa: E402
from workshop.transport import (  # noqa: E402
    TimedHandler,
    listen_from_start,
    raise_open_files_limit,
)


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s [%(name)s] %(message)s",
    )
    app = create_app()
    for name in ("engineio.server", "socketio.server"):
        # They add a handler of their own: their lines would show twice.
        logging.getLogger(name).handlers.clear()
    port = int(os.environ.get("PORT", "5000"))
    host = os.environ.get("HOST", "0.0.0.0")
    with app.app_context():
        upgrade()
        steps.give_scripts_to_old_tables()  # pages never write when they are read
        if os.environ.get("SEED_DEMO") == "1":
            from workshop.cli import seed_demo

            seed_demo()
        first_start = accounts.needs_setup()
    protect_files(app)
    database = database_file(app.config["SQLALCHEMY_DATABASE_URI"])
    if database and ASYNC_MODE == "gevent":
        # The server's commits never checkpoint (workshop/sqlite.py): this does.
        checkpoints = Checkpointer(database)
        checkpoints.ensure_running()
        app.extensions["checkpointer"] = checkpoints
        with app.app_context():  # its pushes may outrun the disk: screens check their numbers
            changes.remember_start()
    logging.getLogger("workshop").info("database ready, files readable by their owner only")
    # Thousands of connections keep hundreds of thousands of objects alive;
    # a full garbage collection over them pauses every screen for ~300 ms.
    # Freeze what start-up created and make collections rarer: at the §11
    # load, Python's default (700) spent 5% of the server's time collecting,
    # 10,000 spends under 2%, in pauses of about 60 ms every few seconds.
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 100)
    # From the start, not at the first phone: it also closes the transports
    # of clients that never say who they are.
    start_housekeeping(app)
    listen_from_start(socketio)
    open_files = raise_open_files_limit()
    print("Start-Up de Territoire is running:", flush=True)
    print(f"  on this computer:  http://localhost:{port}/", flush=True)
    for address in lan_addresses():
        print(f"  for phones (same Wi-Fi): http://{address}:{port}/", flush=True)
    print(f"  up to about {open_files - 50} phones at once (open files allowed)", flush=True)
    if first_start:
        code = accounts.setup_code(app.secret_key)
        print(f"  first start: open /setup on this computer, or elsewhere with the code {code}")
    extra = {}
    if ASYNC_MODE == "gevent":
        extra["handler_class"] = TimedHandler.capped(app.config["MAX_CONNECTIONS_PER_ADDRESS"])
    socketio.run(
        app,
        host=host,
        port=port,
        log_output=os.environ.get("LOG_REQUESTS") == "1",
        allow_unsafe_werkzeug=ASYNC_MODE == "threading",
        **extra,
    )


if __name__ == "__main__":
    main()
