"""Exports of an evening (issue 6 §7): what organizers send the next morning.

One function gathers an evening's data as plain rows per entity (tables,
participants, ideas, votes, clusters, sheets, commitments, projects,
actions); each format is a small writer of those rows: CSV (UTF-8 with BOM,
one file per entity in a ZIP), XLSX (one sheet per entity), JSON
(documented and versioned by ``docs/export-schema.json``) and a printable
report (HTML and PDF).

Two readers, two shapes of the same rows:

- for tools, the JSON and the CSV with commas: the columns' codes as
  headers (``created_at``), codes as values (``creative``, ``d2``), times in
  ISO 8601 UTC;
- for people, the XLSX and the CSV with semicolons (for French Excel): the
  interface's words as headers and values (« Publiée le », « Défi créatif »,
  « Oui »), times in the evening's local time (``TIMEZONE``, Europe/Paris by
  default) as that language writes them.

A text that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) begins with an apostrophe
in both CSVs; in the XLSX it stays as typed, in a text cell with Excel's
quote prefix (text even when edited).

Personal data stays out unless its person consented: a participant's name,
contact and what they said about themselves appear only with consent (a
minor's, never without a parent's: see services/minors.py).
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from collections import Counter, defaultdict
from datetime import date, datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..config import ROOT
from ..extensions import db
from ..models import (
    Cluster,
    Commitment,
    Event,
    Idea,
    Participant,
    Project,
    ProjectAction,
    SheetField,
    Table,
    Theme,
    Vote,
)
from . import backlog, plenary, privacy, sheet_template
from .changes import pinned_quotes
from .live import CATEGORY_LABELS

SCHEMA = "https://startup-territoire.example/schemas/event-export"
SCHEMA_VERSION = 2  # 2: the synthesis's themes and their ideas (issue 18)
ENTITIES = (
    "tables",
    "participants",
    "ideas",
    "votes",
    "clusters",
    "sheets",
    "commitments",
    "projects",
    "actions",
    "themes",
    "theme_ideas",
)
FORMATS = ("csv", "csv-excel", "xlsx", "json", "html", "pdf")
ROLE_LABELS = {
    "carry": _l("Carries"),
    "contribute": _l("Contributes"),
    "follow": _l("Keeps informed"),
}

# The spreadsheets' columns, in the rows' order, with what people read as
# their header. The JSON and the CSV with commas use the codes.
COLUMNS = {
    "tables": {
        "number": _l("Table"),
        "name": _l("Name"),
        "challenge": _l("Challenge"),
        "workshop_kind": _l("Workshop"),
        "brief_title": _l("Brief title"),
        "brief": _l("Brief"),
        "facilitator": _l("Facilitator"),
        "participants": _l("Participants"),
        "ideas": _l("Ideas"),
    },
    "participants": {
        "id": _l("No."),
        "table": _l("Table"),
        "category": _l("Category"),
        "name": _l("Name"),
        "contact": _l("Contact"),
        "brings": _l("What they bring"),
        "consent": _l("Contact accepted"),
        "removed": _l("Removed from the table"),
        "joined_at": _l("Joined at"),
    },
    "ideas": {
        "id": _l("No."),
        "table": _l("Table"),
        "kind": _l("Card type"),
        "text": _l("Text"),
        "votes": _l("Votes"),
        "cluster_id": _l("Group no."),
        "hidden": _l("Hidden"),
        "author_id": _l("Participant no."),
        "created_at": _l("Posted at"),
    },
    "votes": {
        "idea_id": _l("Idea no."),
        "table": _l("Table"),
        "participant_id": _l("Participant no."),
        "active": _l("Counted"),
        "at": _l("Date and time"),
    },
    "clusters": {"id": _l("No."), "table": _l("Table"), "name": _l("Name")},
    "sheets": {
        "table": _l("Table"),
        "key": _l("Field code"),
        "label": _l("Field"),
        "text": _l("Text"),
    },
    "commitments": {
        "table": _l("Table"),
        "participant_id": _l("Participant no."),
        "name": _l("Name"),
        "role": _l("Role"),
        "contribution": _l("Contribution"),
        "expects": _l("Expects"),
        "hours_per_month": _l("Hours per month"),
        "consent": _l("Contact accepted"),
    },
    "projects": {
        "id": _l("No."),
        "title": _l("Title"),
        "stage": _l("Stage"),
        "status": _l("Status"),
        "carrier_status": _l("Carrier"),
        "theme": _l("Theme"),
        "table": _l("Table"),
        "owner": _l("Owner"),
        "merged_into": _l("Merged into no."),
        "created_at": _l("Created on"),
    },
    "actions": {
        "project_id": _l("Project no."),
        "what": _l("Action"),
        "who": _l("Who"),
        "due": _l("Due"),
        "done_at": _l("Done on"),
    },
    "themes": {
        "id": _l("No."),
        "label": _l("Theme"),
        "keywords": _l("Keywords"),
        "tables": _l("Tables"),
        "ideas": _l("Ideas"),
        "points": _l("Points in the room's vote"),
        "voters": _l("Voters"),
        "project_id": _l("Project no."),
    },
    "theme_ideas": {
        "theme_id": _l("Theme no."),
        "idea_id": _l("Idea no."),
        "table": _l("Table"),
        "text": _l("Text"),
        "pinned": _l("Quoted to the room"),
    },
}
TITLES = {
    "tables": _l("Tables"),
    "participants": _l("Participants"),
    "ideas": _l("Ideas"),
    "votes": _l("Votes"),
    "clusters": _l("Groups of ideas"),
    "sheets": _l("Sheets"),
    "commitments": _l("Commitments"),
    "projects": _l("Projects"),
    "actions": _l("Actions"),
    "themes": _l("Themes"),
    "theme_ideas": _l("Ideas of the themes"),
}
# Codes as people read them, by column.
VALUE_LABELS = {
    "challenge": {
        "territorial": _l("Territorial challenge"),
        "creative": _l("Creative challenge"),
        "prototyping": _l("Prototyping challenge"),
    },
    "workshop_kind": {"starter": _l("Star'Ter"), "booster": _l("Boos'Ter")},
    "category": CATEGORY_LABELS,
    "kind": {
        "need": _l("Need"),
        "idea": _l("Idea"),
        "resource": _l("Resource"),
        "feature": _l("Feature"),
        "question": _l("Question"),
    },
    "role": ROLE_LABELS,
    "stage": backlog.STAGE_LABELS,
    "status": backlog.STATUS_LABELS,
    "carrier_status": backlog.CARRIER_LABELS,
}
YES_NO = ("consent", "removed", "hidden", "active", "pinned")
INSTANTS = ("joined_at", "created_at", "at", "done_at")
DAYS = ("due",)
# How dates read in each language of the interface: in the CSV (strftime)
# and in Excel's cells (number formats).
DATE_FORMATS = {
    "fr": {"day": "%d/%m/%Y", "time": "%d/%m/%Y %H:%M",
           "excel_day": "dd/mm/yyyy", "excel_time": "dd/mm/yyyy hh:mm"},
    "en": {"day": "%Y-%m-%d", "time": "%Y-%m-%d %H:%M",
           "excel_day": "yyyy-mm-dd", "excel_time": "yyyy-mm-dd hh:mm"},
}  # fmt: skip
# What a spreadsheet takes for the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FONTS = ROOT / "static" / "vendor" / "fonts"  # the PDF's (DejaVu Sans, with its licence)


SLICE = 20  # rows (or report paragraphs) between two pauses: a few milliseconds


def cooperate(items, every: int = SLICE):
    """Yield ``items``, pausing every ``every`` of them: under gevent the
    loop serves the phones' writes in between, so an export of thousands of
    rows never holds it for more than a few milliseconds (a native thread
    would not help: it holds the interpreter against the loop)."""
    for n, item in enumerate(items, 1):
        yield item
        if n % every == 0:
            time.sleep(0)


def _iso(value) -> str | None:
    if isinstance(value, datetime):
        return clock.aware(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _enum(value) -> str | None:
    return value.value if value is not None else None


def event_rows(event: Event) -> dict[str, list[dict]]:
    """Every entity of ``event`` as plain rows (lists of flat dicts), in a
    stable order. Read with a few set queries: fast for thousands of ideas."""
    tables = list(
        db.session.execute(
            select(Table).where(Table.event_id == event.id).order_by(Table.number)
        ).scalars()
    )
    number = {t.id: t.number for t in tables}
    ids = list(number)

    def of_event(model, *columns):
        # Columns, not entities: thousands of rows read without the ORM's
        # cost per object, so the loop is not held while they are read.
        query = select(*(getattr(model, c) for c in columns))
        return query.where(model.table_id.in_(ids)) if ids else query.where(False)

    def fetch(query) -> list:
        found = db.session.execute(query).all()
        time.sleep(0)  # under gevent: let the phones' writes through between queries
        return found

    people = fetch(
        of_event(Participant, "id", "table_id", "category", "display_name", "contact", "brings",
                 "contact_consent", "removed", "created_at", "minor",
                 "guardian_consent_at").order_by(Participant.id)
    )  # fmt: skip
    consented = {p.id for p in people if privacy.consented(p)}
    votes = fetch(
        of_event(Vote, "idea_id", "table_id", "participant_id", "active", "created_at").order_by(
            Vote.id
        )
    )
    votes_per_idea = Counter(v.idea_id for v in votes if v.active)
    rows: dict[str, list[dict]] = {name: [] for name in ENTITIES}
    per_table = {t.id: {"participants": 0, "ideas": 0} for t in tables}
    for p in cooperate(people):
        per_table[p.table_id]["participants"] += 0 if p.removed else 1
        rows["participants"].append(
            {
                "id": p.id,
                "table": number[p.table_id],
                "category": _enum(p.category),
                "name": p.display_name if p.id in consented else "",
                "contact": p.contact if p.id in consented else "",
                "brings": p.brings if p.id in consented else "",
                "consent": p.id in consented,
                "removed": p.removed,
                "joined_at": _iso(p.created_at),
            }
        )
    ideas = of_event(Idea, "id", "table_id", "kind", "text", "cluster_id", "hidden",
                     "participant_id", "created_at", "seq")  # fmt: skip
    ideas = fetch(ideas.where(Idea.deleted.is_(False)).order_by(Idea.table_id, Idea.seq))
    for idea in cooperate(ideas):
        per_table[idea.table_id]["ideas"] += 0 if idea.hidden else 1
        rows["ideas"].append(
            {
                "id": idea.id,
                "table": number[idea.table_id],
                "kind": _enum(idea.kind),
                "text": idea.text,
                "votes": votes_per_idea.get(idea.id, 0),
                "cluster_id": idea.cluster_id,
                "hidden": idea.hidden,
                "author_id": idea.participant_id,
                "created_at": _iso(idea.created_at),
            }
        )
    for t in tables:
        rows["tables"].append(
            {
                "number": t.number,
                "name": t.name,
                "challenge": _enum(t.challenge),
                "workshop_kind": _enum(t.workshop_kind),
                "brief_title": t.brief_title,
                "brief": t.brief,
                "facilitator": t.facilitator_name,
                "participants": per_table[t.id]["participants"],
                "ideas": per_table[t.id]["ideas"],
            }
        )
    for vote in cooperate(votes):
        rows["votes"].append(
            {
                "idea_id": vote.idea_id,
                "table": number[vote.table_id],
                "participant_id": vote.participant_id,
                "active": vote.active,
                "at": _iso(vote.created_at),
            }
        )
    clusters = of_event(Cluster, "id", "table_id", "name").where(Cluster.deleted.is_(False))
    for cluster in fetch(clusters.order_by(Cluster.id)):
        rows["clusters"].append(
            {"id": cluster.id, "table": number[cluster.table_id], "name": cluster.name}
        )
    challenge = {t.id: t.challenge for t in tables}
    labels = {
        c: {f["key"]: f["label"] for f in sheet_template.template(c)}
        for c in set(challenge.values())
    }
    fields = of_event(SheetField, "table_id", "key", "text")
    for field in fetch(fields.order_by(SheetField.table_id, SheetField.id)):
        rows["sheets"].append(
            {
                "table": number[field.table_id],
                "key": field.key,
                "label": labels[challenge[field.table_id]].get(field.key, field.key),
                "text": field.text,
            }
        )
    names = {p.id: p.display_name for p in people}
    commitments = of_event(
        Commitment, "id", "table_id", "participant_id", "role", "contribution", "expects",
        "hours_per_month",
    ).where(Commitment.withdrawn.is_(False))  # fmt: skip
    for c in fetch(commitments.order_by(Commitment.id)):
        shared = c.participant_id in consented
        rows["commitments"].append(
            {
                "table": number[c.table_id],
                "participant_id": c.participant_id,
                "name": names.get(c.participant_id, "") if shared else "",
                "role": _enum(c.role),
                "contribution": c.contribution,
                "expects": c.expects,
                "hours_per_month": c.hours_per_month,
                "consent": shared,
            }
        )
    projects = list(
        db.session.scalars(select(Project).where(Project.event_id == event.id).order_by(Project.id))
    )
    for p in projects:
        rows["projects"].append(
            {
                "id": p.id,
                "title": p.title,
                "stage": _enum(p.stage),
                "status": _enum(p.status),
                "carrier_status": _enum(p.carrier_status),
                "theme": p.theme,
                "table": number.get(p.table_id),
                "owner": p.owner,
                "merged_into": p.merged_into_id,
                "created_at": _iso(p.created_at),
            }
        )
    project_ids = [p.id for p in projects]
    if project_ids:
        for action in db.session.scalars(
            select(ProjectAction)
            .where(ProjectAction.project_id.in_(project_ids))
            .order_by(ProjectAction.id)
        ):
            rows["actions"].append(
                {
                    "project_id": action.project_id,
                    "what": action.what,
                    "who": action.who,
                    "due": _iso(action.due),
                    "done_at": _iso(action.done_at),
                }
            )
    _theme_rows(event, rows, number)
    return rows


def _theme_rows(event: Event, rows: dict[str, list[dict]], number: dict[int, int]) -> None:
    """The team's themes (no pending suggestion of the app's) with their
    tables, ideas (pinned quotes first), the room's points once its vote
    closed, and the project each became."""
    themes = db.session.scalars(
        select(Theme)
        .where(Theme.event_id == event.id, Theme.deleted.is_(False), Theme.suggested.is_(False))
        .order_by(Theme.id)
    ).all()
    vote = event.room_vote or {}
    results = {r["id"]: r for r in vote.get("results", [])} if vote.get("state") == "closed" else {}
    projects = dict(
        db.session.execute(
            select(Project.theme_id, Project.id).where(
                Project.theme_id.in_([theme.id for theme in themes])
            )
        ).all()
    )
    ideas = {row["id"]: row for row in rows["ideas"]}
    for theme in themes:
        pinned = pinned_quotes(theme)
        found = [ideas[i] for i in dict.fromkeys([*pinned, *theme.idea_ids]) if i in ideas]
        result = results.get(theme.id, {})
        rows["themes"].append(
            {
                "id": theme.id,
                "label": theme.label,
                "keywords": ", ".join(theme.keywords or []),
                "tables": ", ".join(str(n) for n in sorted({idea["table"] for idea in found})),
                "ideas": len(found),
                "points": result.get("points"),
                "voters": result.get("voters"),
                "project_id": projects.get(theme.id),
            }
        )
        for idea in found:
            rows["theme_ideas"].append(
                {
                    "theme_id": theme.id,
                    "idea_id": idea["id"],
                    "table": idea["table"],
                    "text": idea["text"],
                    "pinned": idea["id"] in pinned,
                }
            )


def event_header(event: Event) -> dict:
    return {
        "id": event.id,
        "title": event.title,
        "date": _iso(event.date),
        "venue": event.venue,
        "territory": event.territory.name,
        "status": _enum(event.status),
    }


# --- the formats --------------------------------------------------------------------


# A sheet: its title, its headers and its rows of values.
Sheet = tuple[str, list[str], list[list]]


def data_sheets(rows: dict[str, list[dict]]) -> dict[str, Sheet]:
    """The rows as they are, for tools: the JSON's columns and codes."""
    return {
        name: (name, list(COLUMNS[name]), [[row[c] for c in COLUMNS[name]] for row in rows[name]])
        for name in ENTITIES
    }


