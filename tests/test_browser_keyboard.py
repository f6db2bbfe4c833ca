"""The organizer's manual accessibility checks that axe cannot make (issue
19, item 1), in a real browser: the plenary driven from the control room
and a project followed in the backlog with the keyboard only — at every
stop of the focus, a visible focus indicator and a name in Chromium's
accessibility tree — and the organizer's pages reflowed at 320 CSS px and
at 200 % zoom, with no horizontal scrolling and nothing cut off."""

import re

import pytest
from playwright.sync_api import expect

from workshop.extensions import db
from workshop.models import Project, ProjectStage, ProjectStatus, StepKind

from .browser import PHONE, join_table, open_console, table_url
from .helpers import PASSWORD
from .test_browser_backlog import column, projects  # noqa: F401 (a fixture)

# --- the focus: where it is, whether it shows, what it is called ---------------------

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    html: el.outerHTML.slice(0, 160),
    ring: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2)
          || style.boxShadow !== "none",
    size: box.width > 0 && box.height > 0,
    inView: box.bottom > 0 && box.top < innerHeight && box.right > 0 && box.left < innerWidth,
  };
}"""


def accessible_name(page) -> tuple[str, str]:
    """The role and name Chromium's accessibility tree gives the focused
    element (what a screen reader announces)."""
    cdp = page.context.new_cdp_session(page)
    try:
        focused = cdp.send("Runtime.evaluate", {"expression": "document.activeElement"})
        nodes = cdp.send(
            "Accessibility.getPartialAXTree",
            {"objectId": focused["result"]["objectId"], "fetchRelatives": False},
        )["nodes"]
    finally:
        cdp.detach()
    node = next(n for n in nodes if not n.get("ignored"))
    return (node.get("role") or {}).get("value", ""), (node.get("name") or {}).get("value", "")


def check_focus(page, where: str) -> dict:
    """The focused element shows it (WCAG 2.4.7), is on the screen, and has a
    role and a name in the accessibility tree (WCAG 4.1.2)."""
    found = page.evaluate(FOCUSED)
    assert found is not None, f"{where}: the focus is lost (on the page's body)"
    assert found["ring"], f"{where}: no visible focus indicator on {found['html']}"
    assert found["size"] and found["inView"], f"{where}: focused but not in sight {found['html']}"
    role, name = accessible_name(page)
    assert name.strip(), f"{where}: {role} without a name in the accessibility tree {found['html']}"
    return {**found, "role": role, "name": name}


def tab_to(page, locator, back=False, limit=200):
    """Press Tab (Shift+Tab with ``back``) until ``locator`` has the focus,
    checking every stop on the way; fail on a trap or an unreachable control."""
    key = "Shift+Tab" if back else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if locator.evaluate("el => el === document.activeElement"):
            return check_focus(page, f"{locator}")
        check_focus(page, f"on the way to {locator}")
    raise AssertionError(f"never reached with {key}: {locator}")


def press(page, key: str, where: str):
    """Press ``key`` on the focused control; the focus stays on a named,
    visible control (not dropped on the page's body)."""
    page.keyboard.press(key)
    return check_focus(page, f"after {key}: {where}")


def sign_in_by_keyboard(page, site):
    page.goto(f"{site.server.url}/login")
    tab_to(page, page.locator("[name=email]"))
    page.keyboard.type(site.email)
    tab_to(page, page.locator("[name=password]"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).not_to_have_url(re.compile(r"/login"))


def replace_text(page, text: str):
    """Select what the focused field holds and type over it."""
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(text)


# --- (1) the plenary, from the control room ------------------------------------------


def test_an_organizer_runs_the_plenary_with_the_keyboard_only(site, new_page):
    """From the control room's link to its plenary tools: a table chosen
    with the arrows and shown, the next and previous ones, every table in
    turn at a chosen pace, the word cloud, back to the join screen; the
    projector follows and the room says what it shows."""
    phone = new_page()
    join_table(phone, table_url(site, site.evening.tables[0]), "Alice")
    projector = new_page(laptop=True)
    projector.goto(f"{site.server.url}/p/{site.evening.join_code}")
    expect(projector.locator("[data-join]")).to_be_visible()

    room = new_page(laptop=True)
    sign_in_by_keyboard(room, site)
    room.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}/live")
    expect(room.locator("[data-connection]")).to_have_attribute("data-state", "connected")
    tools = room.locator("[data-plenary-tools]")
    expect(tools.locator("[data-plenary=table]")).to_be_enabled()
    state = tools.locator("[data-plenary-state]")
    name = projector.locator("[data-plenary-name]")

    # The link at the top of the room leads to the plenary's tools.
    tab_to(room, room.locator(".room-back a[href='#plenary-title']"))
    press(room, "Enter", "the link to the plenary")
    expect(room.locator("#plenary-title")).to_be_focused()

    tab_to(room, tools.locator("#plenary-table"))
    room.keyboard.press("ArrowDown")  # Table 2
    expect(tools.locator("#plenary-table")).to_have_value(str(site.evening.tables[1].id))
    tab_to(room, tools.locator("[data-plenary=table]"))
    press(room, "Enter", "Show this table")
    expect(name).to_have_text("Table 2")
    expect(state).to_contain_text("2")
    expect(tools.locator("[data-plenary=table]")).to_be_focused()

    tab_to(room, tools.locator("[data-plenary=next]"))
    press(room, "Space", "Next table")
    expect(name).to_have_text("Table 1")  # after the last, the first
    tab_to(room, tools.locator("[data-plenary=previous]"), back=True)
    press(room, "Enter", "Previous table")
    expect(name).to_have_text("Table 2")

    # Every table in turn, 91 s each (the arrows set the pace).
    tab_to(room, tools.locator("#plenary-auto"))
    room.keyboard.press("ArrowUp")
    expect(tools.locator("#plenary-auto")).to_have_value("91")
    tab_to(room, tools.locator("[data-plenary=turns]"))
    press(room, "Enter", "Show every table in turn")
    expect(state).to_contain_text("91")
    expect(projector.locator("[data-plenary]")).to_be_visible()

    tab_to(room, tools.locator("[data-plenary=cloud]"))
    press(room, "Space", "Word cloud")
    expect(projector.locator("[data-cloud]")).to_be_visible()
    expect(projector.locator("[data-plenary]")).to_be_hidden()

    tab_to(room, tools.locator("[data-plenary=off]"))
    press(room, "Enter", "Back to the join screen")
    expect(projector.locator("[data-join]")).to_be_visible()
    expect(projector.locator("[data-cloud]")).to_be_hidden()
    expect(state).not_to_have_text("")

    # And back up to the tables, with Shift+Tab: no trap on the way.
    tab_to(room, room.locator("[data-select-all]"), back=True)


def test_an_organizer_steers_the_tables_from_the_control_room_with_the_keyboard_only(
    site, new_page
):
    """The control room's own tools: the tables filtered and sorted, the
    late ones only then all, every table shown selected, moved to a step
    (the confirmation accepted with the keyboard) and sent a message."""
    table, other = site.evening.tables
    phone = new_page()
    join_table(phone, table_url(site, table), "Alice")
    console = new_page(laptop=True)
    open_console(console, site, table)
    room = new_page(laptop=True)
    sign_in_by_keyboard(room, site)
    room.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}/live")
    expect(room.locator("[data-connection]")).to_have_attribute("data-state", "connected")
    tools = room.locator("[data-room-tools]")
    rows = room.locator("tr[data-table]")
    expect(tools.locator("[data-push-step]")).to_be_enabled()

    # The filter's radio buttons with the arrows: no table is late, then all again.
    tab_to(room, tools.locator("input[name=filter][value=all]"))
    room.keyboard.press("ArrowDown")
    expect(tools.locator("input[name=filter][value=late]")).to_be_checked()
    expect(rows.first).to_be_hidden()
    press(room, "ArrowUp", "the filter")
    expect(tools.locator("input[name=filter][value=all]")).to_be_checked()
    expect(rows.first).to_be_visible()
    tab_to(room, tools.locator("#room-sort"))
    room.keyboard.press("ArrowDown")
    expect(tools.locator("#room-sort")).to_have_value("left")

    # Every table shown, selected with Space from the table's head.
    select_all = room.locator("[data-select-all]")
    tab_to(room, select_all)
    press(room, "Space", "select every table shown")
    for row in rows.all():
        expect(row.locator("[data-select]")).to_be_checked()

    # Moved to the ideas' step, after saying yes to the confirmation.
    step = tools.locator("#room-step")
    tab_to(room, step, back=True)
    for _ in range(len(StepKind)):
        if step.input_value() == "diverge":
            break
        room.keyboard.press("ArrowDown")
    expect(step).to_have_value("diverge")
    asked = []
    room.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    tab_to(room, tools.locator("[data-push-step]"))
    press(room, "Enter", "Move them")
    expect(phone.locator("[data-live]")).to_have_attribute("data-screen", "diverge")
    assert len(asked) == 1 and "2" in asked[0]  # two tables, said before they move
    expect(tools.locator("[data-room-result]")).not_to_have_text("")
    for row in rows.all():
        expect(row.locator("[data-step]")).not_to_have_text(re.compile("Pas commencé"))

    # A message to the selected consoles.
    tab_to(room, tools.locator("#room-message"))
    room.keyboard.type("On passe au vote dans 5 minutes")
    tab_to(room, tools.locator("[data-send-message]"))
    press(room, "Enter", "Send")
    expect(console.locator("[data-console-message]")).to_contain_text(
        "On passe au vote dans 5 minutes"
    )
    expect(tools.locator("#room-message")).to_have_value("")


