"""Public pages a public body owes its visitors (issue 19): the privacy
notice (GDPR art. 13) and the accessibility statement (RGAA). Both are per
territory (``?territory=<id>``): each names its own body and contacts."""

from flask import Blueprint, abort, render_template, request

from ..extensions import db
from ..models import Territory
from ..services import accessibility as a11y
from ..services import territories

bp = Blueprint("legal", __name__)


def _territory() -> tuple[Territory | None, list[Territory]]:
    """The territory asked for (404 if unknown); with none asked, the only
    one there is, or None and the list to choose from."""
    asked = request.args.get("territory", "")
    if asked:
        known = asked.isascii() and asked.isdigit() and len(asked) <= 9
        territory = db.session.get(Territory, int(asked)) if known else None
        if territory is None:
            abort(404)
        return territory, []
    found = territories.public_territories()
    return (found[0], []) if len(found) == 1 else (None, found)


@bp.get("/confidentialite")
def privacy():
    """The privacy notice of a territory's evenings."""
    territory, choices = _territory()
    return render_template(
        "legal/privacy.html",
        territory=territory,
        choices=choices,
        notice=territories.notice(territory) if territory else None,
    )


@bp.get("/accessibilite")
def accessibility():
    """The accessibility statement of a territory's service (RGAA model)."""
    territory, choices = _territory()
    return render_template(
        "legal/accessibility.html",
        territory=territory,
        choices=choices,
        settings=territories.settings_of(territory) if territory else None,
        rgaa_version=a11y.RGAA_VERSION,
        statement_date=a11y.STATEMENT_DATE,
        automated=a11y.AUTOMATED,
        manual=a11y.MANUAL,
        not_accessible=a11y.NOT_ACCESSIBLE,
        derogations=a11y.DEROGATIONS,
        tools=a11y.TOOLS,
        pages=a11y.PAGES,
        defenseur_url=a11y.DEFENSEUR_URL,
        defenseur_address=a11y.DEFENSEUR_ADDRESS,
    )
