"""The organizer's screens at their real size: the QR table tents printed on
A4 with a long table name, the projector on 4:3 and 16:9 screens, and no
axe-core violation on any organizer or sign-in page, in French and English."""

import io
import json
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from workshop.extensions import db
from workshop.models import Event, EventStatus, Organizer, Table
from workshop.services import accounts, backlog, events, formats, writes

from .browser import sign_in
from .helpers import PASSWORD, join
from .test_accessibility import assert_accessible, speak
from .test_backlog import run_table, write

LONG_NAME = "Transition énergétique et rénovation des logements anciens du centre-bourg"
MM = 96 / 25.4  # CSS pixels per millimetre
# A4 less the tents' 8 mm print margins: the printed area, in CSS pixels
PRINTED = {"width": round(194 * MM), "height": round(281 * MM)}


def rename_first_table(site, name: str):
    with site.app.app_context():
        table = db.session.get(Table, site.evening.tables[0].id)
        table.name = name
        db.session.commit()
        db.session.remove()


def boxes(page, face):
    """The face's box and its parts' boxes, and whether the name is cut."""
    return face.evaluate(
        """face => {
            const box = el => { const r = el.getBoundingClientRect();
                return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                        height: r.height}; };
            const name = face.querySelector('.tent-name');
            const number = face.querySelector('.tent-number');
            return {face: box(face), code: box(face.querySelector('.tent-code strong')),
                    name: box(name), qr: box(face.querySelector('.tent-qr svg')),
                    nameCut: name.scrollHeight > name.clientHeight + 1
                             || name.scrollWidth > name.clientWidth + 1,
                    numberSize: parseFloat(getComputedStyle(number).fontSize),
                    numberHeight: box(number).height};
        }"""
    )


def inside(part, face) -> bool:
    return (
        part["top"] >= face["top"] - 0.5
        and part["bottom"] <= face["bottom"] + 0.5
        and part["left"] >= face["left"] - 0.5
        and part["right"] <= face["right"] + 0.5
        and part["height"] > 0
    )


