"""Organizer pages: events, tables, facilitator links, tents, live overview."""

import json
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..forms import EventForm, TableForm, category_choices
from ..models import (
    Challenge,
    Event,
    EventStatus,
    IdeaKind,
    Participant,
    StepKind,
    Table,
    Territory,
    WorkshopKind,
)
from ..qr import public_base_url, qr_svg
from ..services import (
    ServiceError,
    accounts,
    backlog,
    desk,
    events,
    formats,
    minors,
    privacy,
    steps,
    territories,
)
from .responses import download, keep_link_to_show, link_to_show

bp = Blueprint("organizer", __name__, url_prefix="/organizer")


@bp.before_request
@login_required
def require_login():
    """Every page here is for signed-in organizers only."""


def _my_event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    # 404 rather than 403: another territory's events are not even revealed.
    if event is None or not accounts.can_manage(current_user, event):
        abort(404)
    return event


def _my_table(table_id: int) -> Table:
    table = db.session.get(Table, table_id)
    if table is None:
        abort(404)
    _my_event(table.event_id)
    return table


def my_territory(territory_id: int) -> Territory:
    """One of the signed-in organizer's territories (404 for any other)."""
    territory = next((t for t in current_user.territories if t.id == territory_id), None)
    if territory is None:
        abort(404)
    return territory


def join_url(table: Table) -> str:
    """The short address printed on a table tent."""
    return f"{public_base_url()}/t/{table.join_code}"


@bp.get("/")
def dashboard():
    mine = events.events_for(current_user)
    # A closed evening not purged yet, whose retention period is over for some of its data.
    due = {
        event.id: day
        for event in mine
        if event.status == EventStatus.closed
        and not privacy.purges(event)
        and (day := territories.purge_due(event))
    }
    return render_template("organizer/dashboard.html", events=mine, due=due)


def _event_form(event: Event | None = None) -> EventForm:
    form = EventForm(obj=event)
    form.territory_id.choices = [(t.id, t.name) for t in current_user.territories]
    if event is None and not form.is_submitted():
        form.language.data = str(get_locale())
    return form


@bp.route("/events/new", methods=["GET", "POST"])
def new_event():
    form = _event_form()
    if form.validate_on_submit():
        territory = next(t for t in current_user.territories if t.id == form.territory_id.data)
        event = events.create_event(
            current_user,
            territory,
            form.title.data,
            form.date.data,
            form.venue.data or "",
            language=form.language.data,
        )
        flash(_("Evening created. Now add its tables."), "success")
        return redirect(url_for("organizer.event", event_id=event.id))
    return render_template("organizer/event_form.html", form=form, event=None)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
def edit_event(event_id: int):
    event = _my_event(event_id)
    form = _event_form(event)
    if form.validate_on_submit():
        events.update_event(
            current_user,
            event,
            title=form.title.data,
            date=form.date.data,
            venue=form.venue.data or "",
            language=form.language.data,
        )
        flash(_("Evening saved."), "success")
        return redirect(url_for("organizer.event", event_id=event.id))
    return render_template("organizer/event_form.html", form=form, event=event)


@bp.post("/events/<int:event_id>/status/<status>")
def set_status(event_id: int, status: str):
    event = _my_event(event_id)
    try:
        new_status = EventStatus(status)
    except ValueError:
        abort(400)
    try:
        events.update_event(current_user, event, status=new_status)
    except ServiceError as error:
        flash(str(error.message), "error")
    return redirect(url_for("organizer.event", event_id=event.id))


@bp.get("/events/<int:event_id>")
def event(event_id: int):
    return _event_page(_my_event(event_id))


