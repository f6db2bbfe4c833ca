"""The backlog's pages: the board by stage, a project's page, an evening's
ideas to promote. Organizers only, and only their territories' projects."""

import csv
import io
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, select

from .. import clock
from ..extensions import db
from ..models import (
    CarrierStatus,
    CommitRole,
    Idea,
    OutcomeKind,
    Project,
    ProjectStage,
    ProjectStatus,
    Table,
    Theme,
    Vote,
)
from ..qr import public_base_url
from ..services import (
    ServiceError,
    archives,
    backlog,
    exports,
    funder_report,
    journal,
    outcomes,
    reviews,
)
from ..services import indicators as impact
from .organizer import _my_event, my_territory
from .responses import download, keep_link_to_show, link_to_show

bp = Blueprint("backlog", __name__, url_prefix="/backlog")


@bp.before_request
@login_required
def require_login():
    """Every page here is for signed-in organizers only."""


def _choice(enum_type, value):
    """``value`` as a member of ``enum_type``; None when empty; 400 when unknown."""
    if not value:
        return None
    try:
        return enum_type(value)
    except ValueError:
        abort(400)


def _number(value) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _project(project_id: int):
    try:
        return backlog.project_for(current_user, project_id)
    except ServiceError:
        abort(404)  # another territory's projects are not even revealed


FILTERS = ("q", "event", "territory", "theme", "carrier", "status", "awaiting")


def board_filters() -> dict[str, str]:
    """The board's filters in the query string, and nothing else (they are
    passed on to url_for: never a key of the caller's choosing)."""
    return {key: request.args[key] for key in FILTERS if request.args.get(key)}


def _back(project) -> str:
    if request.form.get("back") == "board":
        return url_for("backlog.board", **board_filters())
    return url_for("backlog.project", project_id=project.id)


@bp.get("/")
def board():
    args = request.args
    filters = backlog.Filters(
        territory_id=_number(args.get("territory")),
        event_id=_number(args.get("event")),
        theme=args.get("theme", "")[:200],
        carrier_status=_choice(CarrierStatus, args.get("carrier")),
        status=_choice(ProjectStatus, args.get("status")),
        q=args.get("q", "")[:200],
    )
    projects = backlog.projects_for(current_user, filters)
    tallies = reviews.tallies([p.id for p in projects])
    awaiting = args.get("awaiting") == "1"
    if awaiting:
        projects = [p for p in projects if p.id in tallies and tallies[p.id].awaiting]
    return render_template(
        "backlog/board.html",
        columns=backlog.board(projects),
        total=len(projects),
        filters=filters,
        ages={p.id: backlog.age(p) for p in projects},
        progress={p.id: backlog.progress(p) for p in projects},
        tallies=tallies,
        awaiting=awaiting,
        kept=board_filters(),
        themes=backlog.themes_for(current_user),
        events=sorted(
            (e for t in current_user.territories for e in t.events),
            key=lambda e: (e.date is None, e.date, e.id),
            reverse=True,
        ),
        labels=backlog,
    )


@bp.get("/projects/<int:project_id>")
def project(project_id: int):
    project = _project(project_id)
    project_reviews = reviews.reviews_of(project)
    return render_template(
        "backlog/project.html",
        project=project,
        age=backlog.age(project),
        sheet=backlog.sheet_fields(project),
        history=backlog.history(project),
        gate=backlog.gate_state(project),
        candidates=backlog.merge_candidates(current_user, project),
        reviews=project_reviews,
        tally=reviews.tally(project_reviews),
        reviewers=reviews.reviewers_of(project.territory),
        verdicts=reviews.VERDICT_LABELS,
        merged_into=db.session.get(Project, project.merged_into_id)
        if project.merged_into_id
        else None,
        today=clock.now().date(),
        progress=backlog.progress(project),
        target=request.args.get("to", ""),
        new_link=link_to_show(NEW_LINK, {"project": project.id}),
        labels=backlog,
        funders=outcomes,
        new_job=_new_job(),
        new_request=_new_request(),
    )


