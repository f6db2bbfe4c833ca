"""Reusable formats: an evening's tables, briefs and scripts exported as a
file and imported into another territory, with a preview; never people or
results; a wrong file creates nothing and says why."""

import io
import json

from sqlalchemy import func, select

from workshop.extensions import db
from workshop.models import Event, EventStatus, Idea, Participant
from workshop.services import accounts, formats, steps

from .helpers import make_event, make_organizer, read, signed_in
from .test_backlog import run_table


def prepared(app) -> tuple[int, int]:
    """An evening with results and an edited script, and another territory
    of the same organizer (the import's target)."""
    with app.app_context():
        organizer = make_organizer()
        event = make_event(organizer, title="Soirée de Reims", tables=2)
        first = event.tables[0]
        first.name, first.brief = "Mobilités « douces »", "Contexte : l’été, 5 €."
        script = steps.script_of(first)
        script[0]["title"] = "Tour de table, version courte"
        steps.set_script(first, script)
        db.session.commit()
        run_table(first, cards={"Léa": ["Une navette"]}, ballots={}, sheet={},
                  commitments={"Léa": ("carry", "Mon permis")})  # fmt: skip
        other = accounts.Territory(name="Pays voisin", population=5000)
        organizer.territories.append(other)
        db.session.commit()
        ids = event.id, other.id
        db.session.remove()
    return ids


def test_a_format_goes_to_another_territory_without_people_or_results(app):
    event_id, territory_id = prepared(app)
    http = signed_in(app)
    content = http.get(f"/organizer/events/{event_id}/format").data
    document = json.loads(content)
    assert document["schema"] == formats.SCHEMA and len(document["tables"]) == 2
    assert "Léa" not in content.decode() and "Une navette" not in content.decode()

    preview = http.post(
        "/organizer/events/import",
        data={"file": (io.BytesIO(content), "format.json")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Mobilités « douces »" in preview and "Tour de table, version courte" in preview
    assert read(app, lambda s: s.scalar(select(func.count(Event.id)))) == 1  # nothing yet

    created = http.post(
        "/organizer/events/import",
        data={"raw": content.decode(), "confirm": "1", "territory": str(territory_id),
              "title": "Soirée d’Épernay", "date": "2027-03-12"},
    )  # fmt: skip
    assert created.status_code == 302

    def imported(session):
        event = session.scalars(select(Event).where(Event.title == "Soirée d’Épernay")).one()
        first = min(event.tables, key=lambda t: t.number)
        return (
            event.territory_id, event.status, str(event.date), [t.name for t in event.tables],
            first.brief, [s.title for s in first.steps][0],
            session.scalar(select(func.count(Participant.id)).where(
                Participant.table_id.in_([t.id for t in event.tables]))),
            session.scalar(select(func.count(Idea.id)).where(
                Idea.table_id.in_([t.id for t in event.tables]))),
            first.facilitator_secret != "",
        )  # fmt: skip

    assert read(app, imported) == (
        territory_id, EventStatus.draft, "2027-03-12", ["Mobilités « douces »", "Table 2"],
        "Contexte : l’été, 5 €.", "Tour de table, version courte", 0, 0, True,
    )  # fmt: skip


def test_a_wrong_file_is_refused_with_a_reason_and_creates_nothing(app):
    event_id, territory_id = prepared(app)
    http = signed_in(app)
    good = json.loads(http.get(f"/organizer/events/{event_id}/format").data)
    wrong = [
        b"",
        b"not json at all",
        json.dumps({"schema": "other"}).encode(),
        json.dumps({**good, "version": 99}).encode(),
        json.dumps({**good, "tables": []}).encode(),
        json.dumps({**good, "tables": [{**good["tables"][0], "challenge": "war"}]}).encode(),
        json.dumps({**good, "tables": [{**good["tables"][0], "capacity": True}]}).encode(),
        json.dumps({**good, "tables": [{**good["tables"][0], "name": "x" * 201}]}).encode(),
        json.dumps(
            {**good, "tables": [{**good["tables"][0], "script": [{"kind": "dance"}]}]}
        ).encode(),
        b"x" * (formats.MAX_BYTES + 10),
    ]
    for content in wrong:
        page = http.post(
            "/organizer/events/import",
            data={"raw": content.decode(), "confirm": "1", "territory": str(territory_id)},
        ).get_data(as_text=True)
        assert "flash-error" in page, content[:60]
    assert read(app, lambda s: s.scalar(select(func.count(Event.id)))) == 1
    # Another organizer's territory is not a target.
    with app.app_context():
        make_organizer("autre@example.org", "Autre pays")
        db.session.remove()
    intruder = signed_in(app, "autre@example.org")
    assert intruder.get(f"/organizer/events/{event_id}/format").status_code == 404
    refused = intruder.post(
        "/organizer/events/import",
        data={"raw": json.dumps(good), "confirm": "1", "territory": str(territory_id)},
    )
    assert refused.status_code == 400
    assert read(app, lambda s: s.scalar(select(func.count(Event.id)))) == 1
