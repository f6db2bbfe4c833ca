"""A public body's duties, in a real browser (issue 19): the accessibility
statement and the privacy notice one tap from the phone, and the manual
checks of the statement that axe cannot make — keyboard only through a
participant's evening and a facilitator's console, visible focus, names in
Chromium's accessibility tree, reflow at 320 px and 200 % zoom, status
messages announced, nothing said by colour alone — and a minor who never
appears by name in a team or an export."""

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from workshop import clock
from workshop.extensions import db
from workshop.models import Participant, Table

from .browser import console_url, expect_connected, join_table, sign_in, table_url
from .test_accessibility import Facilitator, assert_accessible, on_screen, speak
from .test_browser import cards, post
from .test_exports import pdf_text

# --- keyboard only ------------------------------------------------------------------

FOCUS_VISIBLE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  return outline || style.boxShadow !== "none";
}"""


def tab_to(page, locator, limit=80, back=False):
    """Press Tab (or Shift+Tab) until ``locator`` has the focus, checking at
    each stop that the focus is visible (WCAG 2.4.7); fail if it never comes
    (a keyboard trap, or a control out of the tab order)."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if locator.evaluate("el => el === document.activeElement"):
            assert page.evaluate(FOCUS_VISIBLE), f"focus not visible on {locator}"
            return
    raise AssertionError(f"never reached with Tab: {locator}")


def focused_text(page) -> str:
    return page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")


# --- the statement and the notice, one tap from the phone -----------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_statement_and_the_privacy_notice_are_one_tap_from_the_phone(site, new_page, lang):
    table = site.evening.tables[0]
    phone = new_page()
    speak(phone, site, lang)
    phone.goto(table_url(site, table))
    words = {
        "fr": ("Déclaration d’accessibilité", "Défenseur des droits", "non conforme",
               "Données personnelles", "CNIL"),
        "en": ("Accessibility statement", "Défenseur des droits", "not compliant",
               "Personal data", "CNIL"),
    }[lang]  # fmt: skip
    # Before joining: the footer's links and the notice's own link.
    phone.locator("[data-statement-link]").click()
    expect(phone.locator("main h1")).to_contain_text(words[0])
    expect(phone.locator("main")).to_contain_text(words[1])
    expect(phone.locator("[data-compliance]")).to_contain_text(words[2])
    expect(phone.locator("main")).to_contain_text("Mairie de Testville")
    expect(phone.locator("[data-accessibility-contact]")).to_have_text(
        "accessibilite@testville.example"
    )
    assert_accessible(phone, f"statement ({lang})")
    phone.go_back()
    phone.locator("#privacy-first a").click()
    expect(phone.locator("main h1")).to_contain_text(words[3])
    expect(phone.locator("main")).to_contain_text(words[4])
    expect(phone.locator("main")).to_contain_text("dpo@testville.example")
    # Every part GDPR art. 13 asks for, in the page's language.
    parts = {
        "fr": ["Qui est responsable", "Pourquoi, et sur quelle base", "Combien de temps",
               "Qui les reçoit", "Moins de 15\u00a0ans", "Vos droits"],
        "en": ["Who is responsible", "Why, and on what basis", "How long", "Who receives it",
               "Under 15", "Your rights"],
    }[lang]  # fmt: skip
    notice = phone.locator("[data-privacy-notice]")
    expect(notice.locator("h2")).to_have_text(parts)
    expect(notice).to_contain_text("6.1.e")  # the legal basis, as set for the territory
    expect(notice).to_contain_text("Mes données" if lang == "fr" else "My data")
    # How long, per kind: names, contacts, cards, commitments, teams (the defaults).
    months = notice.locator("h2 + ul").first.locator("li")
    expect(months).to_have_count(5)
    assert [int(re.search(r"\d+", text).group()) for text in months.all_inner_texts()] == [
        12,
        24,
        12,
        24,
        36,
    ]
    assert_accessible(phone, f"privacy notice ({lang})")

    # Joined, on the live wall: one tap each too.
    join_table(phone, table_url(site, table), "Alice")
    phone.locator("[data-statement-link]").click()
    expect(phone.locator("[data-statement]")).to_be_visible()
    phone.go_back()
    expect_connected(phone)
    phone.locator("[data-privacy-link]").click()
    expect(phone.locator("[data-privacy-notice]")).to_be_visible()


