"""The one write path and catch-up, with Flask-SocketIO's test client on a
real database. No app context is held by the test: what a handler does not
commit is lost, and ``read`` sees only what was committed."""

import gc
import shutil
import sqlite3
import time

import pytest
from flask import has_request_context, request
from flask.ctx import AppContext, RequestContext
from sqlalchemy import event, func, select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from workshop import clock, create_app, housekeeping, rooms, sqlite
from workshop.client import Seqs, envelope, retry_delay, temporary
from workshop.counters import COUNTS_INTERVAL
from workshop.extensions import db
from workshop.extensions import socketio as server_socketio
from workshop.models import Event, EventStatus, Idea, Participant, Table, Write
from workshop.services import live
from workshop.sockets import MAX_SCREENS, SYNCS_PER_MINUTE

from .helpers import (
    Screen,
    app_config,
    console,
    join,
    make_evening,
    make_organizer,
    new_client_id,
    of_type,
    organizer_screen,
    phone,
    read,
    script,
    signed_in,
    wait_for,
)


def post(screen, text="Une navette solidaire", kind="idea", client_id=None, **data):
    return screen.write("idea.post", {"kind": kind, "text": text, **data}, client_id=client_id)


def ideas(app):
    return read(app, lambda s: list(s.scalars(select(Idea).order_by(Idea.id))))


def idea_count(app) -> int:
    return read(app, lambda s: s.scalar(select(func.count(Idea.id))))


@pytest.fixture
def table(evening):
    return evening.tables[0]


@pytest.fixture
def other_table(evening):
    return evening.tables[1]


# --- writing and pushing ------------------------------------------------------------


def test_a_post_is_acknowledged_stored_and_pushed_to_its_table_only(app, table, other_table):
    alice_id, alice = phone(app, table, "Alice")
    _, bob = phone(app, table, "Bob")
    _, carol = phone(app, other_table, "Carol")
    table_console = console(app, table)
    for screen in (alice, bob, carol, table_console):
        screen.forget()

    ack = post(alice, "Un garage solidaire")

    assert ack["ok"] is True and isinstance(ack["now"], int)
    [idea] = ack["changes"]
    assert (idea["type"], idea["text"], idea["author_id"]) == (
        "idea",
        "Un garage solidaire",
        alice_id,
    )
    assert idea["seq"] == ack["seq"]
    assert [i.text for i in ideas(app)] == ["Un garage solidaire"]
    pushed = bob.changes_until(lambda c: of_type(c, "idea"))
    assert [(i["text"], i["author"]) for i in of_type(pushed, "idea")] == [
        ("Un garage solidaire", "Alice")
    ]
    assert of_type(table_console.changes_until(lambda c: c), "idea")[0]["author"] == "Alice"
    assert of_type(carol.settle(), "idea") == []


def test_a_screen_that_leaves_is_taken_out_of_its_own_rooms_only(app, table):
    """Rooms are indexed per connection (transport.IndexedRooms): what a
    screen is in, and leaving, must agree with the rooms themselves."""
    alice_id, alice = phone(app, table, "Alice")
    _, bob = phone(app, table, "Bob")
    manager = server_socketio.server.manager
    alice_sid = manager.sid_from_eio_sid(alice.sio.eio_sid, "/")
    bob_sid = manager.sid_from_eio_sid(bob.sio.eio_sid, "/")

    def rooms_holding(sid):  # the library's own definition: a look through every room
        return {room for room, members in manager.rooms["/"].items() if room and sid in members}

    assert set(manager.get_rooms(alice_sid, "/")) == rooms_holding(alice_sid)
    assert {rooms.table_room(table.id), rooms.participant_room(alice_id)} <= (
        rooms_holding(alice_sid)
    )
    bob_rooms = rooms_holding(bob_sid)

    alice.sio.disconnect()

    assert rooms_holding(alice_sid) == set() and manager.get_rooms(alice_sid, "/") == []
    assert not any(alice_sid in members for members in manager.rooms["/"].values())
    assert rooms_holding(bob_sid) == bob_rooms == set(manager.get_rooms(bob_sid, "/"))
    _, carol = phone(app, table, "Carol")
    bob.forget()
    post(carol, "Toujours là")
    assert of_type(bob.changes_until(lambda c: of_type(c, "idea")), "idea")


def test_the_authors_screens_get_their_own_view_of_a_new_card_once(app, table):
    """Each of the author's screens hears of the card once, with its client id
    (it never shows the card twice, as its own being sent and as someone's):
    the screen that posted it has it in its answer and is not pushed it again,
    the author's other screens are pushed the author's view; the table's
    other phones get the table's view, without it."""
    _, alice = phone(app, table, "Alice")
    alice_tablet = Screen(app, {"role": "participant", "table": table.join_code}, alice.http)
    _, bob = phone(app, table, "Bob")
    for screen in (alice, alice_tablet, bob):
        screen.forget()

    ack = post(alice, "Une halle couverte")

    mine = ack["changes"][0]["client_id"]
    assert mine
    alice_tablet.changes_until(lambda c: of_type(c, "idea"))
    assert [view.get("client_id") for view in of_type(alice_tablet.settle(), "idea")] == [mine]
    assert [view.get("client_id") for view in of_type(bob.changes_until(lambda c: c), "idea")] == [
        None
    ]
    assert of_type(alice.settle(), "idea") == []


