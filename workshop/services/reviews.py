"""Go / no-go reviews (issue 6 §5): organizers invite local entrepreneurs to
give their opinion on projects, by a secret link and without an account.

A reviewer sees only the projects they were invited to. Only the hash of
their link is kept: the link is shown once, when it is made; a new link
replaces it and revoking the reviewer closes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..models import Organizer, Project, Review, Reviewer, Territory, Verdict
from . import ServiceError, backlog, journal, privacy
from .codes import new_secret, token_hash
from .transaction import commit

MAX_COMMENT = 4000
VERDICT_LABELS = {
    Verdict.go: _l("Go"),
    Verdict.conditional: _l("Go, with conditions"),
    Verdict.no_go: _l("No go"),
}


def _refused() -> ServiceError:
    return ServiceError("not_found", _l("This link does not open any review."))


def reviewers_of(territory: Territory) -> list[Reviewer]:
    """The territory's reviewers whose link still works."""
    return list(
        db.session.scalars(
            select(Reviewer)
            .where(Reviewer.territory_id == territory.id, Reviewer.revoked_at.is_(None))
            .order_by(Reviewer.name)
        )
    )


def new_reviewer(organizer: Organizer, territory: Territory, name: str) -> tuple[Reviewer, str]:
    """A reviewer and their secret link's token (shown once, never stored)."""
    if territory not in organizer.territories:
        raise ServiceError("forbidden", _l("You do not organize this territory."))
    name = (name or "").strip()[:200]
    if not name:
        raise ServiceError("required", _l("Give the reviewer's name."))
    token = new_secret()
    reviewer = Reviewer(territory_id=territory.id, name=name, token_hash=token_hash(token))
    db.session.add(reviewer)
    journal.record(f"organizer:{organizer.id}", "reviewer.created", name, territory_id=territory.id)
    commit()
    return reviewer, token


def new_link(organizer: Organizer, reviewer: Reviewer) -> str:
    """Replace a reviewer's link (the old one stops working); the new token."""
    _check_owner(organizer, reviewer)
    token = new_secret()
    reviewer.token_hash, reviewer.revoked_at = token_hash(token), None
    commit()
    return token


def revoke(organizer: Organizer, reviewer: Reviewer) -> None:
    """Close the reviewer's link; the opinions already given stay."""
    _check_owner(organizer, reviewer)
    if reviewer.revoked_at is None:
        reviewer.revoked_at = clock.now()
        journal.record(
            f"organizer:{organizer.id}", "reviewer.revoked", reviewer.name,
            territory_id=reviewer.territory_id,
        )  # fmt: skip
        commit()


def _check_owner(organizer: Organizer, reviewer: Reviewer) -> None:
    if reviewer.territory_id not in {t.id for t in organizer.territories}:
        raise _refused()


def reviewer_for(organizer: Organizer, reviewer_id) -> Reviewer:
    reviewer = db.session.get(Reviewer, reviewer_id) if isinstance(reviewer_id, int) else None
    if reviewer is None:
        raise _refused()
    _check_owner(organizer, reviewer)
    return reviewer


def invite(organizer: Organizer, project: Project, reviewer: Reviewer) -> None:
    """Ask ``reviewer`` for their opinion on ``project`` (once)."""
    _check_owner(organizer, reviewer)
    if reviewer.territory_id != project.territory_id or reviewer.revoked_at is not None:
        raise _refused()
    found = db.session.scalar(
        select(Review).where(Review.reviewer_id == reviewer.id, Review.project_id == project.id)
    )
    if found is None:
        db.session.add(Review(reviewer_id=reviewer.id, project_id=project.id))
        backlog.record(organizer, project, "project.reviewer_invited", name=reviewer.name)
    commit()


# --- the reviewer's side --------------------------------------------------------------


def reviewer_by_token(token) -> Reviewer:
    """The reviewer whose link this is (refused if unknown or revoked)."""
    if not isinstance(token, str) or not 10 <= len(token) <= 100:
        raise _refused()
    reviewer = db.session.scalar(select(Reviewer).where(Reviewer.token_hash == token_hash(token)))
    if reviewer is None or reviewer.revoked_at is not None:
        raise _refused()
    return reviewer


def invitations(reviewer: Reviewer) -> list[Review]:
    """The reviewer's invitations, projects on the board only."""
    return list(
        db.session.scalars(
            select(Review)
            .join(Project, Project.id == Review.project_id)
            .where(Review.reviewer_id == reviewer.id, Project.merged_into_id.is_(None))
            .order_by(Review.invited_at, Review.id)
        )
    )


def named_team(project: Project) -> tuple[list[str], int]:
    """What a reviewer sees of a project's team: the names of those who
    agreed (the rule of the exports) and how many others there are."""
    named = [member.name for member in project.members if privacy.consented(member)]
    return named, len(project.members) - len(named)


def give(reviewer: Reviewer, project_id, verdict, comment: str) -> Review:
    """Record (or change) the reviewer's opinion on a project they were invited to."""
    review = next((r for r in invitations(reviewer) if r.project_id == project_id), None)
    if review is None:
        raise _refused()
    try:
        verdict = Verdict(verdict)
    except ValueError:
        raise ServiceError("bad_verdict", _l("Choose go, go with conditions or no go.")) from None
    comment = (comment or "").strip()[:MAX_COMMENT]
    if verdict != Verdict.go and not comment:
        raise ServiceError("comment_needed", _l("Say why, or on which conditions."))
    review.verdict, review.comment, review.given_at = verdict, comment, clock.now()
    journal.record(
        f"reviewer:{reviewer.id}", "project.reviewed", f"project:{project_id}",
        territory_id=reviewer.territory_id, name=reviewer.name, verdict=verdict.value,
    )  # fmt: skip
    commit()
    return review


# --- what organizers see ------------------------------------------------------------------


@dataclass
class Tally:
    invited: int
    given: int
    go: int
    conditional: int
    no_go: int

    @property
    def awaiting(self) -> bool:
        return self.given < self.invited


def reviews_of(project: Project) -> list[Review]:
    return list(
        db.session.scalars(
            select(Review).where(Review.project_id == project.id).order_by(Review.id)
        )
    )


def tally(reviews: list[Review]) -> Tally:
    """How many opinions were asked, given, and of which kind."""
    given = [r for r in reviews if r.verdict is not None]
    return Tally(
        invited=len(reviews),
        given=len(given),
        go=sum(1 for r in given if r.verdict == Verdict.go),
        conditional=sum(1 for r in given if r.verdict == Verdict.conditional),
        no_go=sum(1 for r in given if r.verdict == Verdict.no_go),
    )


def tallies(project_ids: list[int]) -> dict[int, Tally]:
    """The tally of each project that has invitations."""
    by_project: dict[int, list[Review]] = {}
    if project_ids:
        for review in db.session.scalars(select(Review).where(Review.project_id.in_(project_ids))):
            by_project.setdefault(review.project_id, []).append(review)
    return {project_id: tally(reviews) for project_id, reviews in by_project.items()}
