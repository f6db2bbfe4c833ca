"""The room's vote on the themes in Chromium (issue 18, item 4): the control
room opens it, twenty phones vote (two in the browser, from the keyboard
and by touch, eighteen through the protocol's Python client), the results
stay hidden until the vote is closed, then show on the projector and the
phones; no axe violation on the phone's vote."""

import uuid
from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import expect

from workshop.client import Client
from workshop.extensions import db
from workshop.models import Table
from workshop.services import live

from .browser import expect_connected, join_table, sign_in, table_url
from .helpers import join, make_evening
from .test_accessibility import assert_accessible
from .test_browser_desk import desk_token


def python_phone(site, table, name) -> Client:
    """A phone of ``table`` speaking the protocol, as a joined participant."""
    with site.app.app_context():
        _participant, token = join(db.session.get(Table, table.id), name)
        db.session.remove()
    cookie = f"{live.participant_cookie_name(table.join_code)}={token}"
    return Client(
        site.server.url,
        {"role": "participant", "table": table.join_code},
        headers={"Cookie": cookie},
        follow=True,
    )


def room_vote_of(client: Client) -> dict | None:
    tables = [c for c in client.changes if c["type"] == "table"]
    return tables[-1]["room_vote"] if tables else None


def test_twenty_phones_vote_on_the_themes_and_the_projector_shows_the_result(site, new_page):
    email = f"vote-{uuid.uuid4().hex[:8]}@example.org"
    evening = make_evening(site.app, tables=2, email=email)
    team = Client(site.server.url, {"role": "desk", "token": desk_token(site.app, evening, "A")})
    themes = {}
    for label in ("Mobilité", "Logement", "Énergie"):
        answer = team.write("theme.create", {"label": label})
        assert answer and answer["ok"], answer
        themes[label] = answer["changes"][0]["id"]
    phones = [new_page(), new_page()]
    for page, table, name in zip(phones, evening.tables, ("Léa", "Noé"), strict=True):
        join_table(page, table_url(site, table), name)
    others = [python_phone(site, evening.tables[n % 2], f"P{n}") for n in range(18)]
    projector = new_page(laptop=True)
    projector.goto(f"{site.server.url}/p/{evening.join_code}")
    room = new_page(laptop=True)
    sign_in(room, site, email)
    room.goto(f"{site.server.url}/organizer/events/{evening.event_id}/live")
    expect_connected(room)

    room.fill("#room-vote-budget", "3")
    room.click('[data-room-vote="open"]')
    expect(room.locator("[data-room-vote-result]")).not_to_be_empty()

    lea, noe = phones
    for page in phones:
        expect(page.locator("[data-room-vote]")).to_be_visible()
        expect(page.locator("[data-room-vote] [data-theme]")).to_have_count(3)
    assert_accessible(lea, "the room's vote on a phone")
    # Léa from the keyboard: 2 points to Mobilité, 1 to Énergie.
    more = lea.locator(f'[data-room-vote] [data-theme="{themes["Mobilité"]}"] [data-action=more]')
    more.focus()
    lea.keyboard.press("Enter")
    lea.keyboard.press("Enter")
    lea.locator(f'[data-theme="{themes["Énergie"]}"] [data-action=more]').click()
    expect(lea.locator("[data-room-vote-left]")).to_contain_text("0")
    expect(lea.locator(f'[data-theme="{themes["Logement"]}"] [data-action=more]')).to_be_disabled()
    lea.click("[data-room-vote-send]")
    noe.locator(f'[data-theme="{themes["Logement"]}"] [data-action=more]').click()
    noe.click("[data-room-vote-send]")
    for page in phones:
        expect(page.locator("[data-room-vote-state]")).to_have_text(
            "Votre vote est compté. Vous pouvez le changer jusqu’à la clôture."
        )
    for phone in others:  # eighteen more: one point each to Énergie
        assert phone.synced.wait(10)
        answer = phone.write("room_vote.cast", {"points": {str(themes["Énergie"]): 1}})
        assert answer and answer["ok"], answer
    # Hidden until closed: no phone and no projector shows any result yet.
    expect(lea.locator("[data-room-vote-results]")).to_be_hidden()
    expect(projector.locator("[data-room-results]")).to_be_hidden()

    room.click('[data-room-vote="close"]')

    rows = projector.locator("[data-room-result-list] [data-theme]")
    expect(rows).to_have_count(3)
    expect(rows.locator("h2")).to_have_text(["Énergie", "Mobilité", "Logement"])
    expect(rows.nth(0)).to_contain_text("19")  # 18 + Léa's 1, from 19 voters
    expect(rows.nth(1)).to_contain_text("2")
    expect(noe.locator("[data-room-vote-results] li")).to_have_count(3)
    expect(noe.locator("[data-room-vote-results] li").first).to_contain_text("Énergie")
    # Each disconnect waits for its socket to close: in parallel, not in turn.
    with ThreadPoolExecutor(len(others) + 1) as pool:
        list(pool.map(Client.disconnect, [team, *others]))
