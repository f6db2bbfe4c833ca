"""End-to-end tests: Chromium (driven by Playwright) on phone-sized screens
against ``run.py`` in its own process, as on the evening (DESIGN.md §5-§7, §11).

Elements are found by stable attributes (data-*, ids, field names), never by
visible text: the interface is translated. Where a test is about the words a
participant reads, it compares with the strings of the page's own config.
"""

import json
import re
import shutil
import sqlite3
import threading
import uuid
from contextlib import closing, suppress
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from workshop.extensions import db
from workshop.models import Event, Idea, Organizer, Table
from workshop.services import events

from .browser import (
    Site,
    expect_connected,
    i18n,
    join_table,
    open_console,
    sign_in,
    table_url,
)
from .faults import slow_disk
from .helpers import (
    Phone,
    TableRef,
    hang_up,
    join,
    join_over_http,
    make_evening,
    read,
    serve,
)

RECONNECT = 15_000  # ms: Socket.IO retries at most every 5 s (plus jitter)
HOUSEKEEPING = 2  # seconds between this module's server's beacons (10 in production)
# ms: a table quiet for a whole housekeeping round has its number told at the
# next one (so within two rounds), and a screen behind it asks 2 s later.
QUIET_TABLE_BEACON = (2 * HOUSEKEEPING + 2) * 1000 + 5_000


@pytest.fixture(scope="module")
def module_live_server(tmp_path_factory, migrated_database):
    """The module's server, its housekeeping every HOUSEKEEPING seconds: a
    quiet table's beacon comes within a test's patience."""
    environment = {"BEACON_INTERVAL": str(HOUSEKEEPING)}
    yield from serve(tmp_path_factory.mktemp("live"), migrated_database, environment)


ADDED = 300  # seconds: the console's "+5 min"


def console_and_two_phones(new_page, site: Site, table: TableRef):
    """The table's console, then Alice's and Bruno's phones joined to it."""
    console = new_page(laptop=True)
    open_console(console, site, table)
    alice, bruno = new_page(), new_page()
    join_table(alice, table_url(site, table), "Alice")
    join_table(bruno, table_url(site, table), "Bruno")
    return console, alice, bruno


def post(page, text):
    page.fill("#idea-text", text)
    page.click("[data-composer] [data-submit]")


def cards(page, text):
    """The cards of the page's wall whose text is exactly ``text``."""
    exact = re.compile(f"^{re.escape(text)}$")
    return page.locator("[data-wall] li.idea").filter(
        has=page.locator(".idea-text", has_text=exact)
    )


def expect_sent(page):
    """The page's outbox is empty: the server acknowledged everything."""
    pending = page.locator("[data-pending]")
    expect(pending).to_have_attribute("data-count", "0")
    expect(pending).to_have_text("")


def step(console, kind):
    """The console's entry for the script's (first) step of ``kind``."""
    return console.locator(f"[data-steps] li[data-step-kind={kind}]").first


def go_to(console, kind):
    step(console, kind).locator("[data-action=go]").click()
    expect(step(console, kind)).to_have_class(re.compile(r"\bcurrent\b"))


def mm_ss(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def stored(site: Site, text) -> list[tuple[int, bool]]:
    """(table id, deleted) of the ideas with this text in the server's database."""
    return read(
        site.app,
        lambda session: [
            (idea.table_id, idea.deleted)
            for idea in session.scalars(select(Idea).where(Idea.text == text))
        ],
    )


def close_evening(site: Site):
    with site.app.app_context():
        organizer = db.session.get(Organizer, site.evening.organizer_id)
        event = db.session.get(Event, site.evening.event_id)
        events.update_event(organizer, event, status="closed")
        db.session.remove()


def joined(site: Site, table: TableRef, name) -> str:
    """A participant of ``table`` made on the server side; their token."""
    with site.app.app_context():
        _participant, token = join(db.session.get(Table, table.id), name)
        db.session.remove()
    return token


# --- the wall -------------------------------------------------------------------


def test_two_phones_join_through_the_qr_url_and_see_each_others_ideas(site, new_page):
    """A table works from the printed tent: scan, join, post, everyone sees everything."""
    table = site.evening.tables[0]

    organizer = new_page(laptop=True)
    sign_in(organizer, site)
    organizer.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}/tents")
    url = (
        organizer.locator(
            "section.tent[aria-label^='Table 1 '] .tent-face:not(.tent-back) .tent-url"
        )
        .inner_text()
        .strip()
    )
    assert url == table_url(site, table)

    console = new_page(laptop=True)
    open_console(console, site, table)
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


def test_an_idea_posted_offline_is_sent_once_when_the_network_returns(site, new_page):
    """A phone that loses the Wi-Fi keeps its idea, says so, and sends it exactly once."""
    table = site.evening.tables[0]
    console, alice, bruno = console_and_two_phones(new_page, site, table)
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
    expect(cards(alice, text)).to_have_class(re.compile(r"\bpending\b"))
    # Bruno's later idea reaching the console proves the server has moved on.
    post(bruno, "Une idée de Bruno")
    expect(cards(console, "Une idée de Bruno")).to_have_count(1)
    expect(cards(bruno, text)).to_have_count(0)
    expect(cards(console, text)).to_have_count(0)
    assert stored(site, text) == []

    alice.context.set_offline(False)

    expect_connected(alice, timeout=RECONNECT)
    expect(connection).to_have_text(i18n(alice, "connected"))
    expect_sent(alice)
    for page in (alice, bruno, console):
        expect(cards(page, text)).to_have_count(1)
    expect(cards(alice, text)).not_to_have_class(re.compile(r"\bpending\b"))
    assert len(stored(site, text)) == 1


def test_two_tabs_of_one_phone_agree_on_what_is_sent(site, new_page):
    """Both tabs share one outbox: what one sends, the other stops calling unsent."""
    table = site.evening.tables[0]
    first = new_page()
    join_table(first, table_url(site, table), "Alice")
    second = first.context.new_page()
    second.goto(table_url(site, table))
    expect_connected(second)
    text = "Ecrite dans un onglet"

    first.context.set_offline(True)
    post(first, text)
    for tab in (first, second):
        expect(tab.locator("[data-pending]")).to_have_attribute("data-count", "1")
        expect(cards(tab, text)).to_have_class(re.compile(r"\bpending\b"))
    first.context.set_offline(False)

    for tab in (first, second):
        expect_sent(tab)
        expect(cards(tab, text)).to_have_count(1, timeout=RECONNECT)
        expect(cards(tab, text)).not_to_have_class(re.compile(r"\bpending\b"))
    assert len(stored(site, text)) == 1


def test_an_idea_refused_after_the_evening_closed_stays_on_the_phone(site, new_page):
    """Written offline, refused when back (the evening closed): never lost silently."""
    table = site.evening.tables[0]
    alice = new_page()
    join_table(alice, table_url(site, table), "Alice")
    text = "Une idée écrite trop tard"

    alice.context.set_offline(True)
    expect(alice.locator("[data-connection]")).to_have_attribute("data-state", "offline")
    post(alice, text)
    close_evening(site)
    alice.context.set_offline(False)

    unsent = alice.locator("[data-unsent]")
    expect(unsent).to_be_visible(timeout=RECONNECT)
    expect(unsent.locator(".idea-text")).to_have_text([text])
    expect(unsent.locator(".error")).not_to_have_text([""])
    expect(alice.locator("[data-pending]")).to_have_attribute("data-count", "0")
    assert stored(site, text) == []
    alice.reload()  # kept on the phone, not only on the page
    expect(alice.locator("[data-unsent] .idea-text")).to_have_text([text])
    alice.locator("[data-unsent] [data-action=write-again]").click()
    expect(alice.locator("#idea-text")).to_have_value(text)
    expect(alice.locator("[data-unsent]")).to_be_hidden()


