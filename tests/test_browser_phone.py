"""The phone once joined, and the console, at their real sizes (issue 8):
a 360×740 phone and a 1366×768 laptop. What a participant reads and does
(the brief, the step's question, the kind of card, the category asked
honestly, a room out of reach, an idea set aside, the reporter's role) and
what a facilitator does with a keyboard or a screen reader."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from workshop.extensions import db
from workshop.models import Challenge, Organizer, Table
from workshop.services import events

from .browser import PHONE, Site, expect_connected, i18n, join_table, open_console, table_url
from .helpers import TableRef, make_evening
from .test_accessibility import Facilitator, assert_accessible, speak
from .test_browser import cards, expect_sent, go_to, post, step

CONSOLE = {"width": 1366, "height": 768}
# An Engine.IO handshake promising a ping that never comes.
ENGINE_OPEN = (
    '0{"sid":"gone","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}'
)
# A brief as organizers write them: a theme, some context, the question.
BRIEF = (
    "Le bourg perd ses commerces et les jeunes partent travailler en ville. "
    "Les associations cherchent des bénévoles, les entreprises des apprentis, "
    "et la ligne de car ne passe plus que deux fois par jour. "
    "Quels besoins voyez-vous pour qu’on puisse vivre, travailler et se déplacer ici "
    "sans voiture, à tout âge ?"
)


def need_finding(site: Site, table: TableRef, brief: str = BRIEF):
    """Make ``table`` a territorial challenge (its script asks for needs)."""
    with site.app.app_context():
        organizer = db.session.get(Organizer, site.evening.organizer_id)
        events.update_table(
            organizer,
            db.session.get(Table, table.id),
            challenge=Challenge.territorial.value,
            brief_title="Vivre ici sans voiture",
            brief=brief,
        )
        db.session.remove()


def console_page(new_page, site: Site, table: TableRef):
    console = new_page(laptop=True)
    console.set_viewport_size(CONSOLE)
    open_console(console, site, table)
    return console


def person(console, name):
    return console.locator("[data-people] li[data-participant-id]").filter(has_text=name)


def small_buttons(page, scope="body"):
    """The visible buttons of ``scope`` less than 44 px high."""
    return page.evaluate(
        """scope => Array.from(document.querySelectorAll(scope + " button"))
            .filter(node => node.offsetParent !== null)
            .filter(node => node.getBoundingClientRect().height < 44)
            .map(node => node.outerHTML.slice(0, 100))""",
        scope,
    )


# --- joining --------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_joining_fits_a_phone_and_asks_who_you_are_without_guessing(site, new_page, lang):
    """The Join button shows without scrolling; nobody is counted as a
    citizen for skipping the question: "not said" is counted apart."""
    table = site.evening.tables[0]
    need_finding(site, table)
    phone = new_page()
    speak(phone, site, lang)
    phone.goto(table_url(site, table))
    join = phone.locator("form[action$='/join'] [type=submit]")
    expect(join).to_be_in_viewport(ratio=1)
    expect(phone.locator("[data-brief] .brief-text")).to_be_visible()
    category = phone.locator("[name=category]")
    expect(category).to_have_value("")  # nothing chosen for the participant
    expect(category.locator("option[value=not_said]")).to_have_count(1)
    assert_accessible(phone, "join form")

    phone.fill("[name=display_name]", "Alice")
    join.click()  # no category: asked again, not filed as a citizen
    expect(phone.locator("[name=category][aria-invalid=true]")).to_have_count(1)
    expect(join).to_be_in_viewport(ratio=1)
    assert_accessible(phone, "join form, category missing")
    phone.select_option("[name=category]", "not_said")
    phone.locator("form[action$='/join'] [type=submit]").click()
    expect_connected(phone)

    bruno = new_page()
    join_table(bruno, table_url(site, table), "Bruno", "citizen")
    console = console_page(new_page, site, table)
    speak(console, site, lang)
    console.reload()
    expect_connected(console)
    mix = console.locator("[data-mix] li")
    expect(mix).to_have_count(2)
    expect(console.locator("[data-mix] li[data-category=citizen] [data-count]")).to_have_text("1")
    expect(console.locator("[data-mix] li[data-category=not_said] [data-count]")).to_have_text("1")
    assert_accessible(console, "console, the table's mix")


# --- writing ---------------------------------------------------------------------


def test_a_need_finding_table_writes_needs_with_the_brief_and_the_question_in_sight(site, new_page):
    table = site.evening.tables[0]
    need_finding(site, table)
    phone = new_page()
    join_table(phone, table_url(site, table), "Alice")
    label = phone.locator("[data-composer] [data-text-label]")
    your = i18n(phone, "your_kind")
    # Before the script starts, the table's challenge decides.
    expect(phone.locator("[data-composer] input[name=kind]:checked")).to_have_value("need")
    expect(label).to_have_text(your["need"])

    facilitator = Facilitator(site, table)
    try:
        facilitator.go("brief")
        expect(phone.locator("[data-live]")).to_have_attribute("data-screen", "brief")
        facilitator.go("diverge")
        expect(phone.locator("[data-live]")).to_have_attribute("data-screen", "diverge")
    finally:
        facilitator.close()
    # While people write: the brief's question, the step's prompt, the form.
    expect(phone.locator("[data-brief] .brief-text")).to_be_visible()
    expect(phone.locator("[data-brief] .brief-text")).to_contain_text("sans voiture")
    expect(phone.locator("[data-step-prompt]")).to_be_visible()
    expect(phone.locator("[data-step-prompt]")).not_to_have_text("")
    expect(phone.locator("[data-composer] input[name=kind]:checked")).to_have_value("need")
    expect(label).to_have_text(your["need"])
    phone.locator("[data-composer] label[for=idea-kind-question]").click()
    expect(label).to_have_text(your["question"])
    phone.locator("[data-composer] label[for=idea-kind-need]").click()
    expect(label).to_have_text(your["need"])
    post(phone, "Un car le dimanche")
    expect(cards(phone, "Un car le dimanche")).to_have_attribute("data-kind", "need")
    # The next card starts again from the step's kind.
    expect(label).to_have_text(your["need"])
    assert_accessible(phone, "phone, needs")


def test_the_sticky_step_bar_never_hides_the_card_one_scrolls_or_tabs_to(site, new_page):
    """While people write, the step bar sticks to the top of the phone: a card
    brought into view, or reached with the keyboard, shows below it, not
    under it (issue 16, item 15)."""
    table = site.evening.tables[0]
    phone = new_page()
    join_table(phone, table_url(site, table), "Alice")
    facilitator = Facilitator(site, table)
    try:
        facilitator.go("diverge")
    finally:
        facilitator.close()
    expect(phone.locator("[data-live]")).to_have_attribute("data-screen", "diverge")
    texts = [f"Idée numéro {n} : une navette, un marché, un atelier" for n in range(1, 9)]
    for text in texts:
        post(phone, text)
    expect_sent(phone)
    bar = phone.locator("[data-step]")
    expect(bar).to_have_css("position", "sticky")

    def top_below_bar(locator) -> tuple[float, float]:
        return locator.evaluate(
            """el => [el.getBoundingClientRect().top,
                      document.querySelector("[data-step]").getBoundingClientRect().bottom]"""
        )

    for text in texts:  # scrolled to
        card = cards(phone, text)
        card.evaluate("el => el.scrollIntoView()")
        top, bottom = top_below_bar(card)
        assert top >= bottom, (text, top, bottom)

    # Reached with the keyboard while under the bar: brought out from under it.
    card = cards(phone, texts[3])
    edit, after = card.locator("button").first, card.locator("button").nth(1)
    top, bottom = top_below_bar(edit)
    phone.evaluate("delta => window.scrollBy(0, delta)", top - bottom + 10)
    top, bottom = top_below_bar(edit)
    assert top < bottom  # hidden under the bar
    after.evaluate("el => el.focus({preventScroll: true})")
    phone.keyboard.press("Shift+Tab")
    expect(edit).to_be_focused()
    top, bottom = top_below_bar(edit)
    assert top >= bottom, (top, bottom)


# --- the room out of reach ------------------------------------------------------


def test_the_phone_reassures_when_the_room_is_out_of_reach_but_the_wifi_works(site, new_page):
    """The laptop asleep: the phone's Wi-Fi works, the server does not answer."""
    table = site.evening.tables[0]
    phone = new_page()
    join_table(phone, table_url(site, table), "Alice")
    connecting = i18n(phone, "connecting")
    assert "Connexion" not in connecting  # reads as "log in"

    blocked = {"on": True}

    def http(route):
        if blocked["on"]:
            route.abort()
        else:
            route.continue_()

    def websocket(ws):
        if blocked["on"]:
            # Nobody at the other end: a handshake, then silence (as from a
            # laptop gone to sleep), and the phone gives up on this attempt.
            ws.send(ENGINE_OPEN)
        else:
            ws.connect_to_server()

    phone.route(re.compile(r"/socket\.io/"), http)
    phone.route_web_socket(re.compile(r"/socket\.io/"), websocket)
    phone.reload()
    connection = phone.locator("[data-connection]")
    post(phone, "Une idée gardée au chaud")
    card = cards(phone, "Une idée gardée au chaud")
    expect(card.locator(".pending-mark")).to_contain_text(i18n(phone, "waiting"))
    # After a few seconds, the same reassurance as with no network at all.
    expect(connection).to_have_attribute("data-state", "lost", timeout=10_000)
    expect(connection).to_have_text(i18n(phone, "lost"))
    assert "Connexion" not in phone.locator("[data-connection]").inner_text()
    expect(phone.locator("[data-pending]")).to_have_text(i18n(phone, "pending_one"))
    assert_accessible(phone, "phone, the room out of reach")

    blocked["on"] = False
    expect_connected(phone, timeout=15_000)
    expect_sent(phone)
    expect(card.locator(".pending-mark")).to_have_count(0)


