"""Dot votes (DESIGN.md §5, step 5): N votes each, at most M on one card,
results hidden until the facilitator closes the vote.

A vote step's live state is in its settings: ``state`` (``ready``, ``open``,
``closed``) and, once closed, ``results`` (votes per card). Budgets are
checked under a lock on the voter's row, so two tabs or crafted messages
sent at once cannot overspend them, on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update

from ..extensions import db
from ..models import Idea, Participant, Step, StepKind, Table, Vote, utcnow
from ..sqlite import Prepared
from . import ServiceError
from .changes import NewVote, add_new, touch
from .inputs import integer, member, require_open, require_open_status
from .writes import MODERATORS, Request, op


def _vote_step(table: Table, step_id=None) -> Step:
    """The vote step named by ``step_id``, or the table's current step."""
    step = table.step
    if step_id is not None:
        step_id = integer(step_id)
        step = db.session.get(Step, step_id) if step_id else None
    if step is None or step.table_id != table.id or step.kind != StepKind.vote:
        raise ServiceError("no_vote", _l("There is no vote at this step."))
    return step


def _settings(step: Step) -> dict:
    return dict(step.settings or {})


def set_state(step: Step, state: str, **extra) -> None:
    """Open, close or reset a vote step (``extra``: its results)."""
    settings = _settings(step)
    settings.pop("results", None)
    step.settings = {**settings, "state": state, **extra}
    touch(step)


@op("vote.open", *MODERATORS)
def open_vote(req: Request) -> None:
    """Open (or reopen) the vote of the current step."""
    table = req.actor.table
    step = _vote_step(table, req.data.get("step_id"))
    if _settings(step).get("state") != "open":
        set_state(step, "open")


@op("vote.close", *MODERATORS)
def close_vote(req: Request) -> None:
    """Close the vote: its results (votes per card) show on every screen."""
    table = req.actor.table
    step = _vote_step(table, req.data.get("step_id"))
    if _settings(step).get("state") == "closed":
        return
    tally = db.session.execute(
        select(Vote.idea_id, func.count(Vote.id))
        .join(Idea, Idea.id == Vote.idea_id)
        .where(
            Vote.step_id == step.id,
            Vote.active.is_(True),
            Idea.deleted.is_(False),
            Idea.hidden.is_(False),
        )
        .group_by(Vote.idea_id)
    )
    results = {str(idea_id): n for idea_id, n in tally}
    set_state(step, "closed", results=results)


def _voter(req: Request) -> Participant:
    return req.actor.participant or member(req.actor.table, req.data.get("participant_id"))


def _voter_id(req: Request) -> int:
    return req.actor.participant_id or _voter(req).id


def _open_step(table: Table) -> Step:
    step = _vote_step(table)
    if _settings(step).get("state") != "open":
        raise ServiceError("vote_closed", _l("The vote is not open."))
    return step


def _open_vote(facts) -> dict:
    """The settings of the open vote at the writer's table's current step."""
    if facts.step_kind != StepKind.vote:
        raise ServiceError("no_vote", _l("There is no vote at this step."))
    settings = facts.step_settings or {}
    if settings.get("state") != "open":
        raise ServiceError("vote_closed", _l("The vote is not open."))
    return settings


def lock_voter(voter_id: int) -> None:
    # A write on the voter's row: later writes of the same voter (another tab)
    # wait until this one commits, then count what it spent.
    _LOCK_VOTER.run(db.session.connection(), {"participant_id": voter_id})


def _active(step: Step, voter: Participant, idea_id: int | None = None):
    query = select(Vote).where(
        Vote.step_id == step.id, Vote.participant_id == voter.id, Vote.active.is_(True)
    )
    if idea_id is not None:
        query = query.where(Vote.idea_id == idea_id)
    return list(db.session.scalars(query.order_by(Vote.id)))


# A vote is cast by a whole hall within a minute: its statements are built
# once and it loads no entity (as a phone's post).
_participants = Participant.__table__
_LOCK_VOTER = Prepared(
    update(_participants)
    .where(_participants.c.id == bindparam("participant_id"))
    .values(seq=_participants.c.seq)
)
_ideas, _votes = Idea.__table__, Vote.__table__
_CARD = Prepared(
    select(_ideas.c.participant_id).where(
        _ideas.c.id == bindparam("idea_id"),
        _ideas.c.table_id == bindparam("table_id"),
        _ideas.c.deleted.is_(False),
        _ideas.c.hidden.is_(False),
        _ideas.c.private.is_(False),
    )
)
_SPENT = Prepared(
    select(_votes.c.idea_id).where(
        _votes.c.step_id == bindparam("step_id"),
        _votes.c.participant_id == bindparam("participant_id"),
        _votes.c.active.is_(True),
    )
)


def _card_author(table_id: int, idea_id) -> int | None:
    """The author of card ``idea_id`` of the table, if one may vote for it."""
    idea_id = integer(idea_id)
    found = (
        _CARD.run(db.session.connection(), {"idea_id": idea_id, "table_id": table_id})
        if idea_id
        else None
    )
    if not found:
        raise ServiceError("not_found", _l("This idea does not exist (any more)."))
    return found[0][0]


@op("vote.cast", "participant", *MODERATORS, direct=True)
def cast(req: Request) -> None:
    """Put one vote on a card, within the voter's budget."""
    facts = req.actor.facts
    require_open_status(facts.event_status)
    voter_id = _voter_id(req)
    settings = _open_vote(facts)
    idea_id = integer(req.data.get("idea_id"))
    author_id = _card_author(facts.table_id, idea_id)
    if settings.get("no_self_vote") and author_id == voter_id:
        raise ServiceError("own_card", _l("You cannot vote for your own card in this vote."))
    lock_voter(voter_id)
    spent = [
        idea
        for (idea,) in _SPENT.run(
            db.session.connection(), {"step_id": facts.step_id, "participant_id": voter_id}
        )
    ]
    if len(spent) >= settings.get("votes", 3):
        raise ServiceError("no_votes_left", _l("You have used all your votes."))
    if spent.count(idea_id) >= settings.get("max_per_card", 2):
        raise ServiceError("card_full", _l("You have put as many votes on this card as allowed."))
    add_new(
        NewVote(
            table_id=facts.table_id,
            step_id=facts.step_id,
            participant_id=voter_id,
            idea_id=idea_id,
            created_at=utcnow(),
            event_id=facts.event_id,
        )
    )


@op("vote.withdraw", "participant", *MODERATORS)
def withdraw(req: Request) -> None:
    """Take back one of one's votes on a card while the vote is open."""
    table = req.actor.table
    require_open(table)
    voter = _voter(req)
    step = _open_step(table)
    idea_id = integer(req.data.get("idea_id"))
    lock_voter(voter.id)
    mine = _active(step, voter, idea_id)
    if not mine:
        raise ServiceError("not_found", _l("You have no vote on this card."))
    mine[-1].active = False
    touch(mine[-1])
