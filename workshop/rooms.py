"""Rooms: who a push reaches (DESIGN.md §6), and who is in them here.

``table:<id>`` (the table's phones), ``participant:<id>`` (one participant's
own tabs), ``console:<id>`` (its facilitator), ``event:<id>:organizers``,
``event:<id>:projector``, ``evening:<id>`` (the screens that follow the
evening's own stream), ``desk:<id>`` (those of its synthesis team) and
``signin:<hash>`` (the open pages of one organizer sign-in, to close them
when it ends). The bottom of the live layers: services name rooms (for
pushes and cut-offs after their commit), the publisher and the socket
handlers use them; this module imports none of them.
"""

from socketio import PubSubManager

from .extensions import socketio


def table_room(table_id: int) -> str:
    return f"table:{table_id}"


def console_room(table_id: int) -> str:
    return f"console:{table_id}"


def participant_room(participant_id: int) -> str:
    return f"participant:{participant_id}"


def organizers_room(event_id: int) -> str:
    return f"event:{event_id}:organizers"


def is_overview(room: str) -> bool:
    """Whether ``room`` is an evening's organizers' overview."""
    return room.startswith("event:") and room.endswith(":organizers")


def projector_room(event_id: int) -> str:
    return f"event:{event_id}:projector"


def evening_room(event_id: int) -> str:
    """The screens that follow the evening's own stream (its synthesis team)."""
    return f"evening:{event_id}"


def desk_room(event_id: int) -> str:
    """The synthesis team's screens: the app computes suggestions for them."""
    return f"desk:{event_id}"


def is_evening(room: str) -> bool:
    return room.startswith("evening:")


def is_desk(room: str) -> bool:
    return room.startswith("desk:")


def push_name(room: str) -> str:
    """The name of the pushes to ``room``: a screen that follows several
    streams tells them apart (an evening's own, a desk's tables)."""
    if is_evening(room):
        return "evening"
    return "tables" if is_desk(room) else "changes"


def sign_in_room(token_hash: str) -> str:
    return f"signin:{token_hash}"


def reachable(room: str, skipped=frozenset()) -> bool:
    """Whether a push to ``room`` (skipping the screens ``skipped``) may
    reach anyone: a screen of this process in it, or of another process
    (with a message queue, which knows)."""
    server = socketio.server
    if isinstance(server.manager, PubSubManager):
        return True
    return any(sid not in skipped for sid in server.manager.rooms.get("/", {}).get(room) or {})


def screens_in(room: str) -> int:
    """How many connections of this process are in ``room``."""
    return sum(1 for _ in socketio.server.manager.get_participants("/", room))


def rooms_here(prefix: str) -> list[int]:
    """Ids of the ``prefix:<id>`` rooms with a connection on this server process."""
    rooms = socketio.server.manager.rooms.get("/", {})
    return [
        int(room.split(":", 1)[1])
        for room, members in list(rooms.items())
        if isinstance(room, str) and room.startswith(prefix + ":") and members
    ]


def cut_off(room: str) -> None:
    """Close every screen in ``room``: those of this process here, those of
    other processes (when scaled out) told to stop and close themselves."""
    socketio.emit("revoked", {}, to=room)
    server = socketio.server
    for sid, _eio_sid in list(server.manager.get_participants("/", room)):
        server.disconnect(sid, namespace="/", ignore_queue=True)
