"""Personal data (issue 6 §9): an organizer purges an evening's personal data
once it is over, keeping what is anonymous — the ideas, the sheets, the votes,
the figures.

What goes: participants' names (replaced by "Participant N"), contacts and
consents, what they said about themselves, the free texts of their
commitments, the text of deleted cards, the names and contacts of the
evening's project teams (members added later too: "Team member N") and their
phones' access (the cookies stop working). Wherever a name or a contact was
copied or typed — cards, the sheet, groups, console messages, the projects'
titles, summaries, sheets and their snapshots, actions, notes, reviews, the
journal — it is replaced by its person's pseudonym. What stays: categories
(for the mobilisation figures), ideas, votes, clusters, sheets, the roles
and hours of commitments, projects and their stages. Nothing of what went is
left in the database's files either (:func:`workshop.sqlite.erase_traces`).

A public body may not destroy records without its archives service's
approval (issue 19): the purge is refused until the evening's archive
package is made (services/archives.py) and until the organizer records the
archives' decision (its reference and date, or that no approval is needed
and who decided so). That decision, who purged and when stay in the journal,
shown on the evening's page with the backups made before the purge.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from .. import clock
from ..extensions import db
from ..models import (
    Cluster,
    Commitment,
    Event,
    EventStatus,
    Idea,
    JobLine,
    JournalEntry,
    Organizer,
    Participant,
    Project,
    ProjectAction,
    ProjectIdea,
    ProjectMember,
    ProjectNote,
    ProjectSnapshot,
    Review,
    SheetField,
    Table,
    Theme,
    Vote,
)
from ..sqlite import erase_traces
from . import ServiceError, accounts, backlog, journal, live, minors
from .codes import new_secret, token_hash
from .transaction import commit

# Names shorter than this are replaced only where they are the whole text: as
# words inside a text, "Al" or "Jo" would take ordinary words with them.
MIN_NAME_IN_TEXT = 3
SLICE = 200  # rows pseudonymized between two pauses of the loop


APPROVALS = ("archives", "not_needed")
MAX_DECISION_TEXT = 200


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


def consented(person: Participant | ProjectMember) -> bool:
    """Whether a participant (or a member of a project's team) agreed to be
    named and contacted: only then do their name and contact leave the
    organizers' own pages (exports, the reviewers' page). A minor without a
    parent's consent never is."""
    if isinstance(person, ProjectMember):
        return bool(person.consent)
    return bool(person.contact_consent) and not minors.restricted(person)


def pseudonymizer(pseudonyms: dict[str, str]) -> Callable:
    """A function that replaces, in a text (or in the texts of a JSON value),
    each name or contact of ``pseudonyms`` by its pseudonym: as a whole word,
    in any case ("noé lambert" is Noé Lambert too), longest first."""
    found = {key.strip().lower(): value for key, value in pseudonyms.items() if key.strip()}
    words = sorted((key for key in found if len(key) >= MIN_NAME_IN_TEXT), key=len, reverse=True)
    pattern = (
        re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.IGNORECASE)
        if words
        else None
    )

    def replace(match: re.Match) -> str:
        text = match.group()
        return found.get(text.lower()) or next(
            value for key, value in found.items() if re.fullmatch(re.escape(key), text, re.I)
        )

    def scrub(value):
        if isinstance(value, str):
            if value.strip().lower() in found:  # the whole text is a name, even a short one
                return found[value.strip().lower()]
            return pattern.sub(replace, value) if pattern else value
        if isinstance(value, list):
            return [scrub(item) for item in value]
        if isinstance(value, dict):
            return {key: scrub(item) for key, item in value.items()}
        return value

    return scrub


def _scrub(model, condition, scrub: Callable, *columns: str) -> int:
    """Pseudonymize ``columns`` of the rows of ``model`` that meet
    ``condition``; how many rows changed. Read and written as plain rows, with
    pauses: under gevent the phones of other evenings are served meanwhile."""
    rows = db.session.execute(
        select(model.id, *(getattr(model, column) for column in columns)).where(condition)
    ).all()
    changed = []
    for n, (row_id, *before) in enumerate(rows, 1):
        after = [scrub(value) for value in before]
        if after != before:
            changed.append({"id": row_id, **dict(zip(columns, after, strict=True))})
        if n % SLICE == 0:
            time.sleep(0)
    if changed:
        db.session.execute(update(model), changed)  # by primary key
    return len(changed)


