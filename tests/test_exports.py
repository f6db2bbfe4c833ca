"""Exports of an evening, each format parsed back and checked against the
database: CSV (both separators), XLSX, JSON (against its schema), the HTML
and PDF report; French intact; no personal data without consent."""

import csv
import io
import json
import uuid
import zipfile
from pathlib import Path

import jsonschema
import openpyxl
import pypdf
import pytest
from sqlalchemy import select

from workshop.cli import register  # noqa: F401 (the CLI commands, for the runner)
from workshop.extensions import db
from workshop.models import Event, Idea, Participant
from workshop.services import backlog, exports, live, writes

from .helpers import make_event, make_organizer, read, signed_in
from .test_backlog import run_table

SCHEMA = json.loads((Path(__file__).parent.parent / "docs/export-schema.json").read_text())
TEXT = "Énergie « solaire » pour l’été — 5 € par foyer, œuvre commune"


@pytest.fixture
def evening(app) -> int:
    """An evening with accents everywhere, votes, a sheet, two commitments
    (one with consent to be contacted, one without) and a project."""
    with app.app_context():
        organizer = make_organizer()
        event = make_event(organizer, title="Soirée d’été à Saint-Aubin", tables=2)
        table = event.tables[0]
        people, _ideas = run_table(
            table,
            cards={"Inès": [TEXT, "=1+1"], "Noé": ["Un atelier vélo"]},
            ballots={"Inès": [TEXT], "Noé": [TEXT, "Un atelier vélo"]},
            sheet={"solution": "Des panneaux sur l’école\net la salle des fêtes"},
            commitments={"Noé": ("contribute", "Mon camion")},
        )
        writes.perform(
            writes.as_participant(people["Inès"]),
            {"op": "commit.save", "client_id": str(uuid.uuid4()),
             "data": {"role": "carry", "contribution": "Mon toit", "consent": True,
                      "contact": "ines@example.org"}},
        )  # fmt: skip
        [project] = backlog.promote_event(organizer, event).created
        backlog.add_action(organizer, project, "Appeler l’ADEME", "Inès", None)
        event_id = event.id
        db.session.remove()
    return event_id


def export(app, event_id, fmt) -> bytes:
    response = signed_in(app).get(f"/backlog/events/{event_id}/export/{fmt}")
    assert response.status_code == 200, (fmt, response.status_code)
    return response.data


def stored_ideas(app, event_id) -> dict[int, str]:
    def query(session):
        ideas = session.scalars(select(Idea).join(Idea.table).where(Idea.deleted.is_(False))).all()
        return {i.id: i.text for i in ideas if i.table.event_id == event_id}

    return read(app, query)


def csv_files(content: bytes, delimiter: str) -> dict[str, list[dict]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist() == [f"{name}.csv" for name in exports.ENTITIES]
        found = {}
        for name in exports.ENTITIES:
            raw = archive.read(f"{name}.csv")
            assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
            found[name] = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")),
                                              delimiter=delimiter))  # fmt: skip
    return found


@pytest.mark.parametrize("fmt,delimiter", [("csv", ","), ("csv-excel", ";")])
def test_csv_with_both_separators(app, evening, fmt, delimiter):
    files = csv_files(export(app, evening, fmt), delimiter)

    assert {int(r["id"]): r["text"] for r in files["ideas"]} == stored_ideas(app, evening)
    votes = {r["text"]: int(r["votes"]) for r in files["ideas"]}
    assert votes == {TEXT: 2, "=1+1": 0, "Un atelier vélo": 1}
    assert [r["name"] for r in files["tables"]] == ["Table 1", "Table 2"]
    assert files["sheets"][0]["text"] == "Des panneaux sur l’école\net la salle des fêtes"
    assert [r["title"] for r in files["projects"]] == ["Des panneaux sur l’école"]
    assert files["actions"][0]["what"] == "Appeler l’ADEME"