def test_the_table_tents_print_a_long_name_the_code_and_a_large_number_on_a4(site, new_page):
    rename_first_table(site, LONG_NAME)
    table = site.evening.tables[0]
    page = new_page(laptop=True)
    sign_in(page, site)
    page.set_viewport_size(PRINTED)
    page.emulate_media(media="print")
    page.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}/tents")
    tent = page.locator("section.tent").first
    expect(tent.locator(".tent-name").first).to_have_text(LONG_NAME)
    sheet = tent.bounding_box()
    assert abs(sheet["height"] - 281 * MM) < 2, sheet  # one printed page
    fold = sheet["y"] + sheet["height"] / 2  # the fold, in the middle of the A4 page
    faces = tent.locator(".tent-face")
    expect(faces).to_have_count(2)
    for index, half in enumerate(("top", "bottom")):
        found = boxes(page, faces.nth(index))
        face = found["face"]
        if half == "top":
            assert face["bottom"] <= fold + 1, (half, face, fold)
        else:
            assert face["top"] >= fold - 1, (half, face, fold)
        assert inside(found["code"], face), (half, "the join code is cut", found)
        assert inside(found["qr"], face), (half, "the QR code is cut", found)
        assert inside(found["name"], face), (half, "the name crosses the fold", found)
        assert not found["nameCut"], (half, "the name is cut", found)
        # the number, looked for across a hall: at least 15 mm high letters
        assert found["numberSize"] >= 15 * MM, (half, found["numberSize"] / MM)
        assert found["numberHeight"] >= 15 * MM, (half, found["numberHeight"] / MM)

    # the real A4 print: one page per table, its join code on both faces
    pdf = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
    assert len(pdf.pages) == len(site.evening.tables)
    width, height = (float(v) / 72 * 25.4 for v in pdf.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (210, 297)
    text = pdf.pages[0].extract_text()
    assert text.count(table.join_code) >= 2, text


def dashed_lines(tent) -> list[dict]:
    """Where every dashed border of the tent lands on the page, rotations
    included: a probe as wide (or as tall) as the border, laid along it inside
    its element, is moved by the element's transform as the border is."""
    return tent.evaluate(
        """tent => {
            const lines = [];
            for (const el of [tent, ...tent.querySelectorAll('*')]) {
                const style = getComputedStyle(el);
                for (const side of ['top', 'bottom', 'left', 'right']) {
                    if (style[`border-${side}-style`] !== 'dashed') continue;
                    if (parseFloat(style[`border-${side}-width`]) === 0) continue;
                    const probe = document.createElement('div');
                    const across = side === 'top' || side === 'bottom';
                    probe.style.cssText = `position:absolute; ${side}:0; `
                        + (across ? 'left:0; width:100%; height:0' : 'top:0; height:100%; width:0');
                    const position = el.style.position;
                    if (style.position === 'static') el.style.position = 'relative';
                    el.appendChild(probe);
                    const r = probe.getBoundingClientRect();
                    probe.remove();
                    el.style.position = position;
                    lines.push({side, across, top: r.top, bottom: r.bottom,
                                left: r.left, right: r.right, of: el.className});
                }
            }
            return lines;
        }"""
    )


def test_the_table_tents_fold_line_prints_at_the_fold(site, new_page):
    """Printed on A4, the dashed line to fold along runs across the middle of
    the page, between the two faces (the back face is printed upside down:
    its border turns with it)."""
    page = new_page(laptop=True)
    sign_in(page, site)
    page.set_viewport_size(PRINTED)
    page.emulate_media(media="print")
    page.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}/tents")
    tent = page.locator("section.tent").first
    sheet = tent.bounding_box()
    fold = sheet["y"] + sheet["height"] / 2
    lines = dashed_lines(tent)
    assert lines, "no fold line"
    for line in lines:
        assert line["across"], ("only the fold is dashed on paper", line)
        assert abs(line["top"] - fold) <= 2, ("the dashed line is not at the fold", line, fold)
        assert line["right"] - line["left"] >= 0.95 * sheet["width"], line


# --- no axe-core violation on the organizer's and the sign-in pages ------------

ORGANIZER_SCREEN = {"width": 1366, "height": 768}