def test_a_participant_cannot_post_into_another_table(site, new_page):
    """A table's cookie opens that table only, whatever a crafted message claims."""
    table_a, table_b = site.evening.tables[0], site.evening.tables[1]
    alice, bea = new_page(), new_page()
    join_table(alice, table_url(site, table_a), "Alice")
    join_table(bea, table_url(site, table_b), "Béa")
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

    answers = alice.evaluate(
        """async ([codeA, codeB, idB, clientIds, text]) => {
            const s = io({auth: {role: "participant", table: codeA},
                          forceNew: true, reconnection: false});
            await new Promise((resolve, reject) => {
                s.on("connect", resolve);
                s.on("connect_error", reject);
            });
            const claims = {table_id: idB, table: codeB, table_code: codeB};
            const post = await s.timeout(10000).emitWithAck("write", {
                op: "idea.post", client_id: clientIds[0], ...claims,
                data: {kind: "idea", text: text, ...claims},
            });
            const moderate = await s.timeout(10000).emitWithAck("write", {
                op: "step.go", client_id: clientIds[1], ...claims, data: {step_id: null},
            });
            s.disconnect();
            return [post, moderate];
        }""",
        [
            table_a.join_code,
            table_b.join_code,
            table_b.id,
            [str(uuid.uuid4()), str(uuid.uuid4())],
            text,
        ],
    )

    post_answer, moderate_answer = answers
    ideas = stored(site, text)
    assert all(table_id == table_a.id for table_id, _deleted in ideas)
    if post_answer.get("ok"):
        assert len(ideas) == 1
        expect(cards(alice, text)).to_have_count(1)
    assert moderate_answer["ok"] is False
    assert moderate_answer["error"] == "forbidden"
    # Béa's own idea reaching her screen proves the crafted one had its chance.
    post(bea, "Une idée de la table B")
    expect(cards(bea, "Une idée de la table B")).to_have_count(1)
    expect(cards(bea, text)).to_have_count(0)


def test_phones_reconnect_by_themselves_after_a_server_restart(own_site, new_page):
    """An acknowledged idea survives a crash; phones come back without a reload."""
    site = own_site
    table = site.evening.tables[0]
    alice = new_page()
    join_table(alice, table_url(site, table), "Alice")
    text = "Une recyclerie dans l'ancienne gare"
    post(alice, text)
    expect_sent(alice)
    expect(cards(alice, text)).to_have_count(1)

    site.server.kill()
    connection = alice.locator("[data-connection]")
    expect(connection).to_have_attribute("data-state", "connecting")
    site.server.start()

    expect_connected(alice, timeout=RECONNECT)
    expect(connection).to_have_text(i18n(alice, "connected"))
    expect(cards(alice, text)).to_have_count(1)
    expect_sent(alice)
    late = new_page()
    join_table(late, table_url(site, table), "Léa")
    expect(cards(late, text)).to_have_count(1)
    assert len(stored(site, text)) == 1


@pytest.fixture
def held_disk(tmp_path, migrated_database):
    """A site of its own whose disk flushes wait while ``gate`` exists (the
    commits' pushes go out, the disk holds nothing of them); yields (site, gate)."""
    gate = tmp_path / "gate"
    environment = {**slow_disk(tmp_path, 0), "SLOW_DISK_GATE": str(gate)}
    for server, app in serve(tmp_path, migrated_database, environment):
        yield Site(server, app, make_evening(app)), gate


def test_a_phone_that_saw_numbers_lost_in_a_power_cut_shows_the_restored_wall(held_disk, new_page):
    """A card pushed before the disk had it is lost in a power cut, and the
    next card after the restart reuses its number. A phone that was away
    meanwhile is told at its catch-up to start again (``reset``): it drops
    the lost card and shows the new one, exactly the server's wall."""
    site, gate = held_disk
    table = site.evening.tables[0]
    path = Path(site.server.env["DATABASE_URL"].removeprefix("sqlite:///"))
    alice_http = join_over_http(site.server, table)
    phones = [Phone(site.server, table, alice_http)]
    try:
        assert phones[0].write("idea.post", {"text": "Sur le disque"})["ok"]
        bruno = new_page()
        join_table(bruno, table_url(site, table), "Bruno")
        expect(cards(bruno, "Sur le disque")).to_have_count(1)
        # What the disk holds before the power cut: a copy, taken as SQLite reads it.
        with (
            closing(sqlite3.connect(path)) as live,
            closing(sqlite3.connect(path.with_name("disk.db"))) as copy,
        ):
            live.backup(copy)
        gate.touch()  # the next card is committed and pushed, never flushed

        def never_answered(phone):  # the power goes before its answer
            with suppress(Exception):
                phone.write("idea.post", {"text": "Perdue"})

        threading.Thread(target=never_answered, args=phones, daemon=True).start()
        expect(cards(bruno, "Perdue")).to_have_count(1)

        bruno.context.set_offline(True)  # away while the power goes and comes back
        expect(bruno.locator("[data-connection]")).to_have_attribute("data-state", "offline")
        hang_up(*phones)
        site.server.kill()
        gate.unlink()
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        shutil.copy(path.with_name("disk.db"), path)
        site.server.start()
        phones = [Phone(site.server, table, alice_http)]
        after = phones[0].write("idea.post", {"text": "Après la coupure"})  # Perdue's number
        assert after["ok"]
        bruno.context.set_offline(False)

        expect_connected(bruno, timeout=RECONNECT)
        expect(cards(bruno, "Après la coupure")).to_have_count(1)
        expect(cards(bruno, "Perdue")).to_have_count(0)
        expect(bruno.locator("[data-wall] li.idea")).to_have_count(2)
        expect(cards(bruno, "Sur le disque")).to_have_count(1)
    finally:
        hang_up(*phones)


