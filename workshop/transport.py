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

Last, what every message costs the stack at a hall's load (DESIGN.md §11,
measured with bench/live_load.py --compare): a socket event's request
context made once per connection (:class:`App`), each push framed directly
(:func:`text_frame`), and the WebSocket writer waiting for its next packet
without a timer (:class:`_Socket`).
"""

import contextlib
import logging
import os
import re
import resource
import struct
import threading
import time
from collections import Counter

import engineio.server
import engineio.socket
import gevent
import simple_websocket.ws
from flask import Flask, abort
from flask.ctx import RequestContext
from flask.signals import request_tearing_down
from gevent import pywsgi
from wsproto.connection import ConnectionState
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


class App(Flask):
    """Flask, with what a Socket.IO event's request context needs made once
    per connection.

    Flask-SocketIO pushes a request context for every event of a connection,
    on the environ of the connection's first request, and Flask would make a
    request object of that environ each time, open the session (the cookie
    parsed and its signature checked, then thrown away: Flask-SocketIO puts
    in the copy it made at connection, ``saved_session`` in the environ),
    bind its URL map to the environ (the host parsed and checked, a
    ``MapAdapter`` made) and match its path against every route: together a
    tenth of the server's time at a hall's load. The environ never changes,
    so neither would any of these: once the connection is established (its
    session copied), they are kept in the environ.
    """

    def request_context(self, environ):
        session = environ.get("saved_session")
        if session is None:  # an HTTP request, or a connection's first event
            return super().request_context(environ)
        request = environ.get(SOCKET_REQUEST)
        if request is None:
            request = environ[SOCKET_REQUEST] = self.request_class(environ)
            request.json_module = self.json
        return RequestContext(self, environ, request=request, session=session)

    def do_teardown_request(self, *args, **kwargs):
        # Every socket event pops a request context: with no teardown_request
        # function registered and no one listening for the signal, finding
        # the request's blueprints and sending a signal to no one is all
        # Flask would do.
        if self.teardown_request_funcs or request_tearing_down.receivers:
            super().do_teardown_request(*args, **kwargs)

    def create_url_adapter(self, request):
        environ = request.environ if request is not None else None
        if environ is None or "saved_session" not in environ:
            return super().create_url_adapter(request)
        adapter = environ.get(URL_ADAPTER)
        if adapter is None:
            adapter = super().create_url_adapter(request)
            if adapter is not None:
                adapter = environ[URL_ADAPTER] = _MatchedOnce(adapter)
        return adapter


class _MatchedOnce:
    """A connection's URL adapter whose path is matched once: the same
    answer every time (the path and its route never change); building URLs
    goes to the adapter itself."""

    def __init__(self, adapter):
        self._adapter = adapter
        self._matched = None

    def match(self, *args, **kwargs):
        if args or kwargs != {"return_rule": True}:  # not Flask's own match of the path
            return self._adapter.match(*args, **kwargs)
        if self._matched is None:
            self._matched = self._adapter.match(return_rule=True)
        return self._matched

    def __getattr__(self, name):
        return getattr(self._adapter, name)


URL_ADAPTER = "workshop.url_adapter"
SOCKET_REQUEST = "workshop.request"


def harden(app, socketio) -> None:
    """Apply these limits to the app and its Socket.IO server (after ``init_app``)."""
    if "socket_io_events" not in app.view_functions:
        # Flask-SocketIO runs every event in a request context for the
        # connection's first request (/socket.io/), which no route matches:
        # Flask would raise and keep a NotFound at every event, its traceback
        # holding the whole context until the garbage collector finds it (a
        # tenth of the server's time at a hall's load went to collecting).
        # Never served: the Socket.IO middleware answers that path before Flask.
        path = socketio.server_options.get("path", "socket.io").strip("/")
        for websocket in (False, True):  # long-polling's first request, or a WebSocket's
            endpoint = "socket_io_websocket" if websocket else "socket_io_events"
            app.add_url_rule(
                f"/{path}/", endpoint, lambda: abort(404), websocket=websocket, strict_slashes=False
            )
    if not isinstance(app.wsgi_app, SocketBodyLimit):
        app.wsgi_app = SocketBodyLimit(app.wsgi_app)
    logging.getLogger("engineio.server").addFilter(_SilentClients())
    simple_websocket.ws.PerMessageDeflate = _DeclinedDeflate
    engineio.server.socket.Socket = _Socket  # see _Socket
    eio = socketio.server.eio
    websocket = eio._async.get("websocket")
    if websocket is None or getattr(websocket, "limited", False):
        return

    class LimitedWebSocket(websocket):
        limited = True

        def __init__(self, handler, server):
            super().__init__(handler, server)
            self.server_args = {**self.server_args, "max_message_size": MAX_MESSAGE}

        def send(self, message):
            # Every push leaves here, a frame per phone: framed directly,
            # as wsproto would (a server's text frames are unmasked and,
            # compression declined, carry no extension), without its
            # generic path, a twentieth of the server's time at a hall's load.
            # Anything else (bytes, a connection closing) goes through wsproto.
            ws = self.ws
            if isinstance(message, str) and ws.connected and _plain_frames(ws.ws.connection):
                ws.sock.send(text_frame(message))
                return None
            return super().send(message)

    eio._async = {**eio._async, "websocket": LimitedWebSocket}


class _Socket(engineio.socket.Socket):
    """Engine.IO's socket, whose WebSocket writer waits for its next packet
    without a timer.

    Engine.IO waits for a socket's next packet at most a ping interval and
    timeout, for a long-polling request; its WebSocket writer waits the same
    way, arming and cancelling a timer for every message it sends (a
    twentieth of the server's time at a hall's load). That writer never
    needs the timer: the end of the connection, whichever way (the reader's
    end, a ping timeout, a close), always sends it ``None``, and pings keep
    coming meanwhile. Long-polling is unchanged.
    """

    def poll(self):
        if not self.upgraded:
            return super().poll()
        first = self.queue.get()
        self.queue.task_done()
        if first is None:
            return []
        packets = [first]
        while True:  # what queued up meanwhile goes with it, as Engine.IO does
            try:
                pkt = self.queue.get(block=False)
            except self.server.get_queue_empty_exception():
                return packets
            self.queue.task_done()
            if pkt is None:
                self.queue.put(None)  # for the next poll: the connection ends
                return packets
            packets.append(pkt)


def _plain_frames(connection) -> bool:
    """Whether wsproto's ``connection`` is open, sends frames without
    extension and is not inside a fragmented message (which a frame of its
    own would break). Unknown (another wsproto): no."""
    proto = getattr(connection, "_proto", None)
    return (
        connection is not None
        and connection.state is ConnectionState.OPEN
        and getattr(proto, "_outbound_opcode", "unknown") is None
        and getattr(proto, "extensions", None) == []
    )


def text_frame(text: str) -> bytes:
    """A complete WebSocket text frame from a server (RFC 6455 §5.2)."""
    payload = text.encode("utf-8")
    size = len(payload)
    if size <= 125:
        return bytes((0x81, size)) + payload
    if size <= 0xFFFF:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload


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

    def run_application(self):
        if self.environ.get("HTTP_UPGRADE", "").lower() != "websocket":
            return super().run_application()
        # A WebSocket reads a copy of this socket, made with its timeout:
        # made without, since Engine.IO's pings judge an open WebSocket's
        # silence, and a timeout costs a timer at every read of every phone.
        self.socket.settimeout(None)
        try:
            return super().run_application()
        finally:  # a request after it on this connection is timed again
            self.socket.settimeout(READ_TIMEOUT)


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


# Table-scoped pushes stay in the process that holds the table's screens
# (DESIGN.md §9: the proxy routes each table to one process); "0" sends every
# push through Redis to every process, as python-socketio does by itself.
LOCAL_TABLES = os.environ.get("SOCKETIO_LOCAL_TABLES", "1") != "0"
# Seconds between this process's notes on the message queue: the tables it
# holds, and a check that its own notes come back (the subscription works).
QUEUE_CHECK_INTERVAL = float(os.environ.get("QUEUE_CHECK_INTERVAL", "5"))
_NOTE = b"~"  # starts our own notes on the channel; python-socketio's messages are JSON


def _table_key(room) -> str | None:
    """The table id of a ``table:<id>`` or ``console:<id>`` room, else None."""
    if isinstance(room, str):
        kind, _, key = room.partition(":")
        if kind in ("table", "console"):
            return key
    return None


def _alive(thread) -> bool:
    """Whether a background task (a thread, or gevent's greenlet) still runs."""
    if thread is None:
        return False
    if hasattr(thread, "is_alive"):
        return thread.is_alive()
    return not getattr(thread, "dead", False)


class IndexedRooms:
    """Socket.IO's rooms, with each connection's own list of them.

    python-socketio finds the rooms of a connection that leaves by looking
    through every room of the namespace (a copy of them, at that): at a
    venue, a table's room, a room per participant and one per connection,
    over four thousand for 2,000 phones, for each of the hundreds of phones
    that drop and come back. Here each connection's rooms are kept as it
    enters and leaves them, and leaving looks only at those.
    """

    def _rooms_of(self) -> dict:
        try:
            return self._sid_rooms
        except AttributeError:
            self._sid_rooms: dict[tuple, set] = {}
            return self._sid_rooms

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._rooms_of().setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        rooms = self._rooms_of().get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of()[(namespace, sid)]

    def get_rooms(self, sid, namespace):
        return [room for room in self._rooms_of().get((namespace, sid), ()) if room is not None]

    def basic_disconnect(self, sid, namespace, **kwargs):
        # The library's own, with the look through every room replaced by the list kept.
        for room in list(self._rooms_of().get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if sid in pending.get(namespace, ()):
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]


def local_manager():
    """Socket.IO's client manager for one process (no message queue)."""
    from socketio.manager import Manager

    class IndexedManager(IndexedRooms, Manager):
        pass

    return IndexedManager()


def _redis_manager_class():
    import socketio
    from socketio.manager import Manager

    class RoutedRedisManager(IndexedRooms, socketio.RedisManager):
        """python-socketio's Redis manager, where a table's pushes stay home.

        Behind a proxy that routes every table to one process (by its join
        code, deploy/nginx.conf), the screens of a table are all in the
        process that takes its writes: a push to a table's ``table:`` or
        ``console:`` room is delivered here only when this process holds the
        table (a phone or its console is here) and no other process said it
        holds screens of it; to a ``participant:`` room or one connection,
        when it has a member here. Everything else (organizers, projector, sign-ins, a
        write made where the table is not held, a table split between two
        processes for a while after a failover) goes through Redis to every
        process, as before. So adding processes adds capacity: a post costs
        one process, not all.

        Each process tells the others which tables it holds: at once when a
        table's first screen arrives, and every ``QUEUE_CHECK_INTERVAL``
        seconds. That periodic note also checks the subscription: when this
        process stops hearing its own notes back, it reconnects the
        subscription (or restarts a listener that died) and logs it; every
        loss and every new subscription is logged too.
        """

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.elsewhere: dict[str, float] = {}  # table id -> held elsewhere until (monotonic)
            self.pending: set[str] = set()  # tables to announce at once
            self.wake = threading.Event()
            self.heard = time.monotonic()  # when our own note last came back
            self.deaf_since: float | None = None
            self.subscriber = None  # the listener's PubSub, its own connection
            self.notes = None  # a Redis client of its own for the notes

        def initialize(self):
            super().initialize()
            if not self.write_only:
                self.server.start_background_task(self._watch)

        # --- where a push goes -------------------------------------------------

        def emit(
            self,
            event,
            data,
            namespace=None,
            room=None,
            skip_sid=None,
            callback=None,
            to=None,
            **kwargs,
        ):
            room = to or room
            namespace = namespace or "/"
            if (
                not kwargs.get("ignore_queue")
                and callback is None
                and self._only_here(namespace, room)
            ):
                return Manager.emit(self, event, data, namespace, room=room, skip_sid=skip_sid)
            return super().emit(
                event,
                data,
                namespace=namespace,
                room=room,
                skip_sid=skip_sid,
                callback=callback,
                **kwargs,
            )

        def _only_here(self, namespace: str, room) -> bool:
            if not LOCAL_TABLES or not isinstance(room, str):
                return False
            rooms = self.rooms.get(namespace, {})
            key = _table_key(room)
            if key is not None:
                # Held here (a phone or the console of the table): its other
                # screens are here too, or will come here, unless another
                # process said it holds some.
                if not (rooms.get(f"table:{key}") or rooms.get(f"console:{key}")):
                    return False
                until = self.elsewhere.get(key)
                return until is None or until < time.monotonic()
            if not rooms.get(room):
                return False  # no screen here: wherever they are, Redis finds them
            # A participant's own tabs are at its table's process; a
            # connection is in one process only.
            return room.startswith("participant:") or room in rooms.get(None, {})

        def enter_room(self, sid, namespace, room, eio_sid=None):
            key = _table_key(room)
            first = key is not None and not self.rooms.get(namespace, {}).get(room)
            super().enter_room(sid, namespace, room, eio_sid=eio_sid)
            if first and self.rooms.get(namespace, {}).get(room):
                # Sent by the watcher: a connection never waits for Redis.
                self.pending.add(key)
                self.wake.set()

        def held_here(self) -> set[str]:
            """Ids of the tables with a screen in this process."""
            held = set()
            for rooms in list(self.rooms.values()):
                for room, members in list(rooms.items()):
                    key = _table_key(room)
                    if key is not None and members:
                        held.add(key)
            return held

        # --- notes between processes, and the subscription's health ------------

        def _watch(self):
            next_round = time.monotonic()
            while True:
                self.wake.wait(max(0.0, next_round - time.monotonic()))
                self.wake.clear()
                try:
                    now = time.monotonic()
                    if now >= next_round:
                        next_round = now + QUEUE_CHECK_INTERVAL
                        self._check(now)
                        self.pending.clear()
                        self._note(self.held_here())
                    elif self.pending:
                        keys, self.pending = self.pending, set()
                        self._note(keys)
                except Exception:  # the next round tries again
                    log.exception("message queue: watching the subscription failed")

        def _note(self, keys) -> None:
            import json

            payload = json.dumps({"host": self.host_id, "held": sorted(keys)})
            try:
                if self.notes is None:
                    self.notes = self._get_redis_module().Redis.from_url(
                        self.redis_url, **self.redis_options
                    )
                self.notes.publish(self.channel, _NOTE + payload.encode())
            except Exception:  # Redis away: the check below notices, once
                pass

        def _heard(self, raw: bytes) -> None:
            import json

            note = json.loads(raw)
            now = time.monotonic()
            if note.get("host") == self.host_id:
                self.heard = now
                if self.deaf_since is not None:
                    log.warning(
                        "message queue: this process hears its notes again, after %.0f s",
                        now - self.deaf_since,
                    )
                    self.deaf_since = None
                return
            held_here = None
            for key in note.get("held", ()):
                if self.elsewhere.get(key, 0) < now:  # new to us: say if we hold it too
                    held_here = self.held_here() if held_here is None else held_here
                    if key in held_here:
                        self.pending.add(key)
                        self.wake.set()
                self.elsewhere[key] = now + 3 * QUEUE_CHECK_INTERVAL
            if len(self.elsewhere) > 1000:  # forget the tables of evenings gone
                self.elsewhere = {k: t for k, t in self.elsewhere.items() if t >= now}

        def _check(self, now: float) -> None:
            silent = now - self.heard
            if silent <= 3 * QUEUE_CHECK_INTERVAL:
                return
            if self.deaf_since is None:
                self.deaf_since = self.heard
                log.warning(
                    "message queue: this process has not heard its own notes for %.0f s; "
                    "reconnecting its subscription",
                    silent,
                )
            if not _alive(getattr(self, "thread", None)):
                log.error("message queue: the listener had stopped; started again")
                self.thread = self.server.start_background_task(self._thread)
            elif self.subscriber is not None:
                with contextlib.suppress(Exception):
                    self.subscriber.reset()  # the listener fails, and subscribes again

        def _listen(self):
            for data in super()._listen():
                if isinstance(data, bytes) and data.startswith(_NOTE):
                    try:
                        self._heard(data[1:])
                    except Exception:
                        log.exception("message queue: a note could not be read")
                else:
                    yield data

        def _redis_listen_with_retries(self):
            # python-socketio's, with a subscription of its own (a publish
            # that reconnects never swaps it under the listener), a log line
            # at every loss and every new subscription, and retries at most
            # 10 s apart so a Redis back after a long outage is heard soon.
            retry, lost_at = 1, None
            while True:
                try:
                    redis = self._get_redis_module().Redis.from_url(
                        self.redis_url, **self.redis_options
                    )
                    self.subscriber = redis.pubsub()
                    self.subscriber.subscribe(self.channel)
                    for message in self.subscriber.listen():
                        if message["type"] != "subscribe":
                            yield message
                        elif lost_at is None:  # Redis confirmed it: logged only then
                            log.info("message queue: subscribed to %s", self.channel)
                        else:
                            log.warning(
                                "message queue: subscribed again to %s, %.0f s after losing it",
                                self.channel,
                                time.monotonic() - lost_at,
                            )
                            retry, lost_at = 1, None
                    raise ConnectionError("the subscription ended")  # never silently
                except Exception as exc:
                    if lost_at is None:
                        lost_at = time.monotonic()
                        log.warning("message queue: subscription lost (%s); reconnecting", exc)
                    if self.subscriber is not None:
                        with contextlib.suppress(Exception):
                            self.subscriber.close()
                    time.sleep(retry)
                    retry = min(retry * 2, 10)

    return RoutedRedisManager


def message_queue(config) -> dict:
    """Socket.IO's client manager for a Redis message queue, with timeouts:
    a Redis that stops answering (a network cut, not only a stop) fails a
    publish within seconds instead of holding the task that sends pushes for
    ever, and the listener notices and reconnects (it pings every few
    seconds, so a quiet channel never looks like a dead one). Table pushes
    stay in their process (:func:`_redis_manager_class`). Without one, the
    manager of one process, with rooms indexed by connection (:class:`IndexedRooms`)."""
    url = config.get("SOCKETIO_MESSAGE_QUEUE")
    if not url or not url.startswith(("redis://", "rediss://")):
        return {"client_manager": local_manager()}
    channel = config["SOCKETIO_CHANNEL"]
    name = re.sub(r"[^\w.:-]", "_", channel)  # Redis refuses spaces in a client's name
    manager = _redis_manager_class()(
        url,
        channel=channel,
        redis_options={
            "socket_timeout": 5,
            "socket_connect_timeout": 5,
            "health_check_interval": 2,
            "socket_keepalive": True,
            # Who is who in Redis's CLIENT LIST: the deployment and the process.
            "client_name": f"{name}:{os.getpid()}",
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
