"""The real server process (run.py, gevent) with real Socket.IO clients over
the network: what a phone relies on when the venue's laptop restarts.

Tests that stop or kill the server have one of their own (``live_server``);
the others share the module's (``module_live_server``), each with an evening
of its own."""

import contextlib
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio
from sqlalchemy import func, select

from workshop import clock, config, create_app
from workshop.client import Client, new_client_id
from workshop.extensions import db
from workshop.models import Idea

from .faults import slow_disk
from .helpers import (
    ROOT,
    LiveServer,
    Phone,
    hang_up,
    join_over_http,
    make_evening,
    read,
    script,
    serve,
)


def ideas_of(changes):
    return [c for c in changes if c["type"] == "idea"]


@pytest.fixture(scope="module")
def module_live_server(tmp_path_factory, migrated_database):
    """The module's server, its housekeeping every second (10 s in production):
    a checkpoint process that stops is started again within a test's patience."""
    yield from serve(tmp_path_factory.mktemp("live"), migrated_database, {"BEACON_INTERVAL": "1"})


def own_evening(app):
    """An open evening of an organizer of its own: tests sharing the module's
    server never see each other's."""
    return make_evening(app, email=f"orga-{new_client_id()[:8]}@example.org")


def test_acknowledged_post_survives_a_server_restart(live_server):
    server, app = live_server
    table = make_evening(app).tables[0]
    phone = Phone(server, table, join_over_http(server, table))
    client_id = new_client_id()
    ack = phone.write("idea.post", {"kind": "need", "text": "Un car le soir"}, client_id)
    assert ack["ok"]
    idea_id = ack["changes"][0]["id"]

    server.kill()  # between the acknowledgement and the phone's reconnect
    server.start()

    assert phone.connects.acquire(timeout=20), "the phone did not reconnect by itself"
    state = phone.sync(0)
    assert [(i["id"], i["text"]) for i in ideas_of(state["changes"])] == [
        (idea_id, "Un car le soir")
    ]
    # The phone resends its outbox after reconnecting: still one idea.
    again = phone.write("idea.post", {"kind": "need", "text": "Un car le soir"}, client_id)
    assert again["duplicate"] and again["changes"][0]["id"] == idea_id
    assert read(app, lambda s: s.scalar(select(func.count(Idea.id)))) == 1
    phone.client.disconnect()


def test_a_timed_step_keeps_its_step_and_end_time_across_a_restart(live_server):
    server, app = live_server
    table = make_evening(app).tables[0]
    phone = Phone(server, table, join_over_http(server, table))
    console = Client(server.url, {"role": "facilitator", "secret": table.facilitator_secret})
    steps = script(phone.sync(0)["changes"])
    diverge = next(s for s in steps if s["kind"] == "diverge")
    opened = console.write("step.go", {"step_id": diverge["id"]})
    before = opened["changes"][0]
    assert before["step_id"] == diverge["id"]
    assert before["timer"]["ends_at"] > clock.epoch_ms()

    server.kill()  # in the middle of the timed step
    server.start()

    assert phone.connects.acquire(timeout=20)
    [after] = [c for c in phone.sync(0)["changes"] if c["type"] == "table"]
    assert (after["step_id"], after["timer"]) == (before["step_id"], before["timer"])
    hang_up(console, phone)


def test_writes_reach_the_other_phones_of_the_table_only(module_live_server):
    server, app = module_live_server
    table, other = own_evening(app).tables
    alice = Phone(server, table, join_over_http(server, table, "Alice"))
    bob = Phone(server, table, join_over_http(server, table, "Bob"))
    carol = Phone(server, other, join_over_http(server, other, "Carol"))
    seen = {"bob": threading.Event(), "carol": []}
    bob.client.on("changes", lambda push: ideas_of(push["changes"]) and seen["bob"].set())
    carol.client.on("changes", lambda push: seen["carol"].extend(ideas_of(push["changes"])))

    alice.write("idea.post", {"text": "Une épicerie mobile"})

    assert seen["bob"].wait(10)
    # Carol's catch-up proves her table's wall is untouched.
    assert ideas_of(carol.sync(0)["changes"]) == []
    assert seen["carol"] == []
    hang_up(alice, bob, carol)


