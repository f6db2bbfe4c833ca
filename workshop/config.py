"""Configuration, read from the environment so that the same code runs on a
laptop at a venue (SQLite, one process) and behind a proxy (PostgreSQL, Redis)."""

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _instance_secret(instance_path: Path) -> str:
    """Return a secret key kept in instance/, created on first start.

    A fixed key would be public (the code is open source); a key generated at
    every start would sign everyone out at every restart.
    """
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def load_config(instance_path: str) -> dict:
    """Build the configuration mapping from environment variables."""
    instance = Path(instance_path)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'workshop.db'}"
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
        # stays with one process.
        "RATE_LIMIT_POSTS": int(os.environ.get("RATE_LIMIT_POSTS", "12")),
        "RATE_LIMIT_WINDOW": int(os.environ.get("RATE_LIMIT_WINDOW", "60")),
        "BABEL_DEFAULT_LOCALE": "fr",
        "LANGUAGES": ["fr", "en"],
        "WTF_CSRF_TIME_LIMIT": None,
        # Proxies in front of the app (nginx: 1) whose X-Forwarded-For and
        # X-Forwarded-Proto are believed: the phones' addresses, for the
        # sign-in and joining limits. 0 (direct, at a venue): nothing is believed.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        # No form of the app comes near this: a bigger body is refused (413)
        # before it is read.
        "MAX_CONTENT_LENGTH": 512 * 1024,
    }