def test_socket_events_leave_no_garbage_cycle_holding_their_context(app, table):
    """Each event runs in a request context; one caught in a reference cycle
    (an exception kept with its traceback) lives until the garbage collector
    finds it, which at a hall's load took a tenth of the server's time."""
    _, alice = phone(app, table, "Alice")
    post(alice, "Pour chauffer")
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for n in range(5):
            post(alice, f"Idée {n}")
            alice.sync(0)
        gc.collect()
        # By type: gc.garbage may hold a weak proxy whose object is gone
        # (an earlier test's), which isinstance would dereference and raise.
        kept = [o for o in gc.garbage if issubclass(type(o), (RequestContext, AppContext))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert kept == []


def test_a_phones_post_needs_no_orm_session_and_is_stored_pushed_and_deduplicated(app, table):
    """A hall posts a hundred times a second: a phone's post runs straight on
    SQLite's connection (workshop/direct.py), without the ORM session whose
    making and commit cost as much as its statements; it is stored, pushed,
    and its resend answered from its receipt as any write's."""
    _, alice = phone(app, table)
    _, bob = phone(app, table, "Bob")
    post(alice, "Pour chauffer")
    bob.changes_until(lambda c: of_type(c, "idea"))
    bob.forget()
    begun = []

    def on_begin(session, _transaction, _connection):
        if has_request_context() and getattr(request, "event", {}).get("message") == "write":
            begun.append(session)

    event.listen(Session, "after_begin", on_begin)
    try:
        client_id = new_client_id()
        first = post(alice, "Covoiturage", client_id=client_id)
        assert begun == []  # the new post: no ORM session
        pushed = bob.changes_until(lambda c: of_type(c, "idea"))
        again = post(alice, "Covoiturage", client_id=client_id)
    finally:
        event.remove(Session, "after_begin", on_begin)
    assert [view["text"] for view in of_type(pushed, "idea")] == ["Covoiturage"]
    assert first["ok"] and again["ok"] and again["duplicate"] is True
    assert again["changes"][0]["id"] == first["changes"][0]["id"]
    assert len(begun) == 1  # the resend's receipt: looked up with the ORM, once refused
    assert idea_count(app) == 2


def test_pushes_carry_the_server_time(app, table):
    _, alice = phone(app, table)
    _, bob = phone(app, table, "Bob")
    bob.forget()

    post(alice)

    bob.changes_until(lambda c: c)
    [message] = bob.received("changes")
    assert isinstance(message["now"], int) and message["now"] > 1_700_000_000_000


def test_a_resend_is_answered_from_its_receipt_and_changes_nothing(app, table):
    _, alice = phone(app, table)
    _, bob = phone(app, table, "Bob")
    client_id = new_client_id()
    first = post(alice, "Covoiturage", client_id=client_id)
    bob.changes_until(lambda c: of_type(c, "idea"))
    bob.forget()

    again = post(alice, "Covoiturage", client_id=client_id)

    assert again["ok"] and again["duplicate"] is True
    assert again["seq"] == first["seq"]
    assert again["changes"][0]["id"] == first["changes"][0]["id"]
    assert idea_count(app) == 1
    assert of_type(bob.settle(), "idea") == []  # not pushed again to the whole table


def test_idempotency_is_keyed_by_the_actor_not_the_client_id_alone(app, table):
    alice_id, alice = phone(app, table, "Alice")
    _, bob = phone(app, table, "Bob")
    table_console = console(app, table)
    client_id = new_client_id()

    by_alice = post(alice, "De Alice", client_id=client_id)
    by_bob = post(bob, "De Bob", client_id=client_id)
    by_console = post(table_console, "Pour Alice", client_id=client_id, participant_id=alice_id)

    assert not any(a.get("duplicate") for a in (by_alice, by_bob, by_console))
    assert [i.text for i in ideas(app)] == ["De Alice", "De Bob", "Pour Alice"]
    # A phone's card is its own receipt (its author and client id); the
    # console's post keeps one of its own.
    authors = read(
        app,
        lambda s: sorted(s.scalars(select(Idea.participant_id).where(Idea.client_id == client_id))),
    )
    assert authors == [alice_id, alice_id + 1]
    actors = read(app, lambda s: sorted(s.scalars(select(Write.actor))))
    assert actors == [f"f:{table.id}"]
    # Each is answered from its own receipt when sent again.
    assert post(alice, "De Alice", client_id=client_id)["changes"][0]["text"] == "De Alice"
    assert post(bob, "De Bob", client_id=client_id)["changes"][0]["text"] == "De Bob"
    assert idea_count(app) == 3


def test_catch_up_returns_every_change_since_a_number(app, table):
    _, alice = phone(app, table, "Alice")
    for text in ("Un", "Deux", "Trois"):
        post(alice, text)
    _, bob = phone(app, table, "Bob")

    everything = bob.sync(0)
    last_two = bob.sync(everything["seq"] - 2)

    assert [c["text"] for c in of_type(everything["changes"], "idea")] == ["Un", "Deux", "Trois"]
    assert {"table", "participant", "idea"} <= {c["type"] for c in everything["changes"]}
    seqs = [c["seq"] for c in everything["changes"]]
    assert seqs == sorted(seqs) and everything["seq"] == seqs[-1]
    assert [c.get("text") or c["type"] for c in last_two["changes"]] == ["Trois", "participant"]
    assert isinstance(everything["now"], int)


def test_a_screen_that_missed_a_push_sees_the_gap_and_catches_up(app, table):
    """A push lost on its way: the next one starts above the last number the
    screen knows, and its catch-up from that number brings the lost idea."""
    _, alice = phone(app, table, "Alice")
    _, bob = phone(app, table, "Bob")
    bob.settle()
    bob.sync(0)
    assert not bob.behind

    post(alice, "Perdue en route")
    lose_push(bob, "Perdue en route")
    post(alice, "Arrivée")
    bob.changes_until(lambda seen: "Arrivée" in texts_of(seen))
    assert bob.behind

    missed = bob.catch_up()

    assert texts_of(missed["changes"]) == ["Perdue en route", "Arrivée"]
    assert not bob.behind and bob.seqs.last() == missed["seq"]


def texts_of(changes) -> list[str]:
    return [c["text"] for c in of_type(changes, "idea")]


def lose_push(screen, text, timeout=5.0):
    """Take the push carrying ``text`` off the screen's socket unread, as if
    the network had lost it (what came with it is lost too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in screen.sio.get_received():
            if message["name"] == "changes" and text in texts_of(message["args"][0]["changes"]):
                return
        time.sleep(0.01)
    raise AssertionError(f"no push carried {text!r}")


def test_sequence_numbers_tell_a_gap_from_a_repeat():
    seqs = Seqs()
    assert not seqs.pushed([{"seq": 1}, {"seq": 2}])
    assert not seqs.pushed([{"seq": 2}])  # heard twice (an answer, then its push)
    assert seqs.pushed([{"seq": 5}]) and seqs.last() == 2  # 3 and 4 missing
    assert seqs.pushed([{"seq": 3}]) and seqs.last() == 3  # 4 still missing
    assert not seqs.pushed([{"seq": 4}]) and seqs.last() == 5  # 5 was kept aside
    seqs.pushed([{"seq": 8}])
    seqs.caught_up({"ok": True, "seq": 7})
    assert seqs.last() == 8 and not seqs.behind()
    assert seqs.pushed([{"seq": 3}], stream="evening") and seqs.last("evening") == 0
    seqs.caught_up({"ok": True, "seq": 1, "reset": True})  # a power cut lost numbers
    assert seqs.last() == 1


def test_a_refusal_says_whether_and_when_to_try_again():
    assert temporary(None)  # no answer at all
    assert temporary({"ok": False, "error": "rate_limited", "permanent": False})
    assert not temporary({"ok": False, "error": "closed", "permanent": True})
    assert not temporary({"ok": True})
    assert retry_delay(0, {"retry_after": 3}) == 3
    assert all(0.1 <= retry_delay(0) <= 0.3 for _ in range(20))
    assert all(retry_delay(n) <= 7.5 for n in range(40))
    assert envelope("idea.post", {"text": "x"}, "id", table_id=3) == {
        "op": "idea.post",
        "client_id": "id",
        "data": {"text": "x"},
        "table_id": 3,
    }


def test_own_edits_and_deletes_reach_every_screen(app, table):
    _, alice = phone(app, table)
    _, bob = phone(app, table, "Bob")
    client_id = new_client_id()
    post(alice, "Premier jet", client_id=client_id)

    edited = alice.write("idea.edit", {"target": client_id, "kind": "need", "text": "Version 2"})
    deleted = alice.write("idea.delete", {"target": client_id})
    deleted_again = alice.write("idea.delete", {"target": client_id})

    assert edited["changes"][0]["text"] == "Version 2"
    assert deleted["changes"][0]["deleted"] is True and "text" not in deleted["changes"][0]
    assert deleted_again == {**deleted_again, "ok": True, "seq": None, "changes": []}
    latest = of_type(bob.sync(edited["seq"] - 1)["changes"], "idea")
    assert [(i["deleted"], i.get("text")) for i in latest] == [(True, None)]


def test_an_unchanged_edit_changes_nothing_and_pushes_nothing(app, table):
    _, alice = phone(app, table)
    _, bob = phone(app, table, "Bob")
    client_id = new_client_id()
    post(alice, "Même texte", client_id=client_id)
    bob.forget()

    same = alice.write("idea.edit", {"target": client_id, "kind": "idea", "text": " Même texte "})

    assert same["ok"] and same["changes"] == []
    assert bob.settle() == []


def test_a_participant_cannot_edit_or_delete_someone_elses_idea(app, table):
    _, alice = phone(app, table, "Alice")
    _, bob = phone(app, table, "Bob")
    client_id = new_client_id()
    post(alice, "À Alice", client_id=client_id)

    edit = bob.write("idea.edit", {"target": client_id, "text": "Piraté"})
    delete = bob.write("idea.delete", {"target": client_id})

    assert (edit["error"], delete["error"]) == ("not_found", "not_found")
    assert [(i.text, i.deleted) for i in ideas(app)] == [("À Alice", False)]


def test_a_crafted_table_or_author_in_a_write_is_ignored(app, table, other_table):
    alice_id, alice = phone(app, table)
    carol_id, carol = phone(app, other_table, "Carol")
    carol.forget()

    ack = alice.write(
        "idea.post",
        {"text": "Intrus", "table_id": other_table.id, "participant_id": carol_id},
        table_id=other_table.id,
    )

    [idea] = ideas(app)
    assert ack["ok"] and (idea.table_id, idea.participant_id) == (table.id, alice_id)
    assert carol.settle() == []


def test_a_cookie_of_one_table_cannot_connect_to_another(app, table, other_table):
    _, alice = phone(app, table)

    intruder = Screen(
        app, {"role": "participant", "table": other_table.join_code}, alice.sio.flask_test_client
    )

    assert not intruder.connected


# --- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op, data",
    [
        ("idea.hide", {"id": 1, "hidden": True}),
        ("step.go", {"step_id": 1}),
        ("timer.pause", {}),
        ("timer.add", {"seconds": 300}),
        ("step.reveal", {}),
        ("step.update", {"step_id": 1, "title": "Piraté"}),
        ("table.reporter", {"participant_id": 1}),
        ("table.anonymous", {"anonymous": True}),
    ],
)
def test_a_participant_cannot_run_the_table(app, table, op, data):
    _, alice = phone(app, table)
    post(alice)
    before = alice.sync(0)

    answer = alice.write(op, data)

    assert answer["ok"] is False and answer["error"] == "forbidden" and answer["permanent"]
    after = alice.sync(0)
    assert (after["seq"], after["changes"]) == (before["seq"], before["changes"])


def test_unknown_and_retired_operations_get_a_permanent_answer(app, table):
    _, alice = phone(app, table)

    unknown = alice.write("idea.teleport", {"text": "x"})
    retired = alice.emit("post_idea", {"client_id": new_client_id(), "text": "x"})

    for answer in (unknown, retired):
        assert answer["ok"] is False and answer["error"] == "unknown_op" and answer["permanent"]
    assert idea_count(app) == 0


@pytest.mark.parametrize(
    "envelope",
    [
        "post",
        ["write"],
        {"op": "idea.post", "data": {"text": "x"}},
        {"op": "idea.post", "client_id": "short", "data": {"text": "x"}},
        {"op": "idea.post", "client_id": "x" * 65, "data": {"text": "x"}},
        {"op": "idea.post", "client_id": 12345678, "data": {"text": "x"}},
        {"op": "idea.post", "client_id": "abcdefgh-1", "data": ["text"]},
        {"op": "idea.post", "client_id": "abcdefgh-2", "data": {"text": 2**70}},
        {"op": "idea.post", "client_id": "abcdefgh-3", "data": {"text": "x", "kind": ["a"]}},
        {"op": "idea.hide", "client_id": "abcdefgh-4", "data": {"id": True}},
        {"op": ["idea.post"], "client_id": "abcdefgh-5", "data": {}},
    ],
)
def test_malformed_writes_get_a_clear_answer_and_change_nothing(app, table, envelope):
    _, alice = phone(app, table)
    table_console = console(app, table)

    for screen in (alice, table_console):
        answer = screen.emit("write", envelope)
        assert answer["ok"] is False and answer["permanent"] is True
        assert answer["error"] in {
            "bad_request",
            "unknown_op",
            "bad_kind",
            "not_found",
            "forbidden",
        }
        assert answer["message"]
    assert idea_count(app) == 0


def test_empty_and_oversize_ideas_are_refused_and_change_nothing(app, table):
    _, alice = phone(app, table)
    seq = alice.sync(0)["seq"]

    empty = post(alice, "   ")
    too_long = post(alice, "x" * 501)
    bad_kind = post(alice, "ok", kind="<script>")

    assert (empty["error"], too_long["error"], bad_kind["error"]) == (
        "empty",
        "too_long",
        "bad_kind",
    )
    assert "500" in too_long["message"]
    assert idea_count(app) == 0
    assert alice.sync(0)["seq"] == seq


def test_errors_are_translated(app, table):
    _, french = phone(app, table, "Aline", lang="fr")
    _, english = phone(app, table, "Ann", lang="en")

    assert post(english, "")["message"] == "Write something before posting."
    assert post(french, "")["message"] == "Écrivez quelque chose avant de publier."
    assert english.write("nope")["message"].startswith("This action is not known")


def test_posting_fast_is_a_temporary_refusal(app, table):
    app.config.update(RATE_LIMIT_POSTS=3, RATE_LIMIT_WINDOW=60)
    _, alice = phone(app, table)
    answers = [post(alice, f"Idée {n}") for n in range(4)]

    assert [a["ok"] for a in answers] == [True, True, True, False]
    assert answers[3]["error"] == "rate_limited" and answers[3]["retry_after"] > 0
    assert answers[3]["permanent"] is False
    # A resend of an idea already stored is not a new post: still acknowledged.
    assert post(alice, "Idée 0", client_id=answers[0]["changes"][0]["client_id"])["ok"] is True
    assert idea_count(app) == 3


def test_edits_are_limited_per_person_not_per_card(app, table):
    _, alice = phone(app, table)
    cards = [new_client_id() for _ in range(3)]
    for n, client_id in enumerate(cards):
        post(alice, f"Carte {n}", client_id=client_id)

    answers = [
        alice.write("idea.edit", {"target": cards[n % 3], "text": f"V{n}"})
        for n in range(live.EDITS_PER_MINUTE + 1)
    ]

    assert all(a["ok"] for a in answers[:-1])
    assert answers[-1]["error"] == "rate_limited" and answers[-1]["retry_after"] > 0
    clock.advance(60)
    assert alice.write("idea.edit", {"target": cards[0], "text": "Enfin"})["ok"] is True


def test_a_closed_evening_refuses_posts_edits_and_deletes(app, evening, table):
    _, alice = phone(app, table)
    client_id = new_client_id()
    post(alice, "Avant", client_id=client_id)
    http = signed_in(app)

    http.post(f"/organizer/events/{evening.event_id}/status/closed")

    state = of_type(alice.changes_until(lambda c: of_type(c, "table")), "table")[-1]
    assert state["open"] is False and state["status"] == "closed"
    assert post(alice)["error"] == "event_closed"
    assert (
        alice.write("idea.edit", {"target": client_id, "text": "Après"})["error"] == "event_closed"
    )
    assert alice.write("idea.delete", {"target": client_id})["error"] == "event_closed"
    assert [(i.text, i.deleted) for i in ideas(app)] == [("Avant", False)]


def in_database(app, statement: str) -> None:
    """Run one SQL statement on the test's database (a fault put there)."""
    with app.app_context():
        db.session.execute(sql(statement))
        db.session.commit()
        db.session.remove()


def test_a_write_the_database_can_never_store_is_refused_for_good(app, table):
    """A database rule refuses it: the phone is told at once, so that the
    write leaves its outbox instead of blocking the writes behind it."""
    in_database(
        app,
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON ideas WHEN NEW.text = 'Poison' "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END",
    )
    _, alice = phone(app, table)

    refused = post(alice, "Poison")
    after = post(alice, "La suivante")

    assert refused["ok"] is False and refused["permanent"] is True
    assert refused["error"] == "cannot_store" and refused["message"]
    assert after["ok"]
    assert [i.text for i in ideas(app)] == ["La suivante"]


def test_a_database_that_is_away_gets_a_temporary_answer(app, table, monkeypatch):
    """Locked by another program for longer than the wait: "try again soon",
    never a permanent refusal, nothing half-stored."""
    _, alice = phone(app, table)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    other = sqlite3.connect(path, timeout=0)
    other.execute("BEGIN EXCLUSIVE")
    try:
        monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 100)  # not 10 s: a test
        with app.app_context():
            db.engine.dispose()  # new connections, with the short timeout
        refused = post(alice, "Pendant le verrou")
    finally:
        other.rollback()
        other.close()

    assert refused["ok"] is False and refused["permanent"] is False, refused
    assert refused["error"] == "database_unavailable" and refused["retry_after"]
    assert post(alice, "Après le verrou")["ok"]
    assert [i.text for i in ideas(app)] == ["Après le verrou"]


