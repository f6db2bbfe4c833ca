"""Purging an evening's personal data: afterwards no name, contact or text
about a person of that evening is left anywhere — tables, journal, exports,
pages, the database's files themselves — and the anonymous figures are
unchanged. A participant's own withdrawals leave no trace either."""

import io
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest
import requests
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from workshop import create_app
from workshop.extensions import db
from workshop.models import (
    Event,
    EventStatus,
    Idea,
    JournalEntry,
    Participant,
    ProjectIdea,
    ProjectStage,
    SheetField,
    Vote,
)
from workshop.services import (
    ServiceError,
    archives,
    backlog,
    events,
    live,
    outcomes,
    privacy,
    reviews,
    writes,
)

from .helpers import (
    PASSWORD,
    Phone,
    join_over_http,
    make_event,
    make_organizer,
    read,
    signed_in,
)
from .test_backlog import run_table, write

# The archives' decision a purge is made under (issue 19): here, none needed.
DECISION = {"approval": "not_needed", "decided_by": "Le directeur général des services"}


def archive_and_purge(organizer, event) -> privacy.Purge:
    """Purge ``event`` as a public body may: its archive package made first."""
    archives.build(event, organizer)
    db.session.commit()
    return privacy.purge_event(organizer, event, DECISION)


# Inès is "Participant 1" once purged, Noé "Participant 2" (the order they joined).
NAMES = {"Inès Moreau": "Participant 1", "Noé Lambert": "Participant 2"}
PERSONAL = ("Inès Moreau", "Noé Lambert", "ines.moreau@example.org", "Mon tracteur rouge",
            "Un salaire décent", "06 12 34 56 78", "Yves Martin", "yves.martin@example.org",
            "Ma carte retirée")  # fmt: skip


@pytest.fixture
def closed_evening(app, database_path):
    """A closed evening full of personal data, copied wherever people type
    (cards, sheet, groups, console, the project's actions, notes, summary,
    owner, history and reviews), and its anonymous figures."""
    with app.app_context():
        organizer = make_organizer()
        event = make_event(organizer, title="Soirée à purger", tables=2)
        table = event.tables[0]
        people, ideas = run_table(
            table,
            cards={"Inès Moreau": ["Une coopérative de tracteurs"],
                   "Noé Lambert": ["Un marché", "Le hangar de Noé Lambert"]},
            ballots={"Noé Lambert": ["Une coopérative de tracteurs"]},
            sheet={"solution": "Mutualiser le matériel agricole",
                   "carriers": "Inès Moreau, avec la mairie"},
            commitments={"Noé Lambert": ("contribute", "Mon tracteur rouge")},
        )  # fmt: skip
        ines = people["Inès Moreau"]
        facilitator = writes.as_facilitator(table)
        write(facilitator, "table.reporter", participant_id=ines.id)
        write(writes.as_participant(ines), "sheet.edit", key="users", text="Les éleveurs",
              base_version=0)  # fmt: skip
        write(writes.as_participant(ines), "commit.save", role="carry", consent=True,
              contact="ines.moreau@example.org", expects="Un salaire décent")  # fmt: skip
        posted = write(writes.as_participant(ines), "idea.post", text="Ma carte retirée")
        write(writes.as_participant(ines), "idea.delete", target=posted["changes"][0]["client_id"])
        write(facilitator, "cluster.create", name="Les idées de Noé Lambert",
              idea_ids=[ideas["Un marché"]])  # fmt: skip
        write(writes.as_organizer(organizer, table), "console.message",
              text="Inès Moreau est attendue à l’accueil")  # fmt: skip
        live.join_table(event.tables[1], "Zoé", "business")
        tokens = [live.join_table(event.tables[1], "Dernier", "citizen")]
        events.update_event(organizer, event, status=EventStatus.closed)  # the backlog is made
        [project] = [p for p in backlog.projects_for(organizer) if p.table_id == table.id]
        backlog.add_member(organizer, project, name="06 12 34 56 78")  # a contact as a name
        backlog.add_member(organizer, project, name="Yves Martin", consent=True,
                           contact="yves.martin@example.org")  # fmt: skip
        backlog.take_over(organizer, project, project.members[0].id)
        backlog.add_action(organizer, project, "Appeler Inès Moreau pour le tracteur",
                           "Noé Lambert", None)  # fmt: skip
        backlog.add_action(organizer, project, "Écrire à ines.moreau@example.org", "Yves Martin",
                           None)  # fmt: skip
        backlog.add_note(organizer, project, "Rencontré noé lambert au marché")  # any case
        outcomes.add_job(organizer, project, {
            "kind": "created", "fte": "1", "contract": "cdi", "employment": "employee",
            "start_date": "2026-01-05", "declared_by": "Noé Lambert",
            "evidence": "Contrat de travail d’Inès Moreau"})  # fmt: skip
        backlog.update(organizer, project, summary="Porté par Inès Moreau et Yves Martin")
        backlog.move(organizer, project, ProjectStage.d3, reason="Noé Lambert a un local")
        reviewer, review_token = reviews.new_reviewer(organizer, project.territory, "Anne")
        reviews.invite(organizer, project, reviewer)
        reviews.give(reviewer, project.id, "conditional", "Si Inès Moreau s’y met")
        figures = anonymous_figures(event)
        event_id, project_id = event.id, project.id
        db.session.remove()
    return {"event_id": event_id, "figures": figures, "tokens": tokens,
            "project_id": project_id, "review_token": review_token}  # fmt: skip


