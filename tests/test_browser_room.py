"""The organizers' screens in Chromium: the control room steering five tables
at once, and the projector's plenary."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from workshop.models import Table, Write

from .browser import i18n, join_table, open_console, sign_in, table_url
from .helpers import make_evening, read
from .test_accessibility import Facilitator, speak

ROOM = {"viewport": {"width": 1366, "height": 768}, "locale": "fr-FR"}


def test_the_organizer_moves_five_tables_to_the_plenary_at_once(site, new_page):
    evening = make_evening(site.app, tables=5, email="salle@example.org")
    room = new_page(laptop=True)
    room.set_viewport_size(ROOM["viewport"])
    sign_in(room, site, "salle@example.org")
    room.goto(f"{site.server.url}/organizer/events/{evening.event_id}/live")
    expect(room.locator("[data-connection]")).to_have_attribute("data-state", "connected")
    consoles, phones = [], []
    for table in evening.tables:
        console = new_page(laptop=True)
        open_console(console, site, table)
        consoles.append(console)
        phone = new_page()
        join_table(phone, table_url(site, table), f"P{table.number}")
        phones.append(phone)
    for table in evening.tables:
        expect(room.locator(f'tr[data-table="{table.id}"] [data-console]')).to_have_attribute(
            "data-state", "on"
        )
    projector = new_page(laptop=True)
    projector.goto(f"{site.server.url}/p/{evening.join_code}")

    room.check("[data-select-all]")
    room.select_option("[name=step_kind]", "plenary")
    room.once("dialog", lambda dialog: dialog.accept())
    room.click("[data-push-step]")

    for screen in consoles + phones:
        expect(screen.locator("[data-step]")).to_have_attribute("data-step-kind", "plenary")
    for table in evening.tables:
        expect(room.locator(f'tr[data-table="{table.id}"] [data-step]')).to_contain_text("8/8")

    room.click('[data-plenary="table"]')
    expect(projector.locator("[data-plenary]")).to_be_visible()
    expect(projector.locator("[data-plenary-name]")).to_have_text("Table 1")
    room.click('[data-plenary="next"]')
    expect(projector.locator("[data-plenary-name]")).to_have_text("Table 2")
    expect(projector.locator("[data-corner]")).to_contain_text(evening.join_code)
    room.click('[data-plenary="off"]')
    expect(projector.locator("[data-join]")).to_be_visible()
    expect(projector.locator("[data-plenary]")).to_be_hidden()


def test_the_control_room_sends_a_message_to_the_consoles_and_filters_late_tables(site, new_page):
    table, other = site.evening.tables
    room = new_page(laptop=True)
    sign_in(room, site)
    room.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}/live")
    expect(room.locator("[data-connection]")).to_have_attribute("data-state", "connected")
    console = new_page(laptop=True)
    open_console(console, site, table)

    room.locator(f'tr[data-table="{table.id}"] [data-select]').check()
    room.fill("[name=message]", "On passe à la restitution dans 5 minutes")
    room.click("[data-send-message]")

    expect(console.locator("[data-console-message]")).to_contain_text(
        "On passe à la restitution dans 5 minutes"
    )
    room.check("input[name=filter][value=late]")
    expect(room.locator(f'tr[data-table="{table.id}"]')).to_be_hidden()

    # The other table runs a one-second step: it is late a second later.
    other_console = Facilitator(site, other)
    intro = other_console.script[0]
    other_console.write("step.update", {"step_id": intro["id"], "duration": 1})
    other_console.write("step.go", {"step_id": intro["id"]})
    late = room.locator(f'tr[data-table="{other.id}"]')
    expect(late).to_be_visible()
    expect(late).to_have_attribute("data-late", "true")
    expect(room.locator('[data-total="late"]')).to_have_text("1")
    other_console.close()
    room.check("input[name=filter][value=all]")
    expect(room.locator(f'tr[data-table="{table.id}"]')).to_be_visible()


SCREENS = [{"width": 1024, "height": 768}, {"width": 1920, "height": 1080}]


def fits(page, selector) -> bool:
    """The element is wholly on screen, and the page does not scroll."""
    return page.evaluate(
        """selector => {
            const box = document.querySelector(selector).getBoundingClientRect();
            const root = document.documentElement;
            return box.top >= 0 && box.left >= 0 && box.bottom <= innerHeight
                && box.right <= innerWidth && root.scrollHeight <= innerHeight
                && root.scrollWidth <= innerWidth;
        }""",
        selector,
    )


def filled(page, selector) -> dict:
    """How the part's content (its text as laid out, its images) covers the
    screen: which ninths of the screen (3 x 3) it touches, and each text's
    font size as a share of the screen's height."""
    return page.evaluate(
        """selector => {
            const part = document.querySelector(selector);
            const boxes = [];
            const walker = document.createTreeWalker(part, NodeFilter.SHOW_TEXT);
            const sizes = {};
            while (walker.nextNode()) {
                const node = walker.currentNode;
                if (!node.textContent.trim()) continue;
                const range = document.createRange();
                range.selectNodeContents(node);
                boxes.push(...range.getClientRects());
                const owner = node.parentElement;
                const name = owner.className || owner.tagName.toLowerCase();
                const size = parseFloat(getComputedStyle(owner).fontSize) / innerHeight;
                sizes[name] = Math.min(sizes[name] ?? 1, size);
            }
            part.querySelectorAll('svg').forEach(svg => boxes.push(svg.getBoundingClientRect()));
            const cells = [];
            for (let row = 0; row < 3; row++) for (let col = 0; col < 3; col++) {
                const [left, top] = [col * innerWidth / 3, row * innerHeight / 3];
                const [right, bottom] = [left + innerWidth / 3, top + innerHeight / 3];
                if (boxes.some(b => b.right > left && b.left < right && b.bottom > top
                                    && b.top < bottom && b.width > 0)) cells.push([row, col]);
            }
            return {cells: cells.length, sizes};
        }""",
        selector,
    )