def test_anonymous_and_malformed_connections_are_refused(app, table):
    for auth in (
        {"role": "participant", "table": "NOPE"},
        {"role": "facilitator", "secret": "x"},
        {"role": "organizer", "event": 1},
        None,
        {"role": ["participant"]},
        {"role": "participant", "table": {"x": 1}},
        {"role": "organizer", "event": "1"},
        "participant",
        [1, 2],
    ):
        assert not Screen(app, auth).connected, auth


# --- moderation and the console ---------------------------------------------------------


def test_phones_asking_for_the_same_catch_up_each_get_their_own_view(app, table):
    """The phones of a table asking for the same numbers share one answer
    (worked out once): each still sees its own hidden idea and no other's,
    and a change since gives everyone the new state."""
    _, alice = phone(app, table, "Alice")
    _, bob = phone(app, table, "Bob")
    table_console = console(app, table)
    alices = post(alice, "Le mien")["changes"][0]["id"]
    post(bob, "Celui de Bob")
    table_console.write("idea.hide", {"id": alices, "hidden": True})

    def idea_texts(screen):
        return [c.get("text", "withheld") for c in of_type(screen.sync(0)["changes"], "idea")]

    assert idea_texts(bob) == ["Celui de Bob", "withheld"]
    assert idea_texts(alice) == ["Celui de Bob", "Le mien"]
    assert idea_texts(bob) == ["Celui de Bob", "withheld"]
    everything = table_console.sync(0)
    assert [c["text"] for c in of_type(everything["changes"], "idea")] == [
        "Celui de Bob",
        "Le mien",
    ]

    table_console.write("idea.hide", {"id": alices, "hidden": False})
    assert idea_texts(bob) == ["Celui de Bob", "Le mien"]


