"""Outcomes as funders count them (issue 19 §5): jobs as dated lines, a
baseline per project, funding requests, each funder's figures per period,
and the funder report. Also the migration of the old jobs figures."""

import io
from datetime import UTC, date, datetime

import openpyxl
import pypdf
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from workshop import clock, create_app
from workshop.extensions import db
from workshop.models import JobLine, JournalEntry, Project
from workshop.services import ServiceError, backlog, outcomes
from workshop.services import indicators as impact

from .helpers import app_config, committed, make_organizer, prepare, read, signed_in
from .test_backlog import _three_projects

BEFORE = "a3c4e5f60718"  # the last revision with one jobs figure per project


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request, tmp_path) -> dict:
    """The configuration of an app on a new database of each kind."""
    if request.param == "sqlite":
        return app_config(tmp_path / "old.db")
    url = request.getfixturevalue("postgres_url")
    return {**app_config(tmp_path / "unused.db"), "SQLALCHEMY_DATABASE_URI": url}


def plain(rows) -> list[tuple]:
    """Rows as SQLite and PostgreSQL both give them: days as ISO text, yes/no as 1/0."""

    def value(v):
        if isinstance(v, date):
            return v.isoformat()
        return int(v) if isinstance(v, bool) else v

    return [tuple(value(v) for v in row) for row in rows]


def test_old_jobs_figures_migrate_to_lines_and_back(old_database):
    """Every declared jobs figure survives the upgrade (the last one as a
    migrated line, the others in it) and comes back on the downgrade."""
    app = create_app(old_database)
    with app.app_context():
        upgrade(revision=BEFORE)
        run = lambda sql, **values: db.session.execute(text(sql), values)  # noqa: E731
        run("INSERT INTO territories (id, name, settings, created_at) "
            "VALUES (1, 'Pays', '{}', '2026-01-01 10:00:00')")  # fmt: skip
        for project_id, title in ((1, "Navette"), (2, "Épicerie")):
            run("INSERT INTO projects (id, territory_id, title, summary, theme, stage, "
                "stage_since, status, carrier_status, owner, sheet, gate_ticks, created_at, "
                "updated_at) VALUES (:id, 1, :title, '', '', 'd2', '2026-01-05 10:00:00', "
                "'active', 'none', '', '[]', '{}', '2026-01-05 10:00:00', "
                "'2026-01-05 10:00:00')", id=project_id, title=title)  # fmt: skip
        outcome = ("INSERT INTO project_outcomes (project_id, kind, value, as_of, declared_by, "
                   "baseline, checked, checked_by, created_at) VALUES (:p, :kind, :value, :as_of, "
                   ":by, :baseline, :checked, :checked_by, '2026-06-01 10:00:00')")  # fmt: skip
        for project_id in (1, 2):
            for kind in ("jobs", "revenue"):
                run(outcome, p=project_id, kind=kind, value=0, as_of=date(2026, 1, 5), by="Orga",
                    baseline=True, checked=False, checked_by="")  # fmt: skip
        # The shuttle declared 2 FTE in March, then 3.5 (checked) in June.
        run(outcome, p=1, kind="jobs", value=2, as_of=date(2026, 3, 1), by="Léa", baseline=False,
            checked=False, checked_by="")  # fmt: skip
        run(outcome, p=1, kind="jobs", value=3.5, as_of=date(2026, 6, 1), by="Léa", baseline=False,
            checked=True, checked_by="Marc")  # fmt: skip
        run(outcome, p=1, kind="revenue", value=12000, as_of=date(2026, 6, 1), by="Léa",
            baseline=False, checked=False, checked_by="")  # fmt: skip
        db.session.commit()

        upgrade()

        lines = run("SELECT project_id, kind, fte, start_date, declared_by, checked_by, "
                    "migrated FROM project_jobs").all()  # fmt: skip
        # One line for the shuttle: its last figure; the grocery declared none.
        assert plain(lines) == [(1, "created", 3.5, "2026-06-01", "Léa", "Marc", 1)]
        assert plain(run("SELECT id, baseline_on, baseline_by FROM projects ORDER BY id")) == [
            (1, "2026-01-05", "Orga"), (2, "2026-01-05", "Orga"),
        ]  # fmt: skip
        left = run("SELECT project_id, kind, value FROM project_outcomes ORDER BY id").all()
        assert [tuple(r) for r in left] == [
            (1, "revenue", 0.0), (2, "revenue", 0.0), (1, "revenue", 12000.0)
        ]  # fmt: skip
        shuttle = db.session.get(Project, 1)
        [line] = shuttle.jobs
        assert [f["value"] for f in line.migrated_from] == [2, 3.5]  # the earlier one too
        db.session.remove()

        downgrade(revision=BEFORE)

        back = run(
            "SELECT project_id, value, as_of, declared_by, baseline, checked, checked_by "
            "FROM project_outcomes WHERE kind = 'jobs' ORDER BY project_id, as_of"
        ).all()
        assert plain(back) == [
            (1, 0.0, "2026-01-05", "Orga", 1, 0, ""),
            (1, 2.0, "2026-03-01", "Léa", 0, 0, ""),
            (1, 3.5, "2026-06-01", "Léa", 0, 1, "Marc"),
            (2, 0.0, "2026-01-05", "Orga", 1, 0, ""),
        ]
        db.session.remove()
        db.engine.dispose()


