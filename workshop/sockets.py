"""Socket.IO handlers: authorize, validate, call a service, emit.

Who a connection is comes only from the server side: the participant's
HttpOnly cookie, the facilitator's secret checked against the database, the
organizer's login session. A table id, role or author sent by a client is
never trusted; every event re-reads the caller from the database.
"""

import logging
from functools import wraps

from flask import current_app, g, request, session
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.orm import joinedload

from . import clock, counters, direct, housekeeping, presence, rooms
from .extensions import db, socketio
from .limits import TooManyTries, by_code, limiter
from .models import Event, Participant, Table
from .services import (
    ServiceError,
    accounts,
    changes,
    codes,
    control,
    desk,
    events,
    hints,
    inputs,
    live,
    plenary,
    writes,
)
from .services.changes import Viewer
from .sqlite import Prepared, wait_for_disk

log = logging.getLogger(__name__)
DATABASE_RETRY = 3  # seconds before a phone sends again while the database is away


# --- connecting ----------------------------------------------------------------

MAX_SCREENS = 5  # connections of one participant at once (in this process)


def _connect_participant(auth) -> tuple[dict, list[str]]:
    code = inputs.token(auth.get("table"))
    found = live.connecting_participant(code, request.cookies) if code else None
    if found is None:
        raise ConnectionRefusedError("unauthorized")
    participant_id, table_id = found
    # A person has a phone, maybe a tablet and a few tabs: past that, a script.
    if rooms.screens_in(rooms.participant_room(participant_id)) >= MAX_SCREENS:
        raise ConnectionRefusedError("too_many_screens")
    who = {"role": "participant", "id": participant_id, "table_id": table_id}
    return who, [rooms.table_room(table_id), rooms.participant_room(participant_id)]


def _by_code(find):
    """``find()`` counting a wrong code (limits.by_code), refused as a connection."""
    try:
        return by_code(find)
    except TooManyTries as refused:
        refresh()  # the caller's language (see answers)
        details = {"retry_after": refused.retry_after, "message": refused.message}
        raise ConnectionRefusedError("too_many_tries", details) from None


def _connect_facilitator(auth) -> tuple[dict, list[str]]:
    secret = inputs.token(auth.get("secret"))
    table = _by_code(lambda: events.table_by_facilitator_secret(secret))
    if table is None:
        raise ConnectionRefusedError("unauthorized")
    who = {"role": "facilitator", "secret": secret, "table_id": table.id}
    return who, [rooms.console_room(table.id)]


def _organizer_of(auth) -> Event:
    """The evening ``auth`` names, if the signed-in organizer manages it."""
    event_id = inputs.integer(auth.get("event"))
    event = db.session.get(Event, event_id) if event_id else None
    if not (event and current_user.is_authenticated and accounts.can_manage(current_user, event)):
        raise ConnectionRefusedError("unauthorized")
    return event


def _organizer_sign_in() -> str:
    """The room of this organizer's sign-in (closed when they sign out)."""
    sign_in = codes.token_hash(current_user.session_token)
    presence.organizer_screen_opened(request.sid, sign_in)
    return rooms.sign_in_room(sign_in)


def _connect_organizer(auth) -> tuple[dict, list[str]]:
    event = _organizer_of(auth)
    who = {"role": "organizer", "event_id": event.id}
    screens = [rooms.organizers_room(event.id), rooms.evening_room(event.id)]
    return who, [*screens, _organizer_sign_in()]


def _connect_desk(auth) -> tuple[dict, list[str]]:
    """The synthesis desk: by a desk link's token, or as a signed-in organizer."""
    if auth.get("token") is not None:
        token = inputs.token(auth.get("token"))
        link = _by_code(lambda: desk.link_by_token(token) if token else None)
        if link is None:
            raise ConnectionRefusedError("unauthorized")
        who = {"role": "desk", "event_id": link.event_id, "link_id": link.id}
        own = desk.link_room(link.id)
    else:
        event = _organizer_of(auth)
        who = {"role": "desk", "event_id": event.id, "link_id": None}
        own = _organizer_sign_in()
    event_id = who["event_id"]
    return who, [rooms.evening_room(event_id), rooms.desk_room(event_id), own]


def _connect_projector(auth) -> tuple[dict, list[str]]:
    code = inputs.token(auth.get("event"))
    event = _by_code(lambda: events.event_by_code(code) if code else None)
    if event is None:
        raise ConnectionRefusedError("unauthorized")
    return {"role": "projector", "event_id": event.id}, [rooms.projector_room(event.id)]


CONNECT = {
    "participant": _connect_participant,
    "facilitator": _connect_facilitator,
    "organizer": _connect_organizer,
    "desk": _connect_desk,
    "projector": _connect_projector,
}


