"""The journal: an append-only record of who changed what, and when."""

from ..extensions import db
from ..models import JournalEntry


def record(
    actor: str,
    action: str,
    subject: str = "",
    *,
    territory_id: int | None = None,
    event_id: int | None = None,
    **data,
) -> None:
    """Append an entry to the journal (committed with the caller's change)."""
    db.session.add(
        JournalEntry(
            actor=actor,
            action=action,
            # An evening's title may be longer than the column (PostgreSQL refuses it).
            subject=subject[: JournalEntry.subject.type.length],
            territory_id=territory_id,
            event_id=event_id,
            data=data,
        )
    )
