"""Minors (issue 19): the join form asks whether the person is under the
territory's age of minors; for them the app keeps the minimum — a pseudonym
suggested, no contact, no "keep me informed", never named in a project's
team or an export — unless an organizer records that a parent consented.
Their cards and votes count like everyone's."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from workshop.client import envelope
from workshop.extensions import db
from workshop.models import Event, Participant, Project
from workshop.services import ServiceError, events, live, writes

from .helpers import make_organizer, prepare, read, signed_in
from .test_backlog import run_table, write
from .test_exports import pdf_text
from .test_privacy import readable

MINOR = "Zoé Dupont-Secret"  # a minor who typed her real name all the same
ADULT = "Marc Durand"


def _join(http, table, name, minor: bool):
    data = {"display_name": name, "category": "student" if minor else "citizen"}
    if minor:
        data["minor"] = "y"
    return http.post(f"/t/{table.join_code}/join", data=data)


def test_the_join_form_asks_about_the_territorys_age_and_suggests_a_pseudonym(app, evening):
    table = evening.tables[0]

    def sixteen(session):
        territory = session.get(Event, evening.event_id).territory
        territory.settings = {**territory.settings, "public": {
            **territory.settings["public"], "minor_age": 16}}  # fmt: skip

    prepare(app, sixteen)
    phone = app.test_client()
    phone.set_cookie("lang", "fr")
    page = phone.get(f"/t/{table.join_code}").get_data(as_text=True)
    assert "J’ai moins de 16\u00a0ans" in page
    pseudonym = re.search(r'data-pseudonym="([^"]+)"', page).group(1)
    assert re.fullmatch(r"\w[\w-]* \w+ \d\d", pseudonym), pseudonym
    assert f"« {pseudonym} »".replace(" »", "\u00a0»").replace("« ", "«\u00a0") in page
    # Asked before the name is typed.
    assert page.index('name="minor"') < page.index('name="display_name"')

    assert _join(phone, table, pseudonym, minor=True).status_code == 302
    adult = app.test_client()
    assert _join(adult, table, ADULT, minor=False).status_code == 302
    stored = read(app, lambda s: dict(s.execute(
        select(Participant.display_name, Participant.minor)).all()))  # fmt: skip
    assert stored == {pseudonym: True, ADULT: False}

    # The minor's phone offers no "keep me informed" and no contact.
    wall = phone.get(f"/t/{table.join_code}").get_data(as_text=True)
    assert "data-minor-note" in wall
    assert re.search(r'<label class="kind-option" hidden><input type="radio" name="role" '
                     r'value="follow" disabled>', wall)  # fmt: skip
    assert re.search(r'<input type="checkbox" name="consent" disabled>', wall)
    grown_up = adult.get(f"/t/{table.join_code}").get_data(as_text=True)
    assert "data-minor-note" not in grown_up
    assert 'name="consent" disabled' not in grown_up
    mine = phone.get(f"/t/{table.join_code}/me").get_data(as_text=True)
    assert "jamais dans l’équipe d’un projet" in mine


def test_a_minor_cannot_leave_a_contact_nor_ask_to_be_kept_informed(ctx, table):
    minor, _token = live.join_table(table, MINOR, "student", minor=True)
    actor = writes.as_participant(minor)
    refusals = [
        (actor, {"role": "follow"}),
        (actor, {"role": "carry", "consent": True, "contact": "zoe@example.org"}),
        # The facilitator, writing for someone without a phone, is refused too.
        (writes.as_facilitator(table), {"participant_id": minor.id, "role": "contribute",
                                        "consent": True, "contact": "06 00 00 00 00"}),
    ]  # fmt: skip
    for writer, data in refusals:
        with pytest.raises(ServiceError) as refused:
            writes.perform(writer, envelope("commit.save", data))
        assert refused.value.code == "minor", data
        db.session.rollback()
    write(actor, "commit.save", role="carry", contribution="Des dessins")
    db.session.refresh(minor)
    assert (minor.contact, minor.contact_consent) == ("", False)


@pytest.fixture
def promoted(app):
    """A closed evening whose table has a minor (carrying, voting, posting)
    and an adult who agreed to be contacted; its project made."""

    def evening(session):
        organizer = make_organizer()
        event = events.create_event(organizer, organizer.territories[0], "Soirée", None)
        events.add_table(organizer, event, name="Table 1", brief_title="Q", brief="B",
                         challenge="creative")  # fmt: skip
        events.update_event(organizer, event, status="live")
        table = event.tables[0]
        minor, _token = live.join_table(table, MINOR, "student", minor=True)
        people, ideas = run_table(
            table,
            cards={ADULT: ["Un atelier vélo"]},
            ballots={ADULT: ["Un atelier vélo"]},
            sheet={},
            commitments={ADULT: ("carry", "Mon garage")},
        )
        answer = write(writes.as_participant(minor), "idea.post", text="Un jardin partagé")
        garden = answer["changes"][0]["id"]
        vote = next(s for s in table.steps if s.kind == "vote")
        write(writes.as_facilitator(table), "step.go", step_id=vote.id)
        write(writes.as_facilitator(table), "vote.open")
        write(writes.as_participant(minor), "vote.cast", idea_id=garden)
        write(writes.as_participant(minor), "vote.cast", idea_id=ideas["Un atelier vélo"])
        write(writes.as_facilitator(table), "vote.close")
        write(writes.as_participant(minor), "commit.save", role="contribute",
              contribution="Des dessins")  # fmt: skip
        write(writes.as_participant(people[ADULT]), "commit.save", role="carry",
              contribution="Mon garage", consent=True, contact="marc@example.org")  # fmt: skip
        events.update_event(organizer, event, status="closed")  # promotes the table
        return {"event_id": event.id, "minor_id": minor.id,
                "project_id": session.scalar(select(Project.id))}  # fmt: skip

    return prepare(app, evening)


def _everything(http, promoted) -> dict[str, str]:
    """The project's page and every export of the evening, as text."""
    found = {"project page": http.get(f"/backlog/projects/{promoted['project_id']}").text}
    for fmt in ("csv", "csv-excel", "xlsx", "json", "html", "pdf"):
        answer = http.get(f"/backlog/events/{promoted['event_id']}/export/{fmt}")
        assert answer.status_code == 200, fmt
        found[fmt] = pdf_text(answer.data) if fmt == "pdf" else readable(answer.data)
    return found


