"""Impact indicators (issue 6 §6), computed from the work itself: nothing is
typed in for them. For one evening, or a territory (all its evenings and
projects): the ``Scope``. One function per family funders ask for, each
taking the scope: ``participation`` and ``returning_participants``
(mobilisation), ``production``, ``pipeline``, ``cooperation``, ``results``
(outcomes), ``funder`` (each funder's way of counting jobs) and
``over_time`` (evening after evening); ``compute`` puts them together.

Definitions (the dashboard shows them too):
- returning participants: people who gave the same contact (with consent)
  at two evenings or more of the scope; without a contact nobody can be
  recognised from one evening to the next;
- a sheet: a table whose sheet has at least one field written;
- ideas taken by a carrier: ideas linked to a project that has a carrier;
- days to a carrier: from the project's creation to the first time it had a
  carrier (0 when its table's commitments already gave it one);
- aligned interests: commitments saying both what the person brings and
  what they expect in return;
- carriers among partners: carriers who are not citizens or students
  (businesses, local authorities, associations, research);
- cooperations initiated: projects whose team mixes two kinds of actors or more
  (those who preferred not to say which are not a kind of their own);
- participants by kind of actor: those who preferred not to say are counted
  apart ("not said"), never as citizens;
- outcomes: the latest figure of each kind per project, summed; the baseline
  is the figure recorded when the project was made. Jobs are lines, one per
  job (see ``outcomes``), and each funder counts them its own way (below).

Funders' figures (``funder_profiles``), from the job lines, for a period:
- a line counts from its start date, or from the day support started (the
  project's baseline) for a job that was there before; it counts in a
  period when that day falls in it;
- volunteers are recorded but counted by no funder;
- EU / LEADER (common indicator): *new* jobs only, in FTE, employees and
  self-employed alike; jobs created before support started are the
  baseline, not new; consolidated jobs are not new;
- France Active: jobs created and jobs consolidated (kept), counted apart;
- the region: jobs created and consolidated together, in FTE and in jobs.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    ActorCategory,
    CarrierStatus,
    Commitment,
    CommitRole,
    Event,
    Idea,
    JobKind,
    JobLine,
    JournalEntry,
    OutcomeKind,
    Participant,
    Project,
    ProjectStage,
    SheetField,
    Table,
    Territory,
    Vote,
)
from . import backlog, outcomes

# The method's own aims for a territory, unless it set its own (settings["targets"]).
DEFAULT_TARGETS = {"participants": 1000, "ideas": 500, "projects": 100, "jobs": 300}
PARTNERS = {
    ActorCategory.business,
    ActorCategory.local_authority,
    ActorCategory.association,
    ActorCategory.research,
}
CATEGORY_LABELS = {
    ActorCategory.citizen: _l("Citizens"),
    ActorCategory.business: _l("Businesses"),
    ActorCategory.local_authority: _l("Local authorities"),
    ActorCategory.association: _l("Associations, social economy"),
    ActorCategory.research: _l("Research, training"),
    ActorCategory.student: _l("Students"),
    ActorCategory.other: _l("Others"),
    # Those who preferred not to say: counted apart, never as citizens.
    ActorCategory.not_said: _l("Not said"),
}


@dataclass
class Chart:
    """A chart's data: labelled values (its CSV is exactly these rows)."""

    key: str
    title: str
    rows: list[tuple[str, float]]
    targets: list[float] | None = None  # one per row, when the chart has targets

    @property
    def top(self) -> float:
        return max([v for _label, v in self.rows] + list(self.targets or []) + [1])


@dataclass
class Indicators:
    scope: str
    figures: dict[str, float | int | None] = field(default_factory=dict)
    charts: list[Chart] = field(default_factory=list)

    def chart(self, key: str) -> Chart:
        return next(c for c in self.charts if c.key == key)


@dataclass
class Family:
    """One family's part of the indicators: its figures and its charts."""

    figures: dict[str, float | int | None] = field(default_factory=dict)
    charts: list[Chart] = field(default_factory=list)


