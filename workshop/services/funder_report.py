"""The funder report (issue 19 §5): a territory's job figures as each funder
counts them (see ``indicators``: EU / LEADER, France Active, the region),
over a period, every figure with the job lines it comes from, and the
projects' funding requests with a warning for those asked after the
project started. As an XLSX (made by the evening exports' writer) and a
PDF (in their font)."""

from __future__ import annotations

import io
from datetime import date

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import FundingRequest, JobLine, Project, Territory
from . import exports, outcomes
from . import indicators as impact

# Sheet titles: short (Excel allows 31 characters) and without "/".
SHEET_TITLES = {
    "eu_leader": _l("EU LEADER"),
    "france_active": "France Active",
    "region": _l("Region"),
}
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _line_row(line: JobLine) -> dict:
    """A source line as the report shows it (codes in words)."""
    return {
        "project": line.project.title,
        "line": line.id,
        "kind": str(outcomes.JOB_KIND_LABELS[line.kind]),
        "fte": line.fte,
        "contract": str(outcomes.CONTRACT_LABELS[line.contract]),
        "months": line.duration_months,
        "employment": str(outcomes.EMPLOYMENT_LABELS[line.employment]) if line.employment else "",
        "start_date": line.start_date,
        "counted_from": outcomes.counted_from(line),
        "declared_by": line.declared_by,
        "declared_at": clock.aware(line.declared_at),
        "checked_by": line.checked_by,
        "checked_at": clock.aware(line.checked_at),
        "evidence": line.evidence,
        "migrated": line.migrated,
    }


def _requests(territory: Territory) -> list[FundingRequest]:
    return list(
        db.session.scalars(
            select(FundingRequest)
            .join(Project, Project.id == FundingRequest.project_id)
            .where(Project.territory_id == territory.id, Project.merged_into_id.is_(None))
            .options(selectinload(FundingRequest.project))
            .order_by(FundingRequest.requested_on, FundingRequest.id)
        )
    )


def gather(territory: Territory, period: impact.Period) -> dict:
    """What the report shows, as plain values (read from the database now)."""
    profiles = impact.funder_profiles(impact.territory_jobs(territory), period)
    return {
        "territory": territory.name,
        "period": period,
        "made_at": clock.now(),
        "profiles": [
            {
                "key": profile.key,
                "title": profile.title,
                "rule": profile.rule,
                "figures": [
                    {
                        "key": figure.key,
                        "label": figure.label,
                        "value": figure.value,
                        "checked": figure.checked,
                        "lines": [_line_row(line) for line in figure.lines],
                    }
                    for figure in profile.figures
                ],
            }
            for profile in profiles
        ],
        "requests": [
            {
                "project": found.project.title,
                "funder": found.funder,
                "programme": found.programme,
                "amount": found.amount,
                "requested_on": found.requested_on,
                "decision": str(outcomes.DECISION_LABELS[found.decision]),
                "decided_on": found.decided_on,
                "project_start": found.project_start,
                "late": found.started_before_request,
            }
            for found in _requests(territory)
        ],
    }


def period_text(period: impact.Period) -> str:
    """The period in words, in the interface's language."""
    formats, _zone = exports.reading()

    def day(value: date | None) -> str:
        return value.strftime(formats["day"]) if value else "…"

    if period.start is None and period.end is None:
        return _("All the time recorded")
    return _("From %(start)s to %(end)s", start=day(period.start), end=day(period.end))


LINE_COLUMNS = {
    "project": _l("Project"),
    "line": _l("Line"),
    "kind": _l("Kind of job"),
    "fte": _l("FTE"),
    "contract": _l("Contract"),
    "months": _l("Months"),
    "employment": _l("Employee or self-employed"),
    "start_date": _l("Start date"),
    "counted_from": _l("Counts from"),
    "declared_by": _l("Declared by"),
    "declared_at": _l("Declared on"),
    "checked_by": _l("Checked by"),
    "checked_at": _l("Checked on"),
    "evidence": _l("Evidence"),
    "migrated": _l("Migrated figure"),
}
REQUEST_COLUMNS = {
    "project": _l("Project"),
    "funder": _l("Funder"),
    "programme": _l("Programme"),
    "amount": _l("Amount asked (€)"),
    "requested_on": _l("Asked on"),
    "decision": _l("Decision"),
    "decided_on": _l("Decided on"),
    "project_start": _l("Project started on"),
    "late": _l("Started before the request"),
}


