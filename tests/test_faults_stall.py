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
        read = phones[0].call("sync", {"since": 0})
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
