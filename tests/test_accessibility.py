"""Accessibility: axe-core (bundled by axe-playwright-python) finds no
violation on the phone page (the join form, then the wall at every step),
the facilitator's console, the control room and the projector, in French
and in English."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from workshop.client import Client

from .browser import expect_connected, open_console, sign_in, table_url
from .helpers import of_type, script
from .test_browser import post

AXE_SCRIPT = Axe().axe_script  # axe-core, as bundled by axe-playwright-python


def assert_accessible(page, where: str):
    """No axe-core violation on the page as it is now. axe-core (570 kB) is
    injected once per document: a live page is checked at every step."""
    if not page.evaluate("() => 'axe' in window"):
        page.evaluate(AXE_SCRIPT)
    violations = page.evaluate("() => axe.run({resultTypes: ['violations']})")["violations"]
    found = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(", ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in violations
    ]
    assert found == [], f"{where}: {len(found)} axe violation(s)\n" + "\n".join(found)


def speak(page, site, lang: str):
    """Choose the page's language with the cookie the language links set."""
    page.context.add_cookies([{"name": "lang", "value": lang, "url": site.server.url}])


class Facilitator:
    """The table's console as the protocol's Python client, to move the table along."""

    def __init__(self, site, table):
        self.client = Client(
            site.server.url,
            {"role": "facilitator", "secret": table.facilitator_secret},
            reconnection=False,
        )
        state = self.client.sync(0)
        self.table = of_type(state["changes"], "table")[-1]
        self.script = script(state["changes"])

    def write(self, op, data=None):
        answer = self.client.write(op, data)
        assert answer and answer["ok"], answer
        return answer

    def go(self, kind):
        step = next(s for s in self.script if s["kind"] == kind)
        self.write("step.go", {"step_id": step["id"]})

    def close(self):
        self.client.disconnect()


