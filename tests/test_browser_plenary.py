"""The projector's plenary at its real sizes (issue 16, items 15 and 17): a
table's result fits a 16:9 (1920 x 1080) and a 4:3 (1024 x 768) screen
whatever the length of its sheet. The type shrinks to fit but stays readable
from the back of a hall, long fields fold with an ellipsis, and the
join-code chip in the corner covers nothing."""

import pytest
from playwright.sync_api import expect

from workshop.extensions import db
from workshop.models import Organizer, Table
from workshop.services import events

from .helpers import console, of_type, organizer_screen, phone, script, signed_in
from .test_accessibility import assert_accessible

SCREENS = [{"width": 1920, "height": 1080}, {"width": 1024, "height": 768}]
MIN_TEXT = 0.022  # the smallest text, as a share of the screen's height
SENTENCE = (
    "Une navette solidaire relierait les hameaux au bourg le samedi matin, "
    "conduite par des bénévoles et financée par les communes du canton. "
)


def long_text(length: int) -> str:
    return (SENTENCE * (length // len(SENTENCE) + 1))[:length].strip()


def prepare(site, table, *, long: bool):
    """A table's result as the plenary shows it: the table renamed, cards
    voted (the vote closed), a reporter, and its sheet written; every text as
    long as the app takes (``long``) or a few words."""
    with site.app.app_context():
        organizer = db.session.get(Organizer, site.evening.organizer_id)
        events.update_table(
            organizer,
            db.session.get(Table, table.id),
            name=long_text(200) if long else "Mobilité",
            brief_title=long_text(200) if long else "Se déplacer sans voiture",
        )
        db.session.remove()
    alice, _phone = phone(site.app, table, "Alice " + "Dupont-Martin " * 3 if long else "Alice")
    bruno, _other = phone(site.app, table, "Bruno")
    screen = console(site.app, table)
    steps = {step["kind"]: step["id"] for step in script(screen.sync(0)["changes"])}

    def write(op, data=None):
        answer = screen.write(op, data)
        assert answer["ok"], answer
        return answer

    write("step.go", {"step_id": steps["diverge"]})
    cards = []
    for n in range(5 if long else 1):
        text = long_text(496) if long else "Une navette le samedi"
        posted = write(
            "idea.post",
            {"participant_id": (alice, bruno)[n % 2], "kind": "idea", "text": text},
        )
        cards.append(of_type(posted["changes"], "idea")[0]["id"])
    write("step.go", {"step_id": steps["vote"]})
    write("vote.open")
    # 2 votes on the first card, 1 on each other one (3 votes each at most)
    voters = [alice, alice, alice, bruno, bruno, bruno]
    for voter, card in zip(voters, [cards[0], *cards], strict=False):
        write("vote.cast", {"participant_id": voter, "idea_id": card})
    write("vote.close")
    write("table.reporter", {"participant_id": alice})
    write("step.go", {"step_id": steps["sheet"]})
    keys = of_type(screen.sync(0)["changes"], "table")[-1]["sheet"]
    for key in keys if long else keys[:1]:
        text = long_text(2000).replace(". ", ".\n", 3) if long else "Une navette solidaire"
        write("sheet.edit", {"key": key, "text": text, "base_version": 0})


def show(site, table):
    organizer = organizer_screen(site.app, site.evening, signed_in(site.app, site.email))
    answer = organizer.write("plenary.show", {"mode": "table", "table_id": table.id})
    assert answer["ok"], answer


def measure(page) -> dict:
    """The plenary's parts, the corner chip, and the text sizes on screen."""
    return page.evaluate(
        """() => {
            const box = el => { const r = el.getBoundingClientRect();
                return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                        width: r.width, height: r.height}; };
            const parts = [];
            const add = (name, el) => parts.push({name, box: box(el),
                clamp: getComputedStyle(el).webkitLineClamp,
                cut: el.scrollHeight > el.clientHeight + 1});
            add("title", document.querySelector("[data-plenary-name]"));
            add("brief", document.querySelector("[data-plenary-brief]"));
            document.querySelectorAll("[data-plenary-sheet] dt").forEach(
                (el, i) => add(`label ${i + 1}`, el));
            document.querySelectorAll("[data-plenary-sheet] dd").forEach(
                (el, i) => add(`field ${i + 1}`, el));
            document.querySelectorAll("[data-plenary-top] li").forEach(
                (el, i) => add(`choice ${i + 1}`, el));
            document.querySelectorAll("[data-plenary-top] .plenary-card").forEach(
                (el, i) => add(`choice ${i + 1} text`, el));
            add("reporter", document.querySelector("[data-plenary-reporter]"));
            add("commitments", document.querySelector("[data-plenary-commitments]"));
            let smallest = Infinity;
            const plenary = document.querySelector("[data-plenary]");
            const walker = document.createTreeWalker(plenary, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
                const owner = walker.currentNode.parentElement;
                if (!walker.currentNode.textContent.trim() || !owner.offsetParent) continue;
                smallest = Math.min(smallest, parseFloat(getComputedStyle(owner).fontSize));
            }
            return {parts, chip: box(document.querySelector("[data-corner]")),
                    width: innerWidth, height: innerHeight, smallest,
                    scrollHeight: document.documentElement.scrollHeight,
                    title: parseFloat(getComputedStyle(
                        document.querySelector("[data-plenary-name]")).fontSize)};
        }"""
    )


def overlaps(a, b) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and (b["top"] < a["bottom"])
    )


def check_fits(found, size, case):
    width, height = found["width"], found["height"]
    assert (width, height) == (size["width"], size["height"])
    assert found["scrollHeight"] <= height, (size, case, "the page scrolls", found["scrollHeight"])
    names = [part["name"] for part in found["parts"]]
    assert {"title", "field 1", "choice 1", "reporter"} <= set(names), names
    chip = found["chip"]
    assert chip["height"] > 0 and chip["bottom"] <= height and chip["right"] <= width, chip
    for part in found["parts"]:
        b = part["box"]
        where = (size, case, part["name"], b)
        assert b["height"] > 0, where
        assert b["top"] >= 0 and b["left"] >= 0, where
        assert b["bottom"] <= height + 0.5 and b["right"] <= width + 0.5, where
        assert not overlaps(b, chip), (*where, "under the join-code chip", chip)
    assert found["smallest"] >= MIN_TEXT * height - 0.5, (size, case, found["smallest"])


def open_projector(site, new_page, size, name):
    projector = new_page(laptop=True)
    projector.set_viewport_size(size)
    projector.goto(f"{site.server.url}/p/{site.evening.join_code}")
    expect(projector.locator("[data-plenary-name]")).to_have_text(name)
    expect(projector.locator("[data-plenary]")).to_have_attribute("data-fitted", "true")
    return projector


@pytest.mark.parametrize("size", SCREENS, ids=["16:9", "4:3"])
def test_a_long_result_fits_the_projector_folded_and_readable(site, new_page, size):
    """Every field as long as the app allows: the whole result stays on the
    screen, the longest fields fold with an ellipsis, nothing hides under
    the join-code chip, and no text gets too small to read."""
    table = site.evening.tables[0]
    prepare(site, table, long=True)
    show(site, table)
    projector = open_projector(site, new_page, size, long_text(200))
    expect(projector.locator("[data-plenary-top] li")).to_have_count(5)

    found = measure(projector)

    check_fits(found, size, "long")
    parts = {part["name"]: part for part in found["parts"]}
    for name in ("field 1", "choice 1 text"):
        # folded: cut after a few lines, with the line clamp's ellipsis
        assert parts[name]["cut"] and parts[name]["clamp"] not in ("", "none"), parts[name]
    # the votes of each choice stay in sight beside its folded text
    expect(projector.locator("[data-plenary-top] .plenary-votes").first).to_be_in_viewport(ratio=1)
    assert_accessible(projector, f"projector, a long result ({size['width']} px)")

    # The same screen resized (a projector plugged in late) fits again.
    other = SCREENS[1] if size == SCREENS[0] else SCREENS[0]
    projector.set_viewport_size(other)
    expect(projector.locator("[data-plenary]")).to_have_attribute(
        "data-fitted-for", f"{other['width']}x{other['height']}"
    )
    check_fits(measure(projector), other, "long, resized")


@pytest.mark.parametrize("size", SCREENS, ids=["16:9", "4:3"])
def test_a_short_result_fills_the_projector_in_large_type(site, new_page, size):
    table = site.evening.tables[1]
    prepare(site, table, long=False)
    show(site, table)
    projector = open_projector(site, new_page, size, "Mobilité")

    found = measure(projector)

    check_fits(found, size, "short")
    parts = {part["name"]: part for part in found["parts"]}
    assert [part["name"] for part in found["parts"] if part["cut"]] == [], found["parts"]
    assert "field 2" not in parts
    # grown to fill the screen: the title reads from the back of the hall
    assert found["title"] >= 0.08 * found["height"], found["title"]
