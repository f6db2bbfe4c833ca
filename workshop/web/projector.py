"""The projector screen: the event's QR code, join code and live counters."""

from flask import Blueprint, abort, render_template

from ..limits import by_code
from ..qr import public_base_url, qr_svg
from ..services import events

bp = Blueprint("projector", __name__)


@bp.get("/p/<code>")
def screen(code: str):
    event = by_code(lambda: events.event_by_code(code))
    if event is None:
        abort(404)
    url = f"{public_base_url()}/e/{event.join_code}"
    return render_template(
        "projector/screen.html",
        event=event,
        url=url,
        qr=qr_svg(url),
        totals=events.event_totals(event),
    )
