"""Live load benchmark (DESIGN.md §6, §11): many phones posting at once, some dropping.

Starts run.py (gevent, a temporary SQLite file it migrates), prepares one live event of
--tables tables x --phones participants through the services, and connects every phone
with a python-socketio AsyncClient (websocket) in one asyncio loop. Phones behave like
static/js/live/protocol.js: a post is a write envelope ({op: "idea.post", client_id,
data}) that stays in the phone's outbox until acknowledged (resent with the same id after
a timeout or a drop); every (re)connect starts with sync {since: last contiguous seq}; a
phone the server drops comes back. With --method, every table also has its facilitator's
console connected, and every --step-every seconds the organizer moves all tables to
their next step at once (one write; each table's new state pushed to every screen of
the table); while the tables are at their vote step, the writes are votes (same --rate
in all).
Posts go out at --rate per second (Poisson) from random connected phones, while --drop
of the phones lose their connection once, abruptly, and come back 1-5 s later.

Reports post-to-every-screen latency (first emit until the last phone of the table that
stayed connected has the idea), ack latency and, after a final sync of every phone, the
acknowledged posts missing from the database or from a phone, duplicates and posts never
acknowledged; exits 1 unless all are zero. The generator shares the machine with the
server: its CPU use and event-loop lag are reported too.

    .venv/bin/python bench/live_load.py --tables 20 --phones 10 --rate 20 --duration 30
    .venv/bin/python bench/live_load.py      # the §11 budget: 200 x 10 phones, 100/s, 60 s
    .venv/bin/python bench/live_load.py --method   # the same, running the method's steps
    .venv/bin/python bench/live_load.py --relay    # the bare Flask-SocketIO relay, same load
    .venv/bin/python bench/live_load.py --url http://HOST:PORT --database-url sqlite:///PATH
"""

import argparse
import asyncio
import gc
import json
import logging
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests
import socketio

from workshop.client import Seqs, envelope, new_client_id, temporary

ROOT = Path(__file__).resolve().parent.parent
ACK_TIMEOUT = 10.0  # as static/js/live/protocol.js
FAILED = (asyncio.TimeoutError, ConnectionError, socketio.exceptions.SocketIOError)


class Post:
    def __init__(self, phone, expected: dict):
        self.cid, self.phone, self.t0 = new_client_id(), phone, time.monotonic()
        self.text = f"Idée {self.cid[:8]} de la table {phone.table_id}"
        self.expected = expected  # phones of the table online at the emit: index -> epoch
        self.got: dict[int, float] = {}  # phone index -> when it first had the idea
        self.acked, self.sends = None, 0
        self.cut = False  # its phone dropped right after sending it: not timed

    def envelope(self) -> dict:
        return envelope("idea.post", {"kind": "idea", "text": self.text}, self.cid)

    def answered(self, screen, reply) -> None:
        if reply and reply.get("ok"):
            self.acked = time.monotonic()
            screen.apply_all(reply["changes"], "ack")
        else:
            screen.bench.refused.append(reply)


class Cast:
    """A vote.cast in a phone's outbox: one dot, however often it is sent."""

    def __init__(self, phone, idea_id: int):
        self.cid, self.phone, self.t0 = new_client_id(), phone, time.monotonic()
        self.idea_id, self.acked, self.sends, self.reply = idea_id, None, 0, None
        self.cut = False
        self.vote_ids: set[int] = set()  # the dot(s) its answer names

    def envelope(self) -> dict:
        return envelope("vote.cast", {"idea_id": self.idea_id}, self.cid)

    def answered(self, screen, reply) -> None:
        self.reply = reply or {"error": "none"}
        if reply and reply.get("ok"):
            self.acked = time.monotonic()
            self.vote_ids = {c["id"] for c in reply["changes"] if c["type"] == "vote"}
            if not self.cut:  # a drop right after sending it is no server's delay
                screen.bench.vote_acks.append((self.acked - self.t0) * 1000)
            screen.apply_all(reply["changes"], "ack")
        else:  # refused by the rules (no votes left, card full, vote closed): not lost
            screen.bench.vote_refused[self.reply.get("error", "none")] += 1


class StepWrite:
    """The organizer's tables.step in its outbox: every table to a step kind."""

    def __init__(self, kind: str):
        self.cid, self.kind, self.t0 = new_client_id(), kind, time.monotonic()
        self.acked, self.sends, self.reply = None, 0, None
        self.done, self.cut = asyncio.Event(), False

    def envelope(self) -> dict:
        return envelope("tables.step", {"kind": self.kind}, self.cid)

    def answered(self, screen, reply) -> None:
        self.reply = reply or {"error": "none"}
        if reply and reply.get("ok"):
            self.acked = time.monotonic()
            if not self.cut:
                screen.bench.step_acks.append((self.acked - self.t0) * 1000)
        else:
            screen.bench.step_refused.append(reply)
        self.done.set()


