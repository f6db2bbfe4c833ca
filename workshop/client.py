"""The one Python client of the live protocol (DESIGN.md §6), for tests and
benches: what static/js/live/protocol.js does for the browser.

- every write gets a client id, in one envelope (``envelope``), and waits in
  an outbox until the server answers it; after a reconnect the outbox is
  sent again (the server answers a resend from its receipt);
- a refusal says whether retrying can help (``temporary``), and when
  (``retry_delay``);
- a screen remembers the last sequence number of each stream it follows
  (``Seqs``) and catches up from it on every (re)connect, and as soon as a
  push skipped a number.

The pieces without a socket also serve Flask-SocketIO's test client.
"""

import contextlib
import random
import threading
import uuid
from collections.abc import Callable

import socketio

ACK_TIMEOUT = 10  # seconds, as the phones wait for an answer
FIRST_DELAY = 0.2  # seconds before the first retry of a temporary refusal
MAX_DELAY = 5.0  # the phones' longest wait between reconnections
# No answer: none in time, or the connection dropped before it came.
DROPPED = (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError)


def new_client_id() -> str:
    """A fresh client id: the write's idempotency key with its actor."""
    return str(uuid.uuid4())


def envelope(op: str, data: dict | None = None, client_id: str | None = None, **extra) -> dict:
    """One write envelope ``{op, client_id, data}``; ``extra`` adds
    ``table_id`` (an organizer's write) or ``base_seq`` (a sheet's field)."""
    client_id = new_client_id() if client_id is None else client_id
    return {"op": op, "client_id": client_id, "data": data or {}, **extra}


def temporary(ack: dict | None) -> bool:
    """Whether sending the same write again may succeed: no answer at all,
    or a refusal the server calls temporary (too fast, database away)."""
    if ack is None:
        return True
    return not ack.get("ok") and ack.get("permanent") is False


def retry_delay(attempt: int, ack: dict | None = None) -> float:
    """Seconds before trying again: the server's ``retry_after`` when it
    gives one, else doubling from 0.2 s up to 5 s, with the phones' jitter
    (±50 %) so that a room of clients does not retry in step."""
    if ack and isinstance(ack.get("retry_after"), int | float):
        return float(ack["retry_after"])
    delay = min(MAX_DELAY, FIRST_DELAY * 2 ** max(0, attempt))
    return delay * random.uniform(0.5, 1.5)


class Seqs:
    """The sequence numbers known of each stream (a table, an evening), as
    static/js/live/store.js keeps them.

    Every number up to ``last(stream)`` is known; numbers seen past a hole
    wait aside until it is filled. A push whose first number is above
    ``last + 1`` skipped something: the screen must catch up from ``last``.
    """

    def __init__(self):
        self._last: dict[object, int] = {}
        self._beyond: dict[object, set[int]] = {}

    def last(self, stream=None) -> int:
        return self._last.get(stream, 0)

    def behind(self, stream=None) -> bool:
        """Whether numbers are missing below some this client has seen."""
        return bool(self._beyond.get(stream))

    def note(self, seq, stream=None) -> None:
        """One change's number."""
        last = self.last(stream)
        if not isinstance(seq, int) or seq <= last:
            return
        self._advance(stream, last, self._beyond.get(stream, set()) | {seq})

    def pushed(self, changes: list[dict], stream=None) -> bool:
        """Note a push's changes; True when numbers are missing before them."""
        for change in changes:
            self.note(change.get("seq"), stream)
        return self.behind(stream)

    def caught_up(self, answer: dict, stream=None) -> None:
        """A catch-up answer: everything up to its ``seq`` is known (only
        that after a ``reset``: a power cut lost numbers this client saw)."""
        if not answer.get("ok") or not isinstance(answer.get("seq"), int):
            return
        if answer.get("reset"):
            self._last[stream], self._beyond[stream] = 0, set()
        last = max(self.last(stream), answer["seq"])
        self._advance(stream, last, {seq for seq in self._beyond.get(stream, ()) if seq > last})

    def _advance(self, stream, last: int, beyond: set[int]) -> None:
        """Known up to ``last``, and ``beyond`` it: take in what follows on."""
        while last + 1 in beyond:
            beyond.discard(last + 1)
            last += 1
        self._last[stream], self._beyond[stream] = last, beyond


