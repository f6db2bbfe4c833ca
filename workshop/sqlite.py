"""SQLite at a venue: one process, one writer at a time, never a frozen loop.

SQLite lets one connection write at a time; a second writer waits inside the
C library (``busy_timeout``), which blocks the whole gevent loop: every table,
every read, even static files would stop while one write waits. So writers of
this process queue on a lock that gevent makes cooperative: the first write
statement of a transaction takes it, returning the connection to the pool
(after its commit or rollback) gives it back. Readers never take it (WAL).

Under gevent, SQLite's own write lock (which another program, a backup or
the CLI, may hold for seconds) is taken by trying and sleeping
cooperatively, never by waiting inside SQLite; commits are flushed to disk in
groups, in a native thread (GroupFlush); and the server never checkpoints
(workshop/checkpointer.py does).
"""

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from .offload import off_loop

READS = ("SELECT", "PRAGMA", "WITH")
WAIT = 10.0  # seconds; past this the write goes on and SQLite's busy_timeout decides
# Another program holds SQLite's write lock (a backup, the CLI, a purge's
# VACUUM): the writer first in line waits this long for it (more than
# ERASE_WAIT, less than a phone's 10 s wait for an answer), then answers
# "database unavailable" (the phone sends again); the writers queued behind
# it wait LOCKED_GRACE at most, then answer the same. Nobody queues for the
# whole lock: after it, the queue is empty and the next write goes at once.
LOCKED_WAIT = 5.0  # seconds
LOCKED_GRACE = 1.0  # seconds
QUEUE_POLL = 0.1  # seconds between two looks at the queue's first writer
BUSY_TIMEOUT_MS = 10_000  # how long SQLite waits for another program's lock
# How long erasing traces waits for readers and the writer: less than WAIT,
# so that the writers held back meanwhile never give up.
ERASE_WAIT = 3.0  # seconds
# Flushes start at most this often: under a hall's load, commits come every
# few milliseconds and each flush costs the loop a wake-up of a native
# thread; the commits made meanwhile share the next flush. An answer waits at
# most this much more (pushes do not wait for the disk); a quiet server
# flushes at once.
FLUSH_SPACING = 0.02  # seconds

log = logging.getLogger(__name__)


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
        # What a change overwrites or deletes is zeroed in the file, not left
        # readable in its free space (a withdrawn contact, a deleted card).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


def serialize_writes(engine: Engine, cooperative: bool = False) -> None:
    """Queue this engine's SQLite writers on one cooperative lock; with
    ``cooperative`` (gevent, run.py), also wait for another program's lock
    cooperatively, flush commits to disk in groups off the loop
    (GroupFlush) and leave checkpoints to the checkpoint process."""
    if engine.dialect.name != "sqlite" or getattr(engine, "writes_serialized", False):
        return
    engine.writes_serialized = True
    writers = WriterQueue()
    path = engine.url.database
    flush = GroupFlush(f"{path}-wal") if cooperative and path and path != ":memory:" else None
    engine.group_flush = flush  # for read_from_disk

    if cooperative:

        @event.listens_for(engine, "connect")
        def _never_wait_inside(dbapi_connection, _record):
            # Waiting inside SQLite would block the loop; _take waits instead.
            dbapi_connection.execute("PRAGMA busy_timeout=0")
            # Checkpoints are run by workshop/checkpointer.py (started with
            # the server), never inside one of our commits.
            dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
            if flush is not None:  # GroupFlush flushes the -wal file instead
                dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    def take_for_writing(raw) -> None:
        if writers.holder is not raw:
            writers.take(raw)
            if cooperative and not raw.in_transaction:
                _begin_writing(raw, writers)

    engine.take_for_writing = take_for_writing  # for Prepared, which bypasses the events
    engine.give_back_writing = writers.give_back  # for a connection kept past its commit

    @event.listens_for(engine, "before_cursor_execute")
    def _take(connection, _cursor, statement, *_args):
        if not statement.lstrip()[:7].upper().startswith(READS):
            take_for_writing(connection.connection.dbapi_connection)

    if flush is not None:
        commit = engine.dialect.do_commit

        def _commit_then_flush(connection):
            raw = connection.dbapi_connection  # given the pool's proxy of it
            wrote = raw.in_transaction
            commit(connection)  # written to the -wal file, not yet flushed
            writers.give_back(raw)  # the next writer need not wait for the disk
            if wrote:  # wait_for_disk, once the connection is back in the pool
                _unflushed.flush, _unflushed.ticket = flush, flush.committed()

        engine.dialect.do_commit = _commit_then_flush

    @event.listens_for(engine.pool, "checkin")
    def _give_back(dbapi_connection, _record):
        writers.give_back(dbapi_connection)


