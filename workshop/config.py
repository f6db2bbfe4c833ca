"""Configuration, read from the environment so that the same code runs on a
laptop at a venue (SQLite, one process) and behind a proxy (PostgreSQL, Redis)."""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool

from .sqlite import database_file

ROOT = Path(__file__).resolve().parent.parent  # the project's folder


def _instance_secret(instance_path: Path) -> str:
    """Return a secret key kept in instance/, created on first start.

    A fixed key would be public (the code is open source); a key generated at
    every start would sign everyone out at every restart.
    """
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        # Created readable by its owner only: never world-readable, not even
        # for a moment.
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def protect_files(app) -> None:
    """Make the instance folder, its secret key and the SQLite database
    (with its -wal and -shm files) readable by their owner only: they hold
    the participants' names and the organizers' password hashes."""
    instance = Path(app.instance_path)
    paths = [instance, instance / "secret_key"]
    database = database_file(app.config["SQLALCHEMY_DATABASE_URI"])
    if database:
        paths += [Path(database), Path(f"{database}-wal"), Path(f"{database}-shm")]
    for path in paths:
        if path.exists():
            path.chmod(0o700 if path.is_dir() else 0o600)


class PatientPool(QueuePool):
    """A pool whose waiters queue for as long as connections keep coming
    back: a burst (a hall of phones reconnecting at once, a starved CPU)
    waits its turn instead of failing after ``pool_timeout``; only a pool
    where nothing was given back for that long (every connection stuck on
    a database that went away) answers "unavailable"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.returns = 0  # connections given back so far

    def _do_return_conn(self, record) -> None:
        self.returns += 1
        super()._do_return_conn(record)

    def _do_get(self):
        while True:
            returns = self.returns
            try:
                return super()._do_get()
            except PoolTimeout:
                if self.returns == returns:  # nothing moved meanwhile: stuck
                    raise


def engine_options(database_url: str) -> dict:
    """Connections to a database server are checked before use (one that
    died with a restart or a network cut is replaced, not handed to a
    request) and time out instead of hanging. SQLite needs neither."""
    if database_url.startswith("sqlite"):
        return {}
    options = {
        "poolclass": PatientPool,
        "pool_pre_ping": True,
        "pool_timeout": 10,
        "pool_recycle": 1800,
    }
    # The connections of one process (a database server allows so many in all).
    if size := os.environ.get("DATABASE_POOL_SIZE"):
        options["pool_size"] = int(size)
    if overflow := os.environ.get("DATABASE_MAX_OVERFLOW"):
        options["max_overflow"] = int(overflow)
    if timeout := os.environ.get("DATABASE_POOL_TIMEOUT"):
        options["pool_timeout"] = float(timeout)
    if database_url.startswith("postgresql"):
        options["connect_args"] = {
            "connect_timeout": 5,
            # A statement or an abandoned transaction never holds a
            # connection (and its locks) for long.
            "options": "-c statement_timeout=15000 -c idle_in_transaction_session_timeout=30000",
        }
    return options


def load_config(instance_path: str) -> dict:
    """Build the configuration mapping from environment variables."""
    instance = Path(instance_path)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'workshop.db'}"
    trusted_proxies = int(os.environ.get("TRUSTED_PROXIES", "0"))
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _instance_secret(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # "gevent" in production (run.py); tests of handlers use "threading".
        "SOCKETIO_ASYNC_MODE": os.environ.get("SOCKETIO_ASYNC_MODE", "gevent"),
        "SOCKETIO_MESSAGE_QUEUE": os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None,
        # The message queue's channel: two deployments (or test runs) sharing
        # one Redis never hear each other.
        "SOCKETIO_CHANNEL": os.environ.get("SOCKETIO_CHANNEL") or "startup-territoire",
        # Base address printed on QR codes; guessed from the LAN address when unset.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL") or None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("COOKIE_SECURE") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": os.environ.get("COOKIE_SECURE") == "1",
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PARTICIPANT_COOKIE_DAYS": 30,
        # Posting limit per participant: at most RATE_LIMIT_POSTS new ideas
        # in RATE_LIMIT_WINDOW seconds, counted in this process's memory
        # (workshop/limits.py): no query per post; a participant's connection
        # stays with one process. A resend of a post (same client id, answered
        # from its receipt) is not a new idea and is not counted.
        "RATE_LIMIT_POSTS": int(os.environ.get("RATE_LIMIT_POSTS", "12")),
        "RATE_LIMIT_WINDOW": int(os.environ.get("RATE_LIMIT_WINDOW", "60")),
        # Writes that change nothing (an unchanged text saved again) still
        # keep a receipt each, so that a late resend never redoes them: at
        # most this many a minute per writer (a phone, a console, an
        # organizer). A person makes a few by chance; past this, a loop.
        "UNCHANGED_WRITES_PER_MINUTE": int(os.environ.get("UNCHANGED_WRITES_PER_MINUTE", "30")),
        # The app's theme suggestions for an evening followed by its
        # synthesis team are computed again at most this often (seconds),
        # when its ideas changed: grouping a hall's 2,000 ideas takes about
        # two seconds of a core (workshop/synthesis/jobs.py).
        "SUGGEST_EVERY": float(os.environ.get("SUGGEST_EVERY", "30")),
        # SUGGESTIONS=0: the app suggests nothing (no themes, no likely
        # duplicates); the desk and the consoles work as before, by hand.
        "SUGGESTIONS": os.environ.get("SUGGESTIONS", "1") != "0",
        # Joins from one address to the tables of one evening, per hour, on
        # top of the limit per table (20 a minute: a table's ten people on
        # one tablet fit). Real use from one device: a person, a second
        # table, a shared tablet seating one table, an organizer trying the
        # 30 tables of a big evening. A script filling every table gets 40
        # seats an hour instead of all of them in 1.5 minutes. Behind a
        # proxy a whole hall may share the venue's one address (2,000
        # phones): off (0) unless set.
        "EVENING_JOINS_PER_ADDRESS": int(
            os.environ.get("EVENING_JOINS_PER_ADDRESS", "0" if trusted_proxies else "40")
        ),
        # Wrong codes (join codes, evening codes, secret links) one address
        # may give per minute before it must wait. Codes are short enough to
        # guess at 40 a second; at 30 a minute finding an evening's 5-letter
        # code takes months. People mistype a code once or twice, and even a
        # hall behind one address (a proxy) stays far below: kept on.
        "WRONG_CODES_PER_MINUTE": int(os.environ.get("WRONG_CODES_PER_MINUTE", "30")),
        # How organizers' passwords are hashed (werkzeug's method string):
        # scrypt, deliberately slow. The tests set a fast one; never lower it
        # in production.
        "PASSWORD_HASH_METHOD": os.environ.get("PASSWORD_HASH_METHOD") or "scrypt",
        "BABEL_DEFAULT_LOCALE": "fr",
        # The evenings' local time: the spreadsheets show their times in it.
        # Checked at start: a misspelt zone stops the app, not an export.
        "TIMEZONE": ZoneInfo(os.environ.get("TIMEZONE") or "Europe/Paris").key,
        "LANGUAGES": ["fr", "en"],
        "WTF_CSRF_TIME_LIMIT": None,
        # Proxies in front of the app (nginx: 1) whose X-Forwarded-For and
        # X-Forwarded-Proto are believed: the phones' addresses, for the
        # sign-in and joining limits. 0 (direct, at a venue): nothing is believed.
        "TRUSTED_PROXIES": trusted_proxies,
        # Live screens one address may hold open (per process). At a venue,
        # every phone has its own LAN address: 50 is far beyond any device.
        # Behind a proxy, a whole hall may reach the server from the venue's
        # one public address: off (0) unless set.
        "MAX_SCREENS_PER_ADDRESS": int(
            os.environ.get("MAX_SCREENS_PER_ADDRESS", "0" if trusted_proxies else "50")
        ),
        # Connections one address may hold open (per process), refused at
        # once beyond: a phone holds one or two, a laptop with a few screens
        # a dozen, and one device cannot take the files every phone needs.
        # Behind a proxy every connection comes from the proxy: off (0)
        # unless set (the proxy limits them per address: deploy/nginx.conf).
        "MAX_CONNECTIONS_PER_ADDRESS": int(
            os.environ.get("MAX_CONNECTIONS_PER_ADDRESS", "0" if trusted_proxies else "200")
        ),
        # No form of the app comes near this: a bigger body is refused (413)
        # before it is read.
        "MAX_CONTENT_LENGTH": 512 * 1024,
    }