# --- silent actions ----------------------------------------------------------------


def test_the_author_hears_that_their_idea_was_set_aside_and_the_reporter_what_they_do(
    site, new_page
):
    table = site.evening.tables[0]
    console = console_page(new_page, site, table)
    alice, bruno = new_page(), new_page()
    join_table(alice, table_url(site, table), "Alice")
    join_table(bruno, table_url(site, table), "Bruno")
    text = "Une idée hors sujet"
    post(alice, text)
    expect(cards(console, text)).to_have_count(1)

    cards(console, text).locator("[data-action=hide]").click()
    expect(cards(bruno, text)).to_have_count(0)
    expect(cards(alice, text).locator(".set-aside")).to_have_text(i18n(alice, "set_aside"))
    assert_accessible(alice, "phone, an idea set aside")
    cards(console, text).locator("[data-action=show]").click()
    expect(cards(alice, text).locator(".set-aside")).to_have_count(0)
    expect(cards(bruno, text)).to_have_count(1)

    note = alice.locator("[data-reporter-note]")
    expect(note).to_be_hidden()
    person(console, "Alice").locator("[data-action=make-reporter]").click()
    expect(note).to_be_visible()
    expect(note).to_have_text(i18n(alice, "you_reporter"))
    expect(bruno.locator("[data-reporter-note]")).to_be_hidden()
    assert_accessible(alice, "phone, the reporter")


