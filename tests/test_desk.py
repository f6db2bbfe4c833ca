"""The synthesis desk (issue 18, item 1): the evening's theme team, organizers
and holders of a secret desk link (no account, revocable), sees every table's
ideas as the table's phones see them, live and caught up by each table's
numbers after a drop, and edits the evening's themes together."""

import re

from sqlalchemy import select

from workshop.extensions import db
from workshop.models import ApartPair, DeskLink, Event, Organizer
from workshop.services import desk, plenary

from .helpers import Screen, console, make_evening, organizer_screen, phone, signed_in, wait_for


def desk_link(app, evening, name="Camille") -> str:
    """A desk link's token, made by the evening's organizer."""
    with app.app_context():
        organizer = db.session.get(Organizer, evening.organizer_id)
        event = db.session.get(Event, evening.event_id)
        _link, token = desk.new_link(organizer, event, name)
        db.session.remove()
    return token


def member(app, token) -> Screen:
    return Screen(app, {"role": "desk", "token": token})


def tables_of(answer) -> dict:
    return {int(table_id): table for table_id, table in answer["tables"].items()}


def pushed(screen) -> list[dict]:
    return [change for push in screen.received("tables") for change in push["changes"]]


def test_a_desk_link_opens_the_desk_and_only_its_hash_is_kept(app, evening):
    token = desk_link(app, evening)
    with app.app_context():
        [link] = db.session.scalars(select(DeskLink)).all()
        assert token not in (link.token_hash, link.name)
    screen = member(app, token)
    assert screen.connected
    answer = screen.emit("sync", {})
    assert answer["ok"], answer
    found = tables_of(answer)
    assert sorted(found) == [t.id for t in evening.tables]
    assert [found[t.id]["number"] for t in evening.tables] == [1, 2]
    assert found[evening.tables[0].id]["brief"] == "Question 1"
    # A wrong or made-up token opens nothing.
    assert not member(app, token[:-2] + "xx").connected
    assert not member(app, "../../etc").connected
    assert not Screen(app, {"role": "desk", "event": evening.event_id}).connected  # not signed in


def test_the_desk_sees_every_tables_ideas_live_as_the_phones_see_them(app, evening):
    first, second = evening.tables
    team = member(app, desk_link(app, evening))
    team.emit("sync", {})
    _, alice = phone(app, first, "Alice")
    _, bob = phone(app, second, "Bob")

    posted = alice.write("idea.post", {"text": "Une navette pour le marché"})
    bob.write("idea.post", {"text": "Un jardin partagé"})
    hidden = bob.write("idea.post", {"text": "Mon numéro de téléphone"})["changes"][0]["id"]
    assert console(app, second).write("idea.hide", {"id": hidden, "hidden": True})["ok"]

    assert wait_for(lambda: len({c["id"] for c in pushed(team) if c["type"] == "idea"}) == 3)
    ideas = {c["id"]: c for c in pushed(team) if c["type"] == "idea"}
    assert ideas[posted["changes"][0]["id"]]["table_id"] == first.id
    assert ideas[posted["changes"][0]["id"]]["text"] == "Une navette pour le marché"
    # A card the facilitator hid is withheld from the desk, as from the phones.
    assert wait_for(lambda: [c for c in pushed(team) if c["id"] == hidden and c.get("withheld")])
    latest = max((c for c in pushed(team) if c["id"] == hidden), key=lambda c: c["seq"])
    assert latest["withheld"] and "text" not in latest
    # The table's own screens get nothing of the desk's.
    assert alice.received("tables") == []


def test_a_desk_that_dropped_catches_up_table_by_table(app, evening):
    first, second = evening.tables
    _, alice = phone(app, first, "Alice")
    alice.write("idea.post", {"text": "Avant la coupure"})
    team = member(app, desk_link(app, evening))
    known = {
        table_id: {"since": table["seq"], "epoch": table.get("epoch")}
        for table_id, table in team.emit("sync", {})["tables"].items()
    }
    team.sio.disconnect()

    missed = alice.write("idea.post", {"text": "Pendant la coupure"})["changes"][0]
    again = member(app, desk_link(app, evening, "Camille, second onglet"))
    answer = tables_of(again.emit("sync", {"tables": known}))

    assert [c["text"] for c in answer[first.id]["changes"] if c["type"] == "idea"] == [
        "Pendant la coupure"
    ]
    assert answer[first.id]["seq"] == missed["seq"]
    assert answer[second.id]["changes"] == []  # nothing new there: nothing sent again
    # From nothing, a table's whole state.
    whole = tables_of(again.emit("sync", {"tables": {}}))[first.id]
    texts = [c["text"] for c in whole["changes"] if c["type"] == "idea"]
    assert texts == ["Avant la coupure", "Pendant la coupure"]


