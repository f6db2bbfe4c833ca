"""Beyond one machine (DESIGN.md §9): two server processes share PostgreSQL and
a Redis message queue; same code, configuration only. Phones of one table
connected to different processes see each other's ideas, screens follow, and
the evening holds when Redis or the database goes away for a while or when
one process dies.

Both processes reach PostgreSQL and Redis through links (tests/faults.py)
that a test cuts and mends; the services themselves keep running.
"""

import json
import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import redis
import requests
import socketio
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url

from workshop import create_app
from workshop.client import Client
from workshop.extensions import db
from workshop.models import Idea, Organizer

from .faults import Link
from .helpers import (
    PASSWORD,
    Evening,
    LiveServer,
    Phone,
    hang_up,
    join_over_http,
    make_evening,
    new_client_id,
    read,
    wait_for,
)

HOUSEKEEPING = 1  # seconds between beacons in these servers (10 in production)


@dataclass
class Pair:
    first: LiveServer
    second: LiveServer
    app: Flask  # on the same database, directly (not through the link)
    redis: Link
    database: Link
    redis_url: str  # Redis itself, not through the link
    channel: str  # this run's message queue channel
    env: dict  # the servers' environment, for one more
    database_url: str  # through the link


@pytest.fixture(scope="module")
def pair(tmp_path_factory, module_postgres_url, redis_url):
    redis_target = urlsplit(redis_url)
    redis_link = Link((redis_target.hostname, redis_target.port or 6379))
    database = make_url(module_postgres_url)
    database_link = Link((database.host or "127.0.0.1", database.port or 5432))
    channel = f"test-{uuid.uuid4().hex}"  # this run's own: the machine's Redis is shared
    env = {
        "SOCKETIO_MESSAGE_QUEUE": f"redis://127.0.0.1:{redis_link.port}{redis_target.path}",
        "SOCKETIO_CHANNEL": channel,
        "BEACON_INTERVAL": str(HOUSEKEEPING),
        "QUEUE_CHECK_INTERVAL": str(HOUSEKEEPING),
    }
    through_link = database.set(host="127.0.0.1", port=database_link.port)
    servers = []
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": module_postgres_url, "SOCKETIO_ASYNC_MODE": "threading"}
    )
    try:
        for name in ("first", "second"):
            workdir = tmp_path_factory.mktemp(name)
            server = LiveServer(workdir, through_link.render_as_string(hide_password=False), env)
            servers.append(server)
            server.start()  # the first one migrates the database
        # Each process subscribes at start, before its first phone: wait for
        # both, or a first test's change could be published to one listener.
        assert wait_for(lambda: subscribers(redis_url, channel) == 2), "not both subscribed"
        yield Pair(
            servers[0],
            servers[1],
            app,
            redis_link,
            database_link,
            redis_url,
            channel,
            env,
            through_link.render_as_string(hide_password=False),
        )
    finally:
        for server in servers:
            server.stop()
        redis_link.close()
        database_link.close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def evening(pair) -> Evening:
    return make_evening(pair.app, tables=2, email=f"orga-{uuid.uuid4().hex[:8]}@example.org")


def subscribers(redis_url: str, channel: str) -> int:
    """How many processes listen to ``channel`` of the message queue."""
    import redis

    with redis.Redis.from_url(redis_url) as client:
        return dict(client.pubsub_numsub(channel)).get(channel.encode(), 0)


def projector_totals(server: LiveServer, evening: Evening) -> tuple[Client, list]:
    """A projector connected to ``server``, and the totals it receives live."""
    totals = []
    projector = Client(
        server.url,
        {"role": "projector", "event": evening.join_code},
        reconnection=False,
        pushes={"totals": totals.append},
    )
    return projector, totals


def seen_by(phone: Phone, kind="idea") -> list:
    """What ``phone`` receives live: the changes of ``kind`` pushed to it."""
    seen = []
    phone.client.on(
        "changes", lambda push: seen.extend(c for c in push["changes"] if c["type"] == kind)
    )
    return seen


def stored_texts(pair: Pair, table_id: int) -> list[str]:
    return read(
        pair.app,
        lambda s: list(
            s.scalars(select(Idea.text).where(Idea.table_id == table_id).order_by(Idea.seq))
        ),
    )


def texts(catch_up: dict) -> list[str]:
    return [c["text"] for c in catch_up["changes"] if c["type"] == "idea"]