def test_the_first_phone_page_is_light_and_fits_a_small_screen(site, new_page):
    """A phone on a weak venue Wi-Fi gets the wall in at most 100 KB, without sideways scrolling."""
    table = site.evening.tables[0]
    token = joined(site, table, "Zoé")
    page = new_page()
    page.context.add_cookies(
        [{"name": f"wt_{table.join_code}", "value": token, "url": site.server.url}]
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    transferred = []
    cdp.on("Network.loadingFinished", lambda e: transferred.append(e["encodedDataLength"]))
    cdp.on(
        "Network.webSocketFrameReceived",
        lambda e: transferred.append(len(e["response"]["payloadData"])),
    )

    page.goto(table_url(site, table))
    expect_connected(page)
    expect(page.locator("[data-wall] li")).to_have_count(1)  # the "no idea yet" note

    print(f"first phone page load: {sum(transferred)} bytes transferred")
    assert sum(transferred) <= 100 * 1024, f"{sum(transferred)} bytes on first load"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    post(page, "Un-tres-long-mot-sans-espace-" * 6 + " https://example.org/" + "chemin/" * 12)
    expect(page.locator("[data-wall] li.idea")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_overview_and_the_projector_follow_the_tables_live(site, new_page):
    """Organizers and the room see the evening grow without reloading."""
    table = site.evening.tables[0]
    overview = new_page(laptop=True)
    sign_in(overview, site)
    overview.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}/live")
    expect(overview.locator("[data-connection]")).to_have_text(i18n(overview, "connected"))
    table_card = overview.locator(f'[data-table="{table.id}"]')
    expect(table_card.locator('[data-count="ideas"]')).to_have_text("0")
    projector = new_page(laptop=True)
    projector.goto(f"{site.server.url}/p/{site.evening.join_code}")
    expect(projector.locator("body")).to_have_attribute("data-connection", "connected")
    expect(projector.locator('[data-total="ideas"]')).to_have_text("0")

    alice = new_page()
    join_table(alice, table_url(site, table), "Alice")
    post(alice, "Des bancs à l'ombre")

    expect(table_card.locator('[data-count="ideas"]')).to_have_text("1")
    expect(table_card.locator('[data-count="participants"]')).to_have_text("1")
    expect(table_card.locator("[data-recent] li")).to_have_text(["Des bancs à l'ombre"])
    expect(projector.locator('[data-total="ideas"]')).to_have_text("1")
    expect(projector.locator('[data-total="participants"]')).to_have_text("1")


def test_the_facilitator_hides_an_idea_and_shows_it_again(site, new_page):
    """Moderation reaches every phone at once, and can be undone."""
    table = site.evening.tables[0]
    console, alice, bruno = console_and_two_phones(new_page, site, table)
    text = "Une idée à modérer"
    post(alice, text)
    expect(cards(bruno, text)).to_have_count(1)

    cards(console, text).locator("[data-action=hide]").click()

    # Its author keeps it, told that it was set aside; the others lose it.
    expect(cards(alice, text).locator(".set-aside")).to_have_count(1)
    expect(cards(bruno, text)).to_have_count(0)
    expect(cards(console, text)).to_have_class(re.compile(r"\bhidden-idea\b"))

    cards(console, text).locator("[data-action=show]").click()

    expect(cards(alice, text)).to_have_count(1)
    expect(cards(alice, text).locator(".set-aside")).to_have_count(0)
    expect(cards(bruno, text)).to_have_count(1)
    expect(cards(console, text)).not_to_have_class(re.compile(r"\bhidden-idea\b"))


def test_a_console_offline_keeps_its_actions_and_sends_them_when_back(site, new_page):
    """The facilitator's tablet writes through an outbox too: a drop-out loses nothing."""
    table = site.evening.tables[0]
    console, alice, bruno = console_and_two_phones(new_page, site, table)
    text = "Une idée à masquer hors ligne"
    post(alice, text)
    expect(cards(console, text)).to_have_count(1)

    console.context.set_offline(True)
    expect(console.locator("[data-connection]")).to_have_attribute("data-state", "offline")
    cards(console, text).locator("[data-action=hide]").click()
    expect(console.locator("[data-pending]")).to_have_attribute("data-count", "1")
    expect(console.locator("[data-pending]")).to_have_text(i18n(console, "changes_pending_one"))
    expect(cards(console, text)).to_have_class(re.compile(r"\bpending\b"))
    expect(cards(bruno, text)).to_have_count(1)

    # The tablet's browser closes the page, offline; reopened later, the
    # console finds its action kept on the tablet and sends it.
    context = console.context
    console.close()
    context.set_offline(False)
    console = context.new_page()
    open_console(console, site, table)

    expect_sent(console)
    expect(cards(console, text)).to_have_class(re.compile(r"\bhidden-idea\b"))
    expect(cards(alice, text).locator(".set-aside")).to_have_count(1)
    expect(cards(bruno, text)).to_have_count(0)


def drop_first_frame(page, matches):
    """Route ``page``'s Socket.IO websocket through the test, dropping the
    first frame from the server for which ``matches(frame)`` holds (a push or
    an answer lost on its way). Returns the list the dropped frame goes to."""
    dropped = []

    def route(ws):
        server = ws.connect_to_server()

        def from_server(message):
            if not dropped and isinstance(message, str) and matches(message):
                dropped.append(message)
                return
            ws.send(message)

        server.on_message(from_server)
        ws.on_message(lambda message: server.send(message))

    page.route_web_socket(re.compile(r"/socket\.io/"), route)
    return dropped


def server_errors_for(page, text):
    """Route ``page``'s websocket through the test: every write carrying
    ``text`` is kept from the server and answered with an unexpected server
    error, as a write that crashes its handler every time would be. Returns
    the list of the writes answered so."""
    failed = []

    def route(ws):
        server = ws.connect_to_server()

        def from_page(message):
            # A Socket.IO event with an acknowledgement id: "42<id>[name, data]".
            found = re.match(r"42(\d+)\[\"write\"", message) if isinstance(message, str) else None
            if found and text in message:
                failed.append(message)
                answer = {
                    "ok": False,
                    "error": "server_error",
                    "message": "Erreur",
                    "permanent": False,
                }
                ws.send(f"43{found.group(1)}{json.dumps([answer])}")
                return
            server.send(message)

        server.on_message(lambda message: ws.send(message))
        ws.on_message(from_page)

    page.route_web_socket(re.compile(r"/socket\.io/"), route)
    return failed


def test_a_write_that_fails_on_the_server_every_time_is_set_aside(site, new_page):
    """Three unexpected server errors: the write goes to the "not sent" list
    with its text, and the writes behind it go through."""
    table = site.evening.tables[0]
    crashing = "Une idee qui plante le serveur"  # ASCII: frames carry JSON with \u escapes
    alice = new_page()
    failed = server_errors_for(alice, crashing)
    join_table(alice, table_url(site, table), "Alice")

    post(alice, crashing)
    post(alice, "Celle qui attendait derriere")

    unsent = alice.locator("[data-unsent]")
    expect(unsent.locator(".idea-text")).to_have_text([crashing], timeout=RECONNECT)
    expect(cards(alice, "Celle qui attendait derriere")).to_have_count(1)
    expect_sent(alice)
    assert len(failed) == 3
    assert stored(site, crashing) == []
    assert len(stored(site, "Celle qui attendait derriere")) == 1


def test_a_lost_push_is_fetched_when_the_next_number_shows_the_gap(site, new_page):
    """A push lost on its way leaves a hole in the numbers: the phone fills it by itself."""
    table = site.evening.tables[0]
    lost = "Une idee perdue en route"  # ASCII: frames carry JSON with \u escapes
    alice, bruno = new_page(), new_page()
    dropped = drop_first_frame(bruno, lambda frame: lost in frame and '"changes"' in frame)
    join_table(alice, table_url(site, table), "Alice")
    join_table(bruno, table_url(site, table), "Bruno")

    post(alice, lost)
    expect(cards(alice, lost)).to_have_count(1)
    expect_sent(alice)
    post(alice, "La suivante")

    expect(cards(bruno, "La suivante")).to_have_count(1)
    expect(cards(bruno, lost)).to_have_count(1)  # fetched 2 s after the gap showed
    assert len(dropped) == 1


def test_a_lost_push_on_a_quiet_table_is_fetched_after_the_tables_beacon(site, new_page):
    """No later number shows the gap: the beacon to the quiet table does."""
    table = site.evening.tables[0]
    lost = "La derniere idee de la soiree"  # ASCII: frames carry JSON with \u escapes
    alice, bruno = new_page(), new_page()
    dropped = drop_first_frame(bruno, lambda frame: lost in frame and '"changes"' in frame)
    join_table(alice, table_url(site, table), "Alice")
    join_table(bruno, table_url(site, table), "Bruno")

    post(alice, lost)
    expect_sent(alice)

    expect(cards(bruno, lost)).to_have_count(1, timeout=QUIET_TABLE_BEACON)
    assert len(dropped) == 1


def test_an_unanswered_write_is_sent_again_and_stored_once(site, new_page):
    """No answer within 10 s: the phone sends the same write again; the server
    answers it from its receipt, and the idea exists once."""
    table = site.evening.tables[0]
    text = "Une idee dont la reponse se perd"  # ASCII: frames carry JSON with \u escapes
    alice, bruno = new_page(), new_page()
    # A Socket.IO answer frame ("43<id>[...]") to the write carrying the text.
    dropped = drop_first_frame(alice, lambda frame: frame.startswith("43") and text in frame)
    join_table(alice, table_url(site, table), "Alice")
    join_table(bruno, table_url(site, table), "Bruno")

    post(alice, text)

    expect(cards(bruno, text)).to_have_count(1)
    expect(alice.locator("[data-pending]")).to_have_attribute("data-count", "1")
    # The phone waits 10 s for the answer, then 2 s before sending again.
    expect(alice.locator("[data-pending]")).to_have_attribute("data-count", "0", timeout=25_000)
    assert len(dropped) == 1
    for page in (alice, bruno):
        expect(cards(page, text)).to_have_count(1)
    assert len(stored(site, text)) == 1


def test_a_participant_edits_and_deletes_their_own_idea(site, new_page):
    """A participant stays in control of what they posted; the table follows."""
    table = site.evening.tables[0]
    alice, bruno = new_page(), new_page()
    join_table(alice, table_url(site, table), "Alice")
    join_table(bruno, table_url(site, table), "Bruno")
    post(alice, "Une premiere version")
    expect(cards(bruno, "Une premiere version")).to_have_count(1)
    expect(cards(bruno, "Une premiere version").locator("[data-action]")).to_have_count(0)

    edit = cards(alice, "Une premiere version").locator("[data-action=edit]")
    expect(edit).to_have_attribute("aria-label", re.compile("Une premiere version"))
    edit.click()
    expect(alice.locator("#idea-text")).to_have_value("Une premiere version")
    alice.fill("#idea-text", "Une version corrigée")
    alice.click("[data-composer] [data-submit]")

    for page in (alice, bruno):
        expect(cards(page, "Une version corrigée")).to_have_count(1)
        expect(cards(page, "Une premiere version")).to_have_count(0)

    alice.on("dialog", lambda dialog: dialog.accept())
    cards(alice, "Une version corrigée").locator("[data-action=delete]").click()

    for page in (alice, bruno):
        expect(cards(page, "Une version corrigée")).to_have_count(0)
    expect_sent(alice)
    # Deleted is deleted: the card's text is gone from the database too.
    assert stored(site, "Une version corrigée") == []


def test_open_phones_follow_the_evening_closing_and_going_back_to_preparation(site, new_page):
    """Closed: own cards lose their edit and delete buttons at once and the
    composer says why; back in preparation, it says the evening has not started."""
    table = site.evening.tables[0]
    alice, organizer = new_page(), new_page(laptop=True)
    join_table(alice, table_url(site, table), "Alice")
    post(alice, "Avant la fermeture")
    expect_sent(alice)
    mine = cards(alice, "Avant la fermeture")
    expect(mine.locator("[data-action=edit]")).to_have_count(1)
    sign_in(organizer, site)
    organizer.on("dialog", lambda dialog: dialog.accept())

    def set_status(status):
        organizer.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}")
        organizer.click(f"form[action$='/status/{status}'] button")
        expect(organizer.locator(f".badge.status-{status}")).to_be_visible()

    set_status("closed")
    expect(mine.locator("[data-action]")).to_have_count(0)
    composer = alice.locator("[data-composer]")
    expect(composer.locator("[data-submit]")).to_be_disabled()
    expect(composer.locator("[data-error]")).to_have_text(i18n(alice, "closed"))

    set_status("draft")
    expect(composer.locator("[data-error]")).to_have_text(i18n(alice, "draft"))
    expect(composer.locator("[data-submit]")).to_be_disabled()

    set_status("live")
    expect(composer.locator("[data-submit]")).to_be_enabled()
    expect(composer.locator("[data-error]")).to_have_text("")
    expect(mine.locator("[data-action=edit]")).to_have_count(1)


