"""One write path for every live write, from a phone or a console (DESIGN.md §6).

A write is an envelope ``{op, client_id, data, base_seq?}``. It is answered
``{ok: true, seq, changes, now}`` (the changed entities as the writer sees
them) or ``{ok: false, error, message, permanent, retry_after?}``. The
idempotency key is the *actor* (a participant, the facilitator of a table, an
organizer) and the client id: the receipt of every write is stored with the
change, in the same transaction, so a resend — however late, however often —
is answered from the receipt and changes nothing again. (A phone's card is
its own receipt: it keeps its author and client id, unique together.) Likewise a writer's
budgets (new posts a minute, writes that change nothing…) are spent by new
writes only: a resend costs nothing.

Operations are plain functions registered with :func:`op` in the service
modules (all imported by :func:`load_operations`); each validates its
data, checks its own rules and touches the entities it changes. Who may call
an operation is declared with it and checked here, before anything is read.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from flask import current_app
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from .. import clock
from ..extensions import db, socketio
from ..limits import limiter
from ..models import Event, EventStatus, Idea, Organizer, Participant, Step, StepKind, Table, Write
from ..sqlite import Prepared, erase_traces, read_from_disk
from . import ServiceError, changes
from .changes import Viewer
from .inputs import bad_request, clean_client_id, integer, refused, too_fast, unknown_op


class TableFacts(NamedTuple):
    """What a write to a table needs to know of it and its evening, read in
    one Core query for a phone's write (no ORM entity is loaded for it), or
    taken from the loaded table for a console's."""

    table_id: int
    event_id: int
    territory_id: int
    event_status: EventStatus
    anonymous: bool
    step_id: int | None
    step_kind: StepKind | None
    step_settings: dict | None
    participant_id: int | None = None  # the writer, when a participant
    display_name: str = ""

    @classmethod
    def of(cls, table: Table, participant: Participant | None = None) -> TableFacts:
        step = table.step
        return cls(
            table.id,
            table.event_id,
            table.event.territory_id,
            table.event.status,
            table.anonymous,
            step.id if step is not None else None,
            step.kind if step is not None else None,
            step.settings if step is not None else None,
            participant.id if participant is not None else None,
            participant.display_name if participant is not None else "",
        )


# A phone's write: what it needs of the writer, its table, the evening and the
# current step, as one row (this runs for every write of every phone; four
# ORM entities cost several times the query itself).
_p, _t, _e, _s = (model.__table__ for model in (Participant, Table, Event, Step))
_PARTICIPANT_FACTS = Prepared(
    select(
        _t.c.id,
        _t.c.event_id,
        _e.c.territory_id,
        _e.c.status,
        _t.c.anonymous,
        _s.c.id,
        _s.c.kind,
        _s.c.settings,
        _p.c.id,
        _p.c.display_name,
    )
    .select_from(_p.join(_t, _t.c.id == _p.c.table_id).join(_e, _e.c.id == _t.c.event_id))
    .outerjoin(_s, _s.c.id == _t.c.step_id)
    .where(_p.c.id == bindparam("participant_id"), _p.c.removed.is_(False))
)
# The same writer as entities, for the operations that change them.
_PARTICIPANT_AT_TABLE = (
    select(Participant, Table, Event, Step)
    .join(Table, Table.id == Participant.table_id)
    .join(Event, Event.id == Table.event_id)
    .outerjoin(Step, Step.id == Table.step_id)
    .where(Participant.id == bindparam("participant_id"), Participant.removed.is_(False))
)