def archived(event: Event) -> JournalEntry | None:
    """The evening's archive package that the purge may rely on: the last
    one made since the evening last changed (its closing, say), or None."""
    changed = db.session.scalar(
        select(func.max(JournalEntry.id)).where(
            JournalEntry.event_id == event.id, JournalEntry.action == "event.updated"
        )
    )
    return db.session.scalar(
        select(JournalEntry)
        .where(
            JournalEntry.event_id == event.id,
            JournalEntry.action == "event.archived",
            JournalEntry.id > (changed or 0),
        )
        .order_by(JournalEntry.id.desc())
        .limit(1)
    )


def purges(event: Event) -> list[JournalEntry]:
    """The evening's purges, oldest first: each with the archives' decision,
    who purged and when."""
    return list(
        db.session.scalars(
            select(JournalEntry)
            .where(JournalEntry.event_id == event.id, JournalEntry.action == "event.purged")
            .order_by(JournalEntry.id)
        )
    )


def backups_before(event: Event, purge: JournalEntry) -> list[JournalEntry]:
    """The database backups (``flask backup``) made while the evening's
    personal data was in the database: they still hold it, to destroy or
    keep under the purge's decision."""
    return list(
        db.session.scalars(
            select(JournalEntry)
            .where(
                JournalEntry.action == "database.backup",
                JournalEntry.at >= event.created_at,
                JournalEntry.id < purge.id,
            )
            .order_by(JournalEntry.id)
        )
    )


def _no_decision(message) -> ServiceError:
    return ServiceError("no_decision", message)


def decision_of(fields: dict) -> dict:
    """The archives' decision as recorded with a purge, from ``fields`` as
    typed: ``approval`` "archives" with the decision's ``reference`` and
    ``date`` (not in the future), or "not_needed" with who ``decided_by``.
    Refused (``no_decision``) when it is missing or incomplete."""
    approval = str(fields.get("approval") or "")
    if approval not in APPROVALS:
        raise _no_decision(
            _l("Record the archives' decision first: its reference and date, or that no "
               "approval is needed and who decided so.")
        )  # fmt: skip

    def text(name: str) -> str:
        value = " ".join(str(fields.get(name) or "").split())
        if len(value) > MAX_DECISION_TEXT:
            raise _no_decision(_l("At most %(n)d characters.", n=MAX_DECISION_TEXT))
        return value

    if approval == "not_needed":
        decided_by = text("decided_by")
        if not decided_by:
            raise _no_decision(_l("Say who decided that no archives approval is needed."))
        return {"approval": approval, "decided_by": decided_by}
    reference = text("reference")
    try:
        day = date.fromisoformat(str(fields.get("date") or "").strip())
    except ValueError:
        day = None
    if not reference or day is None:
        raise _no_decision(_l("Give the reference and the date of the archives' approval."))
    if day > clock.now().date():
        raise _no_decision(_l("The archives' approval cannot be dated in the future."))
    return {"approval": approval, "reference": reference, "date": day.isoformat()}


