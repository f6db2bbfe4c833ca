"""The organizers' control room (DESIGN.md §5, §11): every table at a glance,
steps pushed to many tables, a word to every console.

Whether a table's console is connected is kept in the database (each server
refreshes the tables whose consoles it holds), so that it holds across
processes and a crashed server's consoles fade out by themselves.
"""

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import Event, Participant, Step, StepKind, Table
from . import journal, steps, votes
from .changes import ORGANIZER, scripts_known, step_view, table_view, touch
from .inputs import bad_request, clean_text, integer
from .transaction import commit
from .writes import Request, in_batches, op

PRESENCE_REFRESH = 30  # seconds between two refreshes by a server of its consoles
PRESENCE_TTL = 75  # seconds after which an unrefreshed console counts as gone
MAX_MESSAGE = 300


def console_connected(table: Table) -> bool:
    seen = clock.aware(table.console_seen_at)
    return seen is not None and clock.now() - seen < timedelta(seconds=PRESENCE_TTL)


def mixes(event: Event) -> dict[int, dict[str, int]]:
    """Each table's participants by actor category (the table's mix)."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    rows = db.session.execute(
        select(Participant.table_id, Participant.category, func.count(Participant.id))
        .join(Table, Table.id == Participant.table_id)
        .where(Table.event_id == event.id, Participant.removed.is_(False))
        .group_by(Participant.table_id, Participant.category)
    )
    for table_id, category, n in rows:
        found[table_id][str(category)] = n
    return found


def table_summary(table: Table, mix: dict[str, int] | None = None) -> dict:
    """One table's row in the control room."""
    return {
        **table_view(table, ORGANIZER),
        "steps": [step_view(step, ORGANIZER) for step in table.steps],
        "number": table.number,
        "name": table.name,
        "challenge": str(table.challenge),
        "last_activity": clock.ms(table.last_activity_at),
        "console": console_connected(table),
        "mix": mix or {},
    }


def tables_of(event: Event) -> list[Table]:
    """An evening's tables in number order, with what their views read loaded
    at once (a hundred tables: three queries, not three hundred)."""
    return list(
        db.session.scalars(
            select(Table)
            .options(selectinload(Table.steps), selectinload(Table.reporter))
            .where(Table.event_id == event.id)
            .order_by(Table.number)
        )
    )


def summaries(event: Event) -> list[dict]:
    """Every table of ``event``, in number order."""
    mix = mixes(event)
    return [table_summary(table, mix.get(table.id)) for table in tables_of(event)]


def mark_consoles(table_ids, connected: bool) -> None:
    """Record that this server holds (or no longer holds) these tables' consoles."""
    if not table_ids:
        return
    db.session.execute(
        update(Table)
        .where(Table.id.in_(list(table_ids)))
        .values(console_seen_at=clock.now() if connected else None),
        execution_options={"synchronize_session": False},
    )
    commit()


@op("console.message", "organizer")
def message_console(req: Request) -> None:
    """A short message from the organizers, shown on the table's console."""
    table = req.actor.table
    text = clean_text(req.data.get("text"), MAX_MESSAGE)
    table.console_message = text
    table.console_message_at = clock.now()
    touch(table)


MAX_TABLES = 500
# Built once (building and keying a statement costs more than running it here).
_SCRIPTS = (
    select(Step.table_id, Step.id)
    .join(Table, Table.id == Step.table_id)
    .where(Table.event_id == bindparam("event_id"))
    .order_by(Step.table_id, Step.position)
)
_STEPS_OF_KIND = (
    select(Step)
    .join(Table, Table.id == Step.table_id)
    .where(Table.event_id == bindparam("event_id"), Step.kind == bindparam("kind"))
    .order_by(Step.table_id, Step.position)
)
_TABLES = (
    select(Table)
    .options(selectinload(Table.reporter))
    .where(Table.event_id == bindparam("event_id"))
    .order_by(Table.number)
)


@op("tables.step", "organizer", event_wide=True)
def push_step(req: Request) -> None:
    """Move many tables at once to their step of a kind ("everyone to the
    vote", "plenary"): one write, committed a few tables at a time so that
    the phones' posts go on meanwhile. Tables without such a step, or already
    at it, stay as they are; a vote step opens its vote.
    """
    try:
        kind = StepKind(req.data.get("kind"))
    except ValueError:
        raise bad_request() from None
    wanted = req.data.get("table_ids")
    if wanted is not None and (
        not isinstance(wanted, list)
        or len(wanted) > MAX_TABLES
        or any(integer(table_id) is None for table_id in wanted)
    ):
        raise bad_request()
    chosen = None if wanted is None else set(wanted)
    event = req.actor.event
    # The scripts as ids (every table's view lists its steps) and only the
    # steps of this kind as entities: a hundred tables' eight steps loaded
    # as entities cost more than the whole push.
    scripts: dict[int, list[int]] = defaultdict(list)
    for table_id, step_id in db.session.execute(_SCRIPTS, {"event_id": event.id}):
        scripts[table_id].append(step_id)
    of_kind: dict[int, Step] = {}
    for step in db.session.scalars(_STEPS_OF_KIND, {"event_id": event.id, "kind": kind}):
        of_kind.setdefault(step.table_id, step)  # a table's first of that kind
    tables = [
        table
        for table in db.session.scalars(_TABLES, {"event_id": event.id})
        if (chosen is None or table.id in chosen) and table.id in of_kind
    ]
    with scripts_known(scripts):
        for table in in_batches(tables):
            step = of_kind[table.id]
            steps.open_step(table, step)
            vote_state = (step.settings or {}).get("state")
            if kind == StepKind.vote and vote_state not in ("open", "closed"):
                votes.set_state(step, "open")
    journal.record(
        req.actor.journal_name,
        "tables.step_pushed",
        str(kind),
        territory_id=req.actor.event.territory_id,
        event_id=req.actor.event.id,
        tables=wanted,
    )
