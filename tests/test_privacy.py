"""Purging an evening's personal data: afterwards no name, contact or text
about a person of that evening is left anywhere — tables, journal, exports,
the database file itself — and the anonymous figures are unchanged."""

import sqlite3

import pytest
from sqlalchemy import func, select, text

from workshop.extensions import db
from workshop.models import (
    Event,
    EventStatus,
    Idea,
    JournalEntry,
    Participant,
    SheetField,
    Vote,
)
from workshop.services import ServiceError, backlog, events, exports, live, privacy, writes

from .helpers import make_event, make_organizer, signed_in
from .test_backlog import run_table, write

PERSONAL = ("Inès Moreau", "Noé Lambert", "ines.moreau@example.org", "Mon tracteur rouge",
            "Un salaire décent", "06 12 34 56 78")  # fmt: skip


@pytest.fixture
def closed_evening(app, database_path):
    """A closed evening full of personal data, and its anonymous figures."""
    with app.app_context():
        organizer = make_organizer()
        event = make_event(organizer, title="Soirée à purger", tables=2)
        table = event.tables[0]
        people, _ideas = run_table(
            table,
            cards={"Inès Moreau": ["Une coopérative de tracteurs"], "Noé Lambert": ["Un marché"]},
            ballots={"Noé Lambert": ["Une coopérative de tracteurs"]},
            sheet={"solution": "Mutualiser le matériel agricole"},
            commitments={"Noé Lambert": ("contribute", "Mon tracteur rouge")},
        )
        ines = people["Inès Moreau"]
        write(writes.as_facilitator(table), "table.reporter", participant_id=ines.id)
        write(writes.as_participant(ines), "sheet.edit", key="users", text="Les éleveurs",
              base_version=0)  # fmt: skip
        write(writes.as_participant(ines), "commit.save", role="carry", consent=True,
              contact="ines.moreau@example.org", expects="Un salaire décent")  # fmt: skip
        live.join_table(event.tables[1], "Zoé", "business")
        tokens = [live.join_table(event.tables[1], "Dernier", "citizen")]
        events.update_event(organizer, event, status=EventStatus.closed)  # the backlog is made
        [project] = [p for p in backlog.projects_for(organizer) if p.table_id == table.id]
        backlog.add_member(organizer, project, name="06 12 34 56 78")  # a contact as a name
        backlog.take_over(organizer, project, project.members[0].id)
        figures = anonymous_figures(event)
        event_id = event.id
        db.session.remove()
    return event_id, figures, tokens


def anonymous_figures(event: Event) -> dict:
    table_ids = [t.id for t in event.tables]
    return {
        "ideas": sorted(db.session.scalars(select(Idea.text).where(Idea.table_id.in_(table_ids)))),
        "votes": db.session.scalar(select(func.count(Vote.id))),
        "categories": sorted(
            db.session.scalars(
                select(Participant.category).where(Participant.table_id.in_(table_ids))
            )
        ),
        "sheets": sorted(db.session.scalars(select(SheetField.text))),
        "totals": events.event_totals(event),
    }


def test_after_the_purge_no_personal_datum_is_left_and_the_figures_are_unchanged(
    app, closed_evening, database_path
):
    event_id, before, _tokens = closed_evening
    with app.app_context():
        event = db.session.get(Event, event_id)
        organizer = event.territory.organizers[0]

        done = privacy.purge_event(organizer, event)

        assert done.participants == 4
        assert anonymous_figures(event) == before
        names = sorted(db.session.scalars(select(Participant.display_name)))
        assert names == [f"Participant {n}" for n in range(1, 5)]
        header, rows = exports.gather(event)
        for fmt in ("csv", "json"):
            content, _mime, _name = exports.render(header, rows, fmt, lambda c: "")
            for datum in PERSONAL:
                assert datum.encode() not in content, (fmt, datum)
        purged = db.session.scalars(
            select(JournalEntry).where(JournalEntry.action == "event.purged")
        ).one()
        assert purged.data["participants"] == 4
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()

    dump = "\n".join(sqlite3.connect(database_path).iterdump())
    raw = database_path.read_bytes()
    for datum in PERSONAL:
        assert datum not in dump, datum
        assert datum.encode() not in raw, datum  # not even in the file's free space
    assert "Une coopérative de tracteurs" in dump and "Mutualiser le matériel agricole" in dump