def organizer_pages(site) -> dict[str, str]:
    """Every organizer page not covered elsewhere (the control room and the
    projector: test_accessibility; the backlog: test_browser_backlog)."""
    event, table = site.evening.event_id, site.evening.tables[0].id
    return {
        "dashboard": "/organizer/",
        "event page": f"/organizer/events/{event}",
        "new event form": "/organizer/events/new",
        "event form": f"/organizer/events/{event}/edit",
        "new table form": f"/organizer/events/{event}/tables/new",
        "table form": f"/organizer/tables/{table}/edit",
        "script editor": f"/organizer/tables/{table}/script",
        "table tents": f"/organizer/events/{event}/tents",
        "facilitator kits": f"/organizer/events/{event}/kits",
        "import a format": "/organizer/events/import",
        "password": "/account/password",
        "page not found": "/organizer/events/999999",
    }


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_organizer_pages_have_no_axe_violation(site, new_page, lang):
    rename_first_table(site, LONG_NAME)
    page = new_page(laptop=True)
    page.set_viewport_size(ORGANIZER_SCREEN)
    speak(page, site, lang)
    sign_in(page, site)
    for where, path in organizer_pages(site).items():
        page.goto(site.server.url + path)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("main h1").first).to_be_visible()
        assert_accessible(page, f"{where} ({lang})")

    # forms sent empty show their errors (the browser's own checks left aside)
    event = site.evening.event_id
    for where, path in (
        ("new event form", "/organizer/events/new"),
        ("new table form", f"/organizer/events/{event}/tables/new"),
    ):
        page.goto(site.server.url + path)
        page.locator("main form").last.evaluate("form => { form.noValidate = true; }")
        page.locator("main form").last.locator("input[type=text]").first.fill("")
        page.locator("main form").last.locator("[type=submit]").last.click()
        expect(page.locator("main .error, main .errors").first).to_be_visible()
        assert_accessible(page, f"{where} with errors ({lang})")

    # the event page once closed (its danger zone offers to remove personal data)
    page.once("dialog", lambda dialog: dialog.accept())
    page.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}")
    page.click("form[action$='/status/closed'] button")
    expect(page.locator(".badge.status-closed")).to_be_visible()
    assert_accessible(page, f"closed event page ({lang})")

    page.click(".topbar form[action$='/logout'] button")
    page.goto(f"{site.server.url}/login")
    expect(page.locator("[name=email]")).to_be_visible()
    assert_accessible(page, f"sign-in ({lang})")
    page.fill("[name=email]", site.email)
    page.fill("[name=password]", "not the password")
    page.click("main form [type=submit]")
    expect(page.locator(".flash-error, .errors, .error").first).to_be_visible()
    assert_accessible(page, f"sign-in refused ({lang})")


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("remote", [False, True], ids=["this computer", "another device"])
def test_the_setup_page_has_no_axe_violation(site, app, new_page, lang, remote):
    """The first-start page exists only while the database has no organizer:
    the app of an empty database renders it, and the browser shows it at the
    running server's address (its styles and scripts come from there)."""
    environ = {"REMOTE_ADDR": "192.168.1.20"} if remote else {}
    with app.test_client() as client:
        client.set_cookie("lang", lang)
        html = client.get("/setup", environ_base=environ).get_data(as_text=True)
    assert ('name="setup_code"' in html) == remote
    page = new_page(laptop=True)
    page.set_viewport_size(ORGANIZER_SCREEN)
    page.route(
        f"{site.server.url}/setup",
        lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"),
    )
    page.goto(f"{site.server.url}/setup")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("[name=email]")).to_be_visible()
    assert_accessible(page, f"setup ({lang}, {'another device' if remote else 'this computer'})")


# --- starting from a format: its preview -------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_format_preview_gives_the_steps_durations_in_minutes(site, new_page, lang):
    """A format stores durations in seconds: 10 minutes is 600, shown as 10 min."""
    with site.app.app_context():
        event = db.session.get(Event, site.evening.event_id)
        plan = formats.export_format(event)
        db.session.remove()
    first = plan["tables"][0]["script"]
    first[0].update(title="Tour de table", duration=600)
    first[1].update(title="Idées", duration=90)  # a minute and a half
    first[2].update(title="Pause", duration=0)  # no timer
    page = new_page(laptop=True)
    page.set_viewport_size(ORGANIZER_SCREEN)
    speak(page, site, lang)
    sign_in(page, site)
    page.goto(f"{site.server.url}/organizer/events/import")
    page.set_input_files(
        "#file",
        {"name": "format.json", "mimeType": "application/json",
         "buffer": json.dumps(plan).encode()},
    )  # fmt: skip
    page.locator("main form [type=submit]").click()
    steps = page.locator("ol.preview li").first
    expect(steps).to_contain_text("Tour de table")
    shown = " ".join(steps.inner_text().split())  # any space, breaking or not
    expected = {
        "fr": ("Tour de table (10 min)", "Idées (1 min 30 s)", "Pause (sans minuteur)"),
        "en": ("Tour de table (10 min)", "Idées (1 min 30 s)", "Pause (no timer)"),
    }[lang]
    for text in expected:
        assert text in shown, shown
    assert "600" not in shown, shown
    assert_accessible(page, f"format preview ({lang})")


# --- the reviewer's one-time link -----------------------------------------------------


