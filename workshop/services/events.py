"""Preparing an evening: events and their tables."""

from datetime import date

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    Challenge,
    Event,
    EventStatus,
    Idea,
    Organizer,
    Participant,
    Table,
    Territory,
    WorkshopKind,
)
from ..rooms import console_room
from . import ServiceError, backlog, journal, steps, territories
from .changes import cut_off_after_commit, touch
from .codes import EVENT_CODE_LENGTH, TABLE_CODE_LENGTH, new_code, new_secret, normalize_code
from .transaction import atomic, commit

TABLE_FIELDS = (
    "name",
    "challenge",
    "workshop_kind",
    "brief_title",
    "brief",
    "facilitator_name",
    "capacity",
)


def _unique_code(model, length: int) -> str:
    while True:
        code = new_code(length)
        if not db.session.scalar(select(model.id).where(model.join_code == code)):
            return code


def _record(organizer: Organizer, action: str, event: Event, table: Table | None = None, **data):
    """Journal an organizer's change to an event or one of its tables."""
    if table is not None:
        data["table_id"] = table.id
    journal.record(
        f"organizer:{organizer.id}",
        action,
        table.name if table is not None else event.title,
        territory_id=event.territory_id,
        event_id=event.id,
        **data,
    )


def events_for(organizer: Organizer) -> list[Event]:
    """Events of the organizer's territories, newest first."""
    territory_ids = [t.id for t in organizer.territories]
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.territory_id.in_(territory_ids))
            .order_by(Event.date.desc().nulls_last(), Event.id.desc())
        )
    )


def create_event(
    organizer: Organizer,
    territory: Territory,
    title: str,
    event_date: date | None,
    venue: str = "",
    language: str | None = None,
) -> Event:
    """Create a draft event in one of the organizer's territories, run in
    ``language`` (by default the organizer's current one)."""
    if territory not in organizer.territories:
        raise ServiceError("forbidden", _l("You do not organize this territory."))
    event = Event(
        territory=territory,
        title=title.strip(),
        date=event_date,
        venue=venue.strip(),
        status=EventStatus.draft,
        join_code=_unique_code(Event, EVENT_CODE_LENGTH),
        language=_language(language),
    )
    db.session.add(event)
    db.session.flush()
    _record(organizer, "event.created", event)
    commit()
    return event


def update_event(organizer: Organizer, event: Event, **fields) -> Event:
    """Change an event's title, date, venue, language or status.

    A new language rewrites the scripts its tables have kept as they were
    given (not started, not edited) in that language.
    """
    if fields.get("status") == EventStatus.live and not territories.has_controller(event.territory):
        # Phones show who is responsible for the data before anyone types a
        # name (GDPR art. 13): nobody joins an evening that cannot say it.
        raise ServiceError(
            "no_controller",
            _l(
                "The evening cannot open: the territory has no data controller yet. "
                "Name it, with its contact, in the territory's settings."
            ),
        )
    if "language" in fields:
        fields["language"] = _language(fields["language"])
        _translate_default_scripts(event, fields["language"])
    for name in ("title", "date", "venue", "language", "status"):
        if name in fields:
            setattr(event, name, fields[name])
    if "status" in fields:
        for table in event.tables:  # phones learn at once that the wall opened or closed
            touch(table)
    with atomic():  # closed and promoted together, or neither
        _record(organizer, "event.updated", event, fields=sorted(fields))
        if fields.get("status") == EventStatus.closed:
            # The hall empties: every table's result is in the backlog the same night.
            backlog.promote_event(organizer, event)
    return event


def _language(language: str | None) -> str:
    languages = current_app.config["LANGUAGES"]
    if language is None:
        language = str(get_locale() or languages[0])
    if language not in languages:
        raise ServiceError("bad_language", _l("Unknown language."))
    return language


def _translate_default_scripts(event: Event, language: str) -> None:
    for table in event.tables:
        untouched = table.steps and steps.script_of(table) == steps.table_default_script(table)
        if table.step_id is None and untouched:
            steps.set_script(
                table, steps.default_script(table.challenge, table.workshop_kind, language)
            )


def next_table_number(event: Event) -> int:
    """The number the event's next table gets: after the last one."""
    last = db.session.scalar(select(func.max(Table.number)).where(Table.event_id == event.id))
    return (last or 0) + 1


