"""The backlog: a closed evening's tables become projects, once; an idea can
be promoted on its own; the board filters and ages them; only their
territory's organizers see them.

Tests of the services hold an app context (``ctx``) and check what was
stored through a context of their own (``committed``, ``stored``); tests of
the pages hold none."""

import re
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select

from workshop import clock
from workshop import models as backlog_models
from workshop.cli import seed_demo
from workshop.client import envelope
from workshop.extensions import db
from workshop.models import (
    CarrierStatus,
    CommitRole,
    EventStatus,
    Idea,
    JournalEntry,
    Organizer,
    OutcomeKind,
    Project,
    ProjectStage,
    ProjectStatus,
    StepKind,
    Territory,
    Theme,
)
from workshop.services import (
    ServiceError,
    backlog,
    events,
    live,
    outcomes,
    reviews,
    sheet_template,
    steps,
    writes,
)

from .helpers import PUBLIC_BODY, committed, make_event, make_organizer, read, signed_in


def write(actor, op, **data) -> dict:
    answer = writes.perform(actor, envelope(op, data))
    assert answer["ok"], answer
    return answer


def run_table(table, cards, ballots, sheet, commitments, categories=None):
    """Play a table's evening through the write path: people post ``cards``
    (author name -> texts), vote (``ballots``: voter -> card texts), the
    facilitator writes the ``sheet`` and people commit (name -> role, brings)."""
    people = {}
    for name in {**cards, **ballots, **commitments}:
        category = (categories or {}).get(name, "business")
        people[name], _token = live.join_table(table, name, category)
    ideas = {}
    for name, texts in cards.items():
        for text in texts:
            answer = write(writes.as_participant(people[name]), "idea.post", text=text)
            ideas[text] = answer["changes"][0]["id"]
    facilitator = writes.as_facilitator(table)
    steps.ensure_script(table)
    db.session.commit()
    if ballots:
        vote = next(s for s in table.steps if s.kind == StepKind.vote)
        write(facilitator, "step.go", step_id=vote.id)
        write(facilitator, "vote.open")
        for name, texts in ballots.items():
            for text in texts:
                write(writes.as_participant(people[name]), "vote.cast", idea_id=ideas[text])
        write(facilitator, "vote.close")
    for key, text in sheet.items():
        write(facilitator, "sheet.edit", key=key, text=text, base_version=0)
    for name, (role, brings) in commitments.items():
        write(
            writes.as_participant(people[name]),
            "commit.save",
            role=role,
            contribution=brings,
            expects="Des clients",
            hours_per_month=4,
        )
    return people, ideas


def projects() -> list[Project]:
    return list(db.session.scalars(select(Project).order_by(Project.id)))


def stored_projects() -> list[tuple]:
    """(table_id, stage, title) of every project committed."""
    return committed(lambda s: [(p.table_id, p.stage, p.title) for p in s.scalars(select(Project))])


def on_record(project, query):
    """``query(project)`` on the project as committed (a context of its own)."""
    return committed(lambda s: query(s.get(Project, project.id)))


def test_closing_the_demo_evening_makes_one_project_per_table_at_its_stage_with_its_team(app, ctx):
    organizer, _code = seed_demo()
    event = events.events_for(organizer)[0]
    for table in event.tables:
        first_key = sheet_template.keys(table.challenge)[0]
        run_table(
            table,
            cards={"Inès": [f"Idée A de {table.name}", f"Idée B de {table.name}"]},
            ballots={"Inès": [f"Idée B de {table.name}"], "Marc": [f"Idée B de {table.name}"]},
            sheet={first_key: f"Résultat de « {table.name} »\navec des détails"},
            commitments={"Inès": ("carry", "Mon atelier"), "Marc": ("contribute", "Un camion")},
        )

    events.update_event(organizer, event, status=EventStatus.closed)

    made = projects()
    assert [(table, stage) for table, stage, _title in stored_projects()] == [
        (t.id, stage)
        for t, stage in zip(
            sorted(event.tables, key=lambda t: t.number),
            # Mobilités (territorial), Circuits courts (creative), Tiers-lieu
            # (prototyping), Bois local (creative), Santé (territorial).
            [ProjectStage.d1, ProjectStage.d2, ProjectStage.d3, ProjectStage.d2, ProjectStage.d1],
            strict=True,
        )
    ]
    first = made[0]
    assert first.title == "Résultat de « Mobilités rurales »"
    assert first.theme == "Mobilités rurales" and first.event_id == event.id
    assert first.territory_id == event.territory_id and first.owner == "Pays du Haut-Bocage"
    assert [(m.name, m.role, m.brings, m.hours_per_month) for m in first.members] == [
        ("Inès", CommitRole.carry, "Mon atelier", 4),
        ("Marc", CommitRole.contribute, "Un camion", 4),
    ]
    assert first.carrier_status == CarrierStatus.found
    assert [(i.text, i.votes) for i in first.ideas] == [
        ("Idée B de Mobilités rurales", 2),
    ]
    assert first.sheet[0]["text"].startswith("Résultat de « Mobilités rurales »")
    assert [(s.stage, s.sheet) for s in first.snapshots] == [(ProjectStage.d1, first.sheet)]
    assert [e.action for e in backlog.history(first)] == ["project.created"]

    # Closing again, or promoting by hand, makes nothing twice.
    events.update_event(organizer, event, status=EventStatus.live)
    events.update_event(organizer, event, status=EventStatus.closed)
    again = backlog.promote_event(organizer, event)

    assert (again.created, again.existing, again.empty) == ([], 5, 0)
    assert len(stored_projects()) == 5
    created = committed(
        lambda s: s.scalar(
            select(func.count(JournalEntry.id)).where(JournalEntry.action == "project.created")
        )
    )
    assert created == 5


