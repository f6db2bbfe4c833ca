# ruff: noqa: F811 (closed_evening, a fixture of test_privacy, is imported here)
"""Retention, archives, then purge (issue 19 item 4): a public body destroys
no record without its archives' approval. An evening is archived first (one
package: the exports, the report, a manifest with each file's SHA-256), then
purged under the archives' decision; afterwards no purged name is left in
any table, export or byte of the database's files. Without the package, or
without the decision, the purge is refused and nothing changes."""

import hashlib
import io
import json
import sqlite3
import zipfile
from datetime import date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from workshop.extensions import db
from workshop.models import Event, EventStatus, JournalEntry, Participant, Territory
from workshop.services import ServiceError, archives, events, privacy, territories

from .helpers import make_event, make_organizer, signed_in
from .test_backlog import run_table
from .test_privacy import (  # noqa: F401
    DECISION,
    PERSONAL,
    assert_no_personal_datum,
    assert_nowhere_in_files,
    closed_evening,
    readable,
)

APPROVED = {"approval": "archives", "reference": "AD-35 2026/114", "date": "2026-11-30"}


def names(app) -> list[str]:
    with app.app_context():
        found = list(db.session.scalars(select(Participant.display_name)))
        db.session.remove()
    return found


def every_text_in_the_database(path) -> dict[str, str]:
    """Each table's text: every value of every column, of every row."""
    connection = sqlite3.connect(path)
    try:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        found = {}
        for table in tables:
            values = connection.execute(f'SELECT * FROM "{table}"').fetchall()
            found[table] = "\n".join(
                value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                for row in values
                for value in row
            )
        return found
    finally:
        connection.close()


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def package_files(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        return {name: package.read(name) for name in package.namelist()}


def test_an_evening_archived_then_purged_leaves_no_purged_name_anywhere(
    app, closed_evening, database_path
):
    event_id = closed_evening["event_id"]
    http = signed_in(app)

    # Without the package: refused, nothing changed.
    refused = http.post(f"/organizer/events/{event_id}/purge", data=DECISION)
    assert "Téléchargez le paquet d’archives" in refused.get_data(as_text=True)
    assert "Inès Moreau" in names(app)

    # The package: the exports as they are, and a manifest that vouches for them.
    answer = http.get(f"/backlog/events/{event_id}/archive")
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    assert answer.headers["Cache-Control"] == "no-store"
    assert f"archive-soiree-{event_id}.zip" in answer.headers["Content-Disposition"]
    files = package_files(answer.data)
    assert "csv/participants.csv" in files and "csv/ideas.csv" in files
    for name in ("export.json", "export-schema.json", "report.pdf", "export.xlsx"):
        assert name in files
    assert "Inès Moreau" in pdf_text(files["report.pdf"])  # she agreed to be named
    assert json.loads(files["export.json"])["event"]["id"] == event_id
    manifest = json.loads(files["manifest.json"])
    assert manifest["app"]["version"] == archives.app_version() != "unknown"
    assert manifest["evening"]["id"] == event_id
    assert manifest["created_by"]["name"]
    assert datetime.fromisoformat(manifest["created_at"])
    listed = {item["name"]: item for item in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for name, content in files.items():
        if name != "manifest.json":
            assert listed[name]["sha256"] == hashlib.sha256(content).hexdigest(), name
            assert listed[name]["size"] == len(content)
    assert archives.verify(answer.data) == []
    with app.app_context():
        [made] = db.session.scalars(
            select(JournalEntry).where(JournalEntry.action == "event.archived")
        ).all()
        assert made.data["sha256"] == hashlib.sha256(answer.data).hexdigest()
        db.session.remove()

    # Without the archives' decision: refused, nothing changed.
    refused = http.post(f"/organizer/events/{event_id}/purge", data={"approval": "archives"})
    page = refused.get_data(as_text=True)
    assert "Donnez la référence et la date" in page
    assert 'value="archives" checked' in page  # what was typed stays
    assert "Inès Moreau" in names(app)

    done = http.post(f"/organizer/events/{event_id}/purge", data=APPROVED, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "sont désormais anonymes" in page
    assert "AD-35 2026/114" in page and "par Orga" in page  # the decision, who purged
    assert "Inès Moreau" not in names(app)

    # Nothing readable left: no table, no export, no byte of the database's files.
    for table, text in every_text_in_the_database(database_path).items():
        assert_no_personal_datum(f"table {table}", text)
    for fmt in ("csv", "csv-excel", "xlsx", "json", "html"):
        answer = http.get(f"/backlog/events/{event_id}/export/{fmt}")
        assert_no_personal_datum(fmt, readable(answer.data))
    after = package_files(http.get(f"/backlog/events/{event_id}/archive").data)
    for name, content in after.items():
        if name.endswith((".json", ".csv")):
            assert_no_personal_datum(name, content.decode("utf-8-sig"))
    assert_no_personal_datum("xlsx", readable(after["export.xlsx"]))
    assert_no_personal_datum("report.pdf", pdf_text(after["report.pdf"]))
    assert_no_personal_datum(
        "pdf", pdf_text(http.get(f"/backlog/events/{event_id}/export/pdf").data)
    )
    connection = sqlite3.connect(database_path)
    assert connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    connection.close()
    assert_nowhere_in_files(database_path, PERSONAL)
    assert_nowhere_in_files(database_path, [datum.lower() for datum in PERSONAL])


def test_the_purge_is_refused_without_a_package_made_since_the_evening_changed(app, closed_evening):
    with app.app_context():
        event = db.session.get(Event, closed_evening["event_id"])
        organizer = event.territory.organizers[0]
        with pytest.raises(ServiceError) as refused:
            privacy.purge_event(organizer, event, DECISION)
        assert refused.value.code == "not_archived"
        archives.build(event, organizer)
        db.session.commit()
        # Reopened and closed again: that package may no longer be the evening's.
        events.update_event(organizer, event, status=EventStatus.live)
        events.update_event(organizer, event, status=EventStatus.closed)
        with pytest.raises(ServiceError) as refused:
            privacy.purge_event(organizer, event, DECISION)
        assert refused.value.code == "not_archived"
        assert privacy.purges(event) == []
        assert "Inès Moreau" in db.session.scalars(select(Participant.display_name)).all()
        db.session.remove()


@pytest.mark.parametrize(
    "decision",
    [
        {},
        {"approval": "maybe"},
        {"approval": "archives", "reference": "AD-35"},
        {"approval": "archives", "date": "2026-01-02"},
        {"approval": "archives", "reference": "AD-35", "date": "le 2 janvier"},
        {"approval": "archives", "reference": "AD-35", "date": "2999-01-02"},
        {"approval": "not_needed"},
        {"approval": "not_needed", "decided_by": "   "},
        {"approval": "not_needed", "decided_by": "x" * 201},
    ],
)
def test_the_purge_is_refused_without_the_archives_decision(app, closed_evening, decision):
    with app.app_context():
        event = db.session.get(Event, closed_evening["event_id"])
        organizer = event.territory.organizers[0]
        archives.build(event, organizer)
        db.session.commit()
        with pytest.raises(ServiceError) as refused:
            privacy.purge_event(organizer, event, decision)
        assert refused.value.code == "no_decision"
        db.session.rollback()
        assert privacy.purges(event) == []
        assert "Inès Moreau" in db.session.scalars(select(Participant.display_name)).all()
        db.session.remove()


def test_the_decision_who_purged_and_the_backups_before_stay_on_the_evening_page(
    app, closed_evening, tmp_path
):
    event_id = closed_evening["event_id"]
    runner = app.test_cli_runner()
    before = tmp_path / "avant.sqlite"
    assert runner.invoke(args=["backup", str(before)]).exit_code == 0
    target = tmp_path / "archive.zip"
    result = runner.invoke(args=["archive", str(event_id), str(target), "--by", "Archiviste"])
    assert result.exit_code == 0, result.output
    assert archives.verify(target.read_bytes()) == []
    manifest = json.loads(package_files(target.read_bytes())["manifest.json"])
    assert manifest["created_by"]["name"] == "Archiviste"
    assert hashlib.sha256(target.read_bytes()).hexdigest() in result.output
    with app.app_context():  # the package made from the command line counts
        event = db.session.get(Event, event_id)
        privacy.purge_event(event.territory.organizers[0], event, DECISION)
        db.session.remove()
    after = tmp_path / "apres.sqlite"
    assert runner.invoke(args=["backup", str(after)]).exit_code == 0

    page = signed_in(app).get(f"/organizer/events/{event_id}").get_data(as_text=True)
    assert "Le directeur général des services" in page  # who decided no approval is needed
    assert str(before.resolve()) in page
    assert str(after.resolve()) not in page  # made after the purge: nothing to destroy
    assert f'action="/organizer/events/{event_id}/purge"' not in page
    missing = runner.invoke(args=["archive", "999", str(target)])
    assert missing.exit_code == 1 and "999" in missing.output


def test_only_the_evenings_organizers_get_its_archive_package(app, closed_evening):
    event_id = closed_evening["event_id"]
    with app.app_context():
        make_organizer("autre@example.org", "Autre pays")
        db.session.remove()
    assert app.test_client().get(f"/backlog/events/{event_id}/archive").status_code == 302
    intruder = signed_in(app, "autre@example.org")
    assert intruder.get(f"/backlog/events/{event_id}/archive").status_code == 404
    assert intruder.post(f"/organizer/events/{event_id}/purge", data=DECISION).status_code == 404
    with app.app_context():
        made = select(JournalEntry).where(JournalEntry.action == "event.archived")
        assert db.session.scalars(made).all() == []
        db.session.remove()
    assert "Inès Moreau" in names(app)


# --- the retention schedule -------------------------------------------------------------


def test_what_is_due_follows_every_kind_of_the_territorys_schedule(app, ctx):
    organizer = make_organizer()
    event = make_event(organizer, tables=1)
    event.date = date(2026, 1, 31)
    territory = event.territory
    territories.save_retention(
        organizer, territory, {"names": "1", "contacts": "3", "ideas": "6", "commitments": "12",
                               "teams": "2"}
    )  # fmt: skip
    due = {item.kind: item for item in territories.due_since(event, date(2026, 2, 27))}
    assert due["names"].until == date(2026, 2, 28)  # the month's last day
    assert not any(item.due for item in due.values())
    assert territories.purge_due(event, date(2026, 2, 27)) is None
    due = {item.kind: item for item in territories.due_since(event, date(2026, 3, 1))}
    assert [kind for kind, item in due.items() if item.due] == ["names"]
    assert territories.purge_due(event, date(2026, 3, 1)) == date(2026, 2, 28)
    # The teams count from the project's last activity.
    run_table(event.tables[0], cards={"Inès": ["Une navette"]}, ballots={},
              sheet={"solution": "Une navette"}, commitments={})  # fmt: skip
    events.update_event(organizer, event, status=EventStatus.closed)
    [project] = event_projects(event)
    project.updated_at = datetime(2026, 6, 10)
    due = {item.kind: item for item in territories.due_since(event, date(2026, 8, 1))}
    assert due["teams"].start == date(2026, 6, 10) and due["teams"].until == date(2026, 8, 10)
    assert not due["teams"].due and due["ideas"].due and not due["commitments"].due
    # Each kind's period is its own: only contacts past due.
    territories.save_retention(
        organizer, territory, {"names": "24", "contacts": "1", "ideas": "24",
                               "commitments": "24", "teams": "24"}
    )  # fmt: skip
    due = territories.due_since(event, date(2026, 3, 1))
    assert [item.kind for item in due if item.due] == ["contacts"]


def event_projects(event):
    from workshop.models import Project

    return list(db.session.scalars(select(Project).where(Project.event_id == event.id)))


@pytest.mark.parametrize("months", ["0", "1201", "", "douze", "-3", "1.5"])
def test_a_retention_period_out_of_bounds_is_refused_whole(app, ctx, months):
    organizer = make_organizer()
    territory = organizer.territories[0]
    fields = {kind: "6" for kind in territories.RETENTION_KINDS}
    with pytest.raises(ServiceError):
        territories.save_retention(organizer, territory, {**fields, "teams": months})
    assert territories.retention(territory) == territories.DEFAULT_RETENTION


def test_the_schedule_is_set_on_the_settings_page_and_due_evenings_are_shown(app):
    with app.app_context():
        organizer = make_organizer()
        event = make_event(organizer, tables=1)
        event.date = date(2020, 1, 15)
        events.update_event(organizer, event, status=EventStatus.closed)
        territory_id, event_id = event.territory_id, event.id
        make_organizer("autre@example.org", "Autre pays")
        db.session.remove()
    http = signed_in(app)
    page = http.get(f"/organizer/territories/{territory_id}/settings").get_data(as_text=True)
    assert 'name="teams"' in page and 'value="36"' in page
    fields = {kind: "1200" for kind in territories.RETENTION_KINDS}
    intruder = signed_in(app, "autre@example.org")
    assert intruder.post(f"/organizer/territories/{territory_id}/retention",
                         data={**fields, "names": "1"}).status_code == 404  # fmt: skip
    refused = http.post(f"/organizer/territories/{territory_id}/retention",
                        data={**fields, "teams": "1201"}).get_data(as_text=True)  # fmt: skip
    assert "de 1 à 1200" in refused and 'value="1201"' in refused  # what was typed stays
    http.post(f"/organizer/territories/{territory_id}/retention", data=fields)
    with app.app_context():
        territory = db.session.get(Territory, territory_id)
        assert territories.retention(territory) == dict.fromkeys(territories.RETENTION_KINDS, 1200)
        db.session.remove()
    assert "data-due" not in http.get(f"/organizer/events/{event_id}").get_data(as_text=True)
    assert "Archiver et purger" not in http.get("/organizer/").get_data(as_text=True)

    http.post(f"/organizer/territories/{territory_id}/retention", data={**fields, "ideas": "12"})
    page = http.get(f"/organizer/events/{event_id}").get_data(as_text=True)
    assert 'data-kind="ideas" data-due' in page and 'data-kind="names" data-due' not in page
    dashboard = http.get("/organizer/").get_data(as_text=True)
    assert "Archiver et purger\u00a0: à faire depuis le 15 janv. 2021" in dashboard
