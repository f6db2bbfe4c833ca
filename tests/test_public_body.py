"""A territory as a public body (issue 19): its settings (controller, DPO,
accessibility contact, age of minors), the privacy notice shown where data
is collected (GDPR art. 13), no evening opened without a controller, the
record of processing activities (art. 30)."""

import pytest
from sqlalchemy import select

from workshop.client import envelope
from workshop.extensions import db
from workshop.models import Event, EventStatus, Territory
from workshop.services import ServiceError, events, live, territories

from .helpers import make_organizer, prepare, read, signed_in


def _bare_territory(session) -> int:
    """The signed-in organizer's second territory, with no settings at all."""
    from workshop.models import Organizer

    organizer = session.scalar(select(Organizer).where(Organizer.email == "orga@example.org"))
    territory = Territory(name="Pays sans responsable")
    organizer.territories.append(territory)
    session.flush()
    return territory.id


def test_an_evening_of_a_territory_without_controller_cannot_open(app, evening):
    territory_id = prepare(app, _bare_territory)

    def evening_there(session):
        from workshop.models import Organizer

        organizer = session.get(Organizer, evening.organizer_id)
        territory = session.get(Territory, territory_id)
        event = events.create_event(organizer, territory, "Soirée", None)
        events.add_table(organizer, event, name="T", brief_title="Q", brief="B")
        return event.id

    event_id = prepare(app, evening_there)
    http = signed_in(app)
    http.set_cookie("lang", "en")
    page = http.get(f"/organizer/events/{event_id}")
    assert "data-no-controller" in page.text  # said before the organizer tries
    answer = http.post(f"/organizer/events/{event_id}/status/live", follow_redirects=True)
    assert "has no data controller yet" in answer.text
    assert read(app, lambda s: s.get(Event, event_id).status) == EventStatus.draft

    # In French too, with French typography.
    http.set_cookie("lang", "fr")
    answer = http.post(f"/organizer/events/{event_id}/status/live", follow_redirects=True)
    assert "n’a pas encore de responsable" in answer.text

    # Named (both the structure and its contact): it opens.
    form = {"controller": "Syndicat mixte", "controller_contact": "rgpd@syndicat.example",
            "legal_basis": "public_task", "compliance": "none", "minor_age": "15"}  # fmt: skip
    answer = http.post(f"/organizer/territories/{territory_id}/settings", data=form)
    assert answer.status_code == 302
    http.post(f"/organizer/events/{event_id}/status/live")
    assert read(app, lambda s: s.get(Event, event_id).status) == EventStatus.live


def test_the_settings_form_refuses_bad_input_whole_and_hides_other_territories(app, evening):
    http = signed_in(app)
    territory_id = read(app, lambda s: s.get(Event, evening.event_id).territory_id)
    url = f"/organizer/territories/{territory_id}/settings"
    assert http.get(url).status_code == 200
    before = read(app, lambda s: dict(s.get(Territory, territory_id).settings))
    for bad in (
        {"controller": "Mairie", "controller_contact": ""},  # a controller nobody can reach
        {"controller": "Mairie", "controller_contact": "x", "minor_age": "9"},
        {"controller": "Mairie", "controller_contact": "x", "legal_basis": "whim"},
        {"controller": "Mairie", "controller_contact": "x", "compliance_rate": "140"},
        {"controller": "M" * 301, "controller_contact": "x"},
    ):
        answer = http.post(url, data=bad)
        assert answer.status_code == 200 and 'class="flash flash-error"' in answer.text, bad
    assert read(app, lambda s: dict(s.get(Territory, territory_id).settings)) == before

    good = {"controller": "Mairie de Testville", "controller_contact": "mairie@test.example",
            "dpo_contact": "dpo@test.example", "minor_age": "16", "legal_basis": "public_task",
            "compliance": "partial", "compliance_rate": "62", "audit_date": "2026-11-02",
            "body": "Ville de Testville", "accessibility_contact": "a11y@test.example"}  # fmt: skip
    assert http.post(url, data=good).status_code == 302
    saved = read(app, lambda s: territories.settings_of(s.get(Territory, territory_id)))
    assert saved["minor_age"] == 16 and saved["compliance_rate"] == 62
    assert saved["dpo_contact"] == "dpo@test.example"
    # The backlog's rules, kept in the same column, are untouched.
    assert read(app, lambda s: "targets" not in s.get(Territory, territory_id).settings)

    other = prepare(
        app, lambda s: make_organizer("autre@example.org", "Autre pays").territories[0].id
    )
    assert http.get(f"/organizer/territories/{other}/settings").status_code == 404
    assert http.post(f"/organizer/territories/{other}/settings", data=good).status_code == 404
    assert http.get(f"/organizer/territories/{other}/record").status_code == 404
    assert app.test_client().get(url).status_code == 302  # to the sign-in


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("fr", ("Mairie de Testville", "dpo@testville.example", "CNIL", "Mes données",
                "12\u00a0mois")),
        ("en", ("Mairie de Testville", "dpo@testville.example", "CNIL", "My data", "12 months")),
    ],
)  # fmt: skip
def test_the_privacy_notice_is_on_the_join_form_before_the_name_and_on_my_data(
    app, evening, lang, words
):
    table = evening.tables[0]
    phone = app.test_client()
    phone.set_cookie("lang", lang)
    page = phone.get(f"/t/{table.join_code}").text
    notice = page.index("privacy-first")
    assert notice < page.index('name="display_name"')  # read before anyone types a name
    assert "Mairie de Testville" in page[notice : page.index('name="display_name"')]
    territory_id = read(app, lambda s: s.get(Event, evening.event_id).territory_id)
    assert f"/confidentialite?territory={territory_id}" in page

    full = phone.get(f"/confidentialite?territory={territory_id}").text
    for word in words:
        assert word in full, word
    assert phone.get("/confidentialite?territory=99999").status_code == 404
    assert phone.get("/confidentialite?territory=abc").status_code == 404

    phone.post(f"/t/{table.join_code}/join", data={"display_name": "Léa", "category": "citizen"})
    mine = phone.get(f"/t/{table.join_code}/me").text
    for word in words:
        assert word in mine, word


