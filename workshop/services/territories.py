"""A territory's duties as a public body (DESIGN.md §8, issue 19): who is
responsible for the personal data (the controller, its contact and its data
protection officer), who publishes the service and answers about its
accessibility, from what age a participant is a minor, and what the
privacy notice and the processing record (GDPR art. 13 and 30) say.

Kept in the territory's ``settings`` (JSON) under ``"public"``: no schema
change for a few texts a territory writes once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import clock
from ..extensions import db
from ..models import Event, Organizer, Participant, Project, ProjectMember, Table, Territory
from . import ServiceError, journal
from .transaction import commit

MAX_TEXT = 300
DEFAULT_MINOR_AGE = 15  # France: the age of digital consent (loi Informatique et Libertés, art. 45)
MIN_MINOR_AGE, MAX_MINOR_AGE = 13, 18
TEXT_FIELDS = (
    "body",  # the public body publishing the service (the statement's "entity")
    "controller",  # the data controller: the structure responsible for the data
    "controller_contact",
    "dpo_contact",  # its data protection officer
    "accessibility_contact",
    "audit_by",  # who audited the service against the RGAA, if anyone did
)
LEGAL_BASES = {
    "public_task": _l("a task in the public interest (GDPR, art. 6.1.e)"),
    "legitimate_interest": _l("the legitimate interest of the organizers (GDPR, art. 6.1.f)"),
}
COMPLIANCE = {
    "none": _l("non compliant"),
    "partial": _l("partially compliant"),
    "full": _l("fully compliant"),
}
# How long each kind of data is kept, in months, until a territory's
# retention schedule says otherwise (``settings["retention"]``). The
# evening's kinds count from the evening; the teams of its projects (names
# and contacts of their members, wherever typed in the project) from the
# project's last activity: they are needed as long as the project lives.
RETENTION_KINDS = ("names", "contacts", "ideas", "commitments", "teams")
DEFAULT_RETENTION = {"names": 12, "contacts": 24, "ideas": 12, "commitments": 24, "teams": 36}
FROM_PROJECT = {"teams"}
RETENTION_LABELS = {
    "names": _l("Names and what people said about themselves"),
    "contacts": _l("Contacts"),
    "ideas": _l("Cards and votes with their author"),
    "commitments": _l("Commitments (contribution, expectations)"),
    "teams": _l("Projects' teams (names and contacts of their members)"),
}
MIN_RETENTION, MAX_RETENTION = 1, 1200  # months: up to a century, for a public archive


def settings_of(territory: Territory) -> dict:
    """The territory's public-body settings, every key present (defaults filled)."""
    stored = (territory.settings or {}).get("public") or {}
    found = {key: stored.get(key, "") for key in TEXT_FIELDS}
    found["legal_basis"] = stored.get("legal_basis") or "public_task"
    found["compliance"] = stored.get("compliance") or "none"
    found["compliance_rate"] = stored.get("compliance_rate")
    found["audit_date"] = stored.get("audit_date") or ""
    found["minor_age"] = stored.get("minor_age") or DEFAULT_MINOR_AGE
    return found


def has_controller(territory: Territory) -> bool:
    """Whether the territory says who is responsible for the data it collects."""
    settings = settings_of(territory)
    return bool(settings["controller"].strip() and settings["controller_contact"].strip())


def minor_age(territory: Territory) -> int:
    """Below this age a participant is a minor (the join form asks)."""
    return settings_of(territory)["minor_age"]


def retention(territory: Territory) -> dict[str, int]:
    """Months each kind of data is kept (after the evening, or after its
    project's last activity for the teams): the territory's schedule, the
    defaults for what it does not set."""
    stored = (territory.settings or {}).get("retention") or {}
    return {
        kind: stored.get(kind)
        if isinstance(stored.get(kind), int) and MIN_RETENTION <= stored[kind] <= MAX_RETENTION
        else months
        for kind, months in DEFAULT_RETENTION.items()
    }