# --- keyboard only: a participant's whole evening --------------------------------------


def test_a_participant_runs_the_whole_evening_with_the_keyboard_only(site, new_page):
    table = site.evening.tables[0]
    phone = new_page()
    phone.goto(table_url(site, table))
    keys = phone.keyboard

    tab_to(phone, phone.locator("[name=display_name]"))
    keys.type("Alice")
    tab_to(phone, phone.locator("[name=category]"))
    keys.press("ArrowDown")  # the first category: citizen
    expect(phone.locator("[name=category]")).not_to_have_value("")
    tab_to(phone, phone.locator("form[action$='/join'] [type=submit]"))
    keys.press("Enter")
    expect_connected(phone)

    facilitator = Facilitator(site, table)
    try:
        facilitator.go("intro")
        on_screen(phone, "intro")
        tab_to(phone, phone.locator("[name=intro]"))
        keys.type("Alice, du bourg")
        tab_to(phone, phone.locator("[data-intro-submit]"))
        keys.press("Enter")
        expect(phone.locator("[data-intros]")).to_contain_text("Alice, du bourg")

        facilitator.go("diverge")
        on_screen(phone, "diverge")
        tab_to(phone, phone.locator("#idea-text"))
        keys.type("Une navette solidaire le samedi")
        tab_to(phone, phone.locator("[data-submit]"))
        keys.press("Enter")
        expect(cards(phone, "Une navette solidaire le samedi")).to_have_count(1)

        facilitator.go("vote")
        on_screen(phone, "vote")
        facilitator.write("vote.open")
        vote = phone.locator("[data-wall-section] [data-action=vote]").first
        expect(vote).to_be_visible()
        before = phone.locator("[data-votes-left]").inner_text()
        tab_to(phone, vote)
        keys.press("Space")
        expect(phone.locator("[data-votes-left]")).not_to_have_text(before)
        facilitator.write("vote.close")

        # The table's sheet (its synthesis), written by Alice as its reporter.
        with site.app.app_context():
            alice = db.session.scalar(
                db.select(Participant.id).where(Participant.table_id == table.id)
            )
            db.session.remove()
        facilitator.write("table.reporter", {"participant_id": alice})
        facilitator.go("sheet")
        on_screen(phone, "sheet")
        field = phone.locator("[data-sheet] [data-key]").first
        tab_to(phone, field.locator("[data-sheet-input]"))
        keys.type("Une navette entre les villages, le samedi")
        keys.press("Tab")  # leaving the field saves it
        expect(field).to_have_attribute("data-version", "1")
        expect(field.locator("[data-sheet-state]")).to_have_attribute("data-state", "saved")

        facilitator.go("commit")
        on_screen(phone, "commit")
        form = phone.locator("[data-commit-form]")
        tab_to(phone, form.locator("[name=role]").first)
        keys.press("Space")
        expect(form.locator("[name=role][value=carry]")).to_be_checked()
        tab_to(phone, form.locator("[name=contribution]"))
        keys.type("Mon minibus")
        tab_to(phone, form.locator("[data-commit-submit]"))
        keys.press("Enter")
        expect(phone.locator("[data-alignment] li[data-role=carry]")).to_have_count(1)
    finally:
        facilitator.close()

    # My data, then the statement, still with the keyboard.
    tab_to(phone, phone.locator(".my-data a"))
    keys.press("Enter")
    expect(phone.locator("main h1")).to_have_text("Mes données")
    tab_to(phone, phone.locator("[data-statement-link]"))
    keys.press("Enter")
    expect(phone.locator("[data-statement]")).to_be_visible()


# --- keyboard only: the facilitator's console ----------------------------------------


