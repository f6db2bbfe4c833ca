"""Faults that used to stall the server long after they ended (issue 17 §4):
another program holding the SQLite file's lock for a long while; a hall of
phones reconnecting at once to a server on PostgreSQL with a small pool."""

import sqlite3
import threading
from contextlib import closing

from workshop.extensions import db

from .helpers import Phone, hang_up, join_over_http, make_evening, new_client_id


def test_writes_during_a_long_external_lock_are_refused_for_now_and_go_at_once_after(
    live_server,
):
    """While another program (the sqlite3 shell, a backup) holds the write
    lock, every write is answered, while it lasts, "database unavailable"
    (temporary: the phone sends it again), none queues for the whole lock,
    and reads go on. Once it is released, the next write goes through at
    its first attempt and the refused ones when resent, each stored once."""
    server, app = live_server
    table = make_evening(app).tables[0]
    phones = [Phone(server, table, join_over_http(server, table, f"P{n}")) for n in range(6)]
    posts = {phone: (new_client_id(), f"Pendant le verrou {n}") for n, phone in enumerate(phones)}
    answers = {}

    def post(phone):
        client_id, text = posts[phone]
        answers[phone] = phone.write("idea.post", {"text": text}, client_id=client_id)

    path = server.env["DATABASE_URL"].removeprefix("sqlite:///")
    with closing(sqlite3.connect(path, isolation_level=None)) as other_program:
        other_program.execute("BEGIN EXCLUSIVE")
        writers = [threading.Thread(target=post, args=(phone,)) for phone in phones]
        for thread in writers:
            thread.start()
        read = phones[0].sync(0)
        for thread in writers:
            thread.join(30)
        refused_during = server.log().count("database unavailable")
        other_program.execute("ROLLBACK")

    after = phones[0].write("idea.post", {"text": "Après le verrou"})
    resent = {
        phone: phone.write("idea.post", {"text": text}, client_id=client_id)
        for phone, (client_id, text) in posts.items()
    }
    hang_up(*phones)

    assert read["ok"]
    assert len(answers) == len(phones)  # every write answered while the lock lasted
    assert all(a["error"] == "database_unavailable" for a in answers.values()), answers
    assert all(a["permanent"] is False for a in answers.values())
    assert after["ok"]
    assert all(a["ok"] and not a.get("duplicate") for a in resent.values()), resent
    assert server.log().count("database unavailable") == refused_during
    with app.app_context():
        texts = [t for (t,) in db.session.execute(db.text("SELECT text FROM ideas"))]
    assert sorted(texts) == sorted([text for _c, text in posts.values()] + ["Après le verrou"])


HALL = 200  # phones
TABLES = 20


def test_a_hall_of_phones_reconnecting_at_once_on_postgresql_all_catch_up(tmp_path, postgres_url):
    """200 phones connect and catch up at once, twice (the Wi-Fi of the hall
    came back), to a server on PostgreSQL whose pool holds one connection,
    given up after 1 s of waiting (as slow as a starved CPU makes it): they
    queue for it, none is refused, every one catches up, and no connection
    is left in a transaction."""
    import asyncio

    import socketio
    import sqlalchemy as sa

    from workshop import create_app

    from .helpers import LiveServer, run_async

    environment = {
        "DATABASE_POOL_SIZE": "1",
        "DATABASE_MAX_OVERFLOW": "0",
        "DATABASE_POOL_TIMEOUT": "1",
        "EVENING_JOINS_PER_ADDRESS": "0",
        "MAX_SCREENS_PER_ADDRESS": "0",
        "MAX_CONNECTIONS_PER_ADDRESS": "0",
    }
    server = LiveServer(tmp_path, postgres_url, environment)
    app = create_app({"SQLALCHEMY_DATABASE_URI": postgres_url, "SOCKETIO_ASYNC_MODE": "threading"})
    server.start()  # migrates the database
    try:
        tables = make_evening(app, tables=TABLES).tables
        cookies = []
        for n in range(HALL):
            table = tables[n % TABLES]
            http = join_over_http(server, table, f"P{n}")
            cookies.append(
                (table.join_code, "; ".join(f"{k}={v}" for k, v in http.cookies.items()))
            )

        async def hall():
            async def reconnect(code, cookie):
                client = socketio.AsyncClient(reconnection=False)
                try:
                    await client.connect(
                        server.url,
                        headers={"Cookie": cookie},
                        auth={"role": "participant", "table": code},
                        transports=["websocket"],
                        wait_timeout=60,
                    )
                    return await client.call("sync", {"since": 0}, timeout=60)
                finally:
                    await client.disconnect()

            return await asyncio.gather(
                *(reconnect(code, cookie) for code, cookie in cookies), return_exceptions=True
            )

        first, again = run_async(hall), run_async(hall)
        with sa.create_engine(postgres_url).connect() as connection:
            idle = connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state LIKE 'idle in transaction%'"
                )
            ).scalar()
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()

    for answers in (first, again):
        failed = [a for a in answers if not (isinstance(a, dict) and a.get("ok"))]
        assert failed == [], failed[:5]
    assert idle == 0
    assert "QueuePool limit" not in server.log()
    assert "database unavailable" not in server.log()
