"""SQLite at a venue: one process, one writer at a time, never a frozen loop.

SQLite lets one connection write at a time; a second writer waits inside the
C library (``busy_timeout``), which blocks the whole gevent loop: every table,
every read, even static files would stop while one write waits. So writers of
this process queue on a lock that gevent makes cooperative: the first write
statement of a transaction takes it, returning the connection to the pool
(after its commit or rollback) gives it back. Readers never take it (WAL).
"""

import sqlite3
import threading

from sqlalchemy import event
from sqlalchemy.engine import Engine

READS = ("SELECT", "PRAGMA", "WITH")
WAIT = 10.0  # seconds; past this the write goes on and SQLite's busy_timeout decides


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets readers go on while one writer commits; busy_timeout makes a
    # second writer (another process: a backup, the CLI) wait instead of
    # failing; foreign keys must be switched on.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: an acknowledged post survives a power cut, not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()


def serialize_writes(engine: Engine) -> None:
    """Queue this engine's SQLite writers on one cooperative lock."""
    if engine.dialect.name != "sqlite" or getattr(engine, "writes_serialized", False):
        return
    engine.writes_serialized = True
    lock = threading.Lock()

    @event.listens_for(engine, "before_cursor_execute")
    def _take(connection, _cursor, statement, *_args):
        info = connection.info
        if not info.get("writing") and not statement.lstrip()[:7].upper().startswith(READS):
            info["writing"] = lock.acquire(timeout=WAIT)

    @event.listens_for(engine.pool, "checkin")
    def _give_back(_dbapi_connection, record):
        if record is not None and record.info.pop("writing", False):
            lock.release()
