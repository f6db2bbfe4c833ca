"""Each family of indicators on its own, on a small backlog built by hand;
every expected figure is worked out in the comments.

The territory (10,000 inhabitants) and its two evenings:
- evening A (10 January 2027), closed:
  table 1 — Inès (business, contact given with consent) and Noé (citizen,
  a contact but no consent) post Navette, Marché and Atelier; both vote
  for Navette; the sheet's solution is written; Inès carries ("Mon
  garage"), Noé contributes (says nothing he brings);
  table 2 — Zoé (association) posts Épicerie, Paul (not said) posts
  Jardin, which the facilitator sets aside; Zoé contributes ("Un local"),
  Paul keeps informed (brings nothing);
- evening B (1 March 2027), open: Inès again (the same contact, other
  case), Léo (student, Noé's contact, with consent) posts Covoiturage;
  Rémi joins and is taken off the table.
Closing A makes two projects at D2 (both tables were creative): Navette
(carried by Inès, so found from the start) and Épicerie (no carrier).
Covoiturage is made a project at D0 on 10 January; ten days later someone
is added to carry it. The Navette's jobs, support started on 10 January:
J1 created 1 FTE from 15 January (checked), J2 created 0.5 FTE
self-employed from 14 February, J3 consolidated 1 FTE there since 2020,
J4 created 1 FTE from 1 December 2026 (before support: the baseline),
J5 a volunteer. Its revenue: 10,000 € then 12,000 € (checked)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from workshop import clock
from workshop.extensions import db
from workshop.models import (
    CommitRole,
    Event,
    EventStatus,
    Idea,
    OutcomeKind,
    Participant,
    Project,
    Territory,
)
from workshop.services import backlog, events, outcomes, writes
from workshop.services import indicators as impact

from .helpers import committed, make_event
from .test_backlog import run_table, write

T0 = datetime(2027, 1, 10, 18, 0, tzinfo=UTC)


def job(kind, fte, start, employment="employee", contract="cdi", **more) -> dict:
    return {"kind": kind, "fte": fte, "contract": contract, "employment": employment,
            "start_date": start, **more}  # fmt: skip


@pytest.fixture
def scope_ids(organizer) -> dict:
    """The backlog of the module's docstring; the ids to find it again."""
    clock.set_now(T0)
    a = make_event(organizer, title="Soirée A", tables=2)
    a.date = date(2027, 1, 10)
    people, _ = run_table(
        a.tables[0],
        cards={"Inès": ["Navette", "Marché"], "Noé": ["Atelier"]},
        ballots={"Inès": ["Navette"], "Noé": ["Navette"]},
        sheet={"solution": "Une navette solidaire"},
        commitments={"Inès": ("carry", "Mon garage"), "Noé": ("contribute", "")},
        categories={"Inès": "business", "Noé": "citizen"},
    )
    people["Inès"].contact, people["Inès"].contact_consent = "Ines@Example.org ", True
    people["Noé"].contact, people["Noé"].contact_consent = "noe@example.org", False
    others, ideas = run_table(
        a.tables[1],
        cards={"Zoé": ["Épicerie"], "Paul": ["Jardin"]},
        ballots={},
        sheet={},
        commitments={"Zoé": ("contribute", "Un local"), "Paul": ("follow", "")},
        categories={"Zoé": "association", "Paul": "not_said"},
    )
    write(writes.as_facilitator(a.tables[1]), "idea.hide", id=ideas["Jardin"])

    b = make_event(organizer, title="Soirée B", tables=1)
    b.date = date(2027, 3, 1)
    again, ideas_b = run_table(
        b.tables[0],
        cards={"Inès": [], "Léo": ["Covoiturage"], "Rémi": []},
        ballots={},
        sheet={},
        commitments={},
        categories={"Inès": "business", "Léo": "student", "Rémi": "citizen"},
    )
    again["Inès"].contact, again["Inès"].contact_consent = "ines@example.org", True
    again["Léo"].contact, again["Léo"].contact_consent = "noe@example.org", True
    write(writes.as_facilitator(b.tables[0]), "participant.remove",
          participant_id=again["Rémi"].id)  # fmt: skip
    db.session.commit()

    events.update_event(organizer, a, status=EventStatus.closed)
    navette, epicerie = sorted(
        (p for p in backlog.projects_for(organizer) if p.event_id == a.id),
        key=lambda p: p.table_id,
    )
    covoiturage = backlog.promote_idea(organizer, db.session.get(Idea, ideas_b["Covoiturage"]))
    clock.set_now(T0 + timedelta(days=10))
    backlog.add_member(organizer, covoiturage, name="Camille", role=CommitRole.carry)

    clock.set_now(T0 + timedelta(days=40))  # 19 February: every job has started
    for fields in (
        job("created", 1, date(2027, 1, 15)),  # J1
        job("created", 0.5, date(2027, 2, 14), "self_employed", "self_employed"),  # J2
        job("consolidated", 1, date(2020, 5, 1)),  # J3
        job("created", 1, date(2026, 12, 1)),  # J4
        job("created", 1, date(2027, 1, 20), volunteer=True),  # J5
    ):
        outcomes.add_job(organizer, navette, fields)
    outcomes.check_job(organizer, navette, navette.jobs[0].id)
    backlog.declare(organizer, navette, OutcomeKind.revenue, 10000, date(2027, 1, 31))
    backlog.declare(organizer, navette, OutcomeKind.revenue, 12000, date(2027, 2, 15))
    backlog.check_outcome(organizer, navette, navette.outcomes[-1].id)
    clock.set_now(None)
    return {"territory": a.territory_id, "a": a.id, "b": b.id,
            "projects": (navette.id, epicerie.id, covoiturage.id)}  # fmt: skip


