"""The live table: joining, introductions, ideas, moderation (DESIGN.md §5-§7).

Every write here is an operation of the one write path
(:mod:`workshop.services.writes`): idempotent on (actor, client id), numbered
from the table's counter and pushed after commit by touching what it changes.
"""

import uuid
from types import SimpleNamespace

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    ActorCategory,
    Idea,
    IdeaKind,
    Participant,
    Table,
    utcnow,
)
from ..rooms import participant_room
from ..sqlite import Prepared
from . import ServiceError, journal, steps
from .changes import NewIdea, add_new, cut_off_after_commit, touch
from .codes import new_secret, normalize_code, token_hash
from .inputs import (
    MAX_BRINGS_LENGTH,
    MAX_NAME_LENGTH,
    bad_request,
    clean_client_id,
    clean_text,
    integer,
    member,
    normalize,
    require_not_over,
    require_open,
    require_open_status,
    too_fast,
)
from .transaction import commit
from .writes import MODERATORS, Request, op

EDITS_PER_MINUTE = 20  # edits of one's own cards per person
# Tables fill beyond their seats (latecomers, a second phone); past this many
# times the seats, joining is refused so that no one can flood a table.
OVERFLOW_FACTOR = 3


# --- joining ----------------------------------------------------------------

# Who one is here as, in the join form and the exports.
CATEGORY_LABELS = {
    ActorCategory.citizen: _l("Citizen"),
    ActorCategory.business: _l("Business"),
    ActorCategory.local_authority: _l("Local authority, elected official"),
    ActorCategory.association: _l("Association, social economy"),
    ActorCategory.research: _l("Research, training"),
    ActorCategory.student: _l("Student"),
    ActorCategory.other: _l("Other"),
    ActorCategory.not_said: _l("Not said"),
}


def join_table(
    table: Table, display_name: str, category: str, brings: str = "", minor: bool = False
) -> tuple[Participant, str]:
    """Add a participant to ``table`` (``minor``: under the territory's age
    of minors, see services/minors.py); return it and its secret token."""
    name = normalize(display_name).strip() if isinstance(display_name, str) else ""
    if not name:
        raise ServiceError("name_required", _l("Please give a name or a pseudonym."))
    if len(name) > MAX_NAME_LENGTH:
        raise ServiceError(
            "name_too_long", _l("A name has at most %(n)d characters.", n=MAX_NAME_LENGTH)
        )
    try:
        category = ActorCategory(category)
    except ValueError:
        raise ServiceError("bad_category", _l("Please choose who you are here as.")) from None
    brings = normalize(brings).strip() if isinstance(brings, str) else ""
    if len(brings) > MAX_BRINGS_LENGTH:
        raise ServiceError(
            "brings_too_long",
            _l("“What I bring” has at most %(n)d characters.", n=MAX_BRINGS_LENGTH),
        )
    require_not_over(table)
    joined = db.session.scalar(
        select(func.count(Participant.id)).where(
            Participant.table_id == table.id, Participant.removed.is_(False)
        )
    )
    if joined >= table.capacity * OVERFLOW_FACTOR:
        raise ServiceError(
            "table_full", _l("This table is full. Please ask the organizers for another table.")
        )
    token = new_secret()
    participant = Participant(
        table=table,
        display_name=name,
        category=category,
        brings=brings,
        minor=bool(minor),
        token_hash=token_hash(token),
    )
    db.session.add(participant)
    touch(participant)
    commit()
    return participant, token


def participant_cookie(table: Table) -> str:
    """Name of the cookie holding a participant's token for ``table``."""
    return participant_cookie_name(table.join_code)


def participant_cookie_name(join_code: str) -> str:
    return f"wt_{join_code}"


# A phone connecting: its participant and table in one query, built once
# (2,000 phones connect at once when a hall's Wi-Fi comes back).
_CONNECTING = Prepared(
    select(Participant.id, Participant.table_id)
    .join(Table, Table.id == Participant.table_id)
    .where(
        Table.join_code == bindparam("join_code"),
        Participant.token_hash == bindparam("token_hash"),
        Participant.removed.is_(False),
    )
)


def connecting_participant(code: str, cookies) -> tuple[int, int] | None:
    """(participant id, table id) of the phone whose ``cookies`` hold a
    token for the table of join code ``code`` (as typed), or None."""
    join_code = normalize_code(code)
    token = cookies.get(participant_cookie_name(join_code))
    if not token:
        return None
    found = _CONNECTING.run(
        db.session.connection(), {"join_code": join_code, "token_hash": token_hash(token)}
    )
    return tuple(found[0]) if found else None


