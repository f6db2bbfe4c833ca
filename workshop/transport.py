"""The Socket.IO transports, hardened for a venue's Wi-Fi (DESIGN.md §7, §11).

Under gevent, Engine.IO's WebSocket server is simple-websocket, which
always accepts permessage-deflate and checks a message's size only once it
is whole and inflated: a few kilobytes of compressed zeros inflate to tens of
megabytes and freeze the loop for every table. Our messages are small JSON
(a write envelope is well under 10 KB), so:

- compression is declined. Phones send uncompressed frames, whose size is
  checked as they arrive; and the server no longer deflates every push for
  every phone, which cost CPU at every write;
- a WebSocket message is refused (the connection closed) as soon as its
  frames pass ``MAX_MESSAGE`` bytes, as a polling request's body is by
  Engine.IO's ``max_http_buffer_size`` before it is read.

Neither library offers these as options: the two hooks below are the
smallest change that gives them, in one place.

And the HTTP server (gevent's) waits forever for a request that never
comes, a request's head sent a byte at a time or a body announced and never
sent, each holding a connection and a file descriptor: a few hundred of them
and the server refuses everyone. :class:`TimedHandler` gives up on a client
silent for ``READ_TIMEOUT`` seconds, on a request whose line and headers are
not whole ``HEADERS_TIMEOUT`` seconds after the server started waiting for
them (however the bytes trickle in), and refuses a connection at once when
its address already holds its share. An open WebSocket is not concerned: it
reads on its own socket, and Engine.IO's pings close a silent one.
"""

import logging
import os
import resource
from collections import Counter

import gevent
import simple_websocket.ws
from gevent import pywsgi
from wsproto.extensions import PerMessageDeflate

MAX_MESSAGE = 64 * 1024  # bytes: a write envelope, a catch-up request…
READ_TIMEOUT = float(os.environ.get("READ_TIMEOUT", "20"))  # seconds a client may stay silent
# Seconds to send a request's line and headers, however slowly: a phone sends
# them in one packet; a slow client trickling them holds a connection.
HEADERS_TIMEOUT = float(os.environ.get("HEADERS_TIMEOUT", "15"))

log = logging.getLogger(__name__)


class _DeclinedDeflate(PerMessageDeflate):
    """permessage-deflate, offered by every browser, declined by this server."""

    def accept(self, offer):
        return None


class _SilentClients(logging.Filter):
    """A client gone silent in the middle of a request is dropped (see
    :class:`TimedHandler`): one line in the log, not a traceback."""

    def filter(self, record):
        if record.exc_info and isinstance(record.exc_info[1], TimeoutError):
            record.msg, record.args = "client silent mid-request: dropped", ()
            record.exc_info = None
            record.levelno, record.levelname = logging.INFO, "INFO"  # routine, not an error
        return True


