"""SQLite at a venue: one process, one writer at a time, never a frozen loop.

SQLite lets one connection write at a time; a second writer waits inside the
C library (``busy_timeout``), which blocks the whole gevent loop: every table,
every read, even static files would stop while one write waits. So writers of
this process queue on a lock that gevent makes cooperative: the first write
statement of a transaction takes it, returning the connection to the pool
(after its commit or rollback) gives it back. Readers never take it (WAL).

Under gevent, SQLite's own write lock (which another program, a backup or
the CLI, may hold for seconds) is taken by trying and sleeping
cooperatively, never by waiting inside SQLite; commits leave the loop for a
native thread while the disk is slow (SlowDiskCommits); and the server never
checkpoints (workshop/checkpointer.py does).
"""

import logging
import os
import sqlite3
import threading
import time
from collections import deque
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .offload import off_loop

log = logging.getLogger(__name__)
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


def serialize_writes(engine: Engine, cooperative: bool = False) -> None:
    """Queue this engine's SQLite writers on one cooperative lock; with
    ``cooperative`` (gevent, run.py), also wait for another program's lock
    cooperatively and leave checkpoints to the checkpoint process."""
    if engine.dialect.name != "sqlite" or getattr(engine, "writes_serialized", False):
        return
    engine.writes_serialized = True
    lock = threading.Lock()

    if cooperative:

        @event.listens_for(engine, "connect")
        def _never_wait_inside(dbapi_connection, _record):
            # Waiting inside SQLite would block the loop; _take waits instead.
            dbapi_connection.execute("PRAGMA busy_timeout=0")
            # Checkpoints are run by workshop/checkpointer.py (started with
            # the server), never inside one of our commits.
            dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

    @event.listens_for(engine, "before_cursor_execute")
    def _take(connection, _cursor, statement, *_args):
        info = connection.info
        if not info.get("writing") and not statement.lstrip()[:7].upper().startswith(READS):
            info["writing"] = lock.acquire(timeout=WAIT)
            raw = connection.connection.dbapi_connection
            if cooperative and not raw.in_transaction:
                _begin_writing(raw)

    if cooperative:
        engine.dialect.do_commit = SlowDiskCommits(engine.dialect.do_commit)

    @event.listens_for(engine.pool, "checkin")
    def _give_back(_dbapi_connection, record):
        if record is not None and record.info.pop("writing", False):
            lock.release()


class SlowDiskCommits:
    """A commit flushes the -wal file to disk (synchronous=FULL): a few
    milliseconds on a laptop's SSD, 50 ms or more on a slow or busy disk,
    during which the whole loop would wait. Commits run on the loop while
    the disk is fast (a native thread costs CPU at every write: about 10
    points at the §11 load). Once the typical commit (the median of the last
    nine) takes more than SLOW, they run in gevent's native thread pool; one
    in PROBE_EVERY then runs on the loop again, to time the disk itself (in
    the pool, the time also counts waiting for the interpreter), and a fast
    one brings commits back to the loop."""

    SLOW = 0.04  # seconds
    FAST = 0.01
    LAST = 9  # commits the median is taken over
    PROBE_EVERY = 20

    def __init__(self, commit):
        self.commit = commit
        self.off_loop = False
        self.recent: deque[float] = deque(maxlen=self.LAST)
        self.since_probe = 0

    def __call__(self, dbapi_connection) -> None:
        if self.off_loop:
            self.since_probe += 1
            if self.since_probe < self.PROBE_EVERY:
                self._in_thread(dbapi_connection)
                return
            self.since_probe = 0
            if self._timed(dbapi_connection) < self.FAST:
                self.off_loop = False
                self.recent.clear()
                log.info("the disk is fast again: commits back on the event loop")
            return
        self.recent.append(self._timed(dbapi_connection))
        typical = sorted(self.recent)[len(self.recent) // 2]
        if len(self.recent) == self.LAST and typical > self.SLOW:
            self.off_loop = True
            log.warning(
                "slow disk (a commit takes %.0f ms): commits move to a native thread",
                typical * 1000,
            )

    def _timed(self, dbapi_connection) -> float:
        started = time.perf_counter()
        self.commit(dbapi_connection)
        return time.perf_counter() - started

    def _in_thread(self, dbapi_connection) -> None:
        off_loop(self.commit, dbapi_connection)


def _begin_writing(raw: sqlite3.Connection) -> None:
    """Take SQLite's write lock, which another program (a backup, the CLI)
    may hold: try, and between tries let the loop serve everyone else
    (``time.sleep`` is gevent's under run.py). Past WAIT, "database is
    locked" goes up as a temporary refusal."""
    deadline = time.monotonic() + WAIT
    pause = 0.005
    while True:
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def database_file(url: str) -> str | None:
    """The file of a SQLite database URL (None for another database)."""
    return url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None


def backup(source: str, target: str) -> int:
    """Copy the SQLite database ``source`` to ``target``, consistently, while
    the server goes on writing (SQLite's backup API reads one snapshot; a
    plain file copy can miss what is still in the -wal file). The copy is
    readable by its owner only; returns its number of pages."""
    partial = f"{target}.part"
    Path(partial).unlink(missing_ok=True)
    original = sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000)
    copy = sqlite3.connect(partial)
    try:
        original.backup(copy)
        pages = copy.execute("PRAGMA page_count").fetchone()[0]
        if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("the copy does not pass SQLite's check")
    finally:
        copy.close()
        original.close()
    os.chmod(partial, 0o600)
    os.replace(partial, target)
    return pages
