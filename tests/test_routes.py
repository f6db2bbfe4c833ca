"""HTTP routes with the Flask test client on a real database.

No test here holds an app context: each request has its own, as in
production, and the tests read what was stored through a fresh one (``read``),
so a route that forgets to commit fails them."""

import re
from urllib.parse import urlsplit

import pytest
from flask import url_for
from sqlalchemy import func, select

from workshop import clock, create_app
from workshop.extensions import db
from workshop.models import DeskLink, Event, EventStatus, Organizer, Participant, Table
from workshop.services import accounts, desk, events
from workshop.web.participant import JOINS_PER_MINUTE

from .helpers import PASSWORD, join, make_evening, make_organizer, prepare, read
from .helpers import signed_in as sign_in

PUBLIC_URL = "http://venue.test:5000"
TABLE_FORM = {
    "name": "Mobilités",
    "challenge": "creative",
    "workshop_kind": "booster",
    "brief_title": "Se déplacer sans voiture",
    "brief": "Contexte : un car deux fois par jour.",
    "facilitator_name": "Claire",
    "capacity": "8",
}


def count(app, model) -> int:
    return read(app, lambda s: s.scalar(select(func.count()).select_from(model)))


def path(response) -> str:
    """The path a redirect leads to."""
    assert response.status_code == 302, response.status_code
    return urlsplit(response.headers["Location"]).path


def login(http, email="orga@example.org", password=PASSWORD):
    return http.post("/login", data={"email": email, "password": password})


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def flashes(http) -> list:
    with http.session_transaction() as session:
        return session.get("_flashes", [])


def stored_table(app, table_id) -> tuple:
    """A table's name, facilitator secret and its evening's title and status, as stored."""

    def query(session):
        table = session.get(Table, table_id)
        return table.name, table.facilitator_secret, table.event.title, table.event.status

    return read(app, query)


def table_texts(app, table_id) -> tuple[str, str]:
    """A table's name and brief, as stored."""
    return read(app, lambda s: (s.get(Table, table_id).name, s.get(Table, table_id).brief))


def join_in(app, table, name="Alice") -> str:
    """``name`` joins ``table`` (a TableRef); their token."""
    return prepare(app, lambda s: join(s.get(Table, table.id), name)[1])


@pytest.fixture
def table(evening):
    return evening.tables[0]


@pytest.fixture
def other_table(evening):
    return evening.tables[1]


@pytest.fixture
def signed_in(client, evening):
    """The test client, signed in as the evening's organizer."""
    assert path(login(client)) == "/organizer/"
    return client


@pytest.fixture
def intruder(app, evening):
    """A signed-in organizer of another territory."""
    prepare(app, lambda s: make_organizer("other@example.org", "Autre pays").id)
    http = app.test_client()
    login(http, "other@example.org")
    return http


def desk_link_of(app, evening) -> int:
    """A working desk link of ``evening`` (its revoking route is among the checked)."""
    with app.app_context():
        organizer = db.session.get(Organizer, evening.organizer_id)
        link, _token = desk.new_link(organizer, db.session.get(Event, evening.event_id), "Sacha")
        link_id = link.id
        db.session.remove()
    return link_id


