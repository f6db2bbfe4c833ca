"""SQLite writers of one process queue on the app's lock (which gevent makes
cooperative) instead of waiting inside SQLite, where a waiting writer would
block the whole event loop."""

import sqlite3
import threading
import time

import sqlalchemy as sa

from workshop import checkpointer
from workshop.sqlite import serialize_writes


def test_a_second_writer_waits_on_the_lock_not_inside_sqlite(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    serialize_writes(engine)

    @sa.event.listens_for(engine, "connect")
    def no_waiting_in_sqlite(dbapi_connection, _record):
        # Without the lock, a second writer would fail at once ("database is locked").
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (n INTEGER)"))
    first_wrote, order, errors = threading.Event(), [], []

    def first():
        with engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO t VALUES (1)"))
            first_wrote.set()
            time.sleep(0.3)  # holds the write transaction open
            order.append("first commits")

    def second():
        first_wrote.wait(5)
        try:
            with engine.begin() as connection:
                connection.execute(sa.text("INSERT INTO t VALUES (2)"))
                order.append("second writes")
        except Exception as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert errors == []
    assert order == ["first commits", "second writes"]
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM t")).scalar() == 2


def test_readers_do_not_wait_for_a_writer(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'r.db'}")
    serialize_writes(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (n INTEGER)"))
        connection.execute(sa.text("INSERT INTO t VALUES (1)"))
    writing, read = threading.Event(), []

    def writer():
        with engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO t VALUES (2)"))
            writing.set()
            time.sleep(0.5)

    thread = threading.Thread(target=writer)
    thread.start()
    writing.wait(5)
    with engine.connect() as connection:
        read.append(connection.execute(sa.text("SELECT count(*) FROM t")).scalar())
    thread.join(10)

    # The committed state, read while the writer still held its transaction open.
    assert read == [1]


def test_the_checkpointer_copies_the_wal_back_while_writers_go_on(tmp_path, monkeypatch):
    """The server's commits never checkpoint (they would wait for the disk):
    the checkpoint process copies the -wal file back, so that the next
    writer starts it again from its beginning instead of growing it."""
    path = tmp_path / "c.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # as the server's connections under run.py
    writer.execute("CREATE TABLE t (text TEXT)")
    for n in range(200):
        writer.execute("INSERT INTO t VALUES (?)", ("x" * 2000 + str(n),))
    checkpoints = sqlite3.connect(path, isolation_level=None)

    pages, copied = checkpointer.checkpoint(checkpoints)

    assert pages > 100 and copied == pages  # all of it, with no reader or writer in the way
    monkeypatch.setattr(checkpointer, "RESTART_PAGES", 10)
    writer.execute("INSERT INTO t VALUES ('encore')")
    pages, copied = checkpointer.checkpoint(checkpoints)
    writer.execute("INSERT INTO t VALUES ('et encore')")  # the -wal file starts again
    assert checkpoints.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1] < 10
    assert writer.execute("SELECT count(*) FROM t").fetchone()[0] == 202
