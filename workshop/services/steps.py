"""The method at a table: scripts, steps and their timers (DESIGN.md §5).

A script is plain data: a list of steps, each a dict with ``kind``, ``title``,
``prompt``, ``duration`` (seconds) and ``settings``. Every table has its own
copy (its ``Step`` rows), made from the default script of its challenge and
workshop kind, edited by the organizers before the evening and adjusted by the
facilitator live. The step being run and its timer are part of the table's
live state: timers are server time (an end instant, or the seconds left while
paused), so they survive reconnects and restarts.
"""

from __future__ import annotations

import math
from datetime import timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, inspect, select

from .. import clock
from ..extensions import db
from ..models import Challenge, Idea, IdeaKind, Step, StepKind, Table, WorkshopKind
from . import ServiceError, journal
from .changes import touch
from .inputs import bad_request, integer
from .transaction import commit
from .writes import MODERATORS, Request, op

MINUTE = 60
MAX_DURATION = 4 * 3600
MAX_STEPS = 20
MAX_TITLE = 200
MAX_PROMPT = 1000
DEFAULT_VOTES = 3
DEFAULT_MAX_PER_CARD = 2

# Settings each step kind understands, with their type (validated on every write).
SETTINGS = {
    StepKind.diverge: {"card_kinds": list, "private": bool},
    StepKind.vote: {"votes": int, "max_per_card": int, "no_self_vote": bool},
}
# What running a step adds to its settings; never taken from a client.
RUNTIME = ("revealed", "state", "results")


def _diverge(challenge: Challenge, workshop_kind: WorkshopKind) -> dict:
    if workshop_kind == WorkshopKind.booster:
        return {
            "title": _l("Help for the project"),
            "prompt": _l(
                "What can you bring to this project: ideas, resources, contacts, "
                "first customers? One card each."
            ),
            "card_kinds": ["idea", "resource", "question"],
        }
    return {
        Challenge.territorial: {
            "title": _l("Needs"),
            "prompt": _l(
                "Which needs do you see on the territory around this theme? One need per card."
            ),
            "card_kinds": ["need", "question"],
        },
        Challenge.creative: {
            "title": _l("Ideas"),
            "prompt": _l(
                "Which solutions could answer this problem, and be run as a business? "
                "One idea per card, the boldest too."
            ),
            "card_kinds": ["idea", "question"],
        },
        Challenge.prototyping: {
            "title": _l("Features and resources"),
            "prompt": _l(
                "Which features must the first version have, and which resources "
                "are already here? One card each."
            ),
            "card_kinds": ["feature", "resource", "question"],
        },
    }[challenge]


SHEET_TITLES = {
    Challenge.territorial: _l("Problem statement"),
    Challenge.creative: _l("Opportunity sheet"),
    Challenge.prototyping: _l("Prototype sheet"),
}


def default_script(
    challenge: Challenge, workshop_kind: WorkshopKind, language: str | None = None
) -> list[dict]:
    """The default script of a challenge and workshop kind, written in
    ``language`` (the evening's), or in the current one when it is not given."""
    if language is not None:
        with force_locale(language):
            return default_script(challenge, workshop_kind)
    diverge = _diverge(challenge, workshop_kind)
    booster = workshop_kind == WorkshopKind.booster
    steps = [
        (
            StepKind.intro,
            _l("Introductions"),
            _l("Who are you, what do you bring, and what do you expect from this evening?"),
            10,
            {},
        ),
        (
            StepKind.brief,
            _l("The project") if booster else _l("The challenge"),
            _l("The carrier presents the project and what help they are looking for.")
            if booster
            else _l("Read the table's challenge together. What does it ask of us?"),
            5,
            {},
        ),
        (
            StepKind.diverge,
            diverge["title"],
            diverge["prompt"],
            15,
            {"card_kinds": diverge["card_kinds"], "private": False},
        ),
        (
            StepKind.cluster,
            _l("Groups"),
            _l("Which cards go together? Name each group."),
            10,
            {},
        ),
        (
            StepKind.vote,
            _l("Vote"),
            _l("Which cards should the table take forward? Place your votes."),
            5,
            {"votes": DEFAULT_VOTES, "max_per_card": DEFAULT_MAX_PER_CARD, "no_self_vote": False},
        ),
        (
            StepKind.sheet,
            SHEET_TITLES[challenge],
            _l("Write the table's result together; the reporter holds the pen."),
            15,
            {},
        ),
        (
            StepKind.commit,
            _l("Commitments"),
            _l("Would you carry this, contribute to it, or be kept informed?"),
            5,
            {},
        ),
        (
            StepKind.plenary,
            _l("Plenary"),
            _l("The reporter presents the table's result to the room."),
            5,
            {},
        ),
    ]
    return [
        {
            "kind": kind.value,
            "title": str(title),
            "prompt": str(prompt),
            "duration": minutes * MINUTE,
            "settings": settings,
        }
        for kind, title, prompt, minutes, settings in steps
    ]