def test_the_facilitator_hides_an_idea_and_phones_lose_its_text_and_author(app, table):
    _, alice = phone(app, table)
    _, bob = phone(app, table, "Bob")
    table_console = console(app, table)
    idea_id = post(alice, "Hors sujet")["changes"][0]["id"]
    bob.forget()

    answer = table_console.write("idea.hide", {"id": idea_id, "hidden": True})

    assert answer["ok"] and answer["changes"][0]["text"] == "Hors sujet"
    [pushed] = of_type(bob.changes_until(lambda c: c), "idea")
    assert pushed["hidden"] and pushed["withheld"] and "text" not in pushed
    assert "author" not in pushed and "author_id" not in pushed
    [seen] = of_type(bob.sync(0)["changes"], "idea")
    assert seen["withheld"] is True and "text" not in seen


def test_a_facilitator_cannot_touch_another_table(app, table, other_table):
    carol_id, carol = phone(app, other_table, "Carol")
    idea_id = post(carol)["changes"][0]["id"]
    table_console = console(app, table)

    hide = table_console.write("idea.hide", {"id": idea_id, "hidden": True})
    for_carol = post(table_console, "Pour Carol", participant_id=carol_id)

    assert (hide["error"], for_carol["error"]) == ("not_found", "not_found")
    assert [(i.text, i.hidden) for i in ideas(app)] == [("Une navette solidaire", False)]


