"""Every acknowledgement after durability (issue 17 §3), on the server as it
runs at a venue (run.py, gevent, SQLite flushed in groups), with a disk whose
flushes a test can hold back or make fail (bench/slow_disk.c)."""

import shutil
import sqlite3
import threading
import time
from contextlib import closing

import pytest

from workshop.extensions import db

from .faults import slow_disk
from .helpers import (
    LiveServer,
    Phone,
    hang_up,
    join_over_http,
    make_evening,
    new_client_id,
    serve,
    wait_for,
)


@pytest.fixture
def disk(tmp_path, migrated_database):
    """A live server whose disk flushes wait while ``gate`` exists and fail
    while ``fail`` exists; yields (server, app, gate, fail)."""
    gate, fail = tmp_path / "gate", tmp_path / "fail"
    environment = {
        **slow_disk(tmp_path, 0),
        "SLOW_DISK_GATE": str(gate),
        "SLOW_DISK_FAIL": str(fail),
    }
    for server, app in serve(tmp_path, migrated_database, environment):
        yield server, app, gate, fail


def _committed(server: LiveServer, text: str) -> int:
    """How many ideas with ``text`` another program reads in the database
    (committed, on disk or not)."""
    path = server.env["DATABASE_URL"].removeprefix("sqlite:///")
    with closing(sqlite3.connect(path, timeout=5)) as connection:
        return connection.execute("SELECT count(*) FROM ideas WHERE text = ?", (text,)).fetchone()[
            0
        ]


def test_a_resend_is_answered_only_once_its_original_is_on_disk(disk):
    """Two tabs of one phone send the same post: the second one arrives
    while the first is committed but not yet flushed. It is answered from
    the receipt, but not before the flush: until then a power cut would
    lose a write already acknowledged."""
    server, app, gate, _fail = disk
    table = make_evening(app).tables[0]
    http = join_over_http(server, table)
    first, second = Phone(server, table, http), Phone(server, table, http)
    client_id, text = new_client_id(), "Une idée en route vers le disque"
    order, answers = [], {}

    def send(phone, name):
        answers[name] = phone.write("idea.post", {"text": text}, client_id=client_id)
        order.append(name)

    gate.touch()  # from now on, every flush of the disk waits
    original = threading.Thread(target=send, args=(first, "original"))
    original.start()
    assert wait_for(lambda: _committed(server, text) == 1)
    resend = threading.Thread(target=send, args=(second, "resend"))
    resend.start()
    time.sleep(1)  # not an assertion: the time a wrong answer would need to show
    order.append("flushed")
    gate.unlink()
    original.join(20)
    resend.join(20)

    assert order.index("flushed") < order.index("resend")
    assert answers["original"]["ok"] and answers["resend"]["ok"]
    assert answers["resend"]["duplicate"] and answers["resend"]["seq"] == answers["original"]["seq"]
    assert _committed(server, text) == 1
    hang_up(first, second)


def test_after_a_failed_flush_a_resend_is_refused_for_now_then_answered(disk):
    """A flush that fails (a disk error) acknowledges nothing it covers: the
    post and its resends are refused as temporary (the phone keeps them and
    sends again), and the resend made once the disk works again is answered
    from the receipt: stored once."""
    server, app, _gate, fail = disk
    table = make_evening(app).tables[0]
    http = join_over_http(server, table)
    first, second = Phone(server, table, http), Phone(server, table, http)
    client_id, text = new_client_id(), "Écrite sur un disque en panne"

    fail.touch()
    refused = first.write("idea.post", {"text": text}, client_id=client_id)
    resent = second.write("idea.post", {"text": text}, client_id=client_id)
    fail.unlink()
    answered = first.write("idea.post", {"text": text}, client_id=client_id)

    assert refused["ok"] is False and refused["error"] == "database_unavailable"
    assert refused["permanent"] is False
    assert resent["ok"] is False and resent["error"] == "database_unavailable"
    assert answered["ok"] and answered["duplicate"]
    assert _committed(server, text) == 1
    assert "flushing" in server.log() and "failed" in server.log()
    hang_up(first, second)


def test_screens_that_saw_numbers_lost_in_a_power_cut_start_again(tmp_path, migrated_database):
    """A push leaves once its change is committed, before the disk flush: a
    power cut then loses numbers that screens have seen, and new changes
    reuse them. At its catch-up such a screen is told to start again
    (``reset``) and gets everything; a screen that saw nothing lost, or
    that knows this server's start (``epoch``), catches up as usual."""
    path = tmp_path / "cut.db"
    shutil.copy(migrated_database, path)
    gate = tmp_path / "gate"
    environment = {**slow_disk(tmp_path, 0), "SLOW_DISK_GATE": str(gate)}
    server = LiveServer(tmp_path, f"sqlite:///{path}", environment)
    from workshop import create_app

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SOCKETIO_ASYNC_MODE": "threading"}
    )
    server.start()
    phones = []
    try:
        table = make_evening(app).tables[0]
        alice_http, bob_http = join_over_http(server, table), join_over_http(server, table, "Bob")
        alice = Phone(server, table, alice_http)
        bob = Phone(server, table, bob_http)
        phones += [alice, bob]
        assert alice.write("idea.post", {"text": "Sur le disque"})["ok"]
        before = bob.sync(0)
        assert isinstance(before["epoch"], str)
        # What the disk holds before the power cut: a copy, taken as SQLite reads it.
        with (
            closing(sqlite3.connect(path)) as live,
            closing(sqlite3.connect(tmp_path / "disk.db")) as copy,
        ):
            live.backup(copy)
        pushed = []
        bob.client.on("changes", lambda push: pushed.extend(push["changes"]))
        gate.touch()  # the next post is committed and pushed, never flushed
        threading.Thread(
            target=alice.write, args=("idea.post", {"text": "Perdue"}), daemon=True
        ).start()
        assert wait_for(lambda: any(c.get("text") == "Perdue" for c in pushed))
        seen = max(c["seq"] for c in pushed)
        hang_up(alice, bob)
        phones.clear()
        server.kill()  # the power cut: what was not flushed is gone
        gate.unlink()
        for suffix in ("-wal", "-shm"):
            (tmp_path / f"cut.db{suffix}").unlink(missing_ok=True)
        shutil.copy(tmp_path / "disk.db", path)
        server.start()

        alice = Phone(server, table, alice_http)
        phones.append(alice)
        new = alice.write("idea.post", {"text": "Après la coupure"})
        assert new["ok"] and new["seq"] <= seen  # a number bob saw, reused
        bob = Phone(server, table, bob_http)
        phones.append(bob)
        again = bob.sync(seen, seen=seen, epoch=before["epoch"])
        usual = bob.sync(before["seq"], seen=before["seq"], epoch=before["epoch"])
        current = bob.sync(seen, seen=seen, epoch=again["epoch"])
    finally:
        hang_up(*phones)
        server.stop()
        with app.app_context():
            db.engine.dispose()

    texts = {c.get("text") for c in again["changes"] if c["type"] == "idea"}
    assert again["reset"] is True and again["epoch"] != before["epoch"]
    assert texts == {"Sur le disque", "Après la coupure"}
    assert not usual.get("reset") and {c.get("text") for c in usual["changes"]} >= {
        "Après la coupure"
    }
    assert not current.get("reset")