def participant_for(table: Table, token: str | None) -> Participant | None:
    """The participant of ``table`` holding ``token``, or None."""
    if not token:
        return None
    return db.session.scalar(
        select(Participant).where(
            Participant.token_hash == token_hash(token),
            Participant.table_id == table.id,
            Participant.removed.is_(False),
        )
    )


# --- text ----------------------------------------------------------------------


def _clean_kind(kind) -> IdeaKind:
    try:
        return IdeaKind(kind or IdeaKind.idea)
    except ValueError:
        raise ServiceError("bad_kind", _l("Unknown kind of card.")) from None


def _too_fast(retry_after: int) -> ServiceError:
    return too_fast(
        retry_after, _l("You are writing very fast: this will be sent in a few seconds.")
    )


def _check_rate(req: Request) -> None:
    config = current_app.config
    key = f"post:{req.actor.participant_id}"
    req.spend(key, config["RATE_LIMIT_POSTS"], config["RATE_LIMIT_WINDOW"], _too_fast)


def _check_edit_rate(req: Request) -> None:
    # Every edit is pushed to every screen of the table: EDITS_PER_MINUTE per
    # person is plenty for correcting typos, and bounds a flood.
    req.spend(f"edit:{req.actor.participant_id}", EDITS_PER_MINUTE, 60, _too_fast)


def _not_found() -> ServiceError:
    return ServiceError("not_found", _l("This idea does not exist (any more)."))


def _journal(req: Request, action: str, subject: str = "", **data) -> None:
    table = req.actor.table
    journal.record(
        req.actor.journal_name,
        action,
        subject,
        territory_id=table.event.territory_id,
        event_id=table.event_id,
        **data,
    )


# --- ideas -------------------------------------------------------------------------


@op("idea.post", "participant", "facilitator", "organizer", direct=True)
def post_idea(req: Request) -> None:
    """Post a card; the console posts for a named participant without a phone.

    A phone's post reads only the writer's facts and inserts plain values
    (:class:`~workshop.services.changes.NewIdea`): the most frequent write
    of an evening loads no entity."""
    facts = req.actor.facts
    if req.actor.participant_id is not None:
        author_id, author_name = req.actor.participant_id, facts.display_name
    else:
        author = member(req.actor.table, req.data.get("participant_id"))
        author_id, author_name = author.id, author.display_name
    text = clean_text(req.data.get("text"))
    kind = _clean_kind(req.data.get("kind"))
    require_open_status(facts.event_status)
    if req.actor.participant_id is not None:
        _check_rate(req)
        req.receipt_kept = True  # the card keeps its author and client id
    add_new(
        NewIdea(
            table_id=facts.table_id,
            participant_id=author_id,
            # The card's handle for its author's later edits; a card written by
            # the console gets its own (the console's write id is its receipt's).
            client_id=req.client_id if req.actor.participant_id else str(uuid.uuid4()),
            kind=kind,
            text=text,
            step_id=facts.step_id,
            private=steps.private_round_of(facts.step_kind, facts.step_settings),
            created_at=utcnow(),
            event_id=facts.event_id,
            table=SimpleNamespace(anonymous=facts.anonymous),
            author=SimpleNamespace(display_name=author_name),
        )
    )
    if req.actor.participant_id is None:
        _journal(req, "idea.posted_for", f"participant:{author_id}")


def _own_idea(req: Request) -> Idea:
    """The writer's idea named by ``data.target`` (the client id it was posted with)."""
    target = clean_client_id(req.data.get("target"))
    idea = db.session.scalar(
        select(Idea).where(
            Idea.participant_id == req.actor.participant_id, Idea.client_id == target
        )
    )
    if idea is None:
        raise _not_found()
    return idea


@op("idea.edit", "participant")
def edit_idea(req: Request) -> None:
    """Change the text or kind of one's own idea (nothing when unchanged)."""
    idea = _own_idea(req)
    text = clean_text(req.data.get("text"))
    kind = _clean_kind(req.data.get("kind"))
    if idea.deleted:
        raise _not_found()
    if idea.text == text and idea.kind == kind:
        return
    require_open_status(req.actor.facts.event_status)
    _check_edit_rate(req)
    idea.text, idea.kind, idea.updated_at = text, kind, utcnow()
    touch(idea)