def live_delivery_resumes(sender: Phone, seen: list, prefix: str) -> bool:
    """``sender`` posts every second until one of its posts reaches ``seen``
    live (the message queue works again), within 40 s."""

    def arrived() -> bool:
        # Looked at whatever the post's answer: past the posting limit a
        # refused post must not hide one that got through before.
        sender.write("idea.post", {"text": f"{prefix} {time.monotonic()}"})
        return any(c["text"].startswith(prefix) for c in seen)

    return wait_for(arrived, timeout=40, step=1)


def test_phones_on_two_processes_share_one_table(pair, evening):
    table = evening.tables[0]
    alice = Phone(pair.first, table, join_over_http(pair.first, table, "Alice"))
    bob = Phone(pair.second, table, join_over_http(pair.second, table, "Bob"))
    bob_saw = seen_by(bob)
    projector, totals = projector_totals(pair.second, evening)

    ack = alice.write("idea.post", {"text": "Un fab-lab itinérant"})

    assert ack["ok"]
    assert wait_for(lambda: bob_saw), "the idea did not cross to the other process"
    assert wait_for(lambda: totals and totals[-1]["ideas"] == 1)
    assert texts(bob.sync(0)) == ["Un fab-lab itinérant"]
    hang_up(alice, bob, projector)
    # The server's own log goes on after the migrations run at start.
    assert "[workshop] database ready" in pair.first.log_path.read_text()


def signed_in_over_http(server: LiveServer, email: str) -> tuple[requests.Session, str]:
    """Sign in like a browser; the session and a CSRF token of its pages."""
    http = requests.Session()
    form = http.get(f"{server.url}/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    answer = http.post(
        f"{server.url}/login",
        data={"csrf_token": token, "email": email, "password": PASSWORD},
        allow_redirects=False,
    )
    assert answer.status_code == 302 and "/organizer/" in answer.headers["Location"]
    return http, token


def test_signing_out_on_one_process_closes_an_overview_on_the_other(pair, evening):
    """Even an overview that ignores the "revoked" message is closed: each
    process checks its organizer screens against the sign-ins in the database."""
    email = read(pair.app, lambda s: s.get(Organizer, evening.organizer_id).email)
    http, token = signed_in_over_http(pair.first, email)
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    overview = socketio.Client(reconnection=False)  # listens to nothing: ignores "revoked"
    overview.connect(
        pair.second.url,
        headers={"Cookie": cookie},
        auth={"role": "organizer", "event": evening.event_id},
        transports=["websocket"],
        wait_timeout=10,
    )
    assert overview.connected

    http.post(f"{pair.first.url}/logout", data={"csrf_token": token}, allow_redirects=False)

    assert wait_for(lambda: not overview.connected, timeout=5 * HOUSEKEEPING + 5)
    assert (
        requests.get(f"{pair.second.url}/organizer/", cookies=http.cookies, allow_redirects=False)
        .headers["Location"]
        .startswith("/login")
    )


def test_a_redis_outage_loses_nothing_and_live_delivery_resumes_by_itself(pair, evening):
    table = evening.tables[0]
    alice = Phone(pair.first, table, join_over_http(pair.first, table, "Alice"))
    bob = Phone(pair.second, table, join_over_http(pair.second, table, "Bob"))
    beacons = []
    bob.client.on("seq", beacons.append)
    bob_saw = seen_by(bob)

    pair.redis.cut()
    try:
        during = [f"Pendant la panne {n}" for n in range(3)]
        acks = [alice.write("idea.post", {"text": text}) for text in during]
        # Acknowledged without the message queue: nothing waits on Redis.
        assert [ack["ok"] for ack in acks] == [True] * 3
        # Bob's own process tells him how far the table is (no queue needed);
        # he catches up from the database.
        last = acks[-1]["seq"]
        assert wait_for(lambda: beacons and beacons[-1]["seq"] >= last)
        assert texts(bob.sync(0)) == during
    finally:
        pair.redis.mend()

    assert live_delivery_resumes(alice, bob_saw, "Après"), "not after Redis came back"
    stored = stored_texts(pair, table.id)
    assert stored[:3] == during and all(t.startswith("Après") for t in stored[3:])
    logs = pair.first.log_path.read_text() + pair.second.log_path.read_text()
    assert "redis" in logs.lower()
    hang_up(alice, bob)