# --- the method's steps -------------------------------------------------------------


def test_a_table_runs_its_introductions_then_a_private_round_of_ideas(site, new_page):
    """The console leads the script; three phones follow it step by step."""
    table = site.evening.tables[0]
    console = new_page(laptop=True)
    open_console(console, site, table)
    people = [("Alice", "citizen"), ("Bruno", "business"), ("Chloé", "citizen")]
    phones = []
    for name, category in people:
        page = new_page()
        join_table(page, table_url(site, table), name, category)
        phones.append(page)
    alice, bruno, chloe = phones
    for page in phones:
        expect(page.locator("[data-step]")).to_be_hidden()  # no step yet: the wall
        expect(page.locator("[data-composer]")).to_be_visible()

    # Introductions: every phone shows the form, the console gathers the answers.
    go_to(console, "intro")
    for page in phones:
        expect(page.locator("[data-live]")).to_have_attribute("data-screen", "intro")
        expect(page.locator("[data-intro-form]")).to_be_visible()
        expect(page.locator("[data-composer]")).to_be_hidden()
        expect(page.locator("[data-step-title]")).to_have_text(
            console.locator("[data-step-title]").inner_text()
        )
    for page, (name, _category) in zip(phones, people, strict=True):
        page.fill("[name=intro]", f"{name}, d'ici")
        page.fill("[name=brings]", f"Le carnet d'adresses de {name}")
        page.fill("[name=expects]", "Un projet concret")
        page.click("[data-intro-submit]")
        expect(page.locator("[data-intro-status]")).to_have_attribute("data-state", "saved")
    expect(console.locator("[data-people] [data-field=intro]")).to_have_text(
        ["Alice, d'ici", "Bruno, d'ici", "Chloé, d'ici"]
    )
    expect(alice.locator("[data-intros] [data-field=brings]")).to_have_text(
        [f"Le carnet d'adresses de {name}" for name, _category in people]
    )
    expect(console.locator("[data-mix] [data-category=citizen] [data-count]")).to_have_text("2")
    expect(console.locator("[data-mix] [data-category=business] [data-count]")).to_have_text("1")

    # Ideas, kept private until the facilitator reveals them.
    step(console, "diverge").locator("[data-setting=private]").check()
    expect_sent(console)
    go_to(console, "diverge")
    prompt = console.locator("[data-step-prompt]").inner_text()
    assert prompt
    for page in phones:
        expect(page.locator("[data-live]")).to_have_attribute("data-screen", "diverge")
        expect(page.locator("[data-step-prompt]")).to_have_text(prompt)
        expect(page.locator("[data-step-prompt]")).to_be_visible()
        # The creative challenge asks for ideas and questions, ideas first.
        kinds = page.locator("[data-composer] input[name=kind]")
        expect(kinds).to_have_count(2)
        assert [kinds.nth(i).get_attribute("value") for i in range(2)] == ["idea", "question"]
        expect(kinds.first).to_be_checked()
        expect(page.locator("[data-composer] [data-text-label]")).to_have_text(
            i18n(page, "your_kind")["idea"]
        )
    chloe.check("[data-composer] input[name=kind][value=question]")
    expect(chloe.locator("[data-composer] [data-text-label]")).to_have_text(
        i18n(chloe, "your_kind")["question"]
    )

    post(alice, "L'idée secrète d'Alice")
    post(bruno, "L'idée secrète de Bruno")
    expect_sent(alice)
    expect_sent(bruno)
    expect(cards(alice, "L'idée secrète d'Alice")).to_have_class(re.compile(r"\bprivate-idea\b"))
    private = chloe.locator("[data-private-count]")
    expect(private).to_have_attribute("data-count", "2")
    expect(private).to_be_visible()
    expect(cards(chloe, "L'idée secrète d'Alice")).to_have_count(0)
    expect(cards(chloe, "L'idée secrète de Bruno")).to_have_count(0)
    expect(bruno.locator("[data-private-count]")).to_have_attribute("data-count", "1")
    expect(cards(bruno, "L'idée secrète d'Alice")).to_have_count(0)
    for text in ("L'idée secrète d'Alice", "L'idée secrète de Bruno"):
        expect(cards(console, text)).to_have_count(1)

    # The timer is server time: the same on every screen, paused and extended by the console.
    for page in (console, *phones):
        expect(page.locator("[data-timer]")).to_be_visible()
    console.click("[data-action=pause]")
    timer = console.locator("[data-timer]")
    expect(timer).to_have_attribute("data-paused", "true")
    left = int(timer.get_attribute("data-seconds"))
    assert 0 < left <= 15 * 60
    for page in phones:
        expect(page.locator("[data-timer]")).to_have_attribute("data-paused", "true")
        expect(page.locator("[data-timer-value]")).to_have_text(mm_ss(left))
    console.click("[data-action=add-time]")
    expect(timer).to_have_attribute("data-seconds", str(left + ADDED))
    for page in phones:
        expect(page.locator("[data-timer-value]")).to_have_text(mm_ss(left + ADDED))
    console.click("[data-action=pause]")  # now "resume"
    expect(timer).to_have_attribute("data-paused", "false")
    expect(alice.locator("[data-timer]")).to_have_attribute("data-paused", "false")

    console.click("[data-action=reveal]")
    for page in (console, *phones):
        for text in ("L'idée secrète d'Alice", "L'idée secrète de Bruno"):
            expect(cards(page, text)).to_have_count(1)
    for page in phones:
        expect(page.locator("[data-private-count]")).to_be_hidden()
    expect(step(console, "diverge").locator("[data-setting=private]")).to_be_disabled()

    # The groups step: the question and the wall, nothing to write.
    console.click("[data-action=next-step]")
    expect(step(console, "cluster")).to_have_class(re.compile(r"\bcurrent\b"))
    expect(alice.locator("[data-live]")).to_have_attribute("data-screen", "cluster")
    expect(alice.locator("[data-composer]")).to_be_hidden()
    expect(alice.locator("[data-step-prompt]")).to_have_text(
        console.locator("[data-step-prompt]").inner_text()
    )
    expect(cards(alice, "L'idée secrète de Bruno")).to_have_count(1)
    for page in phones:
        assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_console_posts_a_card_for_someone_without_a_phone(site, new_page):
    """A participant without a phone still has their idea on the wall, under their name."""
    table = site.evening.tables[0]
    assert joined(site, table, "Dominique")  # at the table, writing on paper
    console, alice, bruno = console_and_two_phones(new_page, site, table)
    expect(console.locator("[data-people-count]")).to_have_text("3")
    text = "Un marché de producteurs le mardi"

    behalf = console.locator("[data-behalf]")
    behalf.locator("[name=participant_id]").select_option(label="Dominique")
    behalf.locator("[name=kind][value=question]").check()
    behalf.locator("textarea").fill(text)
    behalf.locator("[data-submit]").click()

    expect_sent(console)
    for page in (console, alice, bruno):
        card = cards(page, text)
        expect(card).to_have_count(1)
        expect(card.locator("[data-author]")).to_have_text("Dominique")
        expect(card).to_have_attribute("data-kind", "question")
    expect(behalf.locator("textarea")).to_have_value("")