def test_the_processing_record_is_a_page_and_a_download(app, evening):
    def people(session):
        from workshop.models import Table

        table = session.get(Table, evening.tables[0].id)
        live.join_table(table, "Léa", "citizen")
        live.join_table(table, "Marc", "business")

    prepare(app, people)
    http = signed_in(app)
    territory_id = read(app, lambda s: s.get(Event, evening.event_id).territory_id)
    page = http.get(f"/organizer/territories/{territory_id}/record")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for word in ("Mairie de Testville", "dpo@testville.example", "data-held", "data-print"):
        assert word in text, word
    assert "Léa" not in text  # a record of processing, not of people
    held = text[text.index("data-held") :]
    assert ">2<" in held  # two participants
    file = http.get(f"/organizer/territories/{territory_id}/record?download=1")
    assert "attachment" in file.headers["Content-Disposition"]
    assert "Mairie de Testville" in file.get_data(as_text=True)
    assert "data-print" not in file.get_data(as_text=True)


def test_opening_is_refused_by_the_service_too(ctx):
    organizer = make_organizer()
    territory = Territory(name="Vide")
    organizer.territories.append(territory)
    event = events.create_event(organizer, territory, "Soirée", None)
    with pytest.raises(ServiceError) as refused:
        events.update_event(organizer, event, status=EventStatus.live)
    assert refused.value.code == "no_controller"
    db.session.rollback()


def test_the_statement_names_only_tests_that_exist():
    """Every check the accessibility statement lists is a test of the suite."""
    import ast
    from pathlib import Path

    from workshop.services import accessibility

    root = Path(__file__).resolve().parent.parent
    for test in accessibility.named_tests():
        path, name = test.split("::")
        tree = ast.parse((root / path).read_text(encoding="utf-8"))
        names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert name in names, test


def test_the_statement_follows_the_rgaa_model_with_the_territorys_body(app, evening):
    page = app.test_client()
    page.set_cookie("lang", "fr")
    territory_id = read(app, lambda s: s.get(Event, evening.event_id).territory_id)
    text = page.get(f"/accessibilite?territory={territory_id}").get_data(as_text=True)
    for part in ("Mairie de Testville", "État de conformité", "non conforme",
                 "Résultats des tests", "Vérifications manuelles", "Contenus non accessibles",
                 "Dérogations", "Établissement de cette déclaration", "axe-core",
                 "accessibilite@testville.example", "Défenseur des droits",
                 "test_a_participant_runs_the_whole_evening_with_the_keyboard_only"):  # fmt: skip
        assert part in text, part
    # The footer of every page says the status and links to it.
    join = page.get(f"/t/{evening.tables[0].join_code}").get_data(as_text=True)
    assert f"/accessibilite?territory={territory_id}" in join
    assert "Accessibilité\u00a0: non conforme" in join
    assert page.get("/accessibilite?territory=424242").status_code == 404
    assert page.get("/accessibilite?territory=" + "9" * 30).status_code == 404


