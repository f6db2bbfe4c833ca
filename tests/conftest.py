"""Fixtures: a real SQLite database (migrated once, copied per test), the
Flask test client, the Flask-SocketIO test client, and a real server process.

Routes and socket handlers run in contexts of their own, as in production: a
test of them holds no app context (the test client refuses a request made
inside one), prepares its data with ``make_evening`` or ``prepare`` and
reads the result with ``read``, each in a fresh context. So a route that
forgets to commit loses its change and fails its test. Tests of services
(which run inside a context in production too) ask for ``ctx`` and check
what was stored with ``committed`` (a fresh context again); ``ctx`` also
fails a test that leaves writes uncommitted.

Markers: ``browser`` (Chromium) and ``live_server`` (a ``run.py`` process)
are set here from the fixtures a test uses; ``make test-fast`` runs the rest.
"""

import os
import shutil
import subprocess
import uuid

import pytest

from workshop import clock, create_app
from workshop.extensions import db

from .browser import browser, new_page, own_site, site  # noqa: F401 (fixtures of the browser tests)
from .helpers import (
    FAST_PASSWORD_HASH,
    Evening,
    RequestClient,
    app_config,
    find_chromium,
    make_evening,
    make_event,
    make_organizer,
    serve,
    uncommitted,
)

os.environ.setdefault("SECRET_KEY", "test-secret")
# Every app of the tests, those made with create_app() directly too.
os.environ.setdefault("PASSWORD_HASH_METHOD", FAST_PASSWORD_HASH)

# The fixtures here that start a run.py or Chromium; a test or a fixture of
# another module that makes a LiveServer itself is found by its code.
LIVE_SERVER_FIXTURES = {"live_server", "module_live_server", "site", "own_site"}
BROWSER_FIXTURES = {"browser", "new_page"}


def _starts_a_server(item) -> bool:
    """Whether the test, or one of its fixtures, starts a LiveServer itself."""
    functions = [item.obj] + [
        definition.func
        for definitions in item._fixtureinfo.name2fixturedefs.values()
        for definition in definitions
    ]
    codes = [f.__code__ for f in functions if hasattr(f, "__code__")]
    return any({"LiveServer", "serve"} & set(code.co_names) for code in codes)


def pytest_collection_modifyitems(items):
    for item in items:
        if BROWSER_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.browser)
        if LIVE_SERVER_FIXTURES & set(item.fixturenames) or _starts_a_server(item):
            item.add_marker(pytest.mark.live_server)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """A database file brought to the latest schema by the real migrations."""
    from flask_migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "template.db"
    app = create_app(app_config(path))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture
def database_path(tmp_path, migrated_database):
    path = tmp_path / "workshop.db"
    shutil.copy(migrated_database, path)
    return path


@pytest.fixture
def app(database_path):
    app = create_app(app_config(database_path))
    app.test_client_class = RequestClient  # never inside the test's own context
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def real_clock():
    """Every test starts on the real time, whatever the last one set."""
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def ctx(app):
    """An app context for a test of services, as a request or a socket
    handler has one. Check what they stored with ``committed``; writes left
    uncommitted at the end fail the test (production would lose them)."""
    with app.app_context():
        yield
        try:
            left = uncommitted(db.session)
            assert not left, f"left uncommitted (a service that forgot to commit?): {left}"
        finally:
            db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


# Objects of a test of services, in its context (``ctx``). Tests of routes
# and sockets take ``evening`` and its plain values instead.


@pytest.fixture
def organizer(app, ctx):
    return make_organizer()


@pytest.fixture
def event(organizer):
    return make_event(organizer)


@pytest.fixture
def table(event):
    return event.tables[0]


@pytest.fixture
def other_table(event):
    return event.tables[1]


@pytest.fixture
def evening(app) -> Evening:
    """An open evening with two tables, as plain values (no session held)."""
    return make_evening(app)


@pytest.fixture
def live_server(tmp_path, migrated_database):
    """``run.py`` serving a copy of the migrated database; yields the server and
    an app bound to the same file for preparing data."""
    yield from serve(tmp_path, migrated_database)


@pytest.fixture(scope="module")
def module_live_server(tmp_path_factory, migrated_database):
    """One ``run.py`` for a whole module whose tests each make an evening of
    their own (a territory and organizer each: they never see each other)."""
    yield from serve(tmp_path_factory.mktemp("live"), migrated_database)


@pytest.fixture(scope="session")
def chromium_path():
    """The system Chromium; a missing browser fails under CI, skips elsewhere."""
    path = find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required under CI (apt-get install chromium)")
        pytest.skip("no Chromium found (install Debian's chromium to run browser tests)")
    return path


def _service_or_fail(name: str, check, start_command: str):
    """Find a local service (PostgreSQL, Redis), starting it if it is down.
    Under CI a missing service is a failure; elsewhere the test is skipped."""
    for attempt in range(2):
        try:
            return check()
        except Exception as error:
            if attempt == 0:
                subprocess.run(start_command, shell=True, capture_output=True, check=False)
                continue
            if os.environ.get("CI"):
                pytest.fail(f"{name} is required under CI: {error}")
            pytest.skip(f"no {name} reachable: {error}")
    return None


POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _new_postgres_database():
    """Yield the URL of a new, empty PostgreSQL database; drop it afterwards."""
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def check():
        with admin.connect():
            return True

    _service_or_fail(
        "PostgreSQL",
        check,
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    )
    name = f"workshop_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url():
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    yield from _new_postgres_database()


@pytest.fixture(scope="module")
def module_postgres_url():
    """A new PostgreSQL database shared by one module's tests."""
    yield from _new_postgres_database()


@pytest.fixture(scope="module")
def redis_url():
    """The URL of the local Redis server (the Socket.IO message queue)."""
    import redis

    def check():
        return redis.Redis.from_url(REDIS_URL).ping()

    _service_or_fail(
        "Redis",
        check,
        'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
        "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log",
    )
    return REDIS_URL