def test_the_facilitator_hides_the_names_of_the_authors(site, new_page):
    """Hide names: the phones stop seeing who wrote what; the console still knows."""
    table = site.evening.tables[0]
    console, alice, bruno = console_and_two_phones(new_page, site, table)
    text = "Une idée signée"
    post(alice, text)
    expect(cards(bruno, text).locator("[data-author]")).to_have_text("Alice")

    console.check("[data-setting=anonymous]")

    expect(cards(bruno, text).locator("[data-author]")).to_have_count(0)
    expect(cards(bruno, text)).to_have_count(1)
    expect(cards(alice, text).locator("[data-author]")).to_have_text(i18n(alice, "you"))
    expect(cards(console, text).locator("[data-author]")).to_have_text("Alice")
    post(bruno, "Une idée anonyme de Bruno")
    expect(cards(alice, "Une idée anonyme de Bruno")).to_have_count(1)
    expect(cards(alice, "Une idée anonyme de Bruno").locator("[data-author]")).to_have_count(0)

    console.uncheck("[data-setting=anonymous]")

    expect(cards(bruno, text).locator("[data-author]")).to_have_text("Alice")


def test_a_word_from_the_organizers_shows_on_the_console(site, new_page):
    """The control room writes to a table's console; the console shows it as text."""
    table = site.evening.tables[0]
    console = new_page(laptop=True)
    open_console(console, site, table)
    expect(console.locator("[data-console-message]")).to_be_hidden()
    organizer = new_page(laptop=True)
    sign_in(organizer, site)
    organizer.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}/live")
    text = "<b>Plénière</b> dans 5 minutes"

    answer = organizer.evaluate(
        """async ([eventId, tableId, clientId, text]) => {
            const s = io({auth: {role: "organizer", event: eventId},
                          forceNew: true, reconnection: false});
            await new Promise((resolve, reject) => {
                s.on("connect", resolve);
                s.on("connect_error", reject);
            });
            const ack = await s.timeout(10000).emitWithAck("write", {
                op: "console.message", client_id: clientId, table_id: tableId,
                data: {text: text},
            });
            s.disconnect();
            return ack;
        }""",
        [site.evening.event_id, table.id, str(uuid.uuid4()), text],
    )

    assert answer["ok"] is True, answer
    message = console.locator("[data-console-message]")
    expect(message).to_be_visible()
    expect(message.locator("[data-console-message-text]")).to_have_text(text)
    expect(message.locator("b")).to_have_count(0)  # text, never HTML


def test_the_console_fits_a_small_tablet_with_large_touch_targets(site, new_page):
    """A facilitator on a phone-sized screen: no sideways scrolling, fingers fit every control."""
    table = site.evening.tables[0]
    console = new_page()
    open_console(console, site, table)
    alice = new_page()
    join_table(alice, table_url(site, table), "Alice")
    post(alice, "Une idée pour la console")
    expect(cards(console, "Une idée pour la console")).to_have_count(1)
    go_to(console, "diverge")

    check_touch_targets(console)
    # The later steps' controls too: groups, the vote, the sheet, commitments.
    go_to(console, "cluster")
    console.fill("#cluster-name", "Un groupe")
    console.press("#cluster-name", "Enter")
    console.fill("#cluster-name", "Un autre groupe")
    console.press("#cluster-name", "Enter")
    expect(console.locator("[data-groups] section.group")).to_have_count(2)
    check_touch_targets(console)
    for kind in ("vote", "sheet", "commit"):
        go_to(console, kind)
        check_touch_targets(console)


def check_touch_targets(console):
    """No sideways scrolling; every control at least 44 px high; no two
    buttons with the same name."""
    assert console.evaluate("document.documentElement.scrollWidth") <= 360
    small = console.evaluate(
        """() => Array.from(document.querySelectorAll(
                "[data-console] button, [data-console] select, [data-console] label.toggle,"
                + " [data-console] input[type=text]"))
            .filter(node => node.offsetParent !== null)
            .filter(node => node.getBoundingClientRect().height < 44)
            .map(node => node.outerHTML.slice(0, 80))"""
    )
    assert small == []
    names = console.evaluate(
        """() => Array.from(document.querySelectorAll("[data-console] button"))
            .filter(node => node.offsetParent !== null)
            .map(node => node.getAttribute("aria-label") || node.textContent.trim())"""
    )
    assert len(names) == len(set(names)), names