def test_the_focus_stays_on_a_tables_box_while_the_control_room_redraws(site, new_page):
    """WCAG 2.4.3: a keyboard user who reached table 1's box keeps it."""
    table = site.evening.tables[0]
    room = new_page(laptop=True)
    sign_in_by_keyboard(room, site)
    room.goto(f"{site.server.url}/organizer/events/{site.evening.event_id}/live")
    expect(room.locator("[data-connection]")).to_have_attribute("data-state", "connected")
    box = room.locator(f'tr[data-table="{table.id}"] [data-select]')
    tab_to(room, box)
    press(room, "Space", "table 1's box")
    expect(box).to_be_checked()
    room.wait_for_timeout(1500)  # the room redraws its rows every second
    assert box.evaluate("el => el === document.activeElement")


# --- (2) a project in the backlog ----------------------------------------------------


def test_an_organizer_follows_a_project_with_the_keyboard_only(site, new_page, projects):  # noqa: F811
    """From the board to a project: its gate ticked, an action with its due
    date, its fields edited and saved, its stage changed with a reason, a
    job line added and checked."""
    page = new_page(laptop=True)
    keys = page.keyboard
    sign_in_by_keyboard(page, site)
    page.goto(f"{site.server.url}/backlog/")
    link = column(page, "d2").get_by_role("link", name="Navette solidaire")
    tab_to(page, link)
    keys.press("Enter")
    expect(page.locator("h1")).to_have_text("Navette solidaire")

    # The gate: a box ticked with Space, then saved.
    gate = page.locator("#gate")
    tab_to(page, gate.locator("input[type=checkbox]").first)
    keys.press("Space")
    expect(gate.locator("input[type=checkbox]").first).to_be_checked()
    tab_to(page, gate.get_by_role("button"))
    keys.press("Enter")
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("#gate input[type=checkbox]").first).to_be_checked()

    # A follow-up action, its due date typed in the date field.
    tab_to(page, page.locator("#a-what"))
    keys.type("Appeler la mairie")
    tab_to(page, page.locator("#a-due"))
    keys.type("01012020")  # the 1st of January: the same whether day or month comes first
    expect(page.locator("#a-due")).to_have_value("2020-01-01")
    form = page.locator("form", has=page.locator("#a-what"))
    tab_to(page, form.get_by_role("button"))
    keys.press("Enter")
    expect(page.locator(".actions-list li.overdue")).to_contain_text("Appeler la mairie")

    # Its fields, edited and saved.
    tab_to(page, page.locator("#title"))
    replace_text(page, "Navette solidaire du samedi")
    tab_to(page, page.locator("#summary"))
    replace_text(page, "Des bénévoles conduisent le minibus de la commune.")
    tab_to(page, page.locator("#theme"))
    replace_text(page, "Mobilité")
    tab_to(page, page.locator("#owner"))
    replace_text(page, "Léa")
    tab_to(page, page.locator("#status"))
    keys.press("ArrowDown")  # active -> paused
    expect(page.locator("#status")).to_have_value("paused")
    tab_to(page, page.locator("#carrier_status"))
    edit = page.locator("form", has=page.locator("#title"))
    tab_to(page, edit.get_by_role("button"))
    keys.press("Enter")
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Navette solidaire du samedi")

    # Its stage: D2 -> D3 with the arrows, the reason typed, moved.
    tab_to(page, page.locator("#stage"))
    keys.press("ArrowDown")
    expect(page.locator("#stage")).to_have_value("d3")
    tab_to(page, page.locator("#reason"))
    keys.type("Le porteur signe lundi")
    tab_to(page, page.locator("#move").get_by_role("button"))
    keys.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("D3")
    expect(page.locator(".history")).to_contain_text("Le porteur signe lundi")

    # A job line, as funders count them: typed, added, then marked as checked.
    tab_to(page, page.locator("#j-fte"))
    keys.type("0,5")
    tab_to(page, page.locator("#j-start_date"))
    keys.type("01012020")
    expect(page.locator("#j-start_date")).to_have_value("2020-01-01")
    tab_to(page, page.locator("#j-evidence"))
    keys.type("Contrat signé")
    tab_to(page, page.locator("form[action$='/jobs']").get_by_role("button"))
    keys.press("Enter")
    jobs = page.locator("table.jobs tbody tr")
    expect(jobs).to_have_count(1)
    # Back at #outcomes: once loaded, the next Tab starts from that section
    # (pressed before, it may start from the top and the page move under it).
    page.wait_for_load_state("load")
    tab_to(page, jobs.first.get_by_role("button", name=re.compile("Marquer comme vérifié")))
    keys.press("Enter")
    expect(page.locator("table.jobs tbody tr").first).to_contain_text("Vérifié par")

    with site.app.app_context():
        project = db.session.get(Project, projects[0])
        assert (project.title, project.theme, project.owner) == (
            "Navette solidaire du samedi",
            "Mobilité",
            "Léa",
        )
        assert project.summary == "Des bénévoles conduisent le minibus de la commune."
        assert (project.stage, project.status) == (ProjectStage.d3, ProjectStatus.paused)
        assert [action.what for action in project.actions] == ["Appeler la mairie"]
        [job] = project.jobs
        assert (job.fte, job.start_date.isoformat(), job.evidence) == (0.5, "2020-01-01",
                                                                       "Contrat signé")  # fmt: skip
        assert job.checked_by
        db.session.remove()


