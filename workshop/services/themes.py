"""The evening's themes (issue 18): what several tables' ideas share, named
by the synthesis team as ideas arrive, then shown back to the room.

Themes are the evening's own live entities (numbered in its stream, see
:mod:`workshop.services.changes`), written through the one write path like
everything live. The app may suggest one (the system actor,
:func:`~workshop.services.writes.as_system`): it stays a suggestion, shown as
the app's, until a person takes it up. Every edit names the version it was
based on; an edit based on an older one is refused with the current state,
so that no one silently overwrites a teammate (as a sheet's fields).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import ApartPair, Idea, Table, Theme
from . import ServiceError, plenary
from .changes import SYSTEM, touch, view
from .inputs import bad_request, clean_text, integer
from .writes import Request, op

MAX_LABEL = 120
MAX_KEYWORDS = 12
MAX_KEYWORD = 40
MAX_IDEAS = 2000  # a theme of a hundred tables' ideas
MAX_THEMES = 200  # per evening, suggestions included
MAX_PINNED = 3  # the quotes the room sees of a theme

TEAM = ("organizer", "desk")  # the synthesis team: organizers, and desk links' holders


def _theme(req: Request, key: str = "theme_id") -> Theme:
    """The evening's theme named by ``key`` in the request."""
    theme_id = integer(req.data.get(key))
    theme = db.session.get(Theme, theme_id) if theme_id else None
    if theme is None or theme.event_id != req.actor.event.id or theme.deleted:
        raise ServiceError("not_found", _l("This theme does not exist (any more)."))
    return theme