class Actor:
    """Who writes, established by the server from its credentials only.

    Its table, participant and evening are loaded as entities only when an
    operation asks for them: a phone's post needs only :attr:`facts`."""

    def __init__(
        self,
        key: str,
        role: str,
        table: Table | None = None,
        participant: Participant | None = None,
        organizer: Organizer | None = None,
        event: Event | None = None,
        facts: TableFacts | None = None,
    ):
        self.key = (
            key  # the idempotency key: p:<participant>, f:<table>, o:<organizer>, d:<desk link>
        )
        self.role = role  # participant | facilitator | organizer | desk | system
        self.organizer = organizer
        self._table, self._participant, self._event = table, participant, event
        self._facts = facts
        if facts is not None:
            self.table_id, self.participant_id = facts.table_id, facts.participant_id
        else:  # table None: an organizer writing to the whole evening
            self.table_id = table.id if table is not None else None
            self.participant_id = participant.id if participant is not None else None

    @property
    def facts(self) -> TableFacts:
        if self._facts is None:
            self._facts = TableFacts.of(self.table, self.participant)
        return self._facts

    def _load_participant(self) -> None:
        found = db.session.execute(
            _PARTICIPANT_AT_TABLE, {"participant_id": self.participant_id}
        ).first()
        if found is None:  # taken off the table meanwhile
            raise refused()
        participant, table, event, step = found
        # Linked as loaded (the session keeps only weak references to them).
        set_committed_value(participant, "table", table)
        set_committed_value(table, "event", event)
        set_committed_value(table, "step", step)
        self._participant, self._table = participant, table

    @property
    def table(self) -> Table | None:
        if self._table is None and self.participant_id is not None:
            self._load_participant()
        return self._table

    @property
    def participant(self) -> Participant | None:
        if self._participant is None and self.participant_id is not None:
            self._load_participant()
        return self._participant

    @property
    def event(self) -> Event | None:
        if self._event is None and self.table is not None:
            self._event = self.table.event
        return self._event

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.role, self.participant_id)

    @property
    def journal_name(self) -> str:
        if self.role == "system":
            return changes.SYSTEM
        if self.role == "facilitator":
            return f"facilitator:table:{self.table_id}"
        if self.role == "organizer":
            return f"organizer:{self.organizer.id}"
        if self.role == "desk":
            return f"desk:{self.key.removeprefix('d:')}"
        return f"participant:{self.participant_id}"


def as_participant(participant: Participant) -> Actor:
    return Actor(f"p:{participant.id}", "participant", participant.table, participant)


def as_participant_id(participant_id: int) -> Actor:
    """The participant ``participant_id`` still at a table, or a refusal."""
    found = _PARTICIPANT_FACTS.run(db.session.connection(), {"participant_id": participant_id})
    if not found:
        raise refused()
    return Actor(f"p:{participant_id}", "participant", facts=TableFacts(*found[0]))


def as_facilitator(table: Table) -> Actor:
    return Actor(f"f:{table.id}", "facilitator", table)


def as_organizer(organizer: Organizer, table: Table) -> Actor:
    return Actor(f"o:{organizer.id}", "organizer", table, organizer=organizer)


def as_organizer_of(organizer: Organizer, event: Event) -> Actor:
    """An organizer writing to the evening as a whole (the plenary)."""
    return Actor(f"o:{organizer.id}", "organizer", organizer=organizer, event=event)


def as_desk_member(link_id: int, event: Event) -> Actor:
    """A member of the evening's theme team, by their desk link (no account)."""
    return Actor(f"d:{link_id}", "desk", event=event)


def as_system(event: Event) -> Actor:
    """The app itself, writing to an evening (its suggestions): a writer of
    its own, never taken for a person, whose changes a person takes up or not."""
    return Actor(f"{changes.SYSTEM}:{event.id}", "system", event=event)


@dataclass(frozen=True)
class Budget:
    """At most ``limit`` writes of a kind per ``window`` seconds for a writer."""

    key: str
    limit: int
    window: float
    refusal: Callable[[int], ServiceError]  # the answer, given the seconds to wait


