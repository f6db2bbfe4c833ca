"""Dot votes through the one write path: budgets, hidden results, refusals,
and budgets that hold against two connections writing at once."""

import threading

import pytest
from sqlalchemy import func, select

from workshop.models import Vote

from .helpers import Screen, console, of_type, phone, read, script


def state(screen) -> dict:
    return of_type(screen.sync(0)["changes"], "table")[-1]


def vote_step(screen) -> dict:
    return next(s for s in script(screen.sync(0)["changes"]) if s["kind"] == "vote")


def active_votes(app, participant_id=None) -> int:
    query = select(func.count(Vote.id)).where(Vote.active.is_(True))
    if participant_id is not None:
        query = query.where(Vote.participant_id == participant_id)
    return read(app, lambda s: s.scalar(query))


@pytest.fixture
def voting(app, evening):
    """A table at its vote step, vote open, with three cards by Alice and Bob."""
    table = evening.tables[0]
    alice_id, alice = phone(app, table, "Alice")
    bob_id, bob = phone(app, table, "Bob")
    table_console = console(app, table)
    cards = [
        alice.write("idea.post", {"text": "Carte A"})["changes"][0]["id"],
        alice.write("idea.post", {"text": "Carte B"})["changes"][0]["id"],
        bob.write("idea.post", {"text": "Carte C"})["changes"][0]["id"],
    ]
    step = vote_step(table_console)
    table_console.write("step.go", {"step_id": step["id"]})
    assert table_console.write("vote.open")["ok"]
    return {
        "table": table,
        "alice": (alice_id, alice),
        "bob": (bob_id, bob),
        "console": table_console,
        "cards": cards,
        "step": step,
    }


def test_a_vote_is_cast_within_the_budget_and_taken_back(app, voting):
    bob_id, bob = voting["bob"]
    a, b, c = voting["cards"]

    answers = [bob.write("vote.cast", {"idea_id": card}) for card in (a, a, b)]
    fourth = bob.write("vote.cast", {"idea_id": c})

    assert all(answer["ok"] for answer in answers)
    assert answers[0]["changes"][0] == {
        "type": "vote",
        "id": answers[0]["changes"][0]["id"],
        "seq": answers[0]["seq"],
        "step_id": voting["step"]["id"],
        "active": True,
        "idea_id": a,
        "participant_id": bob_id,
    }
    assert fourth["error"] == "no_votes_left" and fourth["permanent"]
    taken_back = bob.write("vote.withdraw", {"idea_id": b})
    assert taken_back["ok"] and taken_back["changes"][0]["active"] is False
    assert bob.write("vote.cast", {"idea_id": c})["ok"]
    assert active_votes(app, bob_id) == 3


def test_at_most_two_votes_on_one_card(app, voting):
    _, bob = voting["bob"]
    a = voting["cards"][0]

    answers = [bob.write("vote.cast", {"idea_id": a}) for _ in range(3)]

    assert [x["ok"] for x in answers] == [True, True, False]
    assert answers[2]["error"] == "card_full"


def test_results_stay_hidden_until_the_vote_closes_then_show_everywhere(app, voting):
    alice_id, alice = voting["alice"]
    _, bob = voting["bob"]
    table_console = voting["console"]
    a, b, c = voting["cards"]
    alice.forget()
    bob.write("vote.cast", {"idea_id": a})
    bob.write("vote.cast", {"idea_id": c})
    mine = alice.write("vote.cast", {"idea_id": c})

    assert of_type(mine["changes"], "vote")[0]["idea_id"] == c  # her answer shows her vote
    alice.changes_until(lambda x: len(of_type(x, "vote")) >= 2)
    others = of_type(alice.settle(), "vote")  # hers is in her answer, not pushed again
    assert len(others) == 2 and all(v["withheld"] for v in others)
    assert all("participant_id" not in v for v in others)
    on_console = of_type(table_console.sync(0)["changes"], "vote")
    assert all("idea_id" not in v for v in on_console)
    assert "results" not in vote_step(alice)["settings"]

    table_console.write("vote.close")

    for screen in (alice, bob, table_console):
        settings = vote_step(screen)["settings"]
        assert settings["state"] == "closed"
        assert settings["results"] == {str(a): 1, str(c): 2}
    assert alice.write("vote.cast", {"idea_id": b})["error"] == "vote_closed"
    assert alice.write("vote.withdraw", {"idea_id": c})["error"] == "vote_closed"
    assert alice_id