def family(ids, name, event=None, period=None):
    """The family ``name`` of the territory's scope (of ``event``: "a" or
    "b"; over ``period``), read in a session of its own (what was committed)."""

    def run(session):
        scope = impact.Scope(
            session.get(Territory, ids["territory"]),
            session.get(Event, ids[event]) if event else None,
            period,
        )
        found = getattr(impact, name)(scope)
        if name == "funder":
            return {
                (profile.key, figure.key): figure.value
                for profile in found
                for figure in profile.figures
            }
        return found.figures, {chart.key: chart for chart in found.charts}

    return committed(run)


def test_participation(scope_ids):
    figures, charts = family(scope_ids, "participation")
    # A: Inès, Noé, Zoé, Paul; B: Inès, Léo (Rémi was taken off): 6
    assert figures == {"participants": 6, "per_1000_inhabitants": 0.6}  # 1000 × 6 / 10,000
    categories = [value for _label, value in charts["categories"].rows]
    # citizens (Noé), businesses (Inès twice), local authorities, associations
    # (Zoé), research, students (Léo), others, not said (Paul)
    assert categories == [1, 2, 0, 1, 0, 1, 0, 1]

    figures, _charts = family(scope_ids, "participation", "a")
    assert figures == {"participants": 4, "per_1000_inhabitants": 0.4}


def test_returning_participants(scope_ids):
    # Inès: the same contact at A and B (case and spaces aside). Léo gave
    # Noé's contact, but Noé gave no consent: nobody recognises him.
    assert family(scope_ids, "returning_participants") == ({"returning": 1}, {})
    assert family(scope_ids, "returning_participants", "b") == ({"returning": 0}, {})


def test_production(scope_ids):
    # 3 tables; ideas: Navette, Marché, Atelier, Épicerie, Covoiturage (Jardin
    # set aside); one sheet written (A's table 1); two votes (for Navette).
    assert family(scope_ids, "production") == (
        {"tables": 3, "ideas": 5, "sheets": 1, "votes": 2},
        {},
    )
    assert family(scope_ids, "production", "b") == (
        {"tables": 1, "ideas": 1, "sheets": 0, "votes": 0},
        {},
    )


def test_pipeline(scope_ids):
    figures, charts = family(scope_ids, "pipeline")
    # Navette and Covoiturage have a carrier: Navette's one voted card and
    # Covoiturage's card are taken; 0 days (from the evening) and 10 days.
    assert figures == {"projects": 3, "ideas_carried": 2, "median_days_to_carrier": 5}
    # people, ideas, projects, new jobs (J1 + J2 = 1.5 FTE), against the
    # method's default targets
    assert [value for _label, value in charts["funnel"].rows] == [6, 5, 3, 1.5]
    assert charts["funnel"].targets == [1000, 500, 100, 300]
    # D0 Covoiturage; D2 Navette and Épicerie
    assert [value for _label, value in charts["stages"].rows] == [1, 0, 2, 0, 0, 0]

    figures, charts = family(scope_ids, "pipeline", "a")
    assert figures == {"projects": 2, "ideas_carried": 1, "median_days_to_carrier": 0}
    assert [value for _label, value in charts["funnel"].rows] == [4, 4, 2, 1.5]


