"""Minors (issue 19): a participant under the territory's age of minors
(15 by default) says so when joining; the app then keeps the minimum — a
pseudonym suggested, no contact, no "keep me informed", never named in a
project's team or an export — unless an organizer records that a parent
consented (who, when). Their cards and votes count like everyone's."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from datetime import time as dt_time

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..models import Event, Organizer, Participant, ProjectMember, Table
from . import ServiceError, accounts, journal
from .transaction import commit

MINOR_LABEL = _l("Minor participant")


def restricted(participant: Participant) -> bool:
    """Whether the app keeps only the minimum about this participant: a
    minor whose parent's consent no organizer has recorded."""
    return bool(participant.minor) and participant.guardian_consent_at is None


def public_name(participant: Participant) -> str:
    """The name a project's team shows: the participant's, or for a minor
    without a parent's consent, "Minor participant" (stored in the
    language of whoever made the team, as a purge's pseudonyms are)."""
    return str(MINOR_LABEL) if restricted(participant) else participant.display_name


MAX_GUARDIAN = 200


def record_guardian_consent(
    organizer: Organizer, participant: Participant, guardian: str, collected_on
) -> None:
    """Record that a minor's parent consented (who, on what day): the minor
    is named in their projects' teams from now on, as anyone who agreed."""
    if not accounts.can_manage(organizer, participant.table.event):
        raise ServiceError("forbidden", _l("You do not organize this territory."))
    guardian = " ".join(str(guardian or "").split())
    if not participant.minor:
        raise ServiceError("not_minor", _l("This participant did not join as a minor."))
    if not guardian or len(guardian) > MAX_GUARDIAN:
        raise ServiceError(
            "guardian_needed",
            _l("Give the name of the parent who consented (200 characters at most)."),
        )
    if collected_on is None or collected_on > clock.now().date():
        raise ServiceError(
            "bad_date", _l("Give the day the consent was collected (not in the future).")
        )
    participant.guardian_consent_by = guardian
    participant.guardian_consent_at = datetime.combine(collected_on, dt_time(12), tzinfo=UTC)
    for member in db.session.scalars(
        select(ProjectMember).where(ProjectMember.participant_id == participant.id)
    ):
        member.name = participant.display_name
    journal.record(
        f"organizer:{organizer.id}", "participant.guardian_consent", "",
        territory_id=participant.table.event.territory_id, event_id=participant.table.event_id,
        participant_id=participant.id, collected_on=collected_on.isoformat(),
    )  # fmt: skip
    commit()


def minors_of(event: Event) -> list[Participant]:
    """The evening's participants who joined as minors, table by table."""
    return list(
        db.session.scalars(
            select(Participant)
            .join(Table, Table.id == Participant.table_id)
            .where(Table.event_id == event.id, Participant.minor.is_(True))
            .order_by(Table.number, Participant.id)
        )
    )


# Pseudonyms to suggest: an animal and a colour, and a number (no one's name).
ANIMALS = {
    "fr": ("Renard", "Hibou", "Castor", "Loutre", "Héron", "Lynx", "Blaireau", "Martin-pêcheur"),
    "en": ("Fox", "Owl", "Beaver", "Otter", "Heron", "Lynx", "Badger", "Kingfisher"),
}
COLOURS = {
    "fr": ("bleu", "vert", "orange", "violet", "doré", "rouge"),
    "en": ("Blue", "Green", "Orange", "Purple", "Golden", "Red"),
}


def suggest_pseudonym() -> str:
    """A pseudonym for a minor to take ("Renard bleu 42"), in the page's language."""
    language = "en" if str(get_locale() or "fr").startswith("en") else "fr"
    animal = secrets.choice(ANIMALS[language])
    colour = secrets.choice(COLOURS[language])
    number = secrets.randbelow(90) + 10
    words = (animal, colour) if language == "fr" else (colour, animal)
    return f"{words[0]} {words[1]} {number}"