# --- (3) reflow: 320 CSS px, and 200 % zoom -----------------------------------------

# Where the page is wider than the screen: no side scroll of the document,
# no element past its edges, no box scrolling sideways on its own — except
# a data table in a scrolling region of its own (WCAG 1.4.10 allows it).
REFLOW = """() => {
  const page = document.scrollingElement;
  const width = page.clientWidth;
  const allowed = el => el.closest(".room-scroll, .table-scroll");
  const shown = el => el.offsetParent !== null || getComputedStyle(el).position === "fixed";
  const out = [], boxes = [], cut = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (!shown(el) || allowed(el) || el.closest(".visually-hidden, .skip")) continue;
    const box = el.getBoundingClientRect();
    if (box.width && (box.right > width + 1 || box.left < -1)) out.push(el.outerHTML.slice(0, 100));
    const style = getComputedStyle(el);
    if (["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1)
      boxes.push(el.outerHTML.slice(0, 100));
    if (style.overflowX === "hidden" && el.scrollWidth > el.clientWidth + 1
        && !["ellipsis"].includes(style.textOverflow) && el.tagName !== "SELECT")
      cut.push(el.outerHTML.slice(0, 100));
  }
  return {scroll: page.scrollWidth, width, out: out.slice(0, 8), boxes, cut: cut.slice(0, 8)};
}"""

