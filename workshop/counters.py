"""The evening's counters on the organizers' overview and the projector,
throttled (DESIGN.md §11): participants and ideas per table, each table's mix.
"""

import logging
import threading
import time

from flask import current_app

from .extensions import db, socketio
from .models import Event
from .rooms import organizers_room, projector_room, reachable
from .services import control, events

# Seconds between two sends of an evening's counters. Each send counts the
# whole evening again (its ideas, people and mixes): at a hall's load, with
# the control room open, once a second was a twentieth of the server's time.
# Counters can wait; a table's own pushes and the phones' answers cannot.
COUNTS_INTERVAL = 2.0


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