# --- the console with a keyboard and a screen reader ----------------------------------


def test_the_console_keeps_the_focus_and_names_each_button(site, new_page):
    table = site.evening.tables[0]
    console = console_page(new_page, site, table)
    alice = new_page()
    join_table(alice, table_url(site, table), "Alice")
    texts = ["Une navette le samedi", "Un atelier vélo", "Une épicerie solidaire"]
    for text in texts:
        post(alice, text)
    for text in texts:
        expect(cards(console, text)).to_have_count(1)

    hide = cards(console, texts[0]).locator("[data-action=hide]")
    expect(hide).to_have_attribute("aria-label", f"Masquer l’idée\u00a0: {texts[0]}")
    hide.focus()
    console.keyboard.press("Enter")
    expect(cards(console, texts[0])).to_have_class(re.compile(r"\bhidden-idea\b"))
    show = cards(console, texts[0]).locator("[data-action=show]")
    expect(show).to_be_focused()
    expect(show).to_have_attribute("aria-label", f"Afficher à nouveau l’idée\u00a0: {texts[0]}")
    expect(alice.locator("[data-pending]")).to_have_attribute("data-count", "0")
    expect(console.locator("[data-pending]")).to_have_attribute("data-count", "0")
    expect(show).to_be_focused()

    make = person(console, "Alice").locator("[data-action=make-reporter]")
    make.focus()
    console.keyboard.press("Enter")
    expect(person(console, "Alice").locator(".badge")).to_be_visible()
    expect(person(console, "Alice")).to_be_focused()

    names = console.evaluate(
        """() => Array.from(document.querySelectorAll("button"))
            .filter(node => node.offsetParent !== null)
            .map(node => node.getAttribute("aria-label") || node.textContent.trim())"""
    )
    assert len(names) == len(set(names)), names


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_console_and_the_phone_have_large_spaced_readable_buttons(site, new_page, lang):
    table = site.evening.tables[0]
    console = console_page(new_page, site, table)
    speak(console, site, lang)
    console.reload()
    expect_connected(console)
    alice = new_page()
    speak(alice, site, lang)
    join_table(alice, table_url(site, table), "Alice")
    post(alice, "Une idée visible")
    post(alice, "Une idée à masquer")
    expect(cards(console, "Une idée à masquer")).to_have_count(1)
    cards(console, "Une idée à masquer").locator("[data-action=hide]").click()
    expect(cards(console, "Une idée à masquer")).to_have_class(re.compile(r"\bhidden-idea\b"))

    assert small_buttons(console) == []
    assert small_buttons(alice) == []
    # "Make reporter" stands apart from the name and category before it.
    gap = console.evaluate(
        """() => {
            const button = document.querySelector("[data-people] [data-action=make-reporter]");
            const before = button.previousElementSibling.getBoundingClientRect();
            const box = button.getBoundingClientRect();
            return box.top >= before.bottom ? box.top - before.bottom : box.left - before.right;
        }"""
    )
    assert gap >= 6
    # The faded hidden card stays readable (axe checks its contrast).
    assert_accessible(console, "console, a hidden card")
    assert_accessible(alice, "phone, the wall")


