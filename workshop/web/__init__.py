"""Web blueprints and what every page shares."""

from flask import Flask, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..extensions import login_manager
from ..limits import TooManyTries
from ..models import Event, Organizer, Project, Table, Territory
from ..services import accounts, sheet_template, territories
from .responses import safe_next


@login_manager.user_loader
def load_organizer(user_id: str) -> Organizer | None:
    """The organizer of a sign-in that has not ended (see accounts.open_session)."""
    return accounts.organizer_for_session(user_id)


login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to open this page.")


def sheet_labels(challenge) -> dict[str, str]:
    """The labels of a challenge's sheet fields, in the page's language."""
    return {field["key"]: field["label"] for field in sheet_template.template(challenge)}


def page_territory(*candidates) -> Territory | None:
    """The territory a page is about, from the objects it shows (a table,
    an event, a project, a territory; anything else is skipped): its
    footer links to that territory's accessibility statement and notice."""
    for candidate in candidates:
        if isinstance(candidate, Territory):
            return candidate
        if isinstance(candidate, Table):
            return candidate.event.territory
        if isinstance(candidate, Event | Project):
            return candidate.territory
    return None


def register(app: Flask) -> None:
    """Attach the blueprints, the language switch and the security headers."""
    from . import auth, backlog, desk, facilitator, legal, organizer, participant, projector, review

    for module in (
        auth,
        organizer,
        backlog,
        review,
        desk,
        participant,
        facilitator,
        projector,
        legal,
    ):
        app.register_blueprint(module.bp)

    @app.get("/lang/<code>")
    def set_language(code: str):
        response = redirect(safe_next(request.args.get("next")))
        if code in app.config["LANGUAGES"]:
            response.set_cookie(
                "lang", code, max_age=365 * 24 * 3600, httponly=True, samesite="Lax"
            )
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        messages = {
            400: (_l("Bad request"), _l("This request is not valid.")),
            403: (_l("Not allowed"), _l("You are not allowed to open this page.")),
            404: (
                _l("Not found"),
                _l("This page does not exist, or this link is no longer valid."),
            ),
        }
        title, message = messages.get(
            error.code, (_l("Error"), _l("Something went wrong. Please try again in a moment."))
        )
        if isinstance(error, CSRFError):
            title, message = (
                _l("Form expired"),
                _l("The form expired. Go back, reload the page and try again."),
            )
        return render_template("errors.html", title=title, message=message), error.code

    @app.errorhandler(TooManyTries)
    def too_many_tries(error: TooManyTries):
        page = render_template("errors.html", title=_("Too many tries"), message=error.message)
        return page, 429, {"Retry-After": str(error.retry_after)}

    @app.context_processor
    def page_globals():
        return {
            "locale": str(get_locale()),
            "languages": app.config["LANGUAGES"],
            "sheet_labels": sheet_labels,
            "privacy_of": territories.notice,
            "page_territory": page_territory,
            "public_settings": territories.settings_of,
            "compliance_label": lambda key: territories.COMPLIANCE.get(key, key),
        }

    @app.after_request
    def security_headers(response):
        # Every page is made for its caller: an organizer's or a reviewer's
        # data, a phone's own wall, a secret link, and in every form a CSRF
        # token of the caller's session. None may be kept by a browser (the
        # back button after signing out, a shared computer) or a proxy; only
        # the static files are the same for everyone.
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