def _event_page(event: Event, decision: dict | None = None):
    """The evening's page; ``decision``: the purge's fields as typed, when refused."""
    counts = events.table_counts(event)
    purges = privacy.purges(event)
    return render_template(
        "organizer/event.html",
        event=event,
        counts=counts,
        retention=territories.due_since(event),
        archived=privacy.archived(event),
        purges=purges,
        backups=privacy.backups_before(event, purges[-1]) if purges else [],
        decision=decision or {},
        minors=minors.minors_of(event),
        today=date.today(),
        totals=events.event_totals(event, counts),
        base_url=public_base_url(),
        desk_links=desk.links_of(event),
        new_desk_link=link_to_show(NEW_DESK_LINK, {"event": event.id}),
        themes=backlog.themes_of(event),
    )


def _kept_for_the_next_table(args) -> dict:
    """What "Save and add another" keeps for the next table (passed in the
    form's address): its challenge, kind and seats, when they are valid."""
    kept = {}
    if args.get("challenge") in {c.value for c in Challenge}:
        kept["challenge"] = args["challenge"]
    if args.get("workshop_kind") in {k.value for k in WorkshopKind}:
        kept["workshop_kind"] = args["workshop_kind"]
    capacity = _number(args.get("capacity"))
    if capacity is not None and 1 <= capacity <= 100:
        kept["capacity"] = capacity
    return kept


@bp.route("/events/<int:event_id>/tables/new", methods=["GET", "POST"])
def new_table(event_id: int):
    """A new table; "Save and add another" comes back here for the next one."""
    event = _my_event(event_id)
    kept = _kept_for_the_next_table(request.args)
    form = TableForm(data=kept)
    if form.validate_on_submit():
        table = events.add_table(current_user, event, **_table_fields(form))
        flash(_("“%(name)s” added as table %(n)d.", name=table.name, n=table.number), "success")
        if request.form.get("another"):
            return redirect(url_for(
                "organizer.new_table", event_id=event.id, challenge=table.challenge.value,
                workshop_kind=table.workshop_kind.value, capacity=table.capacity,
            ))  # fmt: skip
        return redirect(url_for("organizer.event", event_id=event.id))
    if kept:  # the next of a row of tables: its name to type at once
        form.name.render_kw = {"autofocus": True}
    return render_template(
        "organizer/table_form.html", form=form, event=event, table=None,
        number=events.next_table_number(event),
    )  # fmt: skip


def _table_fields(form: TableForm) -> dict:
    return {name: getattr(form, name).data for name in events.TABLE_FIELDS}


@bp.route("/tables/<int:table_id>/edit", methods=["GET", "POST"])
def edit_table(table_id: int):
    table = _my_table(table_id)
    form = TableForm(obj=table)
    if form.validate_on_submit():
        events.update_table(current_user, table, **_table_fields(form))
        flash(_("Table saved."), "success")
        return redirect(url_for("organizer.event", event_id=table.event_id))
    return render_template("organizer/table_form.html", form=form, event=table.event, table=table)


@bp.post("/tables/<int:table_id>/delete")
def delete_table(table_id: int):
    table = _my_table(table_id)
    event_id = table.event_id
    events.delete_table(current_user, table)
    flash(_("Table removed."), "success")
    return redirect(url_for("organizer.event", event_id=event_id))


@bp.post("/tables/<int:table_id>/rotate")
def rotate_link(table_id: int):
    table = _my_table(table_id)
    events.rotate_facilitator_secret(current_user, table)
    flash(
        _("New facilitator link for %(table)s: the old link no longer works.", table=table.name),
        "success",
    )
    return redirect(url_for("organizer.event", event_id=table.event_id))


@bp.get("/events/<int:event_id>/tents")
def tents(event_id: int):
    """Printable QR table tents, one per table."""
    event = _my_event(event_id)
    tents = [(table, join_url(table), qr_svg(join_url(table))) for table in event.tables]
    return render_template("organizer/tents.html", event=event, tents=tents)


def plural_forms(message) -> list[str]:
    """A message's singular and plural forms, for a script that fills in
    {n} itself and picks the form with the language's plural rule
    (Intl.PluralRules: "one" is the first form; French and English have
    two). ``message(n)`` calls ngettext with literal texts, for extraction."""
    return [message(1), message(2)]


