"""The backlog of candidate projects (DESIGN.md §8): what an evening leaves
behind, followed stage by stage for months.

A closed evening's tables become projects at the stage their challenge
reaches (a problem, an opportunity, a prototype); an organizer can also
promote any single idea. Both are idempotent: a table or an idea gives at
most one project, however often it is promoted. Every change that matters is
journaled under the subject ``project:<id>``: that is the project's history.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import clock
from ..extensions import db
from ..models import (
    CarrierStatus,
    Challenge,
    Commitment,
    CommitRole,
    Event,
    Idea,
    JournalEntry,
    Organizer,
    OutcomeKind,
    Participant,
    Project,
    ProjectAction,
    ProjectIdea,
    ProjectMember,
    ProjectNote,
    ProjectOutcome,
    ProjectSnapshot,
    ProjectStage,
    ProjectStatus,
    Table,
    Territory,
    Theme,
    Vote,
)
from . import ServiceError, accounts, journal, minors, plenary, sheet_template
from .transaction import commit

# What a table's result is, by the challenge it worked on.
STAGE_OF_CHALLENGE = {
    Challenge.territorial: ProjectStage.d1,
    Challenge.creative: ProjectStage.d2,
    Challenge.prototyping: ProjectStage.d3,
}

STAGE_LABELS = {
    ProjectStage.d0: _l("D0 · Raw idea"),
    ProjectStage.d1: _l("D1 · Problem qualified"),
    ProjectStage.d2: _l("D2 · Opportunity qualified"),
    ProjectStage.d3: _l("D3 · Prototype"),
    ProjectStage.d4: _l("D4 · Launch"),
    ProjectStage.d5: _l("D5 · Duplication"),
}
STATUS_LABELS = {
    ProjectStatus.active: _l("Active"),
    ProjectStatus.paused: _l("Paused"),
    ProjectStatus.abandoned: _l("Abandoned"),
    ProjectStatus.launched: _l("Launched"),
}
CARRIER_LABELS = {
    CarrierStatus.none: _l("No carrier"),
    CarrierStatus.sought: _l("Carrier sought"),
    CarrierStatus.found: _l("Carrier found"),
    CarrierStatus.collective: _l("Collective carrier"),
}

# How long a project is expected to stay in a stage, in days, unless its
# territory says otherwise (settings["stage_days"]). Past it the board shows it
# amber; past twice as long, red.
DEFAULT_STAGE_DAYS = {
    ProjectStage.d0: 30,
    ProjectStage.d1: 60,
    ProjectStage.d2: 90,
    ProjectStage.d3: 120,
    ProjectStage.d4: 180,
    ProjectStage.d5: 365,
}
MAX_TITLE = 200
MAX_REASON = 2000
MAX_GATE_ITEMS = 12
TARGET_KEYS = ("participants", "ideas", "projects", "jobs")

# What must be true before a project leaves a stage (its gate), unless its
# territory has its own list (settings["gates"][stage]: [{"key", "label"}]).
DEFAULT_GATES = {
    ProjectStage.d0: (
        ("need", _l("A need of the territory is stated")),
        ("followed", _l("Someone follows the idea up")),
    ),
    ProjectStage.d1: (
        ("confirmed", _l("The problem is confirmed by those who live it")),
        ("opportunity", _l("An opportunity to answer it is identified")),
    ),
    ProjectStage.d2: (
        ("qualified", _l("The opportunity is qualified (users, value, market)")),
        ("prospect", _l("A prospective carrier is identified")),
    ),
    ProjectStage.d3: (
        ("carrier", _l("A carrier is committed")),
        ("business_model", _l("A business model is sketched")),
        ("tested", _l("A first test has been run")),
    ),
    ProjectStage.d4: (
        ("launched", _l("The activity is launched")),
        ("replicable", _l("Another territory is interested")),
    ),
    ProjectStage.d5: (),
}


def _not_found() -> ServiceError:
    return ServiceError("not_found", _l("This project does not exist or is not yours."))


def _actor(organizer: Organizer) -> str:
    return f"organizer:{organizer.id}"


def record(organizer: Organizer, project: Project, action: str, **data) -> None:
    """Journal a change to ``project``: its history is its journal entries."""
    journal.record(
        _actor(organizer),
        action,
        f"project:{project.id}",
        territory_id=project.territory_id,
        event_id=project.event_id,
        **data,
    )


def _first_line(text: str, limit: int = MAX_TITLE) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _snapshot(project: Project) -> None:
    project.snapshots.append(
        ProjectSnapshot(
            stage=project.stage,
            title=project.title,
            summary=project.summary,
            sheet=[dict(field) for field in project.sheet],
            taken_at=clock.now(),
        )
    )


# --- from the evening to the backlog --------------------------------------------------


def _sheet_of(table: Table, texts: dict[str, str]) -> list[dict]:
    return [
        {"key": key, "text": texts.get(key, "")} for key in sheet_template.keys(table.challenge)
    ]


def _carrier_status(members: list[ProjectMember]) -> CarrierStatus:
    carriers = sum(1 for member in members if member.role == CommitRole.carry)
    if carriers > 1:
        return CarrierStatus.collective
    return CarrierStatus.found if carriers == 1 else CarrierStatus.none


def _team(table: Table) -> list[ProjectMember]:
    rows = db.session.execute(
        select(Commitment, Participant)
        .join(Participant, Participant.id == Commitment.participant_id)
        .where(Commitment.table_id == table.id, Commitment.withdrawn.is_(False))
        .order_by(Commitment.id)
    )
    return [
        ProjectMember(
            participant_id=participant.id,
            name=minors.public_name(participant),
            category=participant.category,
            role=commitment.role,
            brings=commitment.contribution or participant.brings,
            expects=commitment.expects,
            hours_per_month=commitment.hours_per_month,
            consent=participant.contact_consent and not minors.restricted(participant),
            contact=participant.contact
            if participant.contact_consent and not minors.restricted(participant)
            else "",
            added_at=clock.now(),
        )
        for commitment, participant in rows
    ]


def _first_cards(table: Table) -> list[dict]:
    """A table that never voted: its first cards stand for its result."""
    ideas = db.session.scalars(
        select(Idea)
        .where(Idea.table_id == table.id, Idea.deleted.is_(False), Idea.hidden.is_(False))
        .order_by(Idea.seq)
        .limit(plenary.TOP_CARDS)
    )
    return [{"id": idea.id, "text": idea.text, "votes": 0} for idea in ideas]


def _project_of_table(table: Table, texts: dict[str, str], top: list[dict]) -> Project | None:
    top = top or _first_cards(table)
    sheet = _sheet_of(table, texts)
    written = [field["text"] for field in sheet if field["text"].strip()]
    members = _team(table)
    if not (written or top or members):
        return None  # the table left nothing to follow
    title = _first_line(written[0]) if written else ""
    title = title or (_first_line(top[0]["text"]) if top else "") or table.name
    now = clock.now()
    project = Project(
        territory_id=table.event.territory_id,
        event_id=table.event_id,
        table_id=table.id,
        title=title,
        summary=written[0] if written else (top[0]["text"] if top else table.brief_title),
        theme=table.name,
        challenge=table.challenge,
        stage=STAGE_OF_CHALLENGE[table.challenge],
        stage_since=now,
        status=ProjectStatus.active,
        owner=table.event.territory.name,
        sheet=sheet,
        created_at=now,
        updated_at=now,
    )
    project.members = members
    project.carrier_status = _carrier_status(members)
    project.ideas = [
        ProjectIdea(idea_id=card["id"], position=n, text=card["text"], votes=card["votes"])
        for n, card in enumerate(top)
    ]
    _snapshot(project)
    return project


@dataclass
class Promotion:
    """What promoting an evening did."""

    created: list[Project]
    existing: int  # tables whose project was made before
    empty: int  # tables that left nothing to follow


def promote_event(organizer: Organizer, event: Event) -> Promotion:
    """Make a project of every table of ``event`` that has a result (a sheet,
    voted cards or commitments). Tables promoted before are left as they are."""
    done = set(
        db.session.scalars(
            select(Project.table_id)
            .join(Table, Table.id == Project.table_id)
            .where(Table.event_id == event.id)
        )
    )
    texts, top = plenary.sheet_texts(event), plenary.top_cards(event)
    result = Promotion([], len(done), 0)
    for table in sorted(event.tables, key=lambda t: t.number):
        if table.id in done:
            continue
        project = _project_of_table(table, texts.get(table.id, {}), top.get(table.id, []))
        if project is None:
            result.empty += 1
            continue
        _baseline(project, organizer)
        db.session.add(project)
        db.session.flush()
        record(organizer, project, "project.created", origin="table", table_id=table.id)
        result.created.append(project)
    commit()
    return result


def promote_idea(organizer: Organizer, idea: Idea) -> Project:
    """The project made of one idea (at D0), made now if it was not before."""
    table = idea.table
    if idea.deleted or not accounts.can_manage(organizer, table.event):
        raise _not_found()
    existing = db.session.scalar(select(Project).where(Project.idea_id == idea.id))
    if existing is not None:
        return existing
    votes = db.session.scalar(
        select(func.count(Vote.id)).where(Vote.idea_id == idea.id, Vote.active.is_(True))
    )
    now = clock.now()
    project = Project(
        territory_id=table.event.territory_id,
        event_id=table.event_id,
        idea_id=idea.id,
        title=_first_line(idea.text),
        summary=idea.text,
        theme=table.name,
        challenge=table.challenge,
        stage=ProjectStage.d0,
        stage_since=now,
        owner=table.event.territory.name,
        sheet=[],
        created_at=now,
        updated_at=now,
    )
    project.ideas = [ProjectIdea(idea_id=idea.id, position=0, text=idea.text, votes=votes or 0)]
    _snapshot(project)
    _baseline(project, organizer)
    db.session.add(project)
    db.session.flush()
    record(organizer, project, "project.created", origin="idea", idea_id=idea.id)
    commit()
    return project


def _team_theme(organizer: Organizer, theme: Theme | None) -> Theme:
    """A theme of the team's (not a pending suggestion) of an evening ``organizer`` manages."""
    if theme is None or theme.deleted or theme.suggested:
        raise _not_found()
    if not accounts.can_manage(organizer, db.session.get(Event, theme.event_id)):
        raise _not_found()
    return theme


