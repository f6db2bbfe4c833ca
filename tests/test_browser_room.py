"""The organizers' screens in Chromium: the control room steering five tables
at once, and the projector's plenary."""

import uuid

import socketio
from playwright.sync_api import expect

from .browser import join_table, open_console, sign_in, table_url
from .helpers import make_evening, script

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

    room.select_option("[name=step_kind]", "plenary")
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

    room.locator(f'tr[data-table="{other.id}"] [data-select]').uncheck()
    room.fill("[name=message]", "On passe à la restitution dans 5 minutes")
    room.click("[data-send-message]")

    expect(console.locator("[data-console-message]")).to_contain_text(
        "On passe à la restitution dans 5 minutes"
    )
    room.check("input[name=filter][value=late]")
    expect(room.locator(f'tr[data-table="{table.id}"]')).to_be_hidden()

    # The other table runs a one-second step: it is late a second later.
    other_console = socketio.Client(reconnection=False)
    other_console.connect(
        site.server.url,
        auth={"role": "facilitator", "secret": other.facilitator_secret},
        transports=["websocket"],
        wait_timeout=10,
    )
    state = other_console.call("sync", {"since": 0}, timeout=10)
    intro = script(state["changes"])[0]
    for op, data in (
        ("step.update", {"step_id": intro["id"], "duration": 1}),
        ("step.go", {"step_id": intro["id"]}),
    ):
        envelope = {"op": op, "client_id": str(uuid.uuid4()), "data": data}
        assert other_console.call("write", envelope, timeout=10)["ok"]
    late = room.locator(f'tr[data-table="{other.id}"]')
    expect(late).to_be_visible()
    expect(late).to_have_attribute("data-late", "true")
    expect(room.locator('[data-total="late"]')).to_have_text("1")
    other_console.disconnect()
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