def test_the_projector_fits_4_3_and_16_9_screens(site, new_page):
    """At 1024 x 768 nothing falls off; at 1920 x 1080 the join screen fills
    every ninth of the screen, and all its text is readable from the back of
    a hall (labels >= 3.4 % of the screen's height, figures >= 9 %)."""
    evening = site.evening
    room = new_page(laptop=True)
    sign_in(room, site)
    room.goto(f"{site.server.url}/organizer/events/{evening.event_id}/live")
    expect(room.locator("[data-connection]")).to_have_attribute("data-state", "connected")
    for size in SCREENS:
        projector = new_page(laptop=True)
        projector.set_viewport_size(size)
        projector.goto(f"{site.server.url}/p/{evening.join_code}")
        expect(projector.locator(".projector-code")).to_have_text(evening.join_code)
        for part in (
            "[data-join] h1",
            ".projector-code",
            ".projector-url",
            ".projector-qr svg",
            ".projector-counters",
        ):
            assert fits(projector, part), (size, part)
        found = filled(projector, "[data-join]")
        assert found["cells"] == 9, (size, found)
        sizes = found["sizes"]
        assert min(sizes.values()) >= 0.034, (size, sizes)
        assert sizes["dd"] >= 0.09 and sizes["projector-code"] >= 0.1, (size, sizes)
    room.click('[data-plenary="table"]')
    for size in SCREENS:
        projector = new_page(laptop=True)
        projector.set_viewport_size(size)
        projector.goto(f"{site.server.url}/p/{evening.join_code}")
        expect(projector.locator("[data-plenary-name]")).to_have_text("Table 1")
        for part in ("[data-plenary-name]", "[data-corner]"):
            assert fits(projector, part), (size, part)