def _theme_ideas(theme: Theme) -> list[tuple[Idea, int]]:
    """The theme's ideas the room may see, pinned quotes first, with their votes."""
    votes = func.count(Vote.id).filter(Vote.active.is_(True))
    rows = db.session.execute(
        select(Idea, votes)
        .outerjoin(Vote, Vote.idea_id == Idea.id)
        .where(
            Idea.id.in_(theme.idea_ids or []),
            Idea.deleted.is_(False),
            Idea.hidden.is_(False),
            Idea.private.is_(False),
        )
        .group_by(Idea.id)
    ).all()
    found = {idea.id: (idea, count) for idea, count in rows}
    order = [*(theme.pinned or []), *(theme.idea_ids or [])]
    return [found[i] for i in dict.fromkeys(order) if i in found]


def promote_theme(organizer: Organizer, theme: Theme) -> Project:
    """The project made of a theme of the evening's synthesis (at D0, with
    the theme's ideas), made now if it was not before."""
    theme = _team_theme(organizer, theme)
    existing = db.session.scalar(select(Project).where(Project.theme_id == theme.id))
    if existing is not None:
        return existing
    event = db.session.get(Event, theme.event_id)
    ideas = _theme_ideas(theme)
    now = clock.now()
    project = Project(
        territory_id=event.territory_id,
        event_id=event.id,
        theme_id=theme.id,
        title=_first_line(theme.label),
        summary="\n".join(f"– {idea.text}" for idea, _votes in ideas[: plenary.QUOTES]),
        theme=theme.label,
        challenge=None,
        stage=ProjectStage.d0,
        stage_since=now,
        owner=event.territory.name,
        sheet=[],
        created_at=now,
        updated_at=now,
    )
    project.ideas = [
        ProjectIdea(idea_id=idea.id, position=n, text=idea.text, votes=votes)
        for n, (idea, votes) in enumerate(ideas)
    ]
    _snapshot(project)
    _baseline(project, organizer)
    db.session.add(project)
    db.session.flush()
    record(organizer, project, "project.created", origin="theme", theme_id=theme.id)
    commit()
    return project