class WriterQueue:
    """One writer at a time: the raw connection holding the lock, if any."""

    def __init__(self):
        self.lock = threading.Lock()  # gevent's under run.py: waiting is cooperative
        self.holder = None
        # Since when the writer holding the lock waits for another program's.
        self.locked_out_since: float | None = None

    def take(self, raw) -> None:
        """Wait for the lock. Past WAIT the write goes on without it (SQLite's
        busy_timeout decides); while another program has held SQLite's lock
        for LOCKED_GRACE, "database is locked" at once (see LOCKED_WAIT)."""
        deadline = time.monotonic() + WAIT
        while not self.lock.acquire(timeout=QUEUE_POLL):
            now = time.monotonic()
            since = self.locked_out_since
            if since is not None and now - since >= LOCKED_GRACE:
                raise sqlite3.OperationalError("database is locked (by another program)")
            if now >= deadline:
                return
        self.holder = raw

    def give_back(self, raw) -> None:
        if raw is not None and self.holder is raw:
            self.holder = None
            self.lock.release()


class GroupFlush:
    """Commits flushed to disk in groups, in a native thread.

    With synchronous=FULL every commit flushes the -wal file itself, on the
    loop: a few milliseconds on a laptop's SSD, 50 ms or more on a slow or
    busy disk, a hundred times a second at the §11 load, while every phone
    waits. Instead SQLite commits without flushing (synchronous=NORMAL, still
    consistent after a power cut), and each commit takes a ticket. Before
    answering, the socket event or request that committed waits
    (:func:`wait_for_disk`), cooperatively and with its connection back in
    the pool, for a flush (fsync of the -wal file, in gevent's pool of
    native threads) that started after its commit; the writes made
    meanwhile share the next one. Nothing is acknowledged before it is on
    disk: an acknowledged write survives a power cut, not only a crash.
    """

    def __init__(self, wal_path: str):
        self.wal_path = wal_path
        self.commits = 0  # commits made so far
        self.flushed = 0  # commits known to be on disk
        self.flushing: threading.Event | None = None  # set when the flush under way ends
        self.started = 0.0  # when the last flush started (monotonic)

    def committed(self) -> int:
        """Count a commit just made; its ticket for :meth:`wait`."""
        self.commits += 1
        return self.commits

    def seen(self) -> int:
        """The ticket of what a read may see now: every commit made so far
        (committed but maybe not yet on disk)."""
        return self.commits

    def wait(self, ticket: int) -> None:
        """Return once the commit of ``ticket`` (and every one before) is on
        disk; raise :class:`FlushFailed` if the flush that was to cover it
        failed (tried again by the next waiter, never taken for done)."""
        while self.flushed < ticket:
            if self.flushing is not None:
                self.flushing.wait()
            else:
                self._flush()

    def _flush(self) -> None:
        done = threading.Event()
        self.flushing = done
        try:
            if (spacing := self.started + FLUSH_SPACING - time.monotonic()) > 0:
                time.sleep(spacing)  # gevent's: the commits made meanwhile join this flush
            covers, self.started = self.commits, time.monotonic()
            off_loop(_fsync, self.wal_path)
            self.flushed = max(self.flushed, covers)
        except OSError as error:  # EIO, ENOSPC…: nothing it covers may be acknowledged
            log.error("flushing %s to disk failed: %s", self.wal_path, error)
            raise FlushFailed(error) from error
        finally:  # a failed flush is tried again by whoever still waits
            self.flushing = None
            done.set()


class FlushFailed(OperationalError):
    """The -wal file could not be flushed to disk. An OperationalError, as
    the database being away: what waited for it is refused for now, and
    sent again (never acknowledged, never refused for good)."""

    def __init__(self, error: OSError):
        super().__init__("fsync of the -wal file", None, error)


# The commit this greenlet (a socket event, a request) has yet to see on disk.
_unflushed = threading.local()  # gevent's under run.py: one per greenlet


def wait_for_disk() -> None:
    """Return once the commits of this socket event or request are on disk
    (at once where commits flush themselves: tests, the CLI)."""
    flush = getattr(_unflushed, "flush", None)
    if flush is not None:
        _unflushed.flush = None
        flush.wait(_unflushed.ticket)


def read_from_disk(engine: Engine) -> None:
    """Answer what this socket event or request just read (a write's
    receipt, say) only once it is on disk: it may come from a commit of
    another event, made but not yet flushed. :func:`wait_for_disk` then
    waits for a flush that started after every commit visible now (none
    if they are all on disk already)."""
    flush = getattr(engine, "group_flush", None)
    if flush is not None:
        ticket = flush.seen()
        if ticket > flush.flushed:
            if getattr(_unflushed, "flush", None) is flush:  # a commit of its own, later or not
                ticket = max(ticket, _unflushed.ticket)
            _unflushed.flush, _unflushed.ticket = flush, ticket