@bp.post("/projects/<int:project_id>/move")
def move(project_id: int):
    project = _project(project_id)
    stage = _choice(ProjectStage, request.form.get("stage"))
    if stage is None:
        abort(400)
    try:
        backlog.move(current_user, project, stage, request.form.get("reason", ""))
    except ServiceError as error:
        # The project's page shows the gate and has room for the reason.
        flash(f"{error.message} ({', '.join(error.details.get('unticked', []))})", "error")
        return redirect(url_for("backlog.project", project_id=project.id, to=stage.value))
    flash(_("Moved to %(stage)s.", stage=backlog.STAGE_LABELS[stage]), "success")
    return redirect(_back(project))


@bp.post("/projects/<int:project_id>/gate")
def gate(project_id: int):
    project = _project(project_id)
    backlog.tick(current_user, project, request.form.getlist("item"))
    flash(_("Gate saved."), "success")
    return redirect(url_for("backlog.project", project_id=project.id))


@bp.route("/territories/<int:territory_id>/rules", methods=["GET", "POST"])
def rules(territory_id: int):
    territory = my_territory(territory_id)
    if request.method == "POST":
        form = request.form
        try:
            backlog.set_rules(
                current_user,
                territory,
                {stage: _number(form.get(f"days-{stage.value}", "")) for stage in ProjectStage},
                {stage: form.get(f"gate-{stage.value}", "").splitlines() for stage in ProjectStage},
                {key: _number(form.get(f"target-{key}", "")) for key in backlog.TARGET_KEYS},
            )
        except ServiceError as error:
            flash(str(error.message), "error")
        else:
            flash(_("Rules saved."), "success")
            return redirect(url_for("backlog.rules", territory_id=territory.id))
    return render_template(
        "backlog/rules.html",
        territory=territory,
        stages=[
            (
                stage,
                (territory.settings or {}).get("stage_days", {}).get(stage.value),
                backlog.gate(territory, stage),
            )
            for stage in ProjectStage
        ],
        targets=(territory.settings or {}).get("targets") or {},
        default_targets=impact.DEFAULT_TARGETS,
        labels=backlog,
    )


@bp.post("/projects/<int:project_id>")
def update(project_id: int):
    project = _project(project_id)
    form = request.form
    fields = {}
    for name in ("title", "summary", "theme", "owner"):
        if name in form:
            fields[name] = form[name].strip()[: backlog.MAX_TITLE if name != "summary" else 5000]
    if "title" in fields and not fields["title"]:
        flash(_("A project needs a title."), "error")
        return redirect(url_for("backlog.project", project_id=project.id))
    if form.get("status"):
        fields["status"] = _choice(ProjectStatus, form["status"])
    if form.get("carrier_status"):
        fields["carrier_status"] = _choice(CarrierStatus, form["carrier_status"])
    backlog.update(current_user, project, **fields)
    flash(_("Project saved."), "success")
    return redirect(_back(project))


@bp.post("/events/<int:event_id>/promote")
def promote_event(event_id: int):
    event = _my_event(event_id)
    result = backlog.promote_event(current_user, event)
    flash(
        _(
            "%(created)d new projects in the backlog; %(existing)d tables were there already; "
            "%(empty)d tables left nothing to follow.",
            created=len(result.created),
            existing=result.existing,
            empty=result.empty,
        ),
        "success",
    )
    return redirect(url_for("backlog.board", event=event.id))


@bp.get("/events/<int:event_id>/ideas")
def ideas(event_id: int):
    event = _my_event(event_id)
    votes = func.count(Vote.id).filter(Vote.active.is_(True))
    rows = db.session.execute(
        select(Idea, Table, votes)
        .join(Table, Table.id == Idea.table_id)
        .outerjoin(Vote, Vote.idea_id == Idea.id)
        .where(Table.event_id == event.id, Idea.deleted.is_(False), Idea.hidden.is_(False))
        .group_by(Idea.id, Table.id)
        .order_by(Table.number, votes.desc(), Idea.seq)
    ).all()
    promoted = backlog.promoted_ideas([idea.id for idea, _table, _n in rows])
    return render_template(
        "backlog/ideas.html", event=event, rows=rows, promoted=promoted, labels=backlog
    )


