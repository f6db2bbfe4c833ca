"""The server's housekeeping round: beacons to quiet tables, ended sign-ins
and silent transports closed, consoles' presence kept fresh.
"""

import logging
import os

from flask import current_app
from sqlalchemy import select

from . import clock, jobs, presence, transport
from .extensions import db, socketio
from .models import Table
from .rooms import console_room, rooms_here, table_room
from .services import control

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
    table_ids = set(rooms_here("table")) | set(rooms_here("console"))
    found = select(Table.id, Table.last_seq).where(Table.id.in_(table_ids))
    latest = dict(db.session.execute(found).all()) if table_ids else {}
    db.session.close()  # no connection held while emitting
    now = clock.epoch_ms()
    for table_id, seq in beacons.due(latest).items():
        for room in (table_room(table_id), console_room(table_id)):
            # To this process's screens only, without the message queue: a
            # screen that missed pushes while Redis was away catches up.
            socketio.emit("seq", {"seq": seq, "now": now}, to=room, ignore_queue=True)


def start_housekeeping(app) -> None:
    """Start, once per app, the task that sends the beacons, keeps this
    server's consoles marked as connected (every PRESENCE_REFRESH seconds),
    closes transports that never said who they are and queues the jobs the
    data calls for (workshop/jobs.py)."""
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
                presence.close_unidentified(unidentified, transport.READ_TIMEOUT)
                jobs.runner(app).derive()
                with app.app_context():
                    send_beacons()
                    presence.close_ended_sign_ins()
                    if rounds % rounds_per_refresh == 0:
                        control.mark_consoles(presence.consoles_here(), True)
            except Exception:  # the next round tries again
                logging.getLogger(__name__).exception("housekeeping failed")

    socketio.start_background_task(run)
