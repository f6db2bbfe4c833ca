"""One phone on the venue's Wi-Fi misbehaves: how long does a legitimate phone
at another table wait for its acknowledgements meanwhile? (issue 7, §2)

Starts run.py (gevent, production limits, a temporary SQLite file), prepares
an open evening, connects a legitimate phone at table 1 that posts every
200 ms, and runs each abuse from another table for --seconds while it posts.
Prints, per abuse, how long the legitimate phone waits for each answer
(p50 / p99 / max, budget p99 <= 250 ms; "inf" is no answer within 10 s) and
what the abuser was answered: refusals (429, rate_limited) show the limits
holding. Silent connections and transports are closed after READ_TIMEOUT
(20 s): give --seconds 30 to see them closed.

    .venv/bin/python bench/abuse.py                 # every abuse, 10 s each
    .venv/bin/python bench/abuse.py --only resend --seconds 5
"""

import argparse
import logging
import re
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import engineio
import requests
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_load import prepare, start_server  # noqa: E402

from workshop.client import Client, new_client_id  # noqa: E402

BUDGET_MS = 250


class Phone(Client):
    """A participant's socket (the protocol's client, threaded) with its
    cookie; never reconnected: an abuser cut off stays cut off."""

    def __init__(self, url: str, code: str, token: str):
        super().__init__(
            url,
            {"role": "participant", "table": code},
            headers={"Cookie": f"wt_{code}={token}"},
            reconnection=False,
        )

    @property
    def client(self) -> socketio.Client:
        return self.sio


def said(answer) -> str:
    """What a write or a catch-up was answered, in a word."""
    if answer is None:
        return "no answer"
    return answer.get("error") or ("duplicate" if answer.get("duplicate") else "ok")


# --- the abuses: each runs until ``stop`` is set and counts what it was answered -------


def silent_connections(url, abuser, stop, answers):
    host, port = url.removeprefix("http://").split(":")
    held = []
    while not stop.is_set() and len(held) < 500:
        try:
            held.append(socket.create_connection((host, int(port)), timeout=5))
            answers["opened"] += 1
        except OSError:
            answers["refused"] += 1
    stop.wait()
    answers["closed by the server"] = sum(_closed(connection) for connection in held)


def _closed(connection: socket.socket) -> bool:
    connection.settimeout(0.01)
    try:
        return connection.recv(1) == b""
    except OSError:
        return False
    finally:
        connection.close()


def bodies_never_sent(url, abuser, stop, answers):
    host, port = url.removeprefix("http://").split(":")
    held = []
    while not stop.is_set() and len(held) < 200:
        opened = requests.get(f"{url}/socket.io/?EIO=4&transport=polling", timeout=5)
        sid = re.search(r'"sid":"([^"]+)"', opened.text).group(1)
        connection = socket.create_connection((host, int(port)), timeout=5)
        connection.sendall(
            f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: text/plain\r\nContent-Length: 5000\r\n\r\n".encode()
        )
        held.append(connection)
        answers["opened"] += 1
    stop.wait()
    for connection in held:
        connection.close()


def oversized_messages(url, abuser, stop, answers):
    while not stop.is_set():
        client = engineio.Client()
        dropped = threading.Event()
        client.on("disconnect", lambda *_, dropped=dropped: dropped.set())
        client.connect(url, transports=["websocket"], engineio_path="socket.io")
        client.send("x" * 200_000)
        answers["dropped by the server" if dropped.wait(5) else "kept"] += 1


def resend_storm(url, abuser, stop, answers):
    client_id = new_client_id()
    while not stop.is_set() and abuser.connected:  # cut off: the abuse is over
        answers[said(abuser.write("idea.post", {"text": "Toujours la même"}, client_id))] += 1


def edit_storm(url, abuser, stop, answers):
    client_id = new_client_id()
    abuser.write("idea.post", {"text": "À modifier"}, client_id)
    while not stop.is_set() and abuser.connected:  # cut off: the abuse is over
        answer = abuser.write("idea.edit", {"target": client_id, "text": "À modifier"})
        answers[said(answer)] += 1


def sync_storm(url, abuser, stop, answers):
    while not stop.is_set() and abuser.connected:  # cut off: the abuse is over
        answers[said(abuser.sync(0))] += 1


def malformed_payloads(url, abuser, stop, answers):
    values = [2**64, True, "\ud800", [1, [2]], {"a": None}, -(2**70), 1.5]
    while not stop.is_set() and abuser.connected:  # cut off: the abuse is over
        for value in values:
            answers[said(abuser.write("idea.post", {"text": value, "kind": value}))] += 1


def _join(url, code, answers):
    http = requests.Session()
    form = http.get(f"{url}/t/{code}")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.text)
    if token is None:
        answers[f"no form ({form.status_code})"] += 1
        return
    answer = http.post(
        f"{url}/t/{code}/join",
        data={"csrf_token": token.group(1), "display_name": "Bot", "category": "citizen"},
        allow_redirects=False,
    )
    answers[str(answer.status_code)] += 1


def join_flood(url, abuser, stop, answers, codes=()):
    while not stop.is_set():
        _join(url, codes[-1], answers)