@bp.post("/ideas/<int:idea_id>/promote")
def promote_idea(idea_id: int):
    idea = db.session.get(Idea, idea_id)
    if idea is None:
        abort(404)
    _my_event(idea.table.event_id)
    try:
        project = backlog.promote_idea(current_user, idea)
    except ServiceError:
        abort(404)
    flash(_("The idea is a project of the backlog."), "success")
    return redirect(url_for("backlog.project", project_id=project.id))


def _my_theme(theme_id: int) -> Theme:
    theme = db.session.get(Theme, theme_id)
    if theme is None:
        abort(404)
    _my_event(theme.event_id)
    return theme


@bp.post("/themes/<int:theme_id>/promote")
def promote_theme(theme_id: int):
    """A theme of the evening's synthesis becomes a project (D0)."""
    try:
        project = backlog.promote_theme(current_user, _my_theme(theme_id))
    except ServiceError:
        abort(404)
    flash(_("The theme is a project of the backlog."), "success")
    return redirect(url_for("backlog.project", project_id=project.id))


@bp.post("/themes/<int:theme_id>/link")
def link_theme(theme_id: int):
    """The projects of a theme's tables and ideas take its name as their theme."""
    theme = _my_theme(theme_id)
    try:
        linked = backlog.link_theme(current_user, theme)
    except ServiceError:
        abort(404)
    flash(
        ngettext(
            "%(num)d project now has the theme “%(theme)s”.",
            "%(num)d projects now have the theme “%(theme)s”.",
            len(linked),
            theme=theme.label,
        ),
        "success",
    )
    return redirect(url_for("backlog.board", event=theme.event_id, theme=theme.label))


# --- following a project up -------------------------------------------------------


