"""The organizers' control room: every table's step, timer, activity and
console at a glance; steps pushed to many tables; a word to every console."""

from datetime import UTC, datetime

from workshop import clock

from .helpers import (
    Screen,
    console,
    make_evening,
    new_client_id,
    of_type,
    organizer_screen,
    phone,
    script,
)

T0 = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


def row(summary, table):
    return next(t for t in summary["tables"] if t["id"] == table.id)


def test_the_control_room_shows_each_tables_step_timer_activity_and_console(app, evening):
    clock.set_now(T0)
    table, other = evening.tables
    room = organizer_screen(app, evening)
    _, alice = phone(app, table)
    table_console = console(app, table)
    intro = script(table_console.sync(0)["changes"])[0]
    table_console.write("step.go", {"step_id": intro["id"]})
    clock.advance(60)
    alice.write("idea.post", {"text": "Une idée"})

    summary = room.sync()

    first, second = row(summary, table), row(summary, other)
    assert (first["number"], first["step_id"], first["console"]) == (1, intro["id"], True)
    assert first["timer"]["ends_at"] == clock.epoch_ms(T0) + intro["duration"] * 1000
    assert first["last_activity"] == clock.epoch_ms(T0) + 60_000
    assert (second["step_id"], second["console"]) == (None, False)
    assert summary["counts"][str(table.id)] == {"participants": 1, "ideas": 1}
    assert summary["now"] == clock.epoch_ms()
    assert first["mix"] == {"citizen": 1} and second["mix"] == {}


def test_a_console_coming_and_going_is_pushed_to_the_control_room(app, evening):
    table = evening.tables[0]
    room = organizer_screen(app, evening)
    room.forget()

    table_console = console(app, table)
    table_console.sio.disconnect()

    room.changes_until(lambda _c: len(room.received("presence")) >= 2)
    presence = room.received("presence")
    assert all(isinstance(p.pop("now"), int) for p in presence)  # the server's time
    assert presence == [
        {"table_id": table.id, "console": True},
        {"table_id": table.id, "console": False},
    ]
    assert row(room.sync(), table)["console"] is False


def test_a_second_console_of_the_same_table_keeps_it_connected(app, evening):
    table = evening.tables[0]
    room = organizer_screen(app, evening)
    first, second = console(app, table), console(app, table)

    first.sio.disconnect()

    assert second.connected and row(room.sync(), table)["console"] is True


def test_the_organizer_pushes_a_step_to_five_tables_in_one_write(app):
    evening = make_evening(app, tables=5)
    room = organizer_screen(app, evening)
    phones = [phone(app, table, f"P{table.number}")[1] for table in evening.tables]
    consoles = [console(app, table) for table in evening.tables]
    projector = Screen(app, {"role": "projector", "event": evening.join_code})
    assert projector.connected
    summary = room.sync()

    answer = room.write("tables.step", {"kind": "plenary"})

    assert answer["ok"] and answer["changes"] == []  # the changes come as pushes

    for screen, table in zip(phones + consoles, evening.tables * 2, strict=True):
        plenary = next(s for s in row(summary, table)["steps"] if s["kind"] == "plenary")
        pushed = screen.changes_until(
            lambda c, step=plenary: any(x.get("step_id") == step["id"] for x in of_type(c, "table"))
        )
        assert of_type(pushed, "table")[-1]["step_id"] == plenary["id"]
        # Each table's whole script, in order (read in one query for all tables).
        script = [s["id"] for s in row(summary, table)["steps"]]
        assert of_type(pushed, "table")[-1]["step_ids"] == script
    room.changes_until(lambda c: len(of_type(c, "table")) >= 5)
    assert all(row(room.sync(), t)["steps"] for t in evening.tables)


def test_a_late_resend_of_a_step_push_never_moves_the_tables_back(app):
    """An evening-wide write commits ten tables at a time: its resend (a
    second tab of the organizer, a reconnect) is recognised before anything
    runs, not after it has moved tables back to the step it named."""
    evening = make_evening(app, tables=12)
    room = organizer_screen(app, evening)
    first = new_client_id()
    assert room.write("tables.step", {"kind": "vote"}, client_id=first)["ok"]
    assert room.write("tables.step", {"kind": "plenary"})["ok"]

    again = room.write("tables.step", {"kind": "vote"}, client_id=first)

    assert again["ok"] and again.get("duplicate") is True
    summary = room.sync()
    for table in evening.tables:
        plenary = next(s for s in row(summary, table)["steps"] if s["kind"] == "plenary")
        assert row(summary, table)["step_id"] == plenary["id"]


def test_a_message_reaches_the_console_and_never_the_phones(app, evening):
    table, other = evening.tables
    room = organizer_screen(app, evening)
    _, alice = phone(app, table)
    table_console = console(app, table)
    table_console.forget()

    answer = room.write("console.message", {"text": "Plus que 5 minutes !"}, table_id=table.id)
    too_long = room.write("console.message", {"text": "x" * 301}, table_id=table.id)
    from_console = table_console.write("console.message", {"text": "Moi aussi"})

    assert answer["ok"] and too_long["error"] == "too_long"
    assert from_console["error"] == "forbidden"
    state = of_type(table_console.changes_until(lambda c: of_type(c, "table")), "table")[-1]
    assert state["message"] == "Plus que 5 minutes !" and state["message_at"]
    assert "message" not in of_type(alice.sync(0)["changes"], "table")[-1]
    assert row(room.sync(), other)["message"] == ""


def test_the_tables_mix_reaches_the_control_room_live(app, evening):
    table = evening.tables[0]
    room = organizer_screen(app, evening)
    room.forget()

    phone(app, table, "Alice", category="business")
    phone(app, table, "Bruno", category="research")

    room.changes_until(
        lambda _c: (
            {"business": 1, "research": 1} in [m.get(str(table.id)) for m in room.received("mixes")]
        )
    )


def test_pushing_the_vote_opens_it_on_the_chosen_tables_only(app, evening):
    table, other = evening.tables
    room = organizer_screen(app, evening)

    answer = room.write("tables.step", {"kind": "vote", "table_ids": [table.id]})

    summary = room.sync()
    moved, stayed = row(summary, table), row(summary, other)
    vote = next(s for s in moved["steps"] if s["kind"] == "vote")
    assert answer["ok"] and moved["step_id"] == vote["id"]
    assert vote["settings"]["state"] == "open"
    assert stayed["step_id"] is None


def test_pushing_steps_is_for_the_evenings_organizers_only(app, evening):
    table = evening.tables[0]
    room = organizer_screen(app, evening)
    table_console = console(app, table)
    _, alice = phone(app, table)

    assert table_console.write("tables.step", {"kind": "plenary"})["error"] == "forbidden"
    assert alice.write("tables.step", {"kind": "plenary"})["error"] == "forbidden"
    for bad in (
        {"kind": "dance"},
        {"kind": "vote", "table_ids": "1"},
        {"kind": "vote", "table_ids": [True]},
        {"kind": "vote", "table_ids": [1] * 501},
    ):
        assert room.write("tables.step", bad)["error"] == "bad_request", bad
    # A table of another evening is simply not among this evening's tables.
    other = make_evening(app, tables=1, email="autre@example.org").tables[0]
    assert room.write("tables.step", {"kind": "plenary", "table_ids": [other.id]})["ok"]
    assert of_type(console(app, other).sync(0)["changes"], "table")[0]["step_id"] is None