def test_the_phones_of_a_purged_evening_open_nothing(app, closed_evening):
    event_id, _before, tokens = closed_evening
    with app.app_context():
        event = db.session.get(Event, event_id)
        table = event.tables[1]
        [(participant, token)] = tokens
        assert live.participant_for(table, token) is not None
        privacy.purge_event(event.territory.organizers[0], event)
        assert live.participant_for(table, token) is None
        db.session.remove()


def test_a_live_evening_cannot_be_purged_and_an_intruder_cannot_purge(app, closed_evening):
    event_id, _before, _tokens = closed_evening
    with app.app_context():
        event = db.session.get(Event, event_id)
        organizer = event.territory.organizers[0]
        events.update_event(organizer, event, status=EventStatus.live)
        with pytest.raises(ServiceError) as refused:
            privacy.purge_event(organizer, event)
        assert refused.value.code == "not_closed"
        events.update_event(organizer, event, status=EventStatus.closed)
        make_organizer("autre@example.org", "Autre pays")
        db.session.remove()

    intruder = signed_in(app, "autre@example.org")
    assert intruder.post(f"/organizer/events/{event_id}/purge").status_code == 404
    assert "Inès Moreau" in read_names(app)
    done = signed_in(app).post(f"/organizer/events/{event_id}/purge", follow_redirects=True)
    assert "sont désormais anonymes" in done.get_data(as_text=True)
    assert "Inès Moreau" not in read_names(app)


def read_names(app) -> list[str]:
    with app.app_context():
        try:
            return list(db.session.scalars(select(Participant.display_name)))
        finally:
            db.session.remove()


# --- a participant's own data, from their phone -----------------------------------------


def phone_http(app, code, token):
    http = app.test_client()
    http.set_cookie(f"wt_{code}", token)
    return http


def test_a_participant_sees_downloads_and_deletes_their_data_and_withdraws_consent(app):
    with app.app_context():
        organizer = make_organizer()
        event = make_event(organizer, tables=1)
        table = event.tables[0]
        ines, token = live.join_table(table, "Inès", "citizen", "Du temps")
        for text in ("Une navette", "Un marché"):
            write(writes.as_participant(ines), "idea.post", text=text)
        write(writes.as_participant(ines), "commit.save", role="carry", consent=True,
              contact="ines@example.org")  # fmt: skip
        noe, _ = live.join_table(table, "Noé", "citizen")
        write(writes.as_participant(noe), "idea.post", text="L’idée de Noé")
        events.update_event(organizer, event, status=EventStatus.closed)  # after the evening
        code, ines_id = table.join_code, ines.id
        db.session.remove()
    http = phone_http(app, code, token)

    page = http.get(f"/t/{code}/me").get_data(as_text=True)
    assert "Une navette" in page and "ines@example.org" in page and "L’idée de Noé" not in page
    mine = http.get(f"/t/{code}/me.json").get_json()
    assert [i["text"] for i in mine["ideas"]] == ["Une navette", "Un marché"]
    assert (mine["contact"], mine["consent"], mine["brings"]) == ("ines@example.org", True,
                                                                  "Du temps")  # fmt: skip
    assert app.test_client().get(f"/t/{code}/me").status_code == 404  # no cookie, no data

    http.post(f"/t/{code}/me/consent")
    done = http.post(f"/t/{code}/me/delete", follow_redirects=True).get_data(as_text=True)

    assert "2 cartes supprimées" in done

    def state(session):
        person = session.get(Participant, ines_id)
        ideas = session.scalars(select(Idea).where(Idea.deleted.is_(False))).all()
        members = session.scalars(select(backlog.ProjectMember)).all()
        theirs = [(m.contact, m.consent) for m in members if m.participant_id == ines_id]
        return person.contact, person.contact_consent, [i.text for i in ideas], theirs

    with app.app_context():
        try:
            assert state(db.session) == ("", False, ["L’idée de Noé"], [("", False)])
        finally:
            db.session.remove()