def test_no_vote_on_ones_own_card_when_the_rule_is_on(app, voting):
    _, alice = voting["alice"]
    table_console = voting["console"]
    table_console.write(
        "step.update", {"step_id": voting["step"]["id"], "settings": {"no_self_vote": True}}
    )

    own = alice.write("vote.cast", {"idea_id": voting["cards"][0]})
    other = alice.write("vote.cast", {"idea_id": voting["cards"][2]})

    assert own["error"] == "own_card" and other["ok"]
    assert vote_step(alice)["settings"]["state"] == "open"  # the rule change kept the vote open


def test_votes_are_refused_outside_an_open_vote_step(app, evening):
    table = evening.tables[0]
    _, alice = phone(app, table)
    table_console = console(app, table)
    card = alice.write("idea.post", {"text": "Carte"})["changes"][0]["id"]

    before = alice.write("vote.cast", {"idea_id": card})
    table_console.write("step.go", {"step_id": vote_step(table_console)["id"]})
    not_open = alice.write("vote.cast", {"idea_id": card})
    opened = table_console.write("vote.open")

    assert before["error"] == "no_vote"
    assert not_open["error"] == "vote_closed"
    assert opened["ok"] and alice.write("vote.cast", {"idea_id": card})["ok"]


def test_a_participant_neither_opens_nor_closes_a_vote(app, voting):
    _, alice = voting["alice"]

    assert alice.write("vote.close")["error"] == "forbidden"
    assert alice.write("vote.open")["error"] == "forbidden"


def test_votes_for_another_tables_or_hidden_cards_or_for_someone_else_are_refused(
    app, evening, voting
):
    alice_id, alice = voting["alice"]
    bob_id, bob = voting["bob"]
    _, carol = phone(app, evening.tables[1], "Carol")
    foreign = carol.write("idea.post", {"text": "Ailleurs"})["changes"][0]["id"]
    voting["console"].write("idea.hide", {"id": voting["cards"][1], "hidden": True})

    for card in (foreign, voting["cards"][1], 10**6, "1", None, True, 2**70):
        answer = alice.write("vote.cast", {"idea_id": card})
        assert answer["ok"] is False and answer["error"] == "not_found", card
    # A crafted voter is ignored: Alice's vote is Alice's.
    crafted = alice.write("vote.cast", {"idea_id": voting["cards"][2], "participant_id": bob_id})
    assert crafted["changes"][0]["participant_id"] == alice_id
    assert active_votes(app, bob_id) == 0


def test_the_console_votes_for_a_participant_without_a_phone(app, voting):
    bob_id, _ = voting["bob"]
    table_console = voting["console"]

    answers = [
        table_console.write("vote.cast", {"idea_id": voting["cards"][0], "participant_id": bob_id})
        for _ in range(3)
    ]

    assert [a["ok"] for a in answers] == [True, True, False]
    assert active_votes(app, bob_id) == 2


def test_the_budget_holds_against_two_connections_voting_at_once(app, voting):
    bob_id, bob = voting["bob"]
    second_tab = Screen(
        app, {"role": "participant", "table": voting["table"].join_code}, bob.sio.flask_test_client
    )
    assert second_tab.connected
    cards = voting["cards"]
    answers = []

    def vote(screen, card):
        for _ in range(3):
            answers.append(screen.write("vote.cast", {"idea_id": card}))

    threads = [
        threading.Thread(target=vote, args=(bob, cards[0])),
        threading.Thread(target=vote, args=(second_tab, cards[2])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sum(a["ok"] for a in answers) == 3
    assert active_votes(app, bob_id) == 3