class Phone:
    def __init__(self, bench, index, table_id, code, token):
        self.bench, self.index, self.table_id = bench, index, table_id
        self.route = f"{bench.url}/?table={code}"  # as the page's client: the proxy's route
        self.cookie = f"wt_{code}={token}"  # as a phone that joined the table
        self.how = dict(auth={"role": "participant", "table": code}, transports=["websocket"])
        self.sio = socketio.AsyncClient(reconnection=False)  # reconnects below, as a phone
        self.sio.on("connect", self.on_connect)
        self.sio.on("disconnect", self.on_disconnect)
        self.sio.on("changes", lambda push: self.apply_all(push["changes"], "broadcast"))
        self.online = self.dropping = False
        self.epoch, self.seqs = 0, Seqs()  # the table's numbers, as the phone keeps them
        self.view: dict[str, set] = {}  # client id -> idea ids this screen shows for it
        self.cards: set[int] = set()  # ideas of the table this phone can vote for
        self.state, self.steps = None, {}  # the table's state, its steps by id
        self.voted: set[int] = set()  # vote steps this phone has seen open
        self.vote_step, self.votes_left = None, 0  # the open vote at its table
        self.votes: dict[int, dict] = {}  # the table's dots this screen knows, by id
        self.casts: list[Cast] = []
        self.cut = None  # set while a drop waits for the next write to leave
        self.early = None  # set by a vote to bring a drop waiting for its time forward
        self.outbox: list[Post | Cast | StepWrite] = []
        self.pending: set[asyncio.Future] = set()
        self.wake = asyncio.Event()

    async def connect(self, delay=0.0):
        await asyncio.sleep(delay)
        for _ in range(60):
            try:  # a new headers dict each time: the client empties it
                headers = {"Cookie": self.cookie} if self.cookie else {}
                return await self.sio.connect(self.route, headers, **self.how, wait_timeout=20)
            except socketio.exceptions.ConnectionError:
                await asyncio.sleep(1 + random.random())

    def on_connect(self):
        self.online = True
        asyncio.ensure_future(self.catch_up("sync"))  # not inline: its ack comes on this loop

    def on_disconnect(self, *_reason):
        self.online, self.epoch = False, self.epoch + 1
        self.bench.step_out_of_sight(self)
        self.wake.clear()
        for future in self.pending:  # that ack will never come: resend after reconnecting
            if not future.done():
                future.set_exception(ConnectionError("dropped"))
        if not self.dropping and not self.bench.closing:  # the server dropped us
            self.bench.unexpected += 1
            second = int(time.monotonic())
            self.bench.dropped_per_second[second] = self.bench.dropped_per_second.get(second, 0) + 1
            asyncio.ensure_future(self.connect(random.uniform(0.5, 1.5)))

    async def call(self, event, data, cut=None):
        future = asyncio.get_running_loop().create_future()
        self.pending.add(future)
        try:
            done = lambda reply=None: future.done() or future.set_result(reply)  # noqa: E731
            await self.sio.emit(event, data, callback=done)
            if cut is not None and not cut.done():
                cut.set_result(None)  # the drop goes now, before the answer
            return await asyncio.wait_for(future, ACK_TIMEOUT)
        finally:
            self.pending.discard(future)

    def apply_all(self, changes, source):
        for change in changes:
            self.apply(change, source)

    def apply(self, change, source):
        t = time.monotonic()
        self.seqs.note(change["seq"])
        if change["type"] == "table":
            self.state = change
            self.bench.step_seen(self, change)
            self.maybe_vote()
        elif change["type"] == "step":
            known = self.steps.get(change["id"])
            if known is None or known["seq"] <= change["seq"]:
                self.steps[change["id"]] = change
            self.maybe_vote()
        elif change["type"] == "vote":
            known = self.votes.get(change["id"])
            if known is None or known["seq"] <= change["seq"]:
                self.votes[change["id"]] = change
        if change["type"] != "idea" or "text" not in change:
            return
        self.cards.add(change["id"])
        # Other phones' views carry no client id: a post is known by its unique text.
        post = self.bench.by_text.get(change["text"])
        if post is None:
            return
        self.view.setdefault(post.cid, set()).add(change["id"])
        if post and post.expected.get(self.index) == self.epoch and self.index not in post.got:
            post.got[self.index] = t
            self.bench.missed_broadcasts += source == "final"  # online, yet never pushed

    def maybe_vote(self):
        """Follow the table's vote: open at the current step, or not."""
        step = self.steps.get(self.state["step_id"]) if self.state else None
        if step is None or step["kind"] != "vote" or step["settings"].get("state") != "open":
            self.vote_step = None
        elif step["id"] != self.vote_step and step["id"] not in self.voted:
            self.voted.add(step["id"])
            self.vote_step, self.votes_left = step["id"], step["settings"].get("votes", 3)

    def vote(self):
        """Cast one vote for a card of the table (instead of posting, in the
        vote step): into the outbox, like a post, resent until answered."""
        self.votes_left -= 1
        cast = Cast(self, random.choice(sorted(self.cards)))
        self.casts.append(cast)
        if self.early is not None and not self.early.is_set():
            # A phone due to drop later drops right after its first vote leaves.
            self.cut = asyncio.get_running_loop().create_future()  # before the sender runs
            self.early.set()
        self.outbox.append(cast)
        self.wake.set()

    async def catch_up(self, source):
        epoch = self.epoch
        while self.online and self.epoch == epoch:
            try:
                reply = await self.call("sync", {"since": self.seqs.last()})
            except FAILED:
                await asyncio.sleep(2)
                continue
            self.apply_all(reply["changes"], source)
            self.seqs.caught_up(reply)
            self.wake.set()  # then flush the outbox
            return

    async def sender(self):
        while await self.wake.wait():
            if not self.outbox or not self.online:
                self.wake.clear()
                continue
            entry = self.outbox[0]
            entry.sends += 1
            cut = self.cut if self.cut is not None and not self.cut.done() else None
            entry.cut = entry.cut or cut is not None
            try:
                reply = await self.call("write", entry.envelope(), cut)
            except FAILED:
                await asyncio.sleep(0.5)  # keep it: the server dedups the resend
                continue
            if reply and temporary(reply):
                # Temporary (database away, too fast): first in line, later (protocol.js).
                await asyncio.sleep(min(float(reply.get("retry_after") or 0.5), 5))
                continue
            self.outbox.pop(0)
            entry.answered(self, reply)

    async def drop(self, at, cut_within=0.0):
        """Lose the connection once at ``at`` s; with ``cut_within``, right
        after the next write leaves (if one does within that many seconds),
        before its answer: the write may be done, its resend must not redo it;
        then a vote brings it forward, so that votes are resent too."""
        if cut_within:
            self.early = asyncio.Event()
            waits = [asyncio.ensure_future(w) for w in (asyncio.sleep(at), self.early.wait())]
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for waiting in waits:
                waiting.cancel()
            self.early.set()  # no later vote brings anything forward
        else:
            await asyncio.sleep(at)
        while not self.online:
            await asyncio.sleep(0.1)
        if cut_within:  # armed here, or already by the caller
            self.cut = self.cut or asyncio.get_running_loop().create_future()
            await asyncio.wait({self.cut}, timeout=cut_within)
            self.bench.cut_after_write += self.cut.done()
            self.cut = None
            while not self.online:
                await asyncio.sleep(0.1)
        self.dropping = True
        await self.sio.eio.ws.close()  # the transport dies, no Socket.IO goodbye
        while self.online:
            await asyncio.sleep(0.05)
        await self.connect(random.uniform(1, 5))
        self.dropping = False