def link_theme(organizer: Organizer, theme: Theme) -> list[Project]:
    """Give the theme's label to the projects that came from its tables or
    its ideas (the board's theme filter then shows them together)."""
    theme = _team_theme(organizer, theme)
    ideas = [idea for idea, _votes in _theme_ideas(theme)]
    tables = {idea.table_id for idea in ideas}
    projects = db.session.scalars(
        select(Project).where(
            or_(Project.table_id.in_(tables), Project.idea_id.in_([i.id for i in ideas])),
            Project.event_id == theme.event_id,
            Project.theme_id.is_(None),
        )
    ).all()
    linked = [project for project in projects if project.theme != theme.label]
    for project in linked:
        project.theme, project.updated_at = theme.label, clock.now()
        record(organizer, project, "project.updated", fields=["theme"], origin="theme")
    commit()
    return linked


def themes_of(event: Event) -> list[tuple[Theme, Project | None]]:
    """The team's themes of ``event`` (no pending suggestion), each with the
    project made of it, if any."""
    themes = db.session.scalars(
        select(Theme)
        .where(Theme.event_id == event.id, Theme.deleted.is_(False), Theme.suggested.is_(False))
        .order_by(Theme.id)
    ).all()
    projects = {
        p.theme_id: p
        for p in db.session.scalars(
            select(Project).where(Project.theme_id.in_([t.id for t in themes]))
        )
    }
    return [(theme, projects.get(theme.id)) for theme in themes]


