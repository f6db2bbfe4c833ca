"""The live load across several processes behind nginx (DESIGN.md §9, §11).

Creates a PostgreSQL database of its own, starts --processes run.py servers
sharing it and a Redis channel of their own (as deploy/workshop@.service
does), puts nginx in front with the routing of deploy/nginx.conf (every
Socket.IO request of a table to one process, by the table's code), then
runs bench/live_load.py through nginx, with every remaining argument passed
on. While the phones post it counts, straight from Redis, the messages
published on the channel (each reaches every process), and each process's
CPU; then prints them per post, with live_load's p99 and losses.

    .venv/bin/python bench/scale_out.py                      # 2 processes, the §11 load
    .venv/bin/python bench/scale_out.py --processes 4 --tables 100 --rate 50
    .venv/bin/python bench/scale_out.py --before             # python-socketio's way
    .venv/bin/python bench/scale_out.py --kill-after 10      # one process dies mid-run

--before runs what came first: every push through Redis to every process
(SOCKETIO_LOCAL_TABLES=0), WebSockets spread by nginx's least_conn and
long-polling sticky by address. --kill-after S kills the first process S
seconds into the posting: its tables move to the others by themselves.

Finds nginx, or installs it (scripts/ensure-nginx: Debian's package);
needs PostgreSQL and Redis on this machine (TEST_POSTGRES_URL,
TEST_REDIS_URL as for the tests).
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

NGINX_CONF = """
worker_processes 1;
worker_rlimit_nofile 65536;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream workshop {{ least_conn; {servers} }}
    {socketio}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 1m;
        location /socket.io/ {{
            proxy_pass http://$socketio_upstream;
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_read_timeout 60s;
        }}
        location / {{
            proxy_pass http://workshop;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""
# deploy/nginx.conf: a table's requests to one process, by its code.
ROUTED = """
    map $arg_table $table_route {{ "" $remote_addr; default $arg_table; }}
    upstream workshop_tables {{ hash $table_route consistent; {failing} }}
    map $arg_table $socketio_upstream {{ default workshop_tables; }}
"""
# Before: WebSockets to any process, long-polling sticky by address.
SPREAD = """
    upstream workshop_sticky {{ ip_hash; {servers} }}
    map $http_upgrade $socketio_upstream {{
        ~*^websocket$ workshop;
        default       workshop_sticky;
    }}
"""


def ensure_nginx() -> str:
    """nginx's path; installed (Debian's package) when missing."""
    found = subprocess.run([str(ROOT / "scripts" / "ensure-nginx")], capture_output=True, text=True)
    if found.returncode != 0:
        sys.exit(found.stderr.strip() or "nginx is needed and could not be installed")
    return found.stdout.strip().splitlines()[-1]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of ``pid``, None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def room_kind(room) -> str:
    """What a push published on the channel was addressed to."""
    if not isinstance(room, str):
        return "everyone"
    kind = room.split(":", 1)[0]
    if kind in ("table", "console", "participant"):
        return "a table's"
    if kind == "event":
        return "evening-wide"
    return "one screen or sign-in" if kind == "signin" or ":" not in room else kind


class QueueCounter:
    """Counts the messages published on the channel while ``counting``."""

    def __init__(self, channel: str):
        import redis

        self.counting = False
        self.kinds: Counter = Counter()
        self.client = redis.Redis.from_url(REDIS)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(**{channel: self.heard})
        self.thread = self.pubsub.run_in_thread(sleep_time=0.01, daemon=True)

    def heard(self, message) -> None:
        if not self.counting:
            return
        data = message["data"]
        if data.startswith(b"~"):  # the processes' notes (tables held, health check)
            self.kinds["notes between processes"] += 1
            return
        push = json.loads(data)
        if push.get("method") == "emit":
            self.kinds[room_kind(push.get("room"))] += 1
        else:
            self.kinds[push.get("method", "?")] += 1

    def stop(self) -> None:
        self.thread.stop()
        self.client.close()


def count_ideas(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM ideas")).scalar_one()
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    for _ in range(300):
        if process.poll() is not None:
            sys.exit(f"{url} exited:\n{log.read_text()}")
        try:
            requests.get(url + "/", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    sys.exit(f"{url} did not start:\n{log.read_text()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--before", action="store_true", help="every push through Redis")
    parser.add_argument("--kill-after", type=float, help="kill one process S s into the posting")
    parser.add_argument("--summary", help="append this run's figures (one JSON line) to FILE")
    args, passed_on = parser.parse_known_args()
    nginx = ensure_nginx()
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    database_url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    channel = f"bench-{name}"
    processes: list[subprocess.Popen] = []
    counter = None
    with tempfile.TemporaryDirectory(prefix="scale-out-") as workdir:
        prefix = Path(workdir)
        env = dict(
            os.environ,
            DATABASE_URL=database_url,
            SOCKETIO_MESSAGE_QUEUE=REDIS,
            SOCKETIO_CHANNEL=channel,
            SOCKETIO_LOCAL_TABLES="0" if args.before else "1",
            SOCKETIO_ASYNC_MODE="gevent",
            SECRET_KEY="bench-secret",
            HOST="127.0.0.1",
            TRUSTED_PROXIES="1",
            RATE_LIMIT_POSTS="100000",
            MAX_SCREENS_PER_ADDRESS="0",
            WORKSHOP_INSTANCE=str(prefix / "instance"),
        )
        try:
            ports = []
            for n in range(args.processes):  # one after the other: the first migrates
                port = free_port()
                log = prefix / f"server{n}.log"
                process = subprocess.Popen(
                    [sys.executable, str(ROOT / "run.py")],
                    cwd=ROOT,
                    env={**env, "PORT": str(port)},
                    stdout=log.open("a"),
                    stderr=subprocess.STDOUT,
                )
                processes.append(process)
                wait_until_up(f"http://127.0.0.1:{port}", process, log)
                ports.append(port)
            port = free_port()
            servers = " ".join(f"server 127.0.0.1:{p};" for p in ports)
            failing = " ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in ports)
            socketio = (SPREAD if args.before else ROUTED).format(servers=servers, failing=failing)
            conf = prefix / "nginx.conf"
            conf.write_text(
                NGINX_CONF.format(prefix=prefix, servers=servers, socketio=socketio, port=port)
            )
            front = subprocess.Popen(
                [nginx, "-c", str(conf), "-p", str(prefix), "-g", "daemon off;"],
                stderr=(prefix / "nginx.out").open("a"),
            )
            processes.append(front)
            wait_until_up(f"http://127.0.0.1:{port}", front, prefix / "error.log")
            way = "before: every push through Redis" if args.before else "tables routed"
            print(
                f"{args.processes} app processes ({way}; ports {', '.join(map(str, ports))}) "
                f"behind nginx on {port}, PostgreSQL {name}, Redis channel {channel}",
                flush=True,
            )
            counter = QueueCounter(channel)
            command = [
                sys.executable,
                str(ROOT / "bench" / "live_load.py"),
                "--url",
                f"http://127.0.0.1:{port}",
                "--database-url",
                database_url,
                *(f"--server-pid={p.pid}" for p in processes[: args.processes]),
                *passed_on,
            ]
            code, figures = run_load(
                command, args, processes[: args.processes], counter, database_url
            )
        finally:
            if counter:
                counter.stop()
            for process in reversed(processes):
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    if args.summary:
        with open(args.summary, "a") as out:
            out.write(json.dumps(figures) + "\n")
    sys.exit(code)


def run_load(command, args, apps, counter: QueueCounter, database_url: str):
    """Run live_load.py, echoing it; measure the posting window (its
    "posting:" lines); print and return the figures per post."""
    load = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, bufsize=1)
    started = ended = None
    cpu0: list = []
    cpu1: list = []
    ideas0 = ideas1 = 0
    killer = None
    p99 = lost = duplicated = None
    for line in load.stdout:
        print(line, end="", flush=True)
        if line.startswith("posting: started"):
            started, cpu0 = time.monotonic(), [cpu_seconds(p.pid) for p in apps]
            ideas0, counter.counting = count_ideas(database_url), True
            if args.kill_after is not None:
                killer = threading.Timer(args.kill_after, kill, (apps[0],))
                killer.start()
        elif line.startswith("posting: ended"):
            ended, cpu1 = time.monotonic(), [cpu_seconds(p.pid) for p in apps]
            counter.counting = False
            ideas1 = count_ideas(database_url)
        elif match := re.search(r"post-to-every-screen: .*p99=(\d+) ms", line):
            p99 = int(match.group(1))
        elif match := re.match(r"LOST: (\d+)", line):
            lost = int(match.group(1))
        elif match := re.match(r"DUPLICATED: (\d+)", line):
            duplicated = int(match.group(1))
    code = load.wait()
    if killer:
        killer.cancel()
    if started is None or ended is None:
        return code, {}
    seconds, posts = ended - started, max(1, ideas1 - ideas0)
    published = sum(counter.kinds.values())
    kinds = ", ".join(f"{kind} {n}" for kind, n in counter.kinds.most_common()) or "none"
    used = [None if a is None or b is None else b - a for a, b in zip(cpu0, cpu1, strict=True)]
    per_process = [None if u is None else u / posts * 1000 for u in used]
    shown = "; ".join(
        f"#{n}: "
        + ("gone" if u is None else f"{u / seconds:.0%} of a core, {ms:.2f} ms/post")
        + (" (until killed)" if n == 0 and args.kill_after is not None else "")
        for n, (u, ms) in enumerate(zip(used, per_process, strict=True))
    )
    alive = [ms for ms in per_process if ms is not None]
    way = "before (every push through Redis)" if args.before else "tables routed"
    if args.kill_after is not None:
        way += f", process #0 killed {args.kill_after:g} s into the posting"
    deliveries = published * args.processes / posts
    print(
        f"\n== Scale-out: {args.processes} processes, {way}\n"
        f"posting: {seconds:.0f} s, {posts} posts stored ({posts / seconds:.0f}/s)\n"
        f"Redis: {published} messages published ({published / posts:.2f} per post), each "
        f"delivered to every process ({deliveries:.2f} deliveries per post); by kind: {kinds}\n"
        f"CPU per process while posting: {shown}; all processes: {sum(alive):.2f} ms/post\n"
        f"p99 post-to-every-screen: {p99} ms; lost {lost}, duplicated {duplicated}",
        flush=True,
    )
    figures = {
        "processes": args.processes,
        "before": args.before,
        "killed": args.kill_after,
        "posts": posts,
        "seconds": seconds,
        "published_per_post": published / posts,
        "deliveries_per_post": deliveries,
        "kinds": dict(counter.kinds),
        "cpu_ms_per_post": per_process,
        "cpu_ms_per_post_all": sum(alive),
        "p99_ms": p99,
        "lost": lost,
        "duplicated": duplicated,
        "exit": code,
    }
    return code, figures


def kill(process: subprocess.Popen) -> None:
    print(f"(killing app process pid {process.pid})", flush=True)
    process.send_signal(signal.SIGKILL)


if __name__ == "__main__":
    main()