def seat_flood(url, abuser, stop, answers, codes=()):
    joined = 0
    while not stop.is_set():
        _join(url, codes[joined % len(codes)], answers)
        joined += 1


def code_guessing(url, abuser, stop, answers):
    guess = 0
    while not stop.is_set():
        answer = requests.get(f"{url}/e/{guess:05d}", timeout=5)
        answers[str(answer.status_code)] += 1
        guess += 1


def huge_forms(url, abuser, stop, answers):
    while not stop.is_set():
        answer = requests.post(f"{url}/login", data={"email": "x" * 20_000_000}, timeout=30)
        answers[str(answer.status_code)] += 1


def unidentified_transports(url, abuser, stop, answers):
    clients = []
    while not stop.is_set() and len(clients) < 300:
        client = engineio.Client()
        client.connect(url, transports=["websocket"], engineio_path="socket.io")
        clients.append(client)
        answers["opened"] += 1
    stop.wait()
    answers["closed by the server"] = sum(c.state != "connected" for c in clients)
    for client in clients:
        client.disconnect()


ABUSES = {
    "baseline": None,
    "silent": ("500 TCP connections that never send a request", silent_connections),
    "bodies": ("200 polling bodies announced, never sent", bodies_never_sent),
    "oversized": ("WebSocket messages of 200 KB, one after the other", oversized_messages),
    "unidentified": ("300 transports that never say who they are", unidentified_transports),
    "resend": ("the same post resent as fast as answered", resend_storm),
    "edits": ("unchanged edits as fast as answered", edit_storm),
    "sync": ("catch-ups as fast as answered", sync_storm),
    "malformed": ("malformed payloads as fast as answered", malformed_payloads),
    "joins": ("joins of one table from one address, as fast as answered", join_flood),
    "forms": ("20 MB form bodies, one after the other", huge_forms),
    # Last: they leave this address refused for a while (joins, then any code).
    "seats": ("joins of every table from one address, as fast as answered", seat_flood),
    "codes": ("wrong evening codes from one address, as fast as answered", code_guessing),
}


def measure(url, legit: Phone, abuse, abuser, seconds, codes) -> tuple[list[float], Counter]:
    stop, answers, latencies = threading.Event(), Counter(), []
    worker = None
    if abuse is not None:
        kwargs = {"codes": codes} if abuse in (join_flood, seat_flood) else {}
        worker = threading.Thread(
            target=_guarded, args=(abuse, url, abuser, stop, answers), kwargs=kwargs
        )
        worker.start()
        time.sleep(1)  # the abuse under way
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        # Answered is what counts: within its posting limit (12 a minute)
        # the post is stored, past it refused for a while; both are answers.
        answer = legit.write("idea.post", {"text": f"Légitime {new_client_id()[:6]}"})
        if answer is None:
            latencies.append(float("inf"))  # no answer in 10 s
        else:
            latencies.append((time.monotonic() - started) * 1000)
        time.sleep(max(0.0, 0.2 - (time.monotonic() - started)))
    stop.set()
    if worker is not None:
        worker.join(30)
    return latencies, answers


def _guarded(abuse, *args, **kwargs):
    try:
        abuse(*args, **kwargs)
    except Exception as error:  # the abuser's own failure is part of the answer
        args[-1][f"abuser failed: {type(error).__name__}"] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--only", choices=list(ABUSES), action="append")
    args = parser.parse_args()
    names = args.only or list(ABUSES)
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # drops are the point
    with tempfile.TemporaryDirectory(prefix="abuse-") as workdir:
        database_url = f"sqlite:///{Path(workdir) / 'bench.db'}"
        server, url = start_server(Path(workdir), database_url, production_limits=True)
        try:
            _table_ids, people, _secrets, _organizer, _desks = prepare(database_url, 3, 20)
            legit = Phone(url, people[0][1], people[0][2])
            codes = list(dict.fromkeys(code for _table, code, _token in people))
            print(
                f"== A legitimate phone posts every 200 ms at table 1 during each abuse "
                f"({args.seconds:g} s; budget p99 <= {BUDGET_MS} ms)"
            )
            for name in names:
                # A fresh abuser each time (the last one may have been cut off).
                abuser = Phone(
                    url, people[20 + names.index(name)][1], people[20 + names.index(name)][2]
                )
                title, abuse = ABUSES[name] or ("no abuse", None)
                latencies, answers = measure(url, legit, abuse, abuser, args.seconds, codes)
                ordered = sorted(latencies)
                at = lambda q, v=ordered: v[min(len(v) - 1, int(q * len(v)))]  # noqa: E731
                verdict = "met" if at(0.99) <= BUDGET_MS else "MISSED"
                said = ", ".join(f"{k}: {v}" for k, v in answers.most_common(4)) or "-"
                print(
                    f"{name:13} {title}\n{'':13} legitimate answers n={len(ordered)} "
                    f"p50={at(0.5):.0f} ms p99={at(0.99):.0f} ms max={ordered[-1]:.0f} ms "
                    f"({verdict}); the abuser got: {said}"
                )
                if abuser.client.connected:
                    abuser.client.disconnect()
            legit.client.disconnect()
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