def test_closing_the_evening_asks_first(site, new_page):
    """One click among ordinary buttons must not end everyone's evening: the
    button stands apart, looks dangerous, and asks first (at 1366 x 768)."""
    page = new_page(laptop=True)
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, site)
    page.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}")
    close = page.locator("form[action$='/status/closed'] button")
    expect(close).to_have_class("danger")
    zone = page.locator(".danger-zone")
    expect(zone.locator("form[action$='/status/closed'] button")).to_have_count(1)
    expect(zone.locator("button:not(.danger), a")).to_have_count(0)  # nothing ordinary
    ordinary = page.locator("main .actions").first
    expect(ordinary.locator("form[action$='/status/closed']")).to_have_count(0)
    # below the ordinary buttons, with clear space between, and not alike
    assert (
        close.bounding_box()["y"]
        >= ordinary.bounding_box()["y"] + ordinary.bounding_box()["height"] + 16
    )
    style = "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]"
    plain = ordinary.locator(":is(button, a.button):not(.primary)").first.evaluate(style)
    looks = close.evaluate(style)
    assert looks[0] != plain[0] and looks[1] != plain[1], (looks, plain)
    assert zone.evaluate("el => getComputedStyle(el).borderTopWidth") != "0px"
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    close.click()
    expect(page.locator(".badge.status-live")).to_be_visible()
    page.once("dialog", lambda dialog: answer(dialog, True))
    close.click()
    expect(page.locator(".badge.status-closed")).to_be_visible()
    assert len(asked) == 2 and asked[0]
    expect(zone.locator("form[action$='/purge'] button.danger")).to_have_count(1)


# --- the control room at 1366 x 768, with 30 tables ------------------------------


def open_room(page, site, evening, email, lang="fr"):
    """The control room of ``evening`` on a 1366 x 768 laptop, signed in as ``email``."""
    page.set_viewport_size(ROOM["viewport"])
    speak(page, site, lang)
    sign_in(page, site, email)
    page.goto(f"{site.server.url}/organizer/events/{evening.event_id}/live")


def box(page, selector):
    """The element's box on screen (its top and bottom relative to the window)."""
    return page.evaluate(
        """selector => {
            const b = document.querySelector(selector).getBoundingClientRect();
            return {top: b.top, bottom: b.bottom, left: b.left, right: b.right};
        }""",
        selector,
    )


def test_the_control_room_shows_the_tables_first(site, new_page):
    """At 1366 x 768 the tables are what an organizer sees first (at least
    eight of thirty above the fold, nothing wider than the screen); the step
    and message controls are above them, the plenary one link away."""
    evening = make_evening(site.app, tables=30, email="fold@example.org")
    room = new_page(laptop=True)
    open_room(room, site, evening, "fold@example.org")
    expect(room.locator("[data-connection]")).to_have_attribute("data-state", "connected")
    assert room.evaluate("scrollY") == 0
    eighth = box(room, "table.room tbody tr:nth-child(8)")
    assert eighth["bottom"] <= 768, eighth
    assert room.evaluate("document.documentElement.scrollWidth") <= 1366
    for control in ("[data-push-step]", "[data-send-message]", "[name=step_kind]"):
        assert box(room, control)["bottom"] <= box(room, "table.room")["top"], control
    # The plenary controls: a link above the tables leads to them, by keyboard too.
    to_plenary = room.locator("a[href='#plenary-title']")
    assert box(room, "a[href='#plenary-title']")["bottom"] <= 768
    to_plenary.focus()
    room.keyboard.press("Enter")
    expect(room.locator("[data-plenary='table']")).to_be_in_viewport()
    assert room.evaluate("scrollY") > 0


def test_step_titles_with_dollar_signs_show_as_typed(site, new_page):
    """``$'``, ``$` `` and ``$&`` mean something to String.replace: the
    control room shows them as the facilitator typed them."""
    table = site.evening.tables[0]
    facilitator = Facilitator(site, table)
    title = "Idées $' avant $` après $& fin"
    try:
        intro = facilitator.script[0]
        facilitator.write("step.update", {"step_id": intro["id"], "title": title})
        facilitator.go(intro["kind"])
    finally:
        facilitator.close()
    room = new_page(laptop=True)
    open_room(room, site, site.evening, site.email)
    step = room.locator(f'tr[data-table="{table.id}"] [data-step]')
    expect(step).to_contain_text("1/")
    assert step.inner_text().endswith(f" · {title}"), step.inner_text()