class Console(Phone):
    """A facilitator's console: a screen of its table (steps are pushed by the
    organizer); it catches up, drops and comes back like a phone."""

    def __init__(self, bench, table_id, secret, code):
        super().__init__(bench, None, table_id, code, "")
        self.cookie = None
        self.how = dict(auth={"role": "facilitator", "secret": secret}, transports=["websocket"])

    async def catch_up(self, source):
        await super().catch_up(source)
        if self.steps:  # the organizer's step writes name kinds; the check needs ids
            steps = self.steps.values()
            self.bench.steps_of[self.table_id] = {s["kind"]: s["id"] for s in steps}


class Organizer(Phone):
    """The organizer's control room: pushes every table to a step in one
    write, through an outbox like a phone's (resent with its client id after
    a drop or a timeout, until answered)."""

    # From the diverge step: within a minute, ideas, groups, then the vote.
    KINDS = ["diverge", "cluster", "vote", "sheet", "commit", "plenary", "intro", "brief"]

    def __init__(self, bench, event_id, email, password):
        super().__init__(bench, None, None, "", "")
        self.event_id, self.email, self.password = event_id, email, password
        self.how = dict(auth={"role": "organizer", "event": event_id}, transports=["websocket"])
        self.cookie, self.position = None, -1
        self.sent: list[StepWrite] = []

    async def connect(self, delay=0.0):
        if self.cookie is None and not self.bench.args.relay:  # signs in as a browser does
            http = requests.Session()
            page = http.get(f"{self.bench.url}/login").text
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            form = {"csrf_token": token, "email": self.email, "password": self.password}
            http.post(f"{self.bench.url}/login", data=form, allow_redirects=False)
            self.cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        return await super().connect(delay)

    def on_connect(self):
        self.online = True
        self.wake.set()  # no table to catch up with: flush the outbox

    async def next_step(self):
        self.position = (self.position + 1) % len(self.KINDS)
        kind = self.KINDS[self.position]
        now = time.monotonic()
        for table_id, mates in self.bench.tables.items():
            if self.cut is not None:  # this one goes with a drop: its pushes are not timed
                break
            step_id = self.bench.steps_of.get(table_id, {}).get(kind)
            online = {p.index for p in mates if p.online and not p.dropping}
            self.bench.step_sent[(table_id, step_id)] = [now, online, None]  # None: not seen yet
        write = StepWrite(kind)
        self.sent.append(write)
        self.outbox.append(write)
        self.wake.set()
        # The next push only after this one's answer (it stays in the outbox if late).
        await asyncio.wait({asyncio.ensure_future(write.done.wait())}, timeout=6 * ACK_TIMEOUT)
        if self.bench.args.drop and len(self.sent) == 1:
            self.push_again_and_drop(kind)

    def push_again_and_drop(self, kind):
        """Push the same step again (a second click; it changes nothing) and
        lose the connection right after it leaves: resent after reconnecting,
        it must be answered from its receipt, never done twice. Not timed, and
        no timed push waits for it (the next is a whole --step-every away)."""
        self.cut = asyncio.get_running_loop().create_future()  # before the sender runs
        again = StepWrite(kind)
        self.sent.append(again)
        self.outbox.append(again)
        self.wake.set()
        asyncio.ensure_future(self.drop(0, 10))


class Desk:
    """A synthesis desk (issue 18) by its secret link: it follows every
    table's changes (pushes named ``tables``, folded by the server) and the
    app computes theme suggestions for it; how late each post reaches it,
    and whether its final catch-up finds every acknowledged post."""

    def __init__(self, bench, token):
        self.bench, self.ideas = bench, {}  # idea text -> when the desk first had it
        self.sio = socketio.AsyncClient(reconnection=True)
        self.sio.on("tables", lambda push: self.seen(push["changes"]))
        self.sio.on("connect", lambda: asyncio.ensure_future(self.sync()))
        self.how = dict(auth={"role": "desk", "token": token}, transports=["websocket"])

    def seen(self, changes):
        now = time.monotonic()
        for change in changes:
            if change.get("type") == "idea" and change.get("text"):
                self.ideas.setdefault(change["text"], now)

    async def sync(self):
        answer = await self.sio.call("sync", {}, timeout=60)
        for table in (answer or {}).get("tables", {}).values():
            self.seen(table["changes"])

    def delays(self) -> list[float]:
        """Post to desk, ms, for the posts the desk heard live (not at catch-up)."""
        return sorted(
            (self.ideas[post.text] - post.t0) * 1000
            for post in self.bench.posts.values()
            if post.text in self.ideas and post.acked and self.ideas[post.text] >= post.t0
        )