@bp.get("/events/<int:event_id>/live")
def overview(event_id: int):
    """The control room: every table at a glance, updated live, steered at once."""
    event = _my_event(event_id)
    plurals = {
        "confirm_move": plural_forms(
            lambda n: ngettext("Move {n} table to “{step}”?", "Move {n} tables to “{step}”?", n)
        ),
        "moved": plural_forms(lambda n: ngettext("{n} table moved.", "{n} tables moved.", n)),
        "no_step": plural_forms(
            lambda n: ngettext(
                "{n} table has no step of this kind.", "{n} tables have no step of this kind.", n
            )
        ),
        "sent": plural_forms(
            lambda n: ngettext("Message sent to {n} console.", "Message sent to {n} consoles.", n)
        ),
        "failed": plural_forms(
            lambda n: ngettext("{n} table refused: {reason}", "{n} tables refused: {reason}", n)
        ),
    }
    return render_template(
        "organizer/overview.html",
        event=event,
        counts=events.table_counts(event),
        step_kinds=list(StepKind),
        categories=dict(category_choices()),
        plurals=plurals,
    )


# --- the synthesis desk ---------------------------------------------------------------

NEW_DESK_LINK = "desk_link"  # the session's key for a desk link made and not shown yet


@bp.post("/events/<int:event_id>/desk-links")
def new_desk_link(event_id: int):
    """A secret link to the evening's synthesis desk, for one team member."""
    event = _my_event(event_id)
    back = url_for("organizer.event", event_id=event.id)
    try:
        link, token = desk.new_link(current_user, event, request.form.get("name"))
    except ServiceError as error:
        flash(str(error.message), "error")
        return redirect(back + "#desk")
    url = public_base_url() + url_for("desk.page", token=token)
    keep_link_to_show(NEW_DESK_LINK, {"event": event.id}, link.name, url)
    return redirect(back + "#new-desk-link")


@bp.post("/events/<int:event_id>/desk-links/<int:link_id>/revoke")
def revoke_desk_link(event_id: int, link_id: int):
    """Close a desk link: its screens close at once."""
    event = _my_event(event_id)
    try:
        link = desk.link_for(current_user, event, link_id)
    except ServiceError:
        abort(404)
    desk.revoke(current_user, link)
    flash(_("The desk link of %(name)s no longer works.", name=link.name), "success")
    return redirect(url_for("organizer.event", event_id=event.id) + "#desk")


@bp.get("/events/<int:event_id>/desk")
def desk_page(event_id: int):
    """The synthesis desk, for an organizer of the evening."""
    event = _my_event(event_id)
    return render_template(
        "desk/desk.html", event=event, auth={"role": "desk", "event": event.id}, member=None
    )


# --- scripts and facilitator kits ----------------------------------------------------


