"""Outcomes as funders count them (issue 19 §5): jobs as dated lines, a
baseline per project, funding requests, each funder's figures per period,
and the funder report. Also the migration of the old jobs figures."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from workshop import create_app
from workshop.extensions import db

from .helpers import app_config

BEFORE = "a3c4e5f60718"  # the last revision with one jobs figure per project


def test_old_jobs_figures_migrate_to_lines_and_back(tmp_path):
    """Every declared jobs figure survives the upgrade (the last one as a
    migrated line, the others in it) and comes back on the downgrade."""
    app = create_app(app_config(tmp_path / "old.db"))
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
                run(outcome, p=project_id, kind=kind, value=0, as_of="2026-01-05", by="Orga",
                    baseline=True, checked=False, checked_by="")  # fmt: skip
        # The shuttle declared 2 FTE in March, then 3.5 (checked) in June.
        run(outcome, p=1, kind="jobs", value=2, as_of="2026-03-01", by="Léa", baseline=False,
            checked=False, checked_by="")  # fmt: skip
        run(outcome, p=1, kind="jobs", value=3.5, as_of="2026-06-01", by="Léa", baseline=False,
            checked=True, checked_by="Marc")  # fmt: skip
        run(outcome, p=1, kind="revenue", value=12000, as_of="2026-06-01", by="Léa",
            baseline=False, checked=False, checked_by="")  # fmt: skip
        db.session.commit()

        upgrade()

        lines = run("SELECT project_id, kind, fte, start_date, declared_by, checked_by, "
                    "migrated FROM project_jobs").all()  # fmt: skip
        # One line for the shuttle: its last figure; the grocery declared none.
        assert [tuple(line) for line in lines] == [
            (1, "created", 3.5, "2026-06-01", "Léa", "Marc", 1)
        ]
        assert run("SELECT id, baseline_on, baseline_by FROM projects ORDER BY id").all() == [
            (1, "2026-01-05", "Orga"), (2, "2026-01-05", "Orga"),
        ]  # fmt: skip
        left = run("SELECT project_id, kind, value FROM project_outcomes ORDER BY id").all()
        assert [tuple(r) for r in left] == [
            (1, "revenue", 0.0), (2, "revenue", 0.0), (1, "revenue", 12000.0)
        ]  # fmt: skip
        from workshop.models import Project

        shuttle = db.session.get(Project, 1)
        [line] = shuttle.jobs
        assert [f["value"] for f in line.migrated_from] == [2, 3.5]  # the earlier one too
        db.session.remove()

        downgrade(revision=BEFORE)

        back = run(
            "SELECT project_id, value, as_of, declared_by, baseline, checked, checked_by "
            "FROM project_outcomes WHERE kind = 'jobs' ORDER BY project_id, as_of"
        ).all()
        assert [tuple(r) for r in back] == [
            (1, 0.0, "2026-01-05", "Orga", 1, 0, ""),
            (1, 2.0, "2026-03-01", "Léa", 0, 0, ""),
            (1, 3.5, "2026-06-01", "Léa", 0, 1, "Marc"),
            (2, 0.0, "2026-01-05", "Orga", 1, 0, ""),
        ]
        db.session.remove()
        db.engine.dispose()