def test_a_table_that_left_nothing_makes_no_project(app, ctx):
    organizer = make_organizer()
    event = make_event(organizer, tables=2)
    worked, empty = event.tables
    run_table(worked, cards={"Léa": ["Une épicerie mobile"]}, ballots={}, sheet={},
              commitments={})  # fmt: skip
    live.join_table(empty, "Personne", "citizen")

    result = backlog.promote_event(organizer, event)

    assert [p.table_id for p in result.created] == [worked.id]
    assert [table for table, _stage, _title in stored_projects()] == [worked.id]
    assert result.empty == 1
    # No sheet and no vote: the project is named after the table's first card.
    assert result.created[0].title == "Une épicerie mobile"
    assert result.created[0].carrier_status == CarrierStatus.none


def test_an_idea_promoted_twice_is_one_project_at_d0(app, ctx):
    organizer = make_organizer()
    event = make_event(organizer, tables=1)
    _people, ideas = run_table(
        event.tables[0], cards={"Léa": ["Un café réparation\nle samedi"]}, ballots={}, sheet={},
        commitments={},
    )  # fmt: skip
    idea = db.session.get(Idea, ideas["Un café réparation\nle samedi"])

    first = backlog.promote_idea(organizer, idea)
    second = backlog.promote_idea(organizer, idea)

    assert first.id == second.id
    assert stored_projects() == [(None, ProjectStage.d0, "Un café réparation")]
    assert (first.stage, first.title, first.summary) == (
        ProjectStage.d0,
        "Un café réparation",
        "Un café réparation\nle samedi",
    )
    assert backlog.promoted_ideas([idea.id]) == {idea.id: first.id}


def test_another_territorys_organizer_sees_none_of_its_projects(app, ctx):
    organizer = make_organizer()
    event = make_event(organizer, tables=1)
    _people, ideas = run_table(event.tables[0], cards={"Léa": ["Idée"]}, ballots={}, sheet={},
                               commitments={})  # fmt: skip
    backlog.promote_event(organizer, event)
    project = projects()[0]
    stranger = make_organizer("autre@example.org", "Autre pays")

    assert backlog.projects_for(stranger) == []
    with pytest.raises(ServiceError):
        backlog.project_for(stranger, project.id)
    with pytest.raises(ServiceError):
        backlog.promote_idea(stranger, db.session.get(Idea, ideas["Idée"]))
    assert backlog.project_for(organizer, project.id) is project


def _three_projects(organizer):
    event = make_event(organizer, tables=3)
    for table, text in zip(event.tables, ["Navette", "Épicerie", "Atelier vélo"], strict=True):
        run_table(table, cards={"Léa": [text]}, ballots={}, sheet={}, commitments={})
    return backlog.promote_event(organizer, event).created


def test_the_board_filters_and_searches(app, ctx):
    organizer = make_organizer()
    navette, epicerie, atelier = _three_projects(organizer)
    backlog.update(organizer, epicerie, status=ProjectStatus.paused,
                   carrier_status=CarrierStatus.sought)  # fmt: skip
    backlog.move(organizer, atelier, ProjectStage.d3, "Un essai est prévu")
    assert stored(app, epicerie.id)[2:] == (ProjectStatus.paused, CarrierStatus.sought)
    assert stored(app, atelier.id)[0] == ProjectStage.d3

    def titles(**filters):
        return [p.title for p in backlog.projects_for(organizer, backlog.Filters(**filters))]

    assert titles() == ["Navette", "Épicerie", "Atelier vélo"]
    assert titles(q="vélo") == ["Atelier vélo"]
    assert titles(q="EPICERIE") == titles(q="épicerie") == ["Épicerie"]
    assert titles(status=ProjectStatus.paused) == ["Épicerie"]
    assert titles(carrier_status=CarrierStatus.sought) == ["Épicerie"]
    assert titles(theme="Table 1") == ["Navette"]
    assert titles(event_id=navette.event_id, q="nav") == ["Navette"]
    columns = dict(backlog.board(backlog.projects_for(organizer)))
    assert [p.title for p in columns[ProjectStage.d2]] == ["Navette", "Épicerie"]
    assert [p.title for p in columns[ProjectStage.d3]] == ["Atelier vélo"]
    assert columns[ProjectStage.d0] == []