def reading() -> tuple[dict, ZoneInfo]:
    """How people read dates here: the interface language's formats, and
    the evenings' time zone (``TIMEZONE``)."""
    language = getattr(get_locale(), "language", "fr")
    zone = ZoneInfo(current_app.config.get("TIMEZONE", "Europe/Paris"))
    return DATE_FORMATS.get(language, DATE_FORMATS["en"]), zone


def readable_sheets(rows: dict[str, list[dict]], as_text: bool = False) -> dict[str, Sheet]:
    """The rows as people read them, in the interface's language: headers
    and codes in words, yes or no, local times to the minute (as text with
    ``as_text``, for the CSV; else dates, for the XLSX's cells)."""
    formats, zone = reading()
    yes, no = _("Yes"), _("No")

    def instant(value):
        if value is None:
            return None
        local = datetime.fromisoformat(value).astimezone(zone).replace(tzinfo=None, microsecond=0)
        return local.strftime(formats["time"]) if as_text else local

    def day(value):
        if value is None:
            return None
        found = date.fromisoformat(value)
        return found.strftime(formats["day"]) if as_text else found

    def converter(column):
        if column in VALUE_LABELS:
            labels = {code: str(label) for code, label in VALUE_LABELS[column].items()}
            return lambda value: labels.get(value, value)
        if column in YES_NO:
            return lambda value: yes if value else no
        if column in INSTANTS:
            return instant
        if column in DAYS:
            return day
        return None

    sheets = {}
    for name in ENTITIES:
        plan = [(column, converter(column)) for column in COLUMNS[name]]
        values = [
            [convert(row[c]) if convert else row[c] for c, convert in plan]
            for row in cooperate(rows[name], every=200)  # a few microseconds a row
        ]
        headers = [str(label) for label in COLUMNS[name].values()]
        sheets[name] = (str(TITLES[name]), headers, values)
    return sheets


