"""The room-wide vote on the evening's themes (issue 18, item 4).

Once the synthesis team has named the themes, the organizers open a vote of
the whole hall on them: every phone gets the themes and a budget, either
dots to spread (at most ``budget`` in all) or a ranking of up to ``budget``
themes (the first gets ``budget`` points, the next one less…). Results stay
hidden until the vote is closed; then they are on every phone and on the
projector.

The vote's state is the evening's (``Event.room_vote``) and reaches every
screen of every table through its table's view: opening and closing touch
every table, a few at a time, so phones learn it by the one protocol and
catch it up by number like any change. A ballot is replaced whole by each
vote of its voter (the last one counts): a resend or a second tab can never
overspend the budget, and a vote sent offline goes through the outbox.
"""

from __future__ import annotations

from collections import defaultdict

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..models import EventStatus, RoomBallot, Table, Theme
from . import ServiceError, control, journal, plenary, votes
from .changes import touch
from .inputs import bad_request, integer
from .writes import Request, in_batches, op

MODES = ("dots", "ranking")
MAX_BUDGET = 10
MAX_THEMES = 30  # put to the room's vote at once


def _themes(event) -> list[dict]:
    """The team's themes, as the vote shows them (the app's pending
    suggestions are not put to the vote)."""
    found = db.session.scalars(
        select(Theme)
        .where(Theme.event_id == event.id, Theme.deleted.is_(False), Theme.suggested.is_(False))
        .order_by(Theme.id)
    )
    return [{"id": theme.id, "label": theme.label} for theme in found]


def _touch_every_table(event) -> None:
    for table in in_batches(control.tables_of(event)):
        touch(table)


@op("room_vote.open", "organizer", event_wide=True)
def open_vote(req: Request) -> None:
    """Open the room's vote on the team's themes: ``mode`` dots or ranking,
    ``budget`` dots (or themes ranked). Opening it again starts afresh."""
    event = req.actor.event
    if event.status != EventStatus.live:
        raise ServiceError("closed", _l("The evening is not open."))
    mode, budget = req.data.get("mode"), integer(req.data.get("budget"))
    if mode not in MODES:
        raise bad_request()
    if budget is None or not 1 <= budget <= MAX_BUDGET:
        raise ServiceError("bad_budget", _l("Give between 1 and 10 points to each person."))
    if (event.room_vote or {}).get("state") == "open":
        return  # a second click: the vote is open already
    themes = _themes(event)
    if not 2 <= len(themes) <= MAX_THEMES:
        raise ServiceError(
            "no_themes", _l("The room votes on 2 to 30 themes: name them at the synthesis desk.")
        )
    if mode == "ranking":
        budget = min(budget, len(themes))
    event.room_vote = {
        "state": "open",
        "mode": mode,
        "budget": budget,
        "themes": themes,
        "opened_at": clock.epoch_ms(),
    }
    _touch_every_table(event)
    journal.record(
        req.actor.journal_name, "room_vote.opened", mode,
        territory_id=event.territory_id, event_id=event.id,
    )  # fmt: skip


def tally(event) -> list[dict]:
    """The open vote's results: every theme with its points and voters,
    most points first."""
    vote = event.room_vote or {}
    table_ids = select(Table.id).where(Table.event_id == event.id)
    ballots = db.session.scalars(
        select(RoomBallot).where(
            RoomBallot.table_id.in_(table_ids), RoomBallot.vote == vote.get("opened_at")
        )
    )
    points: dict[int, int] = defaultdict(int)
    voters: dict[int, int] = defaultdict(int)
    for ballot in ballots:
        for theme_id, given in (ballot.points or {}).items():
            if given:
                points[int(theme_id)] += given
                voters[int(theme_id)] += 1
    results = [
        {**theme, "points": points[theme["id"]], "voters": voters[theme["id"]]}
        for theme in vote.get("themes", [])
    ]
    return sorted(results, key=lambda r: (-r["points"], r["id"]))


@op("room_vote.close", "organizer", event_wide=True)
def close_vote(req: Request) -> None:
    """Close the room's vote: its results go to every phone and the projector."""
    event = req.actor.event
    vote = event.room_vote or {}
    if vote.get("state") != "open":
        return  # closed already, or never opened
    event.room_vote = {**vote, "state": "closed", "results": tally(event)}
    _touch_every_table(event)
    event.plenary = {"mode": "room_vote", "table_id": None, "auto": 0, "since": clock.epoch_ms()}
    plenary.announce(event)
    journal.record(
        req.actor.journal_name, "room_vote.closed", vote.get("mode", ""),
        territory_id=event.territory_id, event_id=event.id,
    )  # fmt: skip


def _ballot_points(vote: dict, data: dict) -> dict[str, int]:
    """The points a phone's ballot gives, checked against the vote."""
    allowed = {theme["id"] for theme in vote["themes"]}
    budget = vote["budget"]
    over = ServiceError(
        "over_budget", _l("You have %(n)d points at most.", n=budget), budget=budget
    )
    if vote["mode"] == "ranking":
        ranking = data.get("ranking")
        if not isinstance(ranking, list) or len(ranking) > len(allowed):
            raise bad_request()
        ids = [integer(theme_id) for theme_id in ranking]
        if None in ids or len(set(ids)) != len(ids) or not set(ids) <= allowed:
            raise bad_request()
        if len(ids) > budget:
            raise over
        return {str(theme_id): budget - rank for rank, theme_id in enumerate(ids)}
    given = data.get("points")
    if not isinstance(given, dict) or len(given) > len(allowed):
        raise bad_request()
    points = {}
    for key, value in given.items():
        # JSON's keys are texts: a theme's id written in digits.
        theme_id = int(key) if key.isascii() and key.isdigit() and len(key) <= 12 else None
        n = integer(value)
        if theme_id not in allowed or n is None or n < 0:
            raise bad_request()
        if n:
            points[str(theme_id)] = n
    if sum(points.values()) > budget:
        raise over
    return points


@op("room_vote.cast", "participant")
def cast(req: Request) -> None:
    """A phone's whole ballot (``points`` per theme, or a ``ranking``),
    replacing its previous one in this vote."""
    event = req.actor.event
    vote = event.room_vote or {}
    # A ballot kept offline for an earlier vote does not count in this one.
    earlier = "vote" in req.data and req.data["vote"] != vote.get("opened_at")
    if vote.get("state") != "open" or event.status != EventStatus.live or earlier:
        raise ServiceError("room_vote_closed", _l("The room's vote is not open."))
    points = _ballot_points(vote, req.data)
    voter = req.actor.participant
    votes.lock_voter(voter.id)  # another tab of this phone waits for this write
    ballot = db.session.scalar(select(RoomBallot).where(RoomBallot.participant_id == voter.id))
    if ballot is None:
        ballot = RoomBallot(table_id=voter.table_id, participant_id=voter.id, points={})
        db.session.add(ballot)
    if (ballot.points, ballot.vote) == (points, vote["opened_at"]):
        return  # the same ballot again
    ballot.points, ballot.vote, ballot.updated_at = points, vote["opened_at"], clock.now()
    touch(ballot)
