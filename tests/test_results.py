"""The table's results through the one write path: clusters, the sheet with
per-field versions (a stale edit is refused with both texts), commitments."""

import threading

import pytest
from sqlalchemy import select

from workshop.models import Participant, SheetField

from .helpers import console, of_type, phone, read


def latest(screen, kind) -> dict:
    """The current state of each entity of ``kind`` on ``screen``, by id."""
    found = {}
    for change in of_type(screen.sync(0)["changes"], kind):
        found[change["id"]] = change
    return found


@pytest.fixture
def table_with_cards(app, evening):
    table = evening.tables[0]
    alice_id, alice = phone(app, table, "Alice")
    bob_id, bob = phone(app, table, "Bob")
    table_console = console(app, table)
    cards = [
        alice.write("idea.post", {"text": text})["changes"][0]["id"]
        for text in ("Navette", "Covoiturage", "Vélos", "Cantine")
    ]
    return {
        "table": table,
        "alice": (alice_id, alice),
        "bob": (bob_id, bob),
        "console": table_console,
        "cards": cards,
    }


# --- clusters ---------------------------------------------------------------------------


def test_the_facilitator_groups_renames_merges_and_splits(app, table_with_cards):
    table_console = table_with_cards["console"]
    _, bob = table_with_cards["bob"]
    a, b, c, d = table_with_cards["cards"]

    moves = table_console.write("cluster.create", {"name": "Transports", "idea_ids": [a, b]})
    food = table_console.write("cluster.create", {"name": "Alimentation"})["changes"][0]["id"]
    transports = next(x["id"] for x in moves["changes"] if x["type"] == "cluster")
    table_console.write("cluster.assign", {"idea_id": c, "cluster_id": transports})
    table_console.write("cluster.assign", {"idea_id": d, "cluster_id": food})
    table_console.write("cluster.rename", {"id": transports, "name": "Mobilités"})

    ideas = latest(bob, "idea")
    assert [ideas[i]["cluster_id"] for i in (a, b, c, d)] == [
        transports,
        transports,
        transports,
        food,
    ]
    assert latest(bob, "cluster")[transports]["name"] == "Mobilités"

    table_console.write("cluster.split", {"id": transports, "idea_ids": [c], "name": "Vélo"})
    bikes = max(latest(bob, "cluster"))
    table_console.write("cluster.merge", {"id": food, "into": transports})

    ideas, groups = latest(bob, "idea"), latest(bob, "cluster")
    assert ideas[c]["cluster_id"] == bikes and groups[bikes]["name"] == "Vélo"
    assert ideas[d]["cluster_id"] == transports and groups[food]["deleted"] is True

    table_console.write("cluster.delete", {"id": bikes})
    assert latest(bob, "idea")[c]["cluster_id"] is None


def test_clusters_are_the_facilitators_and_stay_in_their_table(app, evening, table_with_cards):
    _, alice = table_with_cards["alice"]
    other_console = console(app, evening.tables[1])
    a = table_with_cards["cards"][0]
    group = table_with_cards["console"].write("cluster.create", {"name": "G"})["changes"][0]["id"]

    assert alice.write("cluster.create", {"name": "Moi"})["error"] == "forbidden"
    assert (
        alice.write("cluster.assign", {"idea_id": a, "cluster_id": group})["error"] == "forbidden"
    )
    assert (
        other_console.write("cluster.assign", {"idea_id": a, "cluster_id": None})["error"]
        == "not_found"
    )
    assert other_console.write("cluster.rename", {"id": group, "name": "X"})["error"] == "not_found"
    for bad in ({"name": ""}, {"name": "x" * 121}, {"name": "ok", "idea_ids": "1"}):
        assert table_with_cards["console"].write("cluster.create", bad)["ok"] is False


# --- the sheet ---------------------------------------------------------------------------


def test_the_sheet_has_the_template_of_the_challenge(app, table_with_cards):
    _, alice = table_with_cards["alice"]

    state = of_type(alice.sync(0)["changes"], "table")[-1]

    # Keys only: every screen labels them in its own language.
    assert state["sheet"] == ["solution", "users", "value", "revenue", "carriers"]


def test_the_reporter_and_the_facilitator_write_the_sheet_others_may_not(app, table_with_cards):
    alice_id, alice = table_with_cards["alice"]
    _, bob = table_with_cards["bob"]
    table_console = table_with_cards["console"]

    before = alice.write(
        "sheet.edit", {"key": "solution", "text": "Une navette", "base_version": 0}
    )
    table_console.write("table.reporter", {"participant_id": alice_id})
    by_reporter = alice.write(
        "sheet.edit", {"key": "solution", "text": "Une navette", "base_version": 0}
    )
    by_other = bob.write("sheet.edit", {"key": "users", "text": "Moi", "base_version": 0})
    by_console = table_console.write(
        "sheet.edit", {"key": "users", "text": "Les aînés", "base_version": 0}
    )

    assert before["error"] == "not_reporter" and by_other["error"] == "not_reporter"
    assert by_reporter["ok"] and by_console["ok"]
    fields = {f["key"]: f for f in latest(bob, "sheet_field").values()}
    assert (fields["solution"]["text"], fields["solution"]["version"]) == ("Une navette", 1)
    assert fields["solution"]["edited_by"] == "Alice"
    assert fields["users"]["text"] == "Les aînés"
    assert fields["users"]["edited_by"] == "@facilitator"  # translated by each screen


