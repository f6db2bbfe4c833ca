"""Services on the real database: accounts, events and tables, the live wall,
the journal and the demo seed.

The tests hold an app context (``ctx``), as a request does, and check what a
service stored through a context of its own (``committed``): what this
test's session shows would include what a service only flushed."""

import hashlib

import pytest
from sqlalchemy import func, select

from workshop import create_app
from workshop.cli import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from workshop.client import envelope, new_client_id
from workshop.extensions import db
from workshop.models import (
    Event,
    EventStatus,
    Idea,
    JournalEntry,
    Organizer,
    Participant,
    Table,
    Territory,
)
from workshop.services import ServiceError, accounts, changes, codes, events, live, writes

from .helpers import PASSWORD, committed, join, make_event, make_organizer, uncommitted


def count(model) -> int:
    """Rows of ``model`` committed."""
    return committed(lambda s: s.scalar(select(func.count()).select_from(model)))


def write(actor, op, client_id=None, **data) -> dict:
    """One write through the one write path, as a socket handler makes it."""
    return writes.perform(actor, envelope(op, data, client_id))


def post(participant, text="Une idée", client_id=None, kind="idea") -> Idea:
    answer = write(writes.as_participant(participant), "idea.post", client_id, kind=kind, text=text)
    return db.session.get(Idea, answer["changes"][0]["id"])


def hide(table, idea_id, hidden=True) -> dict:
    return write(writes.as_facilitator(table), "idea.hide", id=idea_id, hidden=hidden)


def last_seq(table) -> int:
    return committed(lambda s: s.scalar(select(Table.last_seq).where(Table.id == table.id)))


def refused(code: str):
    """``pytest.raises`` for a ServiceError with this code."""
    return pytest.raises(ServiceError, match=f"^{code}$")


def test_writes_a_service_left_uncommitted_are_found(ctx):
    """What ``ctx`` checks at the end of every test of services."""
    make_organizer()
    assert uncommitted(db.session) == []

    db.session.add(Territory(name="Pas encore"))
    assert len(uncommitted(db.session)) == 1  # not even flushed
    db.session.flush()
    assert uncommitted(db.session) == ["flushed writes, never committed"]
    assert count(Territory) == 1  # another session sees only what is committed
    db.session.rollback()


# --- accounts ----------------------------------------------------------------


def test_first_setup_stores_a_password_hash_only(ctx):
    organizer = accounts.create_first_organizer(
        "Camille", " Camille@Example.org ", "un mot de passe long", "Pays du Lac", 12000
    )

    def stored(session):
        organizer = session.scalars(select(Organizer)).one()
        return organizer.email, [t.name for t in organizer.territories], organizer.password_hash

    email, territories, password_hash = committed(stored)
    assert not committed(lambda s: accounts.needs_setup())
    assert (email, territories) == ("camille@example.org", ["Pays du Lac"])
    assert "un mot de passe long" not in password_hash
    assert accounts.authenticate("camille@example.org", "un mot de passe long") == organizer


def test_second_setup_is_refused(ctx):
    accounts.create_first_organizer("Camille", "c@example.org", PASSWORD, "Pays du Lac", None)

    with refused("already_set_up"):
        accounts.create_first_organizer("Intrus", "i@example.org", PASSWORD, "Autre", None)

    assert (count(Organizer), count(Territory)) == (1, 1)


def test_weak_password_is_refused(ctx):
    with refused("weak_password"):
        accounts.create_first_organizer("Camille", "c@example.org", "court", "Pays", None)

    assert accounts.needs_setup()
    assert count(Organizer) == 0


def test_duplicate_email_is_refused_whatever_its_case(organizer):
    territory = Territory(name="Autre pays")
    db.session.add(territory)
    db.session.commit()

    with refused("email_taken"):
        accounts.create_organizer("Double", " ORGA@Example.org", PASSWORD, territory)

    assert count(Organizer) == 1


def test_authenticate(organizer):
    assert accounts.authenticate("orga@example.org", PASSWORD) == organizer
    assert accounts.authenticate("  ORGA@Example.ORG ", PASSWORD) == organizer
    assert accounts.authenticate("orga@example.org", PASSWORD + "!") is None
    assert accounts.authenticate("orga@example.org", "") is None
    assert accounts.authenticate("nobody@example.org", PASSWORD) is None