def test_cooperation(scope_ids):
    # Commitments: Inès, Noé, Zoé, Paul; aligned (brings and expects): Inès,
    # Zoé. Carriers among partners: Inès (a business; Camille, added later,
    # has no kind). Teams mixing kinds: Navette (business and citizen);
    # Épicerie's association and "not said" make one kind only.
    assert family(scope_ids, "cooperation") == (
        {"commitments": 4, "aligned": 2, "carriers_among_partners": 1, "cooperations": 1},
        {},
    )
    assert family(scope_ids, "cooperation", "b")[0]["commitments"] == 0


def test_results(scope_ids):
    figures, charts = family(scope_ids, "results")
    assert charts == {}
    # Revenue: the latest figure, 12,000 €; new jobs: J1 + J2 = 1.5 FTE.
    # Declared: the latest revenue figure (the one that counts) and J1–J4
    # (the volunteer aside): 5; checked: that revenue figure and J1: 2.
    assert figures == {
        "outcome_revenue": 12000,
        "outcome_partners": 0,
        "outcome_funding": 0,
        "outcome_jobs": 1.5,
        "outcomes_declared": 5,
        "outcomes_checked": 2,
    }
    assert family(scope_ids, "results", "b")[0]["outcome_jobs"] == 0


def test_funder(scope_ids):
    # All the time: EU new jobs J1 + J2; France Active created J1 + J2 and
    # consolidated J3 (counted from the day support started); the region
    # J1 + J2 + J3, 2.5 FTE in 3 jobs. J4 (before support) and J5 (a
    # volunteer) count nowhere.
    assert family(scope_ids, "funder") == {
        ("eu_leader", "new_jobs"): 1.5,
        ("france_active", "created"): 1.5,
        ("france_active", "consolidated"): 1,
        ("region", "jobs_fte"): 2.5,
        ("region", "jobs"): 3,
    }
    # 10 to 31 January: J1 (15 January) and J3 (from 10 January) only.
    january = impact.Period(date(2027, 1, 10), date(2027, 1, 31))
    assert family(scope_ids, "funder", period=january) == {
        ("eu_leader", "new_jobs"): 1,
        ("france_active", "created"): 1,
        ("france_active", "consolidated"): 1,
        ("region", "jobs_fte"): 2,
        ("region", "jobs"): 2,
    }
    # The period is the funders' only: the results count every new job.
    assert family(scope_ids, "results", period=january)[0]["outcome_jobs"] == 1.5
    # Evening B's scope: Covoiturage has no job.
    assert set(family(scope_ids, "funder", "b").values()) == {0}


def test_over_time(scope_ids):
    figures, charts = family(scope_ids, "over_time")
    assert figures == {}
    assert charts["over_time"].rows == [("2027-01-10 Soirée A", 4), ("2027-03-01 Soirée B", 2)]
    # One evening has no "over time".
    assert family(scope_ids, "over_time", "a") == ({}, {})


def test_compute_is_the_families_together(scope_ids):
    """``compute`` gives every family's figures and charts, in order, and
    the territory's targets."""

    def run(session):
        territory = session.get(Territory, scope_ids["territory"])
        return impact.compute(territory)

    found = committed(run)
    expected = {}
    for name in ("participation", "returning_participants", "production", "pipeline",
                 "cooperation", "results"):  # fmt: skip
        expected.update(family(scope_ids, name)[0])
    expected.update({"target_participants": 1000, "target_ideas": 500, "target_projects": 100,
                     "target_jobs": 300})  # fmt: skip
    assert list(found.figures.items()) == list(expected.items())
    assert [c.key for c in found.charts] == ["categories", "funnel", "stages", "over_time"]
    # Rémi, taken off the table, is still stored: the families leave him out.
    assert committed(
        lambda s: s.scalar(select(Participant).where(Participant.display_name == "Rémi")).removed
    )
    assert committed(lambda s: len(s.scalars(select(Project)).all())) == 3