def a_project_and_a_colleague(site) -> tuple[int, str]:
    """A project of the evening's territory, from a table's result, and the
    e-mail of another organizer of the same territory."""
    colleague = f"colleague-{site.evening.event_id}@example.org"
    with site.app.app_context():
        event = db.session.get(Event, site.evening.event_id)
        first = min(event.tables, key=lambda t: t.number)
        run_table(first, cards={"Léa": ["Navette solidaire"]}, ballots={}, sheet={},
                  commitments={"Léa": ("carry", "Mon permis")})  # fmt: skip
        organizer = event.territory.organizers[0]
        [project] = backlog.promote_event(organizer, event).created
        accounts.create_organizer("Colleague", colleague, PASSWORD, event.territory)
        db.session.commit()
        project_id = project.id
        db.session.remove()
    return project_id, colleague


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_reviewers_link_is_shown_once_where_the_organizer_looks(site, new_page, lang):
    """Asked from the reviews, far down the project's page: the link comes back
    in sight with its QR code and a copy button (keyboard, announced), once,
    and to the organizer who made it only."""
    project_id, colleague = a_project_and_a_colleague(site)
    page = new_page(laptop=True)
    page.set_viewport_size(ORGANIZER_SCREEN)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.server.url)
    speak(page, site, lang)
    sign_in(page, site)
    project_url = f"{site.server.url}/backlog/projects/{project_id}"
    page.goto(project_url)
    page.fill("#r-name", "Chloé")
    page.locator("form[action$='/reviewers'] [type=submit]").click()

    shown = page.locator("#new-link")
    expect(shown).to_be_in_viewport()
    expect(shown).to_contain_text("Chloé")
    link = shown.locator("input[readonly]")
    url = link.input_value()
    assert re.fullmatch(rf"{re.escape(site.server.url)}/review/[\w-]{{20,}}", url), url
    for part in (link, shown.locator("svg"), shown.locator("button")):
        expect(part).to_be_in_viewport()
    assert shown.locator("svg path").count() >= 1  # the QR code, drawn inline
    # the copy button, from the keyboard: the link in the clipboard, said aloud
    shown.locator("button").focus()
    page.keyboard.press("Enter")
    status = shown.locator("[aria-live=polite]")
    expect(status).to_have_text({"fr": "Lien copié", "en": "Link copied"}[lang])
    assert page.evaluate("navigator.clipboard.readText()") == url
    assert url not in " ".join(page.locator(".flash").all_inner_texts())  # not also at the top
    assert_accessible(page, f"project page with a new reviewer's link ({lang})")

    # the reviewer's link works; it is shown once: not after a reload
    other = new_page()
    other.goto(url)
    expect(other.locator("article h2")).to_have_text("Navette solidaire")
    page.reload()
    expect(page.locator("#reviews")).to_contain_text("Chloé")
    expect(page.locator("#new-link")).to_have_count(0)
    assert url not in page.content()

    # a new link for Chloé, from her line: shown the same way, the old one dead
    page.locator("form[action$='/link'] button").click()
    expect(page.locator("#new-link")).to_be_in_viewport()
    renewed = page.locator("#new-link input[readonly]").input_value()
    assert renewed != url and "/review/" in renewed
    other.goto(url)
    expect(other.locator("article h2")).to_have_count(0)

    # made, then not shown: another organizer signing in on this browser never sees it
    token = page.locator("form[action$='/reviewers'] [name=csrf_token]").input_value()
    made = page.request.post(
        f"{project_url}/reviewers", form={"csrf_token": token, "name": "Driss"}, max_redirects=0
    )
    assert made.status == 302
    page.click(".topbar form[action$='/logout'] button")
    sign_in(page, site, colleague)
    page.goto(project_url)
    expect(page.locator("#reviews")).to_contain_text("Driss")
    expect(page.locator("#new-link")).to_have_count(0)
    assert "/review/" not in page.content()


# --- the evening's page: what fits its phase, compact tables, tables in a row --------