def test_personal_data_only_with_consent_in_every_format(app, evening):
    files = csv_files(export(app, evening, "csv"), ",")
    people = {r["id"]: r for r in files["participants"]}
    ines = next(r for r in people.values() if r["contact"])
    assert (ines["name"], ines["contact"], ines["consent"]) == ("Inès", "ines@example.org", "True")
    assert {r["name"] for r in people.values()} == {"Inès", ""}
    for fmt in exports.FORMATS:
        content = export(app, evening, fmt)
        if fmt == "pdf":
            content = pdf_text(content).encode()
        elif fmt == "xlsx":
            content = xlsx_text(content).encode()
        elif fmt.startswith("csv"):
            content = b"".join(
                zipfile.ZipFile(io.BytesIO(content)).read(n) for n in
                zipfile.ZipFile(io.BytesIO(content)).namelist()
            )  # fmt: skip
        assert "Noé".encode() not in content, fmt  # committed without consent: never named
        assert b"ines@example.org" in content or fmt in ("html", "pdf"), fmt


def xlsx_text(content: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
        for cell in row
    )  # fmt: skip


def test_xlsx_has_one_sheet_per_entity_and_never_a_formula(app, evening):
    book = openpyxl.load_workbook(io.BytesIO(export(app, evening, "xlsx")))

    assert book.sheetnames == list(exports.ENTITIES)
    ideas = list(book["ideas"].iter_rows(values_only=True))
    columns = ideas[0]
    texts = {row[columns.index("id")]: row[columns.index("text")] for row in ideas[1:]}
    expected = stored_ideas(app, evening)
    assert texts == {k: ("'" + v if v.startswith("=") else v) for k, v in expected.items()}


def test_json_follows_its_schema_and_the_database(app, evening):
    document = json.loads(export(app, evening, "json"))

    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert (document["schema"], document["version"]) == (exports.SCHEMA, 1)
    assert document["event"]["title"] == "Soirée d’été à Saint-Aubin"
    assert {i["id"]: i["text"] for i in document["ideas"]} == stored_ideas(app, evening)
    roles = sorted(c["role"] for c in document["commitments"])
    assert roles == ["carry", "contribute"]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def test_the_report_in_html_and_pdf(app, evening):
    html = export(app, evening, "html").decode()
    text = pdf_text(export(app, evening, "pdf"))

    for expected in ("Soirée d’été à Saint-Aubin", "Un atelier vélo", "Mon camion"):
        assert expected in html
    assert "=1+1" in html and "&lt;" not in TEXT
    assert "Énergie « solaire » pour l’été — 5 € par foyer, œuvre commune" in html
    flat = " ".join(text.split())
    assert "Soirée d’été à Saint-Aubin" in flat
    assert "Énergie « solaire » pour l’été — 5 € par foyer, œuvre commune" in flat
    assert "Des panneaux sur l’école" in flat and "Mon toit" in flat
    assert "2 tables, 2 participants, 3 idées, 3 votes, 2 engagements, 1 projet" in flat
    assert "Inès · Porte · Mon toit" in flat and "Un participant · Apporte · Mon camion" in flat
    assert "\x7f" not in flat  # bullets are bullets


def test_exports_are_for_the_evenings_organizers_only(app, evening):
    anonymous = app.test_client().get(f"/backlog/events/{evening}/export/json")
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    with app.app_context():
        make_organizer("autre@example.org", "Autre pays")
        db.session.remove()
    intruder = signed_in(app, "autre@example.org")
    for fmt in exports.FORMATS:
        assert intruder.get(f"/backlog/events/{evening}/export/{fmt}").status_code == 404
    assert signed_in(app).get(f"/backlog/events/{evening}/export/docx").status_code == 404


def test_the_cli_exports_an_evening_to_a_file(app, evening, tmp_path):
    target = tmp_path / "soiree.json"
    result = app.test_cli_runner().invoke(args=["export", str(evening), "json", str(target)])

    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text(encoding="utf-8"))
    jsonschema.validate(document, SCHEMA)
    assert {i["id"]: i["text"] for i in document["ideas"]} == stored_ideas(app, evening)
    missing = app.test_cli_runner().invoke(args=["export", "999", "json", str(target)])
    assert missing.exit_code != 0 and "999" in missing.output


def test_a_participant_without_consent_keeps_no_name_even_after_posting(app, evening):
    people = read(app, lambda s: s.scalars(select(Participant)).all())
    assert {p.display_name for p in people} == {"Inès", "Noé"}
    with app.app_context():
        event = db.session.get(Event, evening)
        rows = exports.event_rows(event)
        live.join_table(event.tables[1], "Zoé", "citizen")
        db.session.remove()
    assert all(r["name"] in ("", "Inès") for r in rows["participants"])