def clean_script(script) -> list[dict]:
    """A script checked field by field; refused whole if anything is wrong."""
    if not isinstance(script, list) or not 1 <= len(script) <= MAX_STEPS:
        raise ServiceError("bad_script", _l("A script has between 1 and 20 steps."))
    return [clean_step(step) for step in script]


def clean_step(step) -> dict:
    """One step of a script, checked."""
    if not isinstance(step, dict):
        raise bad_request()
    try:
        kind = StepKind(step.get("kind"))
    except ValueError:
        raise ServiceError("bad_step", _l("Unknown kind of step.")) from None
    title = step.get("title")
    prompt = step.get("prompt", "")
    duration = integer(step.get("duration"))
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        raise ServiceError("bad_step", _l("Every step needs a title (200 characters at most)."))
    if not isinstance(prompt, str) or len(prompt) > MAX_PROMPT:
        raise ServiceError("bad_step", _l("A step's question has 1000 characters at most."))
    if duration is None or not 0 <= duration <= MAX_DURATION:
        raise ServiceError("bad_step", _l("A step lasts between 0 and 240 minutes."))
    return {
        "kind": kind.value,
        "title": title.strip(),
        "prompt": prompt.strip(),
        "duration": duration,
        "settings": clean_settings(kind, step.get("settings") or {}),
    }


def clean_settings(kind: StepKind, settings) -> dict:
    """The settings a step kind understands, typed and within bounds."""
    if not isinstance(settings, dict):
        raise bad_request()
    allowed = SETTINGS.get(kind, {})
    clean = {}
    for name, value in settings.items():
        expected = allowed.get(name)
        if expected is None:
            continue  # settings of another kind (the step's kind changed): dropped
        if expected is int:
            value = integer(value)
            if value is None or not 1 <= value <= 20:
                raise ServiceError("bad_step", _l("Votes are counted from 1 to 20."))
        elif expected is list:
            if (
                not isinstance(value, list)
                or not value
                or not all(v in IdeaKind._value2member_map_ for v in value)
            ):
                raise ServiceError("bad_step", _l("Choose at least one kind of card."))
            value = list(dict.fromkeys(value))
        elif not isinstance(value, expected):
            raise bad_request()
        clean[name] = value
    return clean


def script_of(table: Table) -> list[dict]:
    """A table's script as plain data (to copy, edit or export)."""
    return [
        {
            "kind": step.kind.value,
            "title": step.title,
            "prompt": step.prompt,
            "duration": step.duration,
            "settings": dict(step.settings or {}),
        }
        for step in table.steps
    ]


def set_script(table: Table, script: list[dict]) -> None:
    """Replace a table's script (before its steps run; the caller commits)."""
    script = clean_script(script)
    table.step = None
    table.step_id = None
    table.timer_ends_at = table.timer_left = None
    for step in list(table.steps):
        db.session.delete(step)
    table.steps.clear()
    db.session.flush()
    for position, step in enumerate(script):
        new = Step(position=position, **{**step, "kind": StepKind(step["kind"])})
        table.steps.append(new)
        touch(new)
    touch(table)


