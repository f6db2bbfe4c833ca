"""First start, sign in, sign out."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from .. import broadcast
from ..forms import LoginForm, SetupForm
from ..services import ServiceError, accounts
from . import _safe_next

bp = Blueprint("auth", __name__)


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    """Create the first organizer and territory of an empty instance."""
    if not accounts.needs_setup():
        return redirect(url_for("auth.login"))
    form = SetupForm()
    if form.validate_on_submit():
        try:
            organizer = accounts.create_first_organizer(
                form.name.data,
                form.email.data,
                form.password.data,
                form.territory.data,
                form.population.data,
            )
        except ServiceError as error:
            flash(str(error.message), "error")
        else:
            login_user(organizer)
            flash(_("Welcome! Create your first evening."), "success")
            return redirect(url_for("organizer.dashboard"))
    return render_template(
        "auth/setup.html", form=form, min_password_length=accounts.MIN_PASSWORD_LENGTH
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    if accounts.needs_setup():
        return redirect(url_for("auth.setup"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            organizer = accounts.authenticate(
                form.email.data, form.password.data, request.remote_addr or ""
            )
        except ServiceError as error:
            flash(str(error.message), "error")
            return render_template("auth/login.html", form=form), 429
        if organizer:
            login_user(organizer, remember=True)
            return redirect(
                _safe_next(request.args.get("next"))
                if request.args.get("next")
                else url_for("organizer.dashboard")
            )
        flash(_("Wrong email or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    broadcast.organizer_signed_out(current_user.id)
    logout_user()
    flash(_("You are signed out."), "success")
    return redirect(url_for("auth.login"))