def test_a_minor_is_never_named_in_a_team_or_an_export_and_counts_like_anyone(app, promoted):
    http = signed_in(app)
    http.set_cookie("lang", "fr")
    for where, text in _everything(http, promoted).items():
        assert "Zoé" not in text and "Dupont" not in text, where
    assert ADULT in _everything(http, promoted)["csv"]  # who agreed is named
    team = read(
        app,
        lambda s: sorted(
            (m.name, m.consent, m.contact) for m in s.get(Project, promoted["project_id"]).members
        ),
    )
    assert team == [("Marc Durand", True, "marc@example.org"),
                    ("Participant mineur", False, "")]  # fmt: skip
    page = http.get(f"/backlog/projects/{promoted['project_id']}").text
    assert "Participant mineur" in page

    # Her card and votes count like anyone's: her card is among the project's.
    cards = read(
        app, lambda s: {i.text: i.votes for i in s.get(Project, promoted["project_id"]).ideas}
    )
    assert cards == {"Un atelier vélo": 2, "Un jardin partagé": 1}
    counted = http.get(f"/backlog/events/{promoted['event_id']}/export/json").get_json()
    assert counted["tables"][0]["participants"] == 2
    assert {i["text"]: i["votes"] for i in counted["ideas"]} == cards


def test_with_a_parents_consent_recorded_a_minor_is_named_in_the_team(app, promoted):
    http = signed_in(app)
    http.set_cookie("lang", "en")
    url = f"/organizer/events/{promoted['event_id']}/minors/{promoted['minor_id']}/consent"
    page = http.get(f"/organizer/events/{promoted['event_id']}").text
    assert 'id="minors"' in page and MINOR in page  # the organizer's own page names her

    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    for bad in ({"by": "", "on": date.today().isoformat()}, {"by": "Anne Dupont", "on": tomorrow},
                {"by": "Anne Dupont", "on": "hier"}):  # fmt: skip
        answer = http.post(url, data=bad, follow_redirects=True)
        assert 'class="flash flash-error"' in answer.text, bad
    assert read(app, lambda s: s.get(Participant, promoted["minor_id"]).guardian_consent_at) is None

    other = signed_in(
        app, prepare(app, lambda s: make_organizer("x@example.org", "Ailleurs").email)
    )
    assert other.post(url, data={"by": "Pirate", "on": "2026-01-01"}).status_code == 404

    answer = http.post(url, data={"by": "Anne Dupont", "on": date.today().isoformat()},
                       follow_redirects=True)  # fmt: skip
    assert "consent recorded." in answer.text
    assert "Anne Dupont" in answer.text
    team = read(
        app, lambda s: sorted(m.name for m in s.get(Project, promoted["project_id"]).members)
    )
    assert team == [ADULT, MINOR]
    assert MINOR in http.get(f"/backlog/projects/{promoted['project_id']}").text


def test_minors_are_counted_in_the_processing_record(app, promoted):
    http = signed_in(app)
    territory_id = read(app, lambda s: s.get(Event, promoted["event_id"]).territory_id)
    record = http.get(f"/organizer/territories/{territory_id}/record").text
    held = record[record.index("data-held") :]
    assert re.search(r"<dd>2</dd>\s*<dt>[^<]+</dt><dd>1</dd>", held), held
    assert MINOR not in record