def _fsync(path: str) -> None:
    # Opened afresh each time: a checkpoint may truncate or recreate the file.
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # the last connection closed: checkpointed and synced
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _begin_writing(raw: sqlite3.Connection, writers: WriterQueue) -> None:
    """Take SQLite's write lock, which another program (a backup, the CLI)
    may hold: try, and between tries let the loop serve everyone else
    (``time.sleep`` is gevent's under run.py). Past LOCKED_WAIT, "database
    is locked" goes up as a temporary refusal; meanwhile the writers queued
    behind are refused sooner (WriterQueue.take)."""
    deadline = time.monotonic() + LOCKED_WAIT
    pause = 0.005
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise
                if writers.locked_out_since is None:
                    writers.locked_out_since = time.monotonic()
            time.sleep(pause)
            pause = min(pause * 2, 0.1)  # noticed within 0.1 s of the release
    finally:
        writers.locked_out_since = None


def erase_traces(engine: Engine, vacuum: bool = False) -> None:
    """Once personal data is deleted and committed, leave none of it in the
    database's files: old versions of its pages stay in the -wal file until
    they are overwritten (checkpoints copy them, never truncate the file),
    so copy the -wal into the database and truncate it. ``vacuum`` also
    rewrites the database file whole (an evening's purge: copies left in
    its free space by versions without secure_delete go too). Off the loop:
    writers wait for it cooperatively (see _begin_writing). Never fails
    what was committed before it (a failure is logged). Nothing to do for
    another database."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if path and path != ":memory:":
        off_loop(_erase_traces, path, vacuum)


def _erase_traces(path: str, vacuum: bool) -> None:
    # A connection of its own, in this thread: waiting inside SQLite is fine here.
    connection = sqlite3.connect(path, timeout=ERASE_WAIT, isolation_level=None)
    try:
        connection.execute("PRAGMA secure_delete=ON")
        if vacuum:
            connection.execute("VACUUM")
        busy, _pages, _copied = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:  # a reader kept an older snapshot past ERASE_WAIT: the next erasure will do
            log.warning("the -wal file of %s could not be truncated: a reader kept it busy", path)
    except sqlite3.Error:  # locked past ERASE_WAIT, say: the next erasure will do
        log.exception("erasing the traces of deleted data in %s failed", path)
    finally:
        connection.close()


def database_file(url: str) -> str | None:
    """The file of a SQLite database URL (None for another database)."""
    return url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None


def backup(source: str, target: str) -> int:
    """Copy the SQLite database ``source`` to ``target``, consistently, while
    the server goes on writing (SQLite's backup API reads one snapshot; a
    plain file copy can miss what is still in the -wal file). The copy is
    readable by its owner only; returns its number of pages."""
    partial = f"{target}.part"
    Path(target).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    Path(partial).unlink(missing_ok=True)
    try:
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
    finally:  # nothing half made is left behind
        Path(partial).unlink(missing_ok=True)
    return pages


# The files SQLite may keep beside a database, replayed onto whatever file
# bears the database's name when it is next opened.
COMPANIONS = ("-wal", "-shm", "-journal")


class DatabaseInUse(Exception):
    """Another program (the app, its checkpoint process) has the database open."""


class NotABackup(Exception):
    """The file is missing, not a database of the app, or damaged."""


def in_use(database: str) -> bool:
    """Whether another program has the SQLite database ``database`` open.

    Every connection in WAL mode holds a lock that an exclusive lock must
    wait for, even an idle one (the app's pool, its checkpoint process):
    taking one without waiting tells. Closing this connection, the last,
    checkpoints the -wal file into the database."""
    if not Path(database).exists():
        return False
    connection = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        connection.execute("PRAGMA locking_mode=EXCLUSIVE")
        connection.execute("BEGIN EXCLUSIVE")
        connection.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as error:
        return "locked" in str(error) or "busy" in str(error)
    except sqlite3.DatabaseError:  # damaged: what a restore is for
        return False
    finally:
        connection.close()


def restore(source: str, database: str) -> str | None:
    """Put the backup ``source`` in place of the SQLite database ``database``
    if no other program has it open. The backup is copied beside the
    database and checked first (``PRAGMA integrity_check``, the app's
    tables); then the database and its -wal, -shm and -journal files are
    moved aside together (copying over the database alone would let SQLite
    replay the old -wal file onto the backup: later data back, or a damaged
    file), and the copy takes its place. Returns where the old database
    went (None if there was none). Raises :class:`NotABackup` or
    :class:`DatabaseInUse`, having changed nothing."""
    if not Path(source).is_file():  # sqlite3 would create an empty one
        raise NotABackup(source)
    if in_use(database):
        raise DatabaseInUse(database)
    incoming = f"{database}.restoring"
    try:
        try:
            backup(source, incoming)
            _check_backup(incoming)
        except sqlite3.DatabaseError as error:
            raise NotABackup(source) from error
        aside = _move_aside(database)
        os.replace(incoming, database)
    finally:
        Path(incoming).unlink(missing_ok=True)
    return aside


def _check_backup(path: str) -> None:
    copy = sqlite3.connect(path)
    try:
        if copy.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("the copy does not pass SQLite's check")
        tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
        if "alembic_version" not in tables:
            raise sqlite3.DatabaseError("not a database of this app")
    finally:
        copy.close()


def _move_aside(database: str) -> str | None:
    """Rename the database and its companion files, keeping them together
    (``workshop.db.before-restore-<time>`` with its own -wal…): opened
    alone, that database reads as it was. Returns its new name, if any."""
    present = [suffix for suffix in ("", *COMPANIONS) if Path(f"{database}{suffix}").exists()]
    if not present:
        return None
    stamp = time.strftime("%Y-%m-%d-%H%M%S")
    aside, n = f"{database}.before-restore-{stamp}", 1
    while Path(aside).exists():
        n += 1
        aside = f"{database}.before-restore-{stamp}-{n}"
    for suffix in present:
        os.replace(f"{database}{suffix}", f"{aside}{suffix}")
        os.chmod(f"{aside}{suffix}", 0o600)  # participants' names: their owner's only
    return aside


class Prepared:
    """A Core statement run straight on SQLite's own connection, for the few
    statements every phone's write runs (DESIGN.md §11).

    SQLAlchemy's execution costs several times the statement itself on
    these (events, parameter and result objects: about 0.1 ms each, four
    times per post, a hundred posts a second). Here the statement is
    compiled once per set of parameter names, its parameters and results
    converted by its column types' own processors, and the writers' queue
    taken as the engine's events would take it (:func:`serialize_writes`).
    It runs in the session's transaction: committed or rolled back with it.
    With another database it goes through SQLAlchemy as usual.
    """

    def __init__(self, statement):
        self.statement = statement
        self.writes = not statement.is_select
        self._compiled: dict[tuple, tuple] = {}

    def run(self, connection, params: dict) -> list[tuple]:
        """Execute with ``params`` on ``connection`` (the session's); the rows it returns."""
        if connection.dialect.name != "sqlite":
            result = connection.execute(self.statement, params)
            return [tuple(row) for row in result] if result.returns_rows else []
        key = tuple(params)
        compiled = self._compiled.get(key) or self._compile(connection.dialect, key)
        sql, names, binds, defaults, results = compiled
        raw = connection.connection.dbapi_connection
        values = []
        for name in names:
            value = params[name] if name in params else defaults[name]()
            bind = binds.get(name)
            values.append(value if bind is None or value is None else bind(value))
        try:
            if self.writes and (take := getattr(connection.engine, "take_for_writing", None)):
                take(raw)
            rows = raw.execute(sql, values).fetchall()
        except sqlite3.Error as error:  # raised as SQLAlchemy would (IntegrityError…)
            raise DBAPIError.instance(sql, values, error, sqlite3.Error) from error
        if any(results):
            rows = [
                tuple(
                    value if convert is None else convert(value)
                    for value, convert in zip(row, results, strict=True)
                )
                for row in rows
            ]
        return rows

    def _compile(self, dialect, key: tuple) -> tuple:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(key))
        # Columns with a default the caller left out (a receipt's date, say).
        defaults = {}
        prefetch = [(column, column.default) for column in compiled.insert_prefetch]
        prefetch += [(column, column.onupdate) for column in compiled.update_prefetch]
        for column, default in prefetch:
            if default is None or not (default.is_callable or default.is_scalar):
                raise ValueError(f"{column}: only Python-side defaults can be prepared")
            defaults[column.key] = _default_of(default)
        names = list(compiled.positiontup)
        binds = {
            name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in names
        }
        results = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in self.statement.exported_columns
        ]
        compiled_ = (compiled.string, names, binds, defaults, results)
        self._compiled[key] = compiled_
        return compiled_


def _default_of(default) -> Callable[[], object]:
    # SQLAlchemy wraps a callable default to take the execution context; ours ignore it.
    if default.is_callable:
        return lambda: default.arg(None)
    return lambda: default.arg
