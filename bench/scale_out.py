"""The live load across several processes behind nginx (DESIGN.md §9, §11).

Creates a PostgreSQL database of its own, starts --processes run.py servers
sharing it and a Redis channel of their own (as deploy/workshop@.service
does), puts nginx in front with the upstreams of deploy/nginx.conf
(WebSockets spread over the processes, long-polling sticky by address), then
runs bench/live_load.py through nginx, with every remaining argument passed
on. The CPU printed is the sum of the app processes (nginx not included).

    .venv/bin/python bench/scale_out.py                      # 2 processes, the §11 load
    .venv/bin/python bench/scale_out.py --processes 3 --method

Needs nginx (Debian: apt-get install nginx), PostgreSQL and Redis on this
machine (TEST_POSTGRES_URL, TEST_REDIS_URL as for the tests).
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
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
    upstream workshop_sticky {{ ip_hash; {servers} }}
    map $http_upgrade $socketio_upstream {{
        ~*^websocket$ workshop;
        default       workshop_sticky;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 1m;
        location /socket.io/ {{
            proxy_pass http://$socketio_upstream;
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
    args, passed_on = parser.parse_known_args()
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        sys.exit("nginx is needed (Debian: apt-get install nginx)")
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    database_url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="scale-out-") as workdir:
        prefix = Path(workdir)
        env = dict(
            os.environ,
            DATABASE_URL=database_url,
            SOCKETIO_MESSAGE_QUEUE=REDIS,
            SOCKETIO_CHANNEL=f"bench-{name}",
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
            conf = prefix / "nginx.conf"
            conf.write_text(NGINX_CONF.format(prefix=prefix, servers=servers, port=port))
            front = subprocess.Popen(
                [nginx, "-c", str(conf), "-p", str(prefix), "-g", "daemon off;"],
                stderr=(prefix / "nginx.out").open("a"),
            )
            processes.append(front)
            wait_until_up(f"http://127.0.0.1:{port}", front, prefix / "error.log")
            print(
                f"{args.processes} app processes (ports {', '.join(map(str, ports))}) "
                f"behind nginx on {port}, PostgreSQL {name}, Redis channel bench-{name}",
                flush=True,
            )
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
            code = subprocess.run(command, cwd=ROOT).returncode
        finally:
            for process in reversed(processes):
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    sys.exit(code)


if __name__ == "__main__":
    main()