@dataclass
class Request:
    """One write being carried out."""

    actor: Actor
    data: dict
    client_id: str
    base_seq: int | None
    budgets: list[Budget] = field(default_factory=list)
    # Set by an operation that removes personal data (a contact withdrawn):
    # once committed, no trace of it is left in the database's files.
    erases: bool = False
    # Set by an operation whose new entity is its own receipt: it keeps the
    # writer and the client id, unique together (a phone's card). A resend
    # breaks that uniqueness and is answered from the entity (see perform).
    receipt_kept: bool = False

    def spend(self, key: str, limit: int, window: float, refusal=too_fast) -> None:
        """Refuse the write now if budget ``key`` is used up; spend it only
        once the write is known to be new (its receipt stored), so that a
        resend answered from its receipt costs nothing."""
        if retry_after := limiter(current_app).wait(key, limit, window):
            raise refusal(retry_after)
        self.budgets.append(Budget(key, limit, window, refusal))


@dataclass(frozen=True)
class Op:
    name: str
    roles: frozenset[str]
    run: Callable[[Request], None]
    event_wide: bool  # about the whole evening rather than one table
    # A participant's write of it loads no entity: it may run without the
    # ORM session (workshop/direct.py).
    direct: bool
    # It changes entities of the evening's own stream (themes…): answered,
    # like a table's write, with its changes and their number.
    evening: bool = False


OPS: dict[str, Op] = {}
MODERATORS = ("facilitator", "organizer")


def op(
    name: str, *roles: str, event_wide: bool = False, direct: bool = False, evening: bool = False
):
    """Register an operation that ``roles`` may perform (``direct``,
    ``evening``: see :class:`Op`; an evening's write is event-wide)."""

    def register(run: Callable[[Request], None]):
        OPS[name] = Op(name, frozenset(roles), run, event_wide or evening, direct, evening)
        return run

    return register


def goes_direct(name) -> bool:
    """Whether a participant's write of operation ``name`` may go without
    the ORM session (workshop/direct.py)."""
    found = OPS.get(name) if isinstance(name, str) else None
    return found is not None and found.direct


def load_operations() -> None:
    """Import every service module, so that each operation has registered
    itself with :func:`op` (called once by ``create_app``): an operation module
    added to the package is found, never a silent ``unknown_op``."""
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{__package__}.{module.name}")


def operation(name) -> Op:
    """The registered operation ``name``; unknown or retired ones are refused
    for good, so that a phone's outbox is never blocked by them."""
    found = OPS.get(name) if isinstance(name, str) else None
    if found is None:
        raise unknown_op()
    return found


def _receipt(actor: Actor, client_id: str) -> Write | None:
    return db.session.scalar(
        select(Write).where(Write.actor == actor.key, Write.client_id == client_id)
    )


def _posted(actor: Actor, client_id: str) -> Idea | None:
    """The card a phone posted with ``client_id``: its own receipt."""
    if actor.participant_id is None:
        return None
    return db.session.scalar(
        select(Idea).where(Idea.participant_id == actor.participant_id, Idea.client_id == client_id)
    )


def _replay(seq: int | None, done: list, actor: Actor) -> dict:
    """The answer to a resend of a write that changed ``done`` (numbered ``seq``)."""
    # The original may be committed and not yet on disk (a phone resending
    # right after a reconnect, a second tab flushing the same outbox, a
    # flush that failed): answered, like it, once on disk (wait_for_disk).
    read_from_disk(db.engine)
    # The changes' current state: the writer may have missed later ones too.
    return {
        "ok": True,
        "seq": seq,
        "changes": [changes.view(obj, actor.viewer) for obj in done],
        "duplicate": True,
        "now": clock.epoch_ms(),
    }


def _replay_receipt(receipt: Write, actor: Actor) -> dict:
    return _replay(receipt.seq, changes.resolve(receipt.refs), actor)


BATCH = 10  # tables per transaction in an evening-wide write


def in_batches(items, size: int = BATCH):
    """Yield ``items``, committing after every ``size`` of them (and after
    the last) and letting other writes through in between, so that a write
    to a hundred tables never holds the writers' queue (or the loop) for long.
    Safe because such writes are idempotent per table: a resend after a
    failure half-way redoes only what is left. Objects are not expired at
    these commits: the loop goes on with what it loaded."""
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        for done, item in enumerate(items, 1):
            yield item
            if done % size == 0:
                session.commit()
                socketio.sleep(0)
        session.commit()  # the last few (nothing to do if none)
    finally:
        session.expire_on_commit = expire


