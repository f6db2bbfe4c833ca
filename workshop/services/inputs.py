"""What every write checks, in one place: plain values from a phone are
validated here before any rule of the method looks at them. Refusals are
clear, translated and change nothing."""

import re

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import EventStatus, Participant, Table
from . import ServiceError

MAX_IDEA_LENGTH = 500
MAX_NAME_LENGTH = 60
MAX_BRINGS_LENGTH = 300
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def refused() -> ServiceError:
    return ServiceError("forbidden", _l("You are not allowed to do this."))


def bad_request() -> ServiceError:
    return ServiceError("bad_request", _l("This request is not valid."))


def unknown_op() -> ServiceError:
    """An op (or an old event) this server does not know: refused for good, so
    that a phone's outbox is never blocked by it."""
    return ServiceError(
        "unknown_op",
        _l("This action is not known here. Reload the page to get the latest version."),
    )


def clean_client_id(client_id) -> str:
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise bad_request()
    return client_id


def integer(value) -> int | None:
    """``value`` if it is a plain integer within 64 bits (JSON gives bools too)."""
    if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
        return value
    return None


def clean_text(text, max_length: int = MAX_IDEA_LENGTH, required: bool = True) -> str:
    """Stripped text within ``max_length``; refused when missing or too long."""
    if text is None and not required:
        return ""
    if not isinstance(text, str):
        raise bad_request()
    text = text.strip()
    if not text and required:
        raise ServiceError("empty", _l("Write something before posting."))
    if len(text) > max_length:
        raise ServiceError("too_long", _l("At most %(n)d characters, please.", n=max_length))
    return text


def require_open(table: Table) -> None:
    """Refuse a write to the wall of a closed evening."""
    if table.event.status == EventStatus.closed:
        raise ServiceError("event_closed", _l("This evening is over: the wall is read-only."))


def member(table: Table, participant_id) -> Participant:
    """The participant ``participant_id`` of ``table``, or a refusal."""
    participant_id = integer(participant_id)
    participant = db.session.get(Participant, participant_id) if participant_id else None
    if participant is None or participant.table_id != table.id:
        raise ServiceError("not_found", _l("This participant is not at this table."))
    return participant
