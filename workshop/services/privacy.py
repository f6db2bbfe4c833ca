"""Personal data (issue 6 §9): an organizer purges an evening's personal data
once it is over, keeping what is anonymous — the ideas, the sheets, the votes,
the figures.

What goes: participants' names (replaced by "Participant N"), contacts and
consents, what they said about themselves, the free texts of their
commitments, their names on the sheet's fields, on project teams and in the
journal, and their phones' access (the cookies stop working). What stays:
categories (for the mobilisation figures), ideas, votes, clusters, sheets,
the roles and hours of commitments, projects and their stages.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, text

from .. import clock
from ..extensions import db
from ..models import (
    Commitment,
    Event,
    EventStatus,
    Idea,
    JournalEntry,
    Organizer,
    Participant,
    Project,
    ProjectMember,
    SheetField,
    Table,
    Vote,
)
from . import ServiceError, accounts, journal
from .changes import touch
from .codes import new_secret, token_hash

# Journal data keys that may hold a person's name or contact.
PERSONAL_KEYS = ("name", "contact", "before", "after", "by")


@dataclass
class Purge:
    participants: int
    members: int
    journal_entries: int


def _pseudonym(number: int) -> str:
    # Stored: in the language of the organizer who purges, as they read it.
    return str(_l("Participant %(number)d", number=number))


def _member_pseudonym(number: int) -> str:
    return str(_l("Team member %(number)d", number=number))


def purge_event(organizer: Organizer, event: Event) -> Purge:
    """Remove the personal data of a closed evening (see the module's docstring)."""
    if not accounts.can_manage(organizer, event):
        raise ServiceError("forbidden", _l("You do not organize this territory."))
    if event.status != EventStatus.closed:
        raise ServiceError(
            "not_closed", _l("Close the evening first: phones still use these names.")
        )
    session = db.session
    if session.get_bind().dialect.name == "sqlite":
        # Overwritten values are zeroed in the file, not left in free space.
        session.execute(text("PRAGMA secure_delete = ON"))
    table_ids = list(session.scalars(select(Table.id).where(Table.event_id == event.id)))
    people = list(
        session.scalars(
            select(Participant)
            .where(Participant.table_id.in_(table_ids))
            .order_by(Participant.table_id, Participant.id)
        )
    )
    names = {p.display_name for p in people if p.display_name}
    by_name = {p.display_name: p.id for p in people}
    contacts = {p.contact for p in people if p.contact}
    renamed = {}
    for number, person in enumerate(people, 1):
        renamed[person.id] = _pseudonym(number)
        person.display_name = renamed[person.id]
        person.contact, person.contact_consent = "", False
        person.brings = person.intro = person.expects = ""
        person.token_hash = token_hash(new_secret())  # the phone's cookie opens nothing now
    for commitment in session.scalars(select(Commitment).where(Commitment.table_id.in_(table_ids))):
        commitment.contribution = commitment.expects = ""
    for field in session.scalars(select(SheetField).where(SheetField.table_id.in_(table_ids))):
        if not field.edited_by.startswith("@"):  # "@facilitator" names no one
            field.edited_by = renamed.get(by_name.get(field.edited_by), "")
        field.editing_by, field.editing_at = "", None
    # The teams of the evening's projects: its participants, and the people
    # added to them since (their names and contacts came with the evening too).
    event_projects = list(session.scalars(select(Project).where(Project.event_id == event.id)))
    project_ids = [p.id for p in event_projects]
    members = list(
        session.scalars(
            select(ProjectMember).where(
                or_(
                    ProjectMember.project_id.in_(project_ids),
                    ProjectMember.participant_id.in_(list(renamed)),
                )
            )
        )
    )
    for number, member in enumerate(members, 1):
        names.add(member.name)
        contacts.add(member.contact)
        member.name = renamed.get(member.participant_id) or _member_pseudonym(number)
        member.contact, member.consent = "", False
        member.brings = member.expects = ""
    for project in event_projects:
        if project.owner in names:
            project.owner = event.territory.name
    entries = _scrub_journal(event, names | contacts)
    journal.record(
        f"organizer:{organizer.id}", "event.purged", event.title,
        territory_id=event.territory_id, event_id=event.id,
        participants=len(people), members=len(members), journal_entries=entries,
    )  # fmt: skip
    session.commit()
    return Purge(len(people), len(members), entries)


def _scrub_journal(event: Event, personal: set[str]) -> int:
    """Remove names and contacts from the journal entries about the evening
    and its projects; returns how many entries changed."""
    if not personal:
        return 0
    project_subjects = [
        f"project:{pid}"
        for pid in db.session.scalars(select(Project.id).where(Project.event_id == event.id))
    ]
    entries = db.session.scalars(
        select(JournalEntry).where(
            or_(JournalEntry.event_id == event.id, JournalEntry.subject.in_(project_subjects))
        )
    )
    changed = 0
    for entry in entries:
        data = dict(entry.data or {})
        scrubbed = {
            key: ("" if key in PERSONAL_KEYS and value in personal else value)
            for key, value in data.items()
        }
        subject = "" if entry.subject in personal else entry.subject
        if scrubbed != data or subject != entry.subject:
            entry.data, entry.subject = scrubbed, subject
            changed += 1
    return changed


# --- a participant's own data, from their phone ---------------------------------------


def participant_data(participant: Participant) -> dict:
    """Everything the app keeps about a participant and what they posted."""
    ideas = db.session.scalars(
        select(Idea)
        .where(Idea.participant_id == participant.id, Idea.deleted.is_(False))
        .order_by(Idea.seq)
    )
    commitment = db.session.scalar(
        select(Commitment).where(
            Commitment.participant_id == participant.id, Commitment.withdrawn.is_(False)
        )
    )
    votes = db.session.scalars(
        select(Vote.idea_id).where(Vote.participant_id == participant.id, Vote.active.is_(True))
    )
    return {
        "evening": participant.table.event.title,
        "table": participant.table.name,
        "name": participant.display_name,
        "category": participant.category.value if participant.category else None,
        "brings": participant.brings,
        "contact": participant.contact,
        "consent": participant.contact_consent,
        "joined_at": participant.created_at.isoformat(),
        "ideas": [{"id": i.id, "kind": i.kind.value, "text": i.text} for i in ideas],
        "votes_for_ideas": list(votes),
        "commitment": None
        if commitment is None
        else {
            "role": commitment.role.value,
            "contribution": commitment.contribution,
            "expects": commitment.expects,
            "hours_per_month": commitment.hours_per_month,
        },
    }


def withdraw_consent(participant: Participant) -> None:
    """The participant no longer agrees to be contacted: their contact goes,
    from the table and from the teams of the projects they are in."""
    participant.contact_consent, participant.contact = False, ""
    for member in db.session.scalars(
        select(ProjectMember).where(ProjectMember.participant_id == participant.id)
    ):
        member.consent, member.contact = False, ""
    journal.record(
        f"participant:{participant.id}", "participant.consent_withdrawn", "",
        event_id=participant.table.event_id,
    )  # fmt: skip
    db.session.commit()


def delete_posts(participant: Participant) -> int:
    """Delete every card the participant posted (even after the evening);
    every screen of the table sees them go. Returns how many."""
    ideas = list(
        db.session.scalars(
            select(Idea).where(Idea.participant_id == participant.id, Idea.deleted.is_(False))
        )
    )
    for idea in ideas:
        idea.deleted, idea.updated_at = True, clock.now()
        touch(idea)
    journal.record(
        f"participant:{participant.id}", "participant.posts_deleted", "",
        event_id=participant.table.event_id, count=len(ideas),
    )  # fmt: skip
    db.session.commit()
    return len(ideas)