def _keywords(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_KEYWORDS:
        raise bad_request()
    return list(dict.fromkeys(clean_text(word, MAX_KEYWORD) for word in value))


def _idea_ids(req: Request, value) -> list[int]:
    """The ideas named, each of this evening's tables and not deleted."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_IDEAS:
        raise bad_request()
    wanted = list(dict.fromkeys(integer(idea_id) for idea_id in value))
    if None in wanted:
        raise bad_request()
    found = set(
        db.session.scalars(
            select(Idea.id)
            .join(Table, Table.id == Idea.table_id)
            .where(
                Idea.id.in_(wanted),
                Table.event_id == req.actor.event.id,
                Idea.deleted.is_(False),
            )
        )
    )
    if len(found) != len(wanted):
        raise ServiceError("not_found", _l("This idea does not exist (any more)."))
    return wanted


def _new(req: Request, suggested: bool) -> Theme:
    event = req.actor.event
    count = db.session.scalar(
        select(func.count(Theme.id)).where(Theme.event_id == event.id, Theme.deleted.is_(False))
    )
    if count >= MAX_THEMES:
        raise ServiceError("too_many_themes", _l("An evening has at most 200 themes."))
    theme = Theme(
        event_id=event.id,
        label=clean_text(req.data.get("label"), MAX_LABEL),
        keywords=_keywords(req.data.get("keywords")),
        idea_ids=_idea_ids(req, req.data.get("idea_ids")),
        suggested=suggested,
        created_by=SYSTEM if suggested else req.actor.key,
        accepted_by="",
        version=0,
    )
    db.session.add(theme)
    touch(theme)
    return theme


@op("theme.create", *TEAM, evening=True)
def create(req: Request) -> None:
    """A theme named by the team, with the ideas it gathers (if any)."""
    _new(req, suggested=False)
    plenary.themes_changed(req.actor.event)


@op("theme.suggest", "system", evening=True)
def suggest(req: Request) -> None:
    """A theme the app suggests: shown as the app's until a person takes it up."""
    _new(req, suggested=True)


@op("theme.update", *TEAM, evening=True)
def update(req: Request) -> None:
    """Rename a theme, change its keywords or its ideas (merge, split, move
    ideas between themes), based on the version the editor saw."""
    theme = _theme(req)
    base = integer(req.data.get("base_version"))
    if base is None:
        raise bad_request()
    changed = {}
    if "label" in req.data:
        changed["label"] = clean_text(req.data.get("label"), MAX_LABEL)
    if "keywords" in req.data:
        changed["keywords"] = _keywords(req.data.get("keywords"))
    if "idea_ids" in req.data:
        changed["idea_ids"] = _idea_ids(req, req.data.get("idea_ids"))
    changed = {key: value for key, value in changed.items() if getattr(theme, key) != value}
    if not changed:
        return
    if base != theme.version:
        raise ServiceError(
            "theme_conflict",
            _l("Someone else changed this theme meanwhile. Choose what to keep."),
            current=view(theme, req.actor.viewer),
        )
    for key, value in changed.items():
        setattr(theme, key, value)
    theme.version += 1
    touch(theme)
    plenary.themes_changed(req.actor.event)


@op("theme.move", *TEAM, evening=True)
def move(req: Request) -> None:
    """Put an idea in a theme (``theme_id``), or in none (``theme_id`` null),
    taking it out of the evening's other themes. Not based on a version: a
    move says where one idea goes, so two members moving different ideas, or
    one moving an idea while another renames its theme, both keep their edit."""
    [idea_id] = _idea_ids(req, [req.data.get("idea_id")])
    target = _theme(req) if req.data.get("theme_id") is not None else None
    themes = db.session.scalars(
        select(Theme).where(Theme.event_id == req.actor.event.id, Theme.deleted.is_(False))
    )
    for theme in themes:
        inside = idea_id in theme.idea_ids
        if theme is target and not inside:
            theme.idea_ids = [*theme.idea_ids, idea_id]
        elif theme is not target and inside:
            theme.idea_ids = [other for other in theme.idea_ids if other != idea_id]
        else:
            continue
        touch(theme)
    plenary.themes_changed(req.actor.event)


@op("theme.merge", *TEAM, evening=True)
def merge(req: Request) -> None:
    """Merge a theme (``theme_id``) into another (``into_id``): its ideas,
    keywords and pinned quotes join the other's, and it is gone. Not based
    on a version, as a move: it says where ideas go, and a teammate's rename
    of either theme meanwhile is kept."""
    theme = _theme(req)
    into = _theme(req, "into_id")
    if into is theme:
        raise bad_request()
    into.idea_ids = list(dict.fromkeys([*into.idea_ids, *theme.idea_ids]))
    into.keywords = list(dict.fromkeys([*into.keywords, *theme.keywords]))[:MAX_KEYWORDS]
    into.pinned = list(dict.fromkeys([*into.pinned, *theme.pinned]))[:MAX_PINNED]
    if theme.suggested is False:  # merging in a theme of the team's takes up the result
        into.suggested = False
        into.accepted_by = into.accepted_by or req.actor.key
    theme.deleted = True
    touch(into)
    touch(theme)
    plenary.themes_changed(req.actor.event)


@op("theme.split", *TEAM, evening=True)
def split(req: Request) -> None:
    """Split a theme: some of its ideas (``idea_ids``) leave it for a new
    theme of the team's (``label``)."""
    theme = _theme(req)
    leaving = _idea_ids(req, req.data.get("idea_ids"))
    if not leaving or not set(leaving) <= set(theme.idea_ids):
        raise ServiceError("not_in_theme", _l("Choose ideas of this theme to split off."))
    theme.idea_ids = [idea_id for idea_id in theme.idea_ids if idea_id not in leaving]
    touch(theme)
    _new(req, suggested=False)  # takes ``label`` and ``idea_ids`` from the request
    plenary.themes_changed(req.actor.event)


@op("theme.pin", *TEAM, evening=True)
def pin(req: Request) -> None:
    """Pin one of a theme's ideas as a quote the room sees first
    (``pinned`` true), or unpin it; at most three, the oldest pin gives way."""
    theme = _theme(req)
    [idea_id] = _idea_ids(req, [req.data.get("idea_id")])
    if idea_id not in theme.idea_ids:
        raise ServiceError("not_in_theme", _l("This idea is not in this theme."))
    pinned = [other for other in theme.pinned if other != idea_id and other in theme.idea_ids]
    if req.data.get("pinned", True) is True:
        pinned = [*pinned, idea_id][-MAX_PINNED:]
    if pinned != theme.pinned:
        theme.pinned = pinned
        touch(theme)
        plenary.themes_changed(req.actor.event)


@op("theme.accept", *TEAM, evening=True)
def accept(req: Request) -> None:
    """Take up the app's suggestion: from now on a theme of the team's."""
    theme = _theme(req)
    if theme.suggested:
        theme.suggested, theme.accepted_by = False, req.actor.key
        touch(theme)
        plenary.themes_changed(req.actor.event)


@op("theme.delete", *TEAM, evening=True)
def delete(req: Request) -> None:
    """Drop a theme (or ignore a suggestion); its ideas stay where they are."""
    theme = _theme(req)
    theme.deleted = True
    touch(theme)
    plenary.themes_changed(req.actor.event)


@op("theme.withdraw", "system", evening=True)
def withdraw(req: Request) -> None:
    """The app takes back a suggestion no one took up (the ideas it gathered
    now group otherwise); a theme a person made or took up is theirs."""
    theme = _theme(req)
    if theme.suggested and theme.created_by == SYSTEM:
        theme.deleted = True
        touch(theme)


@op("hints.apart", *TEAM, evening=True)
def apart(req: Request) -> None:
    """Say that two ideas the app found alike (``a``, ``b``) are not the
    same: their hint leaves every team member's desk. ``apart`` false takes
    that back. Saying it again changes nothing."""
    ideas = _idea_ids(req, [req.data.get("a"), req.data.get("b")])
    apart_ = req.data.get("apart", True)
    if len(ideas) != 2 or not isinstance(apart_, bool):  # an idea is never apart from itself
        raise bad_request()
    a, b = sorted(ideas)
    event_id = req.actor.event.id
    pair = db.session.scalar(
        select(ApartPair).where(
            ApartPair.event_id == event_id, ApartPair.idea_a == a, ApartPair.idea_b == b
        )
    )
    if pair is None:
        if not apart_:
            return
        pair = ApartPair(event_id=event_id, idea_a=a, idea_b=b, said_by=req.actor.key)
        db.session.add(pair)
    elif pair.apart == apart_:
        return
    pair.apart, pair.said_by = apart_, req.actor.key
    touch(pair)