# --- each funder's figures --------------------------------------------------------------

NOW = datetime(2027, 6, 30, 12, tzinfo=UTC)


def job(kind, fte, start, contract="cdi", employment="employee", **more) -> dict:
    return {"kind": kind, "fte": fte, "start_date": start, "contract": contract,
            "employment": employment, **more}  # fmt: skip


def small_backlog(organizer):
    """Two projects made on 30 June 2027; support started on 1 January for
    the shuttle, on 1 March for the grocery. Their jobs (N1… E3) are
    named in the comments of the test below."""
    clock.set_now(NOW)
    navette, epicerie, _atelier = _three_projects(organizer)
    outcomes.set_baseline(organizer, navette, date(2027, 1, 1))
    outcomes.set_baseline(organizer, epicerie, "2027-03-01")  # as a form sends it
    lines = {
        # N1: created, 1 FTE, from 1 February: new.
        "N1": (navette, job("created", 1, date(2027, 2, 1))),
        # N2: created, the carrier self-employed at half time, 15 April: new.
        "N2": (navette, job("created", "0,5", "2027-04-15", "self_employed", "self_employed")),
        # N3: an employee there since 2020, kept: consolidated, counts from 1 January.
        "N3": (navette, job("consolidated", 0.8, date(2020, 5, 1))),
        # N4: "created" in June 2026, before support started: the baseline.
        "N4": (navette, job("created", 1, date(2026, 6, 1))),
        # N5: a volunteer, full time: recorded, counted by nobody.
        "N5": (navette, job("created", 1, date(2027, 3, 1), "other", volunteer=True)),
        # E1: created, fixed-term (12 months), 0.6 FTE, 10 May: new.
        "E1": (epicerie, job("created", 0.6, date(2027, 5, 10), "cdd", duration_months=12)),
        # E2: the grocer, self-employed, kept from 1 April: consolidated.
        "E2": (
            epicerie,
            job("consolidated", 1, date(2027, 4, 1), "self_employed", "self_employed"),
        ),  # fmt: skip
        # E3: an apprentice from 15 February, before support started (1 March).
        "E3": (
            epicerie,
            job("created", 0.5, date(2027, 2, 15), "apprenticeship", duration_months=24),
        ),  # fmt: skip
    }
    made = {name: outcomes.add_job(organizer, p, fields).id for name, (p, fields) in lines.items()}
    outcomes.check_job(organizer, navette, made["N1"])
    return navette, epicerie, made


def figures_of(territory, period) -> dict:
    """{(profile, figure): (value, checked, sorted line ids)}."""
    lines = impact.territory_jobs(territory)
    return {
        (profile.key, figure.key): (
            figure.value,
            figure.checked,
            sorted(line.id for line in figure.lines),
        )  # fmt: skip
        for profile in impact.funder_profiles(lines, period)
        for figure in profile.figures
    }