def test_a_rotated_link_stops_the_open_console_at_once(app, table):
    table_console = console(app, table)
    table_console.forget()

    signed_in(app).post(f"/organizer/tables/{table.id}/rotate")

    # Once the new link is committed, from the publisher: at once.
    table_console.changes_until(lambda _c: table_console.received("revoked"))
    assert table_console.received("revoked") == [{}]
    assert wait_for(lambda: not table_console.connected)
    assert not Screen(app, {"role": "facilitator", "secret": table.facilitator_secret}).connected


def test_the_facilitator_designates_the_reporter(app, table, other_table):
    bob_id, bob = phone(app, table, "Bob")
    carol_id, _ = phone(app, other_table, "Carol")
    table_console = console(app, table)
    bob.forget()

    refused = table_console.write("table.reporter", {"participant_id": carol_id})
    answer = table_console.write("table.reporter", {"participant_id": bob_id})

    assert refused["ok"] is False
    assert answer["changes"][0]["reporter"] == "Bob"
    state = of_type(bob.changes_until(lambda c: of_type(c, "table")), "table")[-1]
    assert state["reporter_id"] == bob_id


def test_the_console_posts_for_a_participant_without_a_phone(app, table):
    alice_id, alice = phone(app, table, "Alice")
    table_console = console(app, table)
    alice.forget()

    answer = post(table_console, "Une idée dite à voix haute", participant_id=alice_id)
    missing = post(table_console, "Pour personne")

    assert answer["ok"] and answer["changes"][0]["author"] == "Alice"
    assert missing["error"] == "not_found"
    pushed = of_type(alice.changes_until(lambda c: c), "idea")
    assert {(i["author_id"], i["text"]) for i in pushed} == {
        (alice_id, "Une idée dite à voix haute")
    }


