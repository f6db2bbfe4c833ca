"""The live table's guarantees under concurrent writers, on PostgreSQL (the
scale-out database) and on SQLite (the laptop at a venue): sequence numbers
unique and gapless, a resend racing its original stored once."""

import threading

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from workshop import create_app
from workshop.client import envelope, new_client_id
from workshop.extensions import db
from workshop.models import Event, Idea, Organizer, Participant, Table, Theme, Vote
from workshop.services import ServiceError, writes

from .helpers import join, make_event, make_organizer


@pytest.fixture(params=["sqlite", "postgresql"])
def concurrent_app(request, tmp_path, migrated_database):
    """An app on a freshly migrated database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'concurrency.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SOCKETIO_ASYNC_MODE": "threading",
            "RATE_LIMIT_POSTS": 10000,
        }
    )
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def post(participant, client_id, text):
    return writes.perform(
        writes.as_participant(participant), envelope("idea.post", {"text": text}, client_id)
    )


def _in_threads(app, count, work):
    errors = []

    def run(n):
        try:
            with app.app_context():
                work(n)
        except Exception as error:  # reported below, with the thread's number
            errors.append((n, error))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []


def test_concurrent_posts_get_unique_gapless_sequence_numbers(concurrent_app):
    table = make_event(make_organizer()).tables[0]
    table_id = table.id
    ids = [join(table, f"P{n}")[0].id for n in range(8)]

    def post_five(n):
        participant = db.session.get(Participant, ids[n])
        for k in range(5):
            post(participant, new_client_id(), f"{n}-{k}")

    start = db.session.get(Table, table_id).last_seq
    db.session.commit()

    _in_threads(concurrent_app, 8, post_five)

    db.session.expire_all()
    seqs = sorted(db.session.scalars(sa.select(Idea.seq).where(Idea.table_id == table_id)))
    assert seqs == list(range(start + 1, start + 41))
    assert db.session.get(Table, table_id).last_seq == start + 40


def test_a_resend_racing_its_original_is_stored_once(concurrent_app):
    table = make_event(make_organizer()).tables[0]
    participant_id = join(table)[0].id
    client_id = new_client_id()

    def send(_n):
        participant = db.session.get(Participant, participant_id)
        post(participant, client_id, "La même idée")

    _in_threads(concurrent_app, 6, send)

    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Idea.id))) == 1


def test_a_vote_budget_holds_against_concurrent_writers(concurrent_app):
    """Six writers spend one participant's 3 votes at once: exactly 3 count."""
    table = make_event(make_organizer()).tables[0]
    voter_id = join(table, "Votante")[0].id
    author = join(table, "Autrice")[0]
    cards = [post(author, new_client_id(), f"Carte {n}")["changes"][0]["id"] for n in range(3)]
    vote = next(s for s in table.steps if s.kind.value == "vote")
    console = writes.as_facilitator(table)
    for op, data in (("step.go", {"step_id": vote.id}), ("vote.open", {})):
        writes.perform(console, envelope(op, data))
    db.session.remove()

    def cast(n):
        voter = db.session.get(Participant, voter_id)
        try:
            writes.perform(
                writes.as_participant(voter), envelope("vote.cast", {"idea_id": cards[n % 3]})
            )
        except ServiceError as error:
            assert error.code == "no_votes_left"

    _in_threads(concurrent_app, 6, cast)

    active = sa.select(sa.func.count(Vote.id)).where(Vote.participant_id == voter_id, Vote.active)
    assert db.session.scalar(active) == 3


def test_concurrent_writes_to_the_evening_get_unique_gapless_numbers(concurrent_app):
    """The evening's own stream holds like a table's: four team members and
    the app writing themes at once, every number once, none skipped."""
    organizer = make_organizer()
    event = make_event(organizer)
    event_id, organizer_id, start = event.id, organizer.id, event.last_seq
    db.session.commit()

    def write_five(n):
        event = db.session.get(Event, event_id)
        if n == 4:
            actor = writes.as_system(event)
            op = "theme.suggest"
        else:
            actor = writes.as_organizer_of(db.session.get(Organizer, organizer_id), event)
            op = "theme.create"
        for k in range(5):
            writes.perform(actor, envelope(op, {"label": f"Thème {n}-{k}"}))

    _in_threads(concurrent_app, 5, write_five)

    db.session.expire_all()
    seqs = sorted(db.session.scalars(sa.select(Theme.seq).where(Theme.event_id == event_id)))
    assert seqs == list(range(start + 1, start + 26))
    assert db.session.get(Event, event_id).last_seq == start + 25