class Bench:
    def __init__(self, args, url, server_pid):
        self.args, self.url, self.server_pid = args, url, server_pid
        self.posts: dict[str, Post] = {}
        self.by_text: dict[str, Post] = {}
        self.step_pushes: list[float] = []  # step write to every phone of its table, ms
        self.step_sent: dict[tuple[int, int], tuple[float, set]] = {}
        self.steps_of: dict[int, dict[str, int]] = {}  # table id -> step kind -> step id
        self.step_acks: list[float] = []
        self.vote_acks: list[float] = []
        self.vote_refused: Counter = Counter()
        self.step_refused: list = []
        self.cut_after_write = 0  # drops right after a write left, before its answer
        self.refused, self.lags, self.tables = [], [], {}
        self.missed_broadcasts = self.unexpected = 0
        self.closing = False
        self.wal_path, self.wal_max = None, 0  # the SQLite -wal file, sampled every second
        self.dropped_per_second: dict[int, int] = {}  # the server's disconnections, per second

    def step_seen(self, phone, state):
        sent = self.step_sent.get((phone.table_id, state["step_id"]))
        if sent and phone.index in sent[1]:
            sent[1].discard(phone.index)
            sent[2] = time.monotonic()
            self.step_reached(sent)

    def step_out_of_sight(self, phone):
        """A phone that drops before a step push reaches it gets the step at
        its catch-up (checked after the final sync), seconds later: its drop's
        delay, not the server's, as for posts. Its table's push is timed by
        the phones that stayed."""
        for (table_id, _step_id), sent in self.step_sent.items():
            if table_id == phone.table_id and phone.index in sent[1]:
                sent[1].discard(phone.index)
                self.step_reached(sent)

    def step_reached(self, sent):
        """Time the push once the last phone still connected has the new step."""
        started, waiting, last_seen = sent
        if not waiting and last_seen is not None:
            self.step_pushes.append((last_seen - started) * 1000)

    async def step_loop(self, stop_at):
        while time.monotonic() + self.args.step_every < stop_at:
            await asyncio.sleep(self.args.step_every)
            await self.organizer.next_step()

    async def lag_monitor(self):  # how late this loop wakes up: the generator's own delay
        while not self.closing:
            t = time.monotonic()
            await asyncio.sleep(0.05)
            self.lags.append((time.monotonic() - t - 0.05) * 1000)
            if self.wal_path and len(self.lags) % 20 == 0:  # every second or so
                wal = Path(self.wal_path)
                self.wal_max = max(self.wal_max, wal.stat().st_size if wal.exists() else 0)

    async def post_loop(self, stop_at):
        t = time.monotonic()
        while (t := t + random.expovariate(self.args.rate)) < stop_at:
            await asyncio.sleep(max(0.0, t - time.monotonic()))
            some = random.sample(self.phones, min(20, len(self.phones)))
            for phone in (p for p in some if p.online and not p.dropping):
                if phone.vote_step and phone.votes_left > 0 and phone.cards:
                    phone.vote()  # its table votes: a vote, not a post
                    break
                mates = self.tables[phone.table_id]
                post = Post(phone, {p.index: p.epoch for p in mates if p.online and not p.dropping})
                self.posts[post.cid] = post
                self.by_text[post.text] = post
                phone.outbox.append(post)
                phone.wake.set()
                break

    async def batches(self, coroutines, size):  # not 2,000 handshakes at once
        for i in range(0, len(coroutines), size):
            await asyncio.gather(*coroutines[i : i + size], return_exceptions=True)

    async def run(self, people, secrets, organizer, desk_tokens=()):
        self.phones = [Phone(self, i, *person) for i, person in enumerate(people)]
        self.desks = [Desk(self, token) for token in desk_tokens]
        for desk in self.desks:  # open before the phones: it hears every post
            await desk.sio.connect(self.url, **desk.how, wait_timeout=20)
        self.consoles = [Console(self, *pair) for pair in secrets] if self.args.method else []
        self.organizer = Organizer(self, *organizer) if self.args.method else None
        for phone in self.phones:
            self.tables.setdefault(phone.table_id, []).append(phone)
        monitor, t = asyncio.ensure_future(self.lag_monitor()), time.monotonic()
        await self.batches([p.connect() for p in self.phones], 50)
        await self.batches([c.connect() for c in self.consoles], 50)
        if self.organizer:
            await self.organizer.connect()
        self.connect_s, self.online_start = time.monotonic() - t, self.online()
        gc.freeze()  # 2,000 long-lived clients: keep this loop's full collections short
        writers = self.phones + ([self.organizer] if self.organizer else [])
        senders = [asyncio.ensure_future(p.sender()) for p in writers]
        await asyncio.sleep(1)  # the first catch-ups
        duration, phones = self.args.duration, self.phones
        dropped = random.sample(phones, round(self.args.drop * len(phones)))
        drops = self.drops(dropped, duration)
        self.load = [os.getloadavg()[0]]
        cpu0, own0, t0 = self.server_cpu(), sum(os.times()[:2]), time.monotonic()
        print("posting: started", flush=True)  # bench/scale_out.py measures from here
        steps = self.consoles and asyncio.ensure_future(self.step_loop(t0 + duration))
        await self.post_loop(t0 + duration)
        if steps:
            await steps
        self.elapsed = time.monotonic() - t0
        print("posting: ended", flush=True)
        self.cpu = cpu0 is not None and (self.server_cpu() - cpu0) / self.elapsed * 100
        self.own_cpu = (sum(os.times()[:2]) - own0) / self.elapsed * 100
        self.load.append(os.getloadavg()[0])
        await asyncio.gather(*drops)
        deadline = time.monotonic() + 60  # every outbox drains, every phone is back
        while time.monotonic() < deadline and (
            self.online() < len(phones) or any(p.outbox for p in writers) or self.away()
        ):
            await asyncio.sleep(0.2)
        self.settle_s, self.dropped = time.monotonic() - t0 - self.elapsed, len(dropped)
        self.closing = True
        await self.batches([p.catch_up("final") for p in phones + self.consoles], 100)
        self.online_end = self.online()
        self.consoles_end = sum(c.online for c in self.consoles)
        for task in [*senders, monitor]:
            task.cancel()
        await self.batches([p.sio.disconnect() for p in phones], 100)
        await self.batches([c.sio.disconnect() for c in self.consoles], 100)
        if self.organizer:
            await self.organizer.sio.disconnect()
        for desk in self.desks:
            self.desk_live = desk.delays()
            await desk.sync()  # the final catch-up: every post, live or not
            await desk.sio.disconnect()

    def online(self):
        return sum(p.online for p in self.phones)

    def drops(self, phones, duration) -> list[asyncio.Future]:
        """The phones' drops at random times (with the app, each right after
        a write leaves if one does within 3 s: the resend must be answered,
        never redone), and as many of the consoles (the organizer drops in
        Organizer.push_again_and_drop)."""
        cut = 0.0 if self.args.relay else 3.0
        at = lambda: random.uniform(0, duration)  # noqa: E731
        drops = [asyncio.ensure_future(p.drop(at(), cut)) for p in phones]
        consoles = random.sample(self.consoles, round(self.args.drop * len(self.consoles)))
        self.consoles_dropped = len(consoles)
        drops += [asyncio.ensure_future(c.drop(at())) for c in consoles]
        return drops

    def away(self) -> int:
        """Consoles and organizer not connected (yet)."""
        return sum(not c.online for c in self.consoles + [self.organizer] if c)

    def server_cpu(self):
        """CPU seconds of the server processes and of their children (the
        SQLite checkpointer), as long as they run."""
        if not self.server_pid:
            return None
        pids = list(self.server_pid)
        for server in self.server_pid:
            children = Path(f"/proc/{server}/task/{server}/children")
            if children.exists():
                pids += [int(pid) for pid in children.read_text().split()]
        total = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total