def _formula_like(value) -> bool:
    return isinstance(value, str) and value[:1] in FORMULA_STARTS


def to_csv_zip(sheets: dict[str, Sheet], delimiter: str = ",") -> bytes:
    """One CSV per entity (named by its code), UTF-8 with a BOM (Excel reads
    the accents), in a ZIP. A text a spreadsheet would run as a formula gets
    an apostrophe first: opened in Excel or LibreOffice, it stays text."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (_title, headers, values) in sheets.items():
            text = io.StringIO()
            text.write("\ufeff")
            writer = csv.writer(text, delimiter=delimiter)
            writer.writerow(headers)
            for row in cooperate(values):
                writer.writerow(["'" + v if _formula_like(v) else v for v in row])
            archive.writestr(f"{name}.csv", text.getvalue().encode("utf-8"))
    return buffer.getvalue()


def to_xlsx(sheets: dict[str, Sheet]) -> bytes:
    """One sheet per entity (written in streaming mode: fast and small),
    with a bold, frozen header row, filters, and columns as wide as their
    content (within reason)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    formats, _zone = reading()
    book = Workbook(write_only=True)
    bold = Font(bold=True)

    def cell(sheet, value):
        if isinstance(value, str):
            if value[:1] not in FORMULA_STARTS and value not in ERROR_CODES:
                return value
            # Text, never a formula (openpyxl would write "=…" as one), and
            # text still when edited: the quote prefix, not a visible "'".
            styled = WriteOnlyCell(sheet, value)
            styled.data_type, styled.quotePrefix = "s", True
            return styled
        if isinstance(value, date):
            styled = WriteOnlyCell(sheet, value)
            timed = isinstance(value, datetime)
            styled.number_format = formats["excel_time" if timed else "excel_day"]
            return styled
        return value

    for title, headers, values in sheets.values():
        sheet = book.create_sheet(title=title)
        # Column widths and the frozen row go before the first row (streaming).
        for n, width in enumerate(_widths(headers, values), 1):
            sheet.column_dimensions[get_column_letter(n)].width = width
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(values) + 1}"
        header_cells = []
        for header in headers:
            header_cells.append(WriteOnlyCell(sheet, header))
            header_cells[-1].font = bold
        sheet.append(header_cells)
        for row in cooperate(values):
            sheet.append([cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _widths(headers: list[str], values: list[list]) -> list[float]:
    """Each column's width in characters: its longest value or its header
    (and the filter's button), between 8 and 60."""
    longest = [len(h) + 3 for h in headers]
    for row in cooperate(values, every=200):
        for n, value in enumerate(row):
            if isinstance(value, datetime):
                size = 16
            elif value is None:
                continue
            else:
                size = len(value) if isinstance(value, str) else len(str(value))
            if size > longest[n]:
                longest[n] = size
    return [min(60, max(8, size + 2)) for size in longest]


def to_json(header: dict, rows: dict[str, list[dict]]) -> bytes:
    """The documented, versioned JSON (docs/export-schema.json)."""
    head = {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "exported_at": clock.now().isoformat(),
        "event": header,
    }
    # Written piece by piece (one row at a time) with pauses, for the loop's sake.
    parts = [json.dumps(head, ensure_ascii=False, indent=1)[:-2]]
    for name in ENTITIES:
        items = ",\n  ".join(json.dumps(row, ensure_ascii=False) for row in cooperate(rows[name]))
        parts.append(f',\n "{name}": [\n  {items}\n ]' if items else f',\n "{name}": []')
    return ("".join(parts) + "\n}\n").encode("utf-8")


def report_context(header: dict, rows: dict[str, list[dict]]) -> dict:
    """What the printable report shows, per table: brief, ideas by votes,
    sheet, commitments; and the evening's figures."""
    tables = []
    ideas_by_id = {idea["id"]: idea for idea in rows["ideas"]}
    for table in rows["tables"]:
        n = table["number"]
        ideas = sorted(
            (i for i in rows["ideas"] if i["table"] == n and not i["hidden"]),
            key=lambda i: (-i["votes"], i["id"]),
        )
        tables.append(
            {
                **table,
                "ideas": ideas,
                "sheet": [f for f in rows["sheets"] if f["table"] == n and f["text"].strip()],
                "commitments": [c for c in rows["commitments"] if c["table"] == n],
            }
        )
    quotes = defaultdict(list)
    for row in rows["theme_ideas"]:
        if not ideas_by_id.get(row["idea_id"], {}).get("hidden"):
            quotes[row["theme_id"]].append(row["text"])
    themes = [
        {**theme, "quotes": quotes[theme["id"]][: plenary.QUOTES]}
        for theme in sorted(rows["themes"], key=lambda t: (-(t["points"] or 0), t["id"]))
    ]
    totals = {
        "tables": len(rows["tables"]),
        "participants": sum(t["participants"] for t in rows["tables"]),
        "ideas": sum(t["ideas"] for t in rows["tables"]),
        "votes": sum(1 for v in rows["votes"] if v["active"]),
        "commitments": len(rows["commitments"]),
        "projects": len(rows["projects"]),
    }
    return {
        "event": header,
        "tables": tables,
        "themes": themes,
        "totals": totals,
        "figures": figures(totals),
        "role_labels": ROLE_LABELS,
        "theme_line": theme_line,
    }


def figures(totals: dict) -> str:
    """The evening in one line: "30 tables, 280 participants, 3,000 ideas…"."""
    return ", ".join(
        (
            ngettext("%(num)d table", "%(num)d tables", totals["tables"]),
            ngettext("%(num)d participant", "%(num)d participants", totals["participants"]),
            ngettext("%(num)d idea", "%(num)d ideas", totals["ideas"]),
            ngettext("%(num)d vote", "%(num)d votes", totals["votes"]),
            ngettext("%(num)d commitment", "%(num)d commitments", totals["commitments"]),
            ngettext("%(num)d project", "%(num)d projects", totals["projects"]),
        )
    )


def theme_line(theme: dict) -> str:
    """A theme in the report: "Mobilité · 3 tables · 12 ideas · 40 points"."""
    tables = len([n for n in theme["tables"].split(", ") if n])
    parts = [
        theme["label"],
        ngettext("%(num)d table", "%(num)d tables", tables),
        ngettext("%(num)d idea", "%(num)d ideas", theme["ideas"]),
    ]
    if theme["points"] is not None:
        parts.append(ngettext("%(num)d point", "%(num)d points", theme["points"]))
    return " · ".join(parts)


def _register_fonts() -> None:
    """Make the vendored DejaVu Sans known to ReportLab (once per process)."""
    from reportlab.pdfbase import pdfmetrics, ttfonts

    if "DejaVuSans" in pdfmetrics.getRegisteredFontNames():
        return
    # ReportLab (5.1) writes a character beyond U+FFFF (😀) into the PDF's
    # text map as five hex digits, which readers reject: the smiley prints
    # but cannot be copied or searched. Written as UTF-16, as the PDF
    # standard says (a surrogate pair).
    to_unicode = ttfonts.makeToUnicodeCMap

    def utf16(match) -> str:
        return f"<{match[1]}> <{chr(int(match[2], 16)).encode('utf-16-be').hex().upper()}>"

    ttfonts.makeToUnicodeCMap = lambda name, subset: re.sub(
        r"<([0-9A-F]{2})> <([0-9A-F]{5,6})>", utf16, to_unicode(name, subset)
    )
    for name in ("DejaVuSans", "DejaVuSans-Bold"):
        pdfmetrics.registerFont(ttfonts.TTFont(name, FONTS / f"{name}.ttf"))
    pdfmetrics.registerFontFamily("DejaVuSans", normal="DejaVuSans", bold="DejaVuSans-Bold",
                                  italic="DejaVuSans", boldItalic="DejaVuSans-Bold")  # fmt: skip


def pdf_paragraphs():
    """``para(text, style="BodyText")``: a paragraph of the PDF reports, in
    the vendored DejaVu Sans (see ``to_pdf``); the text is escaped (user
    text is text) and its line breaks kept."""
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph

    _register_fonts()
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        bold = getattr(style, "fontName", "").endswith("Bold")
        style.fontName = "DejaVuSans-Bold" if bold else "DejaVuSans"

    def para(text, style="BodyText"):
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), styles[style])

    return para


