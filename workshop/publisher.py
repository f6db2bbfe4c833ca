"""The one after-commit publisher (DESIGN.md §6).

Services never emit. They :func:`~workshop.services.changes.touch` the live
entities they change; just before the commit this module numbers them and
renders each screen's view (while the objects are loaded: no reload after the
commit), and once the commit has succeeded it hands the pushes to a background
task. That task emits them, grouped per room, as one ``changes`` message with
the server's time. So a push never carries anything that is not safe in the
database, a rolled-back change is never pushed, no transaction is open while
pushing, and the acknowledgement of a write never waits for the message queue.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import NamedTuple

from flask import current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from . import clock, counters, presence, rooms
from .extensions import socketio
from .models import Idea, Step, Table
from .services import changes
from .services.changes import CONSOLE, CUT, EXTRA, ORGANIZER, PHONE, Viewer

log = logging.getLogger(__name__)
OUTBOX = "live_outbox"  # session.info key: rendered pushes waiting for the commit


class Push(NamedTuple):
    """One view of a changed entity for one room. ``instead_of``: the table
    room whose view this one (its owner's) replaces on the owner's screens;
    ``answered``: the screen that has this very view in its write's answer."""

    room: str
    view: dict
    instead_of: str | None = None
    answered: str | None = None


def _event_id(obj, session: Session) -> int | None:
    if isinstance(obj, Table | changes.NewIdea | changes.NewVote):
        return obj.event_id
    table = session.get(Table, obj.table_id)
    return table.event_id if table is not None else None


def render(obj, session: Session, writer: tuple | None = None) -> tuple[list[Push], int | None]:
    """The pushes of one changed entity, and the event whose counters it
    moves (if any). An owner's own view goes to their screens in place of
    the table's (see :meth:`Publisher.emit`). ``writer``: the screen that
    wrote the change and its viewer, whose answer has them already."""
    live_type = changes.live_type(obj)
    if live_type.stream == changes.EVENING:
        team = changes.view(obj, ORGANIZER, session)
        return _answered([Push(rooms.evening_room(obj.event_id), team)], obj, session, writer), None
    table_id = changes.table_id_of(obj)
    public = changes.view(obj, PHONE, session)
    moderator = changes.view(obj, CONSOLE, session)
    table = rooms.table_room(table_id)
    pushes = [Push(table, public), Push(rooms.console_room(table_id), moderator)]
    owner = live_type.owner(obj)
    if owner is not None:
        own = changes.view(obj, Viewer("participant", owner), session)
        if own != public:
            pushes.append(Push(rooms.participant_room(owner), own, table))
    pushes = _answered(pushes, obj, session, writer)
    overview = isinstance(obj, Idea | changes.NewIdea | Table | Step)
    desks = presence.desks_may_listen()
    # Looked up only when needed: a vote moves neither overviews nor counters.
    event_id = _event_id(obj, session) if overview or live_type.counted or desks else None
    if overview and event_id is not None:
        overview_view = {**moderator, "table_id": table_id}
        pushes.append(Push(rooms.organizers_room(event_id), overview_view))
    if desks and event_id is not None:  # every table's changes, as its phones see them
        pushes.append(Push(rooms.desk_room(event_id), {**public, "table_id": table_id}))
    return pushes, event_id if live_type.counted else None


def _answered(pushes: list[Push], obj, session: Session, writer: tuple | None) -> list[Push]:
    """``pushes``, each marked with the screen whose write's answer has its
    very view (views are rendered once per kind of viewer)."""
    if writer is None:
        return pushes
    sid, viewer = writer
    answer = changes.view(obj, viewer, session)
    return [push._replace(answered=sid) if push.view is answer else push for push in pushes]


def _writer(session: Session) -> tuple | None:
    """The screen whose write is being committed, if its answer carries the
    changes (see :func:`~workshop.services.changes.answered_as`), and its viewer."""
    viewer = session.info.pop(changes.ANSWERED, None)
    sid = getattr(request, "sid", None) if viewer is not None and has_request_context() else None
    return (sid, viewer) if sid is not None else None


@event.listens_for(Session, "before_commit")
def render_before_commit(session: Session) -> None:
    if not any(session.info.get(key) for key in (changes.PENDING, EXTRA, CUT)):
        return
    changes.assign(session)
    outbox = session.info.setdefault(
        OUTBOX, {"pushes": [], "counted": set(), "extra": [], "cut": []}
    )
    writer = _writer(session)
    for obj in changes.pending(session):
        pushes, counted = render(obj, session, writer)
        outbox["pushes"].extend(pushes)
        if counted is not None:
            outbox["counted"].add(counted)
    changes.clear(session)
    outbox["extra"].extend(session.info.pop(EXTRA, []))
    outbox["cut"].extend(session.info.pop(CUT, []))
    outbox["app"] = current_app._get_current_object()


@event.listens_for(Session, "after_commit")
def publish_after_commit(session: Session) -> None:
    outbox = session.info.pop(OUTBOX, None)
    if outbox:
        publisher(outbox["app"]).put(
            outbox["pushes"], outbox["counted"], outbox["extra"], outbox["cut"]
        )


@event.listens_for(Session, "after_rollback")
def forget_after_rollback(session: Session) -> None:
    for key in (OUTBOX, EXTRA, CUT, changes.ANSWERED):
        session.info.pop(key, None)
    changes.clear(session)


OVERVIEW_INTERVAL = 1.0  # seconds: an organizers' overview hears of changes at most this often


class Overviews:
    """Changes for the organizers' overviews and the synthesis desks, folded:
    at most one message per OVERVIEW_INTERVAL to each evening's overview (or
    desk). The first change goes at once; those that follow within the
    interval leave together at its end.
    At the §11 load a hundred changes a second would otherwise reach every
    open overview (and the organizer's laptop parse them) one by one, while
    a phone's own table is what must not wait."""

    def __init__(self, interval: float = OVERVIEW_INTERVAL):
        self.interval = interval
        self.server = socketio.server  # its app's: another app's (tests) gets nothing
        self.lock = threading.Lock()
        self.last_sent: dict[str, float] = {}
        self.pending: dict[str, list[dict]] = {}
        self.flushing = False

    def push(self, room: str, views: list[dict]) -> None:
        now = time.monotonic()
        with self.lock:
            send_now = room not in self.pending and (
                now - self.last_sent.get(room, -self.interval) >= self.interval
            )
            if send_now:
                self.last_sent[room] = now
            else:
                self.pending.setdefault(room, []).extend(views)
                start_flusher, self.flushing = not self.flushing, True
        if send_now:
            message = {"now": clock.epoch_ms(), "changes": views}
            socketio.emit(rooms.push_name(room), message, to=room)
        elif start_flusher:
            socketio.start_background_task(self._flush)

    def _flush(self) -> None:
        while True:
            socketio.sleep(self.interval)
            with self.lock:
                due, self.pending = self.pending, {}
                if not due or socketio.server is not self.server:
                    self.flushing = False
                    return
                for room in due:
                    self.last_sent[room] = time.monotonic()
            now = clock.epoch_ms()
            for room, views in due.items():
                try:
                    socketio.emit(rooms.push_name(room), {"now": now, "changes": views}, to=room)
                except Exception:  # a push lost is repaired by catch-up
                    log.exception("sending an overview's changes failed")


class Publisher:
    """Emits committed changes from one background task, in commit order."""

    IDLE = 5.0  # seconds without a change before the task stops (restarted on demand)

    def __init__(self, app):
        self.app = app
        self.queue: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.running = False
        self.overviews = Overviews()

    def put(self, pushes: list[Push], counted: set[int], extra=(), cut=()) -> None:
        with self.lock:
            self.queue.put((pushes, counted, list(extra), list(cut)))
            if not self.running:
                self.running = True
                socketio.start_background_task(self.run)

    def _next(self):
        try:
            return self.queue.get(timeout=self.IDLE)
        except queue.Empty:
            with self.lock:
                if self.queue.empty():
                    self.running = False
                    return None
            return self.queue.get_nowait()

    def run(self) -> None:
        while True:
            first = self._next()
            if first is None:
                return
            batch = [first]
            while True:  # fold what queued up meanwhile into one message per room
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.emit(batch)
            except Exception:  # a push lost is repaired by catch-up; keep publishing
                log.exception("publishing %d committed changes failed", len(batch))

    def emit(self, batch) -> None:
        by_room: dict[str, list[dict]] = {}
        answered: dict[str, list[str | None]] = {}  # room -> the screen answered each view
        # table room -> owner's room -> {position in the table's list: (own view, answered)}
        own: dict[str, dict[str, dict[int, tuple]]] = {}
        counted: set[int] = set()
        extra: list[tuple[str, str, dict]] = []
        cut: list[str] = []
        for pushes, events, others, closing in batch:
            for push in pushes:
                if push.instead_of:  # an owner's view, in place of the table's just added
                    position = len(by_room[push.instead_of]) - 1
                    mine = own.setdefault(push.instead_of, {}).setdefault(push.room, {})
                    mine[position] = (push.view, push.answered)
                else:
                    by_room.setdefault(push.room, []).append(push.view)
                    answered.setdefault(push.room, []).append(push.answered)
            counted |= events
            extra.extend(others)
            cut.extend(closing)
        now = clock.epoch_ms()
        for room, views in by_room.items():
            if not rooms.reachable(room):  # no console open, say: nothing to encode
                continue
            if rooms.is_overview(room) or rooms.is_desk(room):
                self.overviews.push(room, views)
                continue
            skip = list(_answered_all(answered[room]))
            for own_room, mine in own.get(room, {}).items():
                # The owner's screens get the table's changes with their own
                # views (the card's client id, their private idea) and not the
                # table's message too: one frame each, not two.
                changed = [mine.get(p, (view,))[0] for p, view in enumerate(views)]
                by = [mine[p][1] if p in mine else answered[room][p] for p in range(len(views))]
                screens = socketio.server.manager.get_participants("/", own_room)
                skip.extend(sid for sid, _eio_sid in screens)
                answered_all = _answered_all(by)
                if rooms.reachable(own_room, answered_all):  # else nothing to encode
                    socketio.emit(
                        "changes",
                        {"now": now, "changes": changed},
                        to=own_room,
                        skip_sid=list(answered_all) or None,
                    )
            socketio.emit(
                rooms.push_name(room),
                {"now": now, "changes": views},
                to=room,
                skip_sid=skip or None,
            )
        for room, name, payload in extra:
            socketio.emit(name, {**payload, "now": now}, to=room)
        for room in cut:  # after the pushes: the change is the last thing they see
            rooms.cut_off(room)
        for event_id in counted:
            counters.counts_changed(event_id, self.app)


def _answered_all(answered: list[str | None]) -> set[str]:
    """The screen that has every one of a message's views in its write's
    answer already (a phone's own post, most of the time): not sent it."""
    first = answered[0]
    return {first} if first is not None and all(sid == first for sid in answered) else set()


def publisher(app) -> Publisher:
    """The app's publisher (one per app, created on first use)."""
    found = app.extensions.get("live_publisher")
    if found is None:
        found = app.extensions.setdefault("live_publisher", Publisher(app))
    return found