def steps_line(bench: Bench, ms) -> str:
    if not bench.consoles:
        return "steps: not run (give --method)"
    pushes, votes, acks = sorted(bench.step_pushes), sorted(bench.vote_acks), bench.step_acks
    refused = ", ".join(f"{code}: {n}" for code, n in bench.vote_refused.items()) or "none"
    return (
        f"step pushes (the organizer moves all tables at once, every {bench.args.step_every:g} s,"
        f" one write; acked in {', '.join(f'{a:.0f}' for a in acks)} ms): n={len(pushes)} tables "
        f"reached; the write to every phone of a table p50={ms(pushes, 50)} "
        f"p99={ms(pushes, 99)} max={ms(pushes, 100)}\n"
        f"votes (the writes of tables at their vote step): n={len(votes)} acked, "
        f"ack p50={ms(votes, 50)} p99={ms(votes, 99)} max={ms(votes, 100)}; "
        f"refused by the rules: {refused}; "
        f"no answer: {sum(not c.reply for p in bench.phones for c in p.casts)}"
    )


def stored_ideas(database_url: str, table_ids: list[int]) -> list[tuple]:
    """(participant, client id, table, text) of the ideas of these tables."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = sa.text(
                "SELECT participant_id, client_id, table_id, text FROM ideas WHERE table_id IN :ids"
            ).bindparams(sa.bindparam("ids", expanding=True))
            return [tuple(row) for row in connection.execute(query, {"ids": table_ids})]
    finally:
        engine.dispose()


def stored_votes_and_steps(database_url: str, table_ids: list[int], bench: Bench) -> dict:
    """What the database holds of the votes and step writes of these tables:
    the dots, the receipts, each table's step, the step pushes journaled."""
    import sqlalchemy as sa

    ids = sa.bindparam("ids", expanding=True)
    step_cids = [w.cid for w in bench.organizer.sent] or ["-"]
    queries = {
        "votes": "SELECT id, table_id, active FROM votes WHERE table_id IN :ids",
        "casts": "SELECT client_id, refs FROM writes WHERE op = 'vote.cast' AND table_id IN :ids",
        "tables": "SELECT id, step_id FROM tables WHERE id IN :ids",
        "steps": "SELECT client_id FROM writes WHERE op = 'tables.step' AND client_id IN :cids",
        "journaled": "SELECT count(*) FROM journal WHERE action = 'tables.step_pushed' "
        "AND event_id = :event",
    }
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            found = {}
            for name, sql in queries.items():
                query = sa.text(sql)
                query = query.bindparams(ids) if ":ids" in sql else query
                if ":cids" in sql:
                    query = query.bindparams(sa.bindparam("cids", expanding=True))
                params = {"ids": table_ids, "cids": step_cids, "event": bench.organizer.event_id}
                used = {k: v for k, v in params.items() if f":{k}" in sql}
                found[name] = [tuple(row) for row in connection.execute(query, used)]
            return found
    finally:
        engine.dispose()


