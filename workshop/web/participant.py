"""Public pages: home, join by code, the event page and a table's phone page."""

import json

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext

from ..forms import CodeForm, JoinForm, category_choices
from ..limits import by_code, limiter, wait_words
from ..models import Table
from ..services import ServiceError, accounts, events, live, minors, privacy, territories
from .responses import download

bp = Blueprint("participant", __name__)
JOINS_PER_MINUTE = 20  # per address and table
EVENING_JOINS_WINDOW = 3600  # seconds: see EVENING_JOINS_PER_ADDRESS in config.py


@bp.get("/")
def home():
    if accounts.needs_setup():
        return redirect(url_for("auth.setup"))
    return render_template("participant/home.html", form=CodeForm(request.args))


@bp.get("/join")
def join_by_code():
    """Send a typed code to its table (or to its event's page)."""
    form = CodeForm(request.args)
    if form.validate():
        code = form.code.data
        found = by_code(lambda: events.table_by_code(code) or events.event_by_code(code))
        if isinstance(found, Table):
            return redirect(url_for("participant.table", code=found.join_code))
        if found is not None:
            return redirect(url_for("participant.event", code=found.join_code))
    flash(_("No table or evening has this code. Check it on the table tent."), "error")
    return redirect(url_for("participant.home"))


@bp.get("/e/<code>")
def event(code: str):
    event = by_code(lambda: events.event_by_code(code))
    if event is None:
        abort(404)
    return render_template("participant/event.html", event=event)


@bp.get("/e/<code>/table")
def event_table(code: str):
    """The evening page's "your table's number" form: to that table's page."""
    event = by_code(lambda: events.event_by_code(code))
    if event is None:
        abort(404)
    table = events.table_by_number(event, request.args.get("number"))
    if table is None:
        flash(_("No table of this evening has this number. Check it on your table."), "error")
        return redirect(url_for("participant.event", code=event.join_code))
    return redirect(url_for("participant.table", code=table.join_code))


def _table_or_404(code: str):
    table = by_code(lambda: events.table_by_code(code))
    if table is None:
        abort(404)
    if table.join_code != code:
        return table, redirect(url_for("participant.table", code=table.join_code))
    return table, None


@bp.get("/t/<code>")
def table(code: str):
    """The phone page: the join form, or the table's live wall once joined."""
    table, canonical = _table_or_404(code)
    if canonical:
        return canonical
    participant = live.participant_for(table, request.cookies.get(live.participant_cookie(table)))
    if participant is None:
        return _join_page(table, JoinForm())
    return render_template(
        "participant/wall.html",
        table=table,
        participant=participant,
        categories=dict(category_choices()),
        minor_restricted=minors.restricted(participant),
    )


@bp.post("/t/<code>/join")
def join(code: str):
    table, canonical = _table_or_404(code)
    if canonical:
        return canonical
    form = JoinForm()
    valid = form.validate_on_submit()
    if valid and (refused := _joins_refused(table)):
        message, retry_after = refused
        flash(message, "error")
        return _join_page(table, form), 429, {"Retry-After": str(retry_after)}
    if valid:
        try:
            participant, token = live.join_table(
                table, form.display_name.data, form.category.data, form.brings.data or "",
                minor=form.minor.data,
            )  # fmt: skip
        except ServiceError as error:
            flash(str(error.message), "error")
        else:
            response = make_response(redirect(url_for("participant.table", code=table.join_code)))
            response.set_cookie(
                live.participant_cookie(table),
                token,
                max_age=current_app.config["PARTICIPANT_COOKIE_DAYS"] * 24 * 3600,
                httponly=True,
                samesite="Lax",
                secure=current_app.config["SESSION_COOKIE_SECURE"],
            )
            return response
    return _join_page(table, form), 400


def _join_page(table, form: JoinForm) -> str:
    """The join form, asking about the territory's age of minors, with a
    pseudonym to suggest to them."""
    age = territories.minor_age(table.event.territory)
    form.minor.label.text = _("I am under %(age)d", age=age)
    return render_template(
        "participant/join.html", table=table, form=form, minor_age=age,
        pseudonym=minors.suggest_pseudonym(),
    )  # fmt: skip


def _joins_refused(table) -> tuple[str, int] | None:
    """Count a join from this address; why and how long it must wait if it
    joined too often (None: it may join)."""
    limits = limiter(current_app)
    address = request.remote_addr
    evening_limit = current_app.config["EVENING_JOINS_PER_ADDRESS"]
    evening_key = f"join:{address}:event:{table.event_id}"
    # One device seating people at every table is a script, not a guest.
    if evening_limit and (wait := limits.wait(evening_key, evening_limit, EVENING_JOINS_WINDOW)):
        return _joined_many_tables(wait), wait
    # A table seats about ten: more joins than this from one address in a
    # minute is a script filling the seats, not people arriving.
    if wait := limits.hit(f"join:{address}:{table.id}", JOINS_PER_MINUTE, 60):
        message = _("Many people just joined this table from here. Please try again in a minute.")
        return message, wait
    if evening_limit and (wait := limits.hit(evening_key, evening_limit, EVENING_JOINS_WINDOW)):
        return _joined_many_tables(wait), wait
    return None


def _joined_many_tables(wait: int) -> str:
    return _(
        "Many people joined the tables of this evening from this device. "
        "Please try again in %(wait)s.",
        wait=wait_words(wait),
    )


# --- my data ----------------------------------------------------------------------------


def _me(code: str):
    """The table and the participant this phone's cookie names (404 otherwise)."""
    table, canonical = _table_or_404(code)
    if canonical:
        abort(404)
    participant = live.participant_for(table, request.cookies.get(live.participant_cookie(table)))
    if participant is None:
        abort(404)
    return table, participant


@bp.get("/t/<code>/me")
def my_data(code: str):
    table, participant = _me(code)
    return render_template(
        "participant/me.html", table=table, data=privacy.participant_data(participant)
    )


@bp.get("/t/<code>/me.json")
def my_data_file(code: str):
    _table, participant = _me(code)
    content = json.dumps(privacy.participant_data(participant), ensure_ascii=False, indent=1)
    return download(content.encode("utf-8"), "application/json", "mes-donnees.json")


@bp.post("/t/<code>/me/consent")
def withdraw_consent(code: str):
    table, participant = _me(code)
    privacy.withdraw_consent(participant)
    flash(_("Done: nobody will contact you about this evening."), "success")
    return redirect(url_for("participant.my_data", code=table.join_code))


@bp.post("/t/<code>/me/delete")
def delete_my_posts(code: str):
    table, participant = _me(code)
    count = privacy.delete_posts(participant)
    flash(ngettext("%(num)d card deleted.", "%(num)d cards deleted.", count), "success")
    return redirect(url_for("participant.my_data", code=table.join_code))