def test_the_store_keeps_the_fullest_view_and_counts_only_contiguous_numbers(site, new_page):
    """The pure state store, run in the browser as the pages run it."""
    page = new_page()
    page.goto(f"{site.server.url}/")
    result = page.evaluate(
        """async () => {
            const { createStore } = await import("/static/js/live/store.js");
            let now = 1000000;
            const store = createStore({ clock: () => now });
            const out = {};
            const full = {type: "idea", id: 1, seq: 1, text: "Mine", client_id: "c1",
                          author_id: 7, private: true, hidden: false, deleted: false};
            store.apply(full);
            store.apply({type: "idea", id: 1, seq: 1, private: true, hidden: false,
                         deleted: false, withheld: true});
            out.keptFull = store.get("idea", 1).text;
            store.apply({type: "idea", id: 2, seq: 3, withheld: true, private: true,
                         hidden: false, deleted: false});
            out.afterGap = [store.lastSeq, store.hasGap(), store.privateCount()];
            store.apply({type: "participant", id: 7, seq: 2, name: "A", category: "citizen"});
            out.filled = [store.lastSeq, store.hasGap()];
            store.apply({type: "idea", id: 3, seq: 6, text: "Later", private: false,
                         hidden: false, deleted: false});
            store.catchUp({seq: 5, changes: [], now: 1060000});
            out.caughtUp = [store.lastSeq, store.hasGap(), store.serverNow()];
            store.apply({type: "step", id: 10, seq: 7, kind: "intro", title: "I"});
            store.apply({type: "step", id: 11, seq: 8, kind: "diverge", title: "D",
                         settings: {card_kinds: ["need", "question"]}});
            store.apply({type: "table", id: 1, seq: 9, step_id: 11, step_ids: [10, 11],
                         timer: {ends_at: 1060000 + 25000, left: null}});
            out.step = [store.currentStep().title, store.previousStep().title, store.nextStep()];
            out.kinds = store.cardKinds(["need", "idea", "question"]);
            out.timer = [store.timeLeft(), store.timerLevel(store.timeLeft()),
                         store.timerLevel(100), store.timerLevel(500), store.timerLevel(-3)];
            out.mix = store.mix();
            return out;
        }"""
    )
    assert result["keptFull"] == "Mine"
    assert result["afterGap"] == [1, True, 1]
    assert result["filled"] == [3, False]
    assert result["caughtUp"] == [6, False, 1060000]
    assert result["step"] == ["D", "I", None]
    assert result["kinds"] == ["need", "question"]
    assert result["timer"] == [25, "danger", "warning", "ok", "overtime"]
    assert result["mix"] == {"citizen": 1}


# --- one table, every step ---------------------------------------------------------


def wall_card(page, text):
    """The card whose text is exactly ``text``, in a group of the wall or not."""
    exact = re.compile(f"^{re.escape(text)}$")
    return page.locator("[data-wall-section] li.idea").filter(
        has=page.locator(".idea-text", has_text=exact)
    )


def group(page, name):
    """The wall's group named exactly ``name``."""
    exact = re.compile(f"^{re.escape(name)}$")
    return page.locator("[data-groups] section.group").filter(
        has=page.locator("[data-group-name]", has_text=exact)
    )


def texts_of(locator) -> list[str]:
    return [text.strip() for text in locator.locator(".idea-text").all_inner_texts()]


def focused(page) -> dict:
    """What has the keyboard focus: its data-field or data-action, and its card's text."""
    return page.evaluate(
        """() => {
            const node = document.activeElement;
            const card = node.closest("li.idea");
            return {field: node.dataset.field || node.dataset.action || node.id,
                    card: card ? card.querySelector(".idea-text").textContent : null};
        }"""
    )


def pick_by_keyboard(page, label):
    """Choose the option ``label`` of the focused list with the arrow keys."""
    page.keyboard.press("Home")
    for _ in range(20):
        if page.evaluate("() => document.activeElement.selectedOptions[0].label") == label:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no option {label!r}")


def choose_by_keyboard(console, text):
    """Tick a card's "Choose" box with the space bar."""
    box = wall_card(console, text).locator("[data-field=choose]")
    box.focus()
    console.keyboard.press("Space")
    expect(box).to_be_checked()


def move_by_keyboard(console, text, group_name):
    """Pick the group in the card's list by typing its name, Tab to Move, Enter."""
    wall_card(console, text).locator("[data-field=move-to]").focus()
    pick_by_keyboard(console, group_name)
    console.keyboard.press("Tab")
    assert focused(console) == {"field": "move", "card": text}
    console.keyboard.press("Enter")
    expect(group(console, group_name).locator("li.idea")).to_contain_text([text])
    # The keyboard user stays on the card they moved, in its new group.
    assert focused(console) == {"field": "move-to", "card": text}


def new_group_by_keyboard(console, name):
    console.locator("#cluster-name").focus()
    console.keyboard.type(name)
    console.keyboard.press("Enter")
    expect(group(console, name)).to_have_count(1)


def vote(page, text):
    wall_card(page, text).locator("[data-action=vote]").click()


def sheet_field(page, key):
    return page.locator(f"[data-sheet] [data-key={key}]")


def write_sheet(page, key, text):
    """Type into a sheet field; it is saved a moment after the last keystroke."""
    field = sheet_field(page, key).locator("[data-sheet-input]")
    field.fill(text)
    expect(sheet_field(page, key).locator("[data-sheet-state]")).not_to_have_attribute(
        "data-state", "typing"
    )


