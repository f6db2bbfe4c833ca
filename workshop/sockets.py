"""Socket.IO handlers: authorize, validate, call a service, emit.

Who a connection is comes only from the server side: the participant's
HttpOnly cookie, the facilitator's secret checked against the database, the
organizer's login session. A table id, role or author sent by a client is
never trusted; every event re-reads the caller from the database.
"""

from functools import wraps

from flask import request, session
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from . import broadcast
from .extensions import db, socketio
from .models import Event, Participant, Table
from .services import ServiceError, accounts, events, live


class Refused(ServiceError):
    def __init__(self):
        super().__init__("forbidden", _("You are not allowed to do this."))


# --- connecting ----------------------------------------------------------------


def _connect_participant(auth) -> tuple[dict, list[str]]:
    table = events.table_by_code(str(auth.get("table", "")))
    token = request.cookies.get(live.participant_cookie(table)) if table else None
    participant = live.participant_for(table, token) if table else None
    if participant is None:
        raise ConnectionRefusedError("unauthorized")
    who = {"role": "participant", "id": participant.id, "table_id": table.id}
    return who, [broadcast.table_room(table.id)]


def _connect_facilitator(auth) -> tuple[dict, list[str]]:
    secret = str(auth.get("secret", ""))
    table = events.table_by_facilitator_secret(secret)
    if table is None:
        raise ConnectionRefusedError("unauthorized")
    who = {"role": "facilitator", "secret": secret, "table_id": table.id}
    return who, [broadcast.console_room(table.id)]


def _connect_organizer(auth) -> tuple[dict, list[str]]:
    event_id = auth.get("event")
    event = db.session.get(Event, event_id) if isinstance(event_id, int) else None
    if not (event and current_user.is_authenticated and accounts.can_manage(current_user, event)):
        raise ConnectionRefusedError("unauthorized")
    who = {"role": "organizer", "event_id": event.id}
    return who, [broadcast.organizers_room(event.id), broadcast.organizer_room(current_user.id)]


def _connect_projector(auth) -> tuple[dict, list[str]]:
    event = events.event_by_code(str(auth.get("event", "")))
    if event is None:
        raise ConnectionRefusedError("unauthorized")
    return {"role": "projector", "event_id": event.id}, [broadcast.projector_room(event.id)]


CONNECT = {
    "participant": _connect_participant,
    "facilitator": _connect_facilitator,
    "organizer": _connect_organizer,
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
    who, rooms = connect(auth)
    session["who"] = who
    for room in rooms:
        join_room(room)


# --- who is calling --------------------------------------------------------------


def _who(role: str) -> dict:
    who = session.get("who") or {}
    if who.get("role") != role:
        raise Refused()
    return who


def _participant() -> Participant:
    participant = db.session.get(Participant, _who("participant")["id"])
    if participant is None:
        raise Refused()
    return participant


def _facilitated_table() -> Table:
    who = _who("facilitator")
    table = db.session.get(Table, who["table_id"])
    # Checked at every event: a rotated link stops working at once.
    if table is None or table.facilitator_secret != who["secret"]:
        raise Refused()
    return table


def answers(handler):
    """Run ``handler`` with a dict payload and turn refusals into an error answer."""

    @wraps(handler)
    def wrapper(data=None, *_ignored):
        # The locale is cached per app context, which an event may share with
        # other connections (a test's, say): pick it again for this caller.
        refresh()
        try:
            return handler(data if isinstance(data, dict) else {})
        except ServiceError as error:
            db.session.rollback()
            return error.as_dict()

    return wrapper


# --- catching up ----------------------------------------------------------------


def _table_catch_up(table: Table, since, moderator: bool) -> dict:
    ideas, seq = live.changes_since(table, since)
    return {
        "ok": True,
        "seq": seq,
        "ideas": [live.idea_payload(i, moderator=moderator) for i in ideas],
        "state": live.table_state(table),
    }


def _participant_catch_up(data) -> dict:
    return _table_catch_up(_participant().table, data.get("since"), moderator=False)


def _console_catch_up(data) -> dict:
    table = _facilitated_table()
    reply = _table_catch_up(table, data.get("since"), moderator=True)
    reply["participants"] = [live.participant_payload(p) for p in table.participants]
    return reply


def _watched_event() -> Event:
    event = db.session.get(Event, session["who"]["event_id"])
    if event is None:
        raise Refused()
    return event


def _organizer_catch_up(_data) -> dict:
    event = _watched_event()
    # Re-checked here: the organizer may have signed out since connecting.
    if not (current_user.is_authenticated and accounts.can_manage(current_user, event)):
        raise Refused()
    return {
        "ok": True,
        "counts": broadcast.counts_payload(events.table_counts(event)),
        "recent": [
            {**live.idea_payload(i), "table_id": i.table_id} for i in live.recent_ideas(event)
        ],
    }


def _projector_catch_up(_data) -> dict:
    return {"ok": True, "totals": events.event_totals(_watched_event())}


CATCH_UP = {
    "participant": _participant_catch_up,
    "facilitator": _console_catch_up,
    "organizer": _organizer_catch_up,
    "projector": _projector_catch_up,
}


@socketio.on("sync")
@answers
def on_sync(data):
    """Everything a screen missed since the sequence number it last saw."""
    role = (session.get("who") or {}).get("role")
    if role not in CATCH_UP:
        raise Refused()
    return CATCH_UP[role](data)


# --- a participant's writes -------------------------------------------------------


def _written(idea) -> dict:
    # Broadcast even a resend: if the first broadcast was lost after the
    # commit, the phone's resend is what repairs the other screens.
    broadcast.idea_changed(idea)
    return {"ok": True, "idea": live.idea_payload(idea)}


@socketio.on("post_idea")
@answers
def on_post_idea(data):
    idea, _created = live.post_idea(
        _participant(), data.get("client_id"), data.get("kind"), data.get("text")
    )
    return _written(idea)


@socketio.on("edit_idea")
@answers
def on_edit_idea(data):
    idea, _changed = live.edit_idea(
        _participant(), data.get("client_id"), data.get("kind"), data.get("text")
    )
    return _written(idea)


@socketio.on("delete_idea")
@answers
def on_delete_idea(data):
    idea, _changed = live.delete_idea(_participant(), data.get("client_id"))
    return _written(idea)


# --- the facilitator's actions ----------------------------------------------------


@socketio.on("hide_idea")
@answers
def on_hide_idea(data):
    idea, changed = live.set_hidden(_facilitated_table(), data.get("id"), data.get("hidden", True))
    if changed:
        broadcast.idea_changed(idea)
    return {"ok": True, "idea": live.idea_payload(idea, moderator=True)}


@socketio.on("set_reporter")
@answers
def on_set_reporter(data):
    table = _facilitated_table()
    live.set_reporter(table, data.get("participant_id"))
    broadcast.table_state_changed(table)
    return {"ok": True, "state": live.table_state(table)}