def test_time_up_never_refuses_what_a_participant_writes(ctx, table):
    """WCAG 2.2.1: the step's timer tells the room, it never takes a card,
    a vote or a commitment away from someone still typing."""

    from workshop import clock
    from workshop.services import steps, writes

    participant, _token = live.join_table(table, "Léa", "citizen")
    steps.ensure_script(table)
    db.session.commit()
    facilitator = writes.as_facilitator(table)

    def write(actor, op, **data):
        answer = writes.perform(actor, envelope(op, data))
        assert answer["ok"], answer
        return answer

    diverge = next(s for s in table.steps if s.kind == "diverge")
    write(facilitator, "step.go", step_id=diverge.id)
    clock.advance(diverge.duration + 120)  # time is up
    answer = write(writes.as_participant(participant), "idea.post", text="Écrite après la fin")
    idea_id = answer["changes"][0]["id"]
    vote = next(s for s in table.steps if s.kind == "vote")
    write(facilitator, "step.go", step_id=vote.id)
    write(facilitator, "vote.open")
    clock.advance(vote.duration + 120)
    write(writes.as_participant(participant), "vote.cast", idea_id=idea_id)
    write(writes.as_participant(participant), "commit.save", role="carry")


def test_every_page_links_to_the_statement_and_the_notice_of_its_territory(app, evening):
    """RGAA: the statement is linked from every page's footer (the privacy
    notice too), and on a page about a territory, that territory's own. The
    projector's screen alone has no footer: nobody can click on a wall."""
    from workshop.models import Project, Table
    from workshop.services import reviews

    from .test_backlog import run_table

    def project_and_reviewer(session):
        table = session.get(Table, evening.tables[0].id)
        run_table(table, cards={"Léa": ["Une navette"]}, ballots={},
                  sheet={"solution": "Une navette"}, commitments={})  # fmt: skip
        event = session.get(Event, evening.event_id)
        organizer = event.territory.organizers[0]
        events.update_event(organizer, event, status=EventStatus.closed)  # makes the project
        project = session.scalar(select(Project))
        reviewer, token = reviews.new_reviewer(organizer, event.territory, "Anne")
        reviews.invite(organizer, project, reviewer)
        return project.id, event.territory_id, token

    table = evening.tables[0]
    event = evening.event_id
    phone = app.test_client()
    phone.post(f"/t/{table.join_code}/join", data={"display_name": "Marc", "category": "citizen"})
    project_id, territory_id, token = prepare(app, project_and_reviewer)
    http = signed_in(app)
    territory_pages = {
        phone: [f"/e/{evening.join_code}", f"/t/{table.join_code}", f"/t/{table.join_code}/me",
                f"/f/{table.facilitator_secret}"],
        http: [f"/organizer/events/{event}", f"/organizer/events/{event}/live",
               f"/organizer/events/{event}/edit", f"/organizer/events/{event}/tables/new",
               f"/organizer/tables/{table.id}/edit", f"/organizer/tables/{table.id}/script",
               f"/organizer/events/{event}/kits",
               f"/organizer/territories/{territory_id}/settings",
               f"/organizer/territories/{territory_id}/record",
               f"/backlog/projects/{project_id}", f"/backlog/projects/{project_id}/jobs",
               f"/backlog/projects/{project_id}/funding", f"/backlog/events/{event}/ideas",
               f"/backlog/territories/{territory_id}/rules",
               f"/backlog/territories/{territory_id}/funders"],
        app.test_client(): [f"/review/{token}", f"/accessibilite?territory={territory_id}",
                            f"/confidentialite?territory={territory_id}"],
    }  # fmt: skip
    other_pages = {
        app.test_client(): ["/", "/login", "/accessibilite", "/confidentialite"],
        http: ["/organizer/", "/organizer/events/new", "/organizer/events/import", "/backlog/",
               "/backlog/indicators", "/account/password"],
    }  # fmt: skip
    for pages, ours in ((territory_pages, True), (other_pages, False)):
        for client, paths in pages.items():
            for path in paths:
                page = client.get(path)
                assert page.status_code == 200, path
                assert '<footer class="site-footer' in page.text, path
                footer = page.text[page.text.index('<footer class="site-footer') :]
                assert "data-statement-link" in footer and "data-privacy-link" in footer, path
                if ours:
                    assert f"/accessibilite?territory={territory_id}" in footer, path
                    assert f"/confidentialite?territory={territory_id}" in footer, path
    projector = app.test_client().get(f"/p/{evening.join_code}").text
    assert "data-statement-link" not in projector