class Scope:
    """What is counted: one evening of a territory, or all its evenings and
    the projects on its board (merged ones left out), and the period of the
    funders' figures (all the time by default). Its tables, people, ideas
    and projects are read once, when a family first needs them."""

    def __init__(
        self, territory: Territory, event: Event | None = None, period: Period | None = None
    ):
        self.territory = territory
        self.event = event
        self.period = period or Period()
        self.events = [event] if event is not None else list(territory.events)
        event_ids = [e.id for e in self.events]
        self.tables = list(db.session.scalars(select(Table).where(Table.event_id.in_(event_ids))))
        self.table_ids = [t.id for t in self.tables]
        self.event_of_table = {t.id: t.event_id for t in self.tables}
        self.targets = {**DEFAULT_TARGETS, **((territory.settings or {}).get("targets") or {})}

    @property
    def name(self) -> str:
        return self.event.title if self.event is not None else self.territory.name

    @cached_property
    def people(self) -> list[Participant]:
        """The participants of the scope's tables (those removed left out)."""
        return list(
            db.session.scalars(
                select(Participant).where(
                    Participant.table_id.in_(self.table_ids), Participant.removed.is_(False)
                )
            )
        )

    @cached_property
    def ideas(self) -> list[Idea]:
        """The ideas on the walls: neither deleted nor set aside."""
        return list(
            db.session.scalars(
                select(Idea).where(
                    Idea.table_id.in_(self.table_ids),
                    Idea.deleted.is_(False),
                    Idea.hidden.is_(False),
                )
            )
        )

    @cached_property
    def projects(self) -> list[Project]:
        """The territory's projects on the board (of the evening, for one),
        with their team, ideas, outcomes and jobs loaded."""
        query = (
            select(Project)
            .where(Project.territory_id == self.territory.id, Project.merged_into_id.is_(None))
            .options(
                selectinload(Project.members),
                selectinload(Project.ideas),
                selectinload(Project.outcomes),
                selectinload(Project.jobs),
            )
        )
        if self.event is not None:
            query = query.where(Project.event_id == self.event.id)
        return list(db.session.scalars(query))

    @property
    def job_lines(self) -> list[JobLine]:
        return [line for project in self.projects for line in project.jobs]


def compute(territory: Territory, event: Event | None = None) -> Indicators:
    """The indicators of ``event``, or of the whole ``territory`` if None."""
    scope = Scope(territory, event)
    result = Indicators(scope=scope.name)
    for family in (
        participation(scope),
        returning_participants(scope),
        production(scope),
        pipeline(scope),
        cooperation(scope),
        results(scope),
        over_time(scope),
    ):
        result.figures.update(family.figures)
        result.charts.extend(family.charts)
    result.figures.update({f"target_{k}": v for k, v in scope.targets.items()})
    return result


def participation(scope: Scope) -> Family:
    """Mobilisation: who came, per 1,000 inhabitants, and by kind of actor."""
    people = scope.people
    population = scope.territory.population
    by_category = Counter(p.category for p in people)
    return Family(
        {
            "participants": len(people),
            "per_1000_inhabitants": round(1000 * len(people) / population, 2)
            if population
            else None,
        },
        [
            Chart(
                "categories",
                str(_l("Participants by kind of actor")),
                [
                    (str(label), by_category.get(category, 0))
                    for category, label in CATEGORY_LABELS.items()
                ],
            )
        ],
    )


def returning_participants(scope: Scope) -> Family:
    """People recognised at two evenings or more of the scope, by the
    contact they gave with consent (case and spaces aside)."""
    seen: dict[str, set[int]] = {}
    for person in scope.people:
        if person.contact_consent and person.contact.strip():
            seen.setdefault(person.contact.strip().casefold(), set()).add(
                scope.event_of_table[person.table_id]
            )
    return Family({"returning": sum(1 for evenings in seen.values() if len(evenings) > 1)})


def production(scope: Scope) -> Family:
    """What the tables produced: tables, ideas on the walls, sheets written, votes."""
    sheets = db.session.scalars(
        select(SheetField.table_id).where(
            SheetField.table_id.in_(scope.table_ids), SheetField.text != ""
        )
    )
    votes = db.session.scalars(
        select(Vote.id).where(Vote.table_id.in_(scope.table_ids), Vote.active.is_(True))
    )
    return Family(
        {
            "tables": len(scope.tables),
            "ideas": len(scope.ideas),
            "sheets": len(set(sheets)),
            "votes": len(list(votes)),
        }
    )