def pseudonymised(texts: list[str]) -> list[str]:
    """``texts`` as the purge leaves them: each name replaced by its pseudonym."""
    for name, pseudonym in NAMES.items():
        texts = [t.replace(name, pseudonym) for t in texts]
    return sorted(texts)


def anonymous_figures(event: Event) -> dict:
    table_ids = [t.id for t in event.tables]
    return {
        "ideas": sorted(
            db.session.scalars(
                select(Idea.text).where(Idea.table_id.in_(table_ids), Idea.deleted.is_(False))
            )
        ),
        "votes": db.session.scalar(select(func.count(Vote.id))),
        "categories": sorted(
            db.session.scalars(
                select(Participant.category).where(Participant.table_id.in_(table_ids))
            )
        ),
        "sheets": sorted(db.session.scalars(select(SheetField.text))),
        "totals": events.event_totals(event),
    }


def database_files(path: Path) -> dict[str, bytes]:
    """Every file of a SQLite database (the database, its -wal and -shm), as bytes."""
    return {
        p.name: p.read_bytes()
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
        if p.exists()
    }


def assert_nowhere_in_files(path: Path, data) -> None:
    for name, content in database_files(path).items():
        for datum in data:
            assert datum.encode() not in content, (name, datum)


def readable(content: bytes) -> str:
    """An export's text, whatever its format (CSV and XLSX are ZIP files)."""
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "\n".join(archive.read(name).decode() for name in archive.namelist())
    return content.decode()


def assert_no_personal_datum(where: str, content: str) -> None:
    # Also in another case: "noé lambert" is Noé Lambert too.
    for datum in PERSONAL:
        assert datum.casefold() not in content.casefold(), (where, datum)


def test_after_the_purge_no_personal_datum_is_left_and_the_figures_are_unchanged(
    app, closed_evening, database_path
):
    event_id, before = closed_evening["event_id"], closed_evening["figures"]
    with app.app_context():
        event = db.session.get(Event, event_id)
        organizer = event.territory.organizers[0]

        done = archive_and_purge(organizer, event)

        assert done.participants == 4
        after = anonymous_figures(event)
        assert after["ideas"] == pseudonymised(before["ideas"])
        assert after["sheets"] == pseudonymised(before["sheets"])
        assert {**after, "ideas": 0, "sheets": 0} == {**before, "ideas": 0, "sheets": 0}
        names = sorted(db.session.scalars(select(Participant.display_name)))
        assert names == [f"Participant {n}" for n in range(1, 5)]
        purged = db.session.scalars(
            select(JournalEntry).where(JournalEntry.action == "event.purged")
        ).one()
        assert purged.data["participants"] == 4
        project = db.session.get(backlog.Project, closed_evening["project_id"])
        assert [(a.what, a.who) for a in project.actions] == [
            ("Appeler Participant 1 pour le tracteur", "Participant 2"),
            ("Écrire à Participant 1", "Membre de l’équipe 4"),
        ]
        assert [n.text for n in project.notes] == ["Rencontré Participant 2 au marché"]
        db.session.remove()

        # Nothing in the database, not even in its files' free space or -wal
        # file (no checkpoint asked here: the purge did what it takes).
        dump = "\n".join(sqlite3.connect(database_path).iterdump())
        assert_no_personal_datum("database", dump)
        assert "Une coopérative de tracteurs" in dump and "Mutualiser le matériel agricole" in dump
        assert_nowhere_in_files(database_path, PERSONAL)

    # Nor in any export, on the project's page or on the reviewer's page.
    http = signed_in(app)
    for fmt in ("csv", "csv-excel", "xlsx", "json", "html"):
        answer = http.get(f"/backlog/events/{event_id}/export/{fmt}")
        assert answer.status_code == 200
        assert_no_personal_datum(fmt, readable(answer.data))
    page = http.get(f"/backlog/projects/{closed_evening['project_id']}")
    assert "Participant 1" in page.get_data(as_text=True)
    assert_no_personal_datum("project page", page.get_data(as_text=True))
    review = app.test_client().get(f"/review/{closed_evening['review_token']}")
    assert_no_personal_datum("review page", review.get_data(as_text=True))