def test_the_console_catch_up_lists_the_participants_without_contacts(app, table):
    phone(app, table, "Alice")
    table_console = console(app, table)

    [person] = of_type(table_console.sync(0)["changes"], "participant")

    assert person["name"] == "Alice" and "contact" not in person


def test_introductions_reach_the_table(app, table):
    alice_id, alice = phone(app, table, "Alice", category="business")
    table_console = console(app, table)
    table_console.forget()

    answer = alice.write(
        "intro.save", {"intro": "Boulangère", "brings": "Un four", "expects": "Des clients"}
    )
    too_long = alice.write("intro.save", {"intro": "x" * 301})

    assert answer["ok"] and too_long["error"] == "too_long"
    [person] = of_type(table_console.changes_until(lambda c: c), "participant")
    assert (person["id"], person["intro"], person["brings"], person["expects"]) == (
        alice_id,
        "Boulangère",
        "Un four",
        "Des clients",
    )
    assert person["category"] == "business"


def test_hiding_names_takes_authors_off_the_other_phones(app, table):
    alice_id, alice = phone(app, table, "Alice")
    _, bob = phone(app, table, "Bob")
    table_console = console(app, table)
    post(alice, "Signée")

    table_console.write("table.anonymous", {"anonymous": True})

    [for_bob] = of_type(bob.sync(0)["changes"], "idea")
    [for_alice] = of_type(alice.sync(0)["changes"], "idea")
    [for_console] = of_type(table_console.sync(0)["changes"], "idea")
    assert (for_bob["author"], for_bob["author_id"]) == ("", None)
    assert for_alice["author_id"] == alice_id
    assert for_console["author"] == "Alice"


# --- the organizers' screens ------------------------------------------------------------------


def test_the_organizer_overview_gets_counts_and_ideas_live(app, evening, table):
    overview = organizer_screen(app, evening)
    assert overview.connected
    _, alice = phone(app, table)
    overview.forget()

    post(alice, "Une ressourcerie")

    [idea] = of_type(overview.changes_until(lambda c: of_type(c, "idea")), "idea")
    assert idea["table_id"] == table.id and idea["text"] == "Une ressourcerie"
    overview.changes_until(
        lambda _c: (
            {"participants": 1, "ideas": 1}
            in [c.get(str(table.id)) for c in overview.received("counts")]
        )
    )
    assert overview.sync()["counts"][str(table.id)]["ideas"] == 1


