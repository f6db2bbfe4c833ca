"""Hostile input is normal input (DESIGN.md §7): what one phone on the venue's
Wi-Fi may send, and the answer it gets. The transport tests run against the
real server process (run.py, gevent), one for the module, with a short read
timeout so that a silent client is dropped within a test's patience."""

import re
import resource
import socket
import subprocess
import sys
import threading
from pathlib import Path

import engineio
import pytest
import requests
import socketio
from sqlalchemy import select
from wsproto.frame_protocol import FrameProtocol

from workshop import transport
from workshop.client import envelope, new_client_id
from workshop.extensions import db
from workshop.models import Idea, Table
from workshop.services import ServiceError, live

from .helpers import Phone, join_over_http, make_evening, of_type, phone, read, serve

READ_TIMEOUT = 1  # seconds the test server waits for a silent client


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory, migrated_database):
    """The server, and a legitimate phone at a table of its open evening."""
    environment = {
        # Pings more often than READ_TIMEOUT: an idle phone is not a silent one.
        # The bystander posts at every check: above the posting limit.
        "READ_TIMEOUT": str(READ_TIMEOUT),
        "PING_INTERVAL": str(READ_TIMEOUT / 2),
        "RATE_LIMIT_POSTS": "1000",
        "BEACON_INTERVAL": "1",  # housekeeping every second, not every 10 s
    }
    for server, app in serve(tmp_path_factory.mktemp("hostile"), migrated_database, environment):
        table = make_evening(app).tables[1]
        bystander = Phone(server, table, join_over_http(server, table, "Passante"))
        try:
            yield server, bystander
        finally:
            bystander.client.disconnect()


@pytest.fixture
def server(hostile_site):
    return hostile_site[0]


@pytest.fixture
def bystander(hostile_site) -> Phone:
    return hostile_site[1]


def raw(server, request: bytes = b"") -> socket.socket:
    """A TCP connection to the server that sends ``request`` and no more."""
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    if request:
        connection.sendall(request)
    return connection


def closed_by_server(connection: socket.socket) -> bool:
    """Read until the server closes; False if it keeps waiting (10 s)."""
    try:
        while connection.recv(4096):
            pass
        return True
    except TimeoutError:
        return False
    finally:
        connection.close()