def purge_event(organizer: Organizer, event: Event, decision: dict) -> Purge:
    """Remove the personal data of a closed evening (see the module's
    docstring), once its archive package is made, under the archives'
    ``decision`` (see :func:`decision_of`). Refused, nothing changed,
    otherwise."""
    if not accounts.can_manage(organizer, event):
        raise ServiceError("forbidden", _l("You do not organize this territory."))
    if event.status != EventStatus.closed:
        raise ServiceError(
            "not_closed", _l("Close the evening first: phones still use these names.")
        )
    package = archived(event)
    if package is None:
        raise ServiceError(
            "not_archived",
            _l("Download the evening's archive package first: the purge cannot be undone, "
               "and the archives may ask for the records."),
        )  # fmt: skip
    decision = decision_of(decision)
    session = db.session
    table_ids = list(session.scalars(select(Table.id).where(Table.event_id == event.id)))
    people = list(
        session.scalars(
            select(Participant)
            .where(Participant.table_id.in_(table_ids))
            .order_by(Participant.table_id, Participant.id)
        )
    )
    pseudonyms: dict[str, str] = {}  # name or contact -> pseudonym
    renamed = {}
    for number, person in enumerate(people, 1):
        renamed[person.id] = _pseudonym(number)
        for datum in (person.display_name, person.contact):
            pseudonyms.setdefault(datum, renamed[person.id])
        person.display_name = renamed[person.id]
        person.contact, person.contact_consent = "", False
        person.brings = person.intro = person.expects = ""
        person.guardian_consent_by = ""  # the parent's name: personal data too
        person.token_hash = token_hash(new_secret())  # the phone's cookie opens nothing now
    # The teams of the evening's projects: its participants, and the people
    # added to them since (their names and contacts came with the evening
    # too); and the teams its participants joined through a merge.
    event_projects = select(Project.id).where(Project.event_id == event.id)
    members = list(
        session.scalars(
            select(ProjectMember)
            .where(
                or_(
                    ProjectMember.project_id.in_(event_projects),
                    ProjectMember.participant_id.in_(list(renamed)),
                )
            )
            .order_by(ProjectMember.id)
        )
    )
    for number, member in enumerate(members, 1):
        pseudonym = renamed.get(member.participant_id) or _member_pseudonym(number)
        for datum in (member.name, member.contact):
            pseudonyms.setdefault(datum, pseudonym)
        member.name = pseudonym
        member.contact, member.consent = "", False
        member.brings = member.expects = ""
    session.execute(
        update(Commitment)
        .where(Commitment.table_id.in_(table_ids))
        .values(contribution="", expects="")
    )
    session.execute(  # cards deleted by an earlier version, which kept their text
        update(Idea).where(Idea.table_id.in_(table_ids), Idea.deleted.is_(True)).values(text="")
    )
    session.execute(
        update(SheetField)
        .where(SheetField.table_id.in_(table_ids))
        .values(editing_by="", editing_at=None)
    )
    scrub = pseudonymizer(pseudonyms)
    _scrub(Idea, Idea.table_id.in_(table_ids), scrub, "text")
    _scrub(Cluster, Cluster.table_id.in_(table_ids), scrub, "name")
    _scrub(SheetField, SheetField.table_id.in_(table_ids), scrub, "text", "edited_by")
    _scrub(Table, Table.id.in_(table_ids), scrub, "console_message")
    _scrub(Theme, Theme.event_id == event.id, scrub, "label")  # a theme may quote someone
    project_ids = list(
        session.scalars(
            select(Project.id).where(
                or_(
                    Project.id.in_(event_projects),
                    Project.id.in_({member.project_id for member in members}),
                )
            )
        )
    )
    _scrub(Project, Project.id.in_(project_ids), scrub, "title", "summary", "theme", "owner",
           "sheet")  # fmt: skip
    for model, *columns in (
        (ProjectSnapshot, "title", "summary", "sheet"),
        (ProjectIdea, "text"),
        (ProjectAction, "what", "who"),
        (ProjectNote, "text"),
        (JobLine, "declared_by", "checked_by", "evidence"),  # the job holder, say
        (Review, "comment"),
    ):
        _scrub(model, model.project_id.in_(project_ids), scrub, *columns)
    entries = _scrub(
        JournalEntry,
        or_(
            JournalEntry.event_id == event.id,
            JournalEntry.subject.in_([f"project:{pid}" for pid in project_ids]),
        ),
        scrub,
        "subject",
        "data",
    )
    journal.record(
        f"organizer:{organizer.id}", "event.purged", event.title,
        territory_id=event.territory_id, event_id=event.id,
        participants=len(people), members=len(members), journal_entries=entries,
        decision=decision, by=organizer.name, archive_sha256=package.data.get("sha256"),
    )  # fmt: skip
    # Its own transaction, never an outer one's: the traces are erased from
    # the database's files once the purge is committed.
    session.commit()
    # Rare, and the organizer waits for it: the database file is rewritten too.
    erase_traces(db.engine, vacuum=True)
    return Purge(len(people), len(members), entries)


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
        "minor": participant.minor,
        "guardian_consent": None
        if participant.guardian_consent_at is None
        else {
            "by": participant.guardian_consent_by,
            "on": participant.guardian_consent_at.date().isoformat(),
        },
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
    from the table and from the teams of the projects they are in, and
    from the database's files."""
    participant.contact_consent, participant.contact = False, ""
    for member in db.session.scalars(
        select(ProjectMember).where(ProjectMember.participant_id == participant.id)
    ):
        member.consent, member.contact = False, ""
    journal.record(
        f"participant:{participant.id}", "participant.consent_withdrawn", "",
        event_id=participant.table.event_id,
    )  # fmt: skip
    commit()
    erase_traces(db.engine)


def delete_posts(participant: Participant) -> int:
    """Delete every card the participant posted (even after the evening):
    their texts go, from the projects made of them too, and from the
    database's files; every screen of the table sees them go. Returns how many."""
    ideas = list(
        db.session.scalars(
            select(Idea).where(Idea.participant_id == participant.id, Idea.deleted.is_(False))
        )
    )
    backlog.forget_cards(ideas)
    for idea in ideas:
        live.erase(idea)
    journal.record(
        f"participant:{participant.id}", "participant.posts_deleted", "",
        event_id=participant.table.event_id, count=len(ideas),
    )  # fmt: skip
    commit()
    if ideas:
        erase_traces(db.engine)
    return len(ideas)