def organizer_urls(app, evening, table, owned_only=False) -> list[tuple[str, str]]:
    """(method, url) of every /organizer/ route, filled with ``evening`` and ``table``;
    ``owned_only``: only the routes about one event, table or territory."""
    territory_id = read(app, lambda s: s.get(Event, evening.event_id).territory_id)
    values = {"event_id": evening.event_id, "table_id": table.id, "status": "closed",
              "territory_id": territory_id, "participant_id": 1,
              "link_id": desk_link_of(app, evening)}  # fmt: skip
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/organizer/"):
                continue
            if owned_only and not rule.arguments & {"event_id", "table_id", "territory_id"}:
                continue
            url = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
            urls += [(m, url) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return urls


def test_a_request_inside_the_tests_own_context_is_refused(app, client):
    """It would share the test's database session: a route that forgot to
    commit would seem to have stored its change."""
    with app.app_context(), pytest.raises(AssertionError, match="shares its database session"):
        client.get("/")


# --- first start, sign in, sign out ---------------------------------------------


def test_empty_instance_sends_visitors_to_setup(client):
    assert path(client.get("/")) == "/setup"
    assert path(client.get("/login")) == "/setup"


def test_setup_creates_the_organizer_and_signs_in(app, client):
    response = client.post(
        "/setup",
        data={
            "name": "Camille",
            "email": "Camille@example.org",
            "password": "un mot de passe long",
            "territory": "Pays du Lac",
            "population": "12000",
        },
    )

    assert path(response) == "/organizer/"

    def organizer(session):
        organizer = session.scalars(select(Organizer)).one()
        return organizer.email, [(t.name, t.population) for t in organizer.territories]

    assert read(app, organizer) == ("camille@example.org", [("Pays du Lac", 12000)])
    page(client.get("/organizer/"))


def test_setup_with_a_short_password_rerenders_and_creates_nothing(app, client):
    response = client.post(
        "/setup",
        data={"name": "C", "email": "c@example.org", "password": "court", "territory": "P"},
    )

    assert 'name="password"' in page(response)
    assert count(app, Organizer) == 0


def test_setup_is_closed_once_done(app, client, evening):
    assert path(client.get("/setup")) == "/login"
    response = client.post(
        "/setup",
        data={"name": "I", "email": "i@example.org", "password": PASSWORD, "territory": "T"},
    )
    assert path(response) == "/login"
    assert count(app, Organizer) == 1


def test_wrong_password_does_not_sign_in(client, evening):
    page(login(client, password="not the password"))

    assert path(client.get("/organizer/")) == "/login"


def test_login_returns_to_a_local_page_only(client, evening):
    wanted = client.post(
        "/login?next=/organizer/events/new",
        data={"email": "orga@example.org", "password": PASSWORD},
    )
    elsewhere = client.post(
        "/login?next=//evil.example/x",
        data={"email": "orga@example.org", "password": PASSWORD},
    )

    assert path(wanted) == "/organizer/events/new"
    assert "evil.example" not in elsewhere.headers["Location"]


def test_logout_is_post_only(signed_in):
    assert signed_in.get("/logout").status_code == 405
    page(signed_in.get("/organizer/"))

    assert path(signed_in.post("/logout")) == "/login"
    assert path(signed_in.get("/organizer/")) == "/login"


def copy_cookies(source, target, names=("session", "remember_token")):
    for name in names:
        cookie = source.get_cookie(name)
        assert cookie is not None, name
        target.set_cookie(name, cookie.value)


@pytest.fixture
def account(app):
    """An organizer (orga@example.org) made in a context of its own."""
    make_evening(app, tables=1)
    return app


def test_signing_out_ends_the_sign_in_on_the_server(account):
    """A copied session or remember-me cookie is worth nothing after sign-out."""
    app, signed_in = account, sign_in(account)
    both, remember_only = app.test_client(), app.test_client()
    copy_cookies(signed_in, both)
    copy_cookies(signed_in, remember_only, ["remember_token"])
    page(both.get("/organizer/"))
    page(remember_only.get("/organizer/"))

    assert path(signed_in.post("/logout")) == "/login"

    for http in (signed_in, both, remember_only):
        assert path(http.get("/organizer/")) == "/login"


def test_signing_out_on_one_computer_keeps_the_others_signed_in(account):
    app, signed_in = account, sign_in(account)
    laptop = app.test_client()
    login(laptop)

    signed_in.post("/logout")

    page(laptop.get("/organizer/"))


def test_changing_the_password_ends_the_other_sign_ins(account):
    app, signed_in = account, sign_in(account)
    stolen = app.test_client()
    copy_cookies(signed_in, stolen)
    other = app.test_client()
    login(other)
    new = "un nouveau mot de passe"
    signed_in.set_cookie("lang", "en")

    wrong = signed_in.post(
        "/account/password", data={"current": "pas le bon", "new": new, "confirm": new}
    )
    differ = signed_in.post(
        "/account/password", data={"current": PASSWORD, "new": new, "confirm": new + "x"}
    )
    short = signed_in.post(
        "/account/password", data={"current": PASSWORD, "new": "court", "confirm": "court"}
    )
    assert "The current password is not right." in page(wrong)
    assert "The two new passwords differ." in page(differ)
    assert 'aria-invalid="true"' in page(short)
    page(other.get("/organizer/"))  # nothing changed yet

    done = signed_in.post(
        "/account/password", data={"current": PASSWORD, "new": new, "confirm": new}
    )

    assert path(done) == "/organizer/"
    page(signed_in.get("/organizer/"))  # this sign-in goes on
    assert path(stolen.get("/organizer/")) == "/login"  # a copy of its old cookies is void
    assert path(other.get("/organizer/")) == "/login"
    assert login(app.test_client(), password=PASSWORD).status_code == 200  # refused
    assert path(login(app.test_client(), password=new)) == "/organizer/"


def test_a_guesser_on_the_same_address_does_not_lock_the_organizer_out(account):
    """Behind one venue address, ten wrong passwords lock out that address,
    but not a browser that has signed in to this account before."""
    laptop, guesser, newcomer = (account.test_client() for _ in range(3))
    assert path(login(laptop)) == "/organizer/"
    laptop.post("/logout")
    for _ in range(accounts.MAX_FAILED_LOGINS):
        assert login(guesser, password="devinette").status_code == 200

    assert login(guesser).status_code == 429  # the guesser, right password or not
    assert login(newcomer).status_code == 429  # same address, never signed in here
    assert path(login(laptop)) == "/organizer/"


def test_setup_from_another_device_needs_the_code_printed_at_start(app, client):
    """The first visitor on the venue Wi-Fi cannot take an empty instance."""
    phone = app.test_client()
    phone.environ_base["REMOTE_ADDR"] = "192.168.1.23"
    form = {
        "name": "Intrus",
        "email": "intrus@example.org",
        "password": "un mot de passe long",
        "territory": "Ailleurs",
    }
    assert 'name="setup_code"' in page(phone.get("/setup"))
    assert 'name="setup_code"' not in page(client.get("/setup"))  # the server's own computer

    refused = phone.post("/setup", data={**form, "setup_code": "ABCD-EFGH"})
    missing = phone.post("/setup", data=form)

    assert refused.status_code == 403
    assert missing.status_code == 200
    assert read(app, lambda s: s.scalars(select(Organizer)).all()) == []
    code = accounts.setup_code(app.secret_key)
    spaced = f"{code[:4]}-{code[4:].lower()}"
    assert path(phone.post("/setup", data={**form, "setup_code": spaced})) == "/organizer/"
    assert read(app, lambda s: s.scalars(select(Organizer.email)).all()) == ["intrus@example.org"]


# --- organizer pages: who may open them --------------------------------------------


def test_every_organizer_route_sends_anonymous_visitors_to_login(app, client, evening, table):
    urls = organizer_urls(app, evening, table)
    assert len(urls) >= 14

    for method, url in urls:
        response = client.open(url, method=method, data=TABLE_FORM)
        assert path(response) == "/login", (method, url)

    assert stored_table(app, table.id) == (
        "Table 1",
        table.facilitator_secret,
        "Soirée test",
        EventStatus.live,
    )


def test_another_territorys_organizer_gets_404_and_changes_nothing(app, intruder, evening, table):
    data = {**TABLE_FORM, "title": "Piratée", "name": "Piratée"}

    urls = organizer_urls(app, evening, table, owned_only=True)
    assert len(urls) >= 12

    for method, url in urls:
        assert intruder.open(url, method=method, data=data).status_code == 404, (method, url)

    assert evening.join_code not in page(intruder.get("/organizer/"))
    assert stored_table(app, table.id) == (
        "Table 1",
        table.facilitator_secret,
        "Soirée test",
        EventStatus.live,
    )
    assert count(app, Table) == 2
    # The evening's desk link still works, and the intruder made none.
    links = read(app, lambda s: [(x.name, x.revoked_at) for x in s.scalars(select(DeskLink))])
    assert links and all(name == "Sacha" and revoked is None for name, revoked in links)


# --- preparing an evening through the forms --------------------------------------------


def test_create_an_event_then_add_edit_and_remove_a_table(app, client):
    territory_id = prepare(app, lambda s: make_organizer().territories[0].id)
    signed_in = client
    login(signed_in)
    response = signed_in.post(
        "/organizer/events/new",
        data={
            "title": "Soirée du lac",
            "date": "2026-06-12",
            "venue": "Salle",
            "territory_id": territory_id,
        },
    )

    def the_event(session):
        event = session.scalars(select(Event)).one()
        return event.id, event.title, str(event.date), event.status

    event_id, *stored = read(app, the_event)
    assert path(response) == f"/organizer/events/{event_id}"
    assert stored == ["Soirée du lac", "2026-06-12", "draft"]

    signed_in.post(f"/organizer/events/{event_id}/tables/new", data=TABLE_FORM)

    def the_table(session):
        table = session.scalars(select(Table)).one()
        return (
            table.id,
            (table.number, table.name, table.challenge, table.workshop_kind),
            (
                table.brief,
                table.facilitator_name,
                table.capacity,
            ),
        )

    table_id, numbered, told = read(app, the_table)
    assert numbered == (1, "Mobilités", "creative", "booster")
    assert told == (TABLE_FORM["brief"], "Claire", 8)

    edited = signed_in.post(
        f"/organizer/tables/{table_id}/edit", data={**TABLE_FORM, "name": "Mobilités douces"}
    )
    assert path(edited) == f"/organizer/events/{event_id}"
    assert table_texts(app, table_id)[0] == "Mobilités douces"

    removed = signed_in.post(f"/organizer/tables/{table_id}/delete")
    assert path(removed) == f"/organizer/events/{event_id}"
    assert count(app, Table) == 0


def territory_of(app, evening) -> int:
    return read(app, lambda s: s.get(Event, evening.event_id).territory_id)


def test_edit_an_event(app, signed_in, evening):
    response = signed_in.post(
        f"/organizer/events/{evening.event_id}/edit",
        data={
            "title": "Soirée du lac",
            "date": "",
            "venue": "Ici",
            "territory_id": territory_of(app, evening),
        },
    )

    assert path(response) == f"/organizer/events/{evening.event_id}"

    def event(session):
        event = session.get(Event, evening.event_id)
        return event.title, event.venue, event.date, event.status

    assert read(app, event) == ("Soirée du lac", "Ici", None, EventStatus.live)


def test_edit_event_form_offers_no_territory_choice(signed_in, evening):
    html = page(signed_in.get(f"/organizer/events/{evening.event_id}/edit"))

    assert not re.search(r'<select[^>]*name="territory_id"', html)


def test_invalid_forms_rerender_and_change_nothing(app, signed_in, evening, table):
    other = prepare(
        app, lambda s: make_organizer("other@example.org", "Autre pays").territories[0].id
    )
    event_id, territory_id = evening.event_id, territory_of(app, evening)

    no_title = signed_in.post(
        "/organizer/events/new", data={"title": "", "territory_id": territory_id}
    )
    foreign = signed_in.post(
        "/organizer/events/new", data={"title": "Chez les autres", "territory_id": other}
    )
    no_brief = signed_in.post(
        f"/organizer/events/{event_id}/tables/new", data={**TABLE_FORM, "brief": ""}
    )
    no_seat = signed_in.post(
        f"/organizer/events/{event_id}/tables/new", data={**TABLE_FORM, "capacity": "0"}
    )
    no_name = signed_in.post(f"/organizer/tables/{table.id}/edit", data={**TABLE_FORM, "name": ""})

    for response in (no_title, foreign, no_brief, no_seat, no_name):
        assert "<form" in page(response)
    assert (count(app, Event), count(app, Table)) == (1, 2)
    assert table_texts(app, table.id)[0] == "Table 1"


def test_closing_the_evening_stops_joining(app, signed_in, evening, table):
    event_id = evening.event_id
    assert signed_in.post(f"/organizer/events/{event_id}/status/bogus").status_code == 400
    signed_in.post(f"/organizer/events/{event_id}/status/closed")

    phone = app.test_client()
    response = phone.post(
        f"/t/{table.join_code}/join", data={"display_name": "Alice", "category": "citizen"}
    )

    assert read(app, lambda s: s.get(Event, event_id).status) == EventStatus.closed
    assert response.status_code == 400
    assert count(app, Participant) == 0


def test_tents_have_a_qr_code_name_code_and_url_on_both_faces(app, signed_in, evening):
    """A tent is seen from both sides of the table: each face carries it all."""
    html = page(signed_in.get(f"/organizer/events/{evening.event_id}/tents"))

    assert html.count('<section class="tent"') == len(evening.tables) == 2
    assert html.count("<svg") == 2 * len(evening.tables)
    for table in evening.tables:
        assert table_texts(app, table.id)[0] in html
        assert table.join_code in html
        assert f"{PUBLIC_URL}/t/{table.join_code}" in html


def test_event_page_shows_facilitator_links_and_rotating_changes_them(
    app, signed_in, evening, table
):
    event_id = evening.event_id
    html = page(signed_in.get(f"/organizer/events/{event_id}"))
    for each in evening.tables:
        assert f"{PUBLIC_URL}/f/{each.facilitator_secret}" in html
    old = table.facilitator_secret

    assert path(signed_in.post(f"/organizer/tables/{table.id}/rotate")) == (
        f"/organizer/events/{event_id}"
    )

    new = stored_table(app, table.id)[1]
    html = page(signed_in.get(f"/organizer/events/{event_id}"))
    assert new != old and f"/f/{new}" in html and old not in html
    assert signed_in.get(f"/f/{old}").status_code == 404


# --- the participant's phone -----------------------------------------------------------


def test_join_flow_sets_a_cookie_then_shows_the_wall(app, client, table):
    code = table.join_code
    form = page(client.get(f"/t/{code}"))
    assert f'action="/t/{code}/join"' in form
    assert 'name="display_name"' in form and 'name="category"' in form

    response = client.post(f"/t/{code}/join", data={"display_name": "Alice", "category": "student"})

    assert path(response) == f"/t/{code}"
    cookie = client.get_cookie(f"wt_{code}")
    assert cookie.http_only and cookie.same_site == "Lax"
    alice = read(
        app,
        lambda s: s.execute(
            select(Participant.display_name, Participant.category, Participant.table_id)
        ).one(),
    )
    assert tuple(alice) == ("Alice", "student", table.id)
    wall = page(client.get(f"/t/{code}"))
    assert table_texts(app, table.id)[1] in wall and "Alice" in wall
    assert 'name="display_name"' not in wall


@pytest.mark.parametrize("name", ["", "   ", "x" * 61])
def test_join_with_a_bad_name_is_refused(app, client, table, name):
    response = client.post(
        f"/t/{table.join_code}/join", data={"display_name": name, "category": "citizen"}
    )

    assert response.status_code == 400
    assert client.get_cookie(f"wt_{table.join_code}") is None
    assert count(app, Participant) == 0


def test_a_cookie_for_one_table_does_not_open_another(app, client, table, other_table):
    token = join_in(app, table)
    client.set_cookie(f"wt_{other_table.join_code}", token)

    assert 'name="display_name"' in page(client.get(f"/t/{other_table.join_code}"))


def test_lower_case_table_url_redirects_to_the_canonical_one(client, table):
    assert path(client.get(f"/t/{table.join_code.lower()}")) == f"/t/{table.join_code}"
    assert client.get("/t/NOPE99").status_code == 404


def test_typed_codes_lead_to_their_table_or_evening(client, evening, table):
    code = table.join_code
    typed = f" {code[:3].lower()} {code[3:].lower()} "

    assert path(client.get("/join", query_string={"code": typed})) == f"/t/{code}"
    assert path(client.get("/join", query_string={"code": evening.join_code.lower()})) == (
        f"/e/{evening.join_code}"
    )
    assert path(client.get("/join", query_string={"code": "NOPE99"})) == "/"
    assert [category for category, _ in flashes(client)] == ["error"]


def test_a_typed_table_number_leads_to_that_table_of_the_evening_only(
    client, evening, table, other_table
):
    """The evening page's "your table's number" form, without JavaScript."""
    event = evening
    number = f"/e/{event.join_code}/table"

    assert path(client.get(number, query_string={"number": " 02 "})) == (
        f"/t/{other_table.join_code}"
    )
    assert path(client.get(number, query_string={"number": str(table.number)})) == (
        f"/t/{table.join_code}"
    )
    for typed in ("", "99", "abc", "١", "1" * 40, "-1"):
        assert path(client.get(number, query_string={"number": typed})) == (
            f"/e/{event.join_code}"
        ), typed
        assert [category for category, _ in flashes(client)] == ["error"]
        client.get(f"/e/{event.join_code}")  # the flash is shown, and gone
    assert client.get("/e/NOPE99/table", query_string={"number": "1"}).status_code == 404


def test_language_switch_returns_to_a_local_page_only(client, table):
    back = client.get("/lang/en", query_string={"next": f"/t/{table.join_code}"})
    away = client.get("/lang/en", query_string={"next": "https://evil.example/"})

    assert path(back) == f"/t/{table.join_code}"
    assert client.get_cookie("lang").value == "en"
    assert path(away) == "/"


# --- facilitator and projector -------------------------------------------------------------


def test_facilitator_link_opens_its_own_table_console_only(client, table, other_table):
    assert client.get("/f/not-the-secret").status_code == 404

    html = page(client.get(f"/f/{table.facilitator_secret}"))

    assert table.join_code in html and table.facilitator_secret in html
    assert other_table.join_code not in html
    assert other_table.facilitator_secret not in html


def test_projector_shows_the_evening_code_and_no_organizer_controls(signed_in, evening):
    html = page(signed_in.get(f"/p/{evening.join_code.lower()}"))

    assert evening.join_code in html
    assert f"{PUBLIC_URL}/e/{evening.join_code}" in html
    assert "<svg" in html
    assert "<form" not in html
    for table in evening.tables:
        assert table.facilitator_secret not in html
    assert signed_in.get("/p/NOPE9").status_code == 404


# --- security --------------------------------------------------------------------------------


def test_participant_name_is_escaped(client, table):
    script = "<script>alert(1)</script>"
    client.post(f"/t/{table.join_code}/join", data={"display_name": script, "category": "other"})

    wall = page(client.get(f"/t/{table.join_code}"))
    console = page(client.get(f"/f/{table.facilitator_secret}"))

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in wall
    assert script not in wall and script not in console


def test_table_text_is_escaped_on_phone_and_console(app, client, evening, table):
    html = '<img src=x onerror="alert(1)">'
    prepare(
        app,
        lambda s: events.update_table(
            s.get(Organizer, evening.organizer_id),
            s.get(Table, table.id),
            name=f"<b>{html}</b>",
            brief=html,
        ),
    )

    phone = page(client.get(f"/t/{table.join_code}"))
    console = page(client.get(f"/f/{table.facilitator_secret}"))

    for text in (phone, console):
        assert "&lt;img src=x onerror=" in text
        assert "<img" not in text and "<b>" not in text


def public_pages(evening, table) -> list[str]:
    return [
        "/",
        f"/e/{evening.join_code}",
        f"/t/{table.join_code}",
        f"/f/{table.facilitator_secret}",
        f"/p/{evening.join_code}",
        "/login",
        "/no-such-page",
    ]


def directives(policy: str) -> dict[str, str]:
    """A Content-Security-Policy as {directive: sources}."""
    pairs = (d.strip().partition(" ") for d in policy.split(";") if d.strip())
    return {name: sources for name, _, sources in pairs}


def test_security_headers_are_sent(client, evening, table):
    for url in public_pages(evening, table):
        headers = client.get(url).headers
        policy = directives(headers["Content-Security-Policy"])
        assert policy["script-src"] == "'self'", url
        assert policy["frame-ancestors"] == "'none'", url
        assert headers["X-Content-Type-Options"] == "nosniff", url


def test_pages_have_no_inline_script_the_policy_would_block(app, client, evening, table):
    """Under script-src 'self', inline code and on*= handlers would not run."""
    client.set_cookie(f"wt_{table.join_code}", join_in(app, table))
    login(client)
    event_id = evening.event_id
    urls = public_pages(evening, table) + [
        f"/organizer/events/{event_id}",
        f"/organizer/events/{event_id}/live",
        f"/organizer/events/{event_id}/tents",
    ]

    for url in urls:
        response = client.get(url)
        assert response.status_code == (404 if url == "/no-such-page" else 200), url
        html = response.get_data(as_text=True)
        for attributes in re.findall(r"<script\b([^>]*)>", html):
            assert "src=" in attributes or 'type="application/json"' in attributes, url
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), url


