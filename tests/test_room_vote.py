"""The room-wide vote on the evening's themes (issue 18, item 4): every phone
of the evening gets the themes and a budget through its table's stream,
votes through the one write path (a ballot replaced whole: resends and
second tabs never overspend), results hidden until the vote is closed, then
on every phone and the projector."""

from workshop.client import new_client_id

from .helpers import console, of_type, organizer_screen, phone
from .test_plenary import projector


def team_themes(room, labels) -> list[int]:
    return [room.write("theme.create", {"label": label})["changes"][0]["id"] for label in labels]


def room_vote(screen) -> dict | None:
    """The room's vote as the latest table view this screen holds says it."""
    tables = of_type(screen.seen, "table")
    return tables[-1]["room_vote"] if tables else None


def test_the_hall_votes_on_the_themes_and_sees_the_results_once_closed(app, evening):
    first, second = evening.tables
    _, alice = phone(app, first, "Alice")
    _, bob = phone(app, second, "Bob")
    room = organizer_screen(app, evening)
    screen = projector(app, evening)
    refused = room.write("room_vote.open", {"mode": "dots", "budget": 3})
    assert refused["error"] == "no_themes"  # nothing named yet
    mobility, housing, energy = team_themes(room, ["Mobilité", "Logement", "Énergie"])

    assert room.write("room_vote.open", {"mode": "dots", "budget": 3})["ok"]

    for mate in (alice, bob):
        mate.changes_until(lambda _c, mate=mate: room_vote(mate) is not None)
        vote = room_vote(mate)
        assert (vote["state"], vote["mode"], vote["budget"]) == ("open", "dots", 3)
        assert [t["label"] for t in vote["themes"]] == ["Mobilité", "Logement", "Énergie"]
        assert "results" not in vote  # hidden while it is open
    ballot, client_id = {"points": {str(mobility): 2, str(housing): 1}}, new_client_id()
    cast = alice.write("room_vote.cast", ballot, client_id=client_id)
    assert cast["ok"], cast
    [own] = of_type(cast["changes"], "room_ballot")
    assert own["points"] == {str(mobility): 2, str(housing): 1}
    # Over the budget: refused, the ballot as it was.
    over = alice.write("room_vote.cast", {"points": {str(energy): 4}})
    assert over["error"] == "over_budget" and over["permanent"]
    # A resend is answered from its receipt; a new ballot replaces the old one.
    assert alice.write("room_vote.cast", ballot, client_id=client_id).get("duplicate")
    assert alice.write("room_vote.cast", {"points": {str(energy): 3}})["ok"]
    assert bob.write("room_vote.cast", {"points": {str(energy): 1, str(mobility): 1}})["ok"]
    # Bob's phone learns that Alice voted, not how; so does her facilitator.
    assert all(
        b.get("withheld") and "points" not in b for b in of_type(bob.settle(), "room_ballot")
    )
    console_state = console(app, first).sync(0)["changes"]
    assert all(b.get("withheld") for b in of_type(console_state, "room_ballot"))

    assert room.write("room_vote.close", {})["ok"]

    bob.changes_until(lambda _c: room_vote(bob)["state"] == "closed")
    results = room_vote(bob)["results"]
    assert [(r["label"], r["points"], r["voters"]) for r in results] == [
        ("Énergie", 4, 2),
        ("Mobilité", 1, 1),
        ("Logement", 0, 0),
    ]
    screen.changes_until(lambda _c: screen.received("plenary"))
    shown = screen.received("plenary")[-1]
    assert shown["mode"] == "room_vote" and shown["vote"]["results"] == results
    late = alice.write("room_vote.cast", {"points": {str(housing): 1}})
    assert late["error"] == "room_vote_closed"


def test_a_ranking_gives_points_by_rank_and_a_new_vote_starts_afresh(app, evening):
    _, alice = phone(app, evening.tables[0], "Alice")
    room = organizer_screen(app, evening)
    first, second, third = team_themes(room, ["A", "B", "C"])
    assert room.write("room_vote.open", {"mode": "ranking", "budget": 2})["ok"]
    alice.changes_until(lambda _c: room_vote(alice) is not None)

    too_long = alice.write("room_vote.cast", {"ranking": [third, first, second]})
    assert too_long["error"] == "over_budget"
    assert alice.write("room_vote.cast", {"ranking": [third, first]})["ok"]
    room.write("room_vote.close", {})
    alice.changes_until(lambda _c: room_vote(alice)["state"] == "closed")
    assert [(r["label"], r["points"]) for r in room_vote(alice)["results"]] == [
        ("C", 2),
        ("A", 1),
        ("B", 0),
    ]

    assert room.write("room_vote.open", {"mode": "dots", "budget": 5})["ok"]
    room.write("room_vote.close", {})
    alice.changes_until(
        lambda _c: room_vote(alice)["state"] == "closed" and room_vote(alice)["mode"] == "dots"
    )
    assert all(
        r["points"] == 0 for r in room_vote(alice)["results"]
    )  # the last ballot was not in it


def test_only_organizers_run_the_room_vote_and_bad_ballots_change_nothing(app, evening):
    _, alice = phone(app, evening.tables[0], "Alice")
    room = organizer_screen(app, evening)
    first, second = team_themes(room, ["A", "B"])
    assert alice.write("room_vote.open", {"mode": "dots", "budget": 3})["error"] == "forbidden"
    facilitator = console(app, evening.tables[0])
    assert facilitator.write("room_vote.open", {"mode": "dots", "budget": 3})["ok"] is False
    assert alice.write("room_vote.cast", {"points": {str(first): 1}})["error"] == (
        "room_vote_closed"
    )
    for data in ({"mode": "dots", "budget": 0}, {"mode": "dots", "budget": 11}, {"mode": "x"}):
        assert room.write("room_vote.open", data)["ok"] is False, data
    assert room.write("room_vote.open", {"mode": "dots", "budget": 3})["ok"]
    alice.changes_until(lambda _c: room_vote(alice) is not None)
    for ballot in (
        {"points": {str(first): -1}},
        {"points": {"999999": 1}},
        {"points": {str(first): "lots"}},
        {"points": [first]},
        {"points": {str(n): 1 for n in range(50)}},
        {"ranking": [first]},  # not this vote's mode: read as dots, none given
        {},
    ):
        answer = alice.write("room_vote.cast", ballot)
        if answer["ok"]:  # an empty ballot is a ballot: it gives nothing
            assert not of_type(answer["changes"], "room_ballot") or all(
                not b["points"] for b in of_type(answer["changes"], "room_ballot")
            )
        else:
            assert answer["message"], (ballot, answer)
    room.write("room_vote.close", {})
    alice.changes_until(lambda _c: room_vote(alice)["state"] == "closed")
    assert all(r["points"] == 0 for r in room_vote(alice)["results"])
