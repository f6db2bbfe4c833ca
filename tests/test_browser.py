"""End-to-end tests: Chromium (driven by Playwright) on phone-sized screens
against ``run.py`` in its own process, as on the evening (DESIGN.md §5-§7, §11).

Elements are found by stable attributes (data-*, ids, field names), never by
visible text: the interface is translated. Where a test is about the words a
participant reads, it compares with the strings of the page's own config.
"""

import re
import uuid

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from workshop.extensions import db
from workshop.models import Idea
from workshop.services import events

from .helpers import PASSWORD, join, make_event, make_organizer

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 360, "height": 740}, "locale": "fr-FR"}
LAPTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "fr-FR"}
RECONNECT = 15_000  # ms: Socket.IO retries at most every 5 s (plus jitter)

expect.set_options(timeout=10_000)


# --- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(chromium_path):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def evening(live_server):
    """The running server and a live evening with two tables."""
    server, _app = live_server
    return server, make_event(make_organizer())


@pytest.fixture
def new_page(browser, evening):
    """``new_page(laptop=False)``: a page in a browser context of its own."""
    contexts = []

    def new_page(laptop=False):
        context = browser.new_context(**(LAPTOP if laptop else PHONE))
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


# --- helpers --------------------------------------------------------------------


def table_url(server, table) -> str:
    return f"{server.url}/t/{table.join_code}"


def console_url(server, table) -> str:
    return f"{server.url}/f/{table.facilitator_secret}"


def i18n(page, key: str) -> str:
    """A string of the page's live config, in the page's language."""
    return page.evaluate(
        "key => JSON.parse(document.getElementById('live-config').textContent).i18n[key]", key
    )


def expect_connected(page, timeout=None):
    expect(page.locator("[data-connection]")).to_have_attribute(
        "data-state", "connected", timeout=timeout
    )


def sign_in(page, server):
    page.goto(f"{server.url}/login")
    page.fill("[name=email]", "orga@example.org")
    page.fill("[name=password]", PASSWORD)
    page.click("main form [type=submit]")
    expect(page).not_to_have_url(re.compile(r"/login"))


def join_table(page, url, name, category="citizen"):
    """Open a table's QR address on a phone and fill the join form."""
    page.goto(url)
    page.fill("[name=display_name]", name)
    page.select_option("[name=category]", category)
    page.click("form[action$='/join'] [type=submit]")
    expect_connected(page)


def open_console(page, server, table):
    page.goto(console_url(server, table))
    expect_connected(page)


def console_and_two_phones(new_page, server, table):
    """The table's console, then Alice's and Bruno's phones joined to it."""
    console = new_page(laptop=True)
    open_console(console, server, table)
    alice, bruno = new_page(), new_page()
    join_table(alice, table_url(server, table), "Alice")
    join_table(bruno, table_url(server, table), "Bruno")
    return console, alice, bruno


def post(page, text):
    page.fill("#idea-text", text)
    page.click("[data-submit]")


def cards(page, text):
    """The cards of the page's wall whose text is exactly ``text``."""
    exact = re.compile(f"^{re.escape(text)}$")
    return page.locator("[data-wall] li.idea").filter(
        has=page.locator(".idea-text", has_text=exact)
    )


def expect_sent(page):
    """The phone's outbox is empty: the server acknowledged everything."""
    pending = page.locator("[data-pending]")
    expect(pending).to_have_attribute("data-count", "0")
    expect(pending).to_have_text("")


def stored(text) -> list[Idea]:
    """The ideas with this text in the server's database."""
    db.session.rollback()  # forget what this session cached: read the file afresh
    return list(db.session.scalars(select(Idea).where(Idea.text == text)))


# --- tests ----------------------------------------------------------------------