def test_csrf_protects_joining_and_logout(app, client, table):
    login(client)
    app.config["WTF_CSRF_ENABLED"] = True
    phone = app.test_client()

    join_answer = phone.post(
        f"/t/{table.join_code}/join", data={"display_name": "Alice", "category": "citizen"}
    )
    logout_answer = client.post("/logout")

    assert (join_answer.status_code, logout_answer.status_code) == (400, 400)
    assert count(app, Participant) == 0
    assert phone.get_cookie(f"wt_{table.join_code}") is None
    page(client.get("/organizer/"))


def test_csrf_token_from_the_page_lets_a_phone_join(app, client, table):
    """The control for the test above: with the page's token, joining works."""
    app.config["WTF_CSRF_ENABLED"] = True
    form = page(client.get(f"/t/{table.join_code}"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)

    response = client.post(
        f"/t/{table.join_code}/join",
        data={"display_name": "Alice", "category": "citizen", "csrf_token": token},
    )

    assert path(response) == f"/t/{table.join_code}"
    assert count(app, Participant) == 1


def test_seed_demo_command_prints_how_to_sign_in(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code == 0
    assert "demo@example.org" in result.output
    signed_in = app.test_client()
    answer = signed_in.post(
        "/login", data={"email": "demo@example.org", "password": "demo-soiree-2026"}
    )
    assert answer.headers["Location"].endswith("/organizer/")


def test_language_switch_never_redirects_to_another_site(client):
    for sneaky in (
        "//evil.example",
        "/%09/evil.example",
        "/\t/evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/\\/evil.example",
    ):
        response = client.get("/lang/en", query_string={"next": sneaky})
        location = response.headers["Location"]
        # What a browser would follow: tabs and newlines dropped, "\\" read as "/".
        followed = re.sub(r"[\t\r\n]", "", location).replace("\\", "/")
        assert not urlsplit(followed).netloc and not followed.startswith("//"), (sneaky, location)


# --- scripts and facilitator kits ------------------------------------------------------


def script_form(app, table_id, **changes) -> dict:
    """The script page's form as a browser would send it back, with ``changes``."""
    from workshop.services import steps

    def form(session):
        table = session.get(Table, table_id)
        form = {"steps": str(len(table.steps))}
        for i, step in enumerate(steps.script_of(table)):
            form.update(
                {
                    f"step-{i}-kind": step["kind"],
                    f"step-{i}-title": step["title"],
                    f"step-{i}-prompt": step["prompt"],
                    f"step-{i}-minutes": str(step["duration"] // 60),
                }
            )
            if step["kind"] == "diverge":
                form[f"step-{i}-card_kinds"] = step["settings"]["card_kinds"]
            if step["kind"] == "vote":
                form.update({f"step-{i}-votes": "3", f"step-{i}-max_per_card": "2"})
        return form

    return {**read(app, form), **changes}


def stored_steps(app, table_id) -> list[tuple]:
    """A table's steps as stored: (kind, title, duration, settings)."""

    def query(session):
        steps = session.get(Table, table_id).steps
        return [(s.kind.value, s.title, s.duration, s.settings) for s in steps]

    return read(app, query)


def titles(app, table_id) -> list[str]:
    return [title for _kind, title, _duration, _settings in stored_steps(app, table_id)]


def test_the_script_page_edits_reorders_adds_and_removes_steps(app, signed_in, table):
    page(signed_in.get(f"/organizer/tables/{table.id}/script"))
    url = f"/organizer/tables/{table.id}/script"

    signed_in.post(
        url,
        data=script_form(
            app,
            table.id,
            **{"step-0-title": "Tour de table", "step-0-minutes": "7", "action": "save"},
        ),
    )
    assert titles(app, table.id)[0] == "Tour de table"
    assert stored_steps(app, table.id)[0][2] == 7 * 60

    signed_in.post(url, data=script_form(app, table.id, action="down:0"))
    assert titles(app, table.id)[1] == "Tour de table"

    signed_in.post(url, data=script_form(app, table.id, action="remove:1"))
    assert "Tour de table" not in titles(app, table.id)
    assert len(titles(app, table.id)) == 7

    signed_in.post(url, data=script_form(app, table.id, action="add", new_kind="vote"))
    assert stored_steps(app, table.id)[-1][0] == "vote"
    assert len(titles(app, table.id)) == 8


def test_the_script_page_keeps_diverge_and_vote_settings(app, signed_in, table):
    url = f"/organizer/tables/{table.id}/script"
    kinds = [kind for kind, *_ in stored_steps(app, table.id)]
    diverge, vote = kinds.index("diverge"), kinds.index("vote")

    signed_in.post(
        url,
        data=script_form(
            app,
            table.id,
            **{
                f"step-{diverge}-card_kinds": ["need", "resource"],
                f"step-{diverge}-private": "on",
                f"step-{vote}-votes": "5",
                f"step-{vote}-no_self_vote": "on",
                "action": "save",
            },
        ),
    )

    settings = [settings for *_, settings in stored_steps(app, table.id)]
    assert settings[diverge] == {"card_kinds": ["need", "resource"], "private": True}
    assert settings[vote] == {"votes": 5, "max_per_card": 2, "no_self_vote": True}


def test_a_broken_script_is_refused_with_a_message_and_changes_nothing(app, signed_in, table):
    before = titles(app, table.id)

    response = signed_in.post(
        f"/organizer/tables/{table.id}/script",
        data=script_form(
            app,
            table.id,
            **{"step-2-minutes": "douze", "step-0-title": "Nouveau", "action": "save"},
        ),
    )

    assert "240" in page(response)
    assert titles(app, table.id) == before


def test_a_script_applies_to_chosen_tables_that_have_not_started(
    app, signed_in, evening, table, other_table
):
    def third_table(session):
        organizer = session.get(Organizer, evening.organizer_id)
        event = session.get(Event, evening.event_id)
        third = events.add_table(organizer, event, name="Troisième", challenge="territorial")
        third.step_id = third.steps[0].id  # already running its script
        return third.id

    third = prepare(app, third_table)
    third_titles = titles(app, third)

    signed_in.post(
        f"/organizer/tables/{table.id}/script",
        data=script_form(
            app,
            table.id,
            **{
                "step-0-title": "Même ouverture",
                "action": "copy",
                "tables": [str(other_table.id), str(third)],
            },
        ),
    )

    assert titles(app, other_table.id) == titles(app, table.id)
    assert titles(app, other_table.id)[0] == "Même ouverture"
    assert titles(app, third) == third_titles
    assert any("Troisième" in message for _c, message in flashes(signed_in))


def test_facilitator_kits_print_the_brief_timed_script_and_console_qr(
    app, signed_in, evening, table
):
    event_id = evening.event_id
    html = page(signed_in.get(f"/organizer/events/{event_id}/kits"))

    assert html.count("data-kit=") == 2
    assert f"{PUBLIC_URL}/f/{table.facilitator_secret}" in html
    assert html.count("<svg") >= 2
    assert table_texts(app, table.id)[1] in html
    # Default script: 10 + 5 + 15 + 10 minutes before the vote starts.
    assert re.search(
        r"<td>40 min</td><td><strong>[^<]+</strong><br><span class=\"muted\">Vote", html
    )

    old = table.facilitator_secret
    signed_in.post(f"/organizer/tables/{table.id}/rotate")
    html = page(signed_in.get(f"/organizer/events/{event_id}/kits"))
    assert old not in html


def test_a_script_filling_a_tables_seats_is_slowed_down(app, table):
    browser = app.test_client()
    code = table.join_code
    answers = [
        browser.post(f"/t/{code}/join", data={"display_name": f"Bot {n}", "category": "citizen"})
        for n in range(JOINS_PER_MINUTE + 1)
    ]

    assert [a.status_code for a in answers[:-1]] == [302] * JOINS_PER_MINUTE
    assert answers[-1].status_code == 429
    assert "Réessayez dans une minute" in answers[-1].get_data(as_text=True)
    clock.advance(60)
    late = browser.post(f"/t/{code}/join", data={"display_name": "Léa", "category": "citizen"})
    assert late.status_code == 302


@pytest.mark.parametrize("proxies", [0, 1])
def test_addresses_come_from_a_proxy_only_when_it_is_trusted(app, table, proxies):
    app.config["TRUSTED_PROXIES"] = proxies
    behind = create_app({**app.config})  # the proxy fix is set up with the app
    code = table.join_code

    def join_from(address, n):
        return behind.test_client().post(
            f"/t/{code}/join",
            data={"display_name": f"P{n}", "category": "citizen"},
            headers={"X-Forwarded-For": address},
        )

    for n in range(JOINS_PER_MINUTE):
        assert join_from("10.0.0.1", n).status_code == 302
    # Believed, the header tells two people apart; not believed, it is a forgery.
    assert join_from("10.0.0.2", 99).status_code == (302 if proxies else 429)


def test_every_required_field_says_what_is_missing_in_the_apps_own_words():
    """No WTForms "This field is required." (« Ce champ est requis. »)."""
    from wtforms.validators import DataRequired, InputRequired

    from workshop import forms

    found = []
    for form in vars(forms).values():
        if isinstance(form, type) and issubclass(form, forms.FlaskForm):
            for name, field in vars(form).items():
                for check in getattr(field, "kwargs", {}).get("validators", []):
                    if isinstance(check, DataRequired | InputRequired) and check.message is None:
                        found.append(f"{form.__name__}.{name}")
    assert found == []


def test_an_empty_sign_in_is_answered_in_the_apps_words(client, evening):
    answer = page(client.post("/login", data={"email": "", "password": ""}))
    assert "Veuillez indiquer votre adresse e-mail." in answer
    assert "Veuillez saisir votre mot de passe." in answer
    assert "Ce champ est requis" not in answer
