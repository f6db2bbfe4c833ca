"""Rooms, and the pushes that are not live entities (DESIGN.md §6).

Rooms: ``table:<id>`` (the table's phones), ``participant:<id>`` (one
participant's own tabs), ``console:<id>`` (its facilitator),
``event:<id>:organizers``, ``event:<id>:projector`` and ``signin:<hash>`` (the
open pages of one organizer sign-in, to close them when it ends). Live entities are pushed
by :mod:`workshop.publisher` after the commit; this module sends the
throttled counters and cuts off revoked screens.
"""

import logging
import os
import threading
import time

from flask import current_app
from socketio import PubSubManager
from sqlalchemy import select

from . import clock, publisher, transport
from .extensions import db, socketio
from .models import Event, Table
from .services import accounts, codes, control, events


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


def sign_in_room(token_hash: str) -> str:
    return f"signin:{token_hash}"


def cut_off(room: str) -> None:
    """Close every screen in ``room``: those of this process here, those of
    other processes (when scaled out) told to stop and close themselves."""
    socketio.emit("revoked", {}, to=room)
    server = socketio.server
    for sid, _eio_sid in list(server.manager.get_participants("/", room)):
        server.disconnect(sid, namespace="/", ignore_queue=True)


# The organizer screens of this process: sid -> their sign-in's token hash.
# The housekeeping closes those whose sign-in has ended in any process, even
# if they ignore "revoked".
_organizer_screens: dict[str, str] = {}


def organizer_screen_opened(sid: str, token_hash: str) -> None:
    _organizer_screens[sid] = token_hash


def organizer_screen_closed(sid: str) -> None:
    _organizer_screens.pop(sid, None)


def sign_ins_ended(token_hashes) -> None:
    """Close the live screens of these sign-ins: here at once, in other
    processes at once if they obey, at the next housekeeping round if not."""
    for token_hash in token_hashes:
        cut_off(sign_in_room(token_hash))


def sign_in_ended(token: str | None) -> None:
    """Close the overviews left open by the sign-in of ``token``."""
    if token:
        sign_ins_ended([codes.token_hash(token)])


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


def facilitator_link_rotated(table: Table) -> None:
    """Cut off every console opened with the old link (in every process)."""
    room = console_room(table.id)
    socketio.emit("revoked", {}, to=room)
    socketio.close_room(room)


COUNTS_INTERVAL = 1.0


class CountsThrottle:
    """Sends an event's counters at most once per COUNTS_INTERVAL.

    Recounting a whole event at every post costs more than the post itself at
    100 posts/s (bench/live_load.py). The first change is sent at once; later
    ones within the interval are folded into one send at its end. Only "this
    event changed" marks live in memory; the figures always come from the
    database. One per app (kept in ``app.extensions``).
    """

    def __init__(self, app):
        self.app = app
        self.server = socketio.server  # this app's
        self.lock = threading.Lock()
        self.last_sent: dict[int, float] = {}
        self.pending: set[int] = set()
        self.flushing = False

    def changed(self, event_id: int) -> None:
        now = time.monotonic()
        with self.lock:
            send_now = now - self.last_sent.get(event_id, -COUNTS_INTERVAL) >= COUNTS_INTERVAL
            start_flusher = False
            if send_now:
                self.last_sent[event_id] = now
            else:
                self.pending.add(event_id)
                start_flusher, self.flushing = not self.flushing, True
        if send_now:
            self._send({event_id})
        elif start_flusher:
            socketio.start_background_task(self._flush)

    def _send(self, event_ids) -> None:
        # Its own app context: a change costs none unless counters are sent.
        with self.app.app_context():
            for event_id in event_ids:
                if (event := db.session.get(Event, event_id)) is not None:
                    send_counts(event)
            db.session.remove()

    def _flush(self) -> None:
        try:
            while self._flush_once():
                pass
        except Exception:
            with self.lock:
                self.flushing = False  # the next change starts a new flusher
            # Counters are a convenience: logged once, sent again at the next change.
            logging.getLogger(__name__).exception("sending the counters failed")

    def _flush_once(self) -> bool:
        """Send what changed during the last interval; False once quiet."""
        socketio.sleep(COUNTS_INTERVAL)
        with self.lock:
            due, self.pending = self.pending, set()
            # Quiet, or this app's server was replaced by another app's (tests
            # make one app after another, with other screens): done. Under
            # the lock: a change from now on starts a new flusher.
            if not due or socketio.server is not self.server:
                self.flushing = False
                return False
            for event_id in due:
                self.last_sent[event_id] = time.monotonic()
        self._send(due)
        return True


def counts_changed(event_id: int, app=None) -> None:
    """Update the organizers' overview and the projector's counters
    (throttled; ``app`` outside an app context)."""
    app = app or current_app._get_current_object()
    throttle = app.extensions.get("counts_throttle")
    if throttle is None:
        throttle = app.extensions.setdefault("counts_throttle", CountsThrottle(app))
    throttle.changed(event_id)


def reachable(room: str) -> bool:
    """Whether a push to ``room`` may reach anyone: a screen of this process
    in it, or of another process (with a message queue, which knows)."""
    server = socketio.server
    return isinstance(server.manager, PubSubManager) or bool(
        server.manager.rooms.get("/", {}).get(room)
    )