def test_passwords_are_hashed_with_scrypt_except_in_the_tests(monkeypatch, database_path, ctx):
    """The tests' fast hash is theirs only: the application's default is scrypt."""
    assert make_organizer("test@example.org").password_hash.startswith("pbkdf2:sha256:1$")
    monkeypatch.delenv("PASSWORD_HASH_METHOD", raising=False)
    production = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database_path}",
            "SOCKETIO_ASYNC_MODE": "threading",
        }
    )
    assert production.config["PASSWORD_HASH_METHOD"] == "scrypt"
    with production.app_context():
        organizer = make_organizer("prod@example.org", "Pays réel")
        assert organizer.password_hash.startswith("scrypt:")
        assert accounts.authenticate("prod@example.org", PASSWORD) == organizer
        db.session.remove()
        db.engine.dispose()


def test_organizers_manage_only_their_territories_events(organizer, event):
    other = make_organizer("other@example.org", "Autre pays")

    assert accounts.can_manage(organizer, event)
    assert not accounts.can_manage(other, event)
    with refused("forbidden"):
        events.create_event(other, organizer.territories[0], "Soirée pirate", None)
    assert count(Event) == 1


# --- events and tables --------------------------------------------------------


def test_codes_use_an_unambiguous_alphabet():
    assert not set("0O1IL") & set(codes.ALPHABET)
    assert set("".join(codes.new_code(6) for _ in range(200))) <= set(codes.ALPHABET)


def test_event_and_tables_get_codes_numbers_and_secrets(organizer):
    event_id = make_event(organizer, tables=4).id

    def stored(session):
        event = session.get(Event, event_id)
        tables = [(t.number, t.join_code, t.facilitator_secret) for t in event.tables]
        return event.join_code, tables

    event_code, tables = committed(stored)
    table_codes = [code for _n, code, _secret in tables]
    secrets = {secret for *_, secret in tables}
    assert len(event_code) == codes.EVENT_CODE_LENGTH
    assert all(len(c) == codes.TABLE_CODE_LENGTH for c in table_codes)
    assert set("".join(table_codes) + event_code) <= set(codes.ALPHABET)
    assert len(set(table_codes)) == 4 and len(secrets) == 4
    assert [number for number, *_ in tables] == [1, 2, 3, 4]


def test_a_code_already_taken_is_drawn_again(monkeypatch, organizer, event):
    """A random code colliding with an existing one is never handed out twice."""
    taken = event.tables[0].join_code
    drawn = iter([taken, taken, "XYZ789"])
    monkeypatch.setattr(events, "new_code", lambda length: next(drawn))

    table = events.add_table(organizer, event, name="T3", brief_title="Q", brief="B")

    assert committed(lambda s: s.get(Table, table.id).join_code) == "XYZ789"


def numbers(event) -> list[int]:
    """The numbers of an evening's tables, as stored."""
    return committed(
        lambda s: list(s.scalars(select(Table.number).where(Table.event_id == event.id)))
    )


def test_new_table_is_numbered_after_the_last(organizer):
    event = make_event(organizer, tables=3)
    events.delete_table(organizer, event.tables[1])

    events.add_table(organizer, event, name="Nouvelle", brief_title="Q", brief="B")

    assert numbers(event) == [1, 3, 4]


def test_update_table_changes_given_fields_only(organizer, table):
    events.update_table(organizer, table, name="  Mobilités  ", brief="Nouveau", capacity=None)

    def stored(session):
        table_now = session.get(Table, table.id)
        return table_now.name, table_now.brief, table_now.brief_title, table_now.capacity

    assert committed(stored) == ("Mobilités", "Nouveau", "Question 1", 10)


def test_deleting_a_table_removes_its_participants_and_ideas(organizer, table, other_table):
    alice, _ = join(table, "Alice")
    post(alice)
    write(writes.as_facilitator(table), "table.reporter", participant_id=alice.id)
    carol, _ = join(other_table, "Carol")
    post(carol)
    table_id = table.id

    events.delete_table(organizer, table)

    assert committed(lambda s: s.get(Table, table_id)) is None
    assert committed(lambda s: list(s.scalars(select(Participant.display_name)))) == ["Carol"]
    assert committed(lambda s: list(s.scalars(select(Idea.table_id)))) == [other_table.id]