def until(page, condition, what: str):
    """Wait for a condition the test itself sees (a frame, a dialog), letting
    the page's events run meanwhile; fails after a generous while."""
    for _ in range(400):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never happened: {what}")


def hold_catch_ups(page):
    """Route ``page``'s websocket through the test, keeping the server's
    answers (acknowledgements: "43<id>[…]") until ``release()`` is called;
    everything else passes. Returns (held answers, release)."""
    held, sent = [], []
    state = {"holding": True, "page_ws": None}

    def route(ws):
        server = ws.connect_to_server()
        state["page_ws"] = ws

        def from_server(message):
            if state["holding"] and isinstance(message, str) and message.startswith("43"):
                held.append(message)
                return
            ws.send(message)

        server.on_message(from_server)
        ws.on_message(lambda message: (sent.append(message), server.send(message)))

    def release():
        state["holding"] = False
        for message in held:
            state["page_ws"].send(message)

    page.route_web_socket(re.compile(r"/socket\.io/"), route)
    return sent, release


def test_the_control_room_is_live_only_once_it_knows_the_tables(site, new_page):
    """Connected but still waiting for the tables: the room says it is
    connecting and its buttons wait; the tables known, it is live."""
    room = new_page(laptop=True)
    sent, release = hold_catch_ups(room)
    open_room(room, site, site.evening, site.email)
    until(room, lambda: any('"sync"' in m for m in sent), "the room asks for the tables")
    connection = room.locator("[data-connection]")
    expect(connection).not_to_have_attribute("data-state", "connected")
    expect(connection).to_have_text(i18n(room, "connecting"))
    for button in ("[data-push-step]", "[data-send-message]", "[data-plenary='table']"):
        expect(room.locator(button)).to_be_disabled()
    release()
    expect(connection).to_have_attribute("data-state", "connected")
    for button in ("[data-push-step]", "[data-send-message]", "[data-plenary='table']"):
        expect(room.locator(button)).to_be_enabled()


MOVES = {  # French typography: a non-breaking space inside « » and before « ? »
    "fr": {
        "confirm": ("Faire passer 3 tables à «\u00a0Restitution\u00a0»\u00a0?", "1 table"),
        "moved": ("3 tables sont passées à cette étape.", "1 table est passée à cette étape."),
        "sent": "Message envoyé à 1 console.",
    },
    "en": {
        "confirm": ("Move 3 tables to “Plenary”?", "1 table"),
        "moved": ("3 tables moved.", "1 table moved."),
        "sent": "Message sent to 1 console.",
    },
}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_control_room_moves_only_the_chosen_tables_after_asking(site, new_page, lang):
    """Nothing is chosen at first; *Move them* asks first, naming how many
    tables go to which step; a refusal moves nothing; the counts read right
    in the singular and the plural."""
    email = f"move-{lang}@example.org"
    evening = make_evening(site.app, tables=30, email=email)
    room = new_page(laptop=True)
    open_room(room, site, evening, email, lang)
    expect(room.locator("[data-connection]")).to_have_attribute("data-state", "connected")
    expect(room.locator("[data-select]:checked")).to_have_count(0)
    expect(room.locator("[data-select-all]")).not_to_be_checked()
    result = room.locator("[data-room-result]")

    asked = []

    def answer(accept):
        def handle(dialog):
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        room.once("dialog", handle)

    room.select_option("[name=step_kind]", "plenary")
    room.click("[data-push-step]")  # nothing chosen: nothing asked, nothing moved
    expect(result).to_have_text(i18n(room, "none_selected"))
    assert asked == []

    first = evening.tables[:3]
    for table in first:
        room.locator(f'tr[data-table="{table.id}"] [data-select]').check()
    answer(False)
    room.click("[data-push-step]")
    until(room, lambda: len(asked) == 1, "the room asks first")
    assert asked[0] == MOVES[lang]["confirm"][0], asked
    step = room.locator(f'tr[data-table="{first[0].id}"] [data-step]')
    expect(step).to_have_text(i18n(room, "not_started"))

    answer(True)
    room.click("[data-push-step]")
    expect(result).to_have_text(MOVES[lang]["moved"][0])
    for table in first:
        expect(room.locator(f'tr[data-table="{table.id}"] [data-step]')).to_contain_text("8/8")
    untouched = room.locator(f'tr[data-table="{evening.tables[3].id}"] [data-step]')
    expect(untouched).to_have_text(i18n(room, "not_started"))

    for table in first[1:]:
        room.locator(f'tr[data-table="{table.id}"] [data-select]').uncheck()
    room.select_option("[name=step_kind]", "vote")
    answer(True)
    room.click("[data-push-step]")
    expect(result).to_have_text(MOVES[lang]["moved"][1])
    assert MOVES[lang]["confirm"][1] in asked[-1] and "tables" not in asked[-1], asked
    room.fill("[name=message]", "Cinq minutes")
    room.click("[data-send-message]")
    expect(result).to_have_text(MOVES[lang]["sent"])


