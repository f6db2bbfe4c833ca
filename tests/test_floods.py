"""Floods one device could still cause (issue 16, item 7): seats of every
table, guessed codes, resends and writes that change nothing; and personal
pages a browser or a proxy must not keep. Every limit answers clearly and
never holds back another address or a real evening."""

from sqlalchemy import func, select

from workshop import clock
from workshop.config import load_config
from workshop.extensions import db
from workshop.models import Organizer, Participant, Write
from workshop.services import reviews
from workshop.web.participant import JOINS_PER_MINUTE

from .helpers import make_evening, new_client_id, organizer_screen, phone, read, signed_in

STRANGER = {"REMOTE_ADDR": "10.0.0.66"}
NEIGHBOUR = {"REMOTE_ADDR": "10.0.0.77"}


def join(http, code, name, address=STRANGER):
    return http.post(
        f"/t/{code}/join",
        data={"display_name": name, "category": "citizen"},
        environ_base=address,
    )


# --- a. joins per device across the tables --------------------------------------------


def test_one_device_cannot_take_the_seats_of_every_table(app):
    evening = make_evening(app, tables=4)
    limit = app.config["EVENING_JOINS_PER_ADDRESS"]
    http = app.test_client()
    codes = [t.join_code for t in evening.tables]

    answers = [join(http, codes[n % len(codes)], f"Bot {n}") for n in range(limit + 1)]

    assert [a.status_code for a in answers[:-1]] == [302] * limit
    refused = answers[-1]
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "depuis cet appareil" in refused.get_data(as_text=True)
    joined = read(app, lambda s: s.scalar(select(func.count(Participant.id))))
    assert joined == limit
    # Another phone of the room joins as usual.
    assert join(app.test_client(), codes[0], "Léa", NEIGHBOUR).status_code == 302


def test_a_table_seated_from_one_tablet_and_a_tour_of_the_tables_stay_within_the_limits(app):
    evening = make_evening(app, tables=30)
    http = app.test_client()
    # Ten people of one table on the table's tablet, in one minute…
    seated = [join(http, evening.tables[0].join_code, f"Personne {n}") for n in range(10)]
    # …and the organizer trying each of the 30 tables from the same device.
    tried = [join(http, t.join_code, "Essai") for t in evening.tables[:30]]
    assert {a.status_code for a in seated + tried} == {302}
    assert JOINS_PER_MINUTE >= 10