@socketio.on("connect")
def on_connect(auth):
    """Identify the caller from server-side credentials and join its rooms."""
    auth = auth if isinstance(auth, dict) else {}
    role = auth.get("role")
    connect = CONNECT.get(role) if isinstance(role, str) else None
    if connect is None:
        raise ConnectionRefusedError("unauthorized")
    address = request.remote_addr or ""
    limit = current_app.config["MAX_SCREENS_PER_ADDRESS"]
    if limit and presence.screens_from(address) >= limit:
        raise ConnectionRefusedError("too_many_connections")
    who, rooms = connect(auth)
    session["who"] = {**who, "address": address}
    presence.screen_opened_from(address)
    for room in rooms:
        join_room(room)
    if role == "facilitator":
        presence.console_presence(db.session.get(Table, who["table_id"]), True)
    if role == "desk":
        presence.desk_screen_opened(request.sid, who["event_id"])
    housekeeping.start_housekeeping(current_app._get_current_object())


@socketio.on("disconnect")
def on_disconnect(*_reason):
    """A console that leaves shows as disconnected in the control room."""
    who = session.get("who") or {}
    if "address" in who:
        presence.screen_closed_from(who["address"])
    if who.get("role") == "organizer" or (who.get("role") == "desk" and not who.get("link_id")):
        presence.organizer_screen_closed(request.sid)
    if who.get("role") == "desk":
        presence.desk_screen_closed(request.sid)
    if who.get("role") == "facilitator":
        table = db.session.get(Table, who["table_id"])
        if table is not None:
            presence.console_presence(table, False, leaving_sid=request.sid)


# --- who is calling --------------------------------------------------------------


def _who(role: str | None = None) -> dict:
    who = session.get("who") or {}
    if role is not None and who.get("role") != role:
        raise inputs.refused()
    return who


def _facilitated_table() -> Table:
    who = _who("facilitator")
    table = db.session.get(Table, who["table_id"], options=[joinedload(Table.event)])
    # Checked at every event: a rotated link stops working at once.
    if table is None or table.facilitator_secret != who["secret"]:
        raise inputs.refused()
    return table


def _watched_event() -> Event:
    who = _who()
    event = db.session.get(Event, who["event_id"])
    # Re-checked at every event: the organizer may have signed out since
    # connecting, a desk link may have been revoked.
    if event is None:
        raise inputs.refused()
    if who["role"] == "desk" and who.get("link_id"):
        if not desk.still_open(who["link_id"]):
            raise inputs.refused()
    elif who["role"] in ("organizer", "desk") and not (
        current_user.is_authenticated and accounts.can_manage(current_user, event)
    ):
        raise inputs.refused()
    return event


def _organized_table(table_id) -> Table:
    event = _watched_event()
    table_id = inputs.integer(table_id)
    table = db.session.get(Table, table_id) if table_id else None
    if table is None or table.event_id != event.id:
        raise inputs.refused()
    return table


def _actor(envelope: dict) -> writes.Actor:
    role = _who().get("role")
    if role == "participant":
        return writes.as_participant_id(_who("participant")["id"])
    if role == "facilitator":
        return writes.as_facilitator(_facilitated_table())
    if role == "desk":
        who, event = _who(), _watched_event()
        if who.get("link_id"):
            return writes.as_desk_member(who["link_id"], event)
        return writes.as_organizer_of(current_user._get_current_object(), event)
    if role == "organizer":
        organizer = current_user._get_current_object()
        if envelope.get("table_id") is None:  # a write to the whole evening
            return writes.as_organizer_of(organizer, _watched_event())
        return writes.as_organizer(organizer, _organized_table(envelope.get("table_id")))
    raise inputs.refused()


# The answers to what no service refused: (code, message, permanent, retry_after).
DATABASE_AWAY = (
    "database_unavailable",
    _l(
        "The application cannot reach its database for a moment. "
        "Your change is kept and sent again."
    ),
    False,
    DATABASE_RETRY,
)
CANNOT_STORE = (
    "cannot_store",
    _l("This change could not be stored. It is kept on this device."),
    True,
    None,
)
SERVER_ERROR = (
    "server_error",
    _l("Something went wrong in the application. Your change is kept and sent again."),
    False,
    None,
)


def _unexpected(answer: tuple) -> dict:
    """Roll back and answer an unexpected failure (see ``answers``)."""
    db.session.rollback()
    code, message, permanent, retry_after = answer
    return ServiceError(code, message, retry_after=retry_after, permanent=permanent).as_dict()