def test_a_redis_partition_never_holds_an_acknowledgement_or_a_connection(pair, evening):
    """Redis stops answering without closing anything (a lost route): posts
    are acknowledged, a console connects, and live delivery resumes once the
    route is back."""
    table = evening.tables[0]
    alice = Phone(pair.first, table, join_over_http(pair.first, table, "Alice"))
    bob = Phone(pair.second, table, join_over_http(pair.second, table, "Bob"))
    bob_saw = seen_by(bob)

    pair.redis.partition()
    try:
        acks = [alice.write("idea.post", {"text": f"Coupé {n}"}) for n in range(3)]
        assert [ack["ok"] for ack in acks] == [True] * 3
        console = Client(
            pair.first.url,
            {"role": "facilitator", "secret": table.facilitator_secret},
            reconnection=False,
        )
        assert console.connected
        assert console.sync(0)["ok"]
        time.sleep(6)  # past the queue's socket timeout: its connections give up
    finally:
        pair.redis.mend()

    assert live_delivery_resumes(alice, bob_saw, "Rétabli"), "not after the partition"
    hang_up(alice, bob, console)


def test_a_database_outage_keeps_the_post_on_the_phone_until_it_goes_through(pair, evening):
    table = evening.tables[0]
    alice = Phone(pair.first, table, join_over_http(pair.first, table, "Alice"))
    client_id = new_client_id()

    pair.database.cut()
    try:
        started = time.monotonic()
        refused = alice.write("idea.post", {"text": "Pendant la coupure"}, client_id=client_id)
        answered_in = time.monotonic() - started
    finally:
        pair.database.mend()

    assert refused["ok"] is False and refused["permanent"] is False, refused
    assert refused["message"]
    assert answered_in < 10
    assert stored_texts(pair, table.id) == []
    # The phone sends the same write again: stored once, without a restart.
    assert wait_for(
        lambda: alice.write("idea.post", {"text": "Pendant la coupure"}, client_id=client_id)["ok"],
        timeout=20,
        step=0.5,
    )
    again = alice.write("idea.post", {"text": "Pendant la coupure"}, client_id=client_id)
    assert again["ok"]
    assert alice.write("idea.post", {"text": "Et ensuite"})["ok"]
    assert stored_texts(pair, table.id) == ["Pendant la coupure", "Et ensuite"]
    alice.client.disconnect()


class Listener:
    """What crosses the message queue: the room of every push published on
    ``channel``, read straight from Redis (as any process would)."""

    def __init__(self, redis_url: str, channel: str):
        self.client = redis.Redis.from_url(redis_url)
        self.rooms: list[str] = []
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(**{channel: self.heard})
        self.thread = self.pubsub.run_in_thread(sleep_time=0.05, daemon=True)

    def heard(self, message) -> None:
        data = message["data"]
        if data.startswith(b"{"):  # python-socketio's messages (the processes' notes: "~")
            push = json.loads(data)
            if push.get("method") == "emit":
                self.rooms.append(str(push.get("room")))

    def stop(self) -> None:
        self.thread.stop()
        self.client.close()


def test_a_tables_pushes_stay_in_its_process_while_another_is_killed(
    pair, evening, tmp_path_factory
):
    """The table's phones are all on the first process (the proxy routes by
    the table's code): its pushes reach them without Redis, and keep doing
    so while a third process, holding the evening's projector, is killed.
    Only the evening-wide pushes (the projector's totals) cross Redis."""
    table = evening.tables[0]
    third = LiveServer(tmp_path_factory.mktemp("third"), pair.database_url, pair.env)
    third.start()
    listener = Listener(pair.redis_url, pair.channel)
    try:
        projector, totals = projector_totals(third, evening)
        alice = Phone(pair.first, table, join_over_http(pair.first, table, "Alice"))
        bob = Phone(pair.first, table, join_over_http(pair.first, table, "Bob"))
        bob_saw = seen_by(bob)
        joined = len(listener.rooms)  # the joins went through Redis: no screen was here yet
        assert alice.write("idea.post", {"text": "Avant"})["ok"]
        assert wait_for(lambda: totals and totals[-1]["ideas"] == 1), "not across Redis"

        third.kill()
        during = [f"Pendant {n}" for n in range(5)]
        acks = [alice.write("idea.post", {"text": text}) for text in during]

        assert [ack["ok"] for ack in acks] == [True] * 5
        assert wait_for(lambda: [c["text"] for c in bob_saw] == ["Avant", *during])
        assert stored_texts(pair, table.id) == ["Avant", *during]
        table_rooms = {f"table:{table.id}", f"console:{table.id}"}
        since = listener.rooms[joined:]
        crossed = [room for room in since if room in table_rooms or room.startswith("participant:")]
        assert crossed == [], "a table's pushes went through Redis"
        assert any(room.endswith(":projector") for room in since)
        hang_up(alice, bob)
    finally:
        listener.stop()
        third.stop()