def test_a_following_client_that_missed_a_push_catches_up_by_itself(module_live_server):
    """The protocol's client follows its table: a push lost on its way (the
    socket got it, nobody read it) is noticed at the next one, whose first
    number skips it, and fetched by a catch-up of its own."""
    server, app = module_live_server
    table = own_evening(app).tables[0]
    alice = Phone(server, table, join_over_http(server, table, "Alice"))
    bob = Phone(server, table, join_over_http(server, table, "Bob"), follow=True)
    assert bob.synced.wait(10)
    reader = bob.sio.handlers["/"]["changes"]
    lost = threading.Event()
    bob.sio.on("changes", lambda _push: lost.set())  # this push goes nowhere

    missed = alice.write("idea.post", {"text": "Perdue en route"})
    assert lost.wait(10)
    bob.sio.on("changes", reader)
    bob.synced.clear()
    alice.write("idea.post", {"text": "Arrivée"})

    assert bob.synced.wait(10), "the client did not catch up"
    assert "Perdue en route" in [i["text"] for i in ideas_of(bob.changes)]
    assert bob.seqs.last() >= missed["seq"] + 1
    hang_up(alice, bob)


def test_the_outbox_is_sent_again_after_a_reconnect(live_server):
    """A write made while the server is away waits in the outbox, and goes
    once the client is back: one idea, whatever was resent."""
    server, app = live_server
    table = make_evening(app).tables[0]
    phone = Phone(server, table, join_over_http(server, table))
    server.kill()

    assert phone.write("idea.post", {"text": "Pendant la panne"}, timeout=1) is None
    assert len(phone.outbox) == 1
    server.start()

    assert phone.connects.acquire(timeout=20), "the phone did not reconnect by itself"
    assert phone.outbox == {}
    texts = [i["text"] for i in ideas_of(phone.sync(0)["changes"])]
    assert texts == ["Pendant la panne"]
    assert read(app, lambda s: s.scalar(select(func.count(Idea.id)))) == 1
    phone.client.disconnect()


def test_crafted_connection_to_another_table_is_refused(module_live_server):
    server, app = module_live_server
    table, other = own_evening(app).tables
    http = join_over_http(server, table)

    intruder = socketio.Client(reconnection=False)
    try:
        intruder.connect(
            server.url,
            headers={"Cookie": f"wt_{other.join_code}={http.cookies[f'wt_{table.join_code}']}"},
            auth={"role": "participant", "table": other.join_code},
            transports=["websocket"],
            wait_timeout=10,
        )
        refused = False
    except socketio.exceptions.ConnectionError:
        refused = True
    assert refused


def test_the_server_prints_where_to_reach_it(module_live_server):
    server, _app = module_live_server
    log = server.log_path.read_text()
    assert f"http://localhost:{server.port}/" in log
    assert "Running upgrade" in log or "Context impl SQLiteImpl" in log  # migrated at start