def _local(value):
    """An instant in the evenings' time zone, without it (as Excel wants it)."""
    if value is None or not hasattr(value, "astimezone"):
        return value
    _formats, zone = exports.reading()
    return value.astimezone(zone).replace(tzinfo=None, microsecond=0)


def _cell(value):
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return _local(value)


def sheets(context: dict) -> dict[str, exports.Sheet]:
    """The report as sheets: the figures, each funder's source lines, the
    funding requests."""
    summary = []
    result = {}
    for profile in context["profiles"]:
        rows = []
        for figure in profile["figures"]:
            summary.append([profile["title"], figure["label"], figure["value"],
                            figure["checked"], len(figure["lines"])])  # fmt: skip
            rows += [
                [figure["label"], *(_cell(line[c]) for c in LINE_COLUMNS)]
                for line in figure["lines"]
            ]
        headers = [_("Figure"), *(str(label) for label in LINE_COLUMNS.values())]
        result[profile["key"]] = (str(SHEET_TITLES[profile["key"]]), headers, rows)
    head = [_("Funder"), _("Figure"), _("Value"), _("Of which checked"), _("Source lines")]
    period = [[_("Period"), period_text(context["period"]), None, None, None],
              [_("Territory"), context["territory"], None, None, None]]  # fmt: skip
    requests = [[_cell(found[c]) for c in REQUEST_COLUMNS] for found in context["requests"]]
    return {
        "summary": (_("Figures"), head, summary + period),
        **result,
        "requests": (
            _("Funding requests"), [str(label) for label in REQUEST_COLUMNS.values()], requests,
        ),
    }  # fmt: skip


def to_pdf(context: dict) -> bytes:
    """The report as a PDF: per funder, its rule, its figures and, under
    each, its source lines; then the funding requests."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import cm
    from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

    para = exports.pdf_paragraphs()
    formats, _zone = exports.reading()

    def text(value) -> str:
        value = _cell(value)
        if hasattr(value, "hour"):
            return value.strftime(formats["time"])
        if isinstance(value, date):
            return value.strftime(formats["day"])
        if isinstance(value, float):  # FTE and amounts; a line's number stays as it is
            return format_decimal(value)  # 1,5 in French, 1.5 in English
        return "" if value is None else str(value)

    def table(headers, rows):
        cells = [[para(h, "BodyText") for h in headers]]
        cells += [[para(text(v), "BodyText") for v in row] for row in rows]
        found = Table(cells, repeatRows=1)
        found.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, "#888888"),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))  # fmt: skip
        return found

    title = _("Funder report — %(territory)s", territory=context["territory"])
    story = [para(title, "Title"), para(period_text(context["period"]))]
    shown = ("project", "line", "kind", "fte", "contract", "employment", "start_date",
             "counted_from", "declared_by", "checked_by", "evidence")  # fmt: skip
    for profile in context["profiles"]:
        story += [Spacer(1, 0.4 * cm), para(profile["title"], "Heading2"), para(profile["rule"])]
        for figure in profile["figures"]:
            story.append(para(_("%(figure)s: %(value)s (of which checked: %(checked)s)",
                                figure=figure["label"], value=text(float(figure["value"])),
                                checked=text(float(figure["checked"]))), "Heading4"))  # fmt: skip
            if figure["lines"]:
                headers = [str(LINE_COLUMNS[c]) for c in shown]
                story.append(table(headers, [[line[c] for c in shown] for line in figure["lines"]]))
            else:
                story.append(para(_("No job line counts here.")))
    story += [Spacer(1, 0.4 * cm), para(_("Funding requests"), "Heading2")]
    if context["requests"]:
        headers = [str(label) for label in REQUEST_COLUMNS.values()]
        story.append(table(headers, [list(found.values()) for found in context["requests"]]))
    else:
        story.append(para(_("No funding request recorded.")))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=landscape(A4), title=title, leftMargin=1.5 * cm, rightMargin=1.5 * cm,
        initialFontName="DejaVuSans",
    )  # fmt: skip
    document.build(story)
    return buffer.getvalue()


def render(context: dict, fmt: str) -> tuple[bytes, str, str]:
    """The report in ``fmt`` (xlsx or pdf): (content, MIME type, file name)."""
    period = context["period"]
    stem = "rapport-financeurs"
    if period.start or period.end:
        stem += f"-{period.start or ''}-{period.end or ''}"
    if fmt == "xlsx":
        content = exports.to_xlsx(sheets(context))
    elif fmt == "pdf":
        content = to_pdf(context)
    else:
        raise ValueError(fmt)
    return content, FORMATS[fmt], f"{stem}.{fmt}"