def test_each_funder_counts_the_jobs_its_own_way(app, ctx):
    organizer = make_organizer()
    navette, epicerie, made = small_backlog(organizer)
    ids = lambda *names: sorted(made[n] for n in names)  # noqa: E731
    territory = navette.territory

    everything = figures_of(territory, impact.Period())
    # EU / LEADER, new jobs: N1 1 + N2 0.5 + E1 0.6 = 2.1 FTE (N2 self-employed
    # included; N3 and E2 consolidated, N4 and E3 before support, N5 volunteer:
    # out). Checked: N1 only, 1 FTE.
    assert everything["eu_leader", "new_jobs"] == (2.1, 1.0, ids("N1", "N2", "E1"))
    # France Active: created, the same 2.1; consolidated N3 0.8 + E2 1 = 1.8.
    assert everything["france_active", "created"] == (2.1, 1.0, ids("N1", "N2", "E1"))
    assert everything["france_active", "consolidated"] == (1.8, 0, ids("N3", "E2"))
    # The region: 2.1 + 1.8 = 3.9 FTE, in 5 jobs (1 checked).
    assert everything["region", "jobs_fte"] == (3.9, 1.0, ids("N1", "N2", "N3", "E1", "E2"))
    assert everything["region", "jobs"][:2] == (5, 1)

    first = figures_of(territory, impact.Period(date(2027, 1, 1), date(2027, 3, 31)))
    # January to March: N1 (1 February) new, 1 FTE; N3 counts from 1 January,
    # 0.8; N2 (April), E1 (May), E2 (April) fall in the next quarter.
    assert first["eu_leader", "new_jobs"][::2] == (1.0, ids("N1"))
    assert first["france_active", "consolidated"][::2] == (0.8, ids("N3"))
    assert first["region", "jobs_fte"][0] == 1.8  # 1 + 0.8
    second = figures_of(territory, impact.Period(date(2027, 4, 1), date(2027, 6, 30)))
    # April to June: N2 0.5 + E1 0.6 = 1.1 new; E2 1 consolidated; region 2.1
    # in 3 jobs. The two quarters add up to the whole: 1 + 1.1 = 2.1, 0.8 + 1 = 1.8.
    assert second["eu_leader", "new_jobs"][::2] == (1.1, ids("N2", "E1"))
    assert second["france_active", "consolidated"][::2] == (1.0, ids("E2"))
    assert (second["region", "jobs_fte"][0], second["region", "jobs"][0]) == (2.1, 3)

    # The baselines: the shuttle's N3 0.8 + N4 1 = 1.8 FTE (not the
    # volunteer); the grocery's E3, 0.5.
    assert (outcomes.baseline_fte(navette), outcomes.baseline_fte(epicerie)) == (1.8, 0.5)
    # The indicators' jobs: the new jobs of all time, 2.1; 8 lines declared,
    # 7 of them not volunteers, 1 checked.
    found = impact.compute(territory).figures
    assert (found["outcome_jobs"], found["outcomes_declared"], found["outcomes_checked"]) == (
        2.1, 7, 1,
    )  # fmt: skip


def test_an_edit_undoes_the_check_and_a_removed_line_counts_no_more(app, ctx):
    organizer = make_organizer()
    navette, _epicerie, made = small_backlog(organizer)
    outcomes.update_job(organizer, navette, made["N1"], job("created", 0.75, date(2027, 2, 1)))
    outcomes.remove_job(organizer, navette, made["N2"])
    line = committed(lambda s: s.get(JobLine, made["N1"]))
    assert (line.fte, line.checked_by, line.checked_at) == (0.75, "", None)
    assert committed(lambda s: s.get(JobLine, made["N2"])) is None
    assert figures_of(navette.territory, impact.Period())["eu_leader", "new_jobs"][0] == 1.35
    # 0.75 (N1) + 0.6 (E1)
    actions = [e.action for e in backlog.history(navette)]
    assert {"project.job_added", "project.job_checked", "project.job_updated",
            "project.job_removed", "project.baseline"} <= set(actions)  # fmt: skip


BAD_JOBS = [
    ({"fte": 0}, "fte"),
    ({"fte": 1.5}, "fte"),  # one job per line: full time at most
    ({"fte": "beaucoup"}, "fte"),
    ({"fte": float("nan")}, "fte"),
    ({"kind": "maybe"}, "kind"),
    ({"contract": "cdd"}, "duration_months"),  # a fixed-term job without its length
    ({"contract": "cdd", "duration_months": 200}, "duration_months"),
    ({"contract": "self_employed"}, "contract"),  # an employee with no contract
    ({"employment": "self_employed"}, "contract"),  # self-employed on a CDI
    ({"employment": ""}, "employment"),
    ({"start_date": ""}, "start_date"),
    ({"start_date": "2027-13-01"}, "start_date"),
    ({"start_date": date(2027, 7, 1)}, "start_date"),  # tomorrow: not started yet
]
BAD_REQUESTS = [
    ({"funder": " "}, "funder"),
    ({"amount": -5}, "amount"),
    ({"amount": ""}, "amount"),
    ({"requested_on": ""}, "requested_on"),
    ({"decision": "granted"}, "decided_on"),  # granted, but when?
    ({"decision": "pending", "decided_on": "2027-03-01"}, "decided_on"),
    ({"decision": "refused", "decided_on": "2027-01-01"}, "decided_on"),  # before the request
    ({"decision": "perhaps"}, "decision"),
]