def test_one_table_runs_every_step_of_the_method(site, new_page):
    """A console and three phones go through the whole script: introductions,
    private ideas then reveal, groups made with the keyboard, a dot vote, the
    sheet written from two screens at once, commitments, and the plenary."""
    table = site.evening.tables[0]
    assert joined(site, table, "Dominique")  # at the table without a phone
    console = new_page(laptop=True)
    open_console(console, site, table)
    people = [("Alice", "citizen"), ("Bruno", "business"), ("Chloé", "association")]
    phones = []
    for name, category in people:
        page = new_page()
        join_table(page, table_url(site, table), name, category)
        phones.append(page)
    alice, bruno, chloe = phones
    expect(console.locator("[data-people-count]")).to_have_text("4")

    # 1. Introductions.
    go_to(console, "intro")
    for page, (name, _category) in zip(phones, people, strict=True):
        expect(page.locator("[data-intro-form]")).to_be_visible()
        page.fill("[name=intro]", f"{name}, d'ici")
        page.fill("[name=brings]", f"Le réseau de {name}")
        page.click("[data-intro-submit]")
        expect(page.locator("[data-intro-status]")).to_have_attribute("data-state", "saved")
    expect(console.locator("[data-people] [data-field=intro]")).to_have_text(
        ["Alice, d'ici", "Bruno, d'ici", "Chloé, d'ici"]
    )

    # 2. Ideas kept private, then revealed.
    step(console, "diverge").locator("[data-setting=private]").check()
    expect_sent(console)
    go_to(console, "diverge")
    ideas = {
        alice: ["Une navette solidaire", "Un covoiturage de village"],
        bruno: ["Un atelier vélo", "Une épicerie mobile"],
        chloe: ["Un marché de producteurs"],
    }
    for page, texts in ideas.items():
        for text in texts:
            post(page, text)
        expect_sent(page)
    expect(chloe.locator("[data-private-count]")).to_have_attribute("data-count", "4")
    expect(wall_card(chloe, "Une navette solidaire")).to_have_count(0)
    console.click("[data-action=reveal]")
    every = [text for texts in ideas.values() for text in texts]
    for page in (console, *phones):
        for text in every:
            expect(wall_card(page, text)).to_have_count(1)

    # 3. Groups, made with the keyboard only; the phones follow.
    go_to(console, "cluster")
    for page in phones:
        expect(page.locator("[data-live]")).to_have_attribute("data-screen", "cluster")
        expect(page.locator("[data-composer]")).to_be_hidden()
    expect(console.locator("[data-cluster-board]")).to_be_visible()
    choose_by_keyboard(console, "Une navette solidaire")
    choose_by_keyboard(console, "Un covoiturage de village")
    expect(console.locator("[data-cluster-chosen]")).to_have_attribute("data-count", "2")
    new_group_by_keyboard(console, "Mobilité")  # takes the two chosen cards
    expect(group(console, "Mobilité").locator("li.idea")).to_have_count(2)
    new_group_by_keyboard(console, "Vélo")
    move_by_keyboard(console, "Un atelier vélo", "Vélo")
    new_group_by_keyboard(console, "Commerces")
    move_by_keyboard(console, "Une épicerie mobile", "Commerces")
    # With the mouse, a card is dragged onto a group just as well.
    wall_card(console, "Un marché de producteurs").drag_to(group(console, "Commerces"))
    expect(group(console, "Commerces").locator(".idea-text")).to_contain_text(
        ["Un marché de producteurs"]
    )

    # Merge "Vélo" into "Mobilité": its list, Tab, Enter.
    group(console, "Vélo").locator("[data-field=merge-into]").focus()
    pick_by_keyboard(console, "Mobilité")
    console.keyboard.press("Tab")
    assert focused(console)["field"] == "merge"
    console.keyboard.press("Enter")
    expect(group(console, "Vélo")).to_have_count(0)
    expect(group(console, "Mobilité").locator("li.idea")).to_have_count(3)

    # Rename it: the name field, a new name, Enter.
    rename = group(console, "Mobilité").locator("[data-field=rename]")
    rename.focus()
    console.keyboard.press("ControlOrMeta+a")
    console.keyboard.type("Se déplacer")
    console.keyboard.press("Enter")
    expect(group(console, "Se déplacer")).to_have_count(1)

    # Split: the chosen cards of one group go to a new group.
    choose_by_keyboard(console, "Une navette solidaire")
    choose_by_keyboard(console, "Un covoiturage de village")
    new_group_by_keyboard(console, "Partager la voiture")
    expect(group(console, "Partager la voiture").locator("li.idea")).to_have_count(2)
    expect(group(console, "Se déplacer").locator("li.idea")).to_have_count(1)

    # Delete "Commerces": its cards stay on the wall, out of any group.
    group(console, "Commerces").locator("[data-action=delete-group]").focus()
    console.keyboard.press("Enter")
    expect(group(console, "Commerces")).to_have_count(0)
    expect_sent(console)

    groups_seen = ["Partager la voiture", "Se déplacer"]
    for page in phones:
        names = page.locator("[data-groups] [data-group-name]")
        expect(names).to_have_count(2)
        assert sorted(names.all_inner_texts()) == sorted(groups_seen)
        expect(group(page, "Partager la voiture").locator(".idea-text")).to_have_text(
            ["Un covoiturage de village", "Une navette solidaire"]
        )
        expect(group(page, "Se déplacer").locator(".idea-text")).to_have_text(["Un atelier vélo"])
        # Cards out of any group come last, under their own heading.
        expect(page.locator("[data-loose-title]")).to_be_visible()
        expect(page.locator("[data-wall] li.idea .idea-text")).to_have_text(
            ["Un marché de producteurs", "Une épicerie mobile"]
        )
        assert page.evaluate(
            """() => {
                const groups = document.querySelector("[data-groups]");
                const loose = document.querySelector("[data-wall]");
                return !!(groups.compareDocumentPosition(loose)
                          & Node.DOCUMENT_POSITION_FOLLOWING);
            }"""
        )

    # 4. The dot vote: 3 votes each, at most 2 on one card, results hidden until closed.
    go_to(console, "vote")
    panel = console.locator("[data-vote-panel]")
    expect(panel).to_have_attribute("data-state", "ready")
    for page in phones:
        expect(page.locator("[data-live]")).to_have_attribute("data-screen", "vote")
        expect(page.locator("[data-vote]")).to_have_attribute("data-state", "ready")
        expect(wall_card(page, "Un atelier vélo").locator("[data-action=vote]")).to_have_count(0)
    panel.locator("[data-action=vote-open]").click()
    for page in phones:
        expect(page.locator("[data-votes-left]")).to_have_attribute("data-left", "3")
        expect(page.locator("[data-votes-left]")).to_be_visible()
    left = alice.locator("[data-votes-left]")
    error = alice.locator("[data-vote-error]")
    vote(alice, "Un atelier vélo")
    vote(alice, "Un atelier vélo")
    expect(left).to_have_attribute("data-left", "1")
    vote(alice, "Un atelier vélo")  # a third on one card: refused
    expect(error).to_have_attribute("data-error", "card_full")
    expect(error).to_be_visible()
    vote(alice, "Une épicerie mobile")
    expect(left).to_have_attribute("data-left", "0")
    expect_sent(alice)
    vote(alice, "Un marché de producteurs")  # a fourth vote: none left
    expect(error).to_have_attribute("data-error", "no_votes_left")
    expect(error).to_be_visible()
    expect(error).not_to_have_text("")
    expect(alice.locator("[data-unsent]")).to_be_hidden()  # said here, not "not sent"
    mine = wall_card(alice, "Un atelier vélo").locator("[data-my-votes]")
    expect(mine).to_have_attribute("data-my-votes", "2")
    wall_card(alice, "Un atelier vélo").locator("[data-action=unvote]").click()
    expect(mine).to_have_attribute("data-my-votes", "1")
    expect(left).to_have_attribute("data-left", "1")
    expect(error).to_have_text("")
    vote(bruno, "Un atelier vélo")
    vote(chloe, "Un atelier vélo")
    vote(chloe, "Une épicerie mobile")
    for page in (alice, bruno, chloe):
        expect_sent(page)
    progress = panel.locator("[data-vote-progress]")
    expect(progress).to_have_attribute("data-voters", "3")
    expect(progress).to_have_attribute("data-votes", "5")
    # Nobody sees the tally while the vote is open.
    for page in (console, *phones):
        expect(page.locator("[data-vote-results]")).to_be_hidden()
        expect(page.locator("[data-wall-section] .vote-count")).to_have_count(0)

    panel.locator("[data-action=vote-close]").click()
    expected = [("Un atelier vélo", "3"), ("Une épicerie mobile", "2")]
    for page in (console, *phones):
        ranking = page.locator("[data-vote-results] [data-ranking] li")
        expect(ranking.locator(".ranked-text")).to_have_text([text for text, _n in expected])
        for index, (_text, n) in enumerate(expected):
            expect(ranking.nth(index)).to_have_attribute("data-votes", n)
    for page in phones:
        expect(page.locator("[data-votes-left]")).to_be_hidden()
        expect(wall_card(page, "Un atelier vélo").locator("[data-votes]")).to_have_attribute(
            "data-votes", "3"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # 5. The sheet: the reporter and the facilitator write it, the others read it live.
    console.locator("[data-people] li[data-participant-id]").filter(has_text="Bruno").locator(
        "[data-action=make-reporter]"
    ).click()
    go_to(console, "sheet")
    for page in phones:
        expect(page.locator("[data-live]")).to_have_attribute("data-screen", "sheet")
        expect(page.locator("[data-sheet]")).to_be_visible()
    keys = console.locator("[data-sheet] [data-key]")
    expect(keys).to_have_count(5)
    key, other = keys.nth(0).get_attribute("data-key"), keys.nth(1).get_attribute("data-key")
    expect(sheet_field(bruno, key).locator("[data-sheet-input]")).to_be_editable()
    for page in (alice, chloe):
        expect(page.locator("[data-sheet] [data-sheet-input]")).to_have_count(0)

    write_sheet(console, key, "Une navette partagée entre trois villages")
    for page in phones:
        expect(sheet_field(page, key)).to_have_attribute("data-version", "1")
    for page in (alice, chloe):
        expect(sheet_field(page, key).locator("[data-sheet-text]")).to_have_text(
            "Une navette partagée entre trois villages"
        )
    expect(sheet_field(bruno, key).locator("[data-sheet-input]")).to_have_value(
        "Une navette partagée entre trois villages"
    )

    # Who is writing shows on the other screens.
    sheet_field(console, other).locator("[data-sheet-input]").focus()
    for page in (alice, bruno):
        editing = sheet_field(page, other).locator("[data-sheet-editing]")
        expect(editing).to_be_visible()
        expect(editing).to_have_attribute("data-editing-by", i18n(console, "the_facilitator"))
    sheet_field(console, other).locator("[data-sheet-input]").blur()
    expect(sheet_field(alice, other).locator("[data-sheet-editing]")).to_be_hidden()

    # Both write the same field at once (the reporter's phone is offline a moment):
    # the reporter's edit, based on an older text, is refused with both texts.
    bruno.context.set_offline(True)
    expect(bruno.locator("[data-connection]")).to_have_attribute("data-state", "offline")
    write_sheet(bruno, key, "Une navette à la demande, réservée par SMS")
    write_sheet(console, key, "Une navette pour les trois villages, le samedi")
    expect_sent(console)
    bruno.context.set_offline(False)
    expect_connected(bruno, timeout=RECONNECT)
    conflict = sheet_field(bruno, key).locator("[data-conflict]")
    expect(conflict).to_be_visible()
    expect(conflict.locator("[data-conflict-mine]")).to_have_text(
        "Une navette à la demande, réservée par SMS"
    )
    expect(conflict.locator("[data-conflict-theirs]")).to_have_text(
        "Une navette pour les trois villages, le samedi"
    )
    expect(bruno.locator("[data-unsent]")).to_be_hidden()  # not a "not sent" item
    expect(sheet_field(alice, key).locator("[data-sheet-text]")).to_have_text(
        "Une navette pour les trois villages, le samedi"
    )
    conflict.locator("[data-action=keep-mine]").click()
    expect(conflict).to_be_hidden()
    for page in (alice, chloe):
        expect(sheet_field(page, key).locator("[data-sheet-text]")).to_have_text(
            "Une navette à la demande, réservée par SMS"
        )
    expect(sheet_field(console, key).locator("[data-sheet-input]")).to_have_value(
        "Une navette à la demande, réservée par SMS"
    )

    # The other way round: the console, offline, takes the reporter's text.
    console.context.set_offline(True)
    expect(console.locator("[data-connection]")).to_have_attribute("data-state", "offline")
    write_sheet(console, other, "Les habitants sans voiture")
    write_sheet(bruno, other, "Les personnes âgées et les jeunes")
    expect_sent(bruno)
    console.context.set_offline(False)
    expect_connected(console, timeout=RECONNECT)
    conflict = sheet_field(console, other).locator("[data-conflict]")
    expect(conflict).to_be_visible()
    expect(conflict.locator("[data-conflict-mine]")).to_have_text("Les habitants sans voiture")
    conflict.locator("[data-action=take-theirs]").click()
    expect(conflict).to_be_hidden()
    expect(sheet_field(console, other).locator("[data-sheet-input]")).to_have_value(
        "Les personnes âgées et les jeunes"
    )
    expect(console.locator("[data-unsent]")).to_be_hidden()
    expect_sent(console)
    for page in (alice, chloe):
        expect(sheet_field(page, other).locator("[data-sheet-text]")).to_have_text(
            "Les personnes âgées et les jeunes"
        )

    # 6. Commitments: who carries, who contributes, in the open; a contact only with consent.
    go_to(console, "commit")
    for page in phones:
        expect(page.locator("[data-live]")).to_have_attribute("data-screen", "commit")
        expect(page.locator("[data-commit-form]")).to_be_visible()
        expect(page.locator("[data-commit-form] [data-contact]")).to_be_hidden()
    form = alice.locator("[data-commit-form]")
    form.locator("[name=role][value=carry]").check()
    form.locator("[name=contribution]").fill("Du temps et mon minibus")
    form.locator("[name=expects]").fill("Un salaire à terme")
    form.locator("[name=hours_per_month]").fill("20")
    form.locator("[name=consent]").check()
    expect(form.locator("[data-contact]")).to_be_visible()
    form.locator("[name=contact]").fill("alice@example.org")
    form.locator("[data-commit-submit]").click()
    expect(alice.locator("[data-commit-status]")).to_have_attribute("data-state", "saved")

    form = bruno.locator("[data-commit-form]")
    form.locator("[name=role][value=contribute]").check()
    form.locator("[name=contribution]").fill("Un local au centre-bourg")
    form.locator("[name=hours_per_month]").fill("4")
    form.locator("[data-commit-submit]").click()
    expect(bruno.locator("[data-commit-status]")).to_have_attribute("data-state", "saved")

    # The console records Dominique's, who has no phone.
    record = console.locator("[data-commit-behalf]")
    record.locator("[name=participant_id]").select_option(label="Dominique")
    record.locator("[name=role][value=follow]").check()
    record.locator("[name=expects]").fill("Des nouvelles du projet")
    record.locator("[data-commit-submit]").click()
    expect_sent(console)

    alignment = console.locator("[data-commit] [data-alignment] tr[data-role]")
    expect(alignment).to_have_count(3)
    assert [alignment.nth(i).get_attribute("data-role") for i in range(3)] == [
        "carry",
        "contribute",
        "follow",
    ]
    expect(alignment.locator("th")).to_have_text(["Alice", "Bruno", "Dominique"])
    expect(alignment.nth(0).locator("[data-field=contribution]")).to_have_text(
        "Du temps et mon minibus"
    )
    expect(alignment.nth(0).locator("[data-field=expects]")).to_have_text("Un salaire à terme")
    expect(alignment.nth(1).locator("[data-field=contribution]")).to_have_text(
        "Un local au centre-bourg"
    )
    summary = console.locator("[data-commit] [data-alignment-summary]")
    expect(summary.locator("[data-role-count=carry]")).to_have_attribute("data-count", "1")
    expect(summary.locator("[data-role-count=contribute]")).to_have_attribute("data-count", "1")
    expect(summary.locator("[data-hours-total]")).to_have_attribute("data-hours-total", "24")
    expect(chloe.locator("[data-alignment] li[data-role]")).to_have_count(3)
    for page in (console, *phones):
        expect(page.locator("body")).not_to_contain_text("alice@example.org")

    # 7. The plenary: every phone shows the table's result, read-only.
    go_to(console, "plenary")
    for page in phones:
        expect(page.locator("[data-live]")).to_have_attribute("data-screen", "plenary")
        result = page.locator("[data-result]")
        expect(result).to_be_visible()
        expect(result.locator("[data-result-top] li .ranked-text")).to_have_text(
            ["Un atelier vélo", "Une épicerie mobile"]
        )
        expect(result.locator("[data-result-top] li").first).to_have_attribute("data-votes", "3")
        expect(result.locator("[data-commitments-count]")).to_have_attribute("data-count", "3")
        expect(sheet_field(page, key).locator("[data-sheet-text]")).to_have_text(
            "Une navette à la demande, réservée par SMS"
        )
        expect(page.locator("[data-sheet] [data-sheet-input]")).to_have_count(0)
        expect(page.locator("[data-commit-form]")).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