def test_an_overview_hears_of_a_burst_of_changes_in_one_message_after_the_first(
    app, evening, table, other_table
):
    """The organizers' overview is not sent a message per write: the first
    change goes at once, those that follow within a second leave together."""
    overview = organizer_screen(app, evening)
    _, alice = phone(app, table)
    _, bob = phone(app, other_table, "Bob")
    overview.forget()

    texts = [f"Idée {n}" for n in range(6)]
    for n, text in enumerate(texts):
        post((alice, bob)[n % 2], text)

    seen = overview.changes_until(lambda c: len(of_type(c, "idea")) == len(texts))
    assert sorted(idea["text"] for idea in of_type(seen, "idea")) == sorted(texts)
    # At most the first at once and the rest folded (one more if a second
    # passed meanwhile): not a message per write.
    assert len(overview.received("changes")) <= 3


def test_an_organizer_of_another_territory_can_neither_watch_nor_write(app, evening, table):
    with app.app_context():
        make_organizer("other@example.org", "Autre pays")
        db.session.remove()
    http = signed_in(app, "other@example.org")

    spy = organizer_screen(app, evening, http)

    assert not spy.connected


def test_an_organizer_writes_to_a_table_of_their_evening_only(app, evening, table):
    overview = organizer_screen(app, evening)
    steps = script(console(app, table).sync(0)["changes"])

    answer = overview.write("step.go", {"step_id": steps[0]["id"]}, table_id=table.id)
    no_table = overview.write("step.go", {"step_id": steps[0]["id"]})

    assert answer["ok"] and answer["changes"][0]["step_id"] == steps[0]["id"]
    assert no_table["error"] == "forbidden"


def test_the_projector_receives_totals(app, evening, table):
    screen = Screen(app, {"role": "projector", "event": evening.join_code})
    _, alice = phone(app, table)
    screen.forget()

    post(alice)

    screen.changes_until(lambda _c: screen.received("totals"))
    assert screen.received("totals")[-1] == {"tables": 2, "participants": 1, "ideas": 1}


def test_counters_still_due_from_an_app_that_is_gone_reach_nobody(
    app, table, tmp_path, migrated_database
):
    """Tests make one app after another in one process, with one Socket.IO
    server: the counters an app folds for later (a burst of posts) must not
    reach the next app's projector, whose evening has the same id."""
    _, alice = phone(app, table)
    post(alice, "Envoyée tout de suite")
    post(alice, "Repliée pour plus tard")  # within COUNTS_INTERVAL: sent later
    shutil.copy(migrated_database, tmp_path / "next.db")
    next_app = create_app(app_config(tmp_path / "next.db"))
    next_evening = make_evening(next_app)
    assert next_evening.event_id == table.event_id
    projector = Screen(next_app, {"role": "projector", "event": next_evening.join_code})

    time.sleep(2 * COUNTS_INTERVAL)  # past the first app's folded send

    assert projector.received("totals") == []
    with next_app.app_context():
        db.engine.dispose()


def test_counters_of_a_burst_of_posts_arrive_folded_but_complete(app, evening, table):
    """Counters are throttled (bench/live_load.py), never left stale."""
    screen = Screen(app, {"role": "projector", "event": evening.join_code})
    _, alice = phone(app, table)
    screen.forget()

    for n in range(5):
        post(alice, f"Idée {n}")

    screen.changes_until(
        lambda _c: screen.received("totals") and screen.received("totals")[-1]["ideas"] == 5
    )
    assert len(screen.received("totals")) < 5  # folded: not one send per post


def test_signing_out_closes_the_organizers_open_overview(app, evening):
    http = signed_in(app)
    overview = organizer_screen(app, evening, http)
    overview.forget()

    http.post("/logout")

    # Once the sign-in's end is committed, from the publisher: at once.
    assert wait_for(lambda: not overview.connected)
    assert overview.received("revoked") == [{}]


# --- every number reaches every screen ----------------------------------------------------


def test_a_write_that_a_handler_did_not_commit_would_be_lost(app, table):
    """The fixtures hold no app context: this test reads a fresh session."""
    alice_id, alice = phone(app, table)

    post(alice, "Engagée")

    assert read(app, lambda s: s.get(Participant, alice_id).display_name) == "Alice"
    assert read(app, lambda s: s.get(Table, table.id).last_seq) == alice.sync(0)["seq"]
    assert [i.text for i in ideas(app)] == ["Engagée"]


def test_a_card_is_its_own_receipt_even_one_stored_before_receipts(app, table):
    """A phone's card keeps its author and client id: a resend is answered
    from it (an outbox resent after an upgrade from a version without
    receipts, too: never blocked on its old post, never stored twice)."""
    from workshop.models import Idea

    alice_id, alice = phone(app, table)
    client_id = new_client_id()
    with app.app_context():
        db.session.add(
            Idea(
                table_id=table.id,
                participant_id=alice_id,
                client_id=client_id,
                seq=999,
                kind="idea",
                text="Avant la mise à jour",
            )
        )
        db.session.commit()
        db.session.remove()

    answer = post(alice, "Avant la mise à jour", client_id=client_id)

    assert answer["ok"] is True and answer["duplicate"] is True
    assert [(c["text"], c["seq"]) for c in answer["changes"]] == [("Avant la mise à jour", 999)]
    assert idea_count(app) == 1