def polling_post_head(server, length: int) -> bytes:
    """The head of a polling POST of an open Engine.IO session, announcing
    ``length`` bytes of body."""
    opened = requests.get(f"{server.url}/socket.io/?EIO=4&transport=polling", timeout=5)
    sid = re.search(r'"sid":"([^"]+)"', opened.text).group(1)
    return (
        f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def still_serving(server, bystander: Phone) -> bool:
    """Pages are served, and a legitimate phone at another table gets its
    post acknowledged and its catch-up answered."""
    posted = bystander.write("idea.post", {"text": f"Toujours là {new_client_id()[:6]}"})
    return (
        requests.get(f"{server.url}/", timeout=5).status_code == 200
        and posted["ok"]
        and bystander.sync(posted["seq"])["ok"]
    )


# --- the transport -------------------------------------------------------------------


def test_a_connection_that_never_sends_a_request_is_closed(server, bystander):
    silent = [raw(server) for _ in range(50)]
    assert still_serving(server, bystander)  # while they hang on
    assert all(closed_by_server(connection) for connection in silent)


def test_a_body_announced_and_never_sent_is_given_up(server, bystander):
    hanging = [raw(server, polling_post_head(server, 5000)) for _ in range(20)]
    assert still_serving(server, bystander)  # while they hang on
    assert all(closed_by_server(connection) for connection in hanging)


def test_a_polling_body_over_the_limit_is_refused_before_it_is_read(server, bystander):
    connection = raw(server, polling_post_head(server, 200_000))  # and not a byte of the body
    answer = connection.recv(4096)
    connection.close()
    assert answer.startswith(b"HTTP/1.1 413")
    assert still_serving(server, bystander)


def test_websocket_compression_is_declined(server):
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    connection = raw(
        server,
        (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        ).encode(),
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += connection.recv(4096)
    connection.close()
    assert head.startswith(b"HTTP/1.1 101")
    # No compressed frame is ever accepted: nothing to inflate.
    assert b"permessage-deflate" not in head.lower()


def test_a_websocket_message_over_the_limit_closes_that_connection_only(server, bystander):
    client = engineio.Client()
    dropped = threading.Event()
    client.on("disconnect", lambda *_: dropped.set())
    client.connect(server.url, transports=["websocket"], engineio_path="socket.io")
    client.send("x" * 200_000)
    assert dropped.wait(10)
    assert bystander.client.connected
    assert still_serving(server, bystander)


def test_a_transport_that_never_says_who_it_is_is_closed(server, bystander):
    client = engineio.Client()  # Engine.IO only: never sends Socket.IO's CONNECT
    dropped = threading.Event()
    client.on("disconnect", lambda *_: dropped.set())
    client.connect(server.url, transports=["websocket"], engineio_path="socket.io")
    assert still_serving(server, bystander)  # while it is open
    # Closed at the housekeeping round (every second here) after READ_TIMEOUT.
    assert dropped.wait(30)


def test_a_form_body_over_the_limit_is_refused(server, bystander):
    answer = requests.post(f"{server.url}/login", data={"email": "x" * 2_000_000}, timeout=10)
    assert answer.status_code == 413
    assert still_serving(server, bystander)


def test_the_server_raises_its_open_files_limit(server):
    limits = Path(f"/proc/{server.process.pid}/limits").read_text()
    soft, hard = re.search(r"Max open files\s+(\S+)\s+(\S+)", limits).groups()
    assert soft == hard


@pytest.mark.parametrize("system_most", [10240, 24576])
def test_an_unlimited_hard_limit_raises_to_the_most_the_system_accepts(system_most):
    """macOS: the hard limit says unlimited, but setrlimit refuses more than
    kern.maxfilesperproc; the limit is the largest value it accepts."""
    accepted = []

    def macos_setrlimit(which, limits):
        assert which == resource.RLIMIT_NOFILE
        if limits[0] > system_most:
            raise ValueError("current limit exceeds maximum limit")
        accepted.append(limits)

    got = transport.raise_open_files_limit(
        getrlimit=lambda _which: (256, resource.RLIM_INFINITY), setrlimit=macos_setrlimit
    )

    assert got == system_most
    assert accepted[-1] == (system_most, resource.RLIM_INFINITY)  # the limit left in force


def test_the_open_files_limit_rises_to_a_lowered_hard_limit():
    """Linux, for real: a process started with a soft limit of 256 and a hard
    one of 4,096 (set before the call, in a process of its own) ends at 4,096."""
    child = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, 4096))\n"
        "from workshop.transport import raise_open_files_limit\n"
        "print(raise_open_files_limit(), *resource.getrlimit(resource.RLIMIT_NOFILE))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["4096", "4096", "4096"]


# --- the socket events, whatever their payload ---------------------------------------

HOSTILE = [
    None,
    True,
    2**64,
    -(2**70),
    1.5,
    float("inf"),
    "x" * 10_000,
    "\ud800",
    [],
    [1, [2, [3]]],
    {"nested": {"deep": [None]}},
]


def test_every_event_answers_any_payload_with_a_clear_error(app, evening):
    table = evening.tables[0]
    _, alice = phone(app, table)
    answers = []
    for value in HOSTILE:
        answers += [
            alice.emit("sync", value),
            alice.emit("sync", {"since": value}),
            alice.emit("write", value),
            alice.emit("write", envelope(value)),
            # a malformed client id: the envelope is written by hand
            alice.emit("write", {"op": "idea.post", "client_id": value, "data": {}}),
            alice.write("idea.post", value),
            alice.write("idea.post", {"text": value, "kind": value}),
            alice.write("idea.edit", {"target": value, "text": value}),
            alice.write("vote.cast", {"idea_id": value}),
            alice.write("intro.save", {"intro": value, "brings": value}),
            alice.write("commit.save", {"role": value, "hours_per_month": value}),
            alice.write("idea.post", {"text": "ok"}, base_seq=value),
            alice.emit("post_idea", value),  # an event of an older version
        ]
    assert all(isinstance(a, dict) and "ok" in a for a in answers), [
        a for a in answers if not (isinstance(a, dict) and "ok" in a)
    ]
    refused = [a for a in answers if not a["ok"]]
    # Refused for good, with a message a person can read; never "try again".
    assert refused and all(a["message"] for a in refused)
    assert [a for a in refused if not a["permanent"]] == []
    assert not any(a.get("error") == "server_error" for a in answers)
    texts = read(app, lambda s: list(s.scalars(select(Idea.text))))
    assert set(texts) == {"ok"}  # only the valid posts (whatever base_seq came with them)


