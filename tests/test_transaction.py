"""One owner of the transaction (issue 18, item 0): a service called alone
commits its change; services called together inside ``atomic`` commit
together at its end, or not at all."""

import pytest
from sqlalchemy import func, select

from workshop.models import Event, Table
from workshop.services import ServiceError, events, journal
from workshop.services.transaction import atomic

from .helpers import committed, make_organizer

EVENTS = select(func.count(Event.id))
TABLES = select(func.count(Table.id))


def new_evening(organizer):
    return events.create_event(organizer, organizer.territories[0], "Soirée", None, "Salle")


def test_a_service_called_alone_commits_its_change(ctx):
    new_evening(make_organizer())
    assert committed(lambda s: s.scalar(EVENTS)) == 1


def test_services_called_together_commit_at_the_end_together(ctx):
    organizer = make_organizer()
    with atomic():
        event = new_evening(organizer)
        events.update_event(organizer, event, title="Soirée des mobilités")
        journal.record(f"organizer:{organizer.id}", "event.prepared", event.title)
        assert committed(lambda s: s.scalar(EVENTS)) == 0  # nothing seen before the end
    assert committed(lambda s: s.scalar(select(Event.title))) == "Soirée des mobilités"


def test_when_one_fails_nothing_of_the_others_is_kept(ctx):
    organizer = make_organizer()
    with pytest.raises(ServiceError), atomic():
        new_evening(organizer)
        with atomic():  # an inner one belongs to the outer transaction
            raise ServiceError("refused", "Refusé")
    assert committed(lambda s: s.scalar(EVENTS)) == 0
    assert committed(lambda s: s.scalar(TABLES)) == 0