def test_rotating_the_facilitator_secret_retires_the_old_one(organizer, table):
    old = table.facilitator_secret

    new = events.rotate_facilitator_secret(organizer, table)

    assert committed(lambda s: s.get(Table, table.id).facilitator_secret) == new != old
    assert events.table_by_facilitator_secret(old) is None
    assert events.table_by_facilitator_secret(new) == table
    assert events.table_by_facilitator_secret("") is None


def test_typed_codes_are_normalized(event, table):
    code = table.join_code
    typed = [code.lower(), f" {code[:3]} {code[3:]} ", f"{code[:3].lower()}-{code[3:]}"]

    assert [events.table_by_code(t) for t in typed] == [table] * 3
    assert events.event_by_code(f" {event.join_code.lower()} ") == event
    assert events.table_by_code("") is None
    assert events.table_by_code(event.join_code) is None


# --- joining -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "category", "error"),
    [
        ("   ", "citizen", "name_required"),
        ("x" * 61, "citizen", "name_too_long"),
        ("Alice", "alien", "bad_category"),
    ],
)
def test_invalid_join_is_refused_and_changes_nothing(table, name, category, error):
    with refused(error):
        live.join_table(table, name, category)

    assert count(Participant) == 0


def test_joining_a_closed_evening_is_refused(organizer, event, table):
    events.update_event(organizer, event, status=EventStatus.closed)
    assert committed(lambda s: s.get(Event, event.id).status) == EventStatus.closed

    with refused("event_closed"):
        live.join_table(table, "Alice", "citizen")

    assert count(Participant) == 0


def test_join_accepts_a_sixty_character_name_and_trims_it(table):
    participant, _ = live.join_table(table, f"  {'x' * 60}  ", "business")

    assert committed(lambda s: s.get(Participant, participant.id).display_name) == "x" * 60


def test_a_token_opens_its_own_table_only(table, other_table):
    alice, token = join(table)

    assert live.participant_for(table, token) == alice
    assert live.participant_for(other_table, token) is None
    assert live.participant_for(table, None) is None
    assert live.participant_for(table, token + "x") is None


def test_only_a_hash_of_the_token_is_stored(table):
    alice, token = join(table)

    row = committed(lambda s: s.execute(select(Participant.__table__)).one())
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in [str(v) for v in row]


# --- posting -------------------------------------------------------------------


def test_each_table_numbers_its_changes_independently(table, other_table):
    alice, _ = join(table, "Alice")
    carol, _ = join(other_table, "Carol")
    start = {table.id: last_seq(table), other_table.id: last_seq(other_table)}

    seqs = [post(p).seq - start[p.table_id] for p in (alice, carol, alice, alice, carol)]

    assert seqs == [1, 1, 2, 3, 2]
    assert (last_seq(table), last_seq(other_table)) == (
        start[table.id] + 3,
        start[other_table.id] + 2,
    )


def test_posting_is_idempotent_on_the_actor_and_client_id(table):
    alice, _ = join(table)
    client_id = new_client_id()

    first = write(writes.as_participant(alice), "idea.post", client_id, text="Covoiturage")
    again = write(writes.as_participant(alice), "idea.post", client_id, text="Covoiturage")

    assert "duplicate" not in first and again["duplicate"] is True
    assert again["changes"] == first["changes"] and again["seq"] == first["seq"]
    assert count(Idea) == 1
    assert last_seq(table) == first["seq"]


@pytest.mark.parametrize("client_id", [None, 42, "short", "x" * 65, "pas valide!", ""])
def test_invalid_client_id_is_refused(table, client_id):
    alice, _ = join(table)

    with refused("bad_request"):
        writes.perform(
            writes.as_participant(alice),
            {"op": "idea.post", "client_id": client_id, "data": {"text": "Une idée"}},
        )

    assert count(Idea) == 0