class SocketBodyLimit:
    """WSGI middleware: a Socket.IO polling request announcing a body over
    ``MAX_MESSAGE`` is answered 413 at once, before anything reads it.

    Engine.IO refuses it too, but then closes the session and waits for a
    poll to carry the news: a request without a poll behind it (a crafted
    one) would hang there for good, holding its connection."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/socket.io"):
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = MAX_MESSAGE + 1
            if length > MAX_MESSAGE:
                start_response(
                    "413 Payload Too Large",
                    [("Content-Type", "text/plain; charset=utf-8"), ("Connection", "close")],
                )
                return [b"Message too large."]
        return self.app(environ, start_response)


def harden(app, socketio) -> None:
    """Apply these limits to the app and its Socket.IO server (after ``init_app``)."""
    if not isinstance(app.wsgi_app, SocketBodyLimit):
        app.wsgi_app = SocketBodyLimit(app.wsgi_app)
    logging.getLogger("engineio.server").addFilter(_SilentClients())
    simple_websocket.ws.PerMessageDeflate = _DeclinedDeflate
    eio = socketio.server.eio
    websocket = eio._async.get("websocket")
    if websocket is None or getattr(websocket, "limited", False):
        return

    class LimitedWebSocket(websocket):
        limited = True

        def __init__(self, handler, server):
            super().__init__(handler, server)
            self.server_args = {**self.server_args, "max_message_size": MAX_MESSAGE}

    eio._async = {**eio._async, "websocket": LimitedWebSocket}


class TimedHandler(pywsgi.WSGIHandler):
    """gevent's request handler, giving up on a client silent for
    ``READ_TIMEOUT`` or slower than ``HEADERS_TIMEOUT`` to send a request's
    head, and refusing a connection beyond ``max_per_address`` from one
    address (0: no limit; see :meth:`capped`)."""

    max_per_address = 0
    _open: Counter = Counter()  # connections open per address, in this process
    _refusing: set = set()  # addresses refused since their last connection closed

    @classmethod
    def capped(cls, max_per_address: int) -> type["TimedHandler"]:
        """This handler, allowing ``max_per_address`` connections per address."""
        return type(cls.__name__, (cls,), {"max_per_address": max_per_address})

    def handle(self):
        address = self.client_address[0] if isinstance(self.client_address, tuple) else ""
        if self.max_per_address and self._open[address] >= self.max_per_address:
            self._refuse(address)
            return
        self._open[address] += 1
        try:
            self.socket.settimeout(READ_TIMEOUT)
            super().handle()
        finally:
            self._open[address] -= 1
            if not self._open[address]:
                del self._open[address]
                self._refusing.discard(address)

    def _refuse(self, address: str) -> None:
        # Closed before anything is read: it costs nothing more. One line in
        # the log per episode, not one per connection of a flood.
        if address not in self._refusing:
            self._refusing.add(address)
            log.warning(
                "%d connections from %s, the most allowed per address "
                "(MAX_CONNECTIONS_PER_ADDRESS): further ones refused",
                self.max_per_address,
                address,
            )
        self.rfile.close()  # the file and the socket both hold the descriptor
        self.socket.close()

    def handle_one_request(self):
        # The deadline counts from the moment the server waits for the
        # request, not from the last byte received, and only until its head
        # is read (read_request): the application's time is not the client's.
        self._head_deadline = gevent.Timeout.start_new(HEADERS_TIMEOUT)
        try:
            return super().handle_one_request()
        except gevent.Timeout as timeout:
            if timeout is not self._head_deadline:
                raise
            return None  # too slow: the connection is closed
        finally:
            self._head_deadline.cancel()

    def read_request(self, raw_requestline):
        try:
            return super().read_request(raw_requestline)
        finally:
            self._head_deadline.cancel()


def raise_open_files_limit(getrlimit=resource.getrlimit, setrlimit=resource.setrlimit) -> int:
    """Raise this process's open-file limit to the most allowed: each phone
    holds a connection, and laptops often start at 256 or 1,024. Returns it.

    Where the hard limit is unlimited (macOS), the most allowed is a
    setting of the system (kern.maxfilesperproc, often 10,240 or 24,576)
    that refuses more: the largest value it accepts is searched for, by
    halves between the current limit and the one wanted. (``getrlimit``
    and ``setrlimit`` are the ``resource`` module's, or a test's.)"""
    soft, hard = getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)

    def accepts(limit: int) -> bool:
        try:
            setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
            return True
        except (ValueError, OSError):
            return False

    if soft >= wanted or accepts(wanted):
        return max(soft, wanted)
    accepted, refused = soft, wanted  # the limit set is always the last accepted
    while refused - accepted > 1:
        middle = (accepted + refused) // 2
        if accepts(middle):
            accepted = middle
        else:
            refused = middle
    return accepted


def message_queue(config) -> dict:
    """Socket.IO's client manager for a Redis message queue, with timeouts:
    a Redis that stops answering (a network cut, not only a stop) fails a
    publish within seconds instead of holding the task that sends pushes for
    ever, and the listener notices and reconnects (it pings every few
    seconds, so a quiet channel never looks like a dead one)."""
    url = config.get("SOCKETIO_MESSAGE_QUEUE")
    if not url or not url.startswith(("redis://", "rediss://")):
        return {}
    import socketio

    manager = socketio.RedisManager(
        url,
        channel=config["SOCKETIO_CHANNEL"],
        redis_options={
            "socket_timeout": 5,
            "socket_connect_timeout": 5,
            "health_check_interval": 2,
            "socket_keepalive": True,
        },
    )
    return {"client_manager": manager}


def listen_from_start(socketio) -> None:
    """Subscribe to the message queue now, not at the first connection
    (python-socketio's default): a phone's first connection to this process
    would otherwise race the subscription, and a change published from
    another process in between would never reach it live."""
    server = socketio.server
    if not server.manager_initialized:
        server.manager_initialized = True
        server.manager.initialize()