# --- the board ----------------------------------------------------------------------


@dataclass
class Filters:
    """The board's filters (all optional); ``q`` searches titles, summaries, themes."""

    territory_id: int | None = None
    event_id: int | None = None
    theme: str = ""
    carrier_status: CarrierStatus | None = None
    status: ProjectStatus | None = None
    q: str = ""


def _mine(organizer: Organizer):
    return Project.territory_id.in_([t.id for t in organizer.territories])


def projects_for(organizer: Organizer, filters: Filters | None = None) -> list[Project]:
    """The organizer's projects (their territories only; merged ones left out),
    filtered, oldest in their stage first."""
    filters = filters or Filters()
    query = (
        select(Project)
        .where(_mine(organizer), Project.merged_into_id.is_(None))
        # What the board shows of each card, loaded with it (not a query per card).
        .options(
            joinedload(Project.territory),
            joinedload(Project.event),
            selectinload(Project.actions),
        )
    )
    if filters.territory_id is not None:
        query = query.where(Project.territory_id == filters.territory_id)
    if filters.event_id is not None:
        query = query.where(Project.event_id == filters.event_id)
    if filters.theme:
        query = query.where(Project.theme == filters.theme)
    if filters.carrier_status is not None:
        query = query.where(Project.carrier_status == filters.carrier_status)
    if filters.status is not None:
        query = query.where(Project.status == filters.status)
    found = list(db.session.scalars(query.order_by(Project.stage_since, Project.id)))
    words = plenary.fold(filters.q).split()
    if words:  # without case or accents: "epicerie" finds "Épicerie"
        found = [
            p for p in found
            if all(w in plenary.fold(f"{p.title} {p.summary} {p.theme}") for w in words)
        ]  # fmt: skip
    return found


def board(projects: list[Project]) -> list[tuple[ProjectStage, list[Project]]]:
    """Projects in columns, one per stage, D0 to D5."""
    return [(stage, [p for p in projects if p.stage == stage]) for stage in ProjectStage]


def themes_for(organizer: Organizer) -> list[str]:
    """The themes of the organizer's projects, for the board's filter."""
    return list(
        db.session.scalars(
            select(Project.theme)
            .where(_mine(organizer), Project.theme != "")
            .distinct()
            .order_by(Project.theme)
        )
    )


def stage_days(territory: Territory, stage: ProjectStage) -> int:
    """How many days a project is expected to stay at ``stage`` in ``territory``."""
    custom = (territory.settings or {}).get("stage_days") or {}
    days = custom.get(stage.value)
    return days if isinstance(days, int) and days > 0 else DEFAULT_STAGE_DAYS[stage]


@dataclass
class Age:
    days: int
    expected: int
    level: str  # "ok", "amber" (past the expected time) or "red" (past twice as long)