# The receipt is never read back in the transaction that writes it: an insert
# prepared once, without the unit of work's cost on every write.
_RECEIPT = Prepared(insert(Write.__table__))


def _carry_out(operation_: Op, req: Request) -> dict:
    """Run the operation, keep its receipt, commit; the writer's answer."""
    operation_.run(req)
    changes.assign()
    touched = changes.pending()
    table_id = req.actor.table_id
    # A table's write, or one to the evening's own stream, is answered with
    # its changes; an evening-wide command over many tables by its pushes.
    streamed = table_id is not None or operation_.evening
    if not touched and table_id is not None:
        # Changing nothing, it still keeps a receipt (a late resend must not
        # redo it after a later change): a writer gets only so many. (An
        # evening-wide write commits as it goes: nothing is pending at its end.)
        limit = current_app.config["UNCHANGED_WRITES_PER_MINUTE"]
        req.spend(f"unchanged:{req.actor.key}", limit, 60)
    # An evening-wide write numbers changes of many tables: no one number says it all.
    seq = max((changes.seq_of(obj) for obj in touched), default=None) if streamed else None
    if not req.receipt_kept:
        _RECEIPT.run(
            db.session.connection(),
            {
                "actor": req.actor.key,
                "client_id": req.client_id,
                "table_id": table_id,
                "op": operation_.name,
                "seq": seq,
                # An evening-wide write is answered by pushes; a resend only
                # needs to know it was done.
                "refs": changes.refs(touched) if streamed else [],
            },
        )
    # The receipt is new (a resend would have failed on its uniqueness): spend.
    for budget in req.budgets:
        if retry_after := limiter(current_app).hit(budget.key, budget.limit, budget.window):
            raise budget.refusal(retry_after)  # spent meanwhile by another screen
    # Rendered before the commit: nothing is reloaded afterwards. An evening-wide
    # write (many tables) is answered without its changes: they come as pushes.
    answer = {
        "ok": True,
        "seq": seq,
        "changes": [changes.view(obj, req.actor.viewer) for obj in touched] if streamed else [],
    }
    if streamed and req.actor.role == "participant":
        # A phone's own change is in its answer: not pushed to that screen
        # again (a hall's posts, one frame less each). A console or a
        # control room is pushed its own changes at once, before the disk's
        # flush lets the answer go: its buttons follow without that wait.
        changes.answered_as(req.actor.viewer)
    db.session.commit()
    if req.erases:
        erase_traces(db.engine)
    return answer


def perform(actor: Actor, envelope) -> dict:
    """Carry out one write envelope for ``actor``, exactly once."""
    if not isinstance(envelope, dict):
        raise bad_request()
    operation_ = operation(envelope.get("op"))
    client_id = clean_client_id(envelope.get("client_id"))
    data = envelope.get("data", {})
    if not isinstance(data, dict):
        raise bad_request()
    if actor.role not in operation_.roles or operation_.event_wide != (actor.table_id is None):
        raise refused()
    if operation_.event_wide and (done := _receipt(actor, client_id)) is not None:
        # An evening-wide write commits as it goes (in_batches): its resend is
        # known before anything runs, or a late one would redo it over later
        # changes before its receipt's uniqueness stopped it.
        return _replay_receipt(done, actor)
    try:
        answer = _carry_out(
            operation_, Request(actor, data, client_id, integer(envelope.get("base_seq")))
        )
    except (ServiceError, IntegrityError):
        # Done before? The receipt is looked for only when a write does not go
        # through (a resend breaks the receipt's uniqueness, or meets a rule
        # such as a closed evening): the usual write costs no lookup.
        db.session.rollback()
        if operation_.name == "idea.post" and (card := _posted(actor, client_id)) is not None:
            return _replay(card.seq, [card], actor)  # a phone's card is its receipt
        done = _receipt(actor, client_id)
        if done is not None:
            return _replay_receipt(done, actor)
        raise
    answer["now"] = clock.epoch_ms()
    return answer
