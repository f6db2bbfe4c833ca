"""The facilitator's console, opened by the table's secret link."""

from flask import Blueprint, abort, render_template

from ..forms import category_choices
from ..limits import by_code
from ..services import events

bp = Blueprint("facilitator", __name__)


@bp.get("/f/<secret>")
def console(secret: str):
    table = by_code(lambda: events.table_by_facilitator_secret(secret))
    if table is None:
        abort(404)
    return render_template(
        "facilitator/console.html",
        table=table,
        secret=secret,
        categories=dict(category_choices()),
    )
