"""First start, sign in, sign out, password."""

import ipaddress

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer

from ..forms import LoginForm, PasswordForm, SetupCodeForm, SetupForm
from ..services import ServiceError, accounts, codes
from .responses import safe_next

bp = Blueprint("auth", __name__)

# Set on a browser once it has signed in: failed sign-ins from elsewhere (a
# guesser on the venue Wi-Fi, behind the same address) never lock it out.
DEVICE_COOKIE = "signin_device"
DEVICE_COOKIE_DAYS = 365


def _from_this_computer() -> bool:
    """True for a visitor on the server's own computer (loopback address)."""
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _devices() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="trusted-device")


def _signin_client(email: str) -> str:
    """Whose failed sign-ins an attempt counts with: this browser if it has
    signed in to this email before, else its address."""
    try:
        device = _devices().loads(request.cookies.get(DEVICE_COOKIE, ""))
    except BadSignature:
        device = None
    if isinstance(device, dict) and device.get("email") == (email or "").strip().lower():
        return f"device:{device.get('nonce', '')}"
    return request.remote_addr or ""


def _sign_in(organizer, response=None):
    """Start a server-side sign-in and remember this browser."""
    accounts.open_session(organizer)
    login_user(organizer, remember=True)
    if response is not None:
        response.set_cookie(
            DEVICE_COOKIE,
            _devices().dumps({"email": organizer.email, "nonce": codes.new_secret()}),
            max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    """Create the first organizer and territory of an empty instance.

    From the server's own computer, the form is enough; from anywhere else
    (the venue Wi-Fi), it also asks for the code printed in the server's
    terminal, so that the first visitor cannot take the instance.
    """
    if not accounts.needs_setup():
        return redirect(url_for("auth.login"))
    local = _from_this_computer()
    form = SetupForm() if local else SetupCodeForm()
    if form.validate_on_submit():
        if not local and not accounts.check_setup_code(
            current_app.secret_key, form.setup_code.data
        ):
            flash(
                _("This is not the setup code shown on the computer that runs the evening."),
                "error",
            )
            return render_template(
                "auth/setup.html", form=form, min_password_length=accounts.MIN_PASSWORD_LENGTH
            ), 403
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
            flash(_("Welcome! Create your first evening."), "success")
            return _sign_in(organizer, redirect(url_for("organizer.dashboard")))
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
                form.email.data, form.password.data, _signin_client(form.email.data)
            )
        except ServiceError as error:
            flash(str(error.message), "error")
            return render_template("auth/login.html", form=form), 429
        if organizer:
            target = (
                safe_next(request.args.get("next"))
                if request.args.get("next")
                else url_for("organizer.dashboard")
            )
            return _sign_in(organizer, redirect(target))
        flash(_("Wrong email or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """End this sign-in on the server (its cookies stop working, wherever
    they were copied) and close its open live screens."""
    accounts.close_session(current_user._get_current_object())
    logout_user()
    flash(_("You are signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's password; every sign-in of the account ends, this
    browser is signed in again."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user._get_current_object(), form.current.data, form.new.data
            )
        except ServiceError as error:
            flash(str(error.message), "error")
        else:
            flash(_("Your password is changed. Your other sign-ins are ended."), "success")
            # Signed in again with a new token: a copy of the old cookie is void.
            return _sign_in(
                current_user._get_current_object(), redirect(url_for("organizer.dashboard"))
            )
    return render_template(
        "auth/password.html", form=form, min_password_length=accounts.MIN_PASSWORD_LENGTH
    )