def test_the_phones_of_a_purged_evening_open_nothing(app, closed_evening):
    with app.app_context():
        event = db.session.get(Event, closed_evening["event_id"])
        table = event.tables[1]
        [(participant, token)] = closed_evening["tokens"]
        assert live.participant_for(table, token) is not None
        archive_and_purge(event.territory.organizers[0], event)
        assert live.participant_for(table, token) is None
        db.session.remove()


def test_a_live_evening_cannot_be_purged_and_an_intruder_cannot_purge(app, closed_evening):
    event_id = closed_evening["event_id"]
    with app.app_context():
        event = db.session.get(Event, event_id)
        organizer = event.territory.organizers[0]
        events.update_event(organizer, event, status=EventStatus.live)
        with pytest.raises(ServiceError) as refused:
            privacy.purge_event(organizer, event, DECISION)
        assert refused.value.code == "not_closed"
        events.update_event(organizer, event, status=EventStatus.closed)
        make_organizer("autre@example.org", "Autre pays")
        db.session.remove()

    intruder = signed_in(app, "autre@example.org")
    assert intruder.post(f"/organizer/events/{event_id}/purge", data=DECISION).status_code == 404
    assert "Inès Moreau" in read_names(app)
    http = signed_in(app)
    assert http.get(f"/backlog/events/{event_id}/archive").status_code == 200
    done = http.post(f"/organizer/events/{event_id}/purge", data=DECISION, follow_redirects=True)
    assert "sont désormais anonymes" in done.get_data(as_text=True)
    assert "Inès Moreau" not in read_names(app)


def test_the_purge_empties_the_cards_deleted_before_it(app, closed_evening, database_path):
    """Cards deleted by an earlier version kept their text: the purge empties them."""
    with app.app_context():
        event = db.session.get(Event, closed_evening["event_id"])
        db.session.execute(
            text("UPDATE ideas SET deleted = 1 WHERE text = 'Un marché'")  # as an old version did
        )
        db.session.commit()
        archive_and_purge(event.territory.organizers[0], event)
        deleted = db.session.scalars(select(Idea.text).where(Idea.deleted.is_(True))).all()
        assert deleted == ["", ""]  # this one and "Ma carte retirée"
        db.session.remove()
    assert_nowhere_in_files(database_path, ["Un marché"])


def read_names(app) -> list[str]:
    return read(app, lambda session: list(session.scalars(select(Participant.display_name))))


# --- a participant's own data, from their phone -----------------------------------------


def phone_http(app, code, token):
    http = app.test_client()
    http.set_cookie(f"wt_{code}", token)
    return http