def test_ones_own_post_is_announced_once(site, new_page):
    table = site.evening.tables[0]
    alice = new_page()
    join_table(alice, table_url(site, table), "Alice")
    alice.evaluate(
        """() => {
            window.announced = [];
            const regions = document.querySelectorAll(
                "[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log]");
            const observer = new MutationObserver((mutations) => mutations.forEach((m) => {
                if (m.type === "characterData") { window.announced.push(m.target.data); }
                m.addedNodes.forEach((node) => window.announced.push(node.textContent));
            }));
            regions.forEach((region) => observer.observe(region,
                { childList: true, subtree: true, characterData: true }));
        }"""
    )
    text = "Une idée dite une fois"
    post(alice, text)
    expect(cards(alice, text)).to_have_count(1)
    expect(cards(alice, text)).to_have_attribute("data-id", re.compile(r"\d+"))
    expect_sent(alice)
    announced = [said for said in alice.evaluate("window.announced") if said.strip()]
    about = [said for said in announced if text in said or said == i18n(alice, "pending_one")]
    assert len(about) == 1, announced


# --- the private round ------------------------------------------------------------------


def test_the_console_offers_reveal_only_during_the_private_round(site, new_page):
    """Revealed before it starts, the private round would silently never
    happen (issue 16, item 18): no Reveal button until its step runs."""
    table = site.evening.tables[0]
    console = console_page(new_page, site, table)
    reveal = console.locator("[data-action=reveal]")
    step(console, "diverge").locator("[data-setting=private]").check()
    expect_sent(console)
    expect(step(console, "diverge").locator("[data-setting=private]")).to_be_checked()
    expect(reveal).to_be_hidden()  # before the script
    go_to(console, "intro")
    expect(reveal).to_be_hidden()
    expect(console.locator("[data-private-ideas]")).to_have_text("")

    go_to(console, "diverge")
    expect(reveal).to_be_visible()
    alice, bruno = new_page(), new_page()
    join_table(alice, table_url(site, table), "Alice")
    join_table(bruno, table_url(site, table), "Bruno")
    post(alice, "Mon idée secrète")
    expect_sent(alice)
    expect(bruno.locator("[data-private-count]")).to_have_attribute("data-count", "1")
    expect(cards(bruno, "Mon idée secrète")).to_have_count(0)
    assert_accessible(console, "console, the private round")
    reveal.click()
    expect(cards(bruno, "Mon idée secrète")).to_have_count(1)
    expect(reveal).to_be_hidden()