def test_the_database_and_instance_files_are_readable_by_their_owner_only(
    module_live_server, tmp_path
):
    """They hold participants' names and organizers' password hashes."""
    server, app = module_live_server
    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))

    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert "[workshop] database ready" in server.log_path.read_text()
    # A secret key made at first start is never readable by others.
    key = config._instance_secret(tmp_path / "fresh")
    assert len(key) == 64
    assert stat.S_IMODE((tmp_path / "fresh" / "secret_key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o700


def test_a_write_lock_held_by_another_program_does_not_freeze_the_server(module_live_server):
    """A backup or the CLI holds SQLite's write lock: the post waits (off the
    loop), while the other tables, reads and pages go on being answered."""
    server, app = module_live_server
    table, other_table = own_evening(app).tables
    alice = Phone(server, table, join_over_http(server, table, "Alice"))
    bob = Phone(server, other_table, join_over_http(server, other_table, "Bob"))
    database = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    other_program = sqlite3.connect(database, timeout=0, isolation_level=None)
    other_program.execute("BEGIN IMMEDIATE")  # SQLite's write lock, held
    answers, order = {}, []

    def post():
        answers["post"] = alice.write("idea.post", {"text": "Pendant le verrou"})
        order.append("post answered")

    posting = threading.Thread(target=post)
    posting.start()
    time.sleep(0.5)  # the post is now waiting for the lock
    try:
        answers["sync"] = bob.sync(0)
        answers["page"] = requests.get(f"{server.url}/static/js/app.js", timeout=10).status_code
        order.append("others answered")
    finally:
        other_program.rollback()
        other_program.close()
        order.append("lock released")
    posting.join(20)

    assert order == ["others answered", "lock released", "post answered"]
    assert answers["sync"]["ok"] and answers["page"] == 200
    assert answers["post"]["ok"]
    hang_up(alice, bob)


def checkpointers_of(server) -> list[int]:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    pids = [int(pid) for pid in children.read_text().split()]
    return [pid for pid in pids if b"checkpointer" in _command_line(pid)]


def _command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:  # the child ended between the two reads (the killed one)
        return b""


def test_the_server_keeps_its_checkpoint_process_running(module_live_server):
    """Its commits never checkpoint: without this process the -wal file would
    grow all evening. Stopped, it is started again by the housekeeping."""
    server, _app = module_live_server
    first = checkpointers_of(server)
    assert len(first) == 1

    os.kill(first[0], signal.SIGKILL)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and checkpointers_of(server) in ([], first):
        time.sleep(0.2)
    again = checkpointers_of(server)
    assert len(again) == 1 and again != first


def test_the_backup_command_copies_everything_while_the_evening_runs(module_live_server, tmp_path):
    """The documented backup: every acknowledged idea is in the copy, taken
    while phones go on posting (a file copy could miss the -wal file)."""
    server, app = module_live_server
    table = own_evening(app).tables[0]
    phone = Phone(server, table, join_over_http(server, table))
    acked = [phone.write("idea.post", {"text": f"Avant {n}"})["ok"] for n in range(5)]
    assert all(acked)
    posting, stop = [], threading.Event()

    def keep_posting():
        while not stop.is_set():
            posting.append(phone.write("idea.post", {"text": f"Pendant {len(posting)}"})["ok"])

    thread = threading.Thread(target=keep_posting)
    thread.start()
    target = tmp_path / "sauvegarde.db"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "workshop", "backup", str(target)],
            env={**server.env, "SOCKETIO_ASYNC_MODE": "threading"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        stop.set()
        thread.join(20)
    phone.client.disconnect()

    assert done.returncode == 0, done.stderr
    assert "Sauvegarde enregistrée" in done.stdout
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with sqlite3.connect(target) as copy:
        texts = {row[0] for row in copy.execute("SELECT text FROM ideas")}
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert {f"Avant {n}" for n in range(5)} <= texts


def flask_command(server, *args) -> subprocess.CompletedProcess:
    """``flask --app workshop ARGS…`` on the server's database, as the README says."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "workshop", *map(str, args)],
        env={**server.env, "SOCKETIO_ASYNC_MODE": "threading"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_restored_backup_brings_the_evening_back_as_it_was(live_server, tmp_path):
    """Ideas, a backup, more ideas, then the laptop dies (the app and its
    checkpoint process at once: the -wal file holding the later ideas stays
    beside the database) and the backup is restored: the later ideas do not
    come back, the earlier ones are there, the database is intact. While the
    app runs, the restore is refused and changes nothing."""
    server, app = live_server
    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    table = make_evening(app).tables[0]
    phone = Phone(server, table, join_over_http(server, table))
    assert all(phone.write("idea.post", {"text": f"Avant {n}"})["ok"] for n in range(3))
    backup = tmp_path / "sauvegarde.db"
    assert flask_command(server, "backup", backup).returncode == 0
    assert all(phone.write("idea.post", {"text": f"Après {n}"})["ok"] for n in range(3))
    with app.app_context():
        db.engine.dispose()  # the test's own connections, another program's

    refused = flask_command(server, "restore", backup)

    assert refused.returncode == 1
    assert "L’application est encore lancée" in refused.stderr, refused.stderr
    assert phone.sync(0)["ok"]  # nothing changed under its feet
    assert not list(database.parent.glob("*before-restore*"))

    phone.client.disconnect()
    for pid in checkpointers_of(server):
        os.kill(pid, signal.SIGKILL)
    server.kill()
    assert Path(f"{database}-wal").exists()  # what a plain copy would leave behind

    restored = flask_command(server, "restore", backup)

    assert restored.returncode == 0, restored.stderr
    assert "vérifiée\u00a0: elle est intacte" in restored.stdout
    assert not Path(f"{database}-wal").exists()
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    [aside] = database.parent.glob(f"{database.name}.before-restore-*[0-9]")
    assert str(aside) in restored.stdout
    with contextlib.closing(sqlite3.connect(aside)) as old:  # with its own -wal
        assert {f"Après {n}" for n in range(3)} <= {
            r[0] for r in old.execute("SELECT text FROM ideas")
        }
    server.start()
    again = Phone(server, table, join_over_http(server, table, "Bea"))
    texts = {i["text"] for i in ideas_of(again.sync(0)["changes"])}
    again.client.disconnect()
    assert texts == {f"Avant {n}" for n in range(3)}
    with contextlib.closing(sqlite3.connect(database)) as now:
        assert now.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_restore_from_a_file_that_is_not_a_backup_changes_nothing(app, database_path, tmp_path):
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("Idées de la soirée")
    another_app = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(another_app)) as other:
        other.execute("CREATE TABLE ideas (text TEXT)")
    before = database_path.read_bytes()

    for source in (not_sqlite, another_app, tmp_path / "missing.db"):
        result = app.test_cli_runner().invoke(args=["restore", str(source), "--lang", "en"])
        assert result.exit_code == 1
        assert f"{source}" in result.output and "Nothing was changed." in result.output

    assert database_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db", "other.db", "workshop.db"]


def test_a_slow_disk_does_not_hold_the_other_tables(tmp_path, migrated_database):
    """Every disk flush takes 300 ms: commits are flushed in a native thread,
    another table's catch-up is answered while a post is still being
    flushed, and posts committed during one flush share the next one (ten
    phones posting at once do not wait for ten flushes in a row)."""
    path = tmp_path / "slow.db"
    shutil.copy(migrated_database, path)
    server = LiveServer(tmp_path, f"sqlite:///{path}", slow_disk(tmp_path, 300))
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SOCKETIO_ASYNC_MODE": "threading"}
    )
    server.start()
    try:
        table, other_table = make_evening(app).tables
        alice = Phone(server, table, join_over_http(server, table, "Alice"))
        bob = Phone(server, other_table, join_over_http(server, other_table, "Bob"))
        assert alice.write("idea.post", {"text": "Lente"})["ok"]
        order, answers = [], {}

        def post():
            answers["post"] = alice.write("idea.post", {"text": "Pendant le vidage"})
            order.append("post")

        posting = threading.Thread(target=post)
        posting.start()
        time.sleep(0.1)  # the post's commit is now flushing
        answers["sync"] = bob.sync(0)
        order.append("sync")
        posting.join(20)
        assert order == ["sync", "post"]
        assert answers["sync"]["ok"] and answers["post"]["ok"]

        phones = [Phone(server, table, join_over_http(server, table, f"P{n}")) for n in range(10)]
        flushes = tmp_path / "flushes.log"
        before = _wal_flushes(flushes, server)

        def post_together(phone):
            answers[phone] = phone.write("idea.post", {"text": "Ensemble"})

        burst = [threading.Thread(target=post_together, args=(phone,)) for phone in phones]
        for thread in burst:
            thread.start()
        for thread in burst:
            thread.join(30)
        assert all(answers[p]["ok"] for p in phones)
        # The first commit's flush, then one for every post made meanwhile
        # (and a spare for a straggler); one flush per post would be ten.
        assert _wal_flushes(flushes, server) - before <= 4
        hang_up(alice, bob, *phones)
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


def _wal_flushes(log: Path, server: LiveServer) -> int:
    """Flushes of the -wal file by the server's own process so far."""
    pid = str(server.process.pid)
    lines = log.read_text().splitlines() if log.exists() else []
    return sum(1 for line in lines if line.startswith(f"{pid} ") and line.endswith("-wal"))


# --- the test server itself: nothing it starts outlives it ------------------------------


def members_of_group(group: int) -> list[int]:
    """Processes still running (not zombies) in process group ``group``."""
    members = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):  # ended meanwhile
            continue
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            members.append(int(stat_file.parent.name))
    return members


def test_a_server_that_misses_its_start_deadline_is_stopped_whole(tmp_path, migrated_database):
    path = tmp_path / "late.db"
    shutil.copy(migrated_database, path)
    server = LiveServer(tmp_path, f"sqlite:///{path}", start_timeout=0)

    with pytest.raises(RuntimeError, match="did not answer within 0 s"):
        server.start()

    assert server.process is None and members_of_group(server.pid) == []


def test_a_server_that_exits_at_start_fails_with_its_log(tmp_path):
    server = LiveServer(tmp_path, f"sqlite:///{tmp_path}/no/such/folder/workshop.db")

    with pytest.raises(RuntimeError) as failed:
        server.start()

    assert "the test server exited" in str(failed.value)
    assert "unable to open database file" in str(failed.value)  # its log, in the message
    assert members_of_group(server.pid) == []


@pytest.mark.live_server
def test_a_server_left_running_is_stopped_when_the_test_run_ends(tmp_path, migrated_database):
    """A run that ends without stopping its server (interrupted, or a fixture
    that failed before its cleanup) leaves nothing running behind it."""
    path = tmp_path / "left.db"
    shutil.copy(migrated_database, path)
    forgetful_run = (
        "from pathlib import Path\n"
        "from tests.helpers import LiveServer\n"
        f"server = LiveServer(Path({str(tmp_path)!r}), {f'sqlite:///{path}'!r})\n"
        "server.start()\n"
        "print(server.pid)\n"  # and ends without stopping it
    )

    done = subprocess.run(
        [sys.executable, "-c", forgetful_run],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr
    assert members_of_group(int(done.stdout.split()[-1])) == []