def test_a_participant_sees_downloads_and_deletes_their_data_and_withdraws_consent(
    app, database_path
):
    with app.app_context():
        organizer = make_organizer()
        event = make_event(organizer, tables=1)
        table = event.tables[0]
        ines, token = live.join_table(table, "Inès", "citizen", "Du temps")
        for card in ("Une navette", "Un marché"):
            write(writes.as_participant(ines), "idea.post", text=card)
        write(writes.as_participant(ines), "commit.save", role="carry", consent=True,
              contact="ines@example.org")  # fmt: skip
        noe, _ = live.join_table(table, "Noé", "citizen")
        write(writes.as_participant(noe), "idea.post", text="L’idée de Noé")
        events.update_event(organizer, event, status=EventStatus.closed)  # after the evening
        code, ines_id = table.join_code, ines.id
        seqs = dict(db.session.execute(select(Idea.id, Idea.seq)).all())
        db.session.remove()
    http = phone_http(app, code, token)

    page = http.get(f"/t/{code}/me").get_data(as_text=True)
    assert "Une navette" in page and "ines@example.org" in page and "L’idée de Noé" not in page
    mine = http.get(f"/t/{code}/me.json").get_json()
    assert [i["text"] for i in mine["ideas"]] == ["Une navette", "Un marché"]
    assert (mine["contact"], mine["consent"], mine["brings"]) == ("ines@example.org", True,
                                                                  "Du temps")  # fmt: skip
    assert app.test_client().get(f"/t/{code}/me").status_code == 404  # no cookie, no data

    http.post(f"/t/{code}/me/consent")
    assert_nowhere_in_files(database_path, ["ines@example.org"])
    done = http.post(f"/t/{code}/me/delete", follow_redirects=True).get_data(as_text=True)

    assert "2 cartes supprimées" in done
    # Gone from the database and its files (the project made of the table's
    # first cards included); each card stays a tombstone with a new number,
    # so that every screen removes it.
    assert_nowhere_in_files(database_path, ["Une navette", "Un marché"])

    def state(session):
        person = session.get(Participant, ines_id)
        ideas = session.scalars(select(Idea).order_by(Idea.id)).all()
        members = session.scalars(select(backlog.ProjectMember)).all()
        theirs = [(m.contact, m.consent) for m in members if m.participant_id == ines_id]
        return person.contact, person.contact_consent, [i.text for i in ideas], theirs

    assert read(app, state) == ("", False, ["", "", "L’idée de Noé"], [("", False)])
    tombstones = read(app, lambda s: s.execute(
        select(Idea.id, Idea.seq).where(Idea.deleted.is_(True))).all())  # fmt: skip
    assert len(tombstones) == 2 and all(seq > seqs[idea_id] for idea_id, seq in tombstones)
    copies = read(app, lambda s: s.scalars(select(ProjectIdea.text).order_by(ProjectIdea.id)).all())
    assert copies == ["", "", "L’idée de Noé"]


def test_a_contact_withdrawn_from_the_phone_leaves_the_database_files(app, database_path):
    with app.app_context():
        event = make_event(make_organizer(), tables=1)
        ines, _token = live.join_table(event.tables[0], "Inès", "citizen")
        write(writes.as_participant(ines), "commit.save", role="carry", consent=True,
              contact="ines.first@example.org")  # fmt: skip
        write(
            writes.as_participant(ines),
            "commit.save",
            role="carry",
            consent=True,
            contact="ines.second@example.org",
        )  # a new contact: the first one goes
        assert_nowhere_in_files(database_path, ["ines.first@example.org"])
        write(writes.as_participant(ines), "commit.save", role="follow", consent=False)
        assert_nowhere_in_files(database_path, ["ines.second@example.org"])
        write(writes.as_participant(ines), "commit.save", role="carry", consent=True,
              contact="ines.third@example.org")  # fmt: skip
        write(writes.as_participant(ines), "commit.withdraw")
        assert_nowhere_in_files(database_path, ["ines.third@example.org"])
        db.session.remove()


def test_a_reader_holding_an_old_snapshot_delays_the_erasure_and_fails_nothing(
    app, database_path, caplog
):
    with app.app_context():
        event = make_event(make_organizer(), tables=1)
        ines, _token = live.join_table(event.tables[0], "Inès", "citizen")
        phone = writes.as_participant(ines)
        write(phone, "commit.save", role="carry", consent=True, contact="ines.busy@example.org")
        reader = sqlite3.connect(database_path)  # a backup, say, reading a snapshot
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM participants").fetchone()
        try:
            write(phone, "commit.save", role="follow", consent=False)  # answered all the same
        finally:
            reader.close()
        assert "could not be truncated" in caplog.text
        # The next erasure takes what this one left.
        write(phone, "commit.save", role="carry", consent=True, contact="ines.next@example.org")
        write(phone, "commit.withdraw")
        assert_nowhere_in_files(database_path, ["ines.busy@example.org", "ines.next@example.org"])
        db.session.remove()