def test_the_focus_goes_to_close_the_vote_once_the_vote_is_open(site, new_page):
    """*Open the vote* disappears once pressed: the keyboard's focus goes to
    *Close the vote*, not to the page; and back once closed."""
    table = site.evening.tables[0]
    facilitator = Facilitator(site, table)
    try:
        facilitator.go("vote")
    finally:
        facilitator.close()
    console = new_page(laptop=True)
    console.set_viewport_size(ROOM["viewport"])
    open_console(console, site, table)
    panel = console.locator("[data-vote-panel]")
    start = panel.locator("[data-action=vote-open]")
    expect(start).to_be_visible()  # the console has caught up with the vote step
    start.focus()
    console.keyboard.press("Enter")
    close = panel.locator("[data-action=vote-close]")
    expect(close).to_be_visible()
    expect(close).to_be_focused()
    console.keyboard.press("Enter")
    expect(panel.locator("[data-action=vote-open]")).to_be_focused()


def test_an_organizer_write_made_offline_is_sent_once_when_the_room_reconnects(site, new_page):
    """The control room writes through the outbox every live screen uses: a
    message sent while the laptop is offline waits in it, and reaches the
    table exactly once when the room is back."""
    table = site.evening.tables[0]
    room = new_page(laptop=True)
    frames = []  # what the page sent on its websockets
    room.on("websocket", lambda ws: ws.on("framesent", lambda frame: frames.append(frame)))
    sign_in(room, site)
    room.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}/live")
    connection = room.locator("[data-connection]")
    expect(connection).to_have_attribute("data-state", "connected")
    text = "On reprend dans deux minutes"
    outbox = f"outbox:event:{site.evening.event_id}:organizer"

    room.context.set_offline(True)
    expect(connection).to_have_attribute("data-state", "offline")
    room.locator(f'tr[data-table="{table.id}"] [data-select]').check()
    room.fill("[name=message]", text)
    room.click("[data-send-message]")

    kept = room.evaluate("key => JSON.parse(localStorage.getItem(key))", outbox)
    assert [(item["op"], item["table_id"], item["data"]) for item in kept] == [
        ("console.message", table.id, {"text": text})
    ]
    assert receipts(site, table) == [] and message_of(site, table) == ""

    room.context.set_offline(False)

    expect(connection).to_have_attribute("data-state", "connected", timeout=15_000)
    expect(room.locator("[data-room-result]")).to_have_text("Message envoyé à 1 console.")
    assert room.evaluate("key => JSON.parse(localStorage.getItem(key))", outbox) == []
    assert receipts(site, table) == [kept[0]["client_id"]]
    assert message_of(site, table) == text
    sent = [frame for frame in frames if kept[0]["client_id"] in str(frame)]
    assert len(sent) == 1, sent


def receipts(site, table) -> list[str]:
    """The client ids of the console messages the server stored for ``table``."""
    return read(
        site.app,
        lambda session: list(
            session.scalars(
                select(Write.client_id).where(
                    Write.table_id == table.id, Write.op == "console.message"
                )
            )
        ),
    )


def message_of(site, table) -> str:
    return read(site.app, lambda session: session.get(Table, table.id).console_message)