def test_two_phones_join_through_the_qr_url_and_see_each_others_ideas(evening, new_page):
    """A table works from the printed tent: scan, join, post, everyone sees everything."""
    server, event = evening
    table = event.tables[0]

    organizer = new_page(laptop=True)
    sign_in(organizer, server)
    organizer.goto(f"{server.url}/organizer/events/{event.id}/tents")
    url = (
        organizer.locator("section.tent[aria-label='Table 1'] .tent-face:not(.tent-back) .tent-url")
        .inner_text()
        .strip()
    )
    assert url == table_url(server, table)

    console = new_page(laptop=True)
    open_console(console, server, table)
    alice, bruno = new_page(), new_page()
    join_table(alice, url, "Alice", "citizen")
    join_table(bruno, url, "Bruno", "business")

    post(alice, "Une navette solidaire le samedi")
    post(bruno, "Un atelier de réparation de vélos")

    for page in (alice, bruno, console):
        expect(cards(page, "Une navette solidaire le samedi")).to_have_count(1)
        expect(cards(page, "Un atelier de réparation de vélos")).to_have_count(1)
    expect(console.locator("[data-people] li.person")).to_contain_text(["Alice", "Bruno"])
    expect(console.locator("[data-people-count]")).to_have_text("2")

    # A new card does not rebuild the others (screen readers announce only it).
    cards(bruno, "Une navette solidaire le samedi").evaluate("node => { node.kept = true; }")
    post(alice, "Une troisième idée")
    expect(cards(bruno, "Une troisième idée")).to_have_count(1)
    assert cards(bruno, "Une navette solidaire le samedi").evaluate("node => node.kept === true")


def test_an_idea_posted_offline_is_sent_once_when_the_network_returns(evening, new_page):
    """A phone that loses the Wi-Fi keeps its idea, says so, and sends it exactly once."""
    server, event = evening
    table = event.tables[0]
    console, alice, bruno = console_and_two_phones(new_page, server, table)
    text = "Un jardin partagé derrière la mairie"

    alice.context.set_offline(True)
    connection = alice.locator("[data-connection]")
    expect(connection).to_have_attribute("data-state", "offline")
    post(alice, text)

    expect(connection).to_have_text(i18n(alice, "offline"))
    pending = alice.locator("[data-pending]")
    expect(pending).to_have_attribute("data-count", "1")
    expect(pending).to_have_text(i18n(alice, "pending_one"))
    expect(cards(alice, text)).to_have_count(1)
    # Bruno's later idea reaching the console proves the server has moved on.
    post(bruno, "Une idée de Bruno")
    expect(cards(console, "Une idée de Bruno")).to_have_count(1)
    expect(cards(bruno, text)).to_have_count(0)
    expect(cards(console, text)).to_have_count(0)
    assert stored(text) == []

    alice.context.set_offline(False)

    expect_connected(alice, timeout=RECONNECT)
    expect(connection).to_have_text(i18n(alice, "connected"))
    expect_sent(alice)
    for page in (alice, bruno, console):
        expect(cards(page, text)).to_have_count(1)
    assert len(stored(text)) == 1


def test_an_idea_refused_after_the_evening_closed_stays_on_the_phone(evening, new_page):
    """Written offline, refused when back (the evening closed): never lost silently."""
    server, event = evening
    table = event.tables[0]
    alice = new_page()
    join_table(alice, table_url(server, table), "Alice")
    text = "Une idée écrite trop tard"

    alice.context.set_offline(True)
    expect(alice.locator("[data-connection]")).to_have_attribute("data-state", "offline")
    post(alice, text)
    events.update_event(event.territory.organizers[0], event, status="closed")
    alice.context.set_offline(False)

    unsent = alice.locator("[data-unsent]")
    expect(unsent).to_be_visible(timeout=RECONNECT)
    expect(unsent.locator(".idea-text")).to_have_text([text])
    expect(alice.locator("[data-pending]")).to_have_attribute("data-count", "0")
    assert stored(text) == []
    alice.reload()  # kept on the phone, not only on the page
    expect(alice.locator("[data-unsent] .idea-text")).to_have_text([text])
    alice.locator("[data-unsent] [data-action=write-again]").click()
    expect(alice.locator("#idea-text")).to_have_value(text)
    expect(alice.locator("[data-unsent]")).to_be_hidden()


