"""What the server pushes to screens after a committed change (DESIGN.md §6).

Rooms: ``table:<id>`` (the table's phones), ``console:<id>`` (its facilitator),
``event:<id>:organizers`` and ``event:<id>:projector``. Broadcasts always come
after the commit, so whatever a screen receives is already safe in the database.
"""

from .extensions import socketio
from .models import Idea, Participant, Table
from .services import events, live


def table_room(table_id: int) -> str:
    return f"table:{table_id}"


def console_room(table_id: int) -> str:
    return f"console:{table_id}"


def organizers_room(event_id: int) -> str:
    return f"event:{event_id}:organizers"


def projector_room(event_id: int) -> str:
    return f"event:{event_id}:projector"


def idea_changed(idea: Idea) -> None:
    """Push an idea's new state to every screen of its table and the organizers."""
    public = live.idea_payload(idea)
    socketio.emit("idea", public, to=table_room(idea.table_id))
    socketio.emit("idea", live.idea_payload(idea, moderator=True), to=console_room(idea.table_id))
    socketio.emit(
        "idea", {**public, "table_id": idea.table_id}, to=organizers_room(idea.table.event_id)
    )
    counts_changed(idea.table)


def participant_joined(participant: Participant) -> None:
    """Tell the facilitator who arrived, and update the counters."""
    socketio.emit(
        "participant", live.participant_payload(participant), to=console_room(participant.table_id)
    )
    counts_changed(participant.table)


def table_state_changed(table: Table) -> None:
    """Push the table's state (reporter…) to its phones and console."""
    state = live.table_state(table)
    socketio.emit("state", state, to=table_room(table.id))
    socketio.emit("state", state, to=console_room(table.id))


def counts_changed(table: Table) -> None:
    """Update the organizers' overview and the projector's counters."""
    event = table.event
    socketio.emit(
        "table_counts",
        {"table_id": table.id, **events.table_count(table)},
        to=organizers_room(event.id),
    )
    socketio.emit("totals", events.event_totals(event), to=projector_room(event.id))
