"""Test helpers in the manner of CTFd's: small factories on the real database,
and a real server process for end-to-end tests."""

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
import socketio
from flask import current_app, has_app_context
from flask.testing import FlaskClient

from workshop import create_app
from workshop.client import Client, Seqs, envelope
from workshop.client import new_client_id as new_client_id  # the tests take it from here
from workshop.extensions import db
from workshop.extensions import socketio as server_socketio
from workshop.models import Challenge, Organizer, Table, Territory
from workshop.services import accounts, events, live

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
# Tests only: one round of PBKDF2 instead of scrypt's deliberate slowness
# (production keeps scrypt, see workshop/config.py).
FAST_PASSWORD_HASH = "pbkdf2:sha256:1"
# How long a test server may take to answer its first request: long enough
# for a machine shared by many test runs; a server that exits fails at once.
SERVER_START_TIMEOUT = float(os.environ.get("TEST_SERVER_START_TIMEOUT", "120"))


def of_type(changes, kind) -> list[dict]:
    """The changes of one type (``table``, ``step``, ``idea``…), in order."""
    return [c for c in changes if c["type"] == kind]


def script(changes) -> list[dict]:
    """A table's steps in order, as a screen rebuilds them from a catch-up
    (each step is an entity of its own; the table lists their ids)."""
    table = of_type(changes, "table")[-1]
    steps = {step["id"]: step for step in of_type(changes, "step")}
    return [steps[step_id] for step_id in table["step_ids"]]


# A territory's public-body settings, as an organizer fills them in.
PUBLIC_BODY = {
    "public": {
        "controller": "Mairie de Testville",
        "controller_contact": "mairie@testville.example",
        "dpo_contact": "dpo@testville.example",
        "body": "Mairie de Testville",
        "accessibility_contact": "accessibilite@testville.example",
    }
}


def make_organizer(email="orga@example.org", territory_name="Pays test") -> Organizer:
    """An organizer with their own territory (its data controller named:
    an evening opens only then)."""
    territory = Territory(name=territory_name, population=10000, settings=PUBLIC_BODY)
    db.session.add(territory)
    organizer = accounts.create_organizer("Orga", email, PASSWORD, territory)
    db.session.commit()
    return organizer


def make_event(organizer: Organizer, title="Soirée test", tables=2):
    """An open event of the organizer's first territory, with ``tables`` tables."""
    event = events.create_event(organizer, organizer.territories[0], title, None, "Salle")
    for n in range(tables):
        events.add_table(
            organizer,
            event,
            name=f"Table {n + 1}",
            challenge=Challenge.creative,
            brief_title=f"Question {n + 1}",
            brief="Contexte et question.",
        )
    events.update_event(organizer, event, status="live")
    return event


def join(table, name="Alice", category="citizen"):
    """A participant of ``table`` and its token."""
    return live.join_table(table, name, category)


@dataclass(frozen=True)
class TableRef:
    """What a test needs to reach a table, without holding a session."""

    id: int
    number: int
    join_code: str
    facilitator_secret: str
    event_id: int


@dataclass(frozen=True)
class Evening:
    event_id: int
    join_code: str
    organizer_id: int
    tables: list[TableRef] = field(default_factory=list)


def table_ref(table) -> TableRef:
    return TableRef(
        table.id, table.number, table.join_code, table.facilitator_secret, table.event_id
    )


def make_evening(app, tables=2, email="orga@example.org") -> Evening:
    """An organizer and their open evening, made in a context of its own."""
    with app.app_context():
        organizer = make_organizer(email) if email else None
        event = make_event(organizer, tables=tables)
        evening = Evening(
            event.id, event.join_code, organizer.id, [table_ref(t) for t in event.tables]
        )
        db.session.remove()
    return evening


def read(app, query):
    """Run ``query(session)`` in a fresh app context: what is really committed."""
    with app.app_context():
        try:
            return query(db.session)
        finally:
            db.session.remove()


def committed(query):
    """``read`` for a test that holds an app context (tests of services): the
    query runs in a context and session of its own, so it sees what the
    services committed, not what the test's session only flushed."""
    return read(current_app._get_current_object(), query)


def prepare(app, work):
    """Run ``work(session)`` in an app context of its own and commit, as a
    request would; return its result (plain values: the session is gone)."""
    with app.app_context():
        try:
            result = work(db.session)
            db.session.commit()
            return result
        finally:
            db.session.remove()


def uncommitted(scoped_session) -> list:
    """What the current session holds that is not committed: objects not
    flushed yet, and writes flushed but not committed (SQLite's open write
    transaction). ``scoped_session``: ``db.session``."""
    session = scoped_session()
    left = [*session.new, *session.deleted]
    left += [o for o in session.dirty if session.is_modified(o)]
    if session.in_transaction():
        raw = session.connection().connection.dbapi_connection
        if getattr(raw, "in_transaction", False):
            left.append("flushed writes, never committed")
    return left


