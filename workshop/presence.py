"""Who is connected to this process: organizer screens and their sign-ins,
the consoles shown as present in the control room, screens per address
(DESIGN.md §7), and transports that never said who they are.
"""

from flask import current_app
from socketio import PubSubManager

from . import clock
from .extensions import socketio
from .models import Table
from .rooms import console_room, organizers_room, rooms_here
from .services import accounts, control
from .services.changes import push_after_commit

# The organizer screens of this process: sid -> their sign-in's token hash.
# The housekeeping closes those whose sign-in has ended in any process, even
# if they ignore "revoked".
_organizer_screens: dict[str, str] = {}


def organizer_screen_opened(sid: str, token_hash: str) -> None:
    _organizer_screens[sid] = token_hash


def organizer_screen_closed(sid: str) -> None:
    _organizer_screens.pop(sid, None)


# The synthesis desks open in this process: sid -> their evening. Pushes to
# desks are rendered only while one may listen (with a message queue, a desk
# of another process may: see desks_may_listen).
_desk_screens: dict[str, int] = {}


def desk_screen_opened(sid: str, event_id: int) -> None:
    _desk_screens[sid] = event_id


def desk_screen_closed(sid: str) -> None:
    _desk_screens.pop(sid, None)


def desks_may_listen() -> bool:
    """Whether a synthesis desk may hear a table's changes: one is open in
    this process, or one may be in another (scaled out)."""
    return bool(_desk_screens) or isinstance(socketio.server.manager, PubSubManager)


def close_ended_sign_ins() -> None:
    """Disconnect this process's organizer screens whose sign-in has ended
    (signed out or password changed, possibly in another process)."""
    if not _organizer_screens:
        return
    live = accounts.live_sessions(set(_organizer_screens.values()))
    server = socketio.server
    for sid, token_hash in list(_organizer_screens.items()):
        if token_hash not in live:
            _organizer_screens.pop(sid, None)
            socketio.emit("revoked", {}, to=sid, ignore_queue=True)
            server.disconnect(sid, namespace="/", ignore_queue=True)


def consoles_here() -> list[int]:
    """Tables whose console this server process holds open."""
    return rooms_here("console")


def console_presence(table: Table, connected: bool, leaving_sid: str | None = None) -> None:
    """Record that a table's console came or went, and tell the organizers.

    A console leaving counts only if no other console of that table stays
    open on this server.
    """
    if not connected:
        members = socketio.server.manager.rooms.get("/", {}).get(console_room(table.id)) or {}
        if any(sid != leaving_sid for sid in members):
            return
    # Sent by the publisher once committed: a connect never waits for the
    # message queue (Redis away or cut off).
    push_after_commit(
        organizers_room(table.event_id), "presence", {"table_id": table.id, "console": connected}
    )
    control.mark_consoles([table.id], connected)


def _screens_by_address() -> dict[str, int]:
    """Open screens of this process per client address (a device on a
    venue's LAN has one address): one browser cannot hold thousands."""
    return current_app.extensions.setdefault("screens_by_address", {})


def screens_from(address: str) -> int:
    return _screens_by_address().get(address, 0)


def screen_opened_from(address: str) -> None:
    counts = _screens_by_address()
    counts[address] = counts.get(address, 0) + 1


def screen_closed_from(address: str) -> None:
    counts = _screens_by_address()
    left = counts.get(address, 0) - 1
    if left > 0:
        counts[address] = left
    else:
        counts.pop(address, None)


def close_unidentified(first_seen: dict[str, float], grace: float) -> None:
    """Close the transports of this process that have not said who they are
    (no Socket.IO connection) within ``grace`` seconds: Engine.IO's pings
    keep such a session open for ever, each holding a file descriptor.
    ``first_seen`` (kept between calls) notes when each was first seen."""
    server = socketio.server
    now = clock.ticks()
    open_now = set(server.eio.sockets)
    for eio_sid in [sid for sid in first_seen if sid not in open_now]:
        del first_seen[eio_sid]
    for eio_sid in open_now:
        if server.manager.sid_from_eio_sid(eio_sid, "/") is not None:
            first_seen.pop(eio_sid, None)
        elif now - first_seen.setdefault(eio_sid, now) >= grace:
            transport = server.eio.sockets.pop(eio_sid, None)
            if transport is not None:
                # Not eio.disconnect(): it waits until the client reads the
                # goodbye, which a long-polling client that went away never
                # does, and this task would wait with it for ever.
                transport.close(wait=False)
            first_seen.pop(eio_sid, None)
