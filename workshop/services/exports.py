"""Exports of an evening (issue 6 §7): what organizers send the next morning.

One function gathers an evening's data as plain rows per entity (tables,
participants, ideas, votes, clusters, sheets, commitments, projects,
actions); each format is a small writer of those rows: CSV (UTF-8 with BOM,
``,`` or ``;`` for French Excel, one file per entity in a ZIP), XLSX (one
sheet per entity), JSON (documented and versioned by
``docs/export-schema.json``) and a printable report (HTML and PDF).

Personal data stays out unless its person consented: a participant's name,
contact and what they said about themselves appear only with consent.
"""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from collections import Counter
from datetime import date, datetime
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from .. import clock
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
    Vote,
)
from . import privacy, sheet_template

SCHEMA = "https://startup-territoire.example/schemas/event-export"
SCHEMA_VERSION = 1
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
)
FORMATS = ("csv", "csv-excel", "xlsx", "json", "html", "pdf")
ROLE_LABELS = {
    "carry": _l("Carries"),
    "contribute": _l("Contributes"),
    "follow": _l("Keeps informed"),
}


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
                 "contact_consent", "removed", "created_at").order_by(Participant.id)
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
    return rows


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


def to_csv_zip(rows: dict[str, list[dict]], delimiter: str = ",") -> bytes:
    """One CSV per entity, UTF-8 with a BOM (Excel reads the accents), in a ZIP."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ENTITIES:
            text = io.StringIO()
            text.write("\ufeff")
            columns = list(rows[name][0]) if rows[name] else []
            writer = csv.DictWriter(text, fieldnames=columns, delimiter=delimiter)
            writer.writeheader()
            for row in cooperate(rows[name]):
                writer.writerow(row)
            archive.writestr(f"{name}.csv", text.getvalue().encode("utf-8"))
    return buffer.getvalue()


def to_xlsx(rows: dict[str, list[dict]]) -> bytes:
    """One sheet per entity (written in streaming mode: fast and small)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for name in ENTITIES:
        sheet = book.create_sheet(title=name)
        if rows[name]:
            columns = list(rows[name][0])
            sheet.append(columns)
            for row in cooperate(rows[name]):
                sheet.append([_cell(row[c]) for c in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value):
    # A text starting with "=" would be a formula to a spreadsheet: never run user text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


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
        "totals": totals,
        "figures": figures(totals),
        "role_labels": ROLE_LABELS,
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


def to_pdf(context: dict) -> bytes:
    """The printable report as a PDF (ReportLab; its standard fonts cover
    French: accents, œ, typographic quotes, €)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer

    class Pause(Flowable):
        def wrap(self, *_available):
            time.sleep(0)
            return 0, 0

        def draw(self):
            pass

    styles = getSampleStyleSheet()
    event = context["event"]

    def para(text, style="BodyText"):
        # User text is text: escaped, line breaks kept.
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), styles[style])

    story = [para(event["title"], "Title")]
    where = (event["date"] or "", event["venue"], event["territory"])
    story.append(para(" · ".join(x for x in where if x)))
    story.append(para(context["figures"]))
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
        buffer, pagesize=A4, title=event["title"], leftMargin=2 * cm, rightMargin=2 * cm
    )
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
    if fmt in ("csv", "csv-excel"):
        delimiter = ";" if fmt == "csv-excel" else ","
        return to_csv_zip(rows, delimiter), "application/zip", f"{stem}-{fmt}.zip"
    if fmt == "xlsx":
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return to_xlsx(rows), mime, f"{stem}.xlsx"
    if fmt == "json":
        return to_json(header, rows), "application/json", f"{stem}.json"
    context = report_context(header, rows)
    if fmt == "html":
        return render_html(context).encode("utf-8"), "text/html; charset=utf-8", f"{stem}.html"
    if fmt == "pdf":
        return to_pdf(context), "application/pdf", f"{stem}.pdf"
    raise ValueError(fmt)