class RequestClient(FlaskClient):
    """The Flask test client, refusing requests made inside an app context
    the test holds: such a request would share the test's database session,
    and a route that forgets to commit would seem to have stored its change."""

    def open(self, *args, **kwargs):
        self._context_stack.close()  # the last request's, kept by ``with client:``
        if has_app_context():
            raise AssertionError(
                "a request made inside the test's app context shares its database "
                "session: make requests outside any context (prepare data with "
                "tests.helpers.prepare or make_evening, check it with read)"
            )
        return super().open(*args, **kwargs)


class Screen:
    """A Flask-SocketIO test client with the one write path and catch-up
    (the envelope and the sequence numbers of ``workshop.client``).

    Pushes come from the publisher's background task: ``changes_until``
    waits for them (never a fixed sleep).
    """

    def __init__(self, app, auth, http=None):
        self.app = app
        self.http = http  # its cookies: another tab of the same person
        self.sio = server_socketio.test_client(app, flask_test_client=http, auth=auth)
        self.seen: list[dict] = []  # every change pushed, in order
        self.events: list[tuple[str, object]] = []
        self.seqs = Seqs()  # the table's numbers this screen knows

    @property
    def connected(self) -> bool:
        return self.sio.is_connected()

    @property
    def behind(self) -> bool:
        """A push skipped a number: the screen must catch up."""
        self._collect()
        return self.seqs.behind()

    def write(self, op, data=None, client_id=None, **extra):
        """Send one write envelope; return the answer."""
        return self.sio.emit("write", envelope(op, data, client_id, **extra), callback=True)

    def sync(self, since=0):
        answer = self.sio.emit("sync", {"since": since}, callback=True)
        if since <= self.seqs.last():  # what it answers follows what is known
            self.seqs.caught_up(answer)
        return answer

    def catch_up(self):
        """Ask for what came after the last number known, as a phone does."""
        return self.sync(self.seqs.last())

    def emit(self, name, data=None):
        return self.sio.emit(name, data, callback=True)

    def _collect(self):
        if self.sio.is_connected():
            messages = self.sio.get_received()
        else:  # closed by the server: what it sent before is still there to read
            messages, self.sio.queue = self.sio.queue, []
        for message in messages:
            self.events.append((message["name"], message["args"][0] if message["args"] else None))
            if message["name"] == "changes":
                self.seen.extend(message["args"][0]["changes"])
                self.seqs.pushed(message["args"][0]["changes"])

    def received(self, name) -> list:
        """Payloads of ``name`` events received so far."""
        self._collect()
        return [data for event, data in self.events if event == name]

    def changes_until(self, predicate, timeout=5.0) -> list[dict]:
        """Pushed changes, once ``predicate(changes)`` holds (or fail)."""
        deadline = time.monotonic() + timeout
        while True:
            self._collect()
            if predicate(self.seen):
                return self.seen
            if time.monotonic() > deadline:
                raise AssertionError(f"pushes never matched; got {self.seen}")
            time.sleep(0.01)

    def settle(self, quiet=0.2) -> list[dict]:
        """Every change pushed once the publisher has gone quiet."""
        last = -1
        while last != len(self.seen):
            last = len(self.seen)
            time.sleep(quiet)
            self._collect()
        return self.seen

    def forget(self):
        self.settle()
        self.seen.clear()
        self.events.clear()


def phone(app, table: TableRef, name="Alice", category="citizen", lang=None) -> tuple[int, Screen]:
    """A participant joined to ``table`` and their phone's socket."""
    with app.app_context():
        participant, token = join(db.session.get(Table, table.id), name, category)
        participant_id = participant.id
        db.session.remove()
    http = app.test_client()
    http.set_cookie(live.participant_cookie_name(table.join_code), token)
    if lang:
        http.set_cookie("lang", lang)
    screen = Screen(app, {"role": "participant", "table": table.join_code}, http)
    assert screen.connected
    return participant_id, screen


def console(app, table: TableRef) -> Screen:
    screen = Screen(app, {"role": "facilitator", "secret": table.facilitator_secret})
    assert screen.connected
    return screen


def signed_in(app, email="orga@example.org"):
    """A Flask test client signed in as an organizer."""
    http = app.test_client()
    http.post("/login", data={"email": email, "password": PASSWORD})
    return http


def organizer_screen(app, evening: Evening, http=None) -> Screen:
    return Screen(app, {"role": "organizer", "event": evening.event_id}, http or signed_in(app))


def wait_for(condition, timeout=15.0, step=0.05) -> bool:
    """Whether ``condition()`` came true within ``timeout`` seconds (checked
    every ``step``): for what happens after an answer (a push, a cut-off)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_chromium() -> str | None:
    """The system Chromium, if installed."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


