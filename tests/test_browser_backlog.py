"""The backlog in a real browser: the board's columns, filters and late
projects, moving a card with the keyboard, the project page and the
evening's ideas; no axe-core violation, in French and in English."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from workshop import clock
from workshop.extensions import db
from workshop.models import Event, Project, ProjectStage
from workshop.services import backlog, reviews, writes

from .browser import join_table, sign_in, table_url
from .test_accessibility import assert_accessible, speak
from .test_backlog import run_table, write
from .test_browser import cards, post


@pytest.fixture
def projects(site) -> list[int]:
    """The evening's two tables made projects: one that has waited 100 days
    in its stage (amber: D2 expects 90), one 200 days (red)."""
    with site.app.app_context():
        event = db.session.get(Event, site.evening.event_id)
        first, second = sorted(event.tables, key=lambda t: t.number)
        run_table(first, cards={"Léa": ["Navette solidaire"]}, ballots={}, sheet={},
                  commitments={"Léa": ("carry", "Mon permis")})  # fmt: skip
        run_table(second, cards={"Marc": ["Épicerie mobile"]}, ballots={}, sheet={},
                  commitments={})  # fmt: skip
        made = backlog.promote_event(event.territory.organizers[0], event).created
        for project, days in zip(made, (100, 200), strict=True):
            project.stage_since = clock.now() - timedelta(days=days)
        db.session.commit()
        ids = [p.id for p in made]
        db.session.remove()
    return ids


def column(page, stage: str):
    return page.locator(f"section[aria-labelledby='stage-{stage}']")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_board_shows_late_projects_filters_and_moves_a_card(site, new_page, projects, lang):
    page = new_page(laptop=True)
    speak(page, site, lang)
    sign_in(page, site)
    page.goto(f"{site.server.url}/backlog/")

    d2 = column(page, "d2")
    expect(d2.locator("article")).to_have_count(2)
    expect(d2.locator("h2")).to_contain_text("(2)")
    late = {"fr": ("En retard", "Très en retard"), "en": ("Overdue", "Long overdue")}[lang]
    navette = d2.locator("article", has_text="Navette solidaire")
    epicerie = d2.locator("article", has_text="Épicerie mobile")
    expect(navette).to_have_class("card project-card age-amber")
    expect(navette.locator(".badge")).to_have_text(late[0])
    expect(epicerie).to_have_class("card project-card age-red")
    expect(epicerie.locator(".badge")).to_have_text(late[1])
    assert_accessible(page, f"board ({lang})")

    # Filters: the carrier found, then a search without accents.
    page.select_option("#f-carrier", "found")
    page.click("form[role=search] button[type=submit]")
    expect(page.locator("article.project-card")).to_have_count(1)
    expect(page.locator("article.project-card")).to_contain_text("Navette solidaire")
    page.goto(f"{site.server.url}/backlog/?q=epicerie")
    expect(page.locator("article.project-card")).to_have_count(1)
    expect(page.locator("article.project-card")).to_contain_text("Épicerie mobile")

    # Moving a card with the keyboard only: its stage, then its Move button.
    # Its gate is not ticked: the project's page asks why, the reason field ready.
    page.goto(f"{site.server.url}/backlog/")
    card = column(page, "d2").locator("article", has_text="Navette solidaire")
    card.locator("select").focus()
    page.keyboard.press("ArrowDown")  # D2 -> D3
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".flash-error")).to_be_visible()
    expect(page.locator("#reason")).to_be_focused()
    expect(page.locator("#stage")).to_have_value("d3")
    page.keyboard.type("Le porteur signe lundi")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("D3")
    expect(page.locator(".history")).to_contain_text("Le porteur signe lundi")
    page.goto(f"{site.server.url}/backlog/")
    expect(column(page, "d3").locator("article")).to_have_count(1)
    expect(column(page, "d3")).to_contain_text("Navette solidaire")
    expect(column(page, "d2").locator("article")).to_have_count(1)
    # A new stage starts a new count: no longer late.
    expect(column(page, "d3").locator("article")).to_have_class("card project-card age-ok")
    with site.app.app_context():
        assert db.session.get(Project, projects[0]).stage == ProjectStage.d3
        db.session.remove()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_project_page_and_the_evenings_ideas(site, new_page, projects, lang):
    page = new_page(laptop=True)
    speak(page, site, lang)
    sign_in(page, site)
    page.goto(f"{site.server.url}/backlog/projects/{projects[0]}")
    expect(page.locator("h1")).to_have_text("Navette solidaire")
    expect(page.locator("table.team")).to_contain_text("Mon permis")
    page.fill("#a-what", "Appeler la mairie")
    page.fill("#a-due", "2020-01-31")
    page.locator("form", has=page.locator("#a-what")).locator("button").click()
    overdue = page.locator(".actions-list li.overdue")
    expect(overdue).to_contain_text("Appeler la mairie")
    expect(overdue.locator(".badge")).to_have_text({"fr": "En retard", "en": "Overdue"}[lang])
    page.fill("#o-value", "1,5")
    page.locator("form", has=page.locator("#o-value")).locator("button").click()
    expect(page.locator("table.outcomes")).to_contain_text("1,5" if lang == "fr" else "1.5")
    assert_accessible(page, f"project page ({lang})")
    overdue.locator("button").click()  # done
    expect(page.locator(".actions-list li.done")).to_contain_text("Appeler la mairie")

    page.locator("#gate input[type=checkbox]").first.check()
    page.locator("#gate button").click()
    expect(page.locator("#gate input[type=checkbox]").first).to_be_checked()
    # The tick and the action done: 2 of the 6 gate items (D0 to D2) and 1 action.
    expect(page.locator("#gate .progress")).to_contain_text(re.compile(r"\b2\b.*\b7\b"))
    page.fill("#reason", "Un essai <b>samedi</b>")
    page.select_option("#stage", "d3")
    page.locator("form", has=page.locator("#reason")).locator("button").click()
    expect(page.locator(".history")).to_contain_text("Un essai <b>samedi</b>")  # as text
    assert_accessible(page, f"project page after a move ({lang})")

    page.goto(f"{site.server.url}/backlog/events/{site.evening.event_id}/ideas")
    expect(page.locator("h2").first).to_contain_text("Table 1")
    assert_accessible(page, f"ideas of the evening ({lang})")
    page.locator("li", has_text="Épicerie mobile").locator("button").click()
    expect(page.locator("h1")).to_have_text("Épicerie mobile")
    with site.app.app_context():
        promoted = (
            db.session.query(Project)
            .filter(Project.idea_id.isnot(None), Project.event_id == site.evening.event_id)
            .one()
        )
        assert (promoted.stage, promoted.title) == (ProjectStage.d0, "Épicerie mobile")
        db.session.remove()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_territorys_stages_and_gates_page(site, new_page, projects, lang):
    page = new_page(laptop=True)
    speak(page, site, lang)
    sign_in(page, site)
    page.goto(f"{site.server.url}/backlog/")
    page.locator("main a[href*='/rules']").click()
    assert_accessible(page, f"stages and gates ({lang})")

    page.fill("#days-d2", "200")
    page.fill("#gate-d2", "Un local est trouvé\nUn porteur pressenti")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("#gate-d2")).to_have_value("Un local est trouvé\nUn porteur pressenti\n")

    # 200 days expected at D2: the project waiting 100 days is no longer late.
    page.goto(f"{site.server.url}/backlog/")
    navette = column(page, "d2").locator("article", has_text="Navette solidaire")
    expect(navette).to_have_class("card project-card age-ok")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_reviewer_gives_an_opinion_from_a_phone(site, new_page, projects, lang):
    with site.app.app_context():
        project = db.session.get(Project, projects[0])
        organizer = project.territory.organizers[0]
        reviewer, token = reviews.new_reviewer(organizer, project.territory, "Anne")
        reviews.invite(organizer, project, reviewer)
        db.session.remove()
    page = new_page()  # a phone
    speak(page, site, lang)
    page.goto(f"{site.server.url}/review/{token}")
    expect(page.locator("article h2")).to_have_text("Navette solidaire")
    assert_accessible(page, f"reviewer page ({lang})")

    page.locator("input[value=conditional]").check()
    page.fill("textarea[name=comment]", "Si la commune prête un véhicule")
    page.locator("article button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("input[value=conditional]")).to_be_checked()
    assert_accessible(page, f"reviewer page after an opinion ({lang})")

    organizer_page = new_page(laptop=True)
    speak(organizer_page, site, lang)
    sign_in(organizer_page, site)
    organizer_page.goto(f"{site.server.url}/backlog/projects/{projects[0]}")
    expect(organizer_page.locator("#reviews .tally")).to_contain_text("1")
    expect(organizer_page.locator("#reviews")).to_contain_text("Si la commune prête un véhicule")
    assert_accessible(organizer_page, f"project page with its reviews ({lang})")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_indicators_and_the_format_import_pages(site, new_page, projects, lang):
    page = new_page(laptop=True)
    speak(page, site, lang)
    sign_in(page, site)
    page.goto(f"{site.server.url}/backlog/")
    page.locator("main a[href$='/indicators']").click()
    funnel = page.locator("figure[aria-labelledby='chart-funnel']")
    expect(funnel.locator(".bar-track")).to_have_count(4)
    expect(funnel.locator("tbody tr").nth(2)).to_contain_text("2")  # two projects
    assert_accessible(page, f"indicators ({lang})")
    page.select_option("#i-event", str(site.evening.event_id))
    page.locator("form.indicator-scope button").click()
    expect(page.locator("h1")).to_contain_text("Soirée test")
    assert_accessible(page, f"one evening's indicators ({lang})")

    page.goto(f"{site.server.url}/organizer/events/import")
    assert_accessible(page, f"format import ({lang})")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_participant_deletes_their_cards_from_their_phone(site, new_page, lang):
    table = site.evening.tables[0]
    phone, other = new_page(), new_page()
    speak(phone, site, lang)
    join_table(phone, table_url(site, table), "Inès")
    join_table(other, table_url(site, table), "Noé")
    post(phone, "Ma carte à effacer")
    expect(cards(other, "Ma carte à effacer")).to_have_count(1)

    phone.locator(".my-data a").click()
    expect(phone.locator("main li.idea-text")).to_have_text(["Ma carte à effacer"])
    assert_accessible(phone, f"my data ({lang})")
    phone.once("dialog", lambda dialog: dialog.accept())
    phone.locator("button.danger").click()
    expect(phone.locator(".flash-success")).to_be_visible()
    expect(cards(other, "Ma carte à effacer")).to_have_count(0)  # gone from every screen


LAPTOP_1366 = {"width": 1366, "height": 768}


def test_the_board_shows_its_six_columns_at_1366_px(site, new_page, projects):
    """Every stage's column, D5 included, is wholly on a 1366 px screen, and
    the search box is as large as the filters beside it."""
    page = new_page(laptop=True)
    page.set_viewport_size(LAPTOP_1366)
    sign_in(page, site)
    page.goto(f"{site.server.url}/backlog/")
    expect(column(page, "d5")).to_be_visible()
    board = page.locator(".board")
    assert board.evaluate("b => b.scrollWidth <= b.clientWidth"), "the board scrolls sideways"
    for stage in ("d0", "d1", "d2", "d3", "d4", "d5"):
        found = column(page, stage).bounding_box()
        assert found["x"] >= 0 and found["x"] + found["width"] <= 1366, (stage, found)
    search = page.locator("#q").bounding_box()
    beside = page.locator("#f-event").bounding_box()
    assert abs(search["height"] - beside["height"]) <= 1, (search, beside)
    assert search["width"] >= beside["width"] - 1, (search, beside)


def test_the_indicators_bars_are_labelled_and_in_line_with_their_rows(site, new_page, projects):
    """Each bar stands in its row, beside its label and figures, a row worth
    zero too (an empty track); the evening's selector shows its longest
    choice whole."""
    with site.app.app_context():
        event = db.session.get(Event, site.evening.event_id)
        event.title = "Soirée d’ouverture du budget participatif de la communauté de communes"
        db.session.commit()
        db.session.remove()
    page = new_page(laptop=True)
    page.set_viewport_size(LAPTOP_1366)
    sign_in(page, site)
    page.goto(f"{site.server.url}/backlog/indicators")
    charts = page.locator("figure.chart")
    expect(charts.first).to_be_visible()
    zero_rows = 0
    for chart in charts.all():
        for row in chart.locator("tbody tr").all():
            label = row.locator("th, td").first.bounding_box()
            track = row.locator(".bar-track")
            expect(track).to_have_count(1)  # each row draws its bar
            bar = track.bounding_box()
            assert bar["width"] > 0, row.inner_text()
            middle = bar["y"] + bar["height"] / 2
            assert label["y"] <= middle <= label["y"] + label["height"], row.inner_text()
            zero_rows += row.locator("td").first.inner_text().strip() == "0"
    assert zero_rows > 0  # the zero rows were among them
    select = page.locator("#i-event")
    fits = select.evaluate(
        """select => {
            const style = getComputedStyle(select);
            const canvas = document.createElement("canvas").getContext("2d");
            canvas.font = style.font;
            const widest = Math.max(...Array.from(select.options,
                option => canvas.measureText(option.text).width));
            const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
            return [select.clientWidth, widest + padding + 24];
        }"""
    )
    assert fits[0] >= fits[1], fits


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_job_added_from_the_project_page_counts_in_the_funder_report(
    site, new_page, projects, lang
):
    page = new_page(laptop=True)
    speak(page, site, lang)
    sign_in(page, site)
    page.goto(f"{site.server.url}/backlog/projects/{projects[0]}")
    half = {"fr": "0,5", "en": "0.5"}[lang]
    page.fill("#j-fte", half)
    page.select_option("#j-contract", "cdd")  # fixed-term, its length left out
    page.fill("#j-evidence", "Contrat <b>signé</b>")
    page.locator("form", has=page.locator("#j-fte")).locator("button[type=submit]").click()
    # Refused: the form comes back as typed, the error beside its field.
    expect(page.locator("#j-duration_months")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#j-duration_months-error")).to_be_visible()
    expect(page.locator("#j-evidence")).to_have_value("Contrat <b>signé</b>")
    assert_accessible(page, f"job form with an error ({lang})")

    page.fill("#j-duration_months", "6")
    page.locator("main form button[type=submit]").click()
    jobs = page.locator("table.jobs")
    expect(jobs).to_contain_text(half)
    expect(jobs).to_contain_text("Contrat <b>signé</b>")  # as text
    assert_accessible(page, f"project page with a job ({lang})")
    jobs.locator(
        "button", has_text={"fr": "Marquer comme vérifié", "en": "Mark as checked"}[lang]
    ).click()
    expect(page.locator("table.jobs")).to_contain_text("Orga")

    page.goto(f"{site.server.url}/backlog/")
    page.locator("main a[href*='/funders']").first.click()
    eu = page.locator("section[aria-labelledby='funder-eu_leader']")
    expect(eu.locator("h3")).to_contain_text(half)
    expect(eu.locator("table")).to_contain_text("Navette solidaire")
    assert_accessible(page, f"funder report ({lang})")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_theme_of_the_synthesis_becomes_a_project_from_the_evenings_page(
    site, new_page, projects, lang
):
    """The team's theme, gathered from both tables at the desk, made a project
    by the organizer (its ideas come with it), and given to its tables'
    projects as their theme."""
    with site.app.app_context():
        event = db.session.get(Event, site.evening.event_id)
        team = writes.as_organizer_of(event.territory.organizers[0], event)
        ideas = {i.text: i.id for t in event.tables for i in t.ideas}
        label = f"Mobilité {lang}"
        write(team, "theme.create", label=label,
              idea_ids=[ideas["Navette solidaire"], ideas["Épicerie mobile"]])  # fmt: skip
        db.session.remove()
    page = new_page(laptop=True)
    speak(page, site, lang)
    sign_in(page, site)
    page.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}")
    theme = page.locator("[data-themes] li", has_text=label)
    expect(theme).to_contain_text({"fr": "2 idées", "en": "2 ideas"}[lang])
    assert_accessible(page, f"the evening's themes ({lang})")

    theme.locator("form[action$='/promote'] button").click()

    expect(page).to_have_url(re.compile(r"/backlog/projects/\d+$"))
    expect(page.locator("h1")).to_contain_text(label)
    expect(page.locator("main")).to_contain_text("Navette solidaire")
    expect(page.locator("main")).to_contain_text("Épicerie mobile")
    page.go_back()
    page.reload()
    theme = page.locator("[data-themes] li", has_text=label)
    expect(theme.locator("a[href*='/backlog/projects/']")).to_be_visible()  # made once
    theme.locator("form[action$='/link'] button").click()
    expect(page).to_have_url(re.compile(r"/backlog/\?"))
    board = page.locator("main")
    expect(board).to_contain_text("Navette solidaire")
    expect(board).to_contain_text("Épicerie mobile")
    with site.app.app_context():
        tagged = db.session.scalars(select(Project.theme).where(Project.id.in_(projects))).all()
        db.session.remove()
    assert tagged == [label, label]
