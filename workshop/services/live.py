"""The live table: joining, posting, moderating, catching up (DESIGN.md §5-§7).

Every write a phone makes carries a client id; inserting is idempotent on
(participant, client id), so a phone may resend its outbox as often as it
likes. Every change to a table's wall takes the table's next sequence number,
so any client can catch up with ``changes_since(table, seq)``.
"""

import re
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    ActorCategory,
    EventStatus,
    Idea,
    IdeaKind,
    Participant,
    Table,
    utcnow,
)
from . import ServiceError, journal
from .codes import new_secret, token_hash

MAX_IDEA_LENGTH = 500
MAX_NAME_LENGTH = 60
MAX_BRINGS_LENGTH = 300
EDIT_INTERVAL = 2  # seconds between two edits of one idea
# Tables fill beyond their seats (latecomers, a second phone); past this many
# times the seats, joining is refused so that no one can flood a table.
OVERFLOW_FACTOR = 3
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


# --- joining ----------------------------------------------------------------


def join_table(
    table: Table, display_name: str, category: str, brings: str = ""
) -> tuple[Participant, str]:
    """Add a participant to ``table``; return it and its secret token."""
    name = (display_name or "").strip()
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
    brings = (brings or "").strip()
    if len(brings) > MAX_BRINGS_LENGTH:
        raise ServiceError(
            "brings_too_long",
            _l("“What I bring” has at most %(n)d characters.", n=MAX_BRINGS_LENGTH),
        )
    _require_open(table)
    joined = db.session.scalar(
        select(func.count(Participant.id)).where(Participant.table_id == table.id)
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
        token_hash=token_hash(token),
    )
    db.session.add(participant)
    db.session.commit()
    return participant, token


def participant_cookie(table: Table) -> str:
    """Name of the cookie holding a participant's token for ``table``."""
    return f"wt_{table.join_code}"


def participant_for(table: Table, token: str | None) -> Participant | None:
    """The participant of ``table`` holding ``token``, or None."""
    if not token:
        return None
    return db.session.scalar(
        select(Participant).where(
            Participant.token_hash == token_hash(token), Participant.table_id == table.id
        )
    )


def _require_open(table: Table) -> None:
    if table.event.status == EventStatus.closed:
        raise ServiceError("event_closed", _l("This evening is over: the wall is read-only."))


# --- posting -----------------------------------------------------------------


def _next_seq(table_id: int) -> int:
    # The row lock this UPDATE takes is held until commit, so sequence numbers
    # are handed out in commit order: catch-up by "seq > N" never skips one.
    return db.session.execute(
        update(Table)
        .where(Table.id == table_id)
        .values(last_seq=Table.last_seq + 1)
        .returning(Table.last_seq),
        execution_options={"synchronize_session": False},
    ).scalar_one()


def _clean_text(text) -> str:
    if not isinstance(text, str):
        raise ServiceError("bad_request", _l("This request is not valid."))
    text = text.strip()
    if not text:
        raise ServiceError("empty", _l("Write something before posting."))
    if len(text) > MAX_IDEA_LENGTH:
        raise ServiceError(
            "too_long", _l("An idea has at most %(n)d characters.", n=MAX_IDEA_LENGTH)
        )
    return text


def _clean_kind(kind) -> IdeaKind:
    try:
        return IdeaKind(kind or IdeaKind.idea)
    except ValueError:
        raise ServiceError("bad_kind", _l("Unknown kind of card.")) from None


def _clean_client_id(client_id) -> str:
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise ServiceError("bad_request", _l("This request is not valid."))
    return client_id


def _own_idea(participant: Participant, client_id: str) -> Idea | None:
    return db.session.scalar(
        select(Idea).where(Idea.participant_id == participant.id, Idea.client_id == client_id)
    )


def _too_fast(retry_after: int) -> ServiceError:
    # The phone keeps the write in its outbox and sends it again after retry_after.
    return ServiceError(
        "rate_limited",
        _l("You are posting very fast: your idea will be sent in a few seconds."),
        retry_after=retry_after,
    )