SCREENS = {
    "320 px": {"viewport": {"width": 320, "height": 640}},
    "200 %": {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2},
}


def assert_reflows(page, where: str):
    found = page.evaluate(REFLOW)
    assert found["scroll"] <= found["width"], (where, "side scroll", found)
    assert found["out"] == [], (where, "past the screen's edge", found["out"])
    assert found["boxes"] == [], (where, "scrolls sideways on its own", found["boxes"])
    assert found["cut"] == [], (where, "cut off", found["cut"])


@pytest.mark.parametrize("screen", SCREENS, ids=list(SCREENS))
def test_the_organizers_pages_reflow_at_320_px_and_at_200_percent(
    site,
    browser,
    projects,  # noqa: F811
    screen,
):
    """1280 px at 200 % is 640 CSS px (zoomed the way a browser zooms: the
    device pixels double); 320 px is WCAG 1.4.10's width."""
    context = browser.new_context(**SCREENS[screen], locale=PHONE["locale"])
    try:
        page = context.new_page()
        sign_in_by_keyboard(page, site)
        event = site.evening.event_id
        with site.app.app_context():
            territory = db.session.get(Project, projects[0]).territory_id
            db.session.remove()
        for path in (
            "/organizer/",
            f"/organizer/events/{event}",
            f"/organizer/events/{event}/live",
            "/backlog/",
            f"/backlog/projects/{projects[0]}",
            "/backlog/indicators",
            f"/backlog/territories/{territory}/rules",
            f"/backlog/territories/{territory}/funders",
            f"/organizer/territories/{territory}/settings",
            f"/organizer/territories/{territory}/record",
        ):
            page.goto(site.server.url + path)
            if path.endswith("/live"):
                expect(page.locator("[data-connection]")).to_have_attribute(
                    "data-state", "connected"
                )
            assert_reflows(page, f"{path} at {screen}")
        # The board's six stages, one under the other when narrow.
        page.goto(f"{site.server.url}/backlog/")
        d0, d1 = (column(page, stage).bounding_box() for stage in ("d0", "d1"))
        assert d1["y"] >= d0["y"] + d0["height"] or d1["x"] >= d0["x"] + d0["width"]
    finally:
        context.close()