def answers(handler):
    """Run ``handler`` with a dict payload; every outcome gets an answer.

    A refusal is answered with its reason; an unexpected error is logged once
    and answered: temporary while retrying can help (the database away, a
    crash), permanent for a write the database can never store.
    """

    @wraps(handler)
    def wrapper(data=None, *_ignored):
        # The locale is cached per app context, which an event may share with
        # other connections (a test's, say): pick it again for this caller.
        # (The server gives each event a context of its own: nothing cached.)
        if "_flask_babel" in g:
            refresh()
        try:
            answer = handler(data if isinstance(data, dict) else {})
            wait_for_disk()  # nothing is acknowledged before it is on disk
            return answer
        except ServiceError as error:
            db.session.rollback()
            return error.as_dict()
        except (OperationalError, SQLAlchemyTimeoutError) as error:
            # The database is away (restarting, cut off, locked): the write
            # will go through once it is back, however long that takes.
            first_line = str(error).splitlines()[0][:200]
            log.warning("database unavailable (who: %s): %s", session.get("who"), first_line)
            return _unexpected(DATABASE_AWAY)
        except IntegrityError:
            # Not a resend (writes.perform answers those from their receipt):
            # this change can never be stored. Said so, it leaves the outbox.
            log.exception("a write could not be stored (who: %s)", session.get("who"))
            return _unexpected(CANNOT_STORE)
        except Exception:
            log.exception("socket event failed (who: %s)", session.get("who"))
            return _unexpected(SERVER_ERROR)

    return wrapper


# --- catching up ----------------------------------------------------------------


def _table_catch_up(table_id: int, data: dict, viewer: Viewer) -> dict:
    return {"ok": True, **changes.catch_up(table_id, data, viewer), "now": clock.epoch_ms()}


# A phone's catch-up needs only its table: no entity is loaded to check it.
_PARTICIPANT_TABLE = Prepared(
    select(Participant.table_id).where(
        Participant.id == bindparam("participant_id"), Participant.removed.is_(False)
    )
)


def _participant_catch_up(data) -> dict:
    participant_id = _who("participant")["id"]
    found = _PARTICIPANT_TABLE.run(db.session.connection(), {"participant_id": participant_id})
    if not found:
        raise inputs.refused()
    return _table_catch_up(found[0][0], data, Viewer("participant", participant_id))


def _console_catch_up(data) -> dict:
    table_id = _facilitated_table().id
    answer = _table_catch_up(table_id, data, changes.CONSOLE)
    return {**answer, "duplicates": hints.of(hints.table(table_id))}


def _organizer_catch_up(_data) -> dict:
    event = _watched_event()
    return {
        "ok": True,
        "now": clock.epoch_ms(),
        "tables": control.summaries(event),
        "plenary": {**plenary.payload(event), "cloud": []},
        "counts": counters.counts_payload(events.table_counts(event)),
        "recent": [
            {**changes.view(idea, changes.ORGANIZER), "table_id": idea.table_id}
            for idea in live.recent_ideas(event)
        ],
    }


def _projector_catch_up(_data) -> dict:
    event = _watched_event()
    return {
        "ok": True,
        "now": clock.epoch_ms(),
        "totals": events.event_totals(event),
        "plenary": plenary.payload(event),
    }


def _desk_catch_up(data) -> dict:
    event = _watched_event()
    return {"ok": True, **desk.tables_catch_up(event, data), "now": clock.epoch_ms()}


CATCH_UP = {
    "desk": _desk_catch_up,
    "participant": _participant_catch_up,
    "facilitator": _console_catch_up,
    "organizer": _organizer_catch_up,
    "projector": _projector_catch_up,
}


def _organizer_evening_catch_up(data) -> dict:
    event = _watched_event()
    answer = changes.evening_catch_up(event.id, data, changes.ORGANIZER)
    return {"ok": True, **answer, "now": clock.epoch_ms()}


# Who follows the evening's own stream (sync {stream: "evening", since}).
EVENING_CATCH_UP = {"organizer": _organizer_evening_catch_up, "desk": _organizer_evening_catch_up}


SYNCS_PER_MINUTE = 30  # a screen catches up on connecting and on a gap: a few a minute


@socketio.on("sync")
@answers
def on_sync(data):
    """Everything a screen missed since the sequence number it last saw."""
    role = _who().get("role")
    catch_ups = EVENING_CATCH_UP if data.get("stream") == changes.EVENING else CATCH_UP
    if role not in catch_ups:
        raise inputs.refused()
    if retry_after := limiter(current_app).hit(f"sync:{request.sid}", SYNCS_PER_MINUTE, 60):
        raise inputs.too_fast(retry_after)
    return catch_ups[role](data)


# --- every write ----------------------------------------------------------------


@socketio.on("write")
@answers
def on_write(envelope):
    """The one write path (DESIGN.md §6): ``{op, client_id, data, base_seq?}``."""
    if _who().get("role") == "participant" and writes.goes_direct(envelope.get("op")):
        direct.install()  # a phone's post or vote: no ORM session needed
    return writes.perform(_actor(envelope), envelope)


@socketio.on("*")
def on_unknown(event_name, *_args):
    """Retired or unknown events are answered, never left without a reply."""
    refresh()
    return inputs.unknown_op().as_dict()
