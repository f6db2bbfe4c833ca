"""The evening's own stream (issue 18, item 0): what belongs to the evening as
a whole (its themes first) is numbered in one sequence per evening, written
through the one write path (client id, receipt, answer with the changes),
pushed to the screens that follow the evening, and caught up by number
after a drop, like a table's stream and without touching it."""

from sqlalchemy import func, select

from workshop.client import envelope, new_client_id
from workshop.extensions import db
from workshop.models import Event, Theme
from workshop.services import writes

from .helpers import organizer_screen, phone


def themes_of(answer) -> list[dict]:
    return [change for change in answer["changes"] if change["type"] == "theme"]


def evening_sync(screen, since=0) -> dict:
    return screen.emit("sync", {"stream": "evening", "since": since})


def pushed_themes(screen) -> list[dict]:
    screen.settle()
    return [change for push in screen.received("evening") for change in push["changes"]]


def ideas(app, evening) -> list[int]:
    """One idea from a phone at each of the evening's two tables."""
    ids = []
    for number, table in enumerate(evening.tables):
        _, screen = phone(app, table, f"Tel {number}")
        ids.append(screen.write("idea.post", {"text": f"Navette {number}"})["changes"][0]["id"])
    return ids


def suggest(app, evening, data, client_id=None) -> dict:
    """The app's own write (a job's result), through the same write path."""
    with app.app_context():
        event = db.session.get(Event, evening.event_id)
        answer = writes.perform(writes.as_system(event), envelope("theme.suggest", data, client_id))
        db.session.remove()
    return answer


def test_a_theme_is_numbered_in_the_evenings_stream_and_reaches_the_team(app, evening):
    first, second = ideas(app, evening)
    writer, teammate = organizer_screen(app, evening), organizer_screen(app, evening)
    _, alice = phone(app, evening.tables[0], "Alice")
    table_seq = alice.sync(0)["seq"]
    for screen in (writer, teammate, alice):
        screen.forget()

    answer = writer.write(
        "theme.create", {"label": "Mobilité", "keywords": ["navette"], "idea_ids": [first, second]}
    )

    assert answer["ok"] and answer["seq"] == 1, answer
    [theme] = themes_of(answer)
    assert theme["label"] == "Mobilité" and theme["idea_ids"] == [first, second]
    assert (theme["by"], theme["suggested"], theme["version"]) == ("team", False, 0)
    assert [t["label"] for t in pushed_themes(teammate)] == ["Mobilité"]
    caught_up = evening_sync(teammate)
    assert caught_up["ok"] and caught_up["seq"] == 1 and themes_of(caught_up) == [theme]
    # The table's stream is its own: no number taken, nothing pushed to its phones.
    assert alice.sync(0)["seq"] == table_seq and alice.received("evening") == []
    assert not [c for c in alice.settle() if c["type"] == "theme"]


def test_a_screen_that_dropped_catches_up_on_the_evening_in_order(app, evening):
    writer = organizer_screen(app, evening)
    created = writer.write("theme.create", {"label": "Énergie"})
    theme_id = themes_of(created)[0]["id"]
    late = organizer_screen(app, evening)
    seen = evening_sync(late)["seq"]
    late.sio.disconnect()

    writer.write("theme.create", {"label": "Habitat"})
    writer.write("theme.update", {"theme_id": theme_id, "label": "Énergies", "base_version": 0})

    back = organizer_screen(app, evening)
    answer = evening_sync(back, seen)
    assert [(c["label"], c["seq"]) for c in themes_of(answer)] == [("Habitat", 2), ("Énergies", 3)]
    assert answer["seq"] == 3
    assert evening_sync(back, 3)["changes"] == []


def test_a_resend_is_answered_from_its_receipt_and_changes_nothing(app, evening):
    writer = organizer_screen(app, evening)
    first = writer.write("theme.create", {"label": "Santé"}, client_id="c" * 32)

    again = writer.write("theme.create", {"label": "Santé"}, client_id="c" * 32)

    assert again["ok"] and again["duplicate"] and themes_of(again) == themes_of(first)
    with app.app_context():
        assert db.session.scalar(select(func.count(Theme.id))) == 1
        assert db.session.get(Event, evening.event_id).last_seq == 1


def test_no_one_silently_overwrites_a_teammates_edit(app, evening):
    one, two = organizer_screen(app, evening), organizer_screen(app, evening)
    theme_id = themes_of(one.write("theme.create", {"label": "Eau"}))[0]["id"]

    assert one.write("theme.update", {"theme_id": theme_id, "label": "L'eau", "base_version": 0})[
        "ok"
    ]
    late = two.write(
        "theme.update", {"theme_id": theme_id, "label": "Eau douce", "base_version": 0}
    )

    assert late["error"] == "theme_conflict" and late["permanent"]
    assert late["current"]["label"] == "L'eau" and late["current"]["version"] == 1
    assert themes_of(evening_sync(two))[-1]["label"] == "L'eau"


def test_the_apps_suggestion_stays_the_apps_until_a_person_takes_it_up(app, evening):
    first, second = ideas(app, evening)
    team = organizer_screen(app, evening)
    team.forget()

    job = new_client_id()  # a job's write is named after what it computed
    answer = suggest(app, evening, {"label": "Transports", "idea_ids": [first, second]}, job)

    [theme] = themes_of(answer)
    assert (theme["by"], theme["suggested"]) == ("app", True)
    assert [t["suggested"] for t in pushed_themes(team)] == [True]
    again = suggest(app, evening, {"label": "Transports"}, job)
    assert again["duplicate"]  # a job run again after a restart adds nothing
    taken = team.write("theme.accept", {"theme_id": theme["id"]})
    [accepted] = themes_of(taken)
    assert (accepted["by"], accepted["suggested"]) == ("app", False)
    with app.app_context():
        row = db.session.get(Theme, theme["id"])
        assert row.created_by == "app" and row.accepted_by.startswith("o:")


def test_only_the_team_writes_themes_and_only_the_app_suggests(app, evening):
    _, alice = phone(app, evening.tables[0], "Alice")
    team = organizer_screen(app, evening)

    assert alice.write("theme.create", {"label": "Piratage"})["error"] == "forbidden"
    assert evening_sync(alice)["error"] == "forbidden"
    assert team.write("theme.suggest", {"label": "Se faire passer pour l'app"})["error"] == (
        "forbidden"
    )
    assert evening_sync(team)["changes"] == []


def test_hostile_theme_writes_get_a_clear_refusal_and_change_nothing(app, evening):
    team = organizer_screen(app, evening)
    theme_id = themes_of(team.write("theme.create", {"label": "Culture"}))[0]["id"]
    refusals = [
        ("theme.create", {"label": "x" * 10_000}),
        ("theme.create", {"label": ""}),
        ("theme.create", {"label": "Ok", "idea_ids": "1,2"}),
        ("theme.create", {"label": "Ok", "idea_ids": [True]}),
        ("theme.create", {"label": "Ok", "idea_ids": [999_999]}),
        ("theme.create", {"label": "Ok", "keywords": ["a"] * 500}),
        ("theme.update", {"theme_id": theme_id, "label": "Sans version"}),
        ("theme.update", {"theme_id": "1", "label": "Mauvais id", "base_version": 0}),
        ("theme.accept", {"theme_id": 123_456}),
    ]
    for op, data in refusals:
        answer = team.write(op, data)
        assert answer["ok"] is False and answer["message"], (op, data, answer)
    assert [t["label"] for t in themes_of(evening_sync(team))] == ["Culture"]
