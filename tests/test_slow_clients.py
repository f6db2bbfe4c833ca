"""Slow and greedy clients against the real server (run.py, gevent): a
request's line and headers must arrive whole within HEADERS_TIMEOUT however
slowly they trickle in, and one address holds at most
MAX_CONNECTIONS_PER_ADDRESS connections, refused at once beyond it, while
every other address (and the phones already connected) goes on as usual.
The limits are short and small here so that the tests are quick."""

import http.client
import socket
import time

import pytest

from workshop.client import Client

from .helpers import Phone, join_over_http, make_evening, serve

HEADERS_TIMEOUT = 2  # seconds
MAX_CONNECTIONS = 6  # per address
# Other addresses of the loopback: other devices, for the server.
ELSEWHERE = "127.0.0.2"
GREEDY = "127.0.0.3"


@pytest.fixture(scope="module")
def slow_site(tmp_path_factory, migrated_database):
    """The server with short and small limits, and an open evening."""
    environment = {
        "HEADERS_TIMEOUT": str(HEADERS_TIMEOUT),
        "MAX_CONNECTIONS_PER_ADDRESS": str(MAX_CONNECTIONS),
        # Silence alone would never cut a trickling client in these tests.
        "READ_TIMEOUT": "60",
    }
    for server, app in serve(tmp_path_factory.mktemp("slow"), migrated_database, environment):
        yield server, make_evening(app)


def connect(server, source: str = "127.0.0.1") -> socket.socket:
    connection = socket.create_connection(
        ("127.0.0.1", server.port), timeout=10, source_address=(source, 0)
    )
    connection.settimeout(10)
    return connection


def home_page_status(server, source: str) -> int | None:
    """``GET /`` from the address ``source``: its status, None if the
    connection was closed without an answer."""
    page = http.client.HTTPConnection(
        "127.0.0.1", server.port, timeout=10, source_address=(source, 0)
    )
    try:
        page.request("GET", "/", headers={"Connection": "close"})
        return page.getresponse().status
    except (http.client.RemoteDisconnected, ConnectionError):
        return None
    finally:
        page.close()


def cut_while_trickling(connection: socket.socket, patience: float = 60) -> bool:
    """Send a request's head one byte at a time, a byte every 0.2 s, never
    silent for long; True once the server has closed the connection."""
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * 10_000
    connection.settimeout(0.2)
    deadline = time.monotonic() + patience
    try:
        for byte in head:
            if time.monotonic() > deadline:
                return False
            connection.sendall(bytes([byte]))
            try:
                if connection.recv(4096) == b"":
                    return True
            except TimeoutError:
                pass  # nothing yet: the next byte
        return False
    except ConnectionError:  # reset: closed by the server too
        return True
    finally:
        connection.close()


def console(server, table, source: str) -> Client:
    """A table's console over a WebSocket from the address ``source``."""
    return Client(
        server.url,
        {"role": "facilitator", "secret": table.facilitator_secret},
        reconnection=False,
        websocket_extra_options={"socket": connect(server, source)},
    )


def test_a_client_trickling_its_headers_is_cut_after_the_deadline(slow_site):
    server, _evening = slow_site
    trickler = connect(server, ELSEWHERE)

    assert cut_while_trickling(trickler)
    assert home_page_status(server, ELSEWHERE) == 200


def test_phones_stay_connected_past_the_headers_deadline(slow_site):
    """The deadline is for a request's head only: a phone's WebSocket, and a
    phone that can only long-poll, stay open and answered."""
    server, evening = slow_site
    table = evening.tables[0]
    http = join_over_http(server, table, "Alice")
    http.close()
    websocket = Phone(server, table, http)
    polling = Client(
        server.url,
        {"role": "facilitator", "secret": table.facilitator_secret},
        reconnection=False,
        transports=("polling",),
    )
    try:
        time.sleep(HEADERS_TIMEOUT * 2)  # past the deadline, many times over for a poll

        assert websocket.client.connected and polling.connected
        assert websocket.sync(0)["ok"]
        assert polling.sync(0)["ok"]
        assert not websocket.connects.acquire(timeout=0), "the phone had to reconnect"
    finally:
        websocket.client.disconnect()
        polling.disconnect()


def test_connections_beyond_the_cap_from_one_address_are_refused_at_once(slow_site):
    server, evening = slow_site
    table = evening.tables[1]
    # As many screens as the cap allows, all from one address.
    consoles = [console(server, table, GREEDY) for _ in range(MAX_CONNECTIONS)]
    try:
        # One more from that address: closed before any answer.
        assert home_page_status(server, GREEDY) is None
        # Another address is served; the screens already open go on.
        assert home_page_status(server, "127.0.0.1") == 200
        assert all(c.sync(0)["ok"] for c in consoles)
    finally:
        consoles.pop().disconnect()
    try:
        # Back under the cap, that address is served again (once the server
        # has seen the console leave).
        deadline = time.monotonic() + 30
        while home_page_status(server, GREEDY) != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert home_page_status(server, GREEDY) == 200
    finally:
        for client in consoles:
            client.disconnect()
    log = server.log_path.read_text()
    assert log.count(f"connections from {GREEDY}") == 1, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