def age(project: Project, now: datetime | None = None) -> Age:
    """How long ``project`` has been in its stage, against its territory's expectation."""
    now = now or clock.now()
    days = max(0, (now - clock.aware(project.stage_since)).days)
    expected = stage_days(project.territory, project.stage)
    if project.status != ProjectStatus.active:
        level = "ok"  # a paused, abandoned or launched project is not late
    elif days > 2 * expected:
        level = "red"
    elif days > expected:
        level = "amber"
    else:
        level = "ok"
    return Age(days, expected, level)


# --- one project ---------------------------------------------------------------------


def gate(territory: Territory, stage: ProjectStage) -> list[dict]:
    """The items to tick before leaving ``stage``: [{"key", "label"}]."""
    custom = ((territory.settings or {}).get("gates") or {}).get(stage.value)
    if isinstance(custom, list):
        return [dict(item) for item in custom]
    return [{"key": key, "label": str(label)} for key, label in DEFAULT_GATES[stage]]


def gate_state(project: Project, stage: ProjectStage | None = None) -> list[dict]:
    """The gate of ``stage`` (the project's own by default), each item with
    whether it is ticked."""
    stage = stage or project.stage
    ticks = (project.gate_ticks or {}).get(stage.value, {})
    return [{**item, "ticked": item["key"] in ticks} for item in gate(project.territory, stage)]


def progress(project: Project) -> tuple[int, int]:
    """(done, in all) of the gate items up to the project's stage included
    and of its follow-up actions: progress is derived from the work done,
    never typed in."""
    done = total = 0
    for stage in ProjectStage:
        if stage > project.stage:
            break
        items = gate_state(project, stage)
        total += len(items)
        done += sum(1 for item in items if item["ticked"])
    total += len(project.actions)
    done += sum(1 for action in project.actions if action.done_at is not None)
    return done, total


def tick(organizer: Organizer, project: Project, ticked_keys) -> None:
    """Set which items of the project's current gate are ticked."""
    stage = project.stage.value
    keys = {item["key"] for item in gate(project.territory, project.stage)}
    wanted = {key for key in ticked_keys if key in keys}
    before = dict((project.gate_ticks or {}).get(stage, {}))
    if set(before) == wanted:
        return
    now = clock.now().isoformat()
    after = {key: before.get(key) or {"by": _actor(organizer), "at": now} for key in sorted(wanted)}
    project.gate_ticks = {**(project.gate_ticks or {}), stage: after}
    project.updated_at = clock.now()
    record(
        organizer, project, "project.gate", stage=stage,
        ticked=sorted(wanted - set(before)), unticked=sorted(set(before) - wanted),
    )  # fmt: skip
    commit()


def unticked_on_the_way(project: Project, stage: ProjectStage) -> list[str]:
    """The labels of the gate items not ticked between the project's stage
    and ``stage`` (none when moving back)."""
    return [
        item["label"]
        for passed in ProjectStage
        if project.stage <= passed < stage
        for item in gate_state(project, passed)
        if not item["ticked"]
    ]


def project_for(organizer: Organizer, project_id) -> Project:
    """The organizer's project ``project_id`` (refused as not found otherwise)."""
    project = db.session.get(Project, project_id) if isinstance(project_id, int) else None
    if project is None or project.territory_id not in {t.id for t in organizer.territories}:
        raise _not_found()
    return project


def move(organizer: Organizer, project: Project, stage: ProjectStage, reason: str = "") -> None:
    """Move ``project`` to ``stage``; its sheet is frozen as it enters it.
    Moving past a gate with items not ticked needs a written ``reason``."""
    reason = (reason or "").strip()[:MAX_REASON]
    if stage == project.stage:
        return
    unticked = unticked_on_the_way(project, stage)
    if unticked and not reason:
        raise ServiceError(
            "gate_not_ticked",
            _l("Some items of the gate are not ticked: say why the project moves on anyway."),
            unticked=unticked,
        )
    before = project.stage
    project.stage, project.stage_since = stage, clock.now()
    project.updated_at = project.stage_since
    _snapshot(project)
    record(
        organizer, project, "project.moved",
        before=before.value, after=stage.value, reason=reason, unticked=unticked,
    )  # fmt: skip
    commit()