def test_a_member_renames_a_theme_while_another_moves_an_idea_and_both_edits_stay(app, evening):
    _, alice = phone(app, evening.tables[0], "Alice")
    idea = alice.write("idea.post", {"text": "Navette"})["changes"][0]["id"]
    camille = member(app, desk_link(app, evening, "Camille"))
    dominique = organizer_screen(app, evening)
    created = camille.write("theme.create", {"label": "Transport"})
    assert created["ok"], created
    theme = created["changes"][0]
    assert theme["version"] == 0

    moved = dominique.write("theme.move", {"idea_id": idea, "theme_id": theme["id"]})
    renamed = camille.write(
        "theme.update", {"theme_id": theme["id"], "label": "Mobilité", "base_version": 0}
    )

    assert moved["ok"] and renamed["ok"], (moved, renamed)
    [now] = [c for c in renamed["changes"] if c["id"] == theme["id"]]
    assert (now["label"], now["idea_ids"]) == ("Mobilité", [idea])
    # Moving it elsewhere takes it out of the first theme; to none, out of all.
    other = camille.write("theme.create", {"label": "Énergie"})["changes"][0]
    camille.write("theme.move", {"idea_id": idea, "theme_id": other["id"]})
    caught = camille.emit("sync", {"stream": "evening", "since": 0})["changes"]
    latest = {c["id"]: c for c in caught}
    assert latest[theme["id"]]["idea_ids"] == [] and latest[other["id"]]["idea_ids"] == [idea]
    camille.write("theme.move", {"idea_id": idea, "theme_id": None})
    caught = camille.emit("sync", {"stream": "evening", "since": 0})["changes"]
    assert all(c["idea_ids"] == [] for c in caught)


def test_a_revoked_link_closes_its_screens_and_opens_nothing_more(app, evening):
    token = desk_link(app, evening)
    screen = member(app, token)
    assert screen.write("theme.create", {"label": "Avant"})["ok"]
    http = signed_in(app)
    page = http.get(f"/organizer/events/{evening.event_id}")
    assert b"Camille" in page.data
    with app.app_context():
        [link] = db.session.scalars(select(DeskLink)).all()
        link_id = link.id
        db.session.remove()
    revoked = http.post(f"/organizer/events/{evening.event_id}/desk-links/{link_id}/revoke")
    assert revoked.status_code == 302

    assert wait_for(lambda: not screen.connected)
    assert not member(app, token).connected
    assert app.test_client().get(f"/desk/{token}").status_code == 404


def test_who_may_use_the_desk(app, evening):
    token = desk_link(app, evening)
    other = make_evening(app, email="autre@example.org")
    _, alice = phone(app, evening.tables[0], "Alice")
    idea = alice.write("idea.post", {"text": "Navette"})["changes"][0]["id"]
    team = member(app, token)
    theme = team.write("theme.create", {"label": "Transport"})["changes"][0]

    # A phone cannot read the desk's catch-up nor move ideas into themes.
    assert alice.emit("sync", {"stream": "evening"})["error"] == "forbidden"
    assert alice.write("theme.move", {"idea_id": idea, "theme_id": theme["id"]})["error"] == (
        "forbidden"
    )
    # A desk member writes themes, not a table's cards.
    assert team.write("idea.post", {"text": "Intrus"})["ok"] is False
    # Another evening's desk reaches neither this evening's themes nor its ideas.
    outsider = member(app, desk_link(app, other, "Autre"))
    refused = outsider.write("theme.move", {"idea_id": idea, "theme_id": theme["id"]})
    assert refused["error"] == "not_found"
    assert outsider.write("theme.create", {"label": "X", "idea_ids": [idea]})["error"] == (
        "not_found"
    )
    # Another evening's organizer gets no desk of this one.
    http = signed_in(app, "autre@example.org")
    assert not Screen(app, {"role": "desk", "event": evening.event_id}, http).connected
    assert http.get(f"/organizer/events/{evening.event_id}/desk").status_code == 404
    # The evening's organizer does, and the page of a link opens for anyone holding it.
    assert organizer_desk(app, evening).connected
    assert app.test_client().get(f"/desk/{token}").status_code == 200


