"""Impact indicators computed from a small known dataset; every expected
value is worked out by hand in the comments."""

from datetime import date

from workshop import clock
from workshop.extensions import db
from workshop.models import EventStatus, OutcomeKind
from workshop.services import backlog, events, outcomes
from workshop.services import indicators as impact

from .helpers import make_event, make_organizer, read, signed_in
from .test_backlog import run_table


def dataset(app):
    """Territory of 10,000 inhabitants (make_organizer). Evening A, closed:
    table 1 — Inès (business) and Noé (citizen), three cards, both vote for
    "Navette" (2 votes), a sheet, Inès carries (brings and expects), Noé
    contributes (expects only); table 2 — Zoé (association), one card.
    Evening B, open: Inès again (same contact), one card. Project of table 1:
    2.5 jobs created (FTE, three lines, one checked) and 10,000 € revenue
    (not checked)."""
    with app.app_context():
        organizer = make_organizer()
        a = make_event(organizer, title="Soirée A", tables=2)
        a.date = date(2026, 3, 1)
        people, _ = run_table(
            a.tables[0],
            cards={"Inès": ["Navette", "Marché"], "Noé": ["Atelier"]},
            ballots={"Inès": ["Navette"], "Noé": ["Navette"]},
            sheet={"solution": "Une navette solidaire"},
            commitments={"Inès": ("carry", "Mon garage"), "Noé": ("contribute", "")},
            categories={"Inès": "business", "Noé": "citizen"},
        )
        people["Inès"].contact, people["Inès"].contact_consent = "Ines@Example.org ", True
        run_table(a.tables[1], cards={"Zoé": ["Épicerie"]}, ballots={}, sheet={},
                  commitments={}, categories={"Zoé": "association"})  # fmt: skip
        b = make_event(organizer, title="Soirée B", tables=1)
        b.date = date(2026, 10, 1)
        again, _ = run_table(b.tables[0], cards={"Inès": ["Covoiturage"]}, ballots={}, sheet={},
                             commitments={}, categories={"Inès": "business"})  # fmt: skip
        again["Inès"].contact, again["Inès"].contact_consent = "ines@example.org", True
        db.session.commit()
        events.update_event(organizer, a, status=EventStatus.closed)  # two projects
        navette = next(p for p in backlog.projects_for(organizer) if p.table_id == a.tables[0].id)
        today = clock.now().date()
        for fte in (1, 1, 0.5):  # 2.5 jobs created since the project was made
            job = {"kind": "created", "fte": fte, "contract": "cdi", "employment": "employee"}
            outcomes.add_job(organizer, navette, {**job, "start_date": today})
        backlog.declare(organizer, navette, OutcomeKind.revenue, 10000, date(2027, 1, 1))
        outcomes.check_job(organizer, navette, navette.jobs[0].id)
        ids = a.territory_id, a.id
        db.session.remove()
    return ids


def test_the_territorys_indicators(app):
    territory_id, _a = dataset(app)

    def compute(session):
        from workshop.models import Territory

        return impact.compute(session.get(Territory, territory_id))

    found = read(app, compute)
    f = found.figures
    assert f["participants"] == 4  # Inès, Noé, Zoé at A; Inès at B
    assert f["per_1000_inhabitants"] == 0.4  # 1000 × 4 / 10,000
    assert f["returning"] == 1  # Inès: the same contact (case and spaces aside) at A and B
    assert (f["tables"], f["ideas"], f["sheets"], f["votes"]) == (3, 5, 1, 2)
    assert f["projects"] == 2  # A's two tables; B is still open
    assert f["ideas_carried"] == 1  # "Navette", the one voted card of the carried project
    assert f["median_days_to_carrier"] == 0  # its carrier came from the evening
    assert (f["commitments"], f["aligned"]) == (2, 1)  # Noé said nothing he brings
    assert f["carriers_among_partners"] == 1  # Inès, a business
    assert f["cooperations"] == 1  # table 1's team: a business and a citizen
    assert (f["outcome_jobs"], f["outcome_revenue"], f["outcome_funding"]) == (2.5, 10000, 0)
    assert (f["outcomes_declared"], f["outcomes_checked"]) == (4, 1)  # 3 job lines, 1 figure
    categories = dict(found.chart("categories").rows)
    assert (categories["Entreprises"], categories["Citoyens"], categories["Étudiants"]) == (2, 1, 0)
    assert categories["Associations, économie sociale"] == 1
    assert [v for _label, v in found.chart("funnel").rows] == [4, 5, 2, 2.5]
    stages = dict(found.chart("stages").rows)
    assert stages["D2 · Opportunité qualifiée"] == 2  # both tables were creative
    assert [v for _label, v in found.chart("over_time").rows] == [3, 1]  # A then B