# --- on a running server (gevent, grouped flushes, the checkpoint process) --------------


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_on_a_running_server_what_is_withdrawn_or_purged_leaves_the_database_files(
    module_live_server,
):
    server, app = module_live_server
    path = Path(server.env["DATABASE_URL"].removeprefix("sqlite:///"))
    with app.app_context():
        organizer = make_organizer()
        event = make_event(organizer, title="Soirée en direct", tables=1)
        table, event_id = event.tables[0], event.id
        db.session.remove()
    http = join_over_http(server, table, "Zélie Fournier")
    phone = Phone(server, table, http)
    try:
        for card in ("Une carte à effacer", "Une autre carte"):
            assert phone.write("idea.post", {"text": card})["ok"]
        answer = phone.write("commit.save", {"role": "carry", "consent": True,
                                             "contact": "zelie.live@example.org"})  # fmt: skip
        assert answer["ok"]
        assert b"zelie.live@example.org" in b"".join(database_files(path).values())
        answer = phone.write("commit.save", {"role": "follow", "consent": False})
        assert answer["ok"]
        assert_nowhere_in_files(path, ["zelie.live@example.org"])
        answer = phone.write("commit.save", {"role": "carry", "consent": True,
                                             "contact": "zelie@example.org"})  # fmt: skip
        assert answer["ok"]
    finally:
        phone.client.disconnect()
    me = f"{server.url}/t/{table.join_code}/me"
    http.post(f"{me}/consent", data={"csrf_token": csrf_token(http.get(me).text)})
    assert_nowhere_in_files(path, ["zelie@example.org"])
    http.post(f"{me}/delete", data={"csrf_token": csrf_token(http.get(me).text)})
    assert_nowhere_in_files(path, ["Une carte à effacer", "Une autre carte"])

    with app.app_context():
        event = db.session.get(Event, event_id)
        events.update_event(event.territory.organizers[0], event, status=EventStatus.closed)
        db.session.remove()
    organizer_http = requests.Session()
    login = organizer_http.get(f"{server.url}/login").text
    organizer_http.post(
        f"{server.url}/login",
        data={"csrf_token": csrf_token(login), "email": "orga@example.org", "password": PASSWORD},
    )
    page = organizer_http.get(f"{server.url}/organizer/events/{event_id}").text
    organizer_http.get(f"{server.url}/backlog/events/{event_id}/archive").raise_for_status()
    done = organizer_http.post(f"{server.url}/organizer/events/{event_id}/purge",
                               data={"csrf_token": csrf_token(page), **DECISION})  # fmt: skip
    assert "sont désormais anonymes" in done.text
    assert_nowhere_in_files(path, ["Zélie Fournier"])


def test_the_purge_on_postgresql(postgres_url):
    """The scale-out database: the same purge, nothing to erase from files."""
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": postgres_url,
              "SOCKETIO_ASYNC_MODE": "threading", "SOCKETIO_MESSAGE_QUEUE": None}  # fmt: skip
    app = create_app(config)
    with app.app_context():
        upgrade()
        organizer = make_organizer()
        event = make_event(organizer, tables=1)
        run_table(event.tables[0], cards={"Inès Moreau": ["Une navette"]}, ballots={},
                  sheet={"carriers": "Inès Moreau"},
                  commitments={"Inès Moreau": ("carry", "")})  # fmt: skip
        events.update_event(organizer, event, status=EventStatus.closed)
        [project] = backlog.projects_for(organizer)
        backlog.add_action(organizer, project, "Appeler Inès Moreau", "Inès Moreau", None)

        archive_and_purge(organizer, event)

        db.session.expire_all()
        assert [(a.what, a.who) for a in project.actions] == [
            ("Appeler Participant 1", "Participant 1")
        ]
        assert [m.name for m in project.members] == ["Participant 1"]
        carriers = select(SheetField.text).where(SheetField.key == "carriers")
        assert db.session.scalars(carriers).all() == ["Participant 1"]
        db.session.remove()
        db.engine.dispose()
