"""The real server process (run.py, gevent) with real Socket.IO clients over
the network: what a phone relies on when the venue's laptop restarts."""

import threading
import uuid

import socketio

from workshop.extensions import db
from workshop.models import Idea

from .helpers import Phone, join_over_http, make_event, make_organizer


def test_acknowledged_post_survives_a_server_restart(live_server):
    server, _app = live_server
    table = make_event(make_organizer()).tables[0]
    phone = Phone(server, table, join_over_http(server, table))
    client_id = str(uuid.uuid4())
    ack = phone.call(
        "post_idea", {"client_id": client_id, "kind": "need", "text": "Un car le soir"}
    )
    assert ack["ok"]

    server.kill()  # between the acknowledgement and the phone's reconnect
    server.start()

    assert phone.connects.acquire(timeout=20), "the phone did not reconnect by itself"
    state = phone.call("sync", {"since": 0})
    assert [(i["id"], i["text"]) for i in state["ideas"]] == [(ack["idea"]["id"], "Un car le soir")]
    # The phone resends its outbox after reconnecting: still one idea.
    again = phone.call(
        "post_idea", {"client_id": client_id, "kind": "need", "text": "Un car le soir"}
    )
    assert again["idea"]["id"] == ack["idea"]["id"]
    assert db.session.query(Idea).count() == 1
    phone.client.disconnect()


def test_posts_reach_the_other_phones_of_the_table_only(live_server):
    server, _app = live_server
    event = make_event(make_organizer())
    table, other = event.tables
    alice = Phone(server, table, join_over_http(server, table, "Alice"))
    bob = Phone(server, table, join_over_http(server, table, "Bob"))
    carol = Phone(server, other, join_over_http(server, other, "Carol"))
    seen = {"bob": threading.Event(), "carol": []}
    bob.client.on("idea", lambda idea: seen["bob"].set())
    carol.client.on("idea", lambda idea: seen["carol"].append(idea))

    alice.call("post_idea", {"client_id": str(uuid.uuid4()), "text": "Une épicerie mobile"})

    assert seen["bob"].wait(10)
    # Carol's catch-up proves her table's wall is untouched.
    assert carol.call("sync", {"since": 0})["ideas"] == []
    assert seen["carol"] == []
    for phone in (alice, bob, carol):
        phone.client.disconnect()


def test_crafted_connection_to_another_table_is_refused(live_server):
    server, _app = live_server
    event = make_event(make_organizer())
    table, other = event.tables
    http = join_over_http(server, table)

    intruder = socketio.Client(reconnection=False)
    try:
        intruder.connect(
            server.url,
            headers={"Cookie": f"wt_{other.join_code}={http.cookies[f'wt_{table.join_code}']}"},
            auth={"role": "participant", "table": other.join_code},
            transports=["websocket"],
            wait_timeout=10,
        )
        refused = False
    except socketio.exceptions.ConnectionError:
        refused = True
    assert refused


def test_the_server_prints_where_to_reach_it(live_server):
    server, _app = live_server
    log = server.log_path.read_text()
    assert f"http://localhost:{server.port}/" in log
    assert "Running upgrade" in log or "Context impl SQLiteImpl" in log  # migrated at start
