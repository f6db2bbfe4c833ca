"""Organizer accounts and territories."""

import functools
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Event, JournalEntry, Organizer, OrganizerSession, Territory, utcnow
from ..rooms import sign_in_room
from . import ServiceError, codes, journal
from .changes import cut_off_after_commit
from .transaction import commit

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 10
FAILED_LOGIN_WINDOW = timedelta(minutes=15)
# A sign-in lasts as long as its remember-me cookie; older ones are pruned.
SESSION_LIFETIME = timedelta(days=30)


def needs_setup() -> bool:
    """True while no organizer exists: the first visit creates one."""
    return db.session.scalar(select(func.count(Organizer.id))) == 0


def setup_code(secret_key: str) -> str:
    """The one-time code that lets a visitor who is not on the server's own
    computer set up an empty instance (printed in its terminal at start).
    Derived from the secret key: the same in every process, unknown to
    anyone on the venue Wi-Fi."""
    digest = hmac.new(secret_key.encode(), b"first-start", "sha256").digest()
    return "".join(codes.ALPHABET[b % len(codes.ALPHABET)] for b in digest[:8])


def check_setup_code(secret_key: str, typed: str) -> bool:
    """True if ``typed`` is the setup code (spaces, dashes and case ignored)."""
    return hmac.compare_digest(codes.normalize_code(typed), setup_code(secret_key))


def _require_strong(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            "weak_password",
            _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
        )


def _hash(password: str) -> str:
    """A salted hash of ``password`` by the configured method: scrypt, a
    maintained memory-hard algorithm (the tests set a fast one)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def create_organizer(name: str, email: str, password: str, territory: Territory) -> Organizer:
    """Create an organizer of ``territory`` with a hashed password."""
    email = email.strip().lower()
    _require_strong(password)
    if db.session.scalar(select(Organizer).where(Organizer.email == email)):
        raise ServiceError("email_taken", _l("An organizer with this email already exists."))
    organizer = Organizer(name=name.strip(), email=email, password_hash=_hash(password))
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
        raise ServiceError("already_set_up", _l("The application is already set up."))
    territory = Territory(name=territory_name.strip(), population=population)
    db.session.add(territory)
    try:
        organizer = create_organizer(name, email, password, territory)
    except ServiceError:
        db.session.rollback()  # no territory without its organizer
        raise
    commit()
    return organizer


@functools.cache
def _unknown_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


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
    method = current_app.config["PASSWORD_HASH_METHOD"]
    known = organizer.password_hash if organizer else _unknown_hash(method)
    if check_password_hash(known, password or "") and organizer:
        return organizer
    journal.record("anonymous", "login.failed", attempt)
    commit()
    return None


def open_session(organizer: Organizer) -> str:
    """Start a sign-in of ``organizer``; its token is set on the object (for
    Flask-Login's cookies) and returned. Only its hash is stored."""
    token = codes.new_secret()
    db.session.execute(
        delete(OrganizerSession).where(OrganizerSession.created_at < utcnow() - SESSION_LIFETIME)
    )
    db.session.add(OrganizerSession(organizer_id=organizer.id, token_hash=codes.token_hash(token)))
    commit()
    organizer.session_token = token
    return token


def organizer_for_session(user_id: str) -> Organizer | None:
    """The organizer of a live sign-in, from Flask-Login's ``id:token``."""
    organizer_id, _, token = (user_id or "").partition(":")
    if not (organizer_id.isdigit() and token):
        return None  # a cookie from before sign-ins were kept: signed out
    organizer = db.session.scalar(
        select(Organizer)
        .join(OrganizerSession, OrganizerSession.organizer_id == Organizer.id)
        .where(
            Organizer.id == int(organizer_id),
            OrganizerSession.token_hash == codes.token_hash(token),
            OrganizerSession.created_at >= utcnow() - SESSION_LIFETIME,
        )
    )
    if organizer is not None:
        organizer.session_token = token
    return organizer


def close_session(organizer: Organizer) -> None:
    """End the sign-in ``organizer`` was loaded for: its cookies stop working."""
    if organizer.session_token:
        ended = codes.token_hash(organizer.session_token)
        db.session.execute(delete(OrganizerSession).where(OrganizerSession.token_hash == ended))
        journal.record(f"organizer:{organizer.id}", "organizer.signed_out", "")
        cut_off_after_commit(sign_in_room(ended))  # its open screens close
        commit()


def live_sessions(token_hashes) -> set[str]:
    """Which of these sign-ins (by token hash) are still valid."""
    if not token_hashes:
        return set()
    return set(
        db.session.scalars(
            select(OrganizerSession.token_hash).where(
                OrganizerSession.token_hash.in_(list(token_hashes)),
                OrganizerSession.created_at >= utcnow() - SESSION_LIFETIME,
            )
        )
    )


def change_password(organizer: Organizer, current: str, new: str) -> list[str]:
    """Change ``organizer``'s password and end every sign-in of the account
    (stolen cookies too; their open screens close); returns their token
    hashes. The caller signs the current browser in again."""
    if not check_password_hash(organizer.password_hash, current or ""):
        raise ServiceError("wrong_password", _l("The current password is not right."))
    _require_strong(new)
    organizer.password_hash = _hash(new)
    mine = OrganizerSession.organizer_id == organizer.id
    ended = list(db.session.scalars(select(OrganizerSession.token_hash).where(mine)))
    db.session.execute(delete(OrganizerSession).where(mine))
    journal.record(f"organizer:{organizer.id}", "organizer.password_changed", "")
    for token_hash in ended:
        cut_off_after_commit(sign_in_room(token_hash))
    commit()
    return ended


def can_manage(organizer: Organizer, event: Event) -> bool:
    """True if ``organizer`` organizes the territory ``event`` belongs to."""
    return any(t.id == event.territory_id for t in organizer.territories)