def pipeline(scope: Scope) -> Family:
    """The projects: how many, per stage, the funnel against the targets,
    the ideas taken by a carrier and the median days to a carrier."""
    projects = scope.projects
    stages = Counter(p.stage for p in projects)
    carried = [
        p for p in projects if p.carrier_status in (CarrierStatus.found, CarrierStatus.collective)
    ]
    histories: dict[str, list[JournalEntry]] = {}
    if carried:  # one query for every carried project's history
        for entry in db.session.scalars(
            select(JournalEntry)
            .where(JournalEntry.subject.in_([f"project:{p.id}" for p in carried]))
            .order_by(JournalEntry.at, JournalEntry.id)
        ):
            histories.setdefault(entry.subject, []).append(entry)
    days = [_days_to_carrier(p, histories.get(f"project:{p.id}", [])) for p in carried]
    days = [d for d in days if d is not None]
    funnel = Chart(
        "funnel",
        str(_l("The funnel: people, ideas, projects and jobs, against the targets")),
        [
            (str(_l("Participants")), len(scope.people)),
            (str(_l("Ideas")), len(scope.ideas)),
            (str(_l("Projects")), len(projects)),
            (str(_l("Jobs (FTE)")), _new_jobs(scope)),
        ],
        targets=[scope.targets[k] for k in ("participants", "ideas", "projects", "jobs")],
    )
    stages_chart = Chart(
        "stages",
        str(_l("Projects per stage")),
        [(str(backlog.STAGE_LABELS[s]), stages.get(s, 0)) for s in ProjectStage],
    )
    return Family(
        {
            "projects": len(projects),
            "ideas_carried": sum(len(p.ideas) for p in carried),
            "median_days_to_carrier": statistics.median(days) if days else None,
        },
        [funnel, stages_chart],
    )


def cooperation(scope: Scope) -> Family:
    """Commitments, aligned interests, carriers among partners and teams
    that mix kinds of actors."""
    commitments = list(
        db.session.scalars(
            select(Commitment).where(
                Commitment.table_id.in_(scope.table_ids), Commitment.withdrawn.is_(False)
            )
        )
    )
    members = [m for p in scope.projects for m in p.members]

    def kinds(project: Project) -> set[ActorCategory]:
        return {m.category for m in project.members} - {None, ActorCategory.not_said}

    return Family(
        {
            "commitments": len(commitments),
            "aligned": sum(1 for c in commitments if c.contribution.strip() and c.expects.strip()),
            "carriers_among_partners": sum(
                1 for m in members if m.role == CommitRole.carry and m.category in PARTNERS
            ),
            "cooperations": sum(1 for p in scope.projects if len(kinds(p)) >= 2),
        }
    )


def results(scope: Scope) -> Family:
    """The outcome figures: each kind's latest figure per project, summed;
    jobs, the new jobs in FTE (as the EU counts them, over all time); how
    many of those figures (not baselines) and job lines were declared, and
    how many checked."""
    totals = Counter()
    checked = declared = 0
    for project in scope.projects:
        for kind, outcome in backlog.latest_outcomes(project).items():
            totals[kind] += outcome.value
            if not outcome.baseline:
                declared += 1
                checked += outcome.checked
    figures = {f"outcome_{kind.value}": totals.get(kind, 0.0) for kind in OutcomeKind}
    lines = [line for line in scope.job_lines if not line.volunteer]
    figures["outcome_jobs"] = _new_jobs(scope)
    figures["outcomes_declared"] = declared + len(lines)
    figures["outcomes_checked"] = checked + sum(1 for line in lines if line.checked_by)
    return Family(figures)


def funder(scope: Scope) -> list[FunderProfile]:
    """Each funder's figures from the scope's job lines over its period (the
    funder report does the same for a territory's lines)."""
    return funder_profiles(scope.job_lines, scope.period)


def over_time(scope: Scope) -> Family:
    """For a territory: participants evening after evening (undated last)."""
    if scope.event is not None:
        return Family()
    dated = sorted(scope.events, key=lambda e: (e.date is None, e.date, e.id))
    count = Counter(scope.event_of_table[p.table_id] for p in scope.people)
    return Family(
        charts=[
            Chart(
                "over_time",
                str(_l("Participants, evening after evening")),
                [(f"{e.date or ''} {e.title}".strip(), count.get(e.id, 0)) for e in dated],
            )
        ]
    )


def _new_jobs(scope: Scope) -> float:
    """The new jobs in FTE, as the EU counts them, over all time (the
    results of the projects so far, whatever the funders' period)."""
    return eu_leader(scope.job_lines, Period()).figures[0].value


