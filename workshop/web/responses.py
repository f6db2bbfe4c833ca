"""Helpers the pages share: a file to download, a safe place to go next."""

from urllib.parse import urlsplit

from flask import Response, url_for


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
