"""Organizer accounts and territories."""

import functools
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Event, JournalEntry, Organizer, Territory, utcnow
from . import ServiceError, journal

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 10
FAILED_LOGIN_WINDOW = timedelta(minutes=15)


def needs_setup() -> bool:
    """True while no organizer exists: the first visit creates one."""
    return db.session.scalar(select(func.count(Organizer.id))) == 0


def create_organizer(name: str, email: str, password: str, territory: Territory) -> Organizer:
    """Create an organizer of ``territory`` with a hashed password."""
    email = email.strip().lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            "weak_password",
            _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
        )
    if db.session.scalar(select(Organizer).where(Organizer.email == email)):
        raise ServiceError("email_taken", _l("An organizer with this email already exists."))
    # Werkzeug's default is scrypt, a maintained memory-hard algorithm.
    organizer = Organizer(
        name=name.strip(), email=email, password_hash=generate_password_hash(password)
    )
    organizer.territories.append(territory)
    db.session.add(organizer)
    db.session.flush()
    journal.record(
        f"organizer:{organizer.id}", "organizer.created", email, territory_id=territory.id
    )
    return organizer


def create_first_organizer(
    name: str, email: str, password: str, territory_name: str, population: int | None
) -> Organizer:
    """Set up an empty instance: its first territory and organizer."""
    if not needs_setup():
        raise ServiceError("already_set_up", _l("This instance is already set up."))
    territory = Territory(name=territory_name.strip(), population=population)
    db.session.add(territory)
    try:
        organizer = create_organizer(name, email, password, territory)
    except ServiceError:
        db.session.rollback()  # no territory without its organizer
        raise
    db.session.commit()
    return organizer


@functools.cache
def _unknown_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def authenticate(email: str, password: str, client: str = "") -> Organizer | None:
    """The organizer with these credentials, or None.

    After MAX_FAILED_LOGINS failures for one email from one ``client``
    (address) within FAILED_LOGIN_WINDOW, that client's attempts are refused
    until the window has passed; others can still sign in. Counted in the
    journal, so it holds across processes.
    """
    email = (email or "").strip().lower()[:254]
    attempt = f"{email[:60]} {client[:39]}"
    since = utcnow() - FAILED_LOGIN_WINDOW
    failures = db.session.scalar(
        select(func.count(JournalEntry.id)).where(
            JournalEntry.action == "login.failed",
            JournalEntry.subject == attempt,
            JournalEntry.at > since,
        )
    )
    if failures >= MAX_FAILED_LOGINS:
        raise ServiceError(
            "too_many_attempts",
            _l("Too many failed sign-ins for this email. Try again in 15 minutes."),
        )
    organizer = db.session.scalar(select(Organizer).where(Organizer.email == email))
    # An unknown email costs the same hash check as a known one: the time of
    # the answer does not tell which emails have an account.
    known = organizer.password_hash if organizer else _unknown_hash()
    if check_password_hash(known, password or "") and organizer:
        return organizer
    journal.record("anonymous", "login.failed", attempt)
    db.session.commit()
    return None


def can_manage(organizer: Organizer, event: Event) -> bool:
    """True if ``organizer`` organizes the territory ``event`` belongs to."""
    return any(t.id == event.territory_id for t in organizer.territories)
