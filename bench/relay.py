"""The bare Flask-SocketIO relay: the stack's own ceiling, to read the app's
figures against (no database, no authorization, no catch-up history).

It speaks just enough of the app's protocol for bench/live_load.py --relay:
a phone joins its table's room from its connection's ``auth``; ``sync`` says
nothing was missed; ``write`` numbers the post per table in memory, answers
with it and pushes it to the table's room — the same work as the app minus
everything the app adds. Same server stack as run.py: gevent, simple-websocket.

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


@app.get("/")
def index():
    return "relay"


@socketio.on("connect")
def connect(auth):
    room = str((auth or {}).get("table") or (auth or {}).get("secret") or "")
    room_of[request.sid] = room
    join_room(room)


@socketio.on("disconnect")
def disconnect(*_reason):
    room_of.pop(request.sid, None)


@socketio.on("sync")
def sync(_data=None):
    return {"ok": True, "seq": last_seq[room_of.get(request.sid, "")], "changes": []}


@socketio.on("write")
def write(envelope):
    room = room_of.get(request.sid, "")
    last_seq[room] += 1
    data = envelope.get("data") or {}
    view = {"type": "idea", "id": last_seq[room], "seq": last_seq[room], **data}
    socketio.emit("changes", {"changes": [view]}, to=room)
    return {"ok": True, "seq": last_seq[room], "changes": [view]}


if __name__ == "__main__":
    gc.collect()
    gc.freeze()  # as run.py: thousands of connections, rare full collections
    gc.set_threshold(700, 10, 100)
    socketio.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "5001")))
