"""Beyond one machine (DESIGN.md §9): two server processes share PostgreSQL and
a Redis message queue; same code, configuration only. Phones of one table
connected to different processes see each other's ideas, and screens follow."""

import threading
import uuid

import socketio

from workshop import create_app
from workshop.extensions import db

from .helpers import LiveServer, Phone, join_over_http, make_event, make_organizer


def test_phones_on_two_processes_share_one_table(tmp_path, postgres_url, redis_url):
    servers = []
    channel = f"test-{uuid.uuid4().hex}"  # this run's own: the machine's Redis is shared
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        server = LiveServer(
            tmp_path / name,
            postgres_url,
            {"SOCKETIO_MESSAGE_QUEUE": redis_url, "SOCKETIO_CHANNEL": channel},
        )
        server.start()  # the first one migrates the database
        servers.append(server)
    first, second = servers
    app = create_app({"SQLALCHEMY_DATABASE_URI": postgres_url, "SOCKETIO_ASYNC_MODE": "threading"})
    try:
        with app.app_context():
            event = make_event(make_organizer())
            table = event.tables[0]
            alice = Phone(first, table, join_over_http(first, table, "Alice"))
            bob = Phone(second, table, join_over_http(second, table, "Bob"))
            bob_saw = threading.Event()
            bob.client.on(
                "changes",
                lambda push: any(c["type"] == "idea" for c in push["changes"]) and bob_saw.set(),
            )
            totals = []
            totals_seen = threading.Event()
            projector = socketio.Client(reconnection=False)
            projector.on("totals", lambda t: (totals.append(t), totals_seen.set()))
            projector.connect(
                second.url,
                auth={"role": "projector", "event": event.join_code},
                transports=["websocket"],
                wait_timeout=10,
            )

            ack = alice.write("idea.post", {"text": "Un fab-lab itinérant"})

            assert ack["ok"]
            assert bob_saw.wait(10), "the idea did not cross to the other process"
            assert totals_seen.wait(10) and totals[-1]["ideas"] == 1
            state = bob.call("sync", {"since": 0})
            ideas = [c["text"] for c in state["changes"] if c["type"] == "idea"]
            assert ideas == ["Un fab-lab itinérant"]
            for client in (alice.client, bob.client, projector):
                client.disconnect()
            db.session.remove()
            db.engine.dispose()
    finally:
        for server in servers:
            server.stop()
