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
comes or a body announced and never sent, each holding a connection and a
file descriptor: a few hundred of them and the server refuses everyone.
:class:`TimedHandler` gives up on a silent client after ``READ_TIMEOUT``
seconds. An open WebSocket is not concerned: it reads on its own socket,
and Engine.IO's pings close a silent one.
"""

import logging
import os
import resource

import simple_websocket.ws
from gevent import pywsgi
from wsproto.extensions import PerMessageDeflate

MAX_MESSAGE = 64 * 1024  # bytes: a write envelope, a catch-up request…
READ_TIMEOUT = float(os.environ.get("READ_TIMEOUT", "20"))  # seconds a client may stay silent


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
    """gevent's request handler, giving up on a client silent for ``READ_TIMEOUT``."""

    def handle(self):
        self.socket.settimeout(READ_TIMEOUT)
        super().handle()


def raise_open_files_limit() -> int:
    """Raise this process's open-file limit to the most allowed: each phone
    holds a connection, and laptops often start at 256 or 1,024. Returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # kept as it was; the start-up message says how many
    return soft


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
