"""The app's theme suggestions for an evening, as a job (issue 18).

While a synthesis team follows a live evening (a desk screen open: someone
in its desk room), every housekeeping round looks whether its ideas changed since the
suggestions were last computed; if so, a job reads them (on the loop, as
plain values), groups them in a process of its own (:mod:`~.apart`), and
writes the result back as the app's suggestions through the one write path:
a new grouping becomes a suggestion, a suggestion no one took up and that no
longer comes out is withdrawn, and a grouping the evening already has (a
suggestion pending, or a theme of the team's) is left alone. Nothing is
applied without a person: the team accepts, edits or deletes suggestions.

After a restart nothing is remembered: the first round computes again, and
writes named after what they computed are answered from their receipts.
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import func, select

from .. import rooms
from ..client import envelope
from ..extensions import db, socketio
from ..jobs import Job
from ..models import Event, EventStatus, Idea, Step, StepKind, Table, Theme
from ..services import ServiceError, hints, writes
from . import suggest
from .apart import duplicates_apart, suggest_apart

MAX_IDEAS = suggest.MAX_IDEAS  # an evening's ideas read at most (the newest are left)


def _visible(query, event_id: int):
    """``query`` over the evening's ideas the whole team may group."""
    return query.join(Table, Table.id == Idea.table_id).where(
        Table.event_id == event_id,
        Idea.deleted.is_(False),
        Idea.hidden.is_(False),
        Idea.private.is_(False),
    )


def _visible_ideas(event_id: int) -> list[dict]:
    """The evening's ideas every screen of the team may group, as plain values."""
    query = select(Idea.id, Idea.text, Table.name, Table.brief_title)
    rows = db.session.execute(_visible(query, event_id).order_by(Idea.id).limit(MAX_IDEAS))
    return [
        {"id": idea_id, "text": text, "table": table, "brief": brief}
        for idea_id, text, table, brief in rows
    ]


def _marker(event_id: int) -> tuple:
    """What changes when the ideas to group do (how many, newest, latest edit)."""
    query = select(func.count(Idea.id), func.max(Idea.id), func.max(Idea.updated_at))
    return tuple(str(value) for value in db.session.execute(_visible(query, event_id)).one())


def _client_id(*parts) -> str:
    """A write named after what it computed: the same result, the same name."""
    return "app-" + hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def theme_suggestions(event_id: int) -> Job:
    """The job that suggests ``event_id``'s themes from its ideas as they are now."""
    event = db.session.get(Event, event_id)
    ideas, language = _visible_ideas(event_id), event.language if event else "fr"
    language = language if language in suggest.STEMMERS else "fr"

    def compute() -> dict:
        return suggest_apart(ideas, language) if ideas else {"themes": [], "duplicates": []}

    def apply(found: dict) -> None:
        write_suggestions(event_id, found["themes"])
        # Likely duplicates: hints to the desks, never merged (a person decides).
        pairs = hints.keep(hints.evening(event_id), found["duplicates"])
        socketio.emit("duplicates", {"pairs": pairs}, to=rooms.desk_room(event_id))

    return Job(f"themes:{event_id}", compute, apply, apart=True)


def write_suggestions(event_id: int, found: list[dict]) -> None:
    """Write ``found`` (``[{"label", "keywords", "ideas"}]``) as the app's
    suggestions for the evening: see the module's docstring."""
    event = db.session.get(Event, event_id)
    if event is None or event.status != EventStatus.live:
        return
    actor = writes.as_system(event)
    themes = db.session.scalars(
        select(Theme).where(Theme.event_id == event_id, Theme.deleted.is_(False))
    ).all()
    pending = {t.id: frozenset(t.idea_ids or []) for t in themes if t.suggested}
    existing = {frozenset(t.idea_ids or []) for t in themes}
    wanted = {frozenset(theme["ideas"]) for theme in found}
    pending_writes = []
    for theme in found:
        ideas = frozenset(theme["ideas"])
        if ideas in existing:
            continue
        data = {"label": theme["label"], "keywords": theme["keywords"], "idea_ids": theme["ideas"]}
        pending_writes.append(envelope("theme.suggest", data, _client_id(event_id, sorted(ideas))))
    for theme_id, ideas in pending.items():
        if ideas not in wanted:
            data = {"theme_id": theme_id}
            pending_writes.append(
                envelope("theme.withdraw", data, _client_id(event_id, "out", theme_id))
            )
    for write in pending_writes:
        try:
            writes.perform(actor, write)
        except ServiceError:  # an idea deleted meanwhile: the next round sees it
            return


