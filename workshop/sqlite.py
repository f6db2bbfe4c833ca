"""SQLite at a venue: one process, one writer at a time, never a frozen loop.

SQLite lets one connection write at a time; a second writer waits inside the
C library (``busy_timeout``), which blocks the whole gevent loop: every table,
every read, even static files would stop while one write waits. So writers of
this process queue on a lock that gevent makes cooperative: the first write
statement of a transaction takes it, returning the connection to the pool
(after its commit or rollback) gives it back. Readers never take it (WAL).

Under gevent, what may still wait inside SQLite runs in a native thread
(gevent's pool) while the loop serves everyone else: taking SQLite's write
lock (another program, a backup or the CLI, may hold it for seconds) and the
commit itself (its flush to disk, and the checkpoints SQLite runs at some
commits, take from milliseconds to a second on a slow disk).
"""

import sqlite3
import threading

from sqlalchemy import event
from sqlalchemy.engine import Engine

READS = ("SELECT", "PRAGMA", "WITH")
WAIT = 10.0  # seconds; past this the write goes on and SQLite's busy_timeout decides
BUSY_TIMEOUT_MS = 10_000  # how long SQLite waits for another program's lock


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets readers go on while one writer commits; busy_timeout makes a
    # second writer (another process: a backup, the CLI) wait instead of
    # failing; foreign keys must be switched on.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: an acknowledged post survives a power cut, not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()


def serialize_writes(engine: Engine, off_loop: bool = False) -> None:
    """Queue this engine's SQLite writers on one cooperative lock; with
    ``off_loop`` (gevent), wait for SQLite's lock and commit in a native thread."""
    if engine.dialect.name != "sqlite" or getattr(engine, "writes_serialized", False):
        return
    engine.writes_serialized = True
    lock = threading.Lock()
    in_thread = _native_thread_runner() if off_loop else None

    @event.listens_for(engine, "before_cursor_execute")
    def _take(connection, _cursor, statement, *_args):
        info = connection.info
        if not info.get("writing") and not statement.lstrip()[:7].upper().startswith(READS):
            info["writing"] = lock.acquire(timeout=WAIT)
            raw = connection.connection.dbapi_connection
            if in_thread is not None and not raw.in_transaction:
                # Take SQLite's write lock now, waiting (busy_timeout) off the loop.
                in_thread(raw.execute, "BEGIN IMMEDIATE")

    if in_thread is not None:
        commit = engine.dialect.do_commit

        def do_commit(dbapi_connection):
            if dbapi_connection.in_transaction:
                in_thread(commit, dbapi_connection)

        engine.dialect.do_commit = do_commit

    @event.listens_for(engine.pool, "checkin")
    def _give_back(_dbapi_connection, record):
        if record is not None and record.info.pop("writing", False):
            lock.release()


def _native_thread_runner():
    """``run(function, *args)``: call it in gevent's native thread pool and
    wait for it cooperatively."""
    from gevent import get_hub

    pool = get_hub().threadpool
    return lambda function, *args: pool.apply(function, args)
