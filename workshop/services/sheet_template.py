"""The sheet's templates, one per challenge, and who shows as editing a field
(plain data and rules, used by the sheet's operations and by every view)."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from .. import clock
from ..models import Challenge, SheetField

EDITING_FOR = timedelta(seconds=60)  # a field shows as "being edited" this long

TEMPLATES = {
    Challenge.territorial: (
        ("problem", _l("The problem")),
        ("affected", _l("Who is affected")),
        ("where", _l("Where")),
        ("evidence", _l("What shows it")),
        ("resources", _l("Resources already there")),
    ),
    Challenge.creative: (
        ("solution", _l("The solution")),
        ("users", _l("Its users")),
        ("value", _l("Value for the territory")),
        ("revenue", _l("How it could earn money")),
        ("carriers", _l("Who could carry it")),
    ),
    Challenge.prototyping: (
        ("features", _l("Key features")),
        ("first_test", _l("The first test, here and now, with what we have")),
        ("resources", _l("Resources and partners needed")),
        ("next_steps", _l("Next steps")),
        ("carrier", _l("Carrier (found or sought)")),
    ),
}


def keys(challenge: Challenge) -> list[str]:
    """The field keys of a challenge's sheet (no translation needed)."""
    return [key for key, _label in TEMPLATES[Challenge(challenge)]]


def template(challenge: Challenge) -> list[dict]:
    """The fields of a challenge's sheet, with their labels in the current language."""
    return [{"key": key, "label": str(label)} for key, label in TEMPLATES[Challenge(challenge)]]


def editing(field: SheetField) -> str:
    """Who is writing the field now ("" when nobody is, or they left it long ago)."""
    at = clock.aware(field.editing_at)
    if not field.editing_by or at is None or clock.now() - at > EDITING_FOR:
        return ""
    return field.editing_by
