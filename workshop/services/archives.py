"""An evening's archive package (issue 19): what a public body hands its
archives service before it may purge the evening's personal data.

One ZIP file, made of the evening's exports as they are (services/exports.py):

- ``export.json``, the documented export, and ``export-schema.json``, its schema;
- ``report.pdf``, the printable report;
- ``csv/<entity>.csv``, the CSV for tools (UTF-8, commas, codes);
- ``export.xlsx``, the spreadsheet for people;
- ``manifest.json``, last: each file's size and SHA-256, the app's version,
  the evening, when and by whom the package was made.

Making it is journaled (``event.archived``, with the package's SHA-256): the
purge relies on that entry (services/privacy.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from importlib import metadata

from flask_babel import get_locale

from .. import clock
from ..config import ROOT
from ..models import Event, Organizer
from . import exports, journal, territories

FORMAT = "startup-territoire-archive"
FORMAT_VERSION = 1
SCHEMA_FILE = ROOT / "docs" / "export-schema.json"
MEDIA_TYPES = {
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class Package:
    content: bytes
    sha256: str
    filename: str
    manifest: dict


def app_version() -> str:
    """The version of the app that made a package (its installed distribution)."""
    try:
        return metadata.version("workshop")
    except metadata.PackageNotFoundError:  # run from a checkout never installed
        return "unknown"


def _files(event: Event) -> dict[str, bytes]:
    """The package's files but the manifest, from the existing exports."""
    header, rows = exports.gather(event)

    def render(fmt: str) -> bytes:
        # No web page among them: render_html is never called.
        return exports.render(header, rows, fmt, None)[0]

    files = {
        "export.json": render("json"),
        "export-schema.json": SCHEMA_FILE.read_bytes(),
        "report.pdf": render("pdf"),
        "export.xlsx": render("xlsx"),
    }
    with zipfile.ZipFile(io.BytesIO(render("csv"))) as csvs:
        for name in csvs.namelist():
            files[f"csv/{name}"] = csvs.read(name)
    return files


def _media_type(name: str) -> str:
    return next((t for ext, t in MEDIA_TYPES.items() if name.endswith(ext)), "")


def build(event: Event, organizer: Organizer | None, by: str = "") -> Package:
    """The evening's archive package, made now by ``organizer`` (or, from
    the command line, by ``by``); journaled, committed with the caller's
    next commit."""
    now = clock.now()
    files = _files(event)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "app": {"name": "workshop", "version": app_version()},
        "evening": {
            "id": event.id,
            "title": event.title,
            "date": event.date.isoformat() if event.date else None,
            "status": event.status.value,
            "territory": event.territory.name,
        },
        "retention_months": territories.retention(event.territory),
        "created_at": now.isoformat(timespec="seconds"),
        "created_by": {"organizer_id": organizer.id, "name": organizer.name}
        if organizer is not None
        else {"organizer_id": None, "name": by},
        "language": str(get_locale() or "fr"),
        "export_schema_version": exports.SCHEMA_VERSION,
        "files": [
            {
                "name": name,
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "media_type": _media_type(name),
            }
            for name, content in files.items()
        ],
    }
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    buffer = io.BytesIO()
    stamp = now.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(info, content)
    content = buffer.getvalue()
    sha256 = hashlib.sha256(content).hexdigest()
    journal.record(
        f"organizer:{organizer.id}" if organizer is not None else "cli",
        "event.archived", event.title, territory_id=event.territory_id, event_id=event.id,
        sha256=sha256, size=len(content), files=len(files),
    )  # fmt: skip
    return Package(content, sha256, f"archive-soiree-{event.id}.zip", manifest)


def verify(content: bytes) -> list[str]:
    """The files of a package whose size or SHA-256 differs from its
    manifest's (or that the manifest does not list); empty when intact."""
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        manifest = json.loads(package.read("manifest.json"))
        listed = {item["name"]: item for item in manifest["files"]}
        wrong = []
        for name in package.namelist():
            if name == "manifest.json":
                continue
            data, item = package.read(name), listed.pop(name, None)
            digest = hashlib.sha256(data).hexdigest()
            if item is None or (item["size"], item["sha256"]) != (len(data), digest):
                wrong.append(name)
        return wrong + sorted(listed)