def test_a_participant_cannot_post_into_another_table(evening, new_page):
    """A table's cookie opens that table only, whatever a crafted message claims."""
    server, event = evening
    table_a, table_b = event.tables[0], event.tables[1]
    alice, bea = new_page(), new_page()
    join_table(alice, table_url(server, table_a), "Alice")
    join_table(bea, table_url(server, table_b), "Béa")
    text = "Intrusion dans la table B"

    refusal = alice.evaluate(
        """code => new Promise(resolve => {
            const s = io({auth: {role: "participant", table: code},
                          forceNew: true, reconnection: false});
            s.on("connect", () => { s.disconnect(); resolve("connected"); });
            s.on("connect_error", err => { s.close(); resolve("refused: " + err.message); });
        })""",
        table_b.join_code,
    )
    assert refusal == "refused: unauthorized"

    ack = alice.evaluate(
        """async ([codeA, codeB, idB, clientId, text]) => {
            const s = io({auth: {role: "participant", table: codeA},
                          forceNew: true, reconnection: false});
            await new Promise((resolve, reject) => {
                s.on("connect", resolve);
                s.on("connect_error", reject);
            });
            const ack = await s.timeout(10000).emitWithAck("post_idea", {
                client_id: clientId, kind: "idea", text: text,
                table_id: idB, table: codeB, table_code: codeB,
            });
            s.disconnect();
            return ack;
        }""",
        [table_a.join_code, table_b.join_code, table_b.id, str(uuid.uuid4()), text],
    )

    ideas = stored(text)
    assert all(idea.table_id == table_a.id for idea in ideas)
    if ack.get("ok"):
        assert len(ideas) == 1
        expect(cards(alice, text)).to_have_count(1)
    # Béa's own idea reaching her screen proves the crafted one had its chance.
    post(bea, "Une idée de la table B")
    expect(cards(bea, "Une idée de la table B")).to_have_count(1)
    expect(cards(bea, text)).to_have_count(0)


def test_phones_reconnect_by_themselves_after_a_server_restart(evening, new_page):
    """An acknowledged idea survives a crash; phones come back without a reload."""
    server, event = evening
    table = event.tables[0]
    alice = new_page()
    join_table(alice, table_url(server, table), "Alice")
    text = "Une recyclerie dans l'ancienne gare"
    post(alice, text)
    expect_sent(alice)
    expect(cards(alice, text)).to_have_count(1)

    server.kill()
    connection = alice.locator("[data-connection]")
    expect(connection).to_have_attribute("data-state", "connecting")
    server.start()

    expect_connected(alice, timeout=RECONNECT)
    expect(connection).to_have_text(i18n(alice, "connected"))
    expect(cards(alice, text)).to_have_count(1)
    expect_sent(alice)
    late = new_page()
    join_table(late, table_url(server, table), "Léa")
    expect(cards(late, text)).to_have_count(1)
    assert len(stored(text)) == 1