def _date(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _figure(value) -> float | None:
    """A number as people type it: "1,5" or "1 500" too."""
    try:
        return float((value or "").replace("\u202f", "").replace(" ", "").replace(",", "."))
    except ValueError:
        return None


def _follow_up(project_id: int, change) -> Response:
    """Run ``change(project)``; a refusal is shown on the project's page."""
    project = _project(project_id)
    try:
        change(project)
    except ServiceError as error:
        flash(str(error.message), "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("backlog.project", project_id=project.id))


@bp.post("/projects/<int:project_id>/actions")
def add_action(project_id: int):
    form = request.form
    return _follow_up(
        project_id,
        lambda p: backlog.add_action(
            current_user, p, form.get("what", ""), form.get("who", ""), _date(form.get("due"))
        ),
    )


@bp.post("/projects/<int:project_id>/actions/<int:action_id>")
def action_done(project_id: int, action_id: int):
    done = request.form.get("done") == "1"
    return _follow_up(
        project_id, lambda p: backlog.set_action_done(current_user, p, action_id, done)
    )


@bp.post("/projects/<int:project_id>/notes")
def add_note(project_id: int):
    text = request.form.get("text", "")
    return _follow_up(project_id, lambda p: backlog.add_note(current_user, p, text))


@bp.post("/projects/<int:project_id>/outcomes")
def declare(project_id: int):
    _project(project_id)  # another territory's project: 404 before anything else
    form = request.form
    kind = _choice(OutcomeKind, form.get("kind"))
    if kind is None:
        abort(400)
    value, as_of = _figure(form.get("value")), _date(form.get("as_of"))
    return _follow_up(
        project_id,
        lambda p: backlog.declare(current_user, p, kind, -1 if value is None else value, as_of),
    )


@bp.post("/projects/<int:project_id>/outcomes/<int:outcome_id>/check")
def check_outcome(project_id: int, outcome_id: int):
    return _follow_up(project_id, lambda p: backlog.check_outcome(current_user, p, outcome_id))


# --- jobs and funding requests (outcomes as funders count them) -------------------------

JOB_FIELDS = ("kind", "fte", "contract", "duration_months", "employment", "volunteer",
              "start_date", "declared_by", "evidence")  # fmt: skip
REQUEST_FIELDS = ("funder", "programme", "amount", "requested_on", "decision", "decided_on",
                  "project_start")  # fmt: skip


def _submitted(names) -> dict:
    """The form's values of ``names`` (and nothing else), as typed."""
    return {name: request.form.get(name, "")[:5000] for name in names}


def _job_values(line) -> dict:
    """A job line's values as its form shows them."""
    return {
        "kind": line.kind.value, "fte": f"{line.fte:g}", "contract": line.contract.value,
        "duration_months": line.duration_months or "",
        "employment": line.employment.value if line.employment else "",
        "volunteer": line.volunteer, "start_date": line.start_date.isoformat(),
        "declared_by": line.declared_by, "evidence": line.evidence,
    }  # fmt: skip


def _new_job() -> dict:
    """What a new job line's form starts with: a full-time job created today."""
    today = clock.now().date().isoformat()
    return {"kind": "created", "fte": "1", "contract": "cdi", "employment": "employee",
            "start_date": today, "declared_by": current_user.name}  # fmt: skip


def _new_request() -> dict:
    return {"decision": "pending", "requested_on": clock.now().date().isoformat()}


def _request_values(found) -> dict:
    return {
        "funder": found.funder, "programme": found.programme, "amount": f"{found.amount:g}",
        "requested_on": found.requested_on.isoformat(), "decision": found.decision.value,
        "decided_on": found.decided_on.isoformat() if found.decided_on else "",
        "project_start": found.project_start.isoformat() if found.project_start else "",
    }  # fmt: skip


def _outcome_form(project, template: str, fields, change, values: dict, item=None):
    """Show a job line's or a funding request's form; on POST, ``change`` the
    project with what was typed. Refused, the form comes back with the
    values typed and the error beside its field (nothing was changed)."""
    error = None
    if request.method == "POST":
        values = _submitted(fields)
        try:
            change(values)
        except ServiceError as refused:
            error = refused
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("backlog.project", project_id=project.id) + "#outcomes")
    return render_template(
        template, project=project, values=values, item=item, labels=outcomes,
        error=error, today=clock.now().date(),
    ), 400 if error else 200  # fmt: skip


@bp.route("/projects/<int:project_id>/jobs", methods=["GET", "POST"])
def add_job(project_id: int):
    project = _project(project_id)
    return _outcome_form(
        project, "backlog/job.html", JOB_FIELDS,
        lambda values: outcomes.add_job(current_user, project, values), _new_job(),
    )  # fmt: skip


def _one(items, item_id: int):
    """The project's job line or funding request ``item_id``, or 404."""
    found = next((item for item in items if item.id == item_id), None)
    if found is None:
        abort(404)
    return found


@bp.route("/projects/<int:project_id>/jobs/<int:line_id>", methods=["GET", "POST"])
def edit_job(project_id: int, line_id: int):
    project = _project(project_id)
    line = _one(project.jobs, line_id)
    return _outcome_form(
        project, "backlog/job.html", JOB_FIELDS,
        lambda values: outcomes.update_job(current_user, project, line.id, values),
        _job_values(line), line,
    )  # fmt: skip


@bp.post("/projects/<int:project_id>/jobs/<int:line_id>/remove")
def remove_job(project_id: int, line_id: int):
    return _follow_up(project_id, lambda p: outcomes.remove_job(current_user, p, line_id))


@bp.post("/projects/<int:project_id>/jobs/<int:line_id>/check")
def check_job(project_id: int, line_id: int):
    return _follow_up(project_id, lambda p: outcomes.check_job(current_user, p, line_id))


@bp.post("/projects/<int:project_id>/baseline")
def baseline(project_id: int):
    day = request.form.get("baseline_on", "")[:20]
    return _follow_up(project_id, lambda p: outcomes.set_baseline(current_user, p, day))


@bp.route("/projects/<int:project_id>/funding", methods=["GET", "POST"])
def add_request(project_id: int):
    project = _project(project_id)
    return _outcome_form(
        project, "backlog/funding_request.html", REQUEST_FIELDS,
        lambda values: outcomes.add_request(current_user, project, values), _new_request(),
    )  # fmt: skip


@bp.route("/projects/<int:project_id>/funding/<int:request_id>", methods=["GET", "POST"])
def edit_request(project_id: int, request_id: int):
    project = _project(project_id)
    found = _one(project.funding_requests, request_id)
    return _outcome_form(
        project, "backlog/funding_request.html", REQUEST_FIELDS,
        lambda values: outcomes.update_request(current_user, project, found.id, values),
        _request_values(found), found,
    )  # fmt: skip


@bp.post("/projects/<int:project_id>/funding/<int:request_id>/remove")
def remove_request(project_id: int, request_id: int):
    return _follow_up(project_id, lambda p: outcomes.remove_request(current_user, p, request_id))


@bp.post("/projects/<int:project_id>/members")
def add_member(project_id: int):
    form = request.form
    hours = form.get("hours_per_month", "").strip()
    fields = {
        "name": form.get("name", ""),
        "role": _choice(CommitRole, form.get("role")),
        "brings": form.get("brings", ""),
        "expects": form.get("expects", ""),
        "hours_per_month": int(hours)
        if hours.isdigit() and len(hours) < 4
        else (None if not hours else -1),
        "consent": form.get("consent") == "1",
        "contact": form.get("contact", ""),
    }
    return _follow_up(project_id, lambda p: backlog.add_member(current_user, p, **fields))


@bp.post("/projects/<int:project_id>/members/<int:member_id>/owner")
def take_over(project_id: int, member_id: int):
    return _follow_up(project_id, lambda p: backlog.take_over(current_user, p, member_id))


@bp.post("/projects/<int:project_id>/merge")
def merge(project_id: int):
    source = _number(request.form.get("source", ""))
    return _follow_up(
        project_id,
        lambda p: backlog.merge(current_user, p, _project(source) if source else _project(0)),
    )


# --- go / no-go reviews -------------------------------------------------------------


NEW_LINK = "reviewer_link"  # the session's key for a link made and not shown yet


def _show_link(reviewer, token: str, project) -> str:
    """Keep a reviewer's new link for the project's page (shown once, beside
    the reviews); the address to go back to."""
    url = public_base_url() + url_for("review.page", token=token)
    keep_link_to_show(NEW_LINK, {"project": project.id}, reviewer.name, url)
    return url_for("backlog.project", project_id=project.id) + "#new-link"


@bp.post("/projects/<int:project_id>/reviewers")
def invite(project_id: int):
    project = _project(project_id)
    form = request.form
    back = url_for("backlog.project", project_id=project.id) + "#reviews"
    try:
        if form.get("reviewer"):
            reviewer = reviews.reviewer_for(current_user, _number(form["reviewer"]))
        else:
            reviewer, token = reviews.new_reviewer(
                current_user, project.territory, form.get("name", "")
            )
            back = _show_link(reviewer, token, project)
        reviews.invite(current_user, project, reviewer)
    except ServiceError as error:
        flash(str(error.message), "error")
    return redirect(back)


def _reviewer_action(reviewer_id: int, action):
    try:
        reviewer = reviews.reviewer_for(current_user, reviewer_id)
    except ServiceError:
        abort(404)
    action(reviewer)
    back = request.form.get("project")
    if back and back.isdigit():
        return redirect(url_for("backlog.project", project_id=int(back)) + "#reviews")
    return redirect(url_for("backlog.board"))


@bp.post("/reviewers/<int:reviewer_id>/revoke")
def revoke(reviewer_id: int):
    def revoke(reviewer):
        reviews.revoke(current_user, reviewer)
        flash(_("The link of %(name)s no longer works.", name=reviewer.name), "success")

    return _reviewer_action(reviewer_id, revoke)


@bp.post("/reviewers/<int:reviewer_id>/link")
def new_link(reviewer_id: int):
    """A new link for a reviewer, shown on the project's page it was asked from."""
    project = _project(_number(request.form.get("project", "")) or 0)
    try:
        reviewer = reviews.reviewer_for(current_user, reviewer_id)
    except ServiceError:
        abort(404)
    return redirect(_show_link(reviewer, reviews.new_link(current_user, reviewer), project))


# --- exports --------------------------------------------------------------------------


def export_response(event, fmt: str) -> Response:
    """An evening's export as a download. It is made on the loop in small
    slices (see exports.cooperate): phones' writes go through meanwhile."""
    header, rows = exports.gather(event)
    content, mime, filename = exports.render(
        header, rows, fmt, lambda context: "".join(
            exports.cooperate(
                current_app.jinja_env.get_template("backlog/report.html").generate(
                    **_template_context(context)
                ),
                every=50,
            )
        )
    )  # fmt: skip
    return download(content, mime, filename, inline=fmt == "html")


def _template_context(context: dict) -> dict:
    """``context`` with what every template gets (locale, translations…)."""
    current_app.update_template_context(context)
    return context


@bp.get("/events/<int:event_id>/archive")
def archive(event_id: int):
    """The evening's archive package (one ZIP file), for its archives
    service; the purge needs it first."""
    event = _my_event(event_id)
    package = archives.build(event, current_user)
    db.session.commit()
    return download(package.content, "application/zip", package.filename)


@bp.get("/events/<int:event_id>/export/<fmt>")
def export(event_id: int, fmt: str):
    event = _my_event(event_id)
    if fmt not in exports.FORMATS:
        abort(404)
    journal.record(
        f"organizer:{current_user.id}", "event.exported", event.title,
        territory_id=event.territory_id, event_id=event.id, format=fmt,
    )  # fmt: skip
    db.session.commit()
    return export_response(event, fmt)


# --- indicators -------------------------------------------------------------------------


def _scope():
    """The territory and (optionally) the evening the indicators are about."""
    territories = current_user.territories
    wanted = _number(request.args.get("territory", ""))
    territory = next((t for t in territories if t.id == wanted), territories[0])
    event = None
    if request.args.get("event"):
        event = next((e for e in territory.events if str(e.id) == request.args["event"]), None)
        if event is None:
            abort(404)
    return territory, event


@bp.get("/indicators")
def indicators():
    territory, event = _scope()
    return render_template(
        "backlog/indicators.html",
        territory=territory,
        event=event,
        found=impact.compute(territory, event),
        scope={"territory": territory.id, **({"event": event.id} if event else {})},
    )


@bp.get("/indicators/<key>.csv")
def indicators_csv(key: str):
    territory, event = _scope()
    found = impact.compute(territory, event)
    chart = next((c for c in found.charts if c.key == key), None)
    if chart is None:
        abort(404)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    if chart.targets:
        writer.writerow([chart.title, _("Value"), _("Target")])
        rows = zip(chart.rows, chart.targets, strict=True)
        writer.writerows((label, value, target) for (label, value), target in rows)
    else:
        writer.writerow([chart.title, _("Value")])
        writer.writerows(chart.rows)
    return download(out.getvalue().encode("utf-8"), "text/csv", f"{key}.csv")


# --- the funder report ------------------------------------------------------------------


def _period() -> tuple[impact.Period, str | None]:
    """The period asked for (``from`` and ``to``, both optional), and why it
    was refused (then it is all the time recorded)."""
    days = []
    for name in ("from", "to"):
        value = request.args.get(name, "")[:20]
        try:
            days.append(date.fromisoformat(value) if value else None)
        except ValueError:
            return impact.Period(), _("A date of the period is not a date: all the time is shown.")
    start, end = days
    if start and end and end < start:
        return impact.Period(), _("The period ends before it starts: all the time is shown.")
    return impact.Period(start, end), None


@bp.get("/territories/<int:territory_id>/funders")
def funders(territory_id: int):
    territory = my_territory(territory_id)
    period, refused = _period()
    if refused:
        flash(refused, "error")
    return render_template(
        "backlog/funders.html",
        territory=territory,
        period=period,
        period_text=funder_report.period_text(period),
        report=funder_report.gather(territory, period),
        kept={k: v.isoformat() for k, v in (("from", period.start), ("to", period.end)) if v},
    )


@bp.get("/territories/<int:territory_id>/funders/report.<fmt>")
def funders_export(territory_id: int, fmt: str):
    territory = my_territory(territory_id)
    if fmt not in funder_report.FORMATS:
        abort(404)
    period, _refused = _period()
    journal.record(
        f"organizer:{current_user.id}", "territory.funder_report", territory.name,
        territory_id=territory.id, format=fmt,
        start=period.start.isoformat() if period.start else None,
        end=period.end.isoformat() if period.end else None,
    )  # fmt: skip
    db.session.commit()
    content, mime, filename = funder_report.render(funder_report.gather(territory, period), fmt)
    return download(content, mime, filename)
