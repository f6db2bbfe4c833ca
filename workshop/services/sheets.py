"""The table's sheet (DESIGN.md §5, step 6): one template per challenge,
edited live by the facilitator and the reporter.

Each field has a version. An edit names the version it was based on; if
someone changed the field since, the edit is refused and the editor gets the
other text back, to choose — a concurrent edit never silently overwrites
another. Who has a field open is shown to the others.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..models import SheetField, Table
from . import ServiceError, sheet_template
from .changes import touch
from .inputs import bad_request, clean_text, integer, require_open
from .writes import Request, op

MAX_FIELD = 2000


# Who wrote, as stored and sent: a participant's name, or a marker each screen
# translates itself (a view is pushed to screens in several languages).
FACILITATOR, ORGANIZERS = "@facilitator", "@organizers"


def _editor_name(req: Request) -> str:
    if req.actor.participant is not None:
        return req.actor.participant.display_name
    return FACILITATOR if req.actor.role == "facilitator" else ORGANIZERS


def _may_edit(req: Request) -> None:
    table = req.actor.table
    if req.actor.role == "participant" and table.reporter_id != req.actor.participant.id:
        raise ServiceError(
            "not_reporter", _l("Only the reporter and the facilitator write the sheet.")
        )


def _field(table: Table, key) -> SheetField:
    if not isinstance(key, str) or key not in sheet_template.keys(table.challenge):
        raise bad_request()
    field = db.session.scalar(
        select(SheetField).where(SheetField.table_id == table.id, SheetField.key == key)
    )
    if field is None:
        field = SheetField(table_id=table.id, key=key, text="", version=0)
        db.session.add(field)
    return field


@op("sheet.edit", "participant", "facilitator", "organizer")
def edit(req: Request) -> None:
    """Write a field of the sheet, based on the version the editor saw."""
    table = req.actor.table
    _may_edit(req)
    require_open(table)
    field = _field(table, req.data.get("key"))
    text = clean_text(req.data.get("text"), MAX_FIELD, required=False)
    base = integer(req.data.get("base_version"))
    if base is None:
        raise bad_request()
    if text == field.text:
        return
    if base != field.version:
        raise ServiceError(
            "sheet_conflict",
            _l("Someone else changed this field meanwhile. Choose which text to keep."),
            key=field.key,
            current={"text": field.text, "version": field.version, "by": field.edited_by},
        )
    field.text = text
    field.version += 1
    field.edited_by = _editor_name(req)
    field.editing_by, field.editing_at = "", None
    field.updated_at = clock.now()
    touch(field)


@op("sheet.focus", "participant", "facilitator", "organizer")
def focus(req: Request) -> None:
    """Show the others who is writing a field (null key: nobody any more)."""
    table = req.actor.table
    _may_edit(req)
    key = req.data.get("key")
    name = _editor_name(req)
    if key is None:
        for field in db.session.scalars(
            select(SheetField).where(SheetField.table_id == table.id, SheetField.editing_by == name)
        ):
            field.editing_by, field.editing_at = "", None
            touch(field)
        return
    field = _field(table, key)
    field.editing_by, field.editing_at = name, clock.now()
    touch(field)