def _check_rate(participant: Participant) -> None:
    limit = current_app.config["RATE_LIMIT_POSTS"]
    window = current_app.config["RATE_LIMIT_WINDOW"]
    since = utcnow() - timedelta(seconds=window)
    recent = db.session.scalar(
        select(func.count(Idea.id)).where(
            Idea.participant_id == participant.id, Idea.created_at > since
        )
    )
    if recent >= limit:
        raise _too_fast(retry_after=max(5, window // limit))


def _check_edit_rate(idea: Idea) -> None:
    # Every edit is pushed to every screen of the table: one per idea every
    # EDIT_INTERVAL seconds is plenty for a person, and bounds a flood.
    since = utcnow() - timedelta(seconds=EDIT_INTERVAL)
    recent = db.session.scalar(
        select(func.count(Idea.id)).where(
            Idea.id == idea.id, Idea.updated_at > since, Idea.updated_at > Idea.created_at
        )
    )
    if recent:
        raise _too_fast(retry_after=EDIT_INTERVAL)


def post_idea(participant: Participant, client_id, kind, text) -> tuple[Idea, bool]:
    """Post an idea idempotently; return it and whether it is new.

    Posting the same client id again returns the idea already stored.
    """
    client_id = _clean_client_id(client_id)
    existing = _own_idea(participant, client_id)
    if existing:
        return existing, False
    text = _clean_text(text)
    kind = _clean_kind(kind)
    table = participant.table
    _require_open(table)
    _check_rate(participant)
    now = utcnow()
    idea = Idea(
        created_at=now,
        updated_at=now,
        table_id=table.id,
        participant_id=participant.id,
        client_id=client_id,
        kind=kind,
        text=text,
        seq=_next_seq(table.id),
    )
    db.session.add(idea)
    try:
        db.session.commit()
    except IntegrityError:
        # The same post arrived twice at once (a resend racing the first send).
        db.session.rollback()
        existing = _own_idea(participant, client_id)
        if existing is None:
            raise
        return existing, False
    return idea, True


def _find_own(participant: Participant, client_id) -> Idea:
    idea = _own_idea(participant, _clean_client_id(client_id))
    if idea is None:
        raise ServiceError("not_found", _l("This idea does not exist (any more)."))
    return idea


def _touch(idea: Idea) -> None:
    idea.seq = _next_seq(idea.table_id)
    idea.updated_at = utcnow()


def edit_idea(participant: Participant, client_id, kind, text) -> tuple[Idea, bool]:
    """Change the text or kind of one's own idea; return it and whether it changed."""
    idea = _find_own(participant, client_id)
    text = _clean_text(text)
    kind = _clean_kind(kind)
    if idea.deleted:
        raise ServiceError("not_found", _l("This idea does not exist (any more)."))
    if idea.text == text and idea.kind == kind:
        return idea, False
    _require_open(participant.table)
    _check_edit_rate(idea)
    idea.text, idea.kind = text, kind
    _touch(idea)
    db.session.commit()
    return idea, True


def delete_idea(participant: Participant, client_id) -> tuple[Idea, bool]:
    """Delete one's own idea; return it and whether it changed."""
    idea = _find_own(participant, client_id)
    if idea.deleted:
        return idea, False
    idea.deleted = True
    _touch(idea)
    db.session.commit()
    return idea, True


# --- facilitating -------------------------------------------------------------


def set_hidden(table: Table, idea_id, hidden: bool) -> tuple[Idea, bool]:
    """Hide or show an idea of ``table`` (facilitator moderation)."""
    idea = db.session.get(Idea, idea_id) if isinstance(idea_id, int) else None
    if idea is None or idea.table_id != table.id or idea.deleted:
        raise ServiceError("not_found", _l("This idea does not exist (any more)."))
    hidden = bool(hidden)
    if idea.hidden == hidden:
        return idea, False
    idea.hidden = hidden
    _touch(idea)
    journal.record(
        f"facilitator:table:{table.id}",
        "idea.hidden" if hidden else "idea.shown",
        f"idea:{idea.id}",
        territory_id=table.event.territory_id,
        event_id=table.event_id,
    )
    db.session.commit()
    return idea, True


def set_reporter(table: Table, participant_id) -> Participant | None:
    """Designate the table's reporter (None to clear)."""
    if participant_id is None:
        participant = None
    else:
        participant = (
            db.session.get(Participant, participant_id) if isinstance(participant_id, int) else None
        )
        if participant is None or participant.table_id != table.id:
            raise ServiceError("not_found", _l("This participant is not at this table."))
    table.reporter_id = participant.id if participant else None
    journal.record(
        f"facilitator:table:{table.id}",
        "table.reporter_set",
        f"participant:{participant.id}" if participant else "",
        territory_id=table.event.territory_id,
        event_id=table.event_id,
    )
    db.session.commit()
    return participant


# --- catching up --------------------------------------------------------------


def changes_since(table: Table, since) -> tuple[list[Idea], int]:
    """Ideas of ``table`` changed after sequence number ``since``, and the
    table's current sequence number."""
    since = since if isinstance(since, int) and since >= 0 else 0
    current = db.session.scalar(select(Table.last_seq).where(Table.id == table.id))
    ideas = db.session.scalars(
        select(Idea)
        .options(selectinload(Idea.author))
        .where(Idea.table_id == table.id, Idea.seq > since, Idea.seq <= current)
        .order_by(Idea.seq)
    )
    return list(ideas), current


def idea_payload(idea: Idea, moderator: bool = False) -> dict:
    """What a screen receives about an idea.

    Participants never receive the text of a hidden idea; the facilitator
    (``moderator``) does, to be able to show it again.
    """
    withheld = idea.deleted or (idea.hidden and not moderator)
    return {
        "id": idea.id,
        "seq": idea.seq,
        "client_id": idea.client_id,
        "author_id": None if withheld else idea.participant_id,
        "author": idea.author.display_name if idea.author and not withheld else "",
        "kind": idea.kind.value,
        "text": "" if withheld else idea.text,
        "hidden": idea.hidden,
        "deleted": idea.deleted,
    }


def participant_payload(participant: Participant) -> dict:
    """What the facilitator console shows about a participant."""
    return {
        "id": participant.id,
        "name": participant.display_name,
        "category": participant.category.value,
        "brings": participant.brings,
    }


def table_state(table: Table) -> dict:
    """The table's current state, sent with every catch-up."""
    reporter = table.reporter
    return {
        "reporter_id": reporter.id if reporter else None,
        "reporter": reporter.display_name if reporter else "",
        "open": table.event.status != EventStatus.closed,
    }


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
        .where(Table.event_id == event.id, Idea.deleted.is_(False), Idea.hidden.is_(False))
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