def test_one_evenings_indicators_and_the_page(app):
    territory_id, a = dataset(app)

    def compute(session):
        from workshop.models import Event, Territory

        return impact.compute(session.get(Territory, territory_id), session.get(Event, a))

    f = read(app, compute).figures
    assert (f["participants"], f["returning"], f["ideas"], f["projects"]) == (3, 0, 4, 2)

    http = signed_in(app)
    page = http.get(f"/backlog/indicators?territory={territory_id}&event={a}")
    assert page.status_code == 200 and "Soirée A" in page.get_data(as_text=True)
    table = http.get(f"/backlog/indicators/categories.csv?territory={territory_id}")
    rows = table.data.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("Participants par type d’acteur") and "Entreprises,2" in rows
    assert http.get(f"/backlog/indicators/nothing.csv?territory={territory_id}").status_code == 404
    with app.app_context():
        make_organizer("autre@example.org", "Autre pays")
        db.session.remove()
    intruder = signed_in(app, "autre@example.org")
    # Another territory's evening is not found; their own territory shows instead of ours.
    assert (
        intruder.get(f"/backlog/indicators?territory={territory_id}&event={a}").status_code == 404
    )
    assert "Soirée A" not in intruder.get(f"/backlog/indicators?territory={territory_id}").get_data(
        as_text=True
    )


def test_the_funnel_is_drawn_against_the_territorys_targets(app):
    territory_id, _a = dataset(app)
    http = signed_in(app)
    funnel = http.get(f"/backlog/indicators/funnel.csv?territory={territory_id}")
    assert funnel.data.decode("utf-8-sig").splitlines()[1:] == [
        "Participants,4,1000",
        "Idées,5,500",
        "Projets,2,100",
        "Emplois (ETP),2.5,300",
    ]  # the method's aims by default

    http.post(f"/backlog/territories/{territory_id}/rules",
              data={"target-participants": "40", "target-jobs": "3"})  # fmt: skip
    funnel = http.get(f"/backlog/indicators/funnel.csv?territory={territory_id}")
    assert [row.split(",")[-1] for row in funnel.data.decode("utf-8-sig").splitlines()[1:]] == [
        "40", "500", "100", "3",
    ]  # fmt: skip
    page = http.get(f"/backlog/indicators?territory={territory_id}").get_data(as_text=True)
    assert page.count('class="target"') == 4


def test_those_who_prefer_not_to_say_are_counted_apart_never_as_citizens(app):
    """Skipping the question is "not said", in the chart and in each table's mix."""
    from workshop.services import control

    from .helpers import join

    with app.app_context():
        organizer = make_organizer()
        event = make_event(organizer, title="Soirée C", tables=1)
        for name, category in [("Ana", "citizen"), ("Bo", "not_said"), ("Cy", "not_said")]:
            join(event.tables[0], name, category)
        found = impact.compute(event.territory, event)
        mix = control.mixes(event)[event.tables[0].id]
        db.session.remove()
    categories = dict(found.chart("categories").rows)
    assert (categories["Citoyens"], categories["Non précisé"]) == (1, 2)
    assert mix == {"citizen": 1, "not_said": 2}