def check_votes_and_steps(bench: Bench, database_url: str, table_ids: list[int]) -> bool:
    """Votes and step writes, lost or duplicated, counted as the posts are:
    acked and not in the database or not on a screen of the table after the
    final sync; one write stored or applied twice. Prints; True if none."""
    if not bench.organizer:
        return True
    db = stored_votes_and_steps(database_url, table_ids, bench)
    screens = {t: [*phones] for t, phones in bench.tables.items()}
    for console in bench.consoles:
        screens[console.table_id].append(console)
    # Votes: one acked vote.cast, one dot, whatever the resends.
    casts = [c for p in bench.phones for c in p.casts]
    acked = [c for c in casts if c.acked]
    dots = {row[0]: row for row in db["votes"]}
    refs = {
        cid: {
            ref[1] for ref in (json.loads(r) if isinstance(r, str) else r or []) if ref[0] == "vote"
        }
        for cid, r in db["casts"]
    }
    # The dots the acked votes' receipts name (a resend under another id would leave one more).
    by_receipts = Counter(vote_id for c in acked for vote_id in refs.get(c.cid, ()))
    no_dot = sum(  # no receipt, or it (or the answer) names a dot that is not there
        not refs.get(c.cid) or any(d not in dots for d in refs[c.cid] | c.vote_ids) for c in acked
    )
    one_for_two = sum(n - 1 for n in by_receipts.values())  # two acked writes, one dot
    stray = sum(vote_id not in by_receipts for vote_id in dots)  # a dot no acked vote accounts for
    twice = sum(len(refs.get(c.cid, ())) > 1 for c in acked)  # one write, two dots
    own_more = 0  # a phone showing more of its own dots than it had votes acked
    for phone in bench.phones:
        own = sum("idea_id" in v and v["active"] for v in phone.votes.values())
        own_more += max(0, own - sum(bool(c.acked) for c in phone.casts))
    active = {t: {i for i, (_i, table, on) in dots.items() if on and table == t} for t in screens}
    unseen = sum(
        len(active[t] - {i for i, v in s.votes.items() if v["active"]})
        for t, mates in screens.items()
        for s in mates
    )
    unanswered = sum(not c.reply for c in casts)
    vote_lost, vote_dup = no_dot + one_for_two + unseen + unanswered, stray + twice + own_more
    # Step writes: the last acked one is each table's step, on every screen of it.
    writes = bench.organizer.sent
    done = [w for w in writes if w.acked]
    stored = Counter(row[0] for row in db["steps"])
    no_receipt = sum(w.cid not in stored for w in done)
    journaled = db["journaled"][0][0]
    steps_dup = sum(n - 1 for n in stored.values()) + max(0, journaled - len(stored))
    step_of = dict(db["tables"])
    wrong_table = wrong_screen = 0
    if done and done[-1] is writes[-1]:  # else the last write is unanswered (counted)
        for table_id, by_kind in bench.steps_of.items():
            wrong_table += by_kind.get(done[-1].kind) not in (None, step_of.get(table_id))
        wrong_screen = sum(
            (s.state or {}).get("step_id") != step_of.get(t)
            for t, mates in screens.items()
            for s in mates
        )
    step_unanswered = sum(not w.reply for w in writes)
    steps_lost = no_receipt + wrong_table + wrong_screen + step_unanswered
    print(f"""votes: {len(casts)} cast, {len(acked)} acked, {sum(c.sends > 1 for c in casts)} \
resent, {sum(bool(c.reply) and not c.acked for c in casts)} refused by the rules, {len(dots)} \
stored; step writes: {len(writes)}, {len(done)} acked, {sum(w.sends > 1 for w in writes)} \
resent, {len(bench.step_refused)} refused; drops right after a write left: \
{bench.cut_after_write}; consoles: {bench.consoles_dropped} dropped on purpose, \
{bench.consoles_end}/{len(bench.consoles)} online at the final sync
LOST votes: {vote_lost} (acked, no dot in the database: {no_dot}; two acked votes, one dot: \
{one_for_two}; a dot missing on a screen of its table after the final sync: {unseen}; \
never answered: {unanswered})
DUPLICATED votes: {vote_dup} (a dot no acked vote accounts for: {stray}; one vote, two dots: \
{twice}; a phone showing more of its dots than it had acked: {own_more})
LOST step writes: {steps_lost} (acked, no receipt: {no_receipt}; a table not at the last \
acked step: {wrong_table}; a screen not at its table's step after the final sync: \
{wrong_screen}; never answered: {step_unanswered})
DUPLICATED step writes: {steps_dup} ({journaled} pushes journaled for {len(stored)} \
receipts)""")
    if bench.step_refused:
        print("step write refused, e.g.:", bench.step_refused[0])
    return vote_lost == vote_dup == steps_lost == steps_dup == 0


def report(args, bench: Bench, database_url: str, table_ids: list[int]) -> bool:
    """Print the figures; check the database and every phone's final view."""
    posts = bench.posts.values()
    acked = [p for p in posts if p.acked]
    if args.relay:  # nothing is stored: only what the phones saw is checked
        rows, stored = [], {p.cid for p in acked}
    else:
        rows = stored_ideas(database_url, table_ids)
        stored = {row[1] for row in rows}
    views = lambda post: (p.view for p in bench.tables[post.phone.table_id])  # noqa: E731
    missing_db = sum(p.cid not in stored for p in acked)
    missing_view = sum(any(p.cid not in view for view in views(p)) for p in acked)
    if args.relay:  # the relay keeps no history: a phone that dropped misses what it missed
        print(f"(relay: {missing_view} posts missed by phones that were away; not counted)")
        missing_view = 0
    same_cid = sum(n - 1 for n in Counter((r[0], r[1]) for r in rows).values())
    same_text = sum(n - 1 for n in Counter((r[2], r[3]) for r in rows).values())
    twice = sum(len(ids) > 1 for p in bench.phones for ids in p.view.values())
    lost, dup = missing_db + missing_view + len(posts) - len(acked), same_cid + same_text + twice
    timed = [p for p in acked if not p.cut]  # not those sent just before a drop
    screen = sorted((max(p.got.values()) - p.t0) * 1000 for p in timed if p.got)
    ack, lags = sorted((p.acked - p.t0) * 1000 for p in timed), sorted(bench.lags)
    ms = lambda v, q: f"{v[min(len(v) - 1, int(q / 100 * len(v)))]:.0f} ms" if v else "-"  # noqa: E731
    verdict = "met" if screen and screen[int(0.99 * len(screen))] <= 250 else "MISSED"
    cpu = f"{bench.cpu:.0f}%" if bench.cpu is not False else "n/a (give --server-pid)"
    print(f"""
== Live load: {args.tables} tables x {args.phones} phones, {args.rate:g} posts/s for \
{args.duration:g} s, {args.drop:.0%} of the phones drop once
machine: {os.cpu_count()} CPUs shared by the server ({server_name(args)}) \
and this load generator; load average {bench.load[0]:.1f} when posting starts, \
{bench.load[1]:.1f} when it ends
phones: {bench.online_start}/{len(bench.phones)} connected in {bench.connect_s:.1f} s; \
{bench.dropped} dropped on purpose; {bench.unexpected} disconnected by the server \
(reconnect storm: at most {max(bench.dropped_per_second.values(), default=0)} in one second); \
{bench.online_end} online at the final sync
posts: {len(posts)} sent ({len(posts) / bench.elapsed:.1f}/s), {len(acked)} acked, \
{sum(p.sends > 1 for p in posts)} resent, {len(bench.refused)} refused, {len(rows)} stored; \
all settled {bench.settle_s:.1f} s after posting ended
post-to-every-screen: n={len(screen)} p50={ms(screen, 50)} p95={ms(screen, 95)} \
p99={ms(screen, 99)} max={ms(screen, 100)} (budget p99 <= 250 ms: {verdict})
ack: p50={ms(ack, 50)} p99={ms(ack, 99)} max={ms(ack, 100)}
{steps_line(bench, ms)}
broadcasts an online phone never got (found by the final sync): {bench.missed_broadcasts}
CPU while posting (100% = one core): server {cpu}, load generator {bench.own_cpu:.0f}%; \
generator loop lag p99={ms(lags, 99)} max={ms(lags, 100)}
SQLite -wal file: largest {bench.wal_max / 2**20:.1f} MB (sampled every second)
LOST: {lost} (acked, not in the database: {missing_db}; acked, missing on a phone after \
the final sync: {missing_view}; never acked: {len(posts) - len(acked)})
DUPLICATED: {dup} (same participant and client id: {same_cid}; one post stored under two \
ids: {same_text}; shown twice on a phone: {twice})""")
    if bench.refused:
        print("refused, e.g.:", bench.refused[0])
    desk_missing = 0
    for n, desk in enumerate(bench.desks, 1):  # what the theme team saw
        missing = [p for p in acked if p.text not in desk.ideas]
        desk_missing += len(missing)
        live = bench.desk_live
        print(
            f"desk {n}: heard {len(live)} of {len(acked)} acked posts live, post-to-desk "
            f"p50={ms(live, 50)} p99={ms(live, 99)} (pushes folded to one a second); "
            f"missing after its final catch-up: {len(missing)}"
        )
    others = (args.relay or check_votes_and_steps(bench, database_url, table_ids)) and not (
        desk_missing
    )
    pushes = sorted(bench.step_pushes)
    bench.figures = {  # what --compare reads back
        "cpu": bench.cpu if bench.cpu is not False else None,
        "p99_ms": quantile(screen, 99),
        "connect_s": bench.connect_s,
        "step_p99_ms": quantile(pushes, 99),
        "lost": lost,
        "duplicated": dup,
    }
    return lost == dup == 0 and bench.online_end == len(bench.phones) and others