def organizer_desk(app, evening) -> Screen:
    return Screen(app, {"role": "desk", "event": evening.event_id}, signed_in(app))


def test_hostile_desk_input_gets_a_clear_answer_and_changes_nothing(app, evening):
    team = member(app, desk_link(app, evening))
    for asked in (
        {"tables": "all"},
        {"tables": {"1": "x", "abc": {"since": "lots"}}},
        {"tables": {str(evening.tables[0].id): {"since": -5, "epoch": 12}}},
        {"tables": [1, 2]},
    ):
        answer = team.emit("sync", asked)
        assert answer["ok"] and len(answer["tables"]) == 2, (asked, answer)
    for data in (
        {"idea_id": "x", "theme_id": None},
        {"idea_id": None},
        {"idea_id": 10**12, "theme_id": None},
        {"idea_id": [1], "theme_id": {"a": 1}},
    ):
        answer = team.write("theme.move", data)
        assert answer["ok"] is False and answer["message"], (data, answer)
    http = signed_in(app)
    assert (
        http.post(
            f"/organizer/events/{evening.event_id}/desk-links", data={"name": "  "}
        ).status_code
        == 302
    )
    with app.app_context():
        assert db.session.scalars(select(DeskLink).where(DeskLink.name == "")).all() == []
    assert (
        http.post(f"/organizer/events/{evening.event_id}/desk-links/999/revoke").status_code == 404
    )


def test_a_new_desk_link_is_shown_once_to_the_organizer_who_made_it(app, evening):
    http = signed_in(app)
    made = http.post(f"/organizer/events/{evening.event_id}/desk-links", data={"name": "Sacha"})
    assert made.status_code == 302 and made.location.endswith("#new-desk-link")
    page = http.get(f"/organizer/events/{evening.event_id}").get_data(as_text=True)
    [url] = re.findall(r'value="(http[^"]*/desk/[^"]+)"', page)
    assert "/desk/" not in http.get(f"/organizer/events/{evening.event_id}").get_data(as_text=True)
    token = url.rsplit("/", 1)[1]
    assert member(app, token).connected
    assert app.test_client().get(f"/desk/{token}").status_code == 200


def test_the_team_merges_splits_and_pins_quotes_and_the_room_sees_the_pins_first(app, evening):
    _, alice = phone(app, evening.tables[0], "Alice")
    _, bruno = phone(app, evening.tables[1], "Bruno")
    ideas = [
        alice.write("idea.post", {"text": text})["changes"][0]["id"]
        for text in ("Navette le samedi", "Covoiturage", "Pistes cyclables")
    ] + [bruno.write("idea.post", {"text": "Vélos partagés"})["changes"][0]["id"]]
    camille = member(app, desk_link(app, evening))
    dominique = organizer_screen(app, evening)

    def created(label, idea_ids):
        answer = camille.write("theme.create", {"label": label, "idea_ids": idea_ids})
        return answer["changes"][0]["id"]

    def latest():
        caught = camille.emit("sync", {"stream": "evening", "since": 0})["changes"]
        return {c["id"]: c for c in caught}

    transport, velo = created("Transport", ideas[:2]), created("Vélo", ideas[2:])
    # Merged while a teammate renames the theme it joins: both kept.
    merged = camille.write("theme.merge", {"theme_id": velo, "into_id": transport})
    renamed = dominique.write(
        "theme.update", {"theme_id": transport, "label": "Mobilité", "base_version": 0}
    )
    assert merged["ok"] and renamed["ok"], (merged, renamed)
    now = latest()
    assert now[velo]["deleted"] is True
    assert (now[transport]["label"], now[transport]["idea_ids"]) == ("Mobilité", ideas)

    # Split: the cycling ideas leave for a theme of their own.
    split = camille.write(
        "theme.split", {"theme_id": transport, "idea_ids": ideas[2:], "label": "Vélo"}
    )
    assert split["ok"], split
    now = latest()
    [cycling] = [c for c in now.values() if not c["deleted"] and c["label"] == "Vélo"]
    assert cycling["idea_ids"] == ideas[2:] and cycling["suggested"] is False
    assert now[transport]["idea_ids"] == ideas[:2]

    # Pinned quotes come first, to the desk and to the room.
    assert camille.write("theme.pin", {"theme_id": transport, "idea_id": ideas[1]})["ok"]
    assert latest()[transport]["pinned"] == [ideas[1]]
    with app.app_context():
        [shown, _] = plenary.room_themes(db.session.get(Event, evening.event_id))
        db.session.remove()
    assert shown["quotes"][0] == "Covoiturage"
    assert camille.write(
        "theme.pin", {"theme_id": transport, "idea_id": ideas[1], "pinned": False}
    )["ok"]
    assert latest()[transport]["pinned"] == []

    # What cannot be done is refused, with a message, and changes nothing.
    before = latest()
    for name, data in (
        ("theme.merge", {"theme_id": transport, "into_id": transport}),
        ("theme.merge", {"theme_id": transport, "into_id": velo}),  # gone
        ("theme.split", {"theme_id": transport, "idea_ids": ideas[2:], "label": "X"}),
        ("theme.split", {"theme_id": transport, "idea_ids": [], "label": "X"}),
        ("theme.split", {"theme_id": transport, "idea_ids": ideas[:1], "label": ""}),
        ("theme.pin", {"theme_id": transport, "idea_id": ideas[3]}),  # not its idea
        ("theme.pin", {"theme_id": transport, "idea_id": "x"}),
    ):
        answer = camille.write(name, data)
        assert answer["ok"] is False and answer["message"], (name, data, answer)
    assert latest() == before
    # A phone merges nothing.
    refused = alice.write("theme.merge", {"theme_id": cycling["id"], "into_id": transport})
    assert refused["error"] == "forbidden"