def test_a_stale_sheet_edit_is_refused_with_both_texts(app, table_with_cards):
    alice_id, alice = table_with_cards["alice"]
    table_console = table_with_cards["console"]
    table_console.write("table.reporter", {"participant_id": alice_id})
    table_console.write("sheet.edit", {"key": "value", "text": "Version A", "base_version": 0})

    stale = alice.write("sheet.edit", {"key": "value", "text": "Version B", "base_version": 0})

    assert stale["ok"] is False and stale["error"] == "sheet_conflict" and stale["permanent"]
    assert stale["key"] == "value"
    assert stale["current"]["text"] == "Version A" and stale["current"]["version"] == 1
    kept = alice.write("sheet.edit", {"key": "value", "text": "Version B", "base_version": 1})
    assert kept["ok"] and kept["changes"][0]["version"] == 2


def test_simultaneous_edits_of_one_field_never_overwrite_each_other(app, table_with_cards):
    alice_id, alice = table_with_cards["alice"]
    table_console = table_with_cards["console"]
    table_console.write("table.reporter", {"participant_id": alice_id})
    answers = []

    def edit(screen, text):
        answers.append(
            screen.write("sheet.edit", {"key": "revenue", "text": text, "base_version": 0})
        )

    threads = [
        threading.Thread(target=edit, args=pair)
        for pair in ((alice, "Abonnements"), (table_console, "Subventions"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(a["ok"] for a in answers) == [False, True]
    stored = read(app, lambda s: s.scalar(select(SheetField).where(SheetField.key == "revenue")))
    winner = next(a for a in answers if a["ok"])["changes"][0]["text"]
    assert (stored.text, stored.version) == (winner, 1)


def test_who_is_editing_a_field_is_shown(app, table_with_cards):
    alice_id, alice = table_with_cards["alice"]
    _, bob = table_with_cards["bob"]
    table_with_cards["console"].write("table.reporter", {"participant_id": alice_id})

    alice.write("sheet.focus", {"key": "users"})
    editing = {f["key"]: f["editing_by"] for f in latest(bob, "sheet_field").values()}
    alice.write("sheet.focus", {"key": None})
    done = {f["key"]: f["editing_by"] for f in latest(bob, "sheet_field").values()}

    assert editing["users"] == "Alice" and done["users"] == ""
    at = {f["key"]: f["editing_at"] for f in latest(bob, "sheet_field").values()}
    assert at["users"] is None
    assert (
        alice.write("sheet.edit", {"key": "nope", "text": "x", "base_version": 0})["error"]
        == "bad_request"
    )


# --- commitments -------------------------------------------------------------------------


def test_commitments_are_shown_openly_without_contacts(app, table_with_cards):
    alice_id, alice = table_with_cards["alice"]
    _, bob = table_with_cards["bob"]
    table_console = table_with_cards["console"]

    answer = alice.write(
        "commit.save",
        {
            "role": "carry",
            "contribution": "Mon camion",
            "expects": "Un salaire à terme",
            "hours_per_month": 20,
            "consent": True,
            "contact": "alice@example.org",
        },
    )

    assert answer["ok"] and answer["changes"][0]["consent"] is True
    [seen] = latest(bob, "commitment").values()
    assert (
        seen["participant_id"],
        seen["role"],
        seen["contribution"],
        seen["expects"],
        seen["hours_per_month"],
    ) == (alice_id, "carry", "Mon camion", "Un salaire à terme", 20)
    assert "consent" not in seen and "contact" not in str(seen)
    assert list(latest(table_console, "commitment").values())[0]["consent"] is True
    stored = read(app, lambda s: s.get(Participant, alice_id))
    assert (stored.contact, stored.contact_consent) == ("alice@example.org", True)


def test_a_contact_is_kept_only_with_consent_and_goes_with_it(app, table_with_cards):
    alice_id, alice = table_with_cards["alice"]

    no_contact = alice.write("commit.save", {"role": "contribute", "consent": True})
    alice.write("commit.save", {"role": "contribute", "consent": True, "contact": "06 00 00 00 00"})
    # Consent kept, no contact sent again (a reloaded phone): the contact stays.
    again = alice.write("commit.save", {"role": "carry", "consent": True})
    kept = read(app, lambda s: s.get(Participant, alice_id)).contact
    alice.write("commit.save", {"role": "follow", "consent": False, "contact": "06 00 00 00 00"})

    assert no_contact["error"] == "contact_needed"
    assert again["ok"] and kept == "06 00 00 00 00"
    stored = read(app, lambda s: s.get(Participant, alice_id))
    assert (stored.contact, stored.contact_consent) == ("", False)
    alice.write("commit.withdraw")
    [seen] = latest(alice, "commitment").values()
    assert seen["withdrawn"] is True and "role" not in seen


def test_commitments_are_checked_and_made_at_ones_own_table(app, evening, table_with_cards):
    _, alice = table_with_cards["alice"]
    bob_id, _ = table_with_cards["bob"]
    carol_id, _ = phone(app, evening.tables[1], "Carol")
    table_console = table_with_cards["console"]

    for bad in (
        {"role": "boss"},
        {"role": "carry", "hours_per_month": 999},
        {"role": "carry", "hours_per_month": "10"},
        {"role": "carry", "consent": "yes"},
    ):
        assert alice.write("commit.save", bad)["ok"] is False, bad
    crafted = alice.write("commit.save", {"role": "carry", "participant_id": bob_id})
    assert crafted["changes"][0]["participant_id"] != bob_id
    for_bob = table_console.write("commit.save", {"role": "follow", "participant_id": bob_id})
    for_carol = table_console.write("commit.save", {"role": "follow", "participant_id": carol_id})
    assert for_bob["ok"] and for_carol["error"] == "not_found"