def _number(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _script_from_form(form) -> list[dict]:
    """The script as the organizer left it in the form (checked when saved)."""
    count = min(_number(form.get("steps")) or 0, steps.MAX_STEPS + 1)
    script = []
    for index in range(count):
        prefix = f"step-{index}-"
        kind = form.get(prefix + "kind", "")
        minutes = _number(form.get(prefix + "minutes"))
        settings: dict = {}
        if kind == StepKind.diverge:
            settings = {
                "card_kinds": form.getlist(prefix + "card_kinds"),
                "private": prefix + "private" in form,
            }
        elif kind == StepKind.vote:
            settings = {
                "votes": _number(form.get(prefix + "votes")),
                "max_per_card": _number(form.get(prefix + "max_per_card")),
                "no_self_vote": prefix + "no_self_vote" in form,
            }
        script.append(
            {
                "kind": kind,
                "title": form.get(prefix + "title", ""),
                "prompt": form.get(prefix + "prompt", ""),
                "duration": None if minutes is None else minutes * steps.MINUTE,
                "settings": settings,
            }
        )
    return script


def _rearranged(script: list[dict], action: str, table: Table) -> list[dict]:
    """The script after a move, removal or addition asked by a form button."""
    name, _sep, where = action.partition(":")
    index = _number(where)
    if name == "reset":
        return steps.table_default_script(table)
    if name == "add":
        kind = request.form.get("new_kind", StepKind.diverge.value)
        default = steps.table_default_script(table)
        return script + [next((s for s in default if s["kind"] == kind), default[2])]
    if index is None or not 0 <= index < len(script):
        return script
    if name == "remove":
        return script[:index] + script[index + 1 :]
    target = index - 1 if name == "up" else index + 1 if name == "down" else index
    if 0 <= target < len(script):
        script[index], script[target] = script[target], script[index]
    return script


@bp.route("/tables/<int:table_id>/script", methods=["GET", "POST"])
def script(table_id: int):
    """Edit a table's script before the evening; apply it to other tables."""
    table = _my_table(table_id)
    script = steps.script_of(table)
    if request.method == "POST":
        action = request.form.get("action", "save")
        script = _rearranged(_script_from_form(request.form), action, table)
        try:
            steps.edit_script(current_user, table, script)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            if action == "copy":
                wanted = {_number(v) for v in request.form.getlist("tables")}
                targets = [t for t in table.event.tables if t.id in wanted]
                skipped = steps.copy_script(current_user, table, targets)
                flash(_("Script applied to the chosen tables."), "success")
                for other in skipped:
                    flash(
                        _("%(table)s has started its script: left unchanged.", table=other.name),
                        "error",
                    )
            elif action == "save":
                flash(_("Script saved."), "success")
            return redirect(url_for("organizer.script", table_id=table.id))
    return render_template(
        "organizer/script.html",
        table=table,
        event=table.event,
        script=script,
        step_kinds=list(StepKind),
        card_kinds=list(IdeaKind),
    )


@bp.get("/events/<int:event_id>/kits")
def kits(event_id: int):
    """Printable facilitator kits: brief, timed script and the console's QR code."""
    event = _my_event(event_id)
    kits = []
    for table in event.tables:
        link = public_base_url() + url_for("facilitator.console", secret=table.facilitator_secret)
        kits.append((table, link, qr_svg(link), steps.timings(table)))
    return render_template("organizer/kits.html", event=event, kits=kits)


@bp.post("/events/<int:event_id>/purge")
def purge(event_id: int):
    event = _my_event(event_id)
    try:
        done = privacy.purge_event(current_user, event, request.form)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _event_page(event, request.form)  # what was typed stays
    else:
        flash(
            _(
                "Personal data removed: %(num)d participants are now anonymous; "
                "ideas, sheets and figures are kept.",
                num=done.participants,
            ),
            "success",
        )
    return redirect(url_for("organizer.event", event_id=event.id))


@bp.post("/events/<int:event_id>/minors/<int:participant_id>/consent")
def guardian_consent(event_id: int, participant_id: int):
    """Record that a minor's parent consented: who, on what day."""
    event = _my_event(event_id)
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.table.event_id != event.id:
        abort(404)
    try:
        collected_on = date.fromisoformat(request.form.get("on") or "")
    except ValueError:
        collected_on = None
    try:
        minors.record_guardian_consent(
            current_user, participant, request.form.get("by", ""), collected_on
        )
    except ServiceError as error:
        flash(str(error.message), "error")
    else:
        flash(_("Parent's consent recorded."), "success")
    return redirect(url_for("organizer.event", event_id=event.id, _anchor="minors"))


# --- a territory as a public body (issue 19) -----------------------------------------


@bp.route("/territories/<int:territory_id>/settings", methods=["GET", "POST"])
def territory_settings(territory_id: int):
    """Who is responsible for the data, who publishes the service, the age of minors."""
    territory = my_territory(territory_id)
    values = territories.settings_of(territory)
    if request.method == "POST":
        try:
            territories.save_settings(current_user, territory, request.form)
        except ServiceError as error:
            flash(str(error.message), "error")
            values = {**values, **request.form.to_dict()}
        else:
            flash(_("Settings saved."), "success")
            return redirect(url_for("organizer.territory_settings", territory_id=territory.id))
    return _settings_page(territory, values)


def _settings_page(territory: Territory, values: dict, retention: dict | None = None):
    """The territory's settings page; ``retention``: the schedule as typed, when refused."""
    return render_template(
        "organizer/territory.html",
        territory=territory,
        values=values,
        legal_bases=territories.LEGAL_BASES,
        compliance=territories.COMPLIANCE,
        minor_ages=(territories.MIN_MINOR_AGE, territories.MAX_MINOR_AGE),
        retention=retention or territories.retention(territory),
        retention_labels=territories.RETENTION_LABELS,
        from_project=territories.FROM_PROJECT,
        retention_range=(territories.MIN_RETENTION, territories.MAX_RETENTION),
    )


@bp.post("/territories/<int:territory_id>/retention")
def retention(territory_id: int):
    """The territory's retention schedule: months kept, per kind of data."""
    territory = my_territory(territory_id)
    try:
        territories.save_retention(current_user, territory, request.form)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        typed = {kind: request.form.get(kind, "") for kind in territories.RETENTION_KINDS}
        return _settings_page(territory, territories.settings_of(territory), typed)
    flash(_("Retention schedule saved."), "success")
    return redirect(
        url_for("organizer.territory_settings", territory_id=territory.id, _anchor="retention")
    )


@bp.get("/territories/<int:territory_id>/record")
def processing_record(territory_id: int):
    """The territory's record of processing activities (GDPR art. 30): a
    printable page, or the same page as a file to keep (``?download=1``)."""
    territory = my_territory(territory_id)
    page = render_template(
        "organizer/record.html",
        record=territories.processing_record(territory),
        territory=territory,
        today=date.today(),
        download=request.args.get("download") == "1",
    )
    if request.args.get("download") == "1":
        name = f"registre-traitements-{territory.id}.html"
        return download(page.encode("utf-8"), "text/html; charset=utf-8", name)
    return page


# --- reusable formats ------------------------------------------------------------------


@bp.get("/events/<int:event_id>/format")
def export_format(event_id: int):
    event = _my_event(event_id)
    content = json.dumps(formats.export_format(event), ensure_ascii=False, indent=1)
    return download(content.encode("utf-8"), "application/json", f"format-{event.id}.json")


@bp.route("/events/import", methods=["GET", "POST"])
def import_format():
    territories = current_user.territories
    if request.method == "GET":
        return render_template("organizer/import.html", plan=None, territories=territories)
    upload = request.files.get("file")
    raw = upload.read(formats.MAX_BYTES + 1) if upload else request.form.get("raw", "").encode()
    try:
        plan = formats.parse(raw)
    except ServiceError as error:
        flash(str(error.message), "error")
        return render_template("organizer/import.html", plan=None, territories=territories)
    if request.form.get("confirm") != "1":  # first the preview: nothing is created yet
        return render_template(
            "organizer/import.html", plan=plan, raw=raw.decode("utf-8-sig"),
            territories=territories, labels=backlog, duration_text=formats.duration_text,
        )  # fmt: skip
    territory = next((t for t in territories if str(t.id) == request.form.get("territory")), None)
    if territory is None:
        abort(400)
    try:
        event_date = date.fromisoformat(request.form.get("date") or "") or None
    except ValueError:
        event_date = None
    event = formats.import_format(
        current_user, territory, plan, request.form.get("title", ""), event_date
    )
    flash(_("Evening created from the format: check its tables, then print the kits."), "success")
    return redirect(url_for("organizer.event", event_id=event.id))