class LiveServer:
    """``run.py`` in its own process (gevent, as in production) on a SQLite file.

    Whatever happens, nothing it started outlives it: the server runs in a
    process group of its own (with its checkpoint process), killed whole when
    it stops or fails to start, and at exit for a server a test never stopped.
    """

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        extra_env: dict | None = None,
        start_timeout: float = SERVER_START_TIMEOUT,
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.log_path = workdir / "server.log"
        self.start_timeout = start_timeout
        self.env = {
            **os.environ,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "DATABASE_URL": database_url,
            "WORKSHOP_INSTANCE": str(workdir / "instance"),
            "SECRET_KEY": "live-server-test-secret",
            "SOCKETIO_ASYNC_MODE": "gevent",
            "PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH,
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.pid: int | None = None  # the last process started, once stopped too

    def start(self) -> None:
        """Start the server and wait until it answers; if it exits or does
        not answer within ``start_timeout``, stop it and fail with its log."""
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "run.py")],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped whole
            )
        self.pid = self.process.pid
        _started.add(self)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop(signal.SIGKILL)
            raise

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise RuntimeError(f"the test server exited ({code}):\n{self.log()}")
            try:
                requests.get(self.url + "/", timeout=5)
                return
            except requests.RequestException:  # not listening yet, or busy starting
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the test server did not answer within {self.start_timeout:.0f} s "
                    f"(TEST_SERVER_START_TIMEOUT):\n{self.log()}"
                )
            time.sleep(0.1)

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig=signal.SIGTERM) -> None:
        """Send ``sig`` to the server, wait for it, then kill whatever is
        left of its process group (its checkpoint process)."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            if process.poll() is None:
                process.send_signal(sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(10)
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
            _started.discard(self)

    def kill(self) -> None:
        """Stop the server abruptly, as a crash or a power cut would."""
        self.stop(signal.SIGKILL)


# Servers started and not stopped yet: killed when the test run ends, however
# it ends (a fixture that failed before its ``finally``, an interrupted run).
_started: set[LiveServer] = set()


@atexit.register
def _stop_forgotten_servers() -> None:
    for server in list(_started):
        server.stop(signal.SIGKILL)


def app_config(database_path) -> dict:
    """The configuration of the tests' in-process apps, on a SQLite file."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database_path}",
        "SOCKETIO_ASYNC_MODE": "threading",
        "SOCKETIO_MESSAGE_QUEUE": None,
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_URL": "http://venue.test:5000",
        "PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH,
    }


def serve(workdir: Path, migrated_database: Path, extra_env: dict | None = None):
    """Yield ``run.py`` serving a copy of ``migrated_database`` and an app on
    the same file (for preparing data); stop it afterwards, whatever happens."""
    path = workdir / "live.db"
    shutil.copy(migrated_database, path)
    server = LiveServer(workdir, f"sqlite:///{path}", extra_env)
    app = create_app(app_config(path))
    app.test_client_class = RequestClient
    try:
        server.start()
        yield server, app
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


def join_over_http(server, table, name="Alice") -> requests.Session:
    """Join a table like a phone does: GET the form, POST it with its CSRF token."""
    http = requests.Session()
    page = http.get(f"{server.url}/t/{table.join_code}")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    answer = http.post(
        f"{server.url}/t/{table.join_code}/join",
        data={"csrf_token": token, "display_name": name, "category": "citizen"},
        allow_redirects=False,
    )
    assert answer.status_code == 302
    assert f"wt_{table.join_code}" in http.cookies
    return http


def hang_up(*clients) -> None:
    """Disconnect python-socketio clients (or Phones) all at once: each waits
    up to 3 s for a WebSocket close frame its own reader thread has taken."""
    leaving = [
        threading.Thread(target=getattr(client, "client", client).disconnect) for client in clients
    ]
    for thread in leaving:
        thread.start()
    for thread in leaving:
        thread.join(30)


class Phone(Client):
    """The protocol's client holding a participant's cookie: its outbox is
    sent again after every reconnect."""

    def __init__(self, server, table, http: requests.Session, follow=False):
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        super().__init__(
            server.url,
            {"role": "participant", "table": table.join_code},
            headers={"Cookie": cookie},
            follow=follow,
        )
        assert self.connects.acquire(timeout=10)

    @property
    def client(self) -> socketio.Client:
        """The python-socketio client underneath."""
        return self.sio


def run_async(coroutine_function, *args):
    """``asyncio.run(coroutine_function(*args))`` in a thread of its own: a
    browser test's Playwright keeps an event loop running in this thread
    for the rest of the session, where ``asyncio.run`` refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_function(*args))).result()