def add_table(organizer: Organizer, event: Event, **fields) -> Table:
    """Add a table to an event, numbered after the last one."""
    table = Table(
        event=event,
        number=next_table_number(event),
        join_code=_unique_code(Table, TABLE_CODE_LENGTH),
        facilitator_secret=new_secret(),
        challenge=Challenge.territorial,
        workshop_kind=WorkshopKind.starter,
    )
    _set_table_fields(table, fields)
    db.session.add(table)
    db.session.flush()
    steps.ensure_script(table)
    _record(organizer, "table.created", event, table)
    commit()
    return table


def _set_table_fields(table: Table, fields: dict) -> None:
    for name in TABLE_FIELDS:
        if name in fields and fields[name] is not None:
            value = fields[name]
            setattr(table, name, value.strip() if isinstance(value, str) else value)


def update_table(organizer: Organizer, table: Table, **fields) -> Table:
    """Change a table's name, challenge, kind, brief, facilitator or capacity.

    A new challenge or workshop kind brings its default script, as long as
    the table has not started its steps.
    """
    script_before = (table.challenge, table.workshop_kind)
    _set_table_fields(table, fields)
    if (table.challenge, table.workshop_kind) != script_before and table.step_id is None:
        steps.set_script(table, steps.table_default_script(table))
    _record(organizer, "table.updated", table.event, table)
    commit()
    return table


def delete_table(organizer: Organizer, table: Table) -> None:
    """Remove a table, with its participants and ideas."""
    event = table.event
    _record(organizer, "table.deleted", event, table)
    db.session.delete(table)
    commit()


def rotate_facilitator_secret(organizer: Organizer, table: Table) -> str:
    """Give a table a new facilitator link; the old one stops working at once."""
    table.facilitator_secret = new_secret()
    _record(organizer, "table.facilitator_link_rotated", table.event, table)
    cut_off_after_commit(console_room(table.id))  # consoles opened with the old link close
    commit()
    return table.facilitator_secret


def table_by_code(code: str) -> Table | None:
    """The table with this join code (as typed), or None."""
    return db.session.scalar(select(Table).where(Table.join_code == normalize_code(code)))


def event_by_code(code: str) -> Event | None:
    """The event with this join code (as typed), or None."""
    return db.session.scalar(select(Event).where(Event.join_code == normalize_code(code)))


def table_by_facilitator_secret(secret: str) -> Table | None:
    """The table this facilitator link opens, or None."""
    if not secret:
        return None
    return db.session.scalar(select(Table).where(Table.facilitator_secret == secret))


def table_by_number(event: Event, number) -> Table | None:
    """The evening's table with this number (as typed: "17", " 017 "), or None."""
    typed = str(number or "").strip()
    if not (typed.isascii() and typed.isdigit() and len(typed) <= 6):
        return None
    return db.session.scalar(
        select(Table).where(Table.event_id == event.id, Table.number == int(typed))
    )


def table_counts(event: Event) -> dict[int, dict[str, int]]:
    """Participants and visible ideas per table of ``event``."""
    table_ids = db.session.scalars(select(Table.id).where(Table.event_id == event.id))
    counts = {table_id: {"participants": 0, "ideas": 0} for table_id in table_ids}
    people = db.session.execute(
        select(Participant.table_id, func.count(Participant.id))
        .join(Table, Table.id == Participant.table_id)
        .where(Table.event_id == event.id, Participant.removed.is_(False))
        .group_by(Participant.table_id)
    )
    for table_id, n in people:
        counts[table_id]["participants"] = n
    ideas = db.session.execute(
        select(Idea.table_id, func.count(Idea.id))
        .join(Table, Table.id == Idea.table_id)
        .where(Table.event_id == event.id, Idea.deleted.is_(False), Idea.hidden.is_(False))
        .group_by(Idea.table_id)
    )
    for table_id, n in ideas:
        counts[table_id]["ideas"] = n
    return counts


def event_totals(event: Event, counts: dict | None = None) -> dict[str, int]:
    """The projector's counters: tables, participants, ideas (from ``counts``
    when the caller already has them)."""
    counts = table_counts(event) if counts is None else counts
    return {
        "tables": len(counts),
        "participants": sum(c["participants"] for c in counts.values()),
        "ideas": sum(c["ideas"] for c in counts.values()),
    }