def watched(event_id: int) -> bool:
    """Whether anyone may see ``event_id``'s counters (an organizer or a projector)."""
    return reachable(organizers_room(event_id)) or reachable(projector_room(event_id))


def send_counts(event: Event) -> None:
    """Send every table's counts and mix to the organizers, the totals to the
    projector (when anyone watches: recounting costs more than a post)."""
    if not watched(event.id):
        return
    organizers, projector = organizers_room(event.id), projector_room(event.id)
    counts = events.table_counts(event)
    pushes = [
        ("counts", counts_payload(counts), organizers),
        ("mixes", counts_payload(control.mixes(event)), organizers),
        ("totals", events.event_totals(event, counts), projector),
    ]
    db.session.close()  # no connection held while emitting (the message queue may stall)
    for name, payload, room in pushes:
        socketio.emit(name, payload, to=room)


def counts_payload(counts: dict[int, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Counts keyed by table id as text (JSON object keys are text)."""
    return {str(table_id): value for table_id, value in counts.items()}


# --- consoles' presence, for the control room ---------------------------------------


def _rooms_here(prefix: str) -> list[int]:
    """Ids of the ``prefix:<id>`` rooms with a connection on this server process."""
    rooms = socketio.server.manager.rooms.get("/", {})
    return [
        int(room.split(":", 1)[1])
        for room, members in list(rooms.items())
        if isinstance(room, str) and room.startswith(prefix + ":") and members
    ]


def consoles_here() -> list[int]:
    """Tables whose console this server process holds open."""
    return _rooms_here("console")


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
    publisher.push_after_commit(
        organizers_room(table.event_id), "presence", {"table_id": table.id, "console": connected}
    )
    control.mark_consoles([table.id], connected)


# Seconds between housekeeping rounds (beacons, ended sign-ins, silent
# transports); tests shorten it through the environment.
BEACON_INTERVAL = float(os.environ.get("BEACON_INTERVAL", "10"))


class Beacons:
    """Which tables get a beacon at each housekeeping round.

    A screen learns of a lost push only when a later number arrives; on a
    table gone quiet, that may be never. So once a table has been quiet for a
    whole round, its screens are told its latest number, once. A busy table
    gets none: its next push shows a gap by itself, and at the §11 load
    beacons to every table would add a tenth to the frames sent.
    """

    def __init__(self):
        self.seen: dict[int, int] = {}  # table -> its number at the last round
        self.told: dict[int, int] = {}  # table -> the number its last beacon said

    def due(self, latest: dict[int, int]) -> dict[int, int]:
        """The tables (and numbers) to beacon now, given each table's latest number."""
        quiet = {
            table_id: seq
            for table_id, seq in latest.items()
            if self.seen.get(table_id) == seq and self.told.get(table_id) != seq
        }
        self.seen = dict(latest)
        self.told = {table_id: self.told[table_id] for table_id in latest if table_id in self.told}
        self.told.update(quiet)
        return quiet


def send_beacons() -> None:
    """Tell the screens of this server's quiet tables their latest number
    (see :class:`Beacons`); a screen still behind it catches up by itself."""
    beacons = current_app.extensions.setdefault("beacons", Beacons())
    table_ids = set(_rooms_here("table")) | set(_rooms_here("console"))
    found = select(Table.id, Table.last_seq).where(Table.id.in_(table_ids))
    latest = dict(db.session.execute(found).tuples().all()) if table_ids else {}
    db.session.close()  # no connection held while emitting
    now = clock.epoch_ms()
    for table_id, seq in beacons.due(latest).items():
        for room in (table_room(table_id), console_room(table_id)):
            # To this process's screens only, without the message queue: a
            # screen that missed pushes while Redis was away catches up.
            socketio.emit("seq", {"seq": seq, "now": now}, to=room, ignore_queue=True)


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


def screens_in(room: str) -> int:
    """How many connections of this process are in ``room``."""
    return sum(1 for _ in socketio.server.manager.get_participants("/", room))


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


def start_housekeeping(app) -> None:
    """Start, once per app, the task that sends the beacons, keeps this
    server's consoles marked as connected (every PRESENCE_REFRESH seconds)
    and closes transports that never said who they are."""
    if app.extensions.get("housekeeping"):
        return
    app.extensions["housekeeping"] = True
    rounds_per_refresh = max(1, int(control.PRESENCE_REFRESH // BEACON_INTERVAL))

    server = socketio.server

    def run():
        rounds = 0
        unidentified: dict[str, float] = {}
        while True:
            socketio.sleep(BEACON_INTERVAL)
            if socketio.server is not server:  # replaced by another app's (tests): done
                return
            rounds += 1
            try:
                if "checkpointer" in app.extensions:  # stopped? started again
                    app.extensions["checkpointer"].ensure_running()
                close_unidentified(unidentified, transport.READ_TIMEOUT)
                with app.app_context():
                    send_beacons()
                    close_ended_sign_ins()
                    if rounds % rounds_per_refresh == 0:
                        control.mark_consoles(consoles_here(), True)
            except Exception:  # the next round tries again
                logging.getLogger(__name__).exception("housekeeping failed")

    socketio.start_background_task(run)
