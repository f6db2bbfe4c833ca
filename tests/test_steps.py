"""The method at a table: scripts, steps, timers on the server's clock,
private diverge and reveal. Timers are tested by setting the clock, never by
sleeping."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select

from workshop import clock
from workshop.extensions import db
from workshop.models import Challenge, Event, Step, Table, WorkshopKind
from workshop.services import ServiceError, steps

from .helpers import console, make_evening, of_type, phone, read, script, signed_in, table_ref

T0 = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)


def state(screen) -> dict:
    return of_type(screen.sync(0)["changes"], "table")[-1]


@pytest.fixture
def table(evening):
    return evening.tables[0]


def step_of(screen, kind):
    return next(s for s in script(screen.sync(0)["changes"]) if s["kind"] == kind)


# --- scripts -----------------------------------------------------------------------------


@pytest.mark.parametrize("challenge", list(Challenge))
@pytest.mark.parametrize("workshop_kind", list(WorkshopKind))
def test_every_challenge_and_kind_has_a_complete_default_script(ctx, challenge, workshop_kind):
    script = steps.default_script(challenge, workshop_kind)

    assert [s["kind"] for s in script] == [
        "intro",
        "brief",
        "diverge",
        "cluster",
        "vote",
        "sheet",
        "commit",
        "plenary",
    ]
    assert all(s["title"] and s["prompt"] and s["duration"] > 0 for s in script)
    assert steps.clean_script(script) == script  # plain data that survives a round trip


def test_default_scripts_fit_the_challenge(ctx):
    def diverge(challenge, kind=WorkshopKind.starter):
        return steps.default_script(challenge, kind)[2]["settings"]["card_kinds"]

    assert diverge(Challenge.territorial)[0] == "need"
    assert diverge(Challenge.creative)[0] == "idea"
    assert diverge(Challenge.prototyping)[:2] == ["feature", "resource"]
    vote = steps.default_script(Challenge.creative, WorkshopKind.starter)[4]["settings"]
    assert (vote["votes"], vote["max_per_card"]) == (3, 2)


def test_default_scripts_speak_the_current_language(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        english = steps.default_script(Challenge.territorial, WorkshopKind.starter)
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        french = steps.default_script(Challenge.territorial, WorkshopKind.starter)

    assert english[0]["title"] == "Introductions" and english[2]["title"] == "Needs"
    assert french[2]["title"] == "Besoins"
    assert french[0]["prompt"] != english[0]["prompt"]


def test_an_english_evening_runs_its_tables_in_english_whatever_each_screen_speaks(app):
    evening = make_evening(app, tables=0)
    http = signed_in(app)  # the organizer's interface is in French
    form = {"title": "Open evening", "territory_id": _territory_id(app, evening)}
    created = http.post("/organizer/events/new", data={**form, "language": "en"})
    event_id = int(created.headers["Location"].rstrip("/").split("/")[-1])
    http.post(
        f"/organizer/events/{event_id}/tables/new",
        data={
            "name": "Harbour",
            "challenge": "creative",
            "workshop_kind": "starter",
            "brief_title": "The harbour",
            "brief": "What could the old harbour become?",
            "capacity": "10",
        },
    )
    titles = _titles_of_event(app, event_id)
    assert titles[:2] == ["Introductions", "The challenge"] and "Tour de table" not in titles
    _, french_phone = phone(app, _table_of(app, event_id), lang="fr")
    assert script(french_phone.sync(0)["changes"])[0]["title"] == "Introductions"

    http.post(f"/organizer/events/{event_id}/edit", data={**form, "language": "fr"})
    # Untouched default scripts follow the evening's new language.
    assert _titles_of_event(app, event_id)[:2] == ["Tour de table", "Le défi"]


def _table_of(app, event_id):
    return read(app, lambda s: table_ref(s.get(Event, event_id).tables[0]))


def _territory_id(app, evening) -> int:
    return read(app, lambda s: s.get(Event, evening.event_id).territory_id)


def _titles_of_event(app, event_id) -> list[str]:
    return read(
        app,
        lambda s: list(
            s.scalars(
                select(Step.title)
                .join(Table, Step.table_id == Table.id)
                .where(Table.event_id == event_id)
                .order_by(Table.number, Step.position)
            )
        ),
    )


@pytest.mark.parametrize(
    "script",
    [
        [],
        "intro",
        [{"kind": "dance", "title": "x", "duration": 60}],
        [{"kind": "intro", "title": "", "duration": 60}],
        [{"kind": "intro", "title": "x", "duration": -1}],
        [{"kind": "intro", "title": "x", "duration": True}],
        [{"kind": "diverge", "title": "x", "duration": 60, "settings": {"card_kinds": []}}],
        [{"kind": "vote", "title": "x", "duration": 60, "settings": {"votes": 99}}],
        [{"kind": "intro", "title": "x", "duration": 60}] * 21,
    ],
)
def test_broken_scripts_are_refused_whole(ctx, script):
    with pytest.raises(ServiceError):
        steps.clean_script(script)


def test_a_new_table_gets_the_default_script_of_its_challenge(app, table):
    table_console = console(app, table)

    kinds = [s["kind"] for s in script(table_console.sync(0)["changes"])]

    assert kinds[:3] == ["intro", "brief", "diverge"] and len(kinds) == 8


def test_a_table_made_before_scripts_existed_gets_one_at_start_not_when_a_page_is_read(
    app, evening
):
    old = evening.tables[0]
    with app.app_context():
        db.session.execute(delete(Step).where(Step.table_id == old.id))
        db.session.commit()
        db.session.remove()
    assert signed_in(app).get(f"/organizer/events/{evening.event_id}/kits").status_code == 200
    assert read(app, lambda s: s.scalars(select(Step).where(Step.table_id == old.id)).all()) == []

    with app.app_context():
        assert steps.give_scripts_to_old_tables() == 1  # what run.py does after migrating
        assert steps.give_scripts_to_old_tables() == 0
        db.session.remove()

    kinds = [s["kind"] for s in script(console(app, old).sync(0)["changes"])]
    assert kinds[:3] == ["intro", "brief", "diverge"] and len(kinds) == 8


# --- running the steps ------------------------------------------------------------------


def test_the_console_moves_every_phone_to_a_step_and_starts_its_timer(app, table):
    clock.set_now(T0)
    _, alice = phone(app, table)
    table_console = console(app, table)
    intro = step_of(table_console, "intro")
    alice.forget()

    answer = table_console.write("step.go", {"step_id": intro["id"]})

    assert answer["ok"] is True
    pushed = of_type(alice.changes_until(lambda c: of_type(c, "table")), "table")[-1]
    assert pushed["step_id"] == intro["id"]
    assert pushed["timer"] == {
        "ends_at": clock.epoch_ms(T0) + intro["duration"] * 1000,
        "left": None,
    }


def test_going_to_the_current_step_again_changes_nothing(app, table):
    table_console = console(app, table)
    intro = step_of(table_console, "intro")
    table_console.write("step.go", {"step_id": intro["id"]})

    again = table_console.write("step.go", {"step_id": intro["id"]})

    assert again["ok"] and again["changes"] == []


def test_forward_back_and_skip(app, table):
    clock.set_now(T0)
    table_console = console(app, table)
    steps = script(table_console.sync(0)["changes"])

    for step in (steps[0], steps[3], steps[1], None):
        table_console.write("step.go", {"step_id": step and step["id"]})
        assert state(table_console)["step_id"] == (step and step["id"])
    assert state(table_console)["timer"] == {"ends_at": None, "left": None}


def test_the_facilitator_reorders_the_script_live(app, table):
    _, alice = phone(app, table)
    table_console = console(app, table)
    before = [s["id"] for s in script(table_console.sync(0)["changes"])]
    alice.forget()

    moved = table_console.write("step.move", {"step_id": before[4], "position": 2})
    refused = [
        alice.write("step.move", {"step_id": before[4], "position": 0}),
        table_console.write("step.move", {"step_id": before[4], "position": len(before)}),
        table_console.write("step.move", {"step_id": before[4], "position": -1}),
        table_console.write("step.move", {"step_id": before[4], "position": True}),
    ]

    assert moved["ok"]
    after = before[:2] + [before[4]] + before[2:4] + before[5:]
    assert of_type(moved["changes"], "table")[0]["step_ids"] == after
    pushed = alice.changes_until(lambda c: of_type(c, "table"))
    assert of_type(pushed, "table")[-1]["step_ids"] == after
    assert [r["error"] for r in refused] == ["forbidden"] + ["bad_request"] * 3
    # Kept as moved: a new screen, and the database, see the same order.
    assert [s["id"] for s in script(console(app, table).sync(0)["changes"])] == after
    assert table_console.write("step.move", {"step_id": before[4], "position": 2})["changes"] == []


def test_a_step_of_another_table_is_refused(app, evening, table):
    other = console(app, evening.tables[1])
    foreign = step_of(other, "intro")

    answer = console(app, table).write("step.go", {"step_id": foreign["id"]})

    assert answer["error"] == "not_found"


def test_pause_resume_and_add_five_minutes(app, table):
    clock.set_now(T0)
    table_console = console(app, table)
    diverge = step_of(table_console, "diverge")  # 15 minutes
    table_console.write("step.go", {"step_id": diverge["id"]})

    clock.advance(5 * 60)
    table_console.write("timer.pause")
    assert state(table_console)["timer"] == {"ends_at": None, "left": 10 * 60}

    clock.advance(60 * 60)  # a long pause costs nothing
    table_console.write("timer.add", {"seconds": 300})
    assert state(table_console)["timer"]["left"] == 15 * 60

    table_console.write("timer.resume")
    resumed = clock.now()
    assert state(table_console)["timer"] == {
        "ends_at": clock.epoch_ms(resumed) + 15 * 60 * 1000,
        "left": None,
    }

    table_console.write("timer.add", {})  # five minutes by default, while running
    assert state(table_console)["timer"]["ends_at"] == clock.epoch_ms(resumed) + 20 * 60 * 1000


def test_timer_writes_without_a_timer_or_with_bad_amounts_are_refused(app, table):
    table_console = console(app, table)

    assert table_console.write("timer.pause")["error"] == "no_timer"
    table_console.write("step.go", {"step_id": step_of(table_console, "intro")["id"]})
    for seconds in (0, 10**6, "300", True, 2**70):
        assert table_console.write("timer.add", {"seconds": seconds})["error"] == "bad_request"


def test_the_timer_is_kept_in_the_database(app, table):
    clock.set_now(T0)
    table_console = console(app, table)
    table_console.write("step.go", {"step_id": step_of(table_console, "vote")["id"]})

    from workshop.models import Table

    stored = read(app, lambda s: s.get(Table, table.id))
    assert clock.aware(stored.timer_ends_at) == datetime(2026, 11, 30, 19, 5, tzinfo=UTC)


def test_the_facilitator_adjusts_a_step_live(app, table):
    _, alice = phone(app, table)
    table_console = console(app, table)
    diverge = step_of(table_console, "diverge")

    answer = table_console.write(
        "step.update",
        {
            "step_id": diverge["id"],
            "prompt": "Quels besoins ?",
            "duration": 1200,
            "settings": {"private": True},
        },
    )
    bad = table_console.write("step.update", {"step_id": diverge["id"], "duration": -5})

    assert answer["ok"] and bad["error"] == "bad_step"
    seen = step_of(alice, "diverge")
    assert (seen["prompt"], seen["duration"], seen["settings"]["private"]) == (
        "Quels besoins ?",
        1200,
        True,
    )
    assert seen["settings"]["card_kinds"] == diverge["settings"]["card_kinds"]


# --- private diverge and reveal -----------------------------------------------------------


def test_private_ideas_reach_the_others_as_numbered_placeholders_until_revealed(app, table):
    alice_id, alice = phone(app, table, "Alice")
    _, bob = phone(app, table, "Bob")
    table_console = console(app, table)
    diverge = step_of(table_console, "diverge")
    table_console.write("step.update", {"step_id": diverge["id"], "settings": {"private": True}})
    table_console.write("step.go", {"step_id": diverge["id"]})
    bob.forget()

    mine = alice.write("idea.post", {"kind": "idea", "text": "Mon idée secrète"})

    [own] = mine["changes"]
    assert own["private"] is True and own["text"] == "Mon idée secrète"
    placeholder = of_type(bob.changes_until(lambda c: of_type(c, "idea")), "idea")[-1]
    assert placeholder == {
        "type": "idea",
        "id": own["id"],
        "seq": own["seq"],
        "step_id": diverge["id"],
        "hidden": False,
        "private": True,
        "deleted": False,
        "cluster_id": None,
        "withheld": True,
    }
    assert of_type(bob.sync(0)["changes"], "idea") == [placeholder]
    assert of_type(table_console.sync(0)["changes"], "idea")[0]["text"] == "Mon idée secrète"
    assert of_type(alice.sync(0)["changes"], "idea")[0]["author_id"] == alice_id

    bob.forget()
    revealed = table_console.write("step.reveal")

    assert revealed["ok"]
    shown = of_type(bob.changes_until(lambda c: of_type(c, "idea")), "idea")[-1]
    assert (shown["text"], shown["private"], shown["seq"] > own["seq"]) == (
        "Mon idée secrète",
        False,
        True,
    )
    assert step_of(bob, "diverge")["settings"]["revealed"] is True
    assert table_console.write("step.reveal")["ok"]  # a second click: harmless
    # Posts after the reveal are public at once.
    later = alice.write("idea.post", {"kind": "idea", "text": "Après"})
    assert later["changes"][0]["private"] is False


@pytest.mark.parametrize(
    "current, private",
    [(None, True), ("intro", True), ("diverge", False)],
    ids=["before the script", "introductions", "a public diverge"],
)
def test_reveal_is_refused_outside_a_private_round_and_changes_nothing(
    app, table, current, private
):
    """Revealed before it starts, the private round would silently never
    happen: its step stayed marked revealed for good (issue 16, item 18)."""
    _, alice = phone(app, table, "Alice")
    table_console = console(app, table)
    diverge = step_of(table_console, "diverge")
    table_console.write("step.update", {"step_id": diverge["id"], "settings": {"private": private}})
    if current:
        table_console.write("step.go", {"step_id": step_of(table_console, current)["id"]})
    before = table_console.sync(0)

    answer = table_console.write("step.reveal")

    assert answer["ok"] is False and answer["error"] == "not_private" and answer["permanent"]
    assert "tour privé" in answer["message"]  # in the console's language (French)
    after = table_console.sync(0)
    assert (after["seq"], after["changes"]) == (before["seq"], before["changes"])
    if private:  # the private round then happens as planned
        table_console.write("step.go", {"step_id": diverge["id"]})
        posted = alice.write("idea.post", {"kind": "idea", "text": "Mon idée secrète"})
        assert posted["changes"][0]["private"] is True


def test_private_ideas_left_waiting_after_their_step_can_still_be_revealed(app, table):
    """The facilitator moved on without revealing: the ideas are not stuck."""
    _, alice = phone(app, table, "Alice")
    table_console = console(app, table)
    diverge = step_of(table_console, "diverge")
    table_console.write("step.update", {"step_id": diverge["id"], "settings": {"private": True}})
    table_console.write("step.go", {"step_id": diverge["id"]})
    alice.write("idea.post", {"kind": "idea", "text": "Mon idée secrète"})
    table_console.write("step.go", {"step_id": step_of(table_console, "cluster")["id"]})

    answer = table_console.write("step.reveal")

    assert answer["ok"], answer
    [idea] = of_type(table_console.sync(0)["changes"], "idea")
    assert idea["private"] is False
    assert step_of(table_console, "diverge")["settings"]["revealed"] is True


def test_every_sequence_number_reaches_every_phone(app, table):
    """Private posts, hidden cards and state changes leave no gap on any phone."""
    _, alice = phone(app, table, "Alice")
    _, bob = phone(app, table, "Bob")
    table_console = console(app, table)
    start = bob.sync(0)["seq"]
    bob.forget()
    diverge = step_of(table_console, "diverge")
    table_console.write("step.update", {"step_id": diverge["id"], "settings": {"private": True}})
    table_console.write("step.go", {"step_id": diverge["id"]})
    first = alice.write("idea.post", {"text": "Privée"})
    alice.write("intro.save", {"intro": "Alice, maraîchère"})
    table_console.write("idea.hide", {"id": first["changes"][0]["id"], "hidden": True})
    table_console.write("step.reveal")
    end = table_console.sync(0)["seq"]

    pushed = bob.changes_until(lambda c: max((x["seq"] for x in c), default=0) >= end)

    assert sorted({c["seq"] for c in pushed}) == list(range(start + 1, end + 1))


def test_the_step_of_a_card_is_recorded(app, table):
    _, alice = phone(app, table)
    table_console = console(app, table)
    diverge = step_of(table_console, "diverge")
    table_console.write("step.go", {"step_id": diverge["id"]})

    answer = alice.write("idea.post", {"text": "Dans l'étape"})

    assert answer["changes"][0]["step_id"] == diverge["id"]
    assert (
        read(app, lambda s: s.scalar(select(Step.kind).where(Step.id == diverge["id"])))
        == "diverge"
    )