def update(organizer: Organizer, project: Project, **fields) -> None:
    """Change a project's title, summary, theme, owner, status or carrier status."""
    changed = []
    for name in ("title", "summary", "theme", "owner", "status", "carrier_status"):
        if name in fields and getattr(project, name) != fields[name]:
            setattr(project, name, fields[name])
            changed.append(name)
    if not changed:
        return
    project.updated_at = clock.now()
    values = {k: str(fields[k]) for k in changed if k in ("status", "carrier_status")}
    record(organizer, project, "project.updated", fields=changed, **values)
    commit()


def history(project: Project) -> list[JournalEntry]:
    """Everything that happened to ``project``, oldest first."""
    return list(
        db.session.scalars(
            select(JournalEntry)
            .where(JournalEntry.subject == f"project:{project.id}")
            .order_by(JournalEntry.at, JournalEntry.id)
        )
    )


def sheet_fields(project: Project, fields: list | None = None) -> list[dict]:
    """The project's sheet (or one of its snapshots' ``fields``) with its
    labels in the current language."""
    labels = {}
    if project.challenge is not None:
        labels = {f["key"]: f["label"] for f in sheet_template.template(project.challenge)}
    return [
        {**field, "label": labels.get(field["key"], field["key"])}
        for field in (project.sheet if fields is None else fields)
    ]


def forget_cards(ideas: list[Idea]) -> None:
    """Cards their author deletes: their texts leave the projects made of
    them (the ideas a project came from; a title or summary, the current
    one or a stage's snapshot, that was a card's text). Call before the
    cards lose their texts; committed by the caller."""
    texts = {idea.id: idea.text for idea in ideas}
    copies = list(db.session.scalars(select(ProjectIdea).where(ProjectIdea.idea_id.in_(texts))))
    for copy in copies:
        copy.text = ""
    summaries = set(texts.values())
    titles = {_first_line(text) for text in summaries}
    projects = db.session.scalars(
        select(Project).where(
            or_(Project.id.in_({c.project_id for c in copies}), Project.idea_id.in_(texts))
        )
    )
    for project in projects:
        for version in (project, *project.snapshots):
            if version.summary in summaries:
                version.summary = ""
            if version.title in titles:
                version.title = project.theme or "…"


def promoted_ideas(idea_ids: list[int]) -> dict[int, int]:
    """Of ``idea_ids``, those promoted on their own: idea id -> project id."""
    if not idea_ids:
        return {}
    rows = db.session.execute(
        select(Project.idea_id, Project.id).where(Project.idea_id.in_(idea_ids))
    )
    return dict(rows.all())


# --- a territory's rules ------------------------------------------------------------


def _gate_key(label: str, known: dict[str, str]) -> str:
    """An item's key: kept when its label is unchanged (its ticks stay), else new."""
    if label in known:
        return known[label]
    digest = hashlib.sha1(label.encode()).hexdigest()[:10]
    return f"c{digest}"


def set_rules(
    organizer: Organizer,
    territory: Territory,
    stage_days: dict[ProjectStage, int | None],
    gates: dict[ProjectStage, list[str]],
    targets: dict[str, int | None] | None = None,
) -> None:
    """Set a territory's expected days per stage (None: the default), its
    gate items per stage (labels, one per item) and its targets (people,
    ideas, projects, jobs; None: the method's)."""
    if territory not in organizer.territories:
        raise ServiceError("forbidden", _l("You do not organize this territory."))
    days = {}
    for stage, value in stage_days.items():
        if value is not None:
            if not 1 <= value <= 3650:
                raise ServiceError("bad_days", _l("Expected time: from 1 to 3,650 days."))
            days[stage.value] = value
    lists = {}
    for stage, labels in gates.items():
        known = {item["label"]: item["key"] for item in gate(territory, stage)}
        labels = [label.strip()[:MAX_TITLE] for label in labels if label.strip()]
        if len(labels) > MAX_GATE_ITEMS:
            raise ServiceError("too_many_items", _l("At most 12 items per gate."))
        if labels == [str(label) for _key, label in DEFAULT_GATES[stage]]:
            continue  # the defaults stay the defaults (and in every language)
        lists[stage.value] = [{"key": _gate_key(label, known), "label": label} for label in labels]
    aims = {}
    for key, value in (targets or {}).items():
        if value is not None:
            if key not in TARGET_KEYS or not 1 <= value <= 1_000_000:
                raise ServiceError("bad_target", _l("A target is a number from 1 to 1,000,000."))
            aims[key] = value
    territory.settings = {
        **(territory.settings or {}), "stage_days": days, "gates": lists, "targets": aims,
    }  # fmt: skip
    journal.record(_actor(organizer), "territory.rules", territory.name, territory_id=territory.id)
    commit()


