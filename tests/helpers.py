"""Test helpers in the manner of CTFd's: small factories on the real database,
and a real server process for end-to-end tests."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
import socketio

from workshop.extensions import db
from workshop.models import Challenge, Organizer, Territory
from workshop.services import accounts, events, live

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"


def make_organizer(email="orga@example.org", territory_name="Pays test") -> Organizer:
    """An organizer with their own territory."""
    territory = Territory(name=territory_name, population=10000)
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
    """``run.py`` in its own process (gevent, as in production) on a SQLite file."""

    def __init__(self, workdir: Path, database_url: str, extra_env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.log_path = workdir / "server.log"
        self.env = {
            **os.environ,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "DATABASE_URL": database_url,
            "WORKSHOP_INSTANCE": str(workdir / "instance"),
            "SECRET_KEY": "live-server-test-secret",
            "SOCKETIO_ASYNC_MODE": "gevent",
            "PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "a")  # noqa: SIM115 (kept open for the child)
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py")],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log_path.read_text()}")
            try:
                requests.get(self.url + "/", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log_path.read_text()}")

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def kill(self) -> None:
        """Stop the server abruptly, as a crash or a power cut would."""
        self.stop(signal.SIGKILL)


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


class Phone:
    """A python-socketio client holding a participant's cookie."""

    def __init__(self, server, table, http: requests.Session):
        self.connects = threading.Semaphore(0)
        self.client = socketio.Client(reconnection_delay=0.2, reconnection_delay_max=1)
        self.client.on("connect", self.connects.release)
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        self.client.connect(
            server.url,
            headers={"Cookie": cookie},
            auth={"role": "participant", "table": table.join_code},
            transports=["websocket"],
            wait_timeout=10,
        )
        assert self.connects.acquire(timeout=10)

    def call(self, event, data):
        return self.client.call(event, data, timeout=10)