def edit_script(organizer, table: Table, script) -> None:
    """An organizer replaces a table's script before the table starts it."""
    _require_not_started(table)
    set_script(table, script)
    _journal(organizer, table, "table.script_edited")
    commit()


def copy_script(organizer, source: Table, targets: list[Table]) -> list[Table]:
    """Apply ``source``'s script to other tables of its event that have not
    started; return the tables left untouched because they have."""
    script = script_of(source)
    started = []
    for table in targets:
        if table.event_id != source.event_id or table.id == source.id:
            continue
        if table.step_id is not None:
            started.append(table)
            continue
        set_script(table, script)
        _journal(organizer, table, "table.script_copied", source_table_id=source.id)
    commit()
    return started


def _require_not_started(table: Table) -> None:
    if table.step_id is not None:
        raise ServiceError(
            "script_started",
            _l("This table has started its script: its facilitator adjusts it from the console."),
        )


def _journal(organizer, table: Table, action: str, **data) -> None:
    journal.record(
        f"organizer:{organizer.id}",
        action,
        table.name,
        territory_id=table.event.territory_id,
        event_id=table.event_id,
        table_id=table.id,
        **data,
    )


def timings(table: Table) -> list[tuple[Step, int]]:
    """Each step with the minute it starts at, counted from the first."""
    start, found = 0, []
    for step in table.steps:
        found.append((step, start // MINUTE))
        start += step.duration
    return found


def table_default_script(table: Table) -> list[dict]:
    """The default script of a table's challenge and kind, in its evening's language."""
    return default_script(table.challenge, table.workshop_kind, table.event.language)


def ensure_script(table: Table) -> None:
    """Give a table without steps its default script (the caller commits)."""
    if not table.steps:
        set_script(table, table_default_script(table))


def give_scripts_to_old_tables() -> int:
    """At start, after migrating: give every table made before scripts
    existed its default script, so that no page has to write when it is
    read; how many tables got one."""
    old = db.session.scalars(select(Table).where(~exists().where(Step.table_id == Table.id))).all()
    for table in old:
        ensure_script(table)
    if old:
        commit()
    return len(old)


# --- running a table ---------------------------------------------------------------------


def _step_of(table: Table, step_id) -> Step:
    step_id = integer(step_id)
    step = db.session.get(Step, step_id) if step_id else None
    if step is None or step.table_id != table.id:
        raise ServiceError("not_found", _l("This step is not in the table's script."))
    return step


def open_step(table: Table, step: Step | None) -> bool:
    """Make ``step`` the table's current step and start its timer; False when
    it already is (so that pushing one step to many tables twice is harmless)."""
    if table.step_id == (step.id if step else None):
        return False
    table.step_id = step.id if step else None
    # The column only: the relationship, when loaded on a table being
    # flushed, writes it again in an UPDATE of its own (its post_update).
    if "step" in inspect(table).dict:
        db.session.expire(table, ["step"])
    table.timer_left = None
    table.timer_ends_at = (
        clock.now() + timedelta(seconds=step.duration) if step and step.duration else None
    )
    touch(table)
    return True


@op("step.go", *MODERATORS)
def go_to_step(req: Request) -> None:
    """Move the table to a step: forward, back or skipping (null: no step)."""
    table = req.actor.table
    wanted = req.data.get("step_id")
    step = None if wanted is None else _step_of(table, wanted)
    open_step(table, step)


def seconds_left(table: Table) -> int | None:
    """What the table's timer shows now (negative past the end), or None."""
    if table.timer_left is not None:
        return table.timer_left
    if table.timer_ends_at is None:
        return None
    return math.ceil((clock.aware(table.timer_ends_at) - clock.now()).total_seconds())


def _require_timer(table: Table) -> None:
    if table.timer_ends_at is None and table.timer_left is None:
        raise ServiceError("no_timer", _l("This step has no timer running."))


@op("timer.pause", *MODERATORS)
def pause_timer(req: Request) -> None:
    table = req.actor.table
    _require_timer(table)
    if table.timer_left is not None:
        return
    table.timer_left = max(0, seconds_left(table))
    table.timer_ends_at = None
    touch(table)


@op("timer.resume", *MODERATORS)
def resume_timer(req: Request) -> None:
    table = req.actor.table
    _require_timer(table)
    if table.timer_left is None:
        return
    table.timer_ends_at = clock.now() + timedelta(seconds=table.timer_left)
    table.timer_left = None
    touch(table)


@op("timer.add", *MODERATORS)
def add_time(req: Request) -> None:
    """Add (or take away) time: five minutes by default."""
    table = req.actor.table
    seconds = integer(req.data.get("seconds", 5 * MINUTE))
    if seconds is None or seconds == 0 or abs(seconds) > 3600:
        raise bad_request()
    _require_timer(table)
    if table.timer_left is not None:
        table.timer_left = max(0, table.timer_left + seconds)
    else:
        table.timer_ends_at = clock.aware(table.timer_ends_at) + timedelta(seconds=seconds)
    touch(table)


@op("step.update", *MODERATORS)
def update_step(req: Request) -> None:
    """Adjust a step live: title, question, duration, settings (private…)."""
    table = req.actor.table
    step = _step_of(table, req.data.get("step_id"))
    current = {
        "kind": step.kind.value,
        "title": step.title,
        "prompt": step.prompt,
        "duration": step.duration,
        "settings": step.settings or {},
    }
    wanted = {
        "kind": step.kind.value,
        "title": req.data.get("title", step.title),
        "prompt": req.data.get("prompt", step.prompt),
        "duration": req.data.get("duration", step.duration),
        "settings": {**(step.settings or {}), **(req.data.get("settings") or {})},
    }
    if not isinstance(req.data.get("settings", {}), dict):
        raise bad_request()
    clean = clean_step(wanted)
    running = {k: v for k, v in (step.settings or {}).items() if k in RUNTIME}
    clean["settings"] = {**clean["settings"], **running}
    if clean == current:
        return
    step.title, step.prompt = clean["title"], clean["prompt"]
    step.duration, step.settings = clean["duration"], clean["settings"]
    touch(step)


@op("step.move", *MODERATORS)
def move_step(req: Request) -> None:
    """Move a step of the script to another place (0: first), live: the
    facilitator adapts the evening to how the table is doing."""
    table = req.actor.table
    step = _step_of(table, req.data.get("step_id"))
    position = integer(req.data.get("position"))
    order = list(table.steps)
    if position is None or not 0 <= position < len(order):
        raise bad_request()
    if order.index(step) == position:
        return
    order.remove(step)
    order.insert(position, step)
    for index, each in enumerate(order):
        each.position = index
    table.steps.sort(key=lambda each: each.position)
    touch(table)


def private_round(step: Step | None) -> bool:
    """Whether ``step`` keeps the ideas posted in it private (until revealed)."""
    return step is not None and private_round_of(step.kind, step.settings)


def private_round_of(kind: StepKind | None, settings: dict | None) -> bool:
    """:func:`private_round` for a step of ``kind`` with ``settings``."""
    if kind != StepKind.diverge:
        return False
    settings = settings or {}
    return bool(settings.get("private")) and not settings.get("revealed")


@op("step.reveal", *MODERATORS)
def reveal(req: Request) -> None:
    """Show the private round's ideas to everyone: during that round, or after
    it for ideas still waiting. Never before it: a step revealed before it
    starts stays revealed, and its private round would silently not happen."""
    table = req.actor.table
    step = table.step
    waiting = list(
        db.session.scalars(select(Idea).where(Idea.table_id == table.id, Idea.private.is_(True)))
    )
    running = (
        step is not None and step.kind == StepKind.diverge and (step.settings or {}).get("private")
    )
    if not running and all(idea.deleted for idea in waiting):
        raise ServiceError("not_private", _l("Nothing to reveal: no private round is running."))
    rounds = {idea.step_id for idea in waiting} | {table.step_id}
    for each in table.steps:
        if each.id in rounds and private_round(each):
            each.settings = {**each.settings, "revealed": True}
            touch(each)
    for idea in waiting:
        idea.private = False
        touch(idea)