def _grouping_tables(event_id: int) -> list[int]:
    """The evening's tables grouping their cards now, with a console open."""
    grouping = (
        select(Table.id)
        .join(Step, Step.id == Table.step_id)
        .where(Table.event_id == event_id, Step.kind == StepKind.cluster)
        .order_by(Table.id)
    )
    return [t for t in db.session.scalars(grouping) if rooms.reachable(rooms.console_room(t))]


def _table_ideas(table_ids: list[int]) -> dict[str, list[dict]]:
    """Each table's cards a console groups (not deleted, not hidden), as plain values."""
    rows = db.session.execute(
        select(Idea.id, Idea.table_id, Idea.text)
        .where(Idea.table_id.in_(table_ids), Idea.deleted.is_(False), Idea.hidden.is_(False))
        .order_by(Idea.id)
    )
    found: dict[str, list[dict]] = {str(t): [] for t in table_ids}
    for idea_id, table_id, text in rows:
        found[str(table_id)].append({"id": idea_id, "text": text})
    return found


def console_duplicates(event_id: int, table_ids: list[int]) -> Job:
    """The job that finds likely duplicates within each table being grouped,
    all of an evening's tables in one child process, and sends each console
    its table's (a hint: "looks like this card"; the facilitator decides)."""
    event = db.session.get(Event, event_id)
    ideas, language = _table_ideas(table_ids), event.language if event else "fr"
    language = language if language in suggest.STEMMERS else "fr"

    def compute() -> dict:
        return duplicates_apart(ideas, language)

    def apply(found: dict) -> None:
        for table_id, pairs in found.items():
            kept = hints.keep(hints.table(int(table_id)), pairs)
            socketio.emit("duplicates", {"pairs": kept}, to=rooms.console_room(int(table_id)))

    return Job(f"duplicates:{event_id}", compute, apply, apart=True)


def _due(computed: dict, key, every: float, now: float, marker) -> bool:
    """Whether ``key`` is to be computed again (its input changed, and not
    within ``every`` seconds of the last time); if so, remember it is."""
    last, when = computed.get(key, (None, -every))
    if now - when < every or (latest := marker()) == last:
        return False
    computed[key] = (latest, now)
    return True


def derive(app) -> list[Job]:
    """A job for each live evening followed by a synthesis team whose ideas
    changed since its suggestions were last computed (in this process), and
    one for the evening's tables grouping their cards at an open console, at
    most every ``SUGGEST_EVERY`` seconds each (grouping a hall's ideas takes
    a second or two of a core: not at every round while they pour in)."""
    if not app.config["SUGGESTIONS"]:
        return []
    computed = app.extensions.setdefault("themes_computed_from", {})  # key -> (marker, when)
    every, now = app.config["SUGGEST_EVERY"], time.monotonic()
    jobs = []
    live = select(Event.id).where(Event.status == EventStatus.live)
    for event_id in db.session.scalars(live):
        if rooms.reachable(rooms.desk_room(event_id)) and _due(
            computed, event_id, every, now, lambda e=event_id: _marker(e)
        ):
            jobs.append(theme_suggestions(event_id))
        grouping = _grouping_tables(event_id)
        if grouping and _due(
            computed, ("tables", event_id), every, now,
            lambda t=grouping: (t, _table_marker(t)),
        ):  # fmt: skip
            jobs.append(console_duplicates(event_id, grouping))
    return jobs


def _table_marker(table_ids: list[int]) -> tuple:
    """What changes when the cards of ``table_ids`` do."""
    query = select(func.count(Idea.id), func.max(Idea.id), func.max(Idea.updated_at)).where(
        Idea.table_id.in_(table_ids), Idea.deleted.is_(False), Idea.hidden.is_(False)
    )
    return tuple(str(value) for value in db.session.execute(query).one())
