"""The live table's guarantees under concurrent writers, on PostgreSQL (the
scale-out database) and on SQLite (the laptop at a venue): sequence numbers
unique and gapless, a resend racing its original stored once."""

import os
import subprocess
import threading
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from workshop import create_app
from workshop.extensions import db
from workshop.models import Idea, Participant, Table
from workshop.services import live

from .helpers import join, make_event, make_organizer

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres_engine():
    """An engine on the PostgreSQL server; started if it is down (the local
    service on this kind of machine); under CI a missing server is a failure."""
    engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    for attempt in range(2):
        try:
            with engine.connect():
                return engine
        except Exception as error:
            if attempt == 0:
                subprocess.run(
                    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
                    shell=True,
                    capture_output=True,
                    check=False,
                )
                continue
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL is required under CI: {error}")
            pytest.skip(f"no PostgreSQL server reachable: {error}")
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def concurrent_app(request, tmp_path, migrated_database):
    """An app on a freshly migrated database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'concurrency.db'}"
        admin, name = None, None
    else:
        admin = _postgres_engine()
        name = f"workshop_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
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
    if admin is not None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


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
            live.post_idea(participant, str(uuid.uuid4()), "idea", f"{n}-{k}")

    _in_threads(concurrent_app, 8, post_five)

    db.session.expire_all()
    seqs = sorted(db.session.scalars(sa.select(Idea.seq).where(Idea.table_id == table_id)))
    assert seqs == list(range(1, 41))
    assert db.session.get(Table, table_id).last_seq == 40


def test_a_resend_racing_its_original_is_stored_once(concurrent_app):
    table = make_event(make_organizer()).tables[0]
    participant_id = join(table)[0].id
    client_id = str(uuid.uuid4())

    def send(_n):
        participant = db.session.get(Participant, participant_id)
        live.post_idea(participant, client_id, "idea", "La même idée")

    _in_threads(concurrent_app, 6, send)

    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Idea.id))) == 1
