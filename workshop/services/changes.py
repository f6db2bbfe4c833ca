"""Live entities: sequence numbers, what each screen may see, catch-up
(DESIGN.md §6, "one write path for everything live").

Every live entity of a table (its state, a participant, an idea…) carries the
sequence number of its latest change, taken from the table's counter. A
service that changes one calls :func:`touch`; at commit the entity gets its
number and the after-commit publisher pushes it to every screen of the table,
redacted for each. Catch-up (:func:`since`) returns the current state of every
entity changed after N, redacted the same way, so that a screen that missed a
push sees exactly what the push would have shown it.

An evening has a stream of its own, numbered the same way from the
evening's counter (``Event.last_seq``): what belongs to the evening as a
whole (its themes, the room's vote, the synthesis desk). Its changes are
pushed to the evening's room under the name ``evening`` and caught up with
``sync {stream: "evening", since}`` (:func:`evening_catch_up`); a screen may
follow its table's stream and its evening's.

Every number reaches every screen: where a viewer may not see an entity
(another phone's private idea, a hidden idea), it gets a placeholder with the
number, so that withheld content never looks like a lost push.
"""

from __future__ import annotations

import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar

from flask import current_app
from sqlalchemy import (
    bindparam,
    exists,
    insert,
    inspect,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, joinedload

from .. import clock
from ..extensions import db
from ..models import (
    ApartPair,
    Cluster,
    Commitment,
    Event,
    EventStatus,
    Idea,
    IdeaKind,
    Participant,
    RoomBallot,
    SheetField,
    Step,
    Table,
    Theme,
    Vote,
)
from ..sqlite import Prepared
from . import sheet_template
from .inputs import integer

PENDING = "live_pending"  # session.info key: entities touched, waiting for a number
NEW = "live_new"  # session.info key: entities to insert directly (add_new)
VIEWS = "live_views"  # session.info key: views rendered in this transaction
ANSWERED = "live_answered"  # session.info key: the viewer the write's answer shows its changes
EXTRA = "live_extra"  # session.info key: event-wide pushes (plenary) waiting for the commit
CUT = "live_cut"  # session.info key: rooms whose screens are closed after the commit


@dataclass(frozen=True)
class Viewer:
    """Who looks: decides what an entity's view withholds."""

    role: str  # participant | facilitator | organizer | projector
    participant_id: int | None = None

    @property
    def moderator(self) -> bool:
        return self.role in ("facilitator", "organizer")

    def owns(self, participant_id: int | None) -> bool:
        return participant_id is not None and participant_id == self.participant_id


PHONE = Viewer("participant")  # any phone of the table but the author's
CONSOLE = Viewer("facilitator")
ORGANIZER = Viewer("organizer")


# --- views -----------------------------------------------------------------------


def table_view(table: Table, viewer: Viewer) -> dict:
    """The table's live state: event open, its script's steps in order, the
    current step and timer, reporter, display; for the facilitator and
    organizers, the organizers' message."""
    reporter = table.reporter
    view = {
        "type": "table",
        "id": table.id,
        "seq": table.state_seq,
        "open": table.event.status == EventStatus.live,
        "status": str(table.event.status),
        "reporter_id": reporter.id if reporter else None,
        "reporter": reporter.display_name if reporter else "",
        "anonymous": table.anonymous,
        "step_id": table.step_id,
        # The script's order; each step is its own entity, pushed when it
        # changes (a step push to a hundred tables stays small).
        "step_ids": step_ids(table),
        "timer": {
            "ends_at": clock.ms(table.timer_ends_at),
            "left": table.timer_left,
        },
        # Keys only: each screen labels the fields in its own language.
        "sheet": sheet_template.keys(table.challenge),
        # The room-wide vote on the evening's themes, the same at every table.
        "room_vote": room_vote_view(table.event),
    }
    if viewer.moderator:
        view["message"] = table.console_message
        view["message_at"] = clock.ms(table.console_message_at)
    return view


_STEP_IDS = select(Step.id).where(Step.table_id == bindparam("table_id")).order_by(Step.position)


SCRIPTS = "known_scripts"  # session.info key: {table id: its step ids in order}


def step_ids(table: Table) -> list[int]:
    """The ids of ``table``'s script in order: from its steps when loaded
    (or told by :func:`scripts_known`), else by one query built once (a
    screen's catch-up needs no step loaded for this; the relationship's own
    loader costs several times more)."""
    if "steps" in inspect(table).dict:
        return [step.id for step in table.steps]
    known = db.session.info.get(SCRIPTS)
    if known is not None and table.id in known:
        return known[table.id]
    return list(db.session.scalars(_STEP_IDS, {"table_id": table.id}))


@contextmanager
def scripts_known(scripts: dict[int, list[int]]):
    """Within this block, tables' views take their scripts from ``scripts``
    (a write to a hundred tables reads them all in one query; no script
    changes during it)."""
    db.session.info[SCRIPTS] = scripts
    try:
        yield
    finally:
        db.session.info.pop(SCRIPTS, None)


def step_view(step: Step, _viewer: Viewer) -> dict:
    """One step of the script: what the table does, asks, for how long, and
    its live settings (private round revealed, vote open or closed, results)."""
    return {
        "type": "step",
        "id": step.id,
        "seq": step.seq,
        "kind": step.kind.value,
        "title": step.title,
        "prompt": step.prompt,
        "duration": step.duration,
        "settings": step.settings or {},
    }


def participant_view(participant: Participant, _viewer: Viewer) -> dict:
    """A participant as the table sees them: never their contact."""
    return {
        "type": "participant",
        "id": participant.id,
        "seq": participant.seq,
        "name": participant.display_name,
        "category": participant.category.value,
        "intro": participant.intro,
        "brings": participant.brings,
        "expects": participant.expects,
        "removed": participant.removed,
    }


def idea_view(idea: Idea, viewer: Viewer) -> dict:
    """An idea for ``viewer``: a placeholder where its content is withheld.

    The facilitator sees hidden and private ideas (to show or reveal them);
    an author sees their own private ideas; nobody gets a deleted idea's text.
    """
    owner = viewer.owns(idea.participant_id)
    view: dict[str, Any] = {
        "type": "idea",
        "id": idea.id,
        "seq": idea.seq,
        "step_id": idea.step_id,
        "hidden": idea.hidden,
        "private": idea.private,
        "deleted": idea.deleted,
        "cluster_id": idea.cluster_id,
    }
    withheld = idea.deleted or (
        not viewer.moderator and ((idea.hidden and not owner) or (idea.private and not owner))
    )
    if withheld:
        view["withheld"] = True
        return view
    anonymous = idea.table.anonymous and not (viewer.moderator or owner)
    view.update(
        kind=idea.kind.value,
        text=idea.text,
        author_id=None if anonymous else idea.participant_id,
        author="" if anonymous or idea.author is None else idea.author.display_name,
    )
    if owner or viewer.moderator:
        view["client_id"] = idea.client_id
    return view


def vote_view(vote: Vote, viewer: Viewer) -> dict:
    """One dot: its voter sees where it went; the facilitator sees who voted
    (not for what); the others only that a vote changed. Results are the
    vote step's tally, shown once the vote is closed."""
    view: dict[str, Any] = {
        "type": "vote",
        "id": vote.id,
        "seq": vote.seq,
        "step_id": vote.step_id,
        "active": vote.active,
    }
    if viewer.owns(vote.participant_id):
        view.update(idea_id=vote.idea_id, participant_id=vote.participant_id)
    elif viewer.moderator:
        view.update(participant_id=vote.participant_id, withheld=True)
    else:
        view["withheld"] = True
    return view


def room_ballot_view(ballot: RoomBallot, viewer: Viewer) -> dict:
    """A ballot of the room's vote: only its voter sees their points (a
    secret ballot: not even the facilitator)."""
    view: dict[str, Any] = {
        "type": "room_ballot",
        "id": ballot.id,
        "seq": ballot.seq,
        "vote": ballot.vote,
    }
    if viewer.owns(ballot.participant_id):
        view["points"] = dict(ballot.points or {})
    else:
        view["withheld"] = True
    return view


def room_vote_view(event: Event) -> dict | None:
    """The room's vote as every screen of a table sees it (None before one
    is opened): its themes and budget; its results once closed."""
    vote = event.room_vote or {}
    if not vote.get("state"):
        return None
    keys = ("state", "mode", "budget", "themes", "opened_at")
    view = {key: vote.get(key) for key in keys}
    if vote["state"] == "closed":
        view["results"] = vote.get("results", [])
    return view


def cluster_view(cluster: Cluster, _viewer: Viewer) -> dict:
    return {
        "type": "cluster",
        "id": cluster.id,
        "seq": cluster.seq,
        "name": cluster.name,
        "position": cluster.position,
        "deleted": cluster.deleted,
    }


def sheet_field_view(field: SheetField, _viewer: Viewer) -> dict:
    return {
        "type": "sheet_field",
        "id": field.id,
        "seq": field.seq,
        "key": field.key,
        "text": field.text,
        "version": field.version,
        "edited_by": field.edited_by,
        "editing_by": sheet_template.editing(field),
        # When the note "X is writing" started: screens let it fade by themselves.
        "editing_at": clock.ms(field.editing_at) if sheet_template.editing(field) else None,
    }


def commitment_view(commitment: Commitment, viewer: Viewer) -> dict:
    """A commitment, shown openly to the table (that is the point of stating
    one's interests), never with a contact."""
    view = {
        "type": "commitment",
        "id": commitment.id,
        "seq": commitment.seq,
        "participant_id": commitment.participant_id,
        "withdrawn": commitment.withdrawn,
    }
    if not commitment.withdrawn:
        view.update(
            role=commitment.role.value,
            contribution=commitment.contribution,
            expects=commitment.expects,
            hours_per_month=commitment.hours_per_month,
        )
    if viewer.owns(commitment.participant_id) or viewer.moderator:
        participant = db.session.get(Participant, commitment.participant_id)
        view["consent"] = bool(participant and participant.contact_consent)
    return view


def pinned_quotes(theme: Theme) -> list[int]:
    """The ideas the team pinned as the theme's quotes, among those it still gathers."""
    ideas = set(theme.idea_ids or [])
    return [idea_id for idea_id in theme.pinned or [] if idea_id in ideas]


def theme_view(theme: Theme, _viewer: Viewer) -> dict:
    """A theme of the synthesis as the team sees it: who proposed it (the
    app or a person) and whether a person has taken it up."""
    view: dict[str, Any] = {
        "type": "theme",
        "id": theme.id,
        "seq": theme.seq,
        "deleted": theme.deleted,
    }
    if not theme.deleted:
        view.update(
            label=theme.label,
            keywords=list(theme.keywords or []),
            idea_ids=list(theme.idea_ids or []),
            pinned=pinned_quotes(theme),
            suggested=theme.suggested,
            by="app" if theme.created_by == SYSTEM else "team",
            version=theme.version,
        )
    return view


def apart_view(pair: ApartPair, _viewer: Viewer) -> dict:
    """Two ideas the team said are not the same (or took that back)."""
    return {
        "type": "apart",
        "id": pair.id,
        "seq": pair.seq,
        "a": pair.idea_a,
        "b": pair.idea_b,
        "apart": pair.apart,
    }


TABLE, EVENING = "table", "evening"  # the streams: a table's, an evening's
SYSTEM = "app"  # the key of what the app itself writes (its suggestions)


@dataclass(frozen=True)
class LiveType:
    """One kind of live entity: its model, its sequence column, its view."""

    name: str
    model: type
    seq_attr: str
    view: Any
    counted: bool = False  # changes move the organizers' counters
    stream: str = TABLE  # numbered in its table's stream, or its evening's

    def owner(self, obj) -> int | None:
        """The participant who sees more of ``obj`` than the rest of the table."""
        return getattr(obj, "participant_id", None)

    def changed(self, stream_id: int, since: int, upto: int) -> list:
        """This type's entities of the table (or evening) ``stream_id``
        changed in (since, upto]."""
        if self.model is Table:
            table = db.session.scalar(_TABLE, {"table_id": stream_id})
            return [table] if table is not None and since < table.state_seq <= upto else []
        found = db.session.scalars(
            self._changed, {"stream_id": stream_id, "since": since, "upto": upto}
        )
        return list(found)

    @cached_property
    def _changed(self):
        # Built once (building and keying a statement cost more than running it).
        seq = getattr(self.model, self.seq_attr)
        key = self.model.event_id if self.stream == EVENING else self.model.table_id
        query = select(self.model).where(
            key == bindparam("stream_id"),
            seq > bindparam("since"),
            seq <= bindparam("upto"),
        )
        if self.model is Idea:
            # Joined, not a second query: a catch-up after a drop finds a few
            # ideas, and a query of its own for their authors cost more than them.
            query = query.options(joinedload(Idea.author))
        return query


@dataclass(eq=False)
class NewIdea:
    """A card being posted, as plain values: inserted by one Core statement
    and rendered from these values, so that a phone's post loads no entity
    (an ORM object, its table and author cost more than the insert itself).
    Rendered by :func:`idea_view` like a loaded :class:`Idea`."""

    __table__: ClassVar = Idea.__table__

    table_id: int
    participant_id: int
    client_id: str
    kind: IdeaKind
    text: str
    step_id: int | None
    private: bool
    created_at: datetime
    event_id: int  # what the publisher needs of the table, known to the writer
    table: Any  # .anonymous, as Idea.table
    author: Any  # .display_name, as Idea.author
    updated_at: datetime | None = None
    hidden: bool = False
    deleted: bool = False
    cluster_id: int | None = None
    seq: int = 0
    id: int | None = None

    def __post_init__(self):
        self.updated_at = self.updated_at or self.created_at


@dataclass(eq=False)
class NewVote:
    """A vote being cast, as plain values (see :class:`NewIdea`)."""

    __table__: ClassVar = Vote.__table__

    table_id: int
    step_id: int
    participant_id: int
    idea_id: int
    created_at: datetime
    event_id: int
    active: bool = True
    seq: int = 0
    id: int | None = None


# With its evening: the table's view says whether it is open. Built once.
_TABLE = select(Table).options(joinedload(Table.event)).where(Table.id == bindparam("table_id"))

TYPES: dict[type, LiveType] = {
    Table: LiveType("table", Table, "state_seq", table_view),
    Step: LiveType("step", Step, "seq", step_view),
    Participant: LiveType("participant", Participant, "seq", participant_view, counted=True),
    Idea: LiveType("idea", Idea, "seq", idea_view, counted=True),
    Vote: LiveType("vote", Vote, "seq", vote_view),
    Cluster: LiveType("cluster", Cluster, "seq", cluster_view),
    SheetField: LiveType("sheet_field", SheetField, "seq", sheet_field_view),
    Commitment: LiveType("commitment", Commitment, "seq", commitment_view),
    RoomBallot: LiveType("room_ballot", RoomBallot, "seq", room_ballot_view),
    Theme: LiveType("theme", Theme, "seq", theme_view, stream=EVENING),
    ApartPair: LiveType("apart", ApartPair, "seq", apart_view, stream=EVENING),
}
TABLE_TYPES = [live_type for live_type in TYPES.values() if live_type.stream == TABLE]
EVENING_TYPES = [live_type for live_type in TYPES.values() if live_type.stream == EVENING]
BY_NAME = {live_type.name: live_type for live_type in TYPES.values()}
# A card being posted is an idea too, a vote being cast a vote (not kinds of
# their own: catch-up reads each kind once).
_BY_CLASS = {**TYPES, NewIdea: TYPES[Idea], NewVote: TYPES[Vote]}


def live_type(obj) -> LiveType:
    """The kind of live entity ``obj`` is (loaded, or a card being posted)."""
    return _BY_CLASS[type(obj)]


def view(obj, viewer: Viewer, session: Session | None = None) -> dict:
    """What ``viewer`` may see of a live entity.

    Within a write's transaction an entity is rendered once per kind of
    viewer (the writer's answer and the pushes share it): every moderator
    sees the same, as does every phone but the owner's.
    """
    session = session or db.session
    viewer = CONSOLE if viewer.moderator else viewer
    if viewer.role == "participant" and not viewer.owns(live_type(obj).owner(obj)):
        viewer = PHONE
    views = session.info.setdefault(VIEWS, {})
    key = (id(obj), viewer)
    if key not in views:
        views[key] = live_type(obj).view(obj, viewer)
    return views[key]


def stream_of(obj) -> tuple[str, int]:
    """The stream ``obj``'s changes are numbered in: its table's or its evening's."""
    if live_type(obj).stream == EVENING:
        return EVENING, obj.event_id
    return TABLE, table_id_of(obj)


def table_id_of(obj) -> int:
    if isinstance(obj, Table):
        return obj.id
    # A new participant may know its table only through the relationship yet.
    return obj.table_id if obj.table_id is not None else obj.table.id


# --- numbering ---------------------------------------------------------------------


def touch(obj, session: Session | None = None) -> None:
    """Mark a live entity as changed: it gets the table's next number at
    commit (or at :func:`assign`), then is pushed to every screen."""
    session = session or db.session
    pending = session.info.setdefault(PENDING, [])
    if not any(o is obj for o in pending):
        pending.append(obj)


def add_new(obj, session: Session | None = None) -> None:
    """Add a new live entity given as plain values (a :class:`NewIdea`) and
    touch it: at :func:`assign` it is inserted with one prebuilt Core
    ``INSERT`` rather than by the unit of work's flush (which cost more than
    the insert itself on every post), and rendered from those values."""
    session = session or db.session
    session.info.setdefault(NEW, []).append(obj)
    touch(obj, session)


def _insert(session: Session, obj) -> None:
    values = {column.key: getattr(obj, column.key) for column in obj.__table__.columns}
    del values["id"]
    [(obj.id,)] = _INSERTS[type(obj)].run(session.connection(), values)


def pending(session: Session | None = None) -> list:
    """Entities touched in the open transaction (numbered or not)."""
    return list((session or db.session).info.get(PENDING, []))


# Built once: a Core statement on the session's connection costs a fraction of
# an ORM-enabled UPDATE built anew, and this runs for every write.
_tables = Table.__table__
_NUMBER_CHANGES = Prepared(
    update(_tables)
    .where(_tables.c.id == bindparam("table_id"))
    .values(last_seq=_tables.c.last_seq + bindparam("count"), last_activity_at=bindparam("now"))
    .returning(_tables.c.last_seq)
)
_events = Event.__table__
_NUMBER_EVENING_CHANGES = Prepared(
    update(_events)
    .where(_events.c.id == bindparam("event_id"))
    .values(last_seq=_events.c.last_seq + bindparam("count"))
    .returning(_events.c.last_seq)
)
_INSERTS = {
    new: Prepared(insert(new.__table__).returning(new.__table__.c.id)) for new in (NewIdea, NewVote)
}


def assign(session: Session | None = None) -> None:
    """Give every touched entity its sequence number (idempotent).

    One ``UPDATE … RETURNING`` per table hands out a block of numbers; the row
    lock it takes is held until commit, so numbers follow commit order and
    catch-up by "seq > N" never skips one.
    """
    session = session or db.session
    numbered = session.info.setdefault("live_numbered", set())
    todo = [o for o in session.info.get(PENDING, []) if id(o) not in numbered]
    if not todo:
        return
    by_stream: dict[tuple[str, int], list] = {}
    for obj in todo:
        by_stream.setdefault(stream_of(obj), []).append(obj)
    # Not flushed before numbering: two new entities must not meet at seq 0.
    with session.no_autoflush:
        for (stream, stream_id), objs in by_stream.items():
            if stream == EVENING:
                numbers = _NUMBER_EVENING_CHANGES
                values = {"event_id": stream_id, "count": len(objs)}
            else:
                numbers = _NUMBER_CHANGES
                values = {"table_id": stream_id, "count": len(objs), "now": clock.now()}
            [(last,)] = numbers.run(session.connection(), values)
            for offset, obj in enumerate(objs):
                setattr(obj, live_type(obj).seq_attr, last - len(objs) + 1 + offset)
                numbered.add(id(obj))
        for obj in session.info.pop(NEW, []):
            _insert(session, obj)
    session.flush()


def push_after_commit(room: str, name: str, payload: dict, session: Session | None = None) -> None:
    """Emit ``name`` to ``room`` once the open transaction has committed (for
    what is not a table's live entity: the plenary, a console's presence)."""
    (session or db.session).info.setdefault(EXTRA, []).append((room, name, payload))


def cut_off_after_commit(room: str, session: Session | None = None) -> None:
    """Close every screen in ``room`` once the open transaction has committed
    (a participant taken off the table, a sign-in ended, a link replaced)."""
    (session or db.session).info.setdefault(CUT, []).append(room)


def answered_as(viewer: Viewer, session: Session | None = None) -> None:
    """Say that the write about to commit answers its writer with its changes
    as ``viewer`` sees them: the writer's screen is not pushed them again."""
    (session or db.session).info[ANSWERED] = viewer


def clear(session: Session) -> list:
    """Forget the touched entities (after commit or rollback); return them."""
    session.info.pop("live_numbered", None)
    session.info.pop(VIEWS, None)
    session.info.pop(NEW, None)
    return session.info.pop(PENDING, [])


def seq_of(obj) -> int:
    return getattr(obj, live_type(obj).seq_attr)


# --- catching up ---------------------------------------------------------------------


_CURRENT_SEQ = Prepared(select(Table.last_seq).where(Table.id == bindparam("table_id")))
# The table last: its reporter is then among the participants loaded.
_CATCH_UP_ORDER = sorted(TABLE_TYPES, key=lambda live_type: live_type.model is Table)


def _types_changed_query():
    # Which types have changes in (since, upto]: one query instead of one per
    # type, most of them empty (a phone connecting meets no vote, no cluster…).
    found = []
    for live_type in TABLE_TYPES:
        if live_type.model is Table:
            continue
        seq = getattr(live_type.model, live_type.seq_attr)
        changed = exists().where(
            live_type.model.table_id == bindparam("table_id"),
            seq > bindparam("since"),
            seq <= bindparam("upto"),
        )
        found.append(select(literal(live_type.name)).where(changed))
    return union_all(*found)


_TYPES_CHANGED = _types_changed_query()


def current_seq(table_id: int) -> int:
    found = _CURRENT_SEQ.run(db.session.connection(), {"table_id": table_id})
    return (found[0][0] if found else 0) or 0


def _start(since_seq) -> int:
    """Where a catch-up starts: the number a screen sent, if it is one."""
    since_seq = integer(since_seq)
    return since_seq if since_seq is not None and since_seq >= 0 else 0


def since(table_id: int, since_seq, viewer: Viewer) -> tuple[list[dict], int]:
    """Every entity of table ``table_id`` changed after ``since_seq``, as
    ``viewer`` sees it, in sequence order; and the table's current number.
    (By id: the usual catch-up, with nothing missed, loads no entity.)"""
    since_seq = _start(since_seq)
    upto = current_seq(table_id)
    if upto <= since_seq:  # the usual catch-up after a beacon or a short drop
        return [], upto
    if viewer.role == "participant":
        return [
            own if owner is not None and viewer.owns(owner) else phone
            for phone, owner, own in _phones_catch_up(table_id, since_seq, upto)
        ], upto
    return [
        live_type.view(obj, viewer) for live_type, obj in _changed(table_id, since_seq, upto)
    ], upto


def _changed(table_id: int, since_seq: int, upto: int) -> list[tuple[LiveType, Any]]:
    """The entities of ``table_id`` whose number is in (since_seq, upto], in order."""
    span = {"table_id": table_id, "since": since_seq, "upto": upto}
    changed = set(db.session.scalars(_TYPES_CHANGED, span))
    found = [
        (seq_of(obj), live_type, obj)
        for live_type in _CATCH_UP_ORDER
        if live_type.model is Table or live_type.name in changed
        for obj in live_type.changed(table_id, since_seq, upto)
    ]
    return [(live_type, obj) for _seq, live_type, obj in sorted(found, key=lambda f: f[0])]


# The phones of a table connect together (the evening starts, the Wi-Fi comes
# back) and ask for the same numbers: their catch-up is the same but for what
# each one owns. It is worked out once, with each entity's view for the other
# phones and for its owner, and kept a little while. The key holds the table's
# current number: any change makes a new key, so a kept answer is never stale
# for what the protocol carries (a change without a number, such as a purge,
# is covered by the time limit).
PHONES_CATCH_UPS_KEPT = 1000  # answers kept per server process: a hall's tables, a few times
PHONES_CATCH_UP_TTL = 30.0  # seconds


def _phones_catch_up(table_id: int, since_seq: int, upto: int) -> list[tuple]:
    """``(view for any phone, owner id, view for its owner)`` of every
    entity changed in (since_seq, upto], in order."""
    kept = current_app.extensions.setdefault("phones_catch_ups", {})
    key = (table_id, since_seq, upto)
    now = time.monotonic()
    found = kept.get(key)
    if found is not None and found[0] > now:
        return found[1]
    entries = []
    for live_type, obj in _changed(table_id, since_seq, upto):
        owner = live_type.owner(obj)
        own = live_type.view(obj, Viewer("participant", owner)) if owner is not None else None
        entries.append((live_type.view(obj, PHONE), owner, own))
    while len(kept) >= PHONES_CATCH_UPS_KEPT:
        kept.pop(next(iter(kept)), None)  # the oldest first
    kept[key] = (now + PHONES_CATCH_UP_TTL, entries)
    return entries


# --- after a power cut ---------------------------------------------------------------
# Where commits reach the disk in groups (SQLite under run.py, see
# workshop/sqlite.py GroupFlush), pushes leave once a change is committed and
# acknowledgements once it is on disk: after a power cut, a screen may have
# seen numbers that the database no longer has, and that new changes reuse.
# Each start of such a server opens an epoch, told with every catch-up; a
# screen of an earlier epoch that saw a number above its table's number at
# this start is reset: it forgets what it knows and gets everything again.
# (Elsewhere commits are on disk before any push: nothing to repair.)


@dataclass
class Start:
    """This server's epoch (None: pushes never outrun the disk) and every
    table's (and evening's) number when it started."""

    epoch: str | None = None
    floors: dict[int, int] = field(default_factory=dict)
    evening_floors: dict[int, int] = field(default_factory=dict)


START = Start()


def remember_start() -> None:
    """Open a new epoch: call at the start of a server whose pushes may
    outrun the disk, before it writes anything."""
    START.floors = dict(db.session.execute(select(Table.id, Table.last_seq)).all())
    START.evening_floors = {
        event_id: seq for event_id, seq in db.session.execute(select(Event.id, Event.last_seq))
    }
    START.epoch = secrets.token_hex(6)


def _saw_lost_numbers(floor: int, data: dict) -> bool:
    epoch = data.get("epoch")
    if START.epoch is None or not isinstance(epoch, str) or epoch == START.epoch:
        return False
    seen = max(integer(data.get("since")) or 0, integer(data.get("seen")) or 0)
    return seen > floor


def _since_and_epoch(data: dict, floor: int) -> tuple[Any, dict]:
    """Where a catch-up starts, and what its answer says of this server's epoch."""
    answer: dict[str, Any] = {}
    since_seq = data.get("since")
    if START.epoch is not None:
        answer["epoch"] = START.epoch
        if _saw_lost_numbers(floor, data):
            answer["reset"], since_seq = True, 0
    return since_seq, answer


def catch_up(table_id: int, data: dict, viewer: Viewer) -> dict:
    """A screen's catch-up (``data``: ``since``, the highest number it has
    ``seen``, its ``epoch``): ``{seq, changes}`` since its number, with this
    server's ``epoch``; with ``reset`` and everything if what it saw may
    have been lost in a power cut."""
    since_seq, answer = _since_and_epoch(data, START.floors.get(table_id, 0))
    answer["changes"], answer["seq"] = since(table_id, since_seq, viewer)
    return answer


_EVENING_SEQ = Prepared(select(Event.last_seq).where(Event.id == bindparam("event_id")))


def evening_catch_up(event_id: int, data: dict, viewer: Viewer) -> dict:
    """A screen's catch-up on the evening's own stream, as :func:`catch_up`
    on a table's: ``{seq, changes}`` since its number, in order."""
    since_seq, answer = _since_and_epoch(data, START.evening_floors.get(event_id, 0))
    since_seq = _start(since_seq)
    found = _EVENING_SEQ.run(db.session.connection(), {"event_id": event_id})
    upto = (found[0][0] if found else 0) or 0
    changed = []
    if upto > since_seq:
        for live_type_ in EVENING_TYPES:
            changed += live_type_.changed(event_id, since_seq, upto)
    answer["changes"] = [live_type(obj).view(obj, viewer) for obj in sorted(changed, key=seq_of)]
    answer["seq"] = upto
    return answer


def refs(objs) -> list[list]:
    """Plain references to entities, kept in a write's receipt."""
    return [[live_type(o).name, o.id] for o in objs]


def resolve(references) -> list:
    """The entities a receipt refers to, in their current state."""
    found = []
    for name, entity_id in references or []:
        live_type = BY_NAME.get(name)
        obj = db.session.get(live_type.model, entity_id) if live_type else None
        if obj is not None:
            found.append(obj)
    return found
