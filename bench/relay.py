"""The bare Flask-SocketIO relay: the stack's own ceiling, to read the app's
figures against (no database, no authorization, no catch-up history).

It speaks just enough of the app's protocol for bench/live_load.py --relay:
a phone joins its table's room from its connection's ``auth``; ``sync`` says
nothing was missed; ``write`` numbers the post per table in memory, answers
with it and pushes it to the table's room — the same work as the app minus
everything the app adds. With ``--method`` the load also carries what the
method's steps add, and so does the relay: a facilitator's console joins its
table's room (its ``secret`` is the table's code here), a first ``sync`` gives
the table's steps and state, the organizer's ``tables.step`` pushes every
table its new step (a vote step opening its vote), and a ``vote.cast`` is
numbered, answered and pushed like a post. Same server stack as run.py:
gevent, simple-websocket.

    .venv/bin/python bench/relay.py            # PORT (default 5001)
"""

from gevent import monkey

monkey.patch_all()

import gc  # noqa: E402
import os  # noqa: E402
from collections import defaultdict  # noqa: E402

from flask import Flask, request  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

app = Flask(__name__)
socketio = SocketIO(app, async_mode="gevent", ping_interval=10, ping_timeout=20)
last_seq: dict[str, int] = defaultdict(int)
room_of: dict[str, str] = {}
rooms: set[str] = set()  # every table's room, for the organizer's step pushes
KINDS = ["intro", "brief", "diverge", "cluster", "vote", "sheet", "commit", "plenary"]


@app.get("/")
def index():
    return "relay"


@socketio.on("connect")
def connect(auth):
    auth = auth or {}
    room = str(auth.get("table") or auth.get("secret") or "")
    if auth.get("role") != "organizer":
        rooms.add(room)
    room_of[request.sid] = room
    join_room(room)


@socketio.on("disconnect")
def disconnect(*_reason):
    room_of.pop(request.sid, None)


def step(room: str, kind: str, seq: int, state: str | None = None) -> dict:
    """The view of a table's step of ``kind`` (ids unique across tables)."""
    step_id = abs(hash(room)) % 10**6 * 10 + KINDS.index(kind)
    settings = {"state": state, "votes": 3} if state else {}
    return {"type": "step", "id": step_id, "seq": seq, "kind": kind, "settings": settings}


@socketio.on("sync")
def sync(data=None):
    room = room_of.get(request.sid, "")
    seq = last_seq[room]
    since = (data or {}).get("since") if isinstance(data, dict) else None
    changes = [step(room, kind, 0) for kind in KINDS] if not since and room in rooms else []
    return {"ok": True, "seq": seq, "changes": changes}


@socketio.on("write")
def write(envelope):
    room = room_of.get(request.sid, "")
    data = envelope.get("data") or {}
    if envelope.get("op") == "tables.step":
        for table in sorted(rooms):
            kind = str(data.get("kind"))
            changes = [step(table, kind, next_seq(table), "open")] if kind == "vote" else []
            view = {"type": "table", "id": table, "seq": next_seq(table)}
            changes.append({**view, "step_id": step(table, kind, 0)["id"]})
            socketio.emit("changes", {"changes": changes}, to=table)
        return {"ok": True, "changes": []}
    seq = next_seq(room)
    kind = "vote" if envelope.get("op") == "vote.cast" else "idea"
    view = {"type": kind, "id": seq, "seq": seq, **data}
    socketio.emit("changes", {"changes": [view]}, to=room)
    return {"ok": True, "seq": seq, "changes": [view]}


def next_seq(room: str) -> int:
    last_seq[room] += 1
    return last_seq[room]


if __name__ == "__main__":
    gc.collect()
    gc.freeze()  # as run.py: thousands of connections, rare full collections
    gc.set_threshold(700, 10, 100)
    socketio.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "5001")))