def test_a_facilitator_runs_the_console_with_the_keyboard_only(site, new_page):
    table = site.evening.tables[0]
    alice = new_page()
    join_table(alice, table_url(site, table), "Alice")
    console = new_page(laptop=True)
    console.goto(console_url(site, table))
    expect_connected(console)
    keys = console.keyboard
    title = console.locator("[data-step-title]")

    def next_step():
        tab_to(console, console.locator("[data-action=next-step]"))
        keys.press("Enter")

    next_step()  # the first step starts, with its timer
    timer = console.locator("[data-timer]")
    expect(timer).to_be_visible()
    first_title = title.inner_text()

    # The timer: paused, resumed and extended (WCAG 2.2.1), with Space and Enter.
    tab_to(console, console.locator("[data-action=pause]"))
    keys.press("Space")
    expect(timer).to_have_attribute("data-paused", "true")
    expect(console.locator("[data-timer-paused]")).to_be_visible()
    seconds = int(timer.get_attribute("data-seconds"))
    tab_to(console, console.locator("[data-action=add-time]"))
    keys.press("Enter")
    expect(timer).to_have_attribute("data-seconds", str(seconds + 300))
    tab_to(console, console.locator("[data-action=pause]"), back=True)
    keys.press("Space")
    expect(timer).to_have_attribute("data-paused", "false")

    # Steps forward to the ideas, then moderation of a card.
    while console.locator("[data-step]").get_attribute("data-step-kind") != "diverge":
        before = title.inner_text()
        next_step()
        expect(title).not_to_have_text(before)
    assert title.inner_text() != first_title
    post(alice, "Une navette solidaire")
    card = cards(console, "Une navette solidaire")
    expect(card).to_have_count(1)
    tab_to(console, card.locator("[data-action=hide]"))
    keys.press("Enter")
    expect(card).to_have_class(re.compile(r"\bhidden-idea\b"))
    expect(card.locator("[data-action=show]")).to_be_focused()
    keys.press("Enter")
    expect(card).not_to_have_class(re.compile(r"\bhidden-idea\b"))

    # Groups: named with the keyboard, the card moved into it with its list.
    while console.locator("[data-step]").get_attribute("data-step-kind") != "cluster":
        before = title.inner_text()
        next_step()
        expect(title).not_to_have_text(before)
    tab_to(console, console.locator("#cluster-name"))
    keys.type("Mobilité")
    keys.press("Enter")
    expect(console.locator("[data-groups] section.group")).to_have_count(1)
    move_to = card.locator("[data-field=move-to]")
    tab_to(console, move_to)
    keys.press("ArrowDown")
    tab_to(console, card.locator("[data-action=move]"))
    keys.press("Enter")
    expect(console.locator("[data-groups] section.group li.idea")).to_have_count(1)

    # The vote: opened and closed from the keyboard.
    while console.locator("[data-step]").get_attribute("data-step-kind") != "vote":
        before = title.inner_text()
        next_step()
        expect(title).not_to_have_text(before)
    tab_to(console, console.locator("[data-action=vote-open]"))
    keys.press("Enter")
    close = console.locator("[data-action=vote-close]")
    expect(close).to_be_focused()
    keys.press("Enter")
    expect(console.locator("[data-vote-results]")).to_be_visible()

    def step_to(kind):
        while console.locator("[data-step]").get_attribute("data-step-kind") != kind:
            before = title.inner_text()
            next_step()
            expect(title).not_to_have_text(before)

    # The sheet (the table's synthesis): Alice made its reporter, a field written.
    step_to("sheet")
    tab_to(console, console.locator("[data-people] [data-action=make-reporter]"), limit=200)
    keys.press("Enter")
    expect(console.locator("[data-reporter]")).to_contain_text("Alice")
    field = console.locator("[data-sheet] [data-key]").first
    tab_to(console, field.locator("[data-sheet-input]"), limit=200)
    keys.type("Une navette solidaire entre les villages")
    keys.press("Tab")  # leaving the field saves it
    expect(field).to_have_attribute("data-version", "1")
    expect(
        alice.locator("[data-sheet] [data-key]").first.locator("[data-sheet-input]")
    ).to_have_value("Une navette solidaire entre les villages")

    # Commitments: one recorded for Alice, as for someone without a phone.
    step_to("commit")
    behalf = console.locator("[data-commit-behalf]")
    tab_to(console, behalf.locator("#commit-who"), limit=200)
    keys.press("ArrowDown")  # after "choose", Alice
    expect(behalf.locator("#commit-who")).not_to_have_value("")
    tab_to(console, behalf.locator("[name=role]").first)
    keys.press("Space")
    expect(behalf.locator("[name=role][value=carry]")).to_be_checked()
    tab_to(console, behalf.locator("[name=contribution]"))
    keys.type("Son minibus")
    tab_to(console, behalf.locator("[data-commit-submit]"))
    keys.press("Enter")
    row = console.locator("[data-alignment] tr[data-role=carry]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Son minibus")


