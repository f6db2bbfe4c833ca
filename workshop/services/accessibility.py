"""What the accessibility statement (RGAA model) says of the service itself:
how it was checked, with what, on which pages, and what is known not to be
accessible. The parts that belong to a territory (the body, its contact, its
compliance status from an RGAA audit) are in its settings
(services/territories.py).

Every check listed here is a test of the suite (named by ``test``): a
release ships only when they pass. tests/test_public_body.py checks that
each named test exists, so the statement never claims a check nobody runs.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

# When the checks below were last reviewed against the app (the statement's date).
STATEMENT_DATE = date(2026, 12, 5)
RGAA_VERSION = "4.1.2"
TOOLS = (
    "axe-core 4.12 (axe-playwright-python)",
    "Chromium 156 (Debian), driven by Playwright 1.65",
    _l("Chromium's accessibility tree (names and roles of controls)"),
    _l("Keyboard only (Tab, Shift+Tab, Enter, Space, arrows), no mouse"),
)
BROWSER_TESTS = "tests/test_browser_public.py"
KEYBOARD_TESTS = "tests/test_browser_keyboard.py"  # the organizers' runs
PAGES = (
    _l("The home page and the evening's page"),
    _l("A table's phone page: the join form, then every step of the evening"),
    _l("My data, the privacy notice and this statement"),
    _l("The facilitator's console, at every step"),
    _l("The organizers' pages: sign-in, evenings, tables, scripts, control room, backlog"),
    _l("The projector's screen"),
)
# Automated checks: axe-core's rules (WCAG 2.1 A and AA) on these pages.
AUTOMATED = (
    (_l("The phone and the console, at every step of the evening"),
     "tests/test_accessibility.py::test_the_phone_and_the_console_have_no_axe_violation_at_any_step"),
    (_l("The control room and the projector"),
     "tests/test_accessibility.py::test_the_control_room_and_the_projector_have_no_axe_violation"),
    (_l("The home page, the evening's page, the join form with errors, My data"),
     "tests/test_accessibility.py::test_the_participants_other_pages_have_no_axe_violation"),
    (_l("The accessibility statement, the privacy notice, the territory's settings and record"),
     "tests/test_accessibility.py::test_the_public_bodys_pages_have_no_axe_violation"),
    (_l("The organizers' pages, forms with their errors, sign-in"),
     "tests/test_browser_screens.py::test_the_organizer_pages_have_no_axe_violation"),
)  # fmt: skip
# Manual checks, done as browser tests: what axe cannot see.
MANUAL = (
    (_l("A participant's whole evening with the keyboard only: join, introduce oneself, "
        "post, vote, write the table's sheet as its reporter, commit, My data, this "
        "statement"), "2.1.1, 2.1.2, 2.4.3",
     BROWSER_TESTS + "::test_a_participant_runs_the_whole_evening_with_the_keyboard_only"),
    (_l("The facilitator's console with the keyboard only: steps, timer, moderation, "
        "groups, vote, the reporter and the table's sheet, a commitment recorded for "
        "someone"), "2.1.1, 2.1.2, 2.4.3",
     BROWSER_TESTS + "::test_a_facilitator_runs_the_console_with_the_keyboard_only"),
    (_l("Focus always visible on the control reached with the keyboard"), "2.4.7",
     BROWSER_TESTS + "::test_a_participant_runs_the_whole_evening_with_the_keyboard_only"),
    (_l("The plenary run from the control room with the keyboard only: a table chosen and "
        "shown, the next and previous ones, every table in turn, the word cloud, back to the "
        "join screen"), "2.1.1, 2.1.2, 2.4.3",
     KEYBOARD_TESTS + "::test_an_organizer_runs_the_plenary_with_the_keyboard_only"),
    (_l("The tables steered from the control room with the keyboard only: filtered, "
        "sorted, selected, moved to a step after a confirmation, sent a message"),
     "2.1.1, 2.1.2, 2.4.3",
     KEYBOARD_TESTS
     + "::test_an_organizer_steers_the_tables_from_the_control_room_with_the_keyboard_only"),
    (_l("In the control room, a table's selection box keeps the keyboard focus while the "
        "tables' rows are redrawn every second"), "2.4.3",
     KEYBOARD_TESTS
     + "::test_the_focus_stays_on_a_tables_box_while_the_control_room_redraws"),
    (_l("A project followed in the backlog with the keyboard only: its gate ticked, an action "
        "with its due date, its fields edited and saved, its stage changed, a job line added "
        "and checked"),
     "2.1.1, 2.1.2, 2.4.3",
     KEYBOARD_TESTS + "::test_an_organizer_follows_a_project_with_the_keyboard_only"),
    (_l("At every stop of the organizers' keyboard runs, the focus is visible and the control "
        "has a name in Chromium's accessibility tree"), "2.4.7, 4.1.2",
     KEYBOARD_TESTS + "::test_an_organizer_follows_a_project_with_the_keyboard_only"),
    (_l("Every control has a name in Chromium's accessibility tree"), "4.1.2",
     BROWSER_TESTS + "::test_every_control_has_a_name_in_chromiums_accessibility_tree"),
    (_l("Content reflows at 320 px wide, without horizontal scrolling"), "1.4.10",
     BROWSER_TESTS + "::test_the_pages_reflow_at_320_px_and_at_200_percent_zoom"),
    (_l("Text zoomed to 200 %: nothing cut off or hidden"), "1.4.4",
     BROWSER_TESTS + "::test_the_pages_reflow_at_320_px_and_at_200_percent_zoom"),
    (_l("The organizers' pages (evenings, control room, board, project, indicators, stages "
        "and gates, funder report, territory settings, processing record) at 320 px and at "
        "200 % zoom: no horizontal scrolling, nothing past the screen's edge or cut off, the "
        "board's stages one under the other"), "1.4.4, 1.4.10",
     KEYBOARD_TESTS + "::test_the_organizers_pages_reflow_at_320_px_and_at_200_percent"),
    (_l("Status messages (sent, votes left, connection, errors) are announced"), "4.1.3",
     BROWSER_TESTS + "::test_status_messages_are_announced_without_moving_the_focus"),
    (_l("No information by colour alone: the timer's levels on the phone; tables ending, "
        "late or stalled in the control room"), "1.4.1",
     BROWSER_TESTS + "::test_no_information_is_given_by_colour_alone"),
    (_l("No information by colour alone: projects overdue or long overdue on the board"),
     "1.4.1",
     "tests/test_browser_backlog.py::test_the_board_shows_late_projects_filters_and_moves_a_card"),
    (_l("Timers can be paused and extended by the facilitator, with the keyboard"), "2.2.1",
     BROWSER_TESTS + "::test_a_facilitator_runs_the_console_with_the_keyboard_only"),
    (_l("When a step's time is up, a participant can still post, vote and commit: "
        "nothing typed is lost"), "2.2.1",
     "tests/test_public_body.py::test_time_up_never_refuses_what_a_participant_writes"),
)  # fmt: skip
# Known not to be accessible: what, why, and the accessible alternative.
NOT_ACCESSIBLE = (
    (_l("The PDF exports (the evening's report, the table tents, the facilitator kits) are "
        "not tagged PDFs: a screen reader reads them without structure."),
     _l("The report exists as a web page (\u201cReport (web page)\u201d), the table tents' "
        "code and address are printed as text, and the kits' pages are web pages.")),
    (_l("The QR codes are images."),
     _l("Each one is labelled, and its code and address are written next to it.")),
    (_l("Grouping cards by dragging them on the console needs a pointer."),
     _l("Each card has a list of groups and a Move button, usable with the keyboard.")),
    (_l("The projector's screen changes on its own (plenary turns) and cannot be paused "
        "from the room."),
     _l("The organizers pause or stop the turns from the control room; every table's "
        "result is also on each phone.")),
)  # fmt: skip
# Content exempted by the law (disproportionate burden or outside its scope).
DEROGATIONS = (
    (_l("None claimed for disproportionate burden."), ""),
    (_l("Texts, cards and sheets written by participants during the evening are their own "
        "content: the app shows them as text, but cannot make their wording clear."), ""),
)  # fmt: skip
DEFENSEUR_URL = "https://formulaire.defenseurdesdroits.fr/"
DEFENSEUR_ADDRESS = "Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07"


def named_tests() -> set[str]:
    """Every test the statement names (``file::function``)."""
    return {test for _label, test in AUTOMATED} | {test for _label, _wcag, test in MANUAL}
