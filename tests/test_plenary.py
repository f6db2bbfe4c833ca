"""The plenary: the organizers switch the projectors between joining, each
table's result in turn and the evening's word cloud."""

from workshop.services import plenary

from .helpers import Screen, console, organizer_screen, phone, script
from .test_evening_stream import suggest


def projector(app, evening) -> Screen:
    screen = Screen(app, {"role": "projector", "event": evening.join_code})
    assert screen.connected
    return screen


def test_the_projector_shows_how_to_join_outside_the_plenary(app, evening):
    state = projector(app, evening).sync()

    assert state["plenary"]["mode"] == "off" and state["plenary"]["tables"] == []
    assert state["totals"] == {"tables": 2, "participants": 0, "ideas": 0}


def test_the_plenary_shows_each_tables_top_voted_cards(app, evening):
    table = evening.tables[0]
    alice_id, alice = phone(app, table, "Alice")
    table_console = console(app, table)
    cards = [
        alice.write("idea.post", {"text": t})["changes"][0]["id"] for t in ("Un", "Deux", "Trois")
    ]
    steps = script(table_console.sync(0)["changes"])
    table_console.write("step.go", {"step_id": next(s["id"] for s in steps if s["kind"] == "vote")})
    table_console.write("vote.open")
    for card in (cards[1], cards[1], cards[2]):
        alice.write("vote.cast", {"idea_id": card})
    table_console.write("vote.close")
    table_console.write("table.reporter", {"participant_id": alice_id})
    table_console.write("sheet.edit", {"key": "solution", "text": "Une navette", "base_version": 0})
    alice.write("commit.save", {"role": "carry"})
    screen = projector(app, evening)
    room = organizer_screen(app, evening)
    screen.forget()

    answer = room.write("plenary.show", {"mode": "table", "table_id": table.id})

    assert answer["ok"], answer
    screen.changes_until(lambda _c: screen.received("plenary"))
    [pushed] = screen.received("plenary")
    assert (pushed["mode"], pushed["table_id"]) == ("table", table.id)
    first = next(t for t in pushed["tables"] if t["id"] == table.id)
    assert [(c["text"], c["votes"]) for c in first["top"]] == [("Deux", 2), ("Trois", 1)]
    assert first["reporter"] == "Alice" and first["number"] == 1
    assert [(f["key"], f["text"]) for f in first["sheet"]] == [("solution", "Une navette")]
    assert first["commitments"] == 1
    assert screen.sync()["plenary"]["table_id"] == table.id
    assert room.sync()["plenary"]["mode"] == "table"


def test_timed_turns_and_the_word_cloud(app, evening):
    _, alice = phone(app, evening.tables[0])
    for text in ("Énergie solaire partagée", "energie citoyenne", "Une énergie locale pour tous"):
        alice.write("idea.post", {"text": text})
    room = organizer_screen(app, evening)

    turns = room.write("plenary.show", {"mode": "table", "auto": 30})
    cloud = room.write("plenary.show", {"mode": "cloud"})

    assert turns["ok"] and cloud["ok"]
    state = projector(app, evening).sync()["plenary"]
    assert state["mode"] == "cloud"
    words = dict(state["cloud"])
    assert words["énergie"] == 3  # accents kept on display, folded to count
    assert "une" not in words and "pour" not in words  # stop words


def test_only_organizers_of_the_evening_steer_the_plenary(app, evening):
    table = evening.tables[0]
    _, alice = phone(app, table)
    table_console = console(app, table)
    room = organizer_screen(app, evening)

    assert alice.write("plenary.show", {"mode": "cloud"})["error"] == "forbidden"
    assert table_console.write("plenary.show", {"mode": "cloud"})["error"] == "forbidden"
    # A table write needs a table; an evening write must not name one.
    assert room.write("plenary.show", {"mode": "cloud"}, table_id=table.id)["error"] == "forbidden"
    assert room.write("step.go", {"step_id": 1})["error"] == "forbidden"
    for bad in (
        {"mode": "disco"},
        {"mode": "table", "table_id": 999},
        {"mode": "table", "auto": 5},
    ):
        assert room.write("plenary.show", bad)["ok"] is False, bad
    assert projector(app, evening).sync()["plenary"]["mode"] == "off"


def test_words_are_folded_only_to_be_counted(ctx):
    assert plenary.fold("Énergie") == plenary.fold("energie") == "energie"
    assert plenary.WORD.findall("l'éco-lieu, 3 jardins!") == ["l'éco-lieu", "jardins"]


def test_the_projector_shows_the_teams_themes_and_follows_their_edits(app, evening):
    """Issue 18, item 4: each theme's label, how many tables, a few ideas
    quoted; the app's suggestions and the ideas the room may not see stay off."""
    first, second = evening.tables
    _, alice = phone(app, first, "Alice")
    _, bob = phone(app, second, "Bob")
    bus = alice.write("idea.post", {"text": "Un bus le samedi"})["changes"][0]["id"]
    car = bob.write("idea.post", {"text": "Du covoiturage"})["changes"][0]["id"]
    hidden = bob.write("idea.post", {"text": "Mon adresse"})["changes"][0]["id"]
    assert console(app, second).write("idea.hide", {"id": hidden, "hidden": True})["ok"]
    room = organizer_screen(app, evening)
    created = room.write("theme.create", {"label": "Mobilité", "idea_ids": [bus, car, hidden]})
    theme_id = created["changes"][0]["id"]
    suggest(app, evening, {"label": "Suggestion de l'app", "idea_ids": [bus]})
    screen = projector(app, evening)
    screen.forget()

    assert room.write("plenary.show", {"mode": "themes"})["ok"]

    screen.changes_until(lambda _c: screen.received("plenary"))
    [shown] = screen.received("plenary")[-1]["themes"]
    assert (shown["label"], shown["tables"], shown["ideas"]) == ("Mobilité", 2, 2)
    assert shown["quotes"] == ["Un bus le samedi", "Du covoiturage"]
    assert screen.sync()["plenary"]["themes"] == [shown]

    screen.forget()
    room.write("theme.update", {"theme_id": theme_id, "label": "Transports", "base_version": 0})
    screen.changes_until(lambda _c: screen.received("plenary"))
    assert [t["label"] for t in screen.received("plenary")[-1]["themes"]] == ["Transports"]
    # Out of the themes mode, theme edits move no projector.
    room.write("plenary.show", {"mode": "off"})
    screen.forget()
    room.write("theme.delete", {"theme_id": theme_id})
    screen.settle()
    assert screen.received("plenary") == []