def test_a_project_turns_amber_then_red_past_its_territorys_expected_time(app, ctx):
    organizer = make_organizer()
    navette, epicerie, _atelier = _three_projects(organizer)
    start = clock.aware(navette.stage_since)

    assert backlog.age(navette, start + timedelta(days=90)).level == "ok"  # D2: 90 days
    assert backlog.age(navette, start + timedelta(days=91)).level == "amber"
    assert backlog.age(navette, start + timedelta(days=181)).level == "red"
    backlog.update(organizer, epicerie, status=ProjectStatus.paused)
    assert on_record(epicerie, lambda p: p.status) == ProjectStatus.paused
    assert backlog.age(epicerie, start + timedelta(days=400)).level == "ok"  # paused: not late

    navette.territory.settings = {"stage_days": {"d2": 10}}
    db.session.commit()
    assert backlog.age(navette, start + timedelta(days=11)) == backlog.Age(11, 10, "amber")


def test_a_gate_not_ticked_needs_a_reason_kept_in_the_history(app, ctx):
    organizer = make_organizer()
    navette = _three_projects(organizer)[0]  # at D2: "qualified" and "prospect" to tick

    with pytest.raises(ServiceError) as refused:
        backlog.move(organizer, navette, ProjectStage.d4)
    assert refused.value.code == "gate_not_ticked"
    assert len(refused.value.details["unticked"]) == 5  # D2's two and D3's three
    assert navette.stage == ProjectStage.d2
    assert [e.action for e in backlog.history(navette)] == ["project.created"]

    backlog.move(organizer, navette, ProjectStage.d3, "Le porteur signe lundi")

    assert on_record(navette, lambda p: p.stage) == ProjectStage.d3
    [moved] = on_record(
        navette, lambda p: [e for e in backlog.history(p) if e.action == "project.moved"]
    )
    assert moved.data["reason"] == "Le porteur signe lundi"
    # In the language of whoever moved it (French by default), as they read it.
    assert moved.data["unticked"] == [
        "L’opportunité est qualifiée (usagers, valeur, marché)",
        "Un porteur pressenti est identifié",
    ]


def test_ticking_the_gate_opens_it_and_derives_the_progress(app, ctx):
    organizer = make_organizer()
    navette = _three_projects(organizer)[0]
    assert backlog.progress(navette) == (0, 6)  # D0, D1 and D2: two items each

    backlog.tick(organizer, navette, ["qualified", "prospect", "not-an-item"])
    backlog.tick(organizer, navette, ["prospect", "qualified"])  # the same: nothing new

    assert [i["ticked"] for i in backlog.gate_state(navette)] == [True, True]
    assert backlog.progress(navette) == (2, 6)
    assert [e.action for e in backlog.history(navette)] == ["project.created", "project.gate"]
    backlog.add_action(organizer, navette, "Appeler la mairie", "Léa", None)
    assert backlog.progress(navette) == (2, 7)  # actions count too
    backlog.set_action_done(organizer, navette, navette.actions[0].id, True)
    assert backlog.progress(navette) == (3, 7)
    backlog.move(organizer, navette, ProjectStage.d3)  # no reason needed
    backlog.move(organizer, navette, ProjectStage.d1)  # back: no gate on the way
    assert navette.stage == ProjectStage.d1
    assert on_record(navette, lambda p: (p.stage, backlog.progress(p))) == (
        ProjectStage.d1,
        backlog.progress(navette),
    )


def test_a_territory_sets_its_own_gates_and_times(app, ctx):
    organizer = make_organizer()
    navette = _three_projects(organizer)[0]
    territory = navette.territory
    backlog.tick(organizer, navette, ["prospect"])
    stranger = make_organizer("autre@example.org", "Autre pays")

    backlog.set_rules(
        organizer,
        territory,
        {ProjectStage.d2: 30, ProjectStage.d3: None},
        {
            ProjectStage.d2: ["Un porteur pressenti est identifié", "Un local est trouvé", " "],
            ProjectStage.d3: [label for _k, label in backlog.DEFAULT_GATES[ProjectStage.d3]],
        },
    )

    assert committed(
        lambda s: [
            backlog.stage_days(s.get(Territory, territory.id), stage)
            for stage in (ProjectStage.d2, ProjectStage.d3)
        ]
    ) == [30, 120]
    state = backlog.gate_state(navette)
    # The unchanged item keeps its key, so its tick stays.
    assert [(i["label"], i["ticked"]) for i in state] == [
        ("Un porteur pressenti est identifié", True),
        ("Un local est trouvé", False),
    ]
    assert "d3" not in territory.settings["gates"]  # the defaults stay defaults
    with pytest.raises(ServiceError):
        backlog.set_rules(stranger, territory, {}, {ProjectStage.d2: ["Piraté"]})
    with pytest.raises(ServiceError):
        backlog.set_rules(organizer, territory, {ProjectStage.d2: 0}, {})