def client_ids(redis_url: str, name: str) -> list[str]:
    """Ids of the Redis connections named ``name`` that are subscribed."""
    with redis.Redis.from_url(redis_url) as client:
        return [
            str(c["id"])
            for c in client.client_list(_type="pubsub")
            if c.get("name") == name and int(c.get("sub", 0)) > 0
        ]


def test_the_subscription_dies_and_comes_back_without_losing_live_delivery(pair, evening):
    """Redis drops the second process's subscription (a restart, a proxy, a
    client limit): it subscribes again by itself, says so in its log, and
    the evening-wide pushes reach its screens again; nothing posted is lost."""
    table = evening.tables[0]
    alice = Phone(pair.first, table, join_over_http(pair.first, table, "Alice"))
    projector, totals = projector_totals(pair.second, evening)
    posted = []

    def delivered(above: int, prefix: str):
        """Post until the projector's totals count more than ``above`` ideas:
        a push published while a subscription is (re)starting is not heard."""

        def check() -> bool:
            if totals and totals[-1]["ideas"] > above:
                return True
            posted.append(alice.write("idea.post", {"text": f"{prefix} {len(posted)}"})["ok"])
            return False

        return check

    # Live delivery works before (the previous tests cut Redis: wait until
    # this process hears it again)…
    assert wait_for(delivered(0, "Avant"), timeout=40, step=1.5), "no delivery to begin with"
    name = f"{pair.channel}:{pair.second.pid}"
    # Its subscription, once it is up (the previous tests' cuts may still
    # have it reconnecting as delivery resumes).
    assert wait_for(lambda: len(client_ids(pair.redis_url, name)) == 1, timeout=30)
    killed = client_ids(pair.redis_url, name)

    with redis.Redis.from_url(pair.redis_url) as client:
        client.execute_command("CLIENT", "KILL", "ID", killed[0])

    # It comes back on a new connection of its own…
    assert wait_for(lambda: client_ids(pair.redis_url, name) not in ([], killed), timeout=30)
    assert wait_for(lambda: "subscribed again" in pair.second.log(), timeout=30)
    # …and live delivery resumes: a post's totals reach the projector.
    before = len(posted)
    assert wait_for(delivered(before, "Après"), timeout=40, step=1.5), "did not resume"
    assert all(posted)
    stored = len(stored_texts(pair, table.id))
    assert stored == len(posted)
    assert wait_for(lambda: totals[-1]["ideas"] == stored)
    hang_up(alice, projector)


def test_when_one_process_dies_its_phones_go_on_with_the_other(pair, evening):
    """Last in this module: the first process does not come back."""
    table = evening.tables[0]
    alice_http = join_over_http(pair.first, table, "Alice")
    alice = Phone(pair.first, table, alice_http)
    bob = Phone(pair.second, table, join_over_http(pair.second, table, "Bob"))
    seen = alice.write("idea.post", {"text": "Avant la panne"})["seq"]
    waiting = new_client_id()  # written on Alice's phone, not yet answered

    pair.first.kill()
    assert wait_for(lambda: not alice.client.connected)
    alice.client.disconnect()  # stop trying the dead process
    assert bob.write("idea.post", {"text": "Pendant que Alice est coupée"})["ok"]
    # The proxy sends her phone to the process still running; her cookie
    # holds there too, and she catches up from the number she knew.
    alice = Phone(pair.second, table, alice_http)
    assert texts(alice.sync(seen)) == ["Pendant que Alice est coupée"]
    for _ in range(2):  # her outbox sends it, maybe twice: stored once
        assert alice.write("idea.post", {"text": "Renvoyée"}, client_id=waiting)["ok"]
    assert stored_texts(pair, table.id) == [
        "Avant la panne",
        "Pendant que Alice est coupée",
        "Renvoyée",
    ]
    hang_up(alice, bob)