def test_editing_bumps_the_sequence_unless_nothing_changed(table):
    alice, _ = join(table)
    idea = post(alice, "Premier jet")
    posted = idea.seq
    me = writes.as_participant(alice)

    edited = write(me, "idea.edit", target=idea.client_id, kind="need", text="Version 2")
    same = write(me, "idea.edit", target=idea.client_id, kind="need", text="  Version 2 ")

    [change] = edited["changes"]
    assert (change["text"], change["kind"], change["seq"]) == ("Version 2", "need", posted + 1)
    assert same["changes"] == [] and same["seq"] is None
    assert last_seq(table) == posted + 1


def test_deleting_is_idempotent_and_leaves_a_tombstone(table):
    alice, _ = join(table)
    idea = post(alice)
    posted = idea.seq
    me = writes.as_participant(alice)

    deleted = write(me, "idea.delete", target=idea.client_id)
    again = write(me, "idea.delete", target=idea.client_id)

    assert deleted["changes"][0]["deleted"] and deleted["seq"] == posted + 1
    assert again["changes"] == []
    assert count(Idea) == 1
    with refused("not_found"):
        write(me, "idea.edit", target=idea.client_id, text="Revenue")


def test_a_participant_cannot_delete_someone_elses_idea(table):
    alice, _ = join(table, "Alice")
    bob, _ = join(table, "Bob")
    idea = post(alice)

    with refused("not_found"):
        write(writes.as_participant(bob), "idea.delete", target=idea.client_id)

    assert committed(lambda s: s.get(Idea, idea.id).deleted) is False


def test_hiding_and_showing_an_idea(table, other_table):
    alice, _ = join(table)
    idea = post(alice)
    posted = idea.seq

    hidden = hide(table, idea.id)
    assert hidden["changes"][0]["hidden"] and hidden["seq"] == posted + 1
    assert hide(table, idea.id)["changes"] == []

    shown = hide(table, idea.id, False)

    assert shown["changes"][0]["hidden"] is False and shown["seq"] == posted + 2
    with refused("not_found"):
        hide(other_table, idea.id)
    with refused("not_found"):
        hide(table, str(idea.id))


def test_the_console_writes_under_its_own_key(table):
    alice, _ = join(table)
    client_id = new_client_id()

    hide_one = write(writes.as_facilitator(table), "idea.hide", client_id, id=post(alice).id)
    as_alice = write(writes.as_participant(alice), "idea.post", client_id, text="Pas un doublon")

    assert hide_one["ok"] and "duplicate" not in as_alice
    assert count(Idea) == 2


# --- catching up and counting ----------------------------------------------------


def test_catch_up_returns_changes_in_sequence_order(table, other_table):
    alice, _ = join(table)
    carol, _ = join(other_table, "Carol")
    one, two, three = (post(alice, text) for text in ("Un", "Deux", "Trois"))
    post(carol, "Ailleurs")
    write(writes.as_participant(alice), "idea.edit", target=one.client_id, text="Un bis")
    viewer = changes.Viewer("participant", alice.id)

    everything, seq = changes.since(table.id, 0, viewer)
    missed, _ = changes.since(table.id, three.seq, viewer)
    nothing, _ = changes.since(table.id, seq, viewer)
    bogus, _ = changes.since(table.id, str(three.seq), viewer)

    assert seq == last_seq(table)
    ideas = [c for c in everything if c["type"] == "idea"]
    assert [i["text"] for i in ideas] == ["Deux", "Trois", "Un bis"]
    assert [i["id"] for i in missed] == [one.id]
    assert nothing == []
    assert bogus == everything


def test_recent_ideas_keep_the_latest_visible_per_table(event, table, other_table):
    alice, _ = join(table)
    carol, _ = join(other_table, "Carol")
    for text in ("A1", "A2", "A3"):
        post(alice, text)
    post(carol, "C1")
    hide(table, post(alice, "Caché").id)
    write(writes.as_participant(carol), "idea.delete", target=post(carol, "Effacé").client_id)

    recent = live.recent_ideas(event, per_table=2)

    assert [i.text for i in recent] == ["C1", "A3", "A2"]


def test_counts_ignore_hidden_and_deleted_ideas(event, table, other_table):
    alice, _ = join(table, "Alice")
    join(table, "Bob")
    carol, _ = join(other_table, "Carol")
    post(alice)
    hide(table, post(alice).id)
    write(writes.as_participant(alice), "idea.delete", target=post(alice).client_id)
    post(carol)

    assert events.table_counts(event) == {
        table.id: {"participants": 2, "ideas": 1},
        other_table.id: {"participants": 1, "ideas": 1},
    }
    assert events.event_totals(event) == {"tables": 2, "participants": 3, "ideas": 2}