def a_draft_evening(site, title="Soirée en préparation") -> int:
    """An evening in preparation, without tables, of the site's organizer."""
    with site.app.app_context():
        organizer = db.session.get(Organizer, site.evening.organizer_id)
        event = events.create_event(organizer, organizer.territories[0], title, None, "Salle")
        event_id = event.id
        db.session.remove()
    return event_id


EXPORTS = "a[href*='/export/']"


def test_the_evening_page_offers_what_fits_its_phase(site, new_page):
    page = new_page(laptop=True)
    page.set_viewport_size(ORGANIZER_SCREEN)
    sign_in(page, site)

    # in preparation, no table yet: add tables first, nothing to export or close
    page.goto(f"{site.server.url}/organizer/events/{a_draft_evening(site)}")
    add = page.locator("main a.button.primary[href$='/tables/new']")
    expect(add).to_be_in_viewport()
    for absent in (
        EXPORTS, "a[href$='/format']", "a[href$='/tents']", "a[href$='/kits']",
        "a[href$='/live']", "a[href*='/p/']", "form[action$='/promote']",
        "a[href$='/ideas']", ".danger-zone", "form[action*='/status/']",
    ):  # fmt: skip
        expect(page.locator(f"main {absent}")).to_have_count(0)
    assert_accessible(page, "an evening without tables")

    # open, its tables waiting for people: run it, close it; nothing to export yet
    page.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}")
    for present in ("a[href$='/live']", "a[href*='/p/']", "a[href$='/tents']",
                    "a[href$='/kits']", ".danger-zone form[action$='/status/closed']"):  # fmt: skip
        expect(page.locator(f"main {present}")).to_have_count(1)
    for absent in (EXPORTS, "form[action$='/promote']", "form[action$='/purge']"):
        expect(page.locator(f"main {absent}")).to_have_count(0)
    # each table card: its main action in sight, the others in a small menu
    card = page.locator("article.table-card").first
    visible = card.locator("a, button, summary").filter(visible=True)
    expect(visible).to_have_count(4)  # copy the link, edit, script, the menu
    rotate = card.locator("form[action$='/rotate'] button")
    remove = card.locator("form[action$='/delete'] button")
    expect(rotate).to_be_hidden()
    expect(remove).to_be_hidden()
    card.locator("summary").focus()
    page.keyboard.press("Enter")  # the menu opens from the keyboard
    expect(rotate).to_be_visible()
    expect(remove).to_be_visible()
    page.keyboard.press("Tab")
    expect(rotate).to_be_focused()
    assert card.bounding_box()["height"] <= 320, card.bounding_box()  # five buttons: 500
    assert_accessible(page, "an open evening, its table's menu open")

    # ideas came: the exports and the backlog; once closed, the personal data
    with site.app.app_context():
        participant, _token = join(db.session.get(Table, site.evening.tables[0].id), "Léa")
        write(writes.as_participant(participant), "idea.post", text="Navette")
        db.session.remove()
    page.reload()
    expect(page.locator(f"main {EXPORTS}")).to_have_count(6)
    expect(page.locator("main form[action$='/promote'] button")).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form[action$='/status/closed'] button")
    expect(page.locator(".badge.status-closed")).to_be_visible()
    expect(page.locator(".danger-zone form[action$='/purge'] button.danger")).to_have_count(1)
    expect(page.locator("main form[action$='/status/closed']")).to_have_count(0)
    assert_accessible(page, "a closed evening with its results")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_tables_are_added_in_a_row(site, new_page, lang):
    """Save and add another: the next table's form, the same challenge, kind and
    seats, its number said, the name ready to type; a brief field to write in."""
    event_id = a_draft_evening(site)
    page = new_page(laptop=True)
    page.set_viewport_size(ORGANIZER_SCREEN)
    speak(page, site, lang)
    sign_in(page, site)
    page.goto(f"{site.server.url}/organizer/events/{event_id}")
    page.locator("main a.button.primary[href$='/tables/new']").click()
    brief = page.locator("#brief")
    line = brief.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
    assert brief.bounding_box()["height"] >= 8 * line, (brief.bounding_box(), line)
    page.select_option("#challenge", "prototyping")
    page.select_option("#workshop_kind", "booster")
    page.fill("#capacity", "8")
    for number, name in enumerate(("Mobilités", "Alimentation", "Énergie"), 1):
        expect(page.locator("main h1")).to_contain_text(str(number))
        page.fill("#name", name)
        page.fill("#brief_title", f"Question {number}")
        page.fill("#brief", "Contexte\net question.")
        if number < 3:
            page.locator("main form [type=submit][name=another]").click()
            expect(page.locator(".flash-success")).to_contain_text(name)
            expect(page.locator("#name")).to_be_focused()
            expect(page.locator("#name")).to_have_value("")
            expect(page.locator("#challenge")).to_have_value("prototyping")
            expect(page.locator("#workshop_kind")).to_have_value("booster")
            expect(page.locator("#capacity")).to_have_value("8")
            assert_accessible(page, f"the next table's form ({lang})")
        else:
            page.locator("main form [type=submit]:not([name=another])").click()
    expect(page.locator("article.table-card h3")).to_have_text(
        ["1. Mobilités", "2. Alimentation", "3. Énergie"]
    )
    with site.app.app_context():
        tables = db.session.get(Event, event_id).tables
        assert {(t.challenge.value, t.workshop_kind.value, t.capacity) for t in tables} == {
            ("prototyping", "booster", 8)
        }
        db.session.remove()


