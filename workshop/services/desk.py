"""The evening's synthesis desk (issue 18, item 1): its theme team reads every
table's ideas as they arrive and groups them into themes.

The team is the evening's organizers and the people they give a secret link
to (no account, as the reviewers': only the link's hash is kept, revoking it
closes the link and the screens opened with it). A desk follows every table
of its evening as the table's phones see it (hidden, private and deleted
cards withheld, anonymous tables without names), caught up table by table
by sequence number like any screen, and the evening's own stream (themes).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..models import DeskLink, Event, Organizer, Table
from . import ServiceError, accounts, hints, journal
from .changes import PHONE, catch_up, cut_off_after_commit
from .codes import new_secret, token_hash
from .inputs import integer
from .transaction import commit

MAX_NAME = 200
MAX_LINKS = 50  # per evening: a theme team is a handful of people


def link_room(link_id: int) -> str:
    """The screens opened with one desk link (closed when it is revoked)."""
    return f"desklink:{link_id}"


def _check(organizer: Organizer, event: Event) -> None:
    if not accounts.can_manage(organizer, event):
        raise ServiceError("forbidden", _l("You do not organize this evening."))


def links_of(event: Event) -> list[DeskLink]:
    """The evening's desk links that still work, by name."""
    return list(
        db.session.scalars(
            select(DeskLink)
            .where(DeskLink.event_id == event.id, DeskLink.revoked_at.is_(None))
            .order_by(DeskLink.name, DeskLink.id)
        )
    )


def new_link(organizer: Organizer, event: Event, name) -> tuple[DeskLink, str]:
    """A desk link for a member of the theme team and its token (shown once,
    never stored)."""
    _check(organizer, event)
    name = (name if isinstance(name, str) else "").strip()[:MAX_NAME]
    if not name:
        raise ServiceError("required", _l("Give the team member's name."))
    if len(links_of(event)) >= MAX_LINKS:
        raise ServiceError("too_many_links", _l("An evening has at most 50 desk links."))
    token = new_secret()
    link = DeskLink(event_id=event.id, name=name, token_hash=token_hash(token))
    db.session.add(link)
    journal.record(f"organizer:{organizer.id}", "desk_link.created", name, event_id=event.id)
    commit()
    return link, token


def link_for(organizer: Organizer, event: Event, link_id) -> DeskLink:
    """One of the evening's desk links (refused for any other)."""
    _check(organizer, event)
    link = db.session.get(DeskLink, integer(link_id) or 0)
    if link is None or link.event_id != event.id:
        raise ServiceError("not_found", _l("This link does not exist."))
    return link


def revoke(organizer: Organizer, link: DeskLink) -> None:
    """Close a desk link: its screens are closed once this is committed; the
    themes its holder edited stay the team's."""
    event = db.session.get(Event, link.event_id)
    _check(organizer, event)
    if link.revoked_at is None:
        link.revoked_at = clock.now()
        journal.record(
            f"organizer:{organizer.id}", "desk_link.revoked", link.name, event_id=event.id
        )
        cut_off_after_commit(link_room(link.id))
        commit()


def link_by_token(token) -> DeskLink | None:
    """The working desk link ``token`` opens, or None."""
    if not isinstance(token, str) or not 10 <= len(token) <= 100:
        return None
    link = db.session.scalar(select(DeskLink).where(DeskLink.token_hash == token_hash(token)))
    return link if link is not None and link.revoked_at is None else None


def still_open(link_id: int) -> bool:
    """Whether the desk link ``link_id`` still works (checked at every write)."""
    link = db.session.get(DeskLink, link_id)
    return link is not None and link.revoked_at is None


def tables_catch_up(event: Event, data: dict) -> dict:
    """What a desk missed of every table of ``event``: ``data["tables"]``
    maps a table's id to what the desk knows of it (``since``, ``seen``,
    ``epoch``, as a table's screen sends); the answer maps every table's id
    to its ``{seq, changes}`` (with ``reset`` where numbers were lost), plus
    each table's number and name."""
    known = data.get("tables")
    known = known if isinstance(known, dict) else {}
    tables = {}
    for table in db.session.scalars(
        select(Table).where(Table.event_id == event.id).order_by(Table.number)
    ):
        asked = known.get(str(table.id))
        answer = catch_up(table.id, asked if isinstance(asked, dict) else {}, PHONE)
        answer.update(
            number=table.number,
            name=table.name,
            challenge=table.challenge.value,
            brief=table.brief_title,
        )
        tables[str(table.id)] = answer
    return {"tables": tables, "duplicates": hints.of(hints.evening(event.id))}