def test_the_first_phone_page_is_light_and_fits_a_small_screen(evening, new_page):
    """A phone on a weak venue Wi-Fi gets the wall in at most 100 KB, without sideways scrolling."""
    server, event = evening
    table = event.tables[0]
    _participant, token = join(table, "Zoé")
    page = new_page()
    page.context.add_cookies([{"name": f"wt_{table.join_code}", "value": token, "url": server.url}])
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    transferred = []
    cdp.on("Network.loadingFinished", lambda e: transferred.append(e["encodedDataLength"]))
    cdp.on(
        "Network.webSocketFrameReceived",
        lambda e: transferred.append(len(e["response"]["payloadData"])),
    )

    page.goto(table_url(server, table))
    expect_connected(page)
    expect(page.locator("[data-wall] li")).to_have_count(1)  # the "no idea yet" note

    print(f"first phone page load: {sum(transferred)} bytes transferred")
    assert sum(transferred) <= 100 * 1024, f"{sum(transferred)} bytes on first load"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    post(page, "Un-tres-long-mot-sans-espace-" * 6 + " https://example.org/" + "chemin/" * 12)
    expect(page.locator("[data-wall] li.idea")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_overview_and_the_projector_follow_the_tables_live(evening, new_page):
    """Organizers and the room see the evening grow without reloading."""
    server, event = evening
    table = event.tables[0]
    overview = new_page(laptop=True)
    sign_in(overview, server)
    overview.goto(f"{server.url}/organizer/events/{event.id}/live")
    expect(overview.locator("[data-connection]")).to_have_text(i18n(overview, "connected"))
    table_card = overview.locator(f'[data-table="{table.id}"]')
    expect(table_card.locator('[data-count="ideas"]')).to_have_text("0")
    projector = new_page(laptop=True)
    projector.goto(f"{server.url}/p/{event.join_code}")
    expect(projector.locator("body")).to_have_attribute("data-connection", "connected")
    expect(projector.locator('[data-total="ideas"]')).to_have_text("0")

    alice = new_page()
    join_table(alice, table_url(server, table), "Alice")
    post(alice, "Des bancs à l'ombre")

    expect(table_card.locator('[data-count="ideas"]')).to_have_text("1")
    expect(table_card.locator('[data-count="participants"]')).to_have_text("1")
    expect(table_card.locator("[data-recent] li")).to_have_text(["Des bancs à l'ombre"])
    expect(projector.locator('[data-total="ideas"]')).to_have_text("1")
    expect(projector.locator('[data-total="participants"]')).to_have_text("1")


def test_the_facilitator_hides_an_idea_and_shows_it_again(evening, new_page):
    """Moderation reaches every phone at once, and can be undone."""
    server, event = evening
    table = event.tables[0]
    console, alice, bruno = console_and_two_phones(new_page, server, table)
    text = "Une idée à modérer"
    post(alice, text)
    expect(cards(bruno, text)).to_have_count(1)

    cards(console, text).locator("[data-action=hide]").click()

    expect(cards(alice, text)).to_have_count(0)
    expect(cards(bruno, text)).to_have_count(0)
    expect(cards(console, text)).to_have_class(re.compile(r"\bhidden-idea\b"))

    cards(console, text).locator("[data-action=show]").click()

    expect(cards(alice, text)).to_have_count(1)
    expect(cards(bruno, text)).to_have_count(1)
    expect(cards(console, text)).not_to_have_class(re.compile(r"\bhidden-idea\b"))


def test_a_participant_edits_and_deletes_their_own_idea(evening, new_page):
    """A participant stays in control of what they posted; the table follows."""
    server, event = evening
    table = event.tables[0]
    alice, bruno = new_page(), new_page()
    join_table(alice, table_url(server, table), "Alice")
    join_table(bruno, table_url(server, table), "Bruno")
    post(alice, "Une premiere version")
    expect(cards(bruno, "Une premiere version")).to_have_count(1)
    expect(cards(bruno, "Une premiere version").locator("[data-action]")).to_have_count(0)

    cards(alice, "Une premiere version").locator("[data-action=edit]").click()
    expect(alice.locator("#idea-text")).to_have_value("Une premiere version")
    alice.fill("#idea-text", "Une version corrigée")
    alice.click("[data-submit]")

    for page in (alice, bruno):
        expect(cards(page, "Une version corrigée")).to_have_count(1)
        expect(cards(page, "Une premiere version")).to_have_count(0)

    alice.on("dialog", lambda dialog: dialog.accept())
    cards(alice, "Une version corrigée").locator("[data-action=delete]").click()

    for page in (alice, bruno):
        expect(cards(page, "Une version corrigée")).to_have_count(0)
    expect_sent(alice)
    [idea] = stored("Une version corrigée")
    assert idea.deleted