def test_text_is_stored_composed_and_without_invisible_controls(app, evening):
    _, alice = phone(app, evening.tables[0])

    posted = alice.write("idea.post", {"text": "Cafe\u0301 \u202egnimmargorp\u202c\u200b ici"})

    assert posted["ok"]
    assert of_type(posted["changes"], "idea")[0]["text"] == "Café gnimmargorp ici"


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "participant",
        [1, 2],
        {"role": 2**64},
        {"role": "participant", "table": 2**64},
        {"role": "participant", "table": ["A"]},
        {"role": "facilitator", "secret": {"x": 1}},
        {"role": "organizer", "event": True},
        {"role": "organizer", "event": 2**70},
        {"role": "projector", "event": "\ud800"},
    ],
)
def test_a_malformed_connection_is_refused_and_the_server_goes_on(server, bystander, auth):
    client = socketio.Client(reconnection=False)
    refusals = []
    client.on("connect_error", refusals.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=5)
    assert refusals == [{"message": "unauthorized"}]
    assert still_serving(server, bystander)


def test_what_orjson_refuses_is_read_and_answered_as_before(server, bystander):
    """Packets are read and written with orjson (workshop/wire.py). What it
    refuses (a NaN, an infinite number, a lone surrogate) is read as the
    standard library reads it and answered: no packet dropped unanswered."""
    for data in (
        {"text": float("nan")},
        {"text": float("inf")},
        {"text": 2**70},
        {"text": "\ud800"},
        {"text": "x", "kind": -(2**80)},
    ):
        answer = bystander.write("idea.post", data)
        assert answer is not None and answer["ok"] is False and answer["message"], (data, answer)
    text = "Café à l’été « ünïcödé » ✓ 😀"
    posted = bystander.write("idea.post", {"text": text})
    assert of_type(posted["changes"], "idea")[0]["text"] == text
    assert still_serving(server, bystander)


def test_messages_of_every_length_reach_the_phone_whole(server, bystander):
    """The server frames what it sends itself (``transport.text_frame``):
    byte for byte what wsproto would send, for each of the three ways a
    frame gives its length; and a catch-up longer than 64 KB (the longest
    way) reaches a phone whole through the real server."""
    framer = FrameProtocol(client=False, extensions=[])
    for size in (0, 1, 125, 126, 65535, 65536, 70000):
        for text in ("a" * size, "é" * (size // 2), "😀" * (size // 4)):
            assert transport.text_frame(text) == bytes(framer.send_data(text, True)), size
    texts = [f"{n:03d} " + "è" * 390 for n in range(100)]  # 100 cards of 785 bytes
    for text in texts:
        assert bystander.write("idea.post", {"text": text})["ok"]
    caught = bystander.sync(0)
    assert set(texts) <= {idea.get("text") for idea in of_type(caught["changes"], "idea")}


def test_nothing_of_the_above_left_a_traceback(server):
    log = server.log_path.read_text()
    assert "Traceback" not in log, log[-3000:]


def test_text_made_only_of_invisible_characters_is_empty(app, evening):
    table = evening.tables[0]
    _, alice = phone(app, table)

    answer = alice.write("idea.post", {"text": "\u200b\u202e\u2066\x07 \ufeff"})

    assert answer["error"] == "empty"
    with app.app_context(), pytest.raises(ServiceError) as refused:
        live.join_table(db.session.get(Table, table.id), "\u200b\u200f\x00", "citizen")
    assert refused.value.code == "name_required"