def save_retention(organizer: Organizer, territory: Territory, fields: dict) -> None:
    """Set the territory's retention schedule from ``fields`` (months per
    kind, as typed); refused as a whole, nothing changed, when one is not
    a whole number of months from 1 to 1200."""
    if territory not in organizer.territories:
        raise ServiceError("forbidden", _l("You do not organize this territory."))
    schedule = {}
    for kind in RETENTION_KINDS:
        months = _integer(fields.get(kind))
        if months is None or not MIN_RETENTION <= months <= MAX_RETENTION:
            raise _bad(
                _l("Each period is a whole number of months, from %(min)d to %(max)d.",
                   min=MIN_RETENTION, max=MAX_RETENTION)
            )  # fmt: skip
        schedule[kind] = months
    territory.settings = {**(territory.settings or {}), "retention": schedule}
    journal.record(
        f"organizer:{organizer.id}", "territory.retention", territory.name,
        territory_id=territory.id, **schedule,
    )  # fmt: skip
    commit()


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` (the last day of the month when it has fewer days)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass
class Due:
    """One kind of an evening's data under the retention schedule: kept
    ``months`` from ``start`` (the evening, or its projects' last activity)
    until ``until``; ``due`` once that day is past."""

    kind: str
    label: str
    months: int
    start: date
    until: date
    due: bool


def due_since(event: Event, today: date | None = None) -> list[Due]:
    """What the retention schedule of the evening's territory says of each
    kind of its data today: kept until when, and whether that day is past
    (then the evening is due to be archived and purged)."""
    today = today or clock.now().date()
    evening = event.date or event.created_at.date()
    last_activity = db.session.scalar(
        select(func.max(Project.updated_at)).where(Project.event_id == event.id)
    )
    # A project idle longer than the evening is old counts from the evening.
    project_start = max(evening, last_activity.date()) if last_activity else evening
    found = []
    for kind, months in retention(event.territory).items():
        start = project_start if kind in FROM_PROJECT else evening
        until = add_months(start, months)
        found.append(Due(kind, str(RETENTION_LABELS[kind]), months, start, until, today >= until))
    return found


def purge_due(event: Event, today: date | None = None) -> date | None:
    """The first day the evening's personal data is due to be purged, if
    that day has come; None otherwise."""
    due = [item.until for item in due_since(event, today) if item.due]
    return min(due) if due else None


def notice(territory: Territory) -> dict:
    """What the privacy notice (GDPR art. 13) says for this territory."""
    settings = settings_of(territory)
    return {
        "territory": territory.name,
        "territory_id": territory.id,
        "settings": settings,
        "legal_basis": LEGAL_BASES[settings["legal_basis"]],
        "retention": retention(territory),
        "ready": has_controller(territory),
    }


def _bad(message) -> ServiceError:
    return ServiceError("bad_settings", message)


def save_settings(organizer: Organizer, territory: Territory, fields: dict) -> None:
    """Set the territory's public-body settings from ``fields`` (texts as
    typed); refused as a whole, nothing changed, when one is not valid."""
    if territory not in organizer.territories:
        raise ServiceError("forbidden", _l("You do not organize this territory."))
    new = {}
    for key in TEXT_FIELDS:
        value = " ".join(str(fields.get(key) or "").split())
        if len(value) > MAX_TEXT:
            raise _bad(_l("A setting has at most %(n)d characters.", n=MAX_TEXT))
        new[key] = value
    if (new["controller"] == "") != (new["controller_contact"] == ""):
        raise _bad(_l("Give both the data controller and its contact, or neither."))
    basis = fields.get("legal_basis") or "public_task"
    if basis not in LEGAL_BASES:
        raise _bad(_l("Choose a legal basis from the list."))
    new["legal_basis"] = basis
    compliance = fields.get("compliance") or "none"
    if compliance not in COMPLIANCE:
        raise _bad(_l("Choose a compliance status from the list."))
    new["compliance"] = compliance
    rate = _integer(fields.get("compliance_rate"))
    if rate is not None and not 0 <= rate <= 100:
        raise _bad(_l("The compliance rate is a percentage, from 0 to 100."))
    new["compliance_rate"] = rate
    audit_date = str(fields.get("audit_date") or "").strip()
    if audit_date:
        try:
            date.fromisoformat(audit_date)
        except ValueError:
            raise _bad(_l("The audit date is not a date.")) from None
    new["audit_date"] = audit_date
    age = _integer(fields.get("minor_age"))
    if age is None:
        age = DEFAULT_MINOR_AGE
    if not MIN_MINOR_AGE <= age <= MAX_MINOR_AGE:
        raise _bad(
            _l("The age of minors is from %(min)d to %(max)d.", min=MIN_MINOR_AGE,
               max=MAX_MINOR_AGE)
        )  # fmt: skip
    new["minor_age"] = age
    territory.settings = {**(territory.settings or {}), "public": new}
    journal.record(
        f"organizer:{organizer.id}", "territory.public_settings", territory.name,
        territory_id=territory.id,
    )  # fmt: skip
    commit()


def _integer(value) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() and len(text) < 6 else None


def public_territories() -> list[Territory]:
    """The instance's territories, for the public pages that name them."""
    return list(db.session.scalars(select(Territory).order_by(Territory.name, Territory.id)))


# --- the processing record (GDPR art. 30) -------------------------------------------


def processing_record(territory: Territory) -> dict:
    """The territory's record of processing activities as plain data: who is
    responsible, why, about whom, what, who receives it, how long, how it is
    protected, and what the database holds today."""
    settings = settings_of(territory)
    events = select(Event.id).where(Event.territory_id == territory.id)
    tables = select(Table.id).where(Table.event_id.in_(events))
    people = select(Participant).where(Participant.table_id.in_(tables))

    def count(query) -> int:
        return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0

    return {
        "territory": territory.name,
        "settings": settings,
        "legal_basis": LEGAL_BASES[settings["legal_basis"]],
        "retention": retention(territory),
        "held": {
            "evenings": count(events),
            "participants": count(people),
            "minors": count(people.where(Participant.minor.is_(True))),
            "contacts": count(people.where(Participant.contact_consent.is_(True))),
            "team_members": count(
                select(ProjectMember).join(Project).where(Project.territory_id == territory.id)
            ),
            "organizers": len(territory.organizers),
        },
    }