def quantile(values: list[float], q: float) -> float | None:
    """The q-th percentile of sorted ``values`` (as the printed figures), or None."""
    return values[min(len(values) - 1, int(q / 100 * len(values)))] if values else None


def compare(argv: list[str]) -> int:
    """Run the relay, the app, then the relay again with the same load, each
    its own process; print the app's figures against the relays' mean (the
    host's speed drifts between runs, so the relay is measured on both sides)."""
    argv = [a for a in argv if a != "--compare"]
    runs, code = [], 0
    with tempfile.TemporaryDirectory(prefix="live-compare-") as workdir:
        relay = argv + ["--relay"]  # the same load, --method included
        for n, (name, extra) in enumerate([("relay", relay), ("app", argv), ("relay", relay)]):
            figures = Path(workdir) / f"{n}.json"
            print(f"\n##### {name} ({n + 1} of 3)", flush=True)
            done = subprocess.run([sys.executable, __file__, *extra, "--figures", str(figures)])
            if name == "app":
                code = done.returncode
            runs.append((name, json.loads(figures.read_text()) if figures.exists() else None))
    if any(figures is None for _name, figures in runs):
        print("\n== Compare: a run gave no figures (see above)")
        return 1
    (_r1, relay1), (_a, app), (_r2, relay2) = runs
    mean = lambda key: (relay1[key] + relay2[key]) / 2  # noqa: E731
    ratio = lambda key: app[key] / mean(key) if mean(key) else float("inf")  # noqa: E731
    line = lambda name, f: (  # noqa: E731
        f"{name}: CPU {f['cpu']:.0f}%, p99 {f['p99_ms']:.0f} ms, "
        f"connected in {f['connect_s']:.1f} s"
        + (f", step pushes p99 {f['step_p99_ms']:.0f} ms" if f["step_p99_ms"] else "")
    )
    p99_budget = max(250, 1.5 * max(relay1["p99_ms"], relay2["p99_ms"]))
    verdict = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    print("\n== Compare (one run each, in this order)")
    for name, figures in (("relay before", relay1), ("app", app), ("relay after", relay2)):
        print(line(f"{name:<12}", figures))
    print(
        f"app / relays' mean: CPU {ratio('cpu'):.2f}x (budget <= 1.5x: "
        f"{verdict(ratio('cpu') <= 1.5)}), connecting {ratio('connect_s'):.2f}x (budget <= 2x: "
        f"{verdict(ratio('connect_s') <= 2)}); app p99 {app['p99_ms']:.0f} ms (budget <= "
        f"{p99_budget:.0f} ms: {verdict(app['p99_ms'] <= p99_budget)})"
    )
    return code


def server_name(args) -> str:
    if args.url:
        return args.url
    return "bench/relay.py: the bare relay, started here" if args.relay else "run.py, started here"