def test_behind_a_proxy_the_hall_may_share_one_address(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    assert load_config(str(tmp_path))["EVENING_JOINS_PER_ADDRESS"] == 0
    monkeypatch.setenv("TRUSTED_PROXIES", "0")
    assert load_config(str(tmp_path))["EVENING_JOINS_PER_ADDRESS"] > 30


# --- b. guessing codes ------------------------------------------------------------------


def _review_token(app, evening):
    with app.app_context():
        organizer = db.session.get(Organizer, evening.organizer_id)
        _reviewer, token = reviews.new_reviewer(organizer, organizer.territories[0], "Régine")
        db.session.commit()
        db.session.remove()
    return token


def wrong_code_routes(app):
    """A wrong code or secret at every route that takes one."""
    http = app.test_client()
    return [
        lambda n: http.get(f"/join?code=ZZZ{n:03d}", environ_base=STRANGER),
        lambda n: http.get(f"/e/ZZ{n:03d}", environ_base=STRANGER),
        lambda n: http.get(f"/e/ZZ{n:03d}/table?number=1", environ_base=STRANGER),
        lambda n: http.get(f"/t/ZZZ{n:03d}", environ_base=STRANGER),
        lambda n: http.post(
            f"/t/ZZZ{n:03d}/join", data={"display_name": "X"}, environ_base=STRANGER
        ),
        lambda n: http.get(f"/t/ZZZ{n:03d}/me", environ_base=STRANGER),
        lambda n: http.get(f"/p/ZZ{n:03d}", environ_base=STRANGER),
        lambda n: http.get(f"/f/not-a-secret-{n}", environ_base=STRANGER),
        lambda n: http.get(f"/review/not-a-review-token-{n}", environ_base=STRANGER),
        lambda n: http.post(f"/review/not-a-review-token-{n}/projects/1", environ_base=STRANGER),
    ]


def test_guessing_codes_is_stopped_with_a_clear_answer(app):
    evening = make_evening(app)
    limit = app.config["WRONG_CODES_PER_MINUTE"]
    routes = wrong_code_routes(app)

    misses = [routes[n % len(routes)](n) for n in range(limit)]

    assert all(a.status_code in (302, 404) for a in misses), [a.status_code for a in misses]
    http = app.test_client()
    # Refused from then on at every route, the right codes too: guessing stops.
    for url in (
        f"/e/{evening.join_code}",
        f"/e/{evening.join_code}/table?number=1",
        f"/t/{evening.tables[0].join_code}",
        f"/join?code={evening.tables[0].join_code}",
        f"/f/{evening.tables[0].facilitator_secret}",
        f"/p/{evening.join_code}",
        "/review/not-a-review-token",
    ):
        refused = http.get(url, environ_base=STRANGER)
        assert refused.status_code == 429, url
        assert 0 < int(refused.headers["Retry-After"]) <= 60
        page = refused.get_data(as_text=True)
        assert "Trop de codes erronés" in page and "secondes" in page
    # Another address is not held back.
    assert http.get(f"/e/{evening.join_code}", environ_base=NEIGHBOUR).status_code == 200
    assert http.get("/e/ZZZZZ", environ_base=NEIGHBOUR).status_code == 404
    # The address may try again once the minute is over.
    clock.advance(61)
    assert http.get(f"/e/{evening.join_code}", environ_base=STRANGER).status_code == 200


def test_right_codes_are_not_counted(app):
    evening = make_evening(app)
    token = _review_token(app, evening)
    http = app.test_client()
    table = evening.tables[0]
    for _ in range(app.config["WRONG_CODES_PER_MINUTE"] + 5):
        for url in (
            f"/e/{evening.join_code}",
            f"/t/{table.join_code}",
            f"/p/{evening.join_code}",
            f"/f/{table.facilitator_secret}",
            f"/review/{token}",
        ):
            assert http.get(url, environ_base=STRANGER).status_code == 200, url


def test_the_refusal_is_in_the_callers_language(app):
    http = app.test_client()
    http.set_cookie("lang", "en")
    for n in range(app.config["WRONG_CODES_PER_MINUTE"]):
        http.get(f"/e/ZZ{n:03d}")
    refused = http.get("/e/ZZZZZ")
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Too many wrong codes" in page and "seconds" in page


def test_a_projector_screen_cannot_guess_an_evenings_code(app):
    from workshop.extensions import socketio

    evening = make_evening(app)
    for n in range(app.config["WRONG_CODES_PER_MINUTE"]):
        wrong = socketio.test_client(app, auth={"role": "projector", "event": f"ZZ{n:03d}"})
        assert not wrong.is_connected()
    right = socketio.test_client(app, auth={"role": "projector", "event": evening.join_code})
    assert not right.is_connected()
    clock.advance(61)
    right = socketio.test_client(app, auth={"role": "projector", "event": evening.join_code})
    assert right.is_connected()


# --- c. resends are not new posts ---------------------------------------------------------


def test_resends_of_a_post_do_not_use_up_the_posting_budget(app, evening):
    app.config.update(RATE_LIMIT_POSTS=2, RATE_LIMIT_WINDOW=60)
    _, alice = phone(app, evening.tables[0])
    client_id = new_client_id()

    first = alice.write("idea.post", {"text": "Un jardin partagé"}, client_id=client_id)
    # A weak Wi-Fi: the answer is lost, the phone sends the same post again and again.
    resends = [
        alice.write("idea.post", {"text": "Un jardin partagé"}, client_id=client_id)
        for _ in range(5)
    ]
    following = alice.write("idea.post", {"text": "Une ressourcerie"})

    assert first["ok"]
    assert all(r["ok"] and r["duplicate"] for r in resends)
    assert following["ok"], following
    assert alice.write("idea.post", {"text": "Un troisième"})["error"] == "rate_limited"


def test_resends_of_an_edit_do_not_use_up_the_editing_budget(app, evening):
    from workshop.services.live import EDITS_PER_MINUTE

    _, alice = phone(app, evening.tables[0])
    card = new_client_id()
    assert alice.write("idea.post", {"text": "Version 0"}, client_id=card)["ok"]
    edit = new_client_id()
    assert alice.write("idea.edit", {"target": card, "text": "Version 1"}, client_id=edit)["ok"]
    for _ in range(EDITS_PER_MINUTE):
        resent = alice.write("idea.edit", {"target": card, "text": "Version 1"}, client_id=edit)
        assert resent["duplicate"]
    assert alice.write("idea.edit", {"target": card, "text": "Version 2"})["ok"]


# --- d. writes that change nothing ---------------------------------------------------------


def test_writes_that_change_nothing_have_a_budget_too(app, evening):
    _, alice = phone(app, evening.tables[0])
    intro = {"intro": "Boulangère", "brings": "", "expects": ""}
    assert alice.write("intro.save", intro)["ok"]
    limit = app.config["UNCHANGED_WRITES_PER_MINUTE"]
    unchanged = [new_client_id() for _ in range(limit + 5)]

    answers = [alice.write("intro.save", intro, client_id=c) for c in unchanged]

    assert all(a["ok"] for a in answers[:limit])
    refused = answers[limit:]
    assert all(a["error"] == "rate_limited" for a in refused), refused
    assert all(a["permanent"] is False and 0 < a["retry_after"] <= 60 for a in refused)
    assert all(a["message"] for a in refused)
    receipts = read(app, lambda s: s.scalar(select(func.count(Write.id))))
    assert receipts == 1 + limit
    # An unchanged write already done is still answered from its receipt…
    assert alice.write("intro.save", intro, client_id=unchanged[0])["duplicate"]
    # …and a real change goes through.
    changed = alice.write("intro.save", {**intro, "intro": "Boulangère à Uzès"})
    assert changed["ok"]
    clock.advance(61)
    assert alice.write("intro.save", intro, client_id=unchanged[-1])["ok"]


def test_an_organizers_unchanged_writes_are_counted_too(app, evening):
    screen = organizer_screen(app, evening)
    table_id = evening.tables[0].id
    limit = app.config["UNCHANGED_WRITES_PER_MINUTE"]
    answers = [
        screen.write("table.anonymous", {"anonymous": False}, table_id=table_id)
        for _ in range(limit + 1)
    ]
    assert all(a["ok"] for a in answers[:limit])
    assert answers[-1]["error"] == "rate_limited"


# --- e. personal pages are never stored --------------------------------------------------


def test_personal_pages_are_never_stored_by_a_browser_or_a_proxy(app, evening):
    token = _review_token(app, evening)
    table = evening.tables[0]
    phone_http = app.test_client()
    assert join(phone_http, table.join_code, "Alice", NEIGHBOUR).status_code == 302
    organizer = signed_in(app)
    personal = {
        "organizer's evenings": organizer.get("/organizer/"),
        "organizer's evening": organizer.get(f"/organizer/events/{evening.event_id}"),
        "projects": organizer.get("/backlog/"),
        "export": organizer.get(f"/backlog/events/{evening.event_id}/export/json"),
        "review": app.test_client().get(f"/review/{token}"),
        "my data": phone_http.get(f"/t/{table.join_code}/me", environ_base=NEIGHBOUR),
        "my data file": phone_http.get(f"/t/{table.join_code}/me.json", environ_base=NEIGHBOUR),
        "the phone's wall": phone_http.get(f"/t/{table.join_code}", environ_base=NEIGHBOUR),
        "console": app.test_client().get(f"/f/{table.facilitator_secret}"),
        "sign in": app.test_client().get("/login"),
    }
    assert {name: r.status_code for name, r in personal.items()} == dict.fromkeys(personal, 200)
    assert {name: r.headers.get("Cache-Control") for name, r in personal.items()} == dict.fromkeys(
        personal, "no-store"
    )
    static = app.test_client().get("/static/css/app.css")
    assert static.status_code == 200
    assert "no-store" not in (static.headers.get("Cache-Control") or "")