@op("idea.delete", "participant")
def delete_idea(req: Request) -> None:
    """Delete one's own idea (nothing when already deleted)."""
    idea = _own_idea(req)
    if idea.deleted:
        return
    require_open_status(req.actor.facts.event_status)
    erase(idea)


def erase(idea: Idea) -> None:
    """Delete a card for good: its text goes; it stays a tombstone with a
    new number, so that every screen removes it (catch-up included)."""
    idea.deleted, idea.text, idea.updated_at = True, "", utcnow()
    touch(idea)


@op("idea.hide", *MODERATORS)
def hide_idea(req: Request) -> None:
    """Hide or show an idea of the table (moderation)."""
    idea_id = integer(req.data.get("id"))
    idea = db.session.get(Idea, idea_id) if idea_id else None
    if idea is None or idea.table_id != req.actor.table.id or idea.deleted:
        raise _not_found()
    hidden = req.data.get("hidden", True)
    if not isinstance(hidden, bool):
        raise bad_request()
    if idea.hidden == hidden:
        return
    idea.hidden, idea.updated_at = hidden, utcnow()
    touch(idea)
    _journal(req, "idea.hidden" if hidden else "idea.shown", f"idea:{idea.id}")


# --- people --------------------------------------------------------------------------


@op("intro.save", "participant", "facilitator", "organizer")
def save_intro(req: Request) -> None:
    """The introduction round: who I am, what I bring, what I expect."""
    table = req.actor.table
    participant = req.actor.participant or member(table, req.data.get("participant_id"))
    fields = {
        "intro": clean_text(req.data.get("intro"), MAX_BRINGS_LENGTH, required=False),
        "brings": clean_text(req.data.get("brings"), MAX_BRINGS_LENGTH, required=False),
        "expects": clean_text(req.data.get("expects"), MAX_BRINGS_LENGTH, required=False),
    }
    require_open(table)
    if all(getattr(participant, name) == value for name, value in fields.items()):
        return
    for name, value in fields.items():
        setattr(participant, name, value)
    touch(participant)


@op("participant.remove", *MODERATORS)
def remove_participant(req: Request) -> None:
    """Take someone off the table (a seat filled by a script, a duplicate):
    their screens are cut off, their link opens nothing any more and their
    seat is free again; what they wrote stays, for the facilitator to hide."""
    table = req.actor.table
    participant = member(table, req.data.get("participant_id"), removed=True)
    if participant.removed:
        return
    participant.removed = True
    touch(participant)
    if table.reporter_id == participant.id:
        table.reporter_id, table.reporter = None, None
        touch(table)
    cut_off_after_commit(participant_room(participant.id))
    _journal(req, "participant.removed", f"participant:{participant.id}")


@op("table.reporter", *MODERATORS)
def set_reporter(req: Request) -> None:
    """Designate the table's reporter (null to clear)."""
    table = req.actor.table
    wanted = req.data.get("participant_id")
    participant = None if wanted is None else member(table, wanted)
    new_id = participant.id if participant else None
    if table.reporter_id == new_id:
        return
    table.reporter_id = new_id
    table.reporter = participant
    touch(table)
    _journal(req, "table.reporter_set", f"participant:{participant.id}" if participant else "")


@op("table.anonymous", *MODERATORS)
def set_anonymous(req: Request) -> None:
    """Show or hide authors' names on the other phones (every card is re-sent)."""
    table = req.actor.table
    anonymous = req.data.get("anonymous")
    if not isinstance(anonymous, bool):
        raise bad_request()
    if table.anonymous == anonymous:
        return
    table.anonymous = anonymous
    touch(table)
    for idea in db.session.scalars(
        select(Idea).where(Idea.table_id == table.id, Idea.deleted.is_(False))
    ):
        touch(idea)


# --- reading ----------------------------------------------------------------------------


def recent_ideas(event, per_table: int = 3) -> list[Idea]:
    """The latest visible ideas of each table of ``event``, newest first."""
    ranked = (
        select(
            Idea.id,
            func.row_number()
            .over(partition_by=Idea.table_id, order_by=Idea.id.desc())
            .label("rank"),
        )
        .join(Table, Table.id == Idea.table_id)
        .where(
            Table.event_id == event.id,
            Idea.deleted.is_(False),
            Idea.hidden.is_(False),
            Idea.private.is_(False),
        )
        .subquery()
    )
    return list(
        db.session.scalars(
            select(Idea)
            .options(selectinload(Idea.author))
            .join(ranked, ranked.c.id == Idea.id)
            .where(ranked.c.rank <= per_table)
            .order_by(Idea.id.desc())
        )
    )