def test_not_the_same_is_said_once_for_the_whole_team_and_can_be_taken_back(app, evening):
    first, second = evening.tables
    _, alice = phone(app, first, "Alice")
    _, bob = phone(app, second, "Bob")
    a = alice.write("idea.post", {"text": "Une navette le samedi"})["changes"][0]["id"]
    b = bob.write("idea.post", {"text": "Une navette pour le marché"})["changes"][0]["id"]
    camille = member(app, desk_link(app, evening, "Camille"))
    dominique = organizer_screen(app, evening)
    dominique.emit("sync", {"stream": "evening", "since": 0})

    said = camille.write("hints.apart", {"a": b, "b": a})  # either order: one pair
    assert said["ok"], said
    [pair] = said["changes"]
    assert (pair["type"], pair["a"], pair["b"], pair["apart"]) == ("apart", a, b, True)
    # The rest of the team hears it on the evening's stream, and after a drop.
    wait_for(
        lambda: any(
            c["type"] == "apart" for p in dominique.received("evening") for c in p["changes"]
        )
    )
    caught = dominique.emit("sync", {"stream": "evening", "since": 0})["changes"]
    assert [c for c in caught if c["type"] == "apart"] == [pair]
    # Said again (by anyone): nothing changes; taken back: the hint is shown again.
    assert dominique.write("hints.apart", {"a": a, "b": b})["changes"] == []
    taken_back = dominique.write("hints.apart", {"a": a, "b": b, "apart": False})
    assert taken_back["changes"][0]["apart"] is False
    assert taken_back["changes"][0]["seq"] > pair["seq"]
    with app.app_context():
        assert db.session.scalars(select(ApartPair)).all()[0].said_by.startswith("o:")

    # Only the team, only this evening's ideas, two different ones.
    assert alice.write("hints.apart", {"a": a, "b": b})["error"] == "forbidden"
    other = make_evening(app, email="other-apart@example.org")
    _, carol = phone(app, other.tables[0], "Carol")
    elsewhere = carol.write("idea.post", {"text": "Ailleurs"})["changes"][0]["id"]
    for data in (
        {"a": a, "b": elsewhere},
        {"a": a, "b": a},
        {"a": a},
        {"a": "x", "b": b},
        {"a": a, "b": b, "apart": "yes"},
        {"a": [a], "b": {"b": b}},
    ):
        answer = camille.write("hints.apart", data)
        assert answer["ok"] is False and answer["message"], (data, answer)
    with app.app_context():
        assert len(db.session.scalars(select(ApartPair)).all()) == 1
