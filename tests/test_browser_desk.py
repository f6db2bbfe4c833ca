"""The synthesis desk in Chromium (issue 18, item 1): a team member with a
secret link sees ideas from three tables arrive live, takes up the app's
suggested theme and renames it while a second member moves an idea into it
from the keyboard (both edits kept), and the control room puts the themes
on the projector; the team pins a quote, splits a theme and merges it back,
and the projector follows; no axe violation."""

import uuid

import pytest
from playwright.sync_api import expect

from workshop.client import Client, envelope
from workshop.extensions import db
from workshop.models import Event, Organizer, Table
from workshop.services import desk, writes

from .browser import expect_connected, sign_in
from .helpers import join, make_evening, serve
from .test_accessibility import assert_accessible


@pytest.fixture(scope="module")
def module_live_server(tmp_path_factory, migrated_database):
    """The module's server, its suggestions switched off: the tests write the
    app's suggestions themselves (what its job would), at a known moment."""
    yield from serve(tmp_path_factory.mktemp("live"), migrated_database, {"SUGGESTIONS": "0"})


def desk_token(app, evening, name) -> str:
    with app.app_context():
        organizer = db.session.get(Organizer, evening.organizer_id)
        _link, token = desk.new_link(organizer, db.session.get(Event, evening.event_id), name)
        db.session.remove()
    return token


def participant(app, table, name) -> int:
    with app.app_context():
        found, _token = join(db.session.get(Table, table.id), name)
        participant_id = found.id
        db.session.remove()
    return participant_id


def app_suggests(app, evening, label, idea_ids):
    """The app's suggestion (what its job writes), through the write path."""
    with app.app_context():
        event = db.session.get(Event, evening.event_id)
        data = {"label": label, "keywords": ["navette"], "idea_ids": idea_ids}
        answer = writes.perform(writes.as_system(event), envelope("theme.suggest", data))
        db.session.remove()
    assert answer["ok"], answer


def test_two_members_build_a_theme_together_from_three_tables_ideas(site, new_page):
    email = f"desk-{uuid.uuid4().hex[:8]}@example.org"
    evening = make_evening(site.app, tables=3, email=email)
    camille = new_page(laptop=True)
    camille.goto(f"{site.server.url}/desk/{desk_token(site.app, evening, 'Camille')}")
    expect_connected(camille)
    dominique = new_page(laptop=True)  # the organizer, from the evening's page
    sign_in(dominique, site, email)
    dominique.goto(f"{site.server.url}/organizer/events/{evening.event_id}")
    dominique.click("a[href$='/desk']")
    expect_connected(dominique)

    consoles = [
        Client(site.server.url, {"role": "facilitator", "secret": t.facilitator_secret})
        for t in evening.tables
    ]
    texts = ["Une navette le samedi", "Un bus pour le marché", "Un jardin partagé"]
    ideas = []
    for console, table, text in zip(consoles, evening.tables, texts, strict=True):
        # Posted by the console for someone at the table without a phone.
        author = participant(site.app, table, f"Personne {table.number}")
        answer = console.write("idea.post", {"text": text, "participant_id": author})
        assert answer and answer["ok"], answer
        ideas.append(answer["changes"][0]["id"])
    for table, text in zip(evening.tables, texts, strict=True):
        card = camille.locator(f'[data-table="{table.id}"] [data-idea]')
        expect(card).to_contain_text(text)
    expect(camille.locator("[data-desk-status]")).to_contain_text("3")

    # Search ignores accents and case; the table filter narrows to one table.
    camille.fill("#desk-search", "MARCHE")
    expect(camille.locator("[data-idea]")).to_have_count(1)
    camille.fill("#desk-search", "")
    camille.select_option("#desk-table", str(evening.tables[2].id))
    expect(camille.locator("[data-idea]")).to_have_count(1)
    camille.select_option("#desk-table", "")

    app_suggests(site.app, evening, "Transports", ideas[:1])
    suggestion = camille.locator("[data-desk-themes] [data-suggested=true]")
    expect(suggestion).to_have_count(1)
    assert_accessible(camille, "the synthesis desk")
    suggestion.locator("[data-action=accept]").click()
    theme = camille.locator("[data-desk-themes] [data-theme]")
    expect(theme).to_have_attribute("data-suggested", "false")

    # Dominique moves the bus idea into the theme from the keyboard while
    # Camille renames it: neither edit is lost.
    mover = dominique.locator(f'[data-idea="{ideas[1]}"] select')
    expect(mover.locator("option")).to_have_count(2)
    mover.focus()
    dominique.keyboard.press("ArrowDown")
    name = theme.locator(".desk-theme-head input")
    name.fill("Mobilité")
    name.press("Enter")

    for page in (camille, dominique):
        expect(page.locator("[data-desk-themes] .desk-theme-head input")).to_have_value("Mobilité")
        quotes = page.locator("[data-desk-themes] .desk-quotes label")
        expect(quotes).to_have_text([texts[0], texts[1]])
    expect(camille.locator(f'[data-idea="{ideas[1]}"] select option:checked')).to_have_text(
        "Mobilité"
    )
    assert_accessible(dominique, "the synthesis desk, with a theme")

    # Back to the room: the control room puts the themes on the projector.
    projector = new_page(laptop=True)
    projector.goto(f"{site.server.url}/p/{evening.join_code}")
    dominique.goto(f"{site.server.url}/organizer/events/{evening.event_id}/live")
    expect_connected(dominique)
    dominique.click('[data-plenary="themes"]')
    shown = projector.locator("[data-themes] [data-theme]")
    expect(shown).to_have_count(1)
    expect(shown.locator("h2")).to_have_text("Mobilité")
    expect(shown).to_contain_text("2 tables")
    expect(shown.locator("li")).to_have_text([texts[0], texts[1]])

    # Camille pins the bus as the quote the room sees first, from the keyboard.
    mobility = camille.locator("[data-desk-themes] [data-theme]")
    mobility.locator("summary").focus()
    camille.keyboard.press("Enter")
    pin = mobility.locator(f'[data-idea="{ideas[1]}"] [data-action=pin]')
    pin.focus()
    camille.keyboard.press("Enter")
    expect(pin).to_have_attribute("aria-pressed", "true")
    expect(shown.locator("li")).to_have_text([texts[1], texts[0]])
    # She splits the shuttle off into a theme of its own, then merges it back.
    mobility.locator(f'[data-idea="{ideas[0]}"] input[type=checkbox]').check()
    mobility.get_by_label("Nouveau thème à partir des idées choisies").fill("Navettes")
    mobility.get_by_label("Nouveau thème à partir des idées choisies").press("Enter")
    expect(shown).to_have_count(2)
    expect(shown.locator("h2")).to_have_text(["Mobilité", "Navettes"])
    assert_accessible(camille, "the synthesis desk, a theme's ideas open")
    shuttles = camille.locator("[data-desk-themes] [data-theme]").nth(1)
    shuttles.locator(".desk-merge select").select_option(label="Mobilité")
    shuttles.locator(".desk-merge button").click()
    expect(shown).to_have_count(1)
    expect(shown.locator("li")).to_have_text([texts[1], texts[0]])
    for console in consoles:
        console.disconnect()
