"""Commitments and interest alignment (DESIGN.md §1, §5 step 7): each person
says openly whether they would carry the table's result, contribute to it or
be kept informed, what they bring, what they expect in return and how much
time they have. A contact is asked for only with consent, and never shown
live: it is kept for the organizers' follow-up."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..models import Commitment, CommitRole, Participant
from . import ServiceError, minors
from .changes import touch
from .inputs import MAX_BRINGS_LENGTH, bad_request, clean_text, integer, member, require_open
from .writes import Request, op

MAX_CONTACT = 200
MAX_HOURS = 200


def _committer(req: Request) -> Participant:
    return req.actor.participant or member(req.actor.table, req.data.get("participant_id"))


def _existing(req: Request, participant: Participant) -> Commitment | None:
    return db.session.scalar(
        select(Commitment).where(
            Commitment.table_id == req.actor.table.id,
            Commitment.participant_id == participant.id,
        )
    )


@op("commit.save", "participant", "facilitator", "organizer")
def save(req: Request) -> None:
    """Say (or change) what one commits to."""
    table = req.actor.table
    require_open(table)
    participant = _committer(req)
    try:
        role = CommitRole(req.data.get("role"))
    except ValueError:
        raise ServiceError("bad_role", _l("Choose carry, contribute or keep informed.")) from None
    contribution = clean_text(req.data.get("contribution"), MAX_BRINGS_LENGTH, required=False)
    expects = clean_text(req.data.get("expects"), MAX_BRINGS_LENGTH, required=False)
    hours = req.data.get("hours_per_month")
    if hours is not None:
        hours = integer(hours)
        if hours is None or not 0 <= hours <= MAX_HOURS:
            raise ServiceError("bad_hours", _l("Hours per month: a number from 0 to 200."))
    consent = req.data.get("consent", False)
    if not isinstance(consent, bool):
        raise bad_request()
    if minors.restricted(participant) and (consent or role == CommitRole.follow):
        # A minor leaves no contact, so nobody could keep them informed.
        raise ServiceError(
            "minor", _l("Under the age of minors: carry or contribute, without a contact.")
        )
    contact = clean_text(req.data.get("contact"), MAX_CONTACT, required=False)
    if consent and not contact and participant.contact_consent:
        contact = participant.contact  # consent kept: the contact given before stays
    if consent and not contact:
        raise ServiceError("contact_needed", _l("Give a phone number or an email to be contacted."))
    commitment = _existing(req, participant)
    if commitment is None:
        commitment = Commitment(table_id=table.id, participant_id=participant.id, role=role)
        db.session.add(commitment)
    commitment.role, commitment.contribution, commitment.expects = role, contribution, expects
    commitment.hours_per_month, commitment.withdrawn = hours, False
    commitment.updated_at = clock.now()
    # Consent withdrawn: the contact goes with it.
    participant.contact_consent = consent
    _set_contact(req, participant, contact if consent else "")
    touch(commitment)


@op("commit.withdraw", "participant", "facilitator", "organizer")
def withdraw(req: Request) -> None:
    """Take one's commitment back (and the contact given with it)."""
    participant = _committer(req)
    commitment = _existing(req, participant)
    if commitment is None or commitment.withdrawn:
        return
    commitment.withdrawn = True
    commitment.updated_at = clock.now()
    participant.contact_consent = False
    _set_contact(req, participant, "")
    touch(commitment)


def _set_contact(req: Request, participant: Participant, contact: str) -> None:
    # A contact withdrawn or replaced leaves no trace (see Request.erases).
    req.erases = req.erases or participant.contact not in ("", contact)
    participant.contact = contact