def test_moving_a_project_freezes_its_sheet_and_keeps_the_reason(app, ctx):
    organizer = make_organizer()
    navette = _three_projects(organizer)[0]

    backlog.move(organizer, navette, ProjectStage.d3, "Un premier essai est prévu.")
    backlog.move(organizer, navette, ProjectStage.d3, "Rien")  # already there: nothing

    assert navette.stage == ProjectStage.d3
    assert on_record(navette, lambda p: [s.stage for s in p.snapshots]) == [
        ProjectStage.d2,
        ProjectStage.d3,
    ]
    moved = on_record(
        navette, lambda p: [e for e in backlog.history(p) if e.action == "project.moved"]
    )
    assert [(e.data["before"], e.data["after"], e.data["reason"]) for e in moved] == [
        ("d2", "d3", "Un premier essai est prévu.")
    ]


# --- the pages ------------------------------------------------------------------------


def _backlog_urls(app, values: dict) -> list[tuple[str, str]]:
    """(method, url) of every /backlog/ route, filled with ``values`` (ids)."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.rule.startswith("/backlog/"):
                url = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
                urls += [(m, url) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return urls


@pytest.fixture
def ids(app) -> dict:
    """An evening whose one table is a project, made in a context of its own:
    each request of these tests then has its own (as in production)."""
    with app.app_context():
        organizer = make_organizer()
        event = make_event(organizer, tables=1)
        _people, ideas = run_table(
            event.tables[0], cards={"Léa": ["Une navette solidaire", "Un garage"]}, ballots={},
            sheet={}, commitments={"Léa": ("carry", "Mon permis")},
        )  # fmt: skip
        theme = write(writes.as_organizer_of(organizer, event), "theme.create", label="Mobilité",
                      idea_ids=[ideas["Une navette solidaire"]])["changes"][0]  # fmt: skip
        [project] = backlog.promote_event(organizer, event).created
        backlog.add_action(organizer, project, "Appeler", "Léa", None)
        reviewer, _token = reviews.new_reviewer(organizer, project.territory, "Anne")
        line = outcomes.add_job(organizer, project, {
            "kind": "created", "fte": 1, "contract": "cdi", "employment": "employee",
            "start_date": clock.now().date(),
        })  # fmt: skip
        asked = outcomes.add_request(organizer, project, {
            "funder": "Région", "amount": 1000, "requested_on": clock.now().date(),
        })  # fmt: skip
        values = {
            "line_id": line.id,
            "request_id": asked.id,
            "reviewer_id": reviewer.id,
            "fmt": "json",
            "key": "funnel",
            "action_id": project.actions[0].id,
            "outcome_id": project.outcomes[0].id,
            "member_id": project.members[0].id,
            "project_id": project.id,
            "idea_id": ideas["Un garage"],
            "theme_id": theme["id"],
            "event_id": event.id,
            "territory_id": event.territory_id,
        }
        db.session.remove()
    return values


def stored(app, project_id) -> tuple:
    def query(session):
        p = session.get(Project, project_id)
        return p.stage, p.title, p.status, p.carrier_status

    return read(app, query)


def project_count(app) -> int:
    return read(app, lambda session: session.scalar(select(func.count(Project.id))))


def test_every_backlog_page_needs_a_signed_in_organizer_of_its_territory(app, ids):
    urls = _backlog_urls(app, ids)
    assert len(urls) >= 20
    anonymous = app.test_client()
    with app.app_context():
        make_organizer("autre@example.org", "Autre pays")
        db.session.remove()
    intruder = signed_in(app, "autre@example.org")
    form = {"stage": "d5", "title": "Piraté", "status": "abandoned", "reason": "x",
            "item": "prospect", "days-d2": "5", "gate-d2": "Piraté", "kind": "revenue",
            "value": "9", "as_of": "2027-01-01", "what": "Piraté", "text": "Piraté",
            "name": "Piraté", "done": "1", "fte": "0,5", "contract": "cdi",
            "employment": "employee", "start_date": "2020-01-01", "funder": "Piraté",
            "amount": "9", "requested_on": "2020-01-01", "baseline_on": "2020-01-01"}  # fmt: skip

    for method, url in urls:
        response = anonymous.open(url, method=method, data=form)
        assert response.status_code == 302 and "/login" in response.location, (method, url)
        if url == "/backlog/" or url.startswith("/backlog/indicators"):
            # Pages of their own territory: ours never shows there.
            mine = intruder.open(url, method=method, data=form).get_data(as_text=True)
            assert "Pays test" not in mine and "Une navette" not in mine, url
        else:
            assert intruder.open(url, method=method, data=form).status_code == 404, (method, url)

    board = intruder.get("/backlog/").get_data(as_text=True)
    assert "Une navette solidaire" not in board
    assert stored(app, ids["project_id"]) == (
        ProjectStage.d2,
        "Une navette solidaire",
        ProjectStatus.active,
        CarrierStatus.found,
    )
    assert project_count(app) == 1
    rules = read(app, lambda session: session.get(Territory, ids["territory_id"]).settings)
    assert rules == PUBLIC_BODY  # as the territory was made: nothing more
    untouched = read(
        app,
        lambda session: (
            [(a.what, a.done_at) for a in session.get(Project, ids["project_id"]).actions],
            len(session.get(Project, ids["project_id"]).outcomes),
            [m.name for m in session.get(Project, ids["project_id"]).members],
            session.get(Project, ids["project_id"]).notes,
            [(j.fte, j.checked_by) for j in session.get(Project, ids["project_id"]).jobs],
            [r.funder for r in session.get(Project, ids["project_id"]).funding_requests],
            session.get(Project, ids["project_id"]).baseline_on == clock.now().date(),
        ),
    )
    assert untouched == ([("Appeler", None)], 3, ["Léa"], [], [(1.0, "")], ["Région"], True)
    revoked = read(app, lambda session: session.get(backlog_models.Reviewer, ids["reviewer_id"]))
    assert revoked.revoked_at is None


def test_an_organizer_moves_edits_and_promotes_through_the_pages(app, ids):
    project, idea, event = ids["project_id"], ids["idea_id"], ids["event_id"]
    http = signed_in(app)

    board = http.get("/backlog/?q=navette").get_data(as_text=True)
    assert "Une navette solidaire" in board and "Carrier found" not in board  # French first
    assert "Porteur trouvé" in board

    moved = http.post(
        f"/backlog/projects/{project}/move?q=navette",
        data={"stage": "d3", "back": "board", "reason": "Essai prévu"},
    )
    assert moved.status_code == 302 and moved.location.endswith("/backlog/?q=navette")
    # Only the board's filters go back into the address, never url_for's own options.
    hostile = http.post(
        f"/backlog/projects/{project}/move?q=nav&_external=1&_scheme=javascript&_anchor=x",
        data={"stage": "d3", "back": "board"},
    )
    assert hostile.location == "/backlog/?q=nav"
    refused = http.post(f"/backlog/projects/{project}/move", data={"stage": "d9"})
    assert refused.status_code == 400
    http.post(
        f"/backlog/projects/{project}",
        data={"title": "Navette du samedi", "status": "paused", "carrier_status": "sought",
              "owner": "Commune de Saint-Aubin"},
    )  # fmt: skip
    page = http.get(f"/backlog/projects/{project}").get_data(as_text=True)
    assert "Navette du samedi" in page and "Essai prévu" in page and "Mon permis" in page

    promoted = http.post(f"/backlog/ideas/{idea}/promote")
    again = http.post(f"/backlog/ideas/{idea}/promote")
    assert promoted.location == again.location
    ideas_page = http.get(f"/backlog/events/{event}/ideas").get_data(as_text=True)
    assert "Its project" in ideas_page or "Son projet" in ideas_page

    assert stored(app, project) == (
        ProjectStage.d3,
        "Navette du samedi",
        ProjectStatus.paused,
        CarrierStatus.sought,
    )
    assert project_count(app) == 2  # the table's and the idea's
    assert http.post(f"/backlog/events/{event}/promote").status_code == 302
    assert project_count(app) == 2


def test_follow_up_actions_notes_and_overdue(app, ctx):
    organizer = make_organizer()
    navette = _three_projects(organizer)[0]
    today = clock.now().date()

    backlog.add_action(organizer, navette, "Appeler la mairie", "Léa", today - timedelta(days=1))
    backlog.add_action(organizer, navette, "Visiter le local", "", today + timedelta(days=7))
    with pytest.raises(ServiceError):
        backlog.add_action(organizer, navette, "   ", "Léa", None)
    with pytest.raises(ServiceError):
        backlog.add_note(organizer, navette, "")
    backlog.add_note(organizer, navette, "Rendez-vous pris avec la CCI")

    late, later = navette.actions
    assert (backlog.overdue(late, today), backlog.overdue(later, today)) == (True, False)
    backlog.set_action_done(organizer, navette, late.id, True)
    backlog.set_action_done(organizer, navette, late.id, True)  # already: nothing
    assert not backlog.overdue(late, today)
    assert on_record(navette, lambda p: [(a.what, bool(a.done_at)) for a in p.actions]) == [
        ("Visiter le local", False),  # what is left to do first
        ("Appeler la mairie", True),
    ]
    assert on_record(navette, lambda p: [n.text for n in p.notes]) == [
        "Rendez-vous pris avec la CCI"
    ]
    assert on_record(navette, lambda p: [e.action for e in backlog.history(p)])[1:] == [
        "project.action_added",
        "project.action_added",
        "project.note_added",
        "project.action_done",
    ]


def test_outcomes_start_from_a_baseline_and_are_declared_then_checked(app, ctx):
    organizer = make_organizer()
    navette = _three_projects(organizer)[0]
    made_on = clock.now().date()

    assert sorted((o.kind.value, o.value, o.baseline) for o in navette.outcomes) == [
        ("funding", 0.0, True),
        ("partners", 0.0, True),
        ("revenue", 0.0, True),
    ]
    later = made_on + timedelta(days=200)
    backlog.declare(organizer, navette, OutcomeKind.partners, 2.5, later)
    for bad in (-1, float("nan"), "3", None, True):
        with pytest.raises(ServiceError):
            backlog.declare(organizer, navette, OutcomeKind.partners, bad, later)
    with pytest.raises(ServiceError):
        backlog.declare(organizer, navette, OutcomeKind.partners, 1, None)

    partners = backlog.latest_outcomes(navette)[OutcomeKind.partners]
    assert (partners.value, partners.as_of, partners.declared_by, partners.checked) == (
        2.5, later, "Orga", False,
    )  # fmt: skip
    backlog.check_outcome(organizer, navette, partners.id)
    latest = on_record(navette, lambda p: backlog.latest_outcomes(p)[OutcomeKind.partners])
    assert latest.value == 2.5
    assert (partners.checked, partners.checked_by) == (True, "Orga")
    assert (
        on_record(navette, lambda p: backlog.latest_outcomes(p)[OutcomeKind.partners].checked_by)
        == "Orga"
    )
    assert backlog.latest_outcomes(navette)[OutcomeKind.revenue].baseline
    # Jobs are lines of their own, measured against the day support started.
    assert (navette.baseline_on, navette.baseline_by, navette.jobs) == (made_on, "Orga", [])


def test_the_team_grows_after_the_evening_and_a_member_takes_the_project_over(app, ctx):
    organizer = make_organizer()
    navette = _three_projects(organizer)[0]
    assert navette.carrier_status == CarrierStatus.none

    backlog.add_member(organizer, navette, name="Yves", role=CommitRole.carry,
                       brings="Un garage", consent=False, contact="06 00 00 00 00")  # fmt: skip
    with pytest.raises(ServiceError):
        backlog.add_member(organizer, navette, name="Zoé", hours_per_month=500)
    [yves] = navette.members
    assert (yves.contact, yves.consent) == ("", False)  # no consent, no contact kept
    assert navette.carrier_status == CarrierStatus.found

    assert on_record(navette, lambda p: [(m.name, m.contact) for m in p.members]) == [("Yves", "")]

    backlog.take_over(organizer, navette, yves.id)
    assert on_record(navette, lambda p: p.owner) == "Yves"
    owner = [e for e in backlog.history(navette) if e.action == "project.owner"]
    assert [(e.data["before"], e.data["after"]) for e in owner] == [("Pays test", "Yves")]


def test_following_a_project_up_through_its_page(app, ids):
    project = ids["project_id"]
    http = signed_in(app)
    base = f"/backlog/projects/{project}"

    http.post(f"{base}/actions", data={"what": "Appeler la mairie", "who": "Léa",
                                       "due": "2020-01-01"})  # fmt: skip
    http.post(f"{base}/outcomes", data={"kind": "revenue", "value": "1,5", "as_of": "2027-03-01"})
    refused = http.post(
        f"{base}/outcomes", data={"kind": "revenue", "value": "beaucoup", "as_of": ""},
        follow_redirects=True,
    )  # fmt: skip
    assert "Un chiffre est un nombre positif." in refused.get_data(as_text=True)
    member = {"name": "Yves", "role": "carry", "consent": "1", "contact": "yves@example.org",
              "hours_per_month": "6"}  # fmt: skip
    http.post(f"{base}/members", data=member)
    http.post(f"{base}/notes", data={"text": "Rendez-vous <script>x</script>"})
    page = http.get(base).get_data(as_text=True)

    assert "Appeler la mairie" in page and "En retard" in page  # due in 2020, not done
    assert "1,5" in page and "yves@example.org" in page
    assert "Rendez-vous &lt;script&gt;x&lt;/script&gt;" in page  # shown as text

    def state(session):
        p = session.get(Project, project)
        jobs = [o for o in p.outcomes if o.kind == OutcomeKind.revenue and not o.baseline]
        return ([a.id for a in p.actions], [(o.id, o.value) for o in jobs],
                [(m.id, m.name) for m in p.members])  # fmt: skip

    actions, jobs, members = read(app, state)
    assert [value for _id, value in jobs] == [1.5]
    http.post(f"{base}/actions/{actions[-1]}", data={"done": "1"})
    http.post(f"{base}/outcomes/{jobs[0][0]}/check")
    http.post(f"{base}/members/{members[-1][0]}/owner")

    def after(session):
        p = session.get(Project, project)
        return (p.actions[-1].done_at is not None, [o.checked for o in p.outcomes if o.id ==
                jobs[0][0]], p.owner)  # fmt: skip

    assert read(app, after) == (True, [True], "Yves")


def test_projects_of_two_evenings_merge_once(app, ctx):
    organizer = make_organizer()
    first = make_event(organizer, title="Printemps", tables=1)
    second = make_event(organizer, title="Automne", tables=1)
    run_table(first.tables[0], cards={"Léa": ["Navette"]}, ballots={}, sheet={},
              commitments={"Léa": ("carry", "Mon permis")})  # fmt: skip
    run_table(second.tables[0], cards={"Marc": ["Covoiturage"]}, ballots={}, sheet={},
              commitments={"Marc": ("carry", "Une voiture")})  # fmt: skip
    [spring] = backlog.promote_event(organizer, first).created
    [autumn] = backlog.promote_event(organizer, second).created

    backlog.merge(organizer, spring, autumn)
    backlog.merge(organizer, spring, autumn)  # again: nothing

    assert on_record(spring, lambda p: [m.name for m in p.members]) == ["Léa", "Marc"]
    assert on_record(spring, lambda p: [i.text for i in p.ideas]) == ["Navette", "Covoiturage"]
    assert spring.carrier_status == CarrierStatus.collective
    assert on_record(autumn, lambda p: p.merged_into_id) == spring.id
    assert [p.title for p in backlog.projects_for(organizer)] == ["Navette"]
    with pytest.raises(ServiceError):
        backlog.merge(organizer, autumn, spring)  # a merged project takes nothing in
    with pytest.raises(ServiceError):
        backlog.merge(organizer, spring, spring)
    assert [e.action for e in backlog.history(autumn)][-1] == "project.merged_into"


# --- go / no-go -------------------------------------------------------------------------


def test_reviewers_see_only_their_projects_and_their_opinions_are_tallied(app, ids):
    with app.app_context():
        organizer = db.session.get(Organizer, 1)
        project = db.session.get(Project, ids["project_id"])
        other = backlog.promote_idea(organizer, db.session.get(Idea, ids["idea_id"]))
        other_id = other.id
        anne, anne_token = reviews.new_reviewer(organizer, project.territory, "Anne")
        bruno, bruno_token = reviews.new_reviewer(organizer, project.territory, "Bruno")
        reviews.invite(organizer, project, anne)
        reviews.invite(organizer, project, anne)  # once only
        reviews.invite(organizer, project, bruno)
        reviews.invite(organizer, other, bruno)
        bruno_id = bruno.id
        db.session.remove()
    anne_http, bruno_http = app.test_client(), app.test_client()

    anne_page = anne_http.get(f"/review/{anne_token}").get_data(as_text=True)
    assert "Une navette solidaire" in anne_page and "Un garage" not in anne_page
    assert "Un garage" in bruno_http.get(f"/review/{bruno_token}").get_data(as_text=True)
    # Anne cannot give an opinion on a project she was not invited to.
    assert anne_http.post(f"/review/{anne_token}/projects/{other_id}",
                          data={"verdict": "go"}).status_code == 404  # fmt: skip
    anne_http.post(f"/review/{anne_token}/projects/{ids['project_id']}", data={"verdict": "go"})
    refused = bruno_http.post(
        f"/review/{bruno_token}/projects/{ids['project_id']}", data={"verdict": "no_go"},
        follow_redirects=True,
    )  # fmt: skip
    assert "Dites pourquoi" in refused.get_data(as_text=True)  # no go needs a reason
    bruno_http.post(
        f"/review/{bruno_token}/projects/{ids['project_id']}",
        data={"verdict": "no_go", "comment": "Pas de marché <ici>"},
    )

    def tally(session):
        return reviews.tally(reviews.reviews_of(session.get(Project, ids["project_id"])))

    assert read(app, tally) == reviews.Tally(invited=2, given=2, go=1, conditional=0, no_go=1)
    http = signed_in(app)
    page = http.get(f"/backlog/projects/{ids['project_id']}").get_data(as_text=True)
    assert "2 avis donnés sur 2" in page and "Pas de marché &lt;ici&gt;" in page
    awaiting = http.get("/backlog/?awaiting=1").get_data(as_text=True)
    assert "Un garage" in awaiting and "Une navette solidaire" not in awaiting

    # A closed link opens nothing; the opinion given stays.
    http.post(f"/backlog/reviewers/{bruno_id}/revoke")
    assert bruno_http.get(f"/review/{bruno_token}").status_code == 404
    assert read(app, tally).no_go == 1
    # A new link replaces the old one.
    new = http.post(f"/backlog/reviewers/{bruno_id}/link", data={"project": ids["project_id"]},
                    follow_redirects=True)  # fmt: skip
    new_token = re.search(r"/review/([\w-]+)", new.get_data(as_text=True)).group(1)
    assert new_token != bruno_token
    assert bruno_http.get(f"/review/{new_token}").status_code == 200
    assert bruno_http.get(f"/review/{bruno_token}").status_code == 404
    assert app.test_client().get("/review/not-a-real-token-at-all").status_code == 404


def test_a_reviewer_sees_the_names_of_the_team_members_who_agreed_only(app, ids):
    """Léa committed at the evening without agreeing to be contacted: like the
    exports, the reviewer's page does not name her (nor anyone without consent)."""
    with app.app_context():
        organizer = db.session.get(Organizer, 1)
        project = db.session.get(Project, ids["project_id"])
        backlog.add_member(organizer, project, name="Yves Martin", consent=True,
                           contact="yves@example.org")  # fmt: skip
        backlog.add_member(organizer, project, name="Sans Accord")
        reviewer, token = reviews.new_reviewer(organizer, project.territory, "Anne")
        reviews.invite(organizer, project, reviewer)
        db.session.remove()

    page = app.test_client().get(f"/review/{token}").get_data(as_text=True)

    assert "Yves Martin" in page
    assert "Léa" not in page and "Sans Accord" not in page and "yves@example.org" not in page
    assert "2 personnes non nommées (sans leur accord)" in page