def to_pdf(context: dict) -> bytes:
    """The printable report as a PDF, in the vendored DejaVu Sans (embedded,
    subset): ReportLab's standard fonts have Latin letters only, and print
    Greek, Cyrillic, Arabic or emoji as boxes. DejaVu Sans draws Latin,
    Greek, Cyrillic, Armenian, Georgian, Hebrew and Arabic letters (Arabic
    and Hebrew unjoined and left to right: ReportLab shapes no script),
    many symbols (☀ ★ ♻ ✓) and the smileys (😀), in black; not Chinese,
    Japanese, Korean, Indic or Thai scripts, nor most emoji (🚲 🌱 👍):
    those print as boxes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import Flowable, SimpleDocTemplate, Spacer

    class Pause(Flowable):
        def wrap(self, *_available):
            time.sleep(0)
            return 0, 0

        def draw(self):
            pass

    event = context["event"]
    para = pdf_paragraphs()

    story = [para(event["title"], "Title")]
    where = (event["date"] or "", event["venue"], event["territory"])
    story.append(para(" · ".join(x for x in where if x)))
    story.append(para(context["figures"]))
    if context["themes"]:
        story += [Spacer(1, 0.4 * cm), para(_("The evening's themes"), "Heading2")]
        for theme in context["themes"]:
            story.append(para(theme_line(theme), "Heading4"))
            story += [para(f"– {quote}") for quote in theme["quotes"]]
    for table in cooperate(context["tables"], every=1):
        story += [Spacer(1, 0.4 * cm), para(f"{table['number']}. {table['name']}", "Heading2")]
        story.append(para(table["brief_title"], "Heading4"))
        if table["brief"]:
            story.append(para(table["brief"]))
        if table["ideas"]:
            story.append(para(_("Ideas"), "Heading4"))
            story += [para(f"– {i['text']} ({i['votes']})") for i in cooperate(table["ideas"])]
        if table["sheet"]:
            story.append(para(_("The sheet"), "Heading4"))
            for field in table["sheet"]:
                story += [para(field["label"], "Heading5"), para(field["text"])]
        if table["commitments"]:
            story.append(para(_("Commitments"), "Heading4"))
            for c in table["commitments"]:
                who = (c["name"] or _("A participant"), str(ROLE_LABELS[c["role"]]))
                story.append(para("– " + " · ".join(x for x in (*who, c["contribution"]) if x)))
    # ReportLab lays the story out in one call: a pause every few paragraphs
    # lets the loop serve the phones meanwhile.
    story = [part for n, item in enumerate(story, 1) for part in
             ((item, Pause()) if n % 20 == 0 else (item,))]  # fmt: skip
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, title=event["title"], leftMargin=2 * cm, rightMargin=2 * cm,
        initialFontName="DejaVuSans",
    )  # fmt: skip
    document.build(story)
    return buffer.getvalue()


def gather(event: Event) -> tuple[dict, dict[str, list[dict]]]:
    """The evening's header and rows, read from the database (on the loop:
    a few set queries)."""
    return event_header(event), event_rows(event)


def render(header: dict, rows: dict[str, list[dict]], fmt: str, render_html):
    """The export in ``fmt``: (content, MIME type, file name).
    ``render_html(context)`` renders the report's template. Pure computation
    on plain data, without the database: it can run off the event loop."""
    stem = f"soiree-{header['id']}"
    if fmt == "csv":  # for tools
        return to_csv_zip(data_sheets(rows), ","), "application/zip", f"{stem}-{fmt}.zip"
    if fmt == "csv-excel":  # for people, in French Excel
        content = to_csv_zip(readable_sheets(rows, as_text=True), ";")
        return content, "application/zip", f"{stem}-{fmt}.zip"
    if fmt == "xlsx":
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return to_xlsx(readable_sheets(rows)), mime, f"{stem}.xlsx"
    if fmt == "json":
        return to_json(header, rows), "application/json", f"{stem}.json"
    context = report_context(header, rows)
    if fmt == "html":
        return render_html(context).encode("utf-8"), "text/html; charset=utf-8", f"{stem}.html"
    if fmt == "pdf":
        return to_pdf(context), "application/pdf", f"{stem}.pdf"
    raise ValueError(fmt)
