"""Reusable formats (issue 6 §8, the method's D5): an evening's format — its
tables, challenges, briefs and scripts — exported as a file and imported into
another territory or another date.

A format never carries people or results: no participant, idea, vote, sheet,
commitment, nor the facilitators' names or links (new ones are made).
Importing checks the whole file first and creates nothing if anything in it
is wrong.
"""

from __future__ import annotations

import json
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..models import Challenge, Event, Organizer, Territory, WorkshopKind
from . import ServiceError, events, journal, steps
from .transaction import commit

SCHEMA = "https://startup-territoire.example/schemas/event-format"
VERSION = 1
MAX_BYTES = 400_000  # under the request size limit (a format of 200 tables is far smaller)
MAX_TABLES = 200
TEXT_LIMITS = {"name": 200, "brief_title": 200, "brief": 5000}


def export_format(event: Event) -> dict:
    """The format of ``event`` as plain data (see the module's docstring)."""
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "title": event.title,
        "venue": event.venue,
        "language": event.language,
        "tables": [
            {
                "name": table.name,
                "challenge": table.challenge.value,
                "workshop_kind": table.workshop_kind.value,
                "brief_title": table.brief_title,
                "brief": table.brief,
                "capacity": table.capacity,
                # Settings only, never a vote's state or results.
                "script": steps.clean_script(steps.script_of(table)) if table.steps else [],
            }
            for table in sorted(event.tables, key=lambda t: t.number)
        ],
    }


def duration_text(seconds: int) -> str:
    """A step's duration as a preview reads it (a format stores seconds):
    "10 min", "1 min 30 s", or "no timer" for a step without one."""
    if not seconds:
        return _("no timer")
    minutes, rest = divmod(seconds, 60)
    if not rest:
        return _("%(m)d min", m=minutes)
    if not minutes:
        return _("%(s)d s", s=rest)
    return _("%(m)d min %(s)d s", m=minutes, s=rest)


def _bad(message) -> ServiceError:
    return ServiceError("bad_format", message)


def parse(raw: bytes) -> dict:
    """A format file checked whole: the plan of an evening to create."""
    if not raw or len(raw) > MAX_BYTES:
        raise _bad(_l("The file is empty or larger than 400 KB."))
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad(_l("This file is not an evening's format (JSON expected).")) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise _bad(_l("This file is not an evening's format (JSON expected)."))
    if data.get("version") != VERSION:
        raise _bad(_l("This format was made by another version of the app."))
    tables = data.get("tables")
    if not isinstance(tables, list) or not 1 <= len(tables) <= MAX_TABLES:
        raise _bad(_l("A format has between 1 and 200 tables."))
    return {
        "title": _text(data.get("title"), 200, required=False),
        "venue": _text(data.get("venue"), 200, required=False),
        # Optional (formats made before evenings had a language have none).
        "language": data.get("language") if data.get("language") in ("fr", "en") else None,
        "tables": [_table(table, n) for n, table in enumerate(tables, 1)],
    }


def _text(value, limit: int, required=True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise _bad(_l("A text of the file is missing or too long."))
    return value.strip()


def _table(table, number: int) -> dict:
    if not isinstance(table, dict):
        raise _bad(_l("Table %(number)d of the file is not valid.", number=number))
    try:
        challenge = Challenge(table.get("challenge"))
        kind = WorkshopKind(table.get("workshop_kind", WorkshopKind.starter.value))
    except ValueError:
        raise _bad(_l("Table %(number)d of the file is not valid.", number=number)) from None
    capacity = table.get("capacity", 10)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= 100:
        raise _bad(_l("Table %(number)d of the file is not valid.", number=number))
    script = table.get("script") or []
    try:
        script = steps.clean_script(script) if script else []
    except ServiceError as error:
        raise _bad(f"{number}: {error.message}") from None
    return {
        **{key: _text(table.get(key), limit) for key, limit in TEXT_LIMITS.items()},
        "challenge": challenge,
        "workshop_kind": kind,
        "capacity": capacity,
        "script": script,
    }


def import_format(
    organizer: Organizer, territory: Territory, plan: dict, title: str, event_date: date | None
) -> Event:
    """A new evening in preparation, in ``territory``, with the plan's tables
    and scripts (a table without a script gets its default one)."""
    event = events.create_event(
        organizer, territory, (title or plan["title"]).strip()[:200] or plan["title"],
        event_date, plan["venue"], plan["language"],
    )  # fmt: skip
    for fields in plan["tables"]:
        script = fields["script"]
        table = events.add_table(
            organizer, event, **{k: v for k, v in fields.items() if k != "script"}
        )
        if script:
            steps.set_script(table, script)
    journal.record(
        f"organizer:{organizer.id}", "event.imported", event.title,
        territory_id=territory.id, event_id=event.id, tables=len(plan["tables"]),
    )  # fmt: skip
    commit()
    return event