# --- funders' figures -------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both included (None: no bound)."""

    start: date | None = None
    end: date | None = None

    def __contains__(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass
class FunderFigure:
    """One figure of a funder's profile, with the lines it was computed from."""

    key: str
    label: str
    lines: list[JobLine]
    unit: str = "fte"  # "fte": the lines' FTE summed; "jobs": the lines counted

    @property
    def value(self) -> float:
        if self.unit == "jobs":
            return len(self.lines)
        return round(sum(line.fte for line in self.lines), 4)

    @property
    def checked(self) -> float:
        """The same figure, of the checked lines only."""
        checked = [line for line in self.lines if line.checked_by]
        return len(checked) if self.unit == "jobs" else round(sum(j.fte for j in checked), 4)


@dataclass
class FunderProfile:
    key: str
    title: str
    rule: str
    figures: list[FunderFigure]


def _counted(lines: list[JobLine], period: Period, kind: JobKind) -> list[JobLine]:
    """The lines of ``kind`` a funder counts in ``period``: no volunteers;
    a job created before support started is the baseline, not an outcome."""
    return [
        line
        for line in lines
        if line.kind == kind
        and not line.volunteer
        and not (kind == JobKind.created and outcomes.pre_baseline(line))
        and outcomes.counted_from(line) in period
    ]


def eu_leader(lines: list[JobLine], period: Period) -> FunderProfile:
    """The EU's common indicator (LEADER's too): new jobs, in FTE."""
    return FunderProfile(
        "eu_leader",
        str(_l("European Union / LEADER")),
        str(
            _l(
                "New jobs only, in full-time equivalents, employees and self-employed alike; "
                "volunteers, jobs there before support started and jobs consolidated are not "
                "counted."
            )
        ),  # fmt: skip
        [
            FunderFigure(
                "new_jobs", str(_l("New jobs (FTE)")), _counted(lines, period, JobKind.created)
            )
        ],  # fmt: skip
    )


def france_active(lines: list[JobLine], period: Period) -> FunderProfile:
    """France Active: jobs created and jobs consolidated, apart."""
    return FunderProfile(
        "france_active",
        "France Active",
        str(
            _l(
                "Jobs created and jobs consolidated (kept), counted apart, in full-time "
                "equivalents; volunteers are not counted."
            )
        ),  # fmt: skip
        [
            FunderFigure(
                "created", str(_l("Jobs created (FTE)")), _counted(lines, period, JobKind.created)
            ),
            FunderFigure(
                "consolidated",
                str(_l("Jobs consolidated (FTE)")),
                _counted(lines, period, JobKind.consolidated),
            ),
        ],  # fmt: skip
    )


def region(lines: list[JobLine], period: Period) -> FunderProfile:
    """The region: jobs created and consolidated together, in FTE and in jobs."""
    both = _counted(lines, period, JobKind.created) + _counted(lines, period, JobKind.consolidated)
    both.sort(key=lambda line: (outcomes.counted_from(line), line.id))
    return FunderProfile(
        "region",
        str(_l("Region")),
        str(
            _l(
                "Jobs created and consolidated together, in full-time equivalents and in "
                "number of jobs; volunteers are not counted."
            )
        ),  # fmt: skip
        [
            FunderFigure("jobs_fte", str(_l("Jobs created or consolidated (FTE)")), both),
            FunderFigure("jobs", str(_l("Jobs created or consolidated (number)")), both, "jobs"),
        ],
    )


def territory_jobs(territory: Territory) -> list[JobLine]:
    """Every job line of the territory's projects on the board (merged ones
    left out), their projects loaded, in the order they count from."""
    lines = list(
        db.session.scalars(
            select(JobLine)
            .join(Project, Project.id == JobLine.project_id)
            .where(Project.territory_id == territory.id, Project.merged_into_id.is_(None))
            .options(selectinload(JobLine.project))
        )
    )
    return sorted(lines, key=lambda line: (outcomes.counted_from(line), line.id))


def funder_profiles(lines: list[JobLine], period: Period) -> list[FunderProfile]:
    """Each funder's figures from ``lines`` over ``period``."""
    return [family(lines, period) for family in (eu_leader, france_active, region)]


def _days_to_carrier(project: Project, history: list[JournalEntry]) -> int | None:
    """Days from the project's creation to its first carrier (see the module),
    read from its ``history`` (journal entries, oldest first)."""
    created = project.created_at
    for entry in history:
        data = entry.data or {}
        carriers_then = [
            m for m in project.members if m.role == CommitRole.carry and m.added_at <= entry.at
        ]
        if entry.action == "project.created" and carriers_then:
            return 0
        if entry.action == "project.updated" and data.get("carrier_status") in (
            CarrierStatus.found.value,
            CarrierStatus.collective.value,
        ):
            return (entry.at - created).days
        if entry.action == "project.member_added" and project.carrier_status != CarrierStatus.none:
            carrier = next((m for m in project.members if m.name == data.get("name")), None)
            if carrier is not None and carrier.role == CommitRole.carry:
                return (entry.at - created).days
    return None