# --- journal -------------------------------------------------------------------------


def journal() -> list[tuple[str, str]]:
    """(actor, action) of every entry committed to the journal."""
    return committed(lambda s: list(s.execute(select(JournalEntry.actor, JournalEntry.action))))


def test_the_journal_records_organizer_actions(organizer, event, table):
    me = f"organizer:{organizer.id}"
    secret = events.rotate_facilitator_secret(organizer, table)
    events.update_table(organizer, table, name="Renommée")
    events.delete_table(organizer, table)

    entries = journal()

    for action in (
        "event.created",
        "table.created",
        "event.updated",
        "table.facilitator_link_rotated",
        "table.updated",
        "table.deleted",
    ):
        assert (me, action) in entries, action
    everything = committed(
        lambda s: [f"{e.subject}{e.data}" for e in s.scalars(select(JournalEntry))]
    )
    assert all(secret not in entry for entry in everything)


def test_the_journal_records_facilitator_actions(table):
    alice, _ = join(table)
    idea = post(alice)
    before = len(journal())

    hide(table, idea.id, True)
    hide(table, idea.id, False)
    write(writes.as_facilitator(table), "table.reporter", participant_id=alice.id)

    assert journal()[before:] == [
        (f"facilitator:table:{table.id}", "idea.hidden"),
        (f"facilitator:table:{table.id}", "idea.shown"),
        (f"facilitator:table:{table.id}", "table.reporter_set"),
    ]


# --- demo seed -------------------------------------------------------------------------


def test_seed_demo_prepares_a_live_evening(ctx):
    organizer, code = seed_demo()

    def stored(session):
        event = events.event_by_code(code)
        organizer = accounts.authenticate(DEMO_EMAIL, DEMO_PASSWORD)
        briefs = [(t.brief_title, t.brief) for t in event.tables]
        return organizer.id, accounts.can_manage(organizer, event), event.status, briefs

    organizer_id, manages, status, briefs = committed(stored)
    assert organizer_id == organizer.id and manages
    assert status == EventStatus.live
    assert len(briefs) >= 4
    assert all(title and "Contexte" in brief for title, brief in briefs)


def test_seed_demo_twice_adds_nothing(ctx):
    models = (Organizer, Territory, Event, Table, JournalEntry)
    _, code = seed_demo()
    before = [count(m) for m in models]

    _, again = seed_demo()

    assert again == code
    assert [count(m) for m in models] == before


def test_sign_in_is_refused_after_ten_failures_from_one_address(organizer):
    for _ in range(accounts.MAX_FAILED_LOGINS):
        assert accounts.authenticate(organizer.email, "wrong password", "10.0.0.66") is None

    with pytest.raises(ServiceError) as refused:
        accounts.authenticate(organizer.email.upper(), PASSWORD, "10.0.0.66")

    assert refused.value.code == "too_many_attempts"
    # The organizer, from their own laptop, is not locked out by someone else.
    assert accounts.authenticate(organizer.email, PASSWORD, "10.0.0.2") == organizer


def test_a_table_refuses_joins_far_beyond_its_seats(organizer, event, table):
    events.update_table(organizer, table, capacity=2)
    for n in range(2 * live.OVERFLOW_FACTOR):
        join(table, f"P{n}")

    with pytest.raises(ServiceError) as refused:
        join(table, "Encore un")

    assert refused.value.code == "table_full"
    assert count(Participant) == 2 * live.OVERFLOW_FACTOR


def test_recent_ideas_keep_the_quiet_tables(app, event, table, other_table):
    app.config["RATE_LIMIT_POSTS"] = 1000
    carol, _ = join(other_table, "Carol")
    post(carol, "Seule idée de la table 2")
    alice, _ = join(table)
    for n in range(100):
        post(alice, f"Idée {n}")

    recent = live.recent_ideas(event, per_table=3)

    assert [i.text for i in recent] == ["Idée 99", "Idée 98", "Idée 97", "Seule idée de la table 2"]