def test_bad_lines_and_requests_are_refused_and_nothing_changes(app, ctx):
    organizer = make_organizer()
    navette, _epicerie, made = small_backlog(organizer)
    request = {"funder": "GAL Pays test", "programme": "LEADER", "amount": "12 000",
               "requested_on": "2027-02-01"}  # fmt: skip
    asked = outcomes.add_request(organizer, navette, request)

    def state(session):
        project = session.get(Project, navette.id)
        return ([(j.id, j.fte, j.kind, j.start_date, j.checked_by) for j in project.jobs],
                [(r.id, r.amount, r.decision, r.decided_on) for r in project.funding_requests],
                session.scalar(select(func.count(JournalEntry.id))))  # fmt: skip

    before = committed(state)
    good = job("created", 0.5, date(2027, 2, 1))
    for change, field in BAD_JOBS:
        with pytest.raises(ServiceError) as refused:
            outcomes.add_job(organizer, navette, {**good, **change})
        assert refused.value.details["field"] == field, change
        with pytest.raises(ServiceError):
            outcomes.update_job(organizer, navette, made["N1"], {**good, **change})
    for change, field in BAD_REQUESTS:
        with pytest.raises(ServiceError) as refused:
            outcomes.add_request(organizer, navette, {**request, **change})
        assert refused.value.details["field"] == field, change
        with pytest.raises(ServiceError):
            outcomes.update_request(organizer, navette, asked.id, {**request, **change})
    db.session.rollback()
    assert committed(state) == before


def test_a_project_started_before_its_aid_request_is_flagged(app, ctx):
    organizer = make_organizer()
    navette, _epicerie, _made = small_backlog(organizer)
    on_time = outcomes.add_request(organizer, navette, {
        "funder": "Région", "amount": 5000, "requested_on": "2027-01-10",
        "project_start": "2027-02-01", "decision": "granted", "decided_on": "2027-03-01",
    })  # fmt: skip
    late = outcomes.add_request(organizer, navette, {
        "funder": "GAL", "programme": "LEADER", "amount": "20 000,50",
        "requested_on": "2027-02-15", "project_start": "2027-02-01",
    })  # fmt: skip
    assert (on_time.started_before_request, late.started_before_request) == (False, True)
    assert (late.amount, late.decision.value) == (20000.5, "pending")


# --- through the pages --------------------------------------------------------------------


@pytest.fixture
def backlog_ids(app) -> dict:
    """The small backlog above, made in a context of its own (requests then
    have theirs, as in production); the clock stays on 30 June 2027."""
    with app.app_context():
        organizer = make_organizer()
        navette, epicerie, made = small_backlog(organizer)
        make_organizer("autre@example.org", "Autre pays")
        ids = {"navette": navette.id, "epicerie": epicerie.id,
               "territory": navette.territory_id, **made}  # fmt: skip
        db.session.remove()
    return ids


def jobs_of(app, project_id) -> list[tuple]:
    return read(app, lambda s: [(j.kind.value, j.fte, j.start_date, j.evidence, j.checked_by)
                                for j in s.get(Project, project_id).jobs])  # fmt: skip


