"""The synthesis desk by a secret link: a member of the evening's theme team,
without an account (the organizers open it from the evening's page)."""

from flask import Blueprint, abort, render_template

from ..extensions import db
from ..limits import by_code
from ..models import Event
from ..services import desk

bp = Blueprint("desk", __name__, url_prefix="/desk")


@bp.get("/<token>")
def page(token: str):
    link = by_code(lambda: desk.link_by_token(token))
    if link is None:
        abort(404)
    event = db.session.get(Event, link.event_id)
    # The page carries the token to its socket, as the facilitator's console.
    auth = {"role": "desk", "token": token}
    return render_template("desk/desk.html", event=event, auth=auth, member=link.name)