def test_a_quiet_tables_screens_are_told_its_latest_number_once(app, table, other_table):
    """A screen that missed the last push of a table gone quiet learns it is
    behind: after a whole round without a change, once."""

    _, alice = phone(app, table)
    table_console = console(app, table)
    _, carol = phone(app, other_table, "Carol")
    latest = post(alice, "La dernière")["seq"]

    def beacons_after_a_round():
        for screen in (alice, table_console, carol):
            screen.forget()
        with app.app_context():
            housekeeping.send_beacons()
        screens = (alice, table_console, carol)
        return [{b["seq"] for b in screen.received("seq")} for screen in screens]

    beacons_after_a_round()  # the first round: the numbers now
    # (The server's own beacon task may add one: it says the same, once.)
    assert beacons_after_a_round() in (
        [{latest}, {latest}, {carol.sync(0)["seq"]}],
        [set(), set(), set()],  # the server's task said it meanwhile
    )
    assert beacons_after_a_round() == [set(), set(), set()]  # said once


def test_a_busy_table_gets_no_beacon_its_pushes_carry_the_numbers(app, table):

    _, alice = phone(app, table)
    for n in range(3):
        post(alice, f"Idée {n}")
        alice.forget()
        with app.app_context():
            housekeeping.send_beacons()
        assert alice.received("seq") == []


def test_catching_up_is_limited_per_screen(app, table):
    _, alice = phone(app, table)
    answers = [alice.sync(0) for _ in range(SYNCS_PER_MINUTE + 1)]

    assert all(a["ok"] for a in answers[:-1])
    assert answers[-1]["error"] == "rate_limited" and answers[-1]["retry_after"] > 0
    assert answers[-1]["permanent"] is False
    clock.advance(60)
    assert alice.sync(0)["ok"] is True


def test_one_person_holds_a_few_screens_not_a_hundred(app, table):
    _, alice = phone(app, table)
    http = alice.sio.flask_test_client
    screens = [Screen(app, {"role": "participant", "table": table.join_code}, http)]
    screens += [
        Screen(app, {"role": "participant", "table": table.join_code}, http)
        for _ in range(MAX_SCREENS)
    ]

    assert [s.connected for s in screens] == [True] * (MAX_SCREENS - 1) + [False, False]
    _, bob = phone(app, table, "Bob")  # the others of the table are not concerned
    assert bob.connected
    screens[0].sio.disconnect()
    assert Screen(app, {"role": "participant", "table": table.join_code}, http).connected


def test_one_address_holds_a_bounded_number_of_screens(app, table, other_table):
    """One browser opening screen after screen (new participants each time)
    is stopped at the address's limit; closing one makes room again."""
    app.config["MAX_SCREENS_PER_ADDRESS"] = 3
    screens = [phone(app, table, f"P{n}")[1] for n in range(3)]
    with app.app_context():
        _, token = join(db.session.get(Table, other_table.id), "Encore")
        db.session.remove()
    http = app.test_client()
    http.set_cookie(live.participant_cookie_name(other_table.join_code), token)
    auth = {"role": "participant", "table": other_table.join_code}

    assert not Screen(app, auth, http).connected
    screens[0].sio.disconnect()
    assert Screen(app, auth, http).connected
    assert all(s.connected for s in screens[1:])


def test_the_facilitator_takes_someone_off_the_table(app, table, other_table):
    bot_id, bot = phone(app, table, "Bot")
    alice_id, alice = phone(app, table, "Alice")
    carol_id, _ = phone(app, other_table, "Carol")
    table_console = console(app, table)
    table_console.write("table.reporter", {"participant_id": bot_id})
    post(bot, "Pub")
    alice.forget()

    assert alice.write("participant.remove", {"participant_id": bot_id})["error"] == "forbidden"
    assert table_console.write("participant.remove", {"participant_id": carol_id})["ok"] is False
    answer = table_console.write("participant.remove", {"participant_id": bot_id})

    assert answer["ok"]
    assert of_type(answer["changes"], "participant")[0]["removed"] is True
    assert of_type(answer["changes"], "table")[0]["reporter_id"] is None
    # Every screen of the table hears it; the removed one is closed.
    seen = alice.changes_until(lambda c: of_type(c, "participant"))
    assert of_type(seen, "participant")[-1] == {**of_type(seen, "participant")[-1], "removed": True}
    # Its link opens nothing any more, its seat is free, what it wrote stays.
    again_bot = Screen(
        app, {"role": "participant", "table": table.join_code}, bot.sio.flask_test_client
    )
    assert not again_bot.connected
    assert read(app, lambda s: s.get(Participant, bot_id).removed) is True
    assert idea_count(app) == 1
    again = table_console.write("participant.remove", {"participant_id": bot_id})
    assert again["ok"] and again["changes"] == []


def test_an_evening_not_yet_open_keeps_posts_waiting(app, evening, table):
    _, alice = phone(app, table)
    with app.app_context():
        db.session.get(Event, evening.event_id).status = EventStatus.draft
        db.session.commit()
    client_id = new_client_id()

    early = post(alice, "Trop tôt", client_id=client_id)

    assert early["error"] == "event_not_started"
    assert early["permanent"] is False and early["retry_after"] > 0
    assert idea_count(app) == 0
    with app.app_context():
        db.session.get(Event, evening.event_id).status = EventStatus.live
        db.session.commit()
    assert post(alice, "Trop tôt", client_id=client_id)["ok"] is True
    assert idea_count(app) == 1