def test_an_evening_is_archived_then_purged_from_its_page(site, new_page):
    """Issue 19: the purge waits for the archive package; the archives'
    decision typed stays when it is refused; afterwards the page says who
    purged under what decision, and nobody's name."""
    with site.app.app_context():
        organizer = db.session.get(Organizer, site.evening.organizer_id)
        event = events.create_event(organizer, organizer.territories[0], "Soirée à archiver",
                                    None, "Salle")  # fmt: skip
        table = events.add_table(organizer, event, name="Mobilités", challenge="creative")
        events.update_event(organizer, event, status=EventStatus.live)
        participant, _token = join(table, "Léa Durand")
        write(writes.as_participant(participant), "idea.post", text="Navette")
        events.update_event(organizer, event, status=EventStatus.closed)
        event_id = event.id
        db.session.remove()
    page = new_page(laptop=True)
    page.set_viewport_size(ORGANIZER_SCREEN)
    sign_in(page, site)
    page.goto(f"{site.server.url}/organizer/events/{event_id}")
    expect(page.locator("[data-archived='no']")).to_be_visible()
    page.check("input[name='approval'][value='not_needed']")
    page.fill("#decided_by", "Claire Roux, directrice générale des services")
    purge = page.locator(".danger-zone form[action$='/purge'] button.danger")
    page.once("dialog", lambda dialog: dialog.accept())
    purge.click()
    expect(page.locator(".flash-error")).to_contain_text("paquet d’archives")
    expect(page.locator("#decided_by")).to_have_value(
        "Claire Roux, directrice générale des services"
    )
    assert_accessible(page, "a purge refused for want of the archive package")

    with page.expect_download() as download:
        page.click("main a[href$='/archive']")
    assert download.value.suggested_filename == f"archive-soiree-{event_id}.zip"
    page.once("dialog", lambda dialog: dialog.accept())
    purge.click()
    expect(page.locator(".flash-success")).to_contain_text("anonymes")
    expect(page.locator("[data-purge]")).to_contain_text("Claire Roux")
    expect(page.locator("main")).not_to_contain_text("Léa Durand")
    expect(page.locator("main form[action$='/purge']")).to_have_count(0)
    assert_accessible(page, "a purged evening")
