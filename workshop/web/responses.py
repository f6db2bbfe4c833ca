"""Helpers the pages share: a file to download, a safe place to go next, a
secret link shown once."""

from urllib.parse import urlsplit

from flask import Response, session, url_for
from flask_login import current_user

from ..qr import qr_svg


def download(content: bytes, mimetype: str, filename: str, inline: bool = False) -> Response:
    """A file to save (or, ``inline``, to open in the browser)."""
    disposition = "inline" if inline else "attachment"
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f"{disposition}; filename={filename}"},
    )


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the home page."""
    # urlsplit drops tabs and newlines as browsers do, so "/\t/evil.example"
    # shows up with a host; backslashes are slashes to browsers too.
    target = (target or "").replace("\\", "/")
    parts = urlsplit(target)
    if target.startswith("/") and not parts.scheme and not parts.netloc:
        return target
    return url_for("participant.home")


def keep_link_to_show(key: str, where: dict, name: str, url: str) -> None:
    """Keep a secret link just made (a reviewer's, a desk member's) for the
    page the redirect lands on, where it is shown once: only its hash is
    stored. It waits in this browser's session (signed, HttpOnly) with who
    made it and ``where`` (the page it belongs to)."""
    session[key] = {"organizer": current_user.id, "where": where, "name": name, "url": url}


def link_to_show(key: str, where: dict) -> dict | None:
    """The link kept under ``key`` for the page ``where`` by the signed-in
    organizer, with its QR code; taken out of the session, so that it is
    shown once (a link left there by another sign-in or page is dropped)."""
    made = session.pop(key, None)
    if not made or (made.get("organizer"), made.get("where")) != (current_user.id, where):
        return None
    return {**made, "qr": qr_svg(made["url"])}