# --- the evening's page: one's table among thirty -------------------------------------


def test_a_participant_finds_their_table_among_thirty_by_its_number(site, new_page, browser):
    """Reached by the evening's code (the projector's QR code): a field for
    the number written on the table, and large buttons, numbers first
    (issue 16, item 24); the field works without JavaScript too."""
    evening = make_evening(site.app, tables=30, email=f"trente-{uuid.uuid4().hex[:8]}@example.org")
    seventeen = evening.tables[16]
    url = f"{site.server.url}/e/{evening.join_code}"
    page = new_page()
    page.goto(url)
    links = page.locator("[data-tables] a")
    expect(links).to_have_count(30)
    found = links.evaluate_all(
        """links => links.map(a => {
            const box = a.getBoundingClientRect();
            const number = a.querySelector(".table-number");
            const name = a.querySelector(".table-name");
            return {height: box.height, width: box.width, number: number.lastChild.textContent,
                    numberSize: parseFloat(getComputedStyle(number).fontSize),
                    nameSize: parseFloat(getComputedStyle(name).fontSize),
                    numberFirst: number.getBoundingClientRect().right
                                 <= name.getBoundingClientRect().left};
        })"""
    )
    assert [link["number"] for link in found] == [str(n) for n in range(1, 31)]
    for link in found:
        assert link["height"] >= 44 and link["width"] >= 300, link  # a finger's tap target
        assert link["numberFirst"] and link["numberSize"] >= 1.4 * link["nameSize"], link
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    field = page.get_by_label("Numéro de votre table")
    expect(field).to_be_in_viewport()
    assert field.bounding_box()["height"] >= 44
    assert_accessible(page, "evening page, 30 tables")

    field.fill("17")  # the list narrows as one types
    expect(page.locator("[data-tables] a:visible")).to_have_count(1)
    expect(page.locator("[data-tables] a:visible .table-number")).to_have_text("Table 17")
    field.fill("99")
    expect(page.locator("[data-tables] a:visible")).to_have_count(0)
    expect(page.locator("[data-no-table]")).to_be_visible()
    assert_accessible(page, "evening page, no table with this number")
    field.press("Enter")  # sent anyway: the evening's page says so
    expect(page).to_have_url(url)
    expect(page.locator(".flash-error")).to_be_visible()
    page.get_by_label("Numéro de votre table").fill("17")
    page.get_by_label("Numéro de votre table").press("Enter")
    expect(page).to_have_url(f"{site.server.url}/t/{seventeen.join_code}")
    expect(page.locator("form[action$='/join'] [name=display_name]")).to_be_visible()

    # Without JavaScript (an old phone, a script blocked): the same form.
    context = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        plain = context.new_page()
        plain.goto(url)
        plain.get_by_label("Numéro de votre table").fill("17")
        plain.get_by_role("button", name="Aller à ma table").click()
        expect(plain).to_have_url(f"{site.server.url}/t/{seventeen.join_code}")
        plain.goto(url)
        plain.locator("[data-tables] a").filter(has_text="Table 3").first.click()
        expect(plain).to_have_url(f"{site.server.url}/t/{evening.tables[2].join_code}")
    finally:
        context.close()
