"""The reviewer's page: a local entrepreneur, by their secret link and
without an account, gives go / no-go on the projects they were invited to."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..extensions import db
from ..limits import by_code
from ..models import Territory
from ..services import ServiceError, backlog, reviews

bp = Blueprint("review", __name__, url_prefix="/review")


def _reviewer(token: str):
    def find():
        try:
            return reviews.reviewer_by_token(token)
        except ServiceError:
            return None

    reviewer = by_code(find)
    if reviewer is None:
        abort(404)
    return reviewer


@bp.get("/<token>")
def page(token: str):
    reviewer = _reviewer(token)
    return render_template(
        "review/page.html",
        reviewer=reviewer,
        token=token,
        invitations=reviews.invitations(reviewer),
        labels=backlog,
        verdicts=reviews.VERDICT_LABELS,
        team=reviews.named_team,
        # The footer links to the statement and notice of the reviewer's territory.
        territory=db.session.get(Territory, reviewer.territory_id),
    )


@bp.post("/<token>/projects/<int:project_id>")
def give(token: str, project_id: int):
    reviewer = _reviewer(token)
    form = request.form
    try:
        reviews.give(reviewer, project_id, form.get("verdict"), form.get("comment", ""))
    except ServiceError as error:
        if error.code == "not_found":
            abort(404)
        flash(str(error.message), "error")
    else:
        flash(_("Thank you: your opinion is recorded."), "success")
    return redirect(url_for("review.page", token=token) + f"#project-{project_id}")