class Client:
    """A python-socketio client speaking the protocol.

    ``write`` sends through the outbox and returns the answer (None when
    none came: the write stays in the outbox). On every reconnect, the
    outbox is sent again; with ``follow``, the client also catches up on
    every (re)connect and whenever a push skipped a number. ``changes``
    holds every change received (pushes, answers, catch-ups), in order;
    ``pushes`` ({event name: handler}) hears other pushes from the start.
    """

    def __init__(
        self,
        url: str,
        auth: dict,
        *,
        headers: dict | None = None,
        follow: bool = False,
        reconnection: bool = True,
        on_changes: Callable[[list[dict]], None] | None = None,
        pushes: dict[str, Callable] | None = None,
        transports: tuple[str, ...] = ("websocket",),
        wait_timeout: float = 10,
        **options,
    ):
        self.url = url
        self.follow = follow
        self.on_changes = on_changes
        self.seqs = Seqs()
        self.outbox: dict[str, dict] = {}  # client id -> envelope, in order
        self.changes: list[dict] = []
        self.connects = threading.Semaphore(0)  # released at every (re)connect
        self.synced = threading.Event()  # set at every catch-up answer
        self._lock = threading.Lock()
        self._connected_once = False
        options = {"reconnection_delay": 0.2, "reconnection_delay_max": 1, **options}
        self.sio = socketio.Client(reconnection=reconnection, **options)
        self.sio.on("connect", self._on_connect)
        self.sio.on("changes", self._on_changes)
        for name, handler in (pushes or {}).items():
            self.sio.on(name, handler)
        self.sio.connect(
            url,
            headers=headers or {},
            auth=auth,
            transports=list(transports),
            wait_timeout=wait_timeout,
        )

    # --- calls -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.sio.connected

    def call(self, event: str, data=None, timeout: float = ACK_TIMEOUT):
        """Emit ``event`` and wait for its answer."""
        return self.sio.call(event, data, timeout=timeout)

    def emit(self, event: str, data=None) -> None:
        self.sio.emit(event, data)

    def write(self, op, data=None, client_id=None, timeout=ACK_TIMEOUT, **extra) -> dict | None:
        """Send one write through the outbox; its answer, or None without one
        (disconnected, no answer in time): it is then sent again later."""
        item = envelope(op, data, client_id, **extra)
        with self._lock:
            self.outbox[item["client_id"]] = item
        return self._send(item, timeout)

    def _send(self, item: dict, timeout: float) -> dict | None:
        try:
            answer = self.call("write", item, timeout=timeout)
        except DROPPED:
            return None
        if not temporary(answer):  # answered for good: ok, or refused for good
            with self._lock:
                self.outbox.pop(item["client_id"], None)
            if answer.get("ok"):
                self._received(answer.get("changes") or [])
        return answer

    def resend(self, timeout: float = ACK_TIMEOUT) -> list[dict | None]:
        """Send every write still in the outbox again, in order; the answers."""
        with self._lock:
            waiting = list(self.outbox.values())
        return [self._send(item, timeout) for item in waiting]

    def sync(self, since: int | None = None, stream=None, **asked) -> dict:
        """Catch up from ``since`` (default: the last number known)."""
        since = self.seqs.last(stream) if since is None else since
        answer = self.call("sync", {"since": since, **asked})
        if answer and answer.get("ok"):
            self._received(answer.get("changes") or [], push=False)
            # From above the last number known, those below it are still unknown.
            if isinstance(since, int) and since <= self.seqs.last(stream):
                self.seqs.caught_up(answer, stream)
            self.synced.set()
        return answer

    def disconnect(self) -> None:
        self.sio.disconnect()

    # --- events ------------------------------------------------------------------

    def _received(self, changes: list[dict], push: bool = True) -> bool:
        """Keep changes; True when a push skipped a number."""
        with self._lock:
            self.changes.extend(changes)
        return self.seqs.pushed(changes) if push else False

    def _on_connect(self):
        again = self._connected_once
        self._connected_once = True
        # Not in the reader's thread: the answers arrive through it.
        self.sio.start_background_task(self._after_connect, again)

    def _after_connect(self, again: bool):
        try:
            if self.follow:
                self.sync()
            if again:
                self.resend()
        except DROPPED:
            pass  # dropped again meanwhile: the next connect does it
        finally:
            self.connects.release()

    def _on_changes(self, push):
        changes = (push or {}).get("changes") or []
        gap = self._received(changes)
        if self.on_changes:
            self.on_changes(changes)
        if gap and self.follow:
            self.sio.start_background_task(self._catch_up_quietly)

    def _catch_up_quietly(self):
        with contextlib.suppress(*DROPPED):  # the next connect catches up
            self.sync()