# --- following a project up -------------------------------------------------------

MAX_ACTION = 500
MAX_NOTE = 5000
MAX_FIGURE = 1e12
OUTCOME_LABELS = {
    OutcomeKind.revenue: _l("Revenue (€ per year)"),
    OutcomeKind.partners: _l("Partners"),
    OutcomeKind.funding: _l("Funding obtained (€)"),
}
# Jobs were a figure of their own before they became lines: the history
# still names the figures declared then.
JOBS_LABEL = _l("Jobs (full-time equivalents)")


def _baseline(project: Project, organizer: Organizer) -> None:
    """Every outcome starts at zero on the day the project is made: what is
    declared later is measured against it. Jobs are measured against the
    day support started (that day, unless changed): the jobs there before
    are its baseline."""
    today = clock.now().date()
    project.baseline_on, project.baseline_by = today, organizer.name
    project.outcomes = [
        ProjectOutcome(
            kind=kind, value=0.0, as_of=today, declared_by=organizer.name, baseline=True
        )  # fmt: skip
        for kind in OutcomeKind
    ]


def _required(text, limit: int, message) -> str:
    text = (text or "").strip()
    if not text:
        raise ServiceError("required", message)
    return text[:limit]


def add_action(organizer: Organizer, project: Project, what: str, who: str, due) -> None:
    """Add a follow-up action (what, who, due date or None)."""
    what = _required(what, MAX_ACTION, _l("Say what is to be done."))
    project.actions.append(ProjectAction(what=what, who=(who or "").strip()[:200], due=due))
    project.updated_at = clock.now()
    record(organizer, project, "project.action_added", what=what)
    commit()


def set_action_done(organizer: Organizer, project: Project, action_id, done: bool) -> None:
    """Mark one of the project's actions done (or not done after all)."""
    action = next((a for a in project.actions if a.id == action_id), None)
    if action is None:
        raise _not_found()
    if bool(action.done_at) == done:
        return
    action.done_at = clock.now() if done else None
    record(organizer, project, "project.action_done" if done else "project.action_reopened",
            what=action.what)  # fmt: skip
    commit()


def overdue(action: ProjectAction, today=None) -> bool:
    """An action not done whose due date has passed."""
    today = today or clock.now().date()
    return action.done_at is None and action.due is not None and action.due < today


def add_note(organizer: Organizer, project: Project, text: str) -> None:
    """Add a note, signed with the organizer's name."""
    text = _required(text, MAX_NOTE, _l("The note is empty."))
    project.notes.append(ProjectNote(text=text, author=organizer.name, at=clock.now()))
    record(organizer, project, "project.note_added")
    commit()


def declare(organizer: Organizer, project: Project, kind: OutcomeKind, value, as_of) -> None:
    """Record an outcome figure as of a date, declared by the organizer (not checked yet)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not 0 <= value <= MAX_FIGURE:  # NaN fails the comparison too
        raise ServiceError("bad_figure", _l("A figure is a positive number."))
    if as_of is None:
        raise ServiceError("bad_date", _l("Give the date the figure is true at."))
    project.outcomes.append(
        ProjectOutcome(kind=kind, value=float(value), as_of=as_of, declared_by=organizer.name)
    )
    record(organizer, project, "project.outcome", kind=kind.value, value=float(value),
            as_of=as_of.isoformat())  # fmt: skip
    commit()


def check_outcome(organizer: Organizer, project: Project, outcome_id) -> None:
    """Mark a declared figure as checked (against a payslip, accounts, a grant letter)."""
    outcome = next((o for o in project.outcomes if o.id == outcome_id), None)
    if outcome is None:
        raise _not_found()
    if outcome.checked:
        return
    outcome.checked, outcome.checked_by = True, organizer.name
    record(organizer, project, "project.outcome_checked", kind=outcome.kind.value,
            value=outcome.value)  # fmt: skip
    commit()


def latest_outcomes(project: Project) -> dict[OutcomeKind, ProjectOutcome]:
    """Each kind's most recent figure (the baseline if nothing was declared since)."""
    latest: dict[OutcomeKind, ProjectOutcome] = {}
    for outcome in project.outcomes:  # ordered by date
        latest[outcome.kind] = outcome
    return latest