# --- names, live regions, reflow, colour ---------------------------------------------

CONTROLS = {"button", "link", "textbox", "checkbox", "radio", "combobox", "spinbutton",
            "searchbox", "listbox", "switch", "tab", "menuitem"}  # fmt: skip


def unnamed_controls(page) -> list[str]:
    """Controls of Chromium's own accessibility tree (what a screen reader
    gets) that have no name."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    missing = []
    for node in nodes:
        role = (node.get("role") or {}).get("value")
        if node.get("ignored") or role not in CONTROLS:
            continue
        if not ((node.get("name") or {}).get("value") or "").strip():
            missing.append(f"{role} #{node.get('backendDOMNodeId')}")
    return missing


def test_every_control_has_a_name_in_chromiums_accessibility_tree(site, new_page):
    table = site.evening.tables[0]
    phone = new_page()
    phone.goto(table_url(site, table))
    assert unnamed_controls(phone) == []
    assert phone.get_by_role("checkbox", name=re.compile("moins de 15")).count() == 1
    assert phone.get_by_role("textbox", name="Votre nom ou un pseudonyme").count() == 1
    join_table(phone, table_url(site, table), "Alice")
    console = new_page(laptop=True)
    console.goto(console_url(site, table))
    expect_connected(console)
    facilitator = Facilitator(site, table)
    try:
        for kind in ("diverge", "vote", "commit"):
            facilitator.go(kind)
            on_screen(phone, kind)
            if kind == "diverge":
                post(phone, "Une idée")
                expect(cards(console, "Une idée")).to_have_count(1)
            assert unnamed_controls(phone) == [], kind
            assert unnamed_controls(console) == [], kind
    finally:
        facilitator.close()
    for name in ("Étape suivante", "Mettre le minuteur en pause", "Ajouter 5 minutes"):
        assert console.get_by_role("button", name=name).count() == 1, name

    # The organizers' pages: the evening, its control room, the territory's.
    room = new_page(laptop=True)
    sign_in(room, site)
    with site.app.app_context():
        territory = db.session.get(Table, table.id).event.territory_id
        db.session.remove()
    for path in (f"/organizer/events/{site.evening.event_id}",
                 f"/organizer/events/{site.evening.event_id}/live", "/organizer/",
                 f"/organizer/territories/{territory}/settings",
                 f"/organizer/territories/{territory}/record", "/backlog/",
                 f"/backlog/territories/{territory}/funders"):  # fmt: skip
        room.goto(site.server.url + path)
        if path.endswith("/live"):
            expect(room.locator("[data-connection]")).to_have_attribute("data-state", "connected")
        assert unnamed_controls(room) == [], path


def no_horizontal_scroll(page, where: str):
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.evaluate("() => document.documentElement.clientWidth")
    assert width <= viewport, f"{where}: {width} px wide in {viewport} px"


def test_the_pages_reflow_at_320_px_and_at_200_percent_zoom(site, new_page):
    table = site.evening.tables[0]
    phone = new_page()
    phone.set_viewport_size({"width": 320, "height": 640})
    for path in (f"/t/{table.join_code}", "/accessibilite", "/confidentialite"):
        phone.goto(site.server.url + path)
        no_horizontal_scroll(phone, path)
    join_table(phone, table_url(site, table), "Alice")
    facilitator = Facilitator(site, table)
    try:
        for kind in ("intro", "diverge", "vote", "sheet", "commit"):
            facilitator.go(kind)
            on_screen(phone, kind)
            no_horizontal_scroll(phone, f"phone at 320 px, {kind}")
    finally:
        facilitator.close()
    phone.goto(f"{table_url(site, table)}/me")
    no_horizontal_scroll(phone, "my data at 320 px")

    # A laptop's 1280 px at 200 %: 640 CSS pixels; nothing cut, no side scroll.
    console = new_page(laptop=True)
    console.set_viewport_size({"width": 640, "height": 400})
    console.goto(console_url(site, table))
    expect_connected(console)
    no_horizontal_scroll(console, "console at 200 %")
    hidden = console.evaluate(
        """() => Array.from(document.querySelectorAll("button, a, input, select, textarea"))
            .filter(el => el.offsetParent !== null)
            .filter(el => el.scrollWidth > el.clientWidth + 1
                          && getComputedStyle(el).overflow === "hidden")
            .map(el => el.outerHTML.slice(0, 80))"""
    )
    assert hidden == []
    sign_in(console, site)
    for path in (f"/organizer/events/{site.evening.event_id}",
                 f"/organizer/events/{site.evening.event_id}/live"):  # fmt: skip
        console.goto(site.server.url + path)
        no_horizontal_scroll(console, f"{path} at 200 %")


def test_status_messages_are_announced_without_moving_the_focus(site, new_page):
    table = site.evening.tables[0]
    phone = new_page()
    join_table(phone, table_url(site, table), "Alice")

    def live_region(locator) -> bool:
        return locator.evaluate(
            """el => !!el.closest('[aria-live], [role=status], [role=alert], [role=log]')"""
        )

    for selector in ("[data-connection]", "[data-pending]", "[data-message]", "[data-error]",
                     "[data-votes-left]", "[data-vote-error]", "[data-commit-status]",
                     "[data-intro-status]", "[data-wall]"):  # fmt: skip
        assert live_region(phone.locator(selector).first), selector
    expect(phone.locator("[data-connection]")).not_to_have_text("")
    facilitator = Facilitator(site, table)
    try:
        facilitator.go("vote")
        facilitator.write("vote.open")
        on_screen(phone, "vote")
        expect(phone.locator("[data-votes-left]")).not_to_have_text("")
    finally:
        facilitator.close()
    console = new_page(laptop=True)
    console.goto(console_url(site, table))
    expect_connected(console)
    for selector in ("[data-connection]", "[data-vote-state]", "[data-cluster-chosen]"):
        assert live_region(console.locator(selector).first), selector
    # The control room: what its tools did, and what the projector shows.
    room = new_page(laptop=True)
    sign_in(room, site)
    room.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}/live")
    expect(room.locator("[data-connection]")).to_have_attribute("data-state", "connected")
    for selector in ("[data-connection]", "[data-room-result]", "[data-plenary-state]"):
        assert live_region(room.locator(selector).first), selector


def test_no_information_is_given_by_colour_alone(site, new_page):
    table = site.evening.tables[0]
    phone = new_page()
    join_table(phone, table_url(site, table), "Alice")
    facilitator = Facilitator(site, table)
    try:
        facilitator.go("diverge")
        on_screen(phone, "diverge")
        timer = phone.locator("[data-timer]")
        expect(timer).to_be_visible()
        # Each level of the timer reads in words too, whatever its colour.
        labels = phone.evaluate(
            "() => JSON.parse(document.getElementById('live-config').textContent).i18n.timer_levels"
        )
        assert set(labels) == {"warning", "danger", "overtime"}
        step = next(s for s in facilitator.script if s["kind"] == "diverge")
        facilitator.write("timer.add", {"seconds": -(step["duration"] - 60)})  # a minute left
    finally:
        facilitator.close()
    expect(timer).to_have_attribute("data-level", re.compile("warning|danger"))
    expect(phone.locator("[data-timer-note]")).to_be_visible()
    expect(phone.locator("[data-timer-note]")).not_to_have_text("")

    # The control room: an ending, a late and a stalled table each say it in
    # words, not only with their amber or red.
    other = site.evening.tables[1]
    room = new_page(laptop=True)
    sign_in(room, site)
    room.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}/live")
    expect(room.locator("[data-connection]")).to_have_attribute("data-state", "connected")
    row = room.locator(f'tr[data-table="{table.id}"]')
    stalled = room.locator(f'tr[data-table="{other.id}"]')
    expect(row.locator("[data-left]")).to_contain_text("bientôt fini")
    expect(row.locator("[data-left]")).to_have_attribute("data-level", "amber")
    expect(stalled.locator("[data-flags]")).to_have_text("")  # not started: neither

    facilitator = Facilitator(site, table)
    try:
        facilitator.write("timer.add", {"seconds": -120})  # time is up
    finally:
        facilitator.close()
    expect(row).to_have_attribute("data-late", "true")
    expect(row.locator("[data-left]")).to_have_attribute("data-level", "red")
    expect(row.locator("[data-flags]")).to_have_text("En retard")

    # The other table: started, then nothing written for six minutes.
    console = stalled.locator("[data-console]")
    facilitator = Facilitator(site, other)
    try:
        facilitator.go("diverge")
        expect(console).to_have_attribute("data-state", "on")
    finally:
        facilitator.close()
    expect(console).to_have_attribute("data-state", "off")  # nothing more from that table
    with site.app.app_context():
        db.session.get(Table, other.id).last_activity_at = clock.now() - timedelta(minutes=6)
        db.session.commit()
        db.session.remove()
    room.reload()  # its catch-up reads the table's last activity
    expect(stalled).to_have_attribute("data-stalled", "true")
    expect(stalled.locator("[data-flags]")).to_have_text("À l’arrêt")
    expect(room.locator('[data-total="stalled"]')).to_have_text("1")


# --- a minor ---------------------------------------------------------------------------


def test_a_minor_joins_and_never_appears_by_name_in_a_team_or_an_export(site, new_page):
    table = site.evening.tables[0]
    phone = new_page()
    phone.goto(table_url(site, table))
    box = phone.get_by_role("checkbox", name=re.compile("moins de 15"))
    box.check()
    name = phone.locator("[name=display_name]")
    expect(name).not_to_have_value("")  # a pseudonym suggested
    expect(phone.locator("#minor-hint")).to_be_visible()
    name.fill("Zoé Dupont-Secret")  # her real name all the same
    phone.select_option("[name=category]", "student")
    phone.locator("form[action$='/join'] [type=submit]").click()
    expect_connected(phone)
    adult = new_page()
    join_table(adult, table_url(site, table), "Marc Durand")

    facilitator = Facilitator(site, table)
    try:
        facilitator.go("diverge")
        post(phone, "Un jardin partagé")
        facilitator.go("commit")
        on_screen(phone, "commit")
        form = phone.locator("[data-commit-form]")
        expect(form.locator("[name=role][value=follow]")).to_be_hidden()
        expect(form.locator("[name=consent]")).to_be_hidden()
        expect(form.locator("[data-minor-note]")).to_be_visible()
        form.locator("[name=role][value=carry]").check()
        form.locator("[data-commit-submit]").click()
        expect(phone.locator("[data-alignment] li[data-role=carry]")).to_have_count(1)
    finally:
        facilitator.close()

    organizer = new_page(laptop=True)
    sign_in(organizer, site)
    organizer.once("dialog", lambda dialog: dialog.accept())
    organizer.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}")
    organizer.click("form[action$='/status/closed'] button")
    expect(organizer.locator(".badge.status-closed")).to_be_visible()
    expect(organizer.locator("#minors")).to_contain_text("Zoé Dupont-Secret")  # her organizers'
    organizer.goto(f"{site.server.url}/backlog/")
    organizer.locator(".project-card a").first.click()
    expect(organizer.locator("main")).to_contain_text("Participant mineur")
    expect(organizer.locator("main")).not_to_contain_text("Zoé")
    assert_accessible(organizer, "project page with a minor")

    for fmt in ("csv", "csv-excel", "xlsx", "json", "html", "pdf"):
        answer = organizer.request.get(
            f"{site.server.url}/backlog/events/{site.evening.event_id}/export/{fmt}"
        )
        assert answer.ok, fmt
        body = answer.body()
        if fmt == "pdf":
            text = pdf_text(body)
        elif body[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                text = "\n".join(archive.read(n).decode() for n in archive.namelist())
        else:
            text = body.decode()
        assert "Zoé" not in text and "Dupont" not in text, fmt
        if fmt == "json":
            ideas = [i["text"] for i in json.loads(text)["ideas"]]
            assert "Un jardin partagé" in ideas  # her card counts like anyone's