def test_an_organizer_invites_a_new_reviewer_from_the_project_page(app, ids):
    http = signed_in(app)
    done = http.post(f"/backlog/projects/{ids['project_id']}/reviewers",
                     data={"name": "Chloé"}, follow_redirects=True)  # fmt: skip
    page = done.get_data(as_text=True)
    token = re.search(r"/review/([\w-]+)", page).group(1)
    assert "0 avis donnés sur 1" in page
    assert "Une navette solidaire" in app.test_client().get(f"/review/{token}").get_data(
        as_text=True
    )
    with app.app_context():
        stored = db.session.scalar(select(backlog_models.Reviewer.token_hash))
        db.session.remove()
    assert token not in stored  # only the hash is kept


def test_a_theme_becomes_a_project_once_and_tags_its_tables_projects(app, ctx):
    organizer = make_organizer()
    event = make_event(organizer, tables=2)
    _people, first = run_table(
        event.tables[0], cards={"Léa": ["Une navette le samedi", "Un garage"]}, ballots={},
        sheet={"solution": "Une navette"}, commitments={},
    )  # fmt: skip
    _people, second = run_table(
        event.tables[1], cards={"Noé": ["Covoiturage vers la gare"]}, ballots={}, sheet={},
        commitments={},
    )  # fmt: skip
    team = writes.as_organizer_of(organizer, event)
    together = [first["Une navette le samedi"], second["Covoiturage vers la gare"]]
    mobility = write(team, "theme.create", label="Mobilité", idea_ids=together)["changes"][0]
    write(team, "theme.pin", theme_id=mobility["id"], idea_id=second["Covoiturage vers la gare"])
    suggestion = write(writes.as_system(event), "theme.suggest", label="Garage",
                       idea_ids=[first["Un garage"]])["changes"][0]  # fmt: skip
    table_projects = backlog.promote_event(organizer, event).created
    theme = db.session.get(Theme, mobility["id"])

    made = backlog.promote_theme(organizer, theme)
    again = backlog.promote_theme(organizer, theme)

    assert made.id == again.id
    assert (made.stage, made.title, made.theme, made.table_id) == (
        ProjectStage.d0, "Mobilité", "Mobilité", None)  # fmt: skip
    # Its ideas, the pinned quote first, as the room saw them.
    assert [i.text for i in made.ideas] == ["Covoiturage vers la gare", "Une navette le samedi"]
    assert made.summary == "– Covoiturage vers la gare\n– Une navette le samedi"
    assert [(t, p.id) for t, p in backlog.themes_of(event)] == [(theme, made.id)]
    # The projects its tables became take its name (not the theme's own project).
    linked = backlog.link_theme(organizer, theme)
    assert sorted(p.id for p in linked) == sorted(p.id for p in table_projects)
    assert [on_record(p, lambda p: p.theme) for p in table_projects] == ["Mobilité"] * 2
    assert backlog.link_theme(organizer, theme) == []  # once is enough
    # A suggestion no one took up, or another territory's organizer: nothing.
    with pytest.raises(ServiceError):
        backlog.promote_theme(organizer, db.session.get(Theme, suggestion["id"]))
    with pytest.raises(ServiceError):
        backlog.promote_theme(make_organizer("autre@example.org", "Autre pays"), theme)
    assert committed(lambda s: s.scalar(select(func.count(Project.id)))) == 3


def test_an_organizer_turns_a_theme_into_a_project_from_the_evenings_page(app, ids):
    http = signed_in(app)
    page = http.get(f"/organizer/events/{ids['event_id']}").get_data(as_text=True)
    assert "Mobilité" in page and f"/backlog/themes/{ids['theme_id']}/promote" in page

    made = http.post(f"/backlog/themes/{ids['theme_id']}/promote")
    assert made.status_code == 302 and "/backlog/projects/" in made.location
    project_id = int(made.location.rstrip("/").rsplit("/", 1)[-1])
    assert stored(app, project_id)[:2] == (ProjectStage.d0, "Mobilité")
    linked = http.post(f"/backlog/themes/{ids['theme_id']}/link", follow_redirects=True)
    assert "1 projet a maintenant le thème «\u00a0Mobilité\u00a0»" in linked.get_data(as_text=True)
    assert read(app, lambda s: s.get(Project, ids["project_id"]).theme) == "Mobilité"
    page = http.get(f"/organizer/events/{ids['event_id']}").get_data(as_text=True)
    assert f"/backlog/projects/{project_id}" in page  # its project, not made twice