def add_member(organizer: Organizer, project: Project, **fields) -> None:
    """Add someone to the team after the evening."""
    name = _required(fields.get("name"), 200, _l("Give the person's name."))
    consent = bool(fields.get("consent"))
    contact = (fields.get("contact") or "").strip()[:200] if consent else ""
    hours = fields.get("hours_per_month")
    if hours is not None and not (isinstance(hours, int) and 0 <= hours <= 200):
        raise ServiceError("bad_hours", _l("Hours per month: a number from 0 to 200."))
    project.members.append(
        ProjectMember(
            name=name,
            role=fields.get("role") or CommitRole.contribute,
            brings=(fields.get("brings") or "").strip()[:2000],
            expects=(fields.get("expects") or "").strip()[:2000],
            hours_per_month=hours,
            consent=consent,
            contact=contact,
            added_at=clock.now(),
        )
    )
    project.carrier_status = _carrier_status(project.members)
    record(organizer, project, "project.member_added", name=name)
    commit()


def take_over(organizer: Organizer, project: Project, member_id) -> None:
    """A member of the team becomes the project's owner."""
    member = next((m for m in project.members if m.id == member_id), None)
    if member is None:
        raise _not_found()
    if project.owner == member.name:
        return
    before, project.owner = project.owner, member.name
    record(organizer, project, "project.owner", before=before, after=member.name)
    commit()


def merge(organizer: Organizer, target: Project, source: Project) -> None:
    """Fold ``source`` (from another table or evening) into ``target``: its
    team and ideas join the target, and it leaves the board, pointing to the
    target. Merging it again changes nothing."""
    if source.merged_into_id == target.id:
        return
    if (
        source.id == target.id
        or source.merged_into_id is not None
        or target.merged_into_id is not None
        or source.territory_id != target.territory_id
    ):
        raise ServiceError("cannot_merge", _l("These two projects cannot be merged."))
    known = {(m.participant_id or m.name) for m in target.members}
    for member in source.members:
        if (member.participant_id or member.name) not in known:
            target.members.append(
                ProjectMember(
                    participant_id=member.participant_id, name=member.name,
                    category=member.category, role=member.role, brings=member.brings,
                    expects=member.expects, hours_per_month=member.hours_per_month,
                    consent=member.consent, contact=member.contact, added_at=clock.now(),
                )
            )  # fmt: skip
    ideas = {i.idea_id for i in target.ideas if i.idea_id is not None}
    for idea in source.ideas:
        if idea.idea_id is None or idea.idea_id not in ideas:
            target.ideas.append(
                ProjectIdea(
                    idea_id=idea.idea_id,
                    position=len(target.ideas),
                    text=idea.text,
                    votes=idea.votes,
                )  # fmt: skip
            )
    target.carrier_status = _carrier_status(target.members)
    # Its jobs and aid requests move over: a merged project leaves the board
    # and the funders' figures, what it declared must not leave with it.
    moved = len(source.jobs) + len(source.funding_requests)
    target.jobs.extend(source.jobs)
    target.funding_requests.extend(source.funding_requests)
    source.merged_into_id = target.id
    target.updated_at = source.updated_at = clock.now()
    record(organizer, target, "project.merged_from", project_id=source.id, title=source.title,
           moved=moved)  # fmt: skip
    record(organizer, source, "project.merged_into", project_id=target.id, title=target.title)
    commit()


def merge_candidates(organizer: Organizer, project: Project) -> list[Project]:
    """The projects that could be merged into ``project`` (same territory, on the board)."""
    return [
        p
        for p in projects_for(organizer, Filters(territory_id=project.territory_id))
        if p.id != project.id
    ]
