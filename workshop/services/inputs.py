"""What every write checks, in one place: plain values from a phone are
validated here before any rule of the method looks at them. Refusals are
clear, translated and change nothing."""

import re
import unicodedata

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import EventStatus, Participant, Table
from . import ServiceError

NOT_STARTED_RETRY = 30  # seconds between a phone's tries before the evening opens
MAX_IDEA_LENGTH = 500
MAX_NAME_LENGTH = 60
MAX_BRINGS_LENGTH = 300
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


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


def token(value) -> str | None:
    """``value`` if it can be a code or a secret we hand out (join codes,
    facilitator links: letters, digits, - and _), else None: whatever a
    client sends in their place never reaches a query."""
    if isinstance(value, str) and TOKEN.match(value):
        return value
    return None


def too_fast(retry_after: int, message=None) -> ServiceError:
    """A temporary refusal: the screen keeps the request and asks again after
    ``retry_after`` seconds."""
    return ServiceError(
        "rate_limited",
        message or _l("Too many requests from this screen: it tries again in a few seconds."),
        retry_after=retry_after,
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


# Characters that change how the text around them is shown without being
# seen: control characters, direction overrides (a card that reads
# backwards, a name that spoofs another) and zero-width ones. Dropped from
# everything people write; a text made only of them is empty.
INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # control characters (line breaks and tabs kept)
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
# More than three combining marks on one letter only serve to overflow
# lines ("Zalgo" text); a real language needs fewer.
MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
STACKED_MARKS = re.compile(f"([{MARKS}]{{3}})[{MARKS}]+")


def normalize(text: str) -> str:
    """Text as stored: composed (NFC, so "é" is one character whichever
    keyboard typed it), without invisible controls or stacked marks."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no real keyboard sends one
        raise bad_request() from None
    text = unicodedata.normalize("NFC", text)
    return STACKED_MARKS.sub(r"\1", INVISIBLE.sub("", text))


def clean_text(text, max_length: int = MAX_IDEA_LENGTH, required: bool = True) -> str:
    """Normalized, stripped text within ``max_length``; refused when missing
    or too long."""
    if text is None and not required:
        return ""
    if not isinstance(text, str):
        raise bad_request()
    text = normalize(text).strip()
    if not text and required:
        raise ServiceError("empty", _l("Write something before posting."))
    if len(text) > max_length:
        raise ServiceError("too_long", _l("At most %(n)d characters, please.", n=max_length))
    return text


def require_not_over(table: Table) -> None:
    """Refuse a write to a closed evening (joining one still to come is fine)."""
    if table.event.status == EventStatus.closed:
        raise ServiceError("event_closed", _l("This evening is over: the wall is read-only."))


def require_open(table: Table) -> None:
    """Refuse a write to the wall of an evening not open: over, or not started
    yet (then the phone keeps the write and sends it once the evening opens)."""
    require_open_status(table.event.status)


def require_open_status(status: EventStatus) -> None:
    """:func:`require_open` for an evening in ``status``."""
    if status == EventStatus.closed:
        raise ServiceError("event_closed", _l("This evening is over: the wall is read-only."))
    if status == EventStatus.draft:
        raise ServiceError(
            "event_not_started",
            _l("The evening has not started yet: this is kept and sent once it opens."),
            retry_after=NOT_STARTED_RETRY,
        )


def member(table: Table, participant_id, removed: bool = False) -> Participant:
    """The participant ``participant_id`` of ``table``, or a refusal; one
    taken off the table only if ``removed`` says so."""
    participant_id = integer(participant_id)
    participant = db.session.get(Participant, participant_id) if participant_id else None
    if (
        participant is None
        or participant.table_id != table.id
        or (participant.removed and not removed)
    ):
        raise ServiceError("not_found", _l("This participant is not at this table."))
    return participant
