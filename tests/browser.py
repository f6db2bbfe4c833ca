"""Browser tests' shared parts: Chromium driven by Playwright, one browser for
the whole run, a page per context (each test's own), the running server with
an open evening (the fixtures are made available to every test module by
``conftest.py``)."""

import re
import uuid
from dataclasses import dataclass

import pytest
from flask import Flask
from playwright.sync_api import expect, sync_playwright

from .helpers import PASSWORD, Evening, LiveServer, TableRef, make_evening

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

expect.set_options(timeout=10_000)


# --- fixtures -------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """The running server, an app on the same database, and an open evening."""

    server: LiveServer
    app: Flask
    evening: Evening
    email: str = "orga@example.org"  # the evening's organizer


@pytest.fixture(scope="session")
def browser(chromium_path):
    """Chromium, launched once: each test has browser contexts of its own."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _site(server, app) -> Site:
    """An open evening with two tables, with an organizer (and territory) of
    its own: tests sharing a server never see each other's evenings."""
    email = f"orga-{uuid.uuid4().hex[:8]}@example.org"
    return Site(server, app, make_evening(app, email=email), email)


@pytest.fixture
def site(module_live_server) -> Site:
    """The module's running server (one per module) and an evening of its own."""
    return _site(*module_live_server)


@pytest.fixture
def own_site(live_server) -> Site:
    """A server of the test's own, for tests that stop or kill it."""
    return _site(*live_server)


@pytest.fixture
def new_page(browser):
    """``new_page(laptop=False)``: a page in a browser context of its own
    (name the test's server fixture before it, so that the contexts close
    before that server stops)."""
    contexts = []
    errors = []  # uncaught script errors, on any page

    def watch(page):
        page.on("pageerror", lambda error: errors.append(error))

    def new_page(laptop=False):
        context = browser.new_context(**(LAPTOP if laptop else PHONE))
        context.on("page", watch)  # every page of the context, reopened ones too
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()
    assert errors == [], errors


# --- helpers --------------------------------------------------------------------


def table_url(site: Site, table: TableRef) -> str:
    return f"{site.server.url}/t/{table.join_code}"


def console_url(site: Site, table: TableRef) -> str:
    return f"{site.server.url}/f/{table.facilitator_secret}"


def i18n(page, key: str):
    """A string of the page's live config, in the page's language."""
    return page.evaluate(
        "key => JSON.parse(document.getElementById('live-config').textContent).i18n[key]", key
    )


def expect_connected(page, timeout=None):
    expect(page.locator("[data-connection]")).to_have_attribute(
        "data-state", "connected", timeout=timeout
    )


def sign_in(page, site: Site, email=None):
    email = email or site.email
    page.goto(f"{site.server.url}/login")
    page.fill("[name=email]", email)
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


def open_console(page, site: Site, table: TableRef):
    page.goto(console_url(site, table))
    expect_connected(page)