def test_jobs_and_funding_requests_through_the_project_page(app, backlog_ids):
    http = signed_in(app)
    project = backlog_ids["epicerie"]
    base = f"/backlog/projects/{project}"
    before = jobs_of(app, project)
    line = {"kind": "created", "fte": "0,5", "contract": "cdd", "duration_months": "6",
            "employment": "employee", "start_date": "2027-06-01",
            "evidence": "Contrat <b>signé</b>", "declared_by": ""}  # fmt: skip

    for wrong, message in (
        ({"fte": "2"}, "Équivalent temps plein\u00a0: un nombre supérieur à 0"),
        ({"duration_months": ""}, "Un emploi à durée déterminée a besoin de sa durée"),
        ({"start_date": "2027-07-01"}, "la date de début ne peut pas être dans le futur"),
    ):
        refused = http.post(f"{base}/jobs", data={**line, **wrong})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 400 and message in page, wrong
        assert 'aria-invalid="true"' in page and "Rien n’a été enregistré" in page
        assert "Contrat &lt;b&gt;signé&lt;/b&gt;" in page  # what was typed comes back, as text
    assert jobs_of(app, project) == before

    assert http.post(f"{base}/jobs", data=line).status_code == 302
    added = jobs_of(app, project)[-1]
    assert added == ("created", 0.5, date(2027, 6, 1), "Contrat <b>signé</b>", "")
    page = http.get(base).get_data(as_text=True)
    assert "Contrat &lt;b&gt;signé&lt;/b&gt;" in page and "6 mois" in page
    assert "0,5" in page and "Orga" in page  # declared by the organizer, unless said

    new_id = read(app, lambda s: s.get(Project, project).jobs[-1].id)
    http.post(f"{base}/jobs/{new_id}/check")
    assert jobs_of(app, project)[-1][-1] == "Orga"
    assert http.get(f"{base}/jobs/{new_id}").status_code == 200
    http.post(f"{base}/jobs/{new_id}", data={**line, "fte": "0,8"})
    assert jobs_of(app, project)[-1][1:] == (0.8, date(2027, 6, 1), "Contrat <b>signé</b>", "")
    http.post(f"{base}/jobs/{new_id}/remove")
    assert jobs_of(app, project) == before

    refused = http.post(f"{base}/funding", data={"funder": "", "amount": "10"})
    assert refused.status_code == 400 and "Nommez le financeur." in refused.get_data(as_text=True)
    http.post(f"{base}/funding", data={"funder": "GAL", "programme": "LEADER", "amount": "12 000",
                                       "requested_on": "2027-04-01", "decision": "pending",
                                       "project_start": "2027-03-15"})  # fmt: skip
    page = http.get(base).get_data(as_text=True)
    assert "le projet a commencé avant que son aide soit demandée" in page
    assert "12\u202f000" in page or "12 000" in page
    http.post(f"{base}/baseline", data={"baseline_on": "2027-02-01"})
    # E3 (15 February) is no longer before support started: a new job now.
    assert read(app, lambda s: s.get(Project, project).baseline_on) == date(2027, 2, 1)


def test_the_funder_report_lists_every_figure_with_its_lines(app, backlog_ids):
    def late_request(session):
        project = session.get(Project, backlog_ids["navette"])
        outcomes.add_request(project.territory.organizers[0], project, {
            "funder": "GAL", "programme": "LEADER", "amount": "20 000",
            "requested_on": "2027-02-15", "project_start": "2027-02-01"})  # fmt: skip

    prepare(app, late_request)
    http = signed_in(app)
    territory = backlog_ids["territory"]
    url = f"/backlog/territories/{territory}/funders"
    page = http.get(url).get_data(as_text=True)
    assert "Union européenne / LEADER" in page and "France Active" in page and "Région" in page

    xlsx = http.get(f"{url}/report.xlsx?from=2027-04-01&to=2027-06-30")
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == ["Chiffres", "UE LEADER", "France Active", "Région",
                               "Demandes de financement"]  # fmt: skip
    summary = [row for row in book["Chiffres"].iter_rows(values_only=True)]
    # April to June (see the test above): 1.1 new; 1 consolidated; region 2.1 in 3 jobs.
    assert summary[1:6] == [
        ("Union européenne / LEADER", "Nouveaux emplois (ETP)", 1.1, 0, 2),
        ("France Active", "Emplois créés (ETP)", 1.1, 0, 2),
        ("France Active", "Emplois consolidés (ETP)", 1, 0, 1),
        ("Région", "Emplois créés ou consolidés (ETP)", 2.1, 0, 3),
        ("Région", "Emplois créés ou consolidés (nombre)", 3, 0, 3),
    ]
    eu = list(book["UE LEADER"].iter_rows(values_only=True))
    assert [(row[1], row[2], row[4]) for row in eu[1:]] == [
        ("Navette", backlog_ids["N2"], 0.5), ("Épicerie", backlog_ids["E1"], 0.6),
    ]  # fmt: skip

    requests = list(book["Demandes de financement"].iter_rows(values_only=True))
    assert [(row[0], row[1], row[-1]) for row in requests[1:]] == [("Navette", "GAL", "Oui")]

    # The PDF: a part per funder, each figure with its value, and under it
    # the lines it comes from (project, line number, FTE in French).
    pdf = http.get(f"{url}/report.pdf?from=2027-04-01&to=2027-06-30")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    text = text.replace("\u202f", " ").replace("\xa0", " ")
    titles = ["Union européenne / LEADER", "France Active", "Région", "Demandes de financement"]
    starts = [text.index(title) for title in titles]
    assert starts == sorted(starts)
    ends = [*starts[1:], len(text)]
    parts = {title: text[a:b] for title, a, b in zip(titles, starts, ends, strict=True)}

    def lines_in(part: str, *names) -> bool:
        project = {"N": "Navette", "E": "Épicerie"}
        return all(f"{project[n[0]]}\n{backlog_ids[n]}\n" in part for n in names)

    eu, fa, region = parts["Union européenne / LEADER"], parts["France Active"], parts["Région"]
    assert "Nouveaux emplois (ETP) : 1,1 (dont vérifiés : 0)" in eu
    assert lines_in(eu, "N2", "E1") and not lines_in(eu, "E2")
    created, consolidated = fa.split("Emplois consolidés (ETP) : 1 (dont vérifiés : 0)")
    assert "Emplois créés (ETP) : 1,1" in created and lines_in(created, "N2", "E1")
    assert lines_in(consolidated, "E2") and not lines_in(consolidated, "N2")
    assert "Emplois créés ou consolidés (ETP) : 2,1" in region
    assert "Emplois créés ou consolidés (nombre) : 3" in region
    assert lines_in(region, "N2", "E1", "E2")
    assert "0,5" in eu and "0,6" in eu  # each line's FTE, written as the French write it
    late = parts["Demandes de financement"]
    assert "GAL" in late and "20 000" in late and "Oui" in late  # asked after the start
    assert http.get(f"{url}/report.csv").status_code == 404


