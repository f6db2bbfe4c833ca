"""The app's likely duplicates as hints, in Chromium (issue 18, item 2),
computed by the server's own jobs (housekeeping every second, suggestions
at every round): across tables on the synthesis desk, within a table on the
facilitator's console while grouping; one click puts the two ideas together
(one theme, one group), and nothing is merged without that click."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from workshop.client import Client

from .browser import expect_connected, open_console
from .helpers import make_evening, serve
from .test_accessibility import Facilitator, assert_accessible
from .test_browser_desk import desk_token, participant


@pytest.fixture(scope="module")
def module_live_server(tmp_path_factory, migrated_database):
    """The module's server: housekeeping every second, suggestions at every round."""
    environment = {"BEACON_INTERVAL": "1", "SUGGEST_EVERY": "0"}
    yield from serve(tmp_path_factory.mktemp("live"), migrated_database, environment)


LIKELY_DUPLICATES = [
    "Une navette pour aller au marché le samedi",
    "Une navette le samedi pour le marché",
]


def two_tables_posting_alike(site, prefix):
    """An evening of two tables whose consoles each posted one of two
    likely duplicates for a participant; the consoles and the ideas' ids."""
    evening = make_evening(site.app, tables=2, email=f"{prefix}-{uuid.uuid4().hex[:8]}@example.org")
    consoles = [
        Client(site.server.url, {"role": "facilitator", "secret": t.facilitator_secret})
        for t in evening.tables
    ]
    ideas = []
    for console, table, text in zip(consoles, evening.tables, LIKELY_DUPLICATES, strict=True):
        author = participant(site.app, table, f"Personne {table.number}")
        answer = console.write("idea.post", {"text": text, "participant_id": author})
        ideas.append(answer["changes"][0]["id"])
    return evening, consoles, ideas


def test_a_likely_duplicate_goes_into_one_theme_in_one_click(site, new_page):
    evening, consoles, ideas = two_tables_posting_alike(site, "dup")
    texts = LIKELY_DUPLICATES
    page = new_page(laptop=True)
    page.goto(f"{site.server.url}/desk/{desk_token(site.app, evening, 'Camille')}")
    expect_connected(page)

    pair = page.locator("[data-desk-duplicates] [data-pair]")
    expect(pair).to_have_count(1)
    expect(pair.locator("p")).to_have_text([re.compile(f"Table 1.*{t}") for t in texts[:1]] + [
        re.compile(f"Table 2.*{texts[1]}")])  # fmt: skip
    assert_accessible(page, "the synthesis desk's likely duplicates")
    pair.locator("[data-action=same-theme]").click()

    # Both in one theme of the team's (a new one, or the app's suggestion taken up).
    theme = page.locator("[data-desk-themes] [data-theme][data-suggested=false]")
    expect(theme).to_have_count(1)
    expect(theme.locator(".desk-quotes label")).to_have_text(texts)
    expect(pair).to_have_count(0)  # in one theme now: no longer a hint
    for console in consoles:
        console.disconnect()


def test_not_the_same_hides_a_hint_from_the_whole_team_until_one_takes_it_back(site, new_page):
    evening, consoles, _ideas = two_tables_posting_alike(site, "apart")
    desks = []
    for name in ("Camille", "Dominique"):
        page = new_page(laptop=True)
        page.goto(f"{site.server.url}/desk/{desk_token(site.app, evening, name)}")
        expect_connected(page)
        expect(page.locator("[data-desk-duplicates] [data-pair]")).to_have_count(1)
        desks.append(page)
    camille, dominique = desks

    camille.locator("[data-desk-duplicates] [data-action=not-same]").click()

    for page in desks:  # said once, for the whole team
        expect(page.locator("[data-desk-duplicates] [data-pair]")).to_have_count(0)
        expect(page.locator(".desk-apart summary")).to_contain_text("1")
    assert_accessible(dominique, "the synthesis desk's pairs said not the same")
    dominique.locator(".desk-apart summary").click()
    dominique.locator("[data-action=hint-again]").focus()
    dominique.keyboard.press("Enter")
    for page in desks:
        expect(page.locator("[data-desk-duplicates] [data-pair]")).to_have_count(1)
        expect(page.locator(".desk-apart")).to_be_hidden()
    for console in consoles:
        console.disconnect()


def test_a_console_grouping_its_cards_groups_a_likely_duplicate_in_one_click(site, new_page):
    evening = make_evening(site.app, tables=1, email=f"hint-{uuid.uuid4().hex[:8]}@example.org")
    table = evening.tables[0]
    texts = ["Une navette pour aller au marché le samedi", "Une navette le samedi pour le marché"]
    facilitator = Facilitator(site, table)
    ideas = []
    for n, text in enumerate(texts):
        author = participant(site.app, table, f"Personne {n}")
        ideas.append(facilitator.write("idea.post", {"text": text, "participant_id": author}))
    ideas = [answer["changes"][0]["id"] for answer in ideas]
    facilitator.go("cluster")
    facilitator.close()
    page = new_page(laptop=True)
    open_console(page, site, table)

    later = page.locator(f'li.idea[data-id="{ideas[1]}"]')
    expect(later.locator(".card-hint")).to_contain_text("Ressemble à")
    expect(page.locator(".card-hint")).to_have_count(1)  # the pair is shown once
    assert_accessible(page, "the console's hint of a likely duplicate")
    later.locator("[data-action=group-them]").focus()
    page.keyboard.press("Enter")

    expect(page.locator("[data-groups] li.idea")).to_have_count(2)
    expect(page.locator(".card-hint")).to_have_count(0)  # grouped: no longer a hint