def on_screen(page, kind):
    expect(page.locator("[data-live]")).to_have_attribute("data-screen", kind)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_phone_and_the_console_have_no_axe_violation_at_any_step(site, new_page, lang):
    table = site.evening.tables[0]
    phone = new_page()
    speak(phone, site, lang)
    phone.goto(table_url(site, table))
    expect(phone.locator("html")).to_have_attribute("lang", lang)
    assert_accessible(phone, "join form")
    phone.fill("[name=display_name]", "Alice")
    phone.select_option("[name=category]", "citizen")
    phone.click("form[action$='/join'] [type=submit]")
    expect_connected(phone)
    other = new_page()
    speak(other, site, lang)
    other.goto(table_url(site, table))
    other.fill("[name=display_name]", "Bruno")
    other.select_option("[name=category]", "business")
    other.click("form[action$='/join'] [type=submit]")
    expect_connected(other)

    console = new_page(laptop=True)
    speak(console, site, lang)
    open_console(console, site, table)
    post(phone, "Une navette solidaire le samedi")
    post(other, "Un atelier de réparation de vélos")
    expect(console.locator("[data-wall] li.idea")).to_have_count(2)
    assert_accessible(phone, "phone, wall")
    assert_accessible(console, "console, before the script")

    facilitator = Facilitator(site, table)
    try:
        facilitator.go("intro")
        on_screen(phone, "intro")
        phone.fill("[name=intro]", "Alice, d'ici")
        phone.click("[data-intro-submit]")
        expect(console.locator("[data-people] [data-field=intro]")).to_have_count(1)
        assert_accessible(phone, "phone, introductions")
        assert_accessible(console, "console, introductions")

        facilitator.go("brief")
        on_screen(phone, "brief")
        assert_accessible(phone, "phone, brief")

        facilitator.go("diverge")
        on_screen(phone, "diverge")
        assert_accessible(phone, "phone, ideas")
        assert_accessible(console, "console, ideas")

        facilitator.go("cluster")
        on_screen(phone, "cluster")
        ideas = console.locator("[data-wall-section] li.idea")
        first = int(ideas.first.get_attribute("data-id"))
        facilitator.write("cluster.create", {"name": "Mobilité", "idea_ids": [first]})
        expect(phone.locator("[data-groups] section.group")).to_have_count(1)
        expect(console.locator("[data-groups] section.group")).to_have_count(1)
        assert_accessible(phone, "phone, groups")
        assert_accessible(console, "console, groups")

        facilitator.go("vote")
        on_screen(phone, "vote")
        facilitator.write("vote.open")
        phone.locator("[data-wall-section] [data-action=vote]").first.click()
        phone.locator("[data-wall-section] [data-action=vote]").first.click()
        phone.locator("[data-wall-section] [data-action=vote]").first.click()  # refused
        expect(phone.locator("[data-vote-error]")).not_to_have_text("")
        assert_accessible(phone, "phone, vote open")
        assert_accessible(console, "console, vote open")
        facilitator.write("vote.close")
        expect(phone.locator("[data-vote-results]")).to_be_visible()
        expect(console.locator("[data-vote-results]")).to_be_visible()
        assert_accessible(phone, "phone, vote closed")
        assert_accessible(console, "console, vote closed")

        alice = next(
            int(li.get_attribute("data-participant-id"))
            for li in console.locator("[data-people] li[data-participant-id]").all()
            if "Alice" in li.inner_text()
        )
        facilitator.write("table.reporter", {"participant_id": alice})
        facilitator.go("sheet")
        on_screen(phone, "sheet")
        key = facilitator.table["sheet"][0]
        facilitator.write("sheet.edit", {"key": key, "text": "Une navette", "base_version": 0})
        expect(other.locator(f"[data-sheet] [data-key={key}] [data-sheet-text]")).to_have_text(
            "Une navette"
        )
        expect(phone.locator("[data-sheet] [data-sheet-input]").first).to_be_visible()
        assert_accessible(phone, "phone, sheet (reporter)")
        assert_accessible(other, "phone, sheet (reading)")
        assert_accessible(console, "console, sheet")

        facilitator.go("commit")
        on_screen(phone, "commit")
        form = phone.locator("[data-commit-form]")
        form.locator("[name=role][value=carry]").check()
        form.locator("[name=consent]").check()
        form.locator("[name=contact]").fill("alice@example.org")
        form.locator("[data-commit-submit]").click()
        expect(console.locator("[data-alignment] tr[data-role]")).to_have_count(1)
        assert_accessible(phone, "phone, commitments")
        assert_accessible(console, "console, commitments")

        facilitator.go("plenary")
        on_screen(phone, "plenary")
        assert_accessible(phone, "phone, plenary")
        assert_accessible(console, "console, plenary")
    finally:
        facilitator.close()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_control_room_and_the_projector_have_no_axe_violation(site, new_page, lang):
    table = site.evening.tables[0]
    phone = new_page()
    speak(phone, site, lang)
    phone.goto(table_url(site, table))
    phone.fill("[name=display_name]", "Alice")
    phone.select_option("[name=category]", "citizen")
    phone.click("form[action$='/join'] [type=submit]")
    expect_connected(phone)
    post(phone, "Une navette solidaire le samedi")

    room = new_page(laptop=True)
    speak(room, site, lang)
    sign_in(room, site)
    room.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}/live")
    expect(room.locator("html")).to_have_attribute("lang", lang)
    expect(room.locator("[data-connection]")).to_have_attribute("data-state", "connected")
    expect(room.locator(f'[data-table="{table.id}"]').first).to_be_visible()
    assert_accessible(room, "control room")

    projector = new_page(laptop=True)
    speak(projector, site, lang)
    projector.goto(f"{site.server.url}/p/{site.evening.join_code}")
    expect(projector.locator("body")).to_have_attribute("data-connection", "connected")
    assert_accessible(projector, "projector, join screen")

    room.click('[data-plenary="table"]')
    expect(projector.locator("[data-plenary]")).to_be_visible()
    assert_accessible(projector, "projector, plenary")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_participants_other_pages_have_no_axe_violation(site, new_page, lang):
    """The home page (with a wrong code), the evening's page, the join form
    sent without a category, and "My data" before and after deleting one's cards."""
    table = site.evening.tables[0]
    page = new_page()
    speak(page, site, lang)
    page.goto(f"{site.server.url}/join?code=ZZZZZZ")
    expect(page.locator(".flash").first).to_be_visible()
    assert_accessible(page, f"home page, unknown code ({lang})")

    page.goto(f"{site.server.url}/e/{site.evening.join_code}")
    expect(page.locator("main h1")).to_be_visible()
    assert_accessible(page, f"evening page ({lang})")

    page.goto(table_url(site, table))
    page.fill("[name=display_name]", "Zoé")
    page.locator("form[action$='/join']").evaluate("form => { form.noValidate = true; }")
    page.click("form[action$='/join'] [type=submit]")
    expect(page.locator("main .error, main .errors").first).to_be_visible()
    assert_accessible(page, f"join form with errors ({lang})")

    page.select_option("[name=category]", "not_said")
    page.click("form[action$='/join'] [type=submit]")
    expect_connected(page)
    post(page, "Une idée à moi")
    page.goto(f"{table_url(site, table)}/me")
    expect(page.locator("main")).to_contain_text("Une idée à moi")
    assert_accessible(page, f"my data ({lang})")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("form[action$='/me/delete'] [type=submit]").click()
    expect(page.locator(".flash").first).to_be_visible()
    assert_accessible(page, f"my data, cards deleted ({lang})")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_public_bodys_pages_have_no_axe_violation(site, new_page, lang):
    """The accessibility statement, the privacy notice (and their territory
    choice), the territory's settings with an error, its processing record,
    and the evening page listing a minor (issue 19)."""
    table = site.evening.tables[0]
    page = new_page()
    speak(page, site, lang)
    page.goto(table_url(site, table))
    page.locator("[data-statement-link]").click()
    expect(page.locator("[data-statement]")).to_be_visible()
    assert_accessible(page, f"accessibility statement ({lang})")
    page.goto(f"{site.server.url}/accessibilite")  # several territories: a choice
    expect(page.locator("main h1")).to_be_visible()
    assert_accessible(page, f"accessibility statement, territory choice ({lang})")
    page.goto(table_url(site, table))
    page.locator("[data-privacy-link]").click()
    expect(page.locator("[data-privacy-notice]")).to_be_visible()
    assert_accessible(page, f"privacy notice ({lang})")
    page.goto(table_url(site, table))
    page.locator("[name=minor]").check()
    page.select_option("[name=category]", "student")
    page.click("form[action$='/join'] [type=submit]")
    expect_connected(page)
    assert_accessible(page, f"a minor's phone ({lang})")

    organizer = new_page(laptop=True)
    speak(organizer, site, lang)
    sign_in(organizer, site)
    organizer.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}")
    expect(organizer.locator("#minors")).to_be_visible()
    assert_accessible(organizer, f"evening page with a minor ({lang})")
    organizer.goto(f"{site.server.url}/organizer/")
    organizer.locator("a[href*='/territories/'][href$='/settings']").first.click()
    expect(organizer.locator("[name=controller]")).to_be_visible()
    assert_accessible(organizer, f"territory settings ({lang})")
    organizer.fill("[name=minor_age]", "9")
    organizer.locator("main form [type=submit]").first.click()
    expect(organizer.locator(".flash-error")).to_be_visible()
    assert_accessible(organizer, f"territory settings refused ({lang})")
    organizer.fill("#retention-teams", "0")  # the retention schedule, its own form
    organizer.locator("form#retention [type=submit]").click()
    expect(organizer.locator(".flash-error")).to_be_visible()
    expect(organizer.locator("#retention-teams")).to_be_visible()
    assert_accessible(organizer, f"retention schedule refused ({lang})")
    organizer.locator("a[href$='/record']").first.click()
    expect(organizer.locator("[data-record]")).to_be_visible()
    assert_accessible(organizer, f"processing record ({lang})")