def test_another_territorys_organizer_gets_no_funder_report(app, backlog_ids):
    intruder = signed_in(app, "autre@example.org")
    url = f"/backlog/territories/{backlog_ids['territory']}/funders"
    for target in (url, f"{url}/report.xlsx", f"{url}/report.pdf"):
        assert intruder.get(target).status_code == 404, target
    project = f"/backlog/projects/{backlog_ids['navette']}"
    before = jobs_of(app, backlog_ids["navette"])
    assert (
        intruder.post(f"{project}/jobs", data=job("created", "1", "2027-06-01")).status_code == 404
    )
    assert intruder.post(f"{project}/jobs/{backlog_ids['N1']}/remove").status_code == 404
    assert jobs_of(app, backlog_ids["navette"]) == before


def test_a_merged_projects_jobs_and_requests_move_to_the_project_it_joins(app, ctx):
    organizer = make_organizer()
    navette, epicerie, made = small_backlog(organizer)
    outcomes.add_request(organizer, epicerie, {"funder": "Région", "amount": 1000,
                                               "requested_on": "2027-03-01"})  # fmt: skip
    backlog.merge(organizer, navette, epicerie)

    def where(session):
        return ({name: session.get(JobLine, line_id).project_id for name, line_id in made.items()},
                [r.funder for r in session.get(Project, navette.id).funding_requests])  # fmt: skip

    lines, requests = committed(where)
    assert set(lines.values()) == {navette.id} and requests == ["Région"]
    # Still counted once each: E1 0.6 is new from the shuttle's baseline
    # (1 January) as from the grocery's; E3 (15 February) is now after it:
    # 1 (N1) + 0.5 (N2) + 0.6 (E1) + 0.5 (E3) = 2.6.
    assert figures_of(navette.territory, impact.Period())["eu_leader", "new_jobs"][0] == 2.6


def test_a_wrong_period_shows_all_the_time_and_old_jobs_figures_stay_in_the_history(
    app, backlog_ids
):
    http = signed_in(app)
    url = f"/backlog/territories/{backlog_ids['territory']}/funders"
    for query in ("?from=demain", "?from=2027-06-01&to=2027-01-01"):
        page = http.get(url + query, follow_redirects=True).get_data(as_text=True)
        assert "toute la période enregistrée est affichée" in page, query
        assert "Toute la période enregistrée" in page  # and the figures of all time

    # A jobs figure declared before jobs were lines is still named in the history.
    def declared_before(session):
        project = session.get(Project, backlog_ids["navette"])
        backlog.record(project.territory.organizers[0], project, "project.outcome",
                       kind="jobs", value=2.5, as_of="2026-03-01")  # fmt: skip

    prepare(app, declared_before)
    page = http.get(f"/backlog/projects/{backlog_ids['navette']}").get_data(as_text=True)
    assert "chiffre déclaré : Emplois (équivalents temps plein) = 2,5" in page.replace("\xa0", " ")