def start_server(
    workdir: Path, database_url: str, relay=False, production_limits=False, slow_disk_ms=0
) -> tuple[subprocess.Popen, str]:
    """Start run.py (or the bare relay); with ``production_limits``, the
    posting and per-address limits stay as in production; with
    ``slow_disk_ms``, every disk flush of the server takes that much longer."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", DATABASE_URL=database_url)
    env.update(WORKSHOP_INSTANCE=str(workdir / "instance"), SECRET_KEY="bench-secret")
    env.update(SOCKETIO_ASYNC_MODE="gevent")
    if not production_limits:  # thousands of phones, one address: the generator's
        env.update(
            RATE_LIMIT_POSTS="100000", MAX_SCREENS_PER_ADDRESS="0", MAX_CONNECTIONS_PER_ADDRESS="0"
        )
    if slow_disk_ms:
        sys.path.insert(0, str(ROOT))
        from tests.faults import slow_disk

        env.update(slow_disk(workdir, slow_disk_ms))
    log = open(workdir / "server.log", "a")  # noqa: SIM115 (kept open for the child)
    run = [sys.executable, str(ROOT / ("bench/relay.py" if relay else "run.py"))]
    server = subprocess.Popen(run, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if server.poll() is not None:
            sys.exit("server exited:\n" + (workdir / "server.log").read_text())
        try:
            requests.get(url + "/", timeout=1)
            return server, url
        except requests.ConnectionError:
            time.sleep(0.1)
    sys.exit("server did not start:\n" + (workdir / "server.log").read_text())


PASSWORD = "bench password 1234"


def prepare(database_url: str, tables: int, phones: int, desks: int = 0) -> tuple:
    """One organizer, one live event, its tables and participants, and
    ``desks`` desk links' tokens, through the services."""
    os.environ.setdefault("SECRET_KEY", "bench-secret")
    from workshop import create_app
    from workshop.extensions import db
    from workshop.models import Challenge, Territory
    from workshop.services import accounts, desk, events, live

    config = dict(SQLALCHEMY_DATABASE_URI=database_url, SOCKETIO_ASYNC_MODE="threading")
    with create_app({**config, "SOCKETIO_MESSAGE_QUEUE": None}).app_context():
        territory = Territory(
            name="Banc d'essai",
            population=10000,
            settings={"public": {"controller": "Banc", "controller_contact": "banc@example.org"}},
        )
        db.session.add(territory)
        email = f"bench-{new_client_id()[:8]}@example.org"
        organizer = accounts.create_organizer("Bench", email, PASSWORD, territory)
        db.session.commit()
        event = events.create_event(organizer, territory, "Banc d'essai", None, "Salle")
        brief = dict(challenge=Challenge.creative, brief="Contexte et question.")
        for n in range(1, tables + 1):
            events.add_table(organizer, event, name=f"T{n}", brief_title=f"Question {n}", **brief)
        events.update_event(organizer, event, status="live")
        join = lambda t, k: live.join_table(t, f"Tel {t.number}.{k}", "citizen")[1]  # noqa: E731
        people = [(t.id, t.join_code, join(t, k)) for t in event.tables for k in range(phones)]
        table_ids = [t.id for t in event.tables]
        secrets = [(t.id, t.facilitator_secret, t.join_code) for t in event.tables]
        organizer_login = (event.id, email, PASSWORD)
        desk_tokens = [desk.new_link(organizer, event, f"Desk {n}")[1] for n in range(desks)]
        db.session.remove()
        db.engine.dispose()
    return table_ids, people, secrets, organizer_login, desk_tokens


def print_warnings(log: Path, most: int = 10) -> None:
    """The server's warnings and errors during the run (a stall's cause shows
    there: a failed write, the database away…)."""
    if not log.exists():
        return
    found = [
        line.rstrip()
        for line in log.read_text(errors="replace").splitlines()
        if " WARNING " in line or " ERROR " in line
    ]
    print(f"server warnings and errors: {len(found)}")
    for line in found[:most]:
        print(f"  {line[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--phones", type=int, default=10, help="phones per table")
    parser.add_argument("--rate", type=float, default=100, help="posts per second, all tables")
    parser.add_argument("--duration", type=float, default=60, help="seconds of posting")
    parser.add_argument("--drop", type=float, default=0.1, help="fraction of phones that drop")
    parser.add_argument("--method", action="store_true", help="consoles move every table's steps")
    parser.add_argument("--step-every", type=float, default=15, help="seconds between step pushes")
    parser.add_argument(
        "--desk",
        type=int,
        default=0,
        help="synthesis desks open (by secret links) while posting; the app suggests themes",
    )
    parser.add_argument("--relay", action="store_true", help="the bare relay instead of the app")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="run the relay, the app, then the relay again; print the app's ratios to the relay",
    )
    parser.add_argument("--figures", help="write this run's main figures to this JSON file")
    parser.add_argument("--url", help="a running server instead (needs --database-url)")
    parser.add_argument("--database-url", help="that server's database (SQLite or PostgreSQL)")
    parser.add_argument(
        "--server-pid",
        type=int,
        action="append",
        help="that server's process, for its CPU use (once per process when several)",
    )
    parser.add_argument("--server-log", help="keep the started server's output in this file")
    parser.add_argument(
        "--slow-disk", type=int, default=0, metavar="MS", help="every disk flush takes MS longer"
    )
    args = parser.parse_args()
    if args.compare:
        if args.relay or args.url:
            parser.error("--compare starts the relay and the app itself")
        sys.exit(compare(sys.argv[1:]))
    if args.url and not args.database_url:
        parser.error("--url needs --database-url, that server's database")
    if args.relay and args.url:
        parser.error("--relay runs the bare relay itself")
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # drops are expected
    with tempfile.TemporaryDirectory(prefix="live-load-") as workdir:
        database_url = args.database_url or f"sqlite:///{Path(workdir) / 'bench.db'}"
        server, url = None, (args.url or "").rstrip("/")
        if not args.url:
            server, url = start_server(  # run.py migrates
                Path(workdir), database_url, args.relay, slow_disk_ms=args.slow_disk
            )
            print(f"server: {server_name(args)}, pid {server.pid} on {url}", flush=True)
        try:
            t = time.monotonic()
            if args.relay:  # no database: made-up tables and tokens, the same rooms
                table_ids = list(range(1, args.tables + 1))
                people = [(n, f"T{n}", "-") for n in table_ids for _k in range(args.phones)]
                secrets = [(n, f"T{n}", f"T{n}") for n in table_ids]  # the relay's own rooms
                organizer, desk_tokens = (None, "", ""), []
            else:
                prepared = prepare(database_url, args.tables, args.phones, args.desk)
                table_ids, people, secrets, organizer, desk_tokens = prepared
            print(f"prepared {len(people)} phones in {time.monotonic() - t:.1f} s", flush=True)
            bench = Bench(args, url, [server.pid] if server else args.server_pid or [])
            if database_url.startswith("sqlite:///"):
                bench.wal_path = database_url.removeprefix("sqlite:///") + "-wal"
            asyncio.run(bench.run(people, secrets, organizer, desk_tokens))
            ok = report(args, bench, database_url, table_ids)
            if args.figures:
                Path(args.figures).write_text(json.dumps(bench.figures))
        finally:
            if server:
                server.terminate()
                server.wait(30)
                print_warnings(Path(workdir) / "server.log")
                if args.server_log:
                    shutil.copy(Path(workdir) / "server.log", args.server_log)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
