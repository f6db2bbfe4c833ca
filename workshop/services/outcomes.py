"""Outcomes as funders count them (DESIGN.md §8, issue 19 §5): each job of a
project is a dated line of its own, measured against the project's baseline
(the day support started), and each aid request is recorded with its dates.

The funders' figures are computed from these lines in ``indicators``; here
are the lines themselves: added, edited, removed and checked by an
organizer, every change journaled in the project's history. Values come as
typed (from a test) or as a form's text ("0,5", "2027-03-01"); anything
wrong is refused with a message naming the field, and nothing is changed.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from .. import clock
from ..extensions import db
from ..models import (
    ContractType,
    Decision,
    Employment,
    FundingRequest,
    JobKind,
    JobLine,
    Organizer,
    Project,
)
from . import ServiceError, backlog
from .transaction import commit

MAX_FTE = 1.0  # a line is one job: full time at most
MAX_MIGRATED_FTE = 10_000.0  # a migrated line carries a whole project's old figure
MAX_MONTHS = 120
MAX_AMOUNT = 1e10
MAX_TEXT = 200
MAX_EVIDENCE = 2000
FIXED_TERM = (ContractType.cdd, ContractType.apprenticeship)
EARLIEST = date(1900, 1, 1)

JOB_KIND_LABELS = {
    JobKind.created: _l("Created"),
    JobKind.consolidated: _l("Consolidated (kept)"),
}
CONTRACT_LABELS = {
    ContractType.cdi: _l("Open-ended contract (CDI)"),
    ContractType.cdd: _l("Fixed-term contract (CDD)"),
    ContractType.apprenticeship: _l("Apprenticeship"),
    ContractType.self_employed: _l("Self-employed, independent"),
    ContractType.other: _l("Other"),
}
EMPLOYMENT_LABELS = {
    Employment.employee: _l("Employee"),
    Employment.self_employed: _l("Self-employed"),
}
DECISION_LABELS = {
    Decision.pending: _l("Waiting for a decision"),
    Decision.granted: _l("Granted"),
    Decision.refused: _l("Refused"),
}


def _refuse(field: str, message) -> ServiceError:
    return ServiceError("bad_" + field, message, field=field)


def _choice(enum_type, value, field: str, message):
    try:
        return enum_type(value)
    except ValueError:
        raise _refuse(field, message) from None


def _decimal(value) -> float | None:
    """A number as typed or as people write it ("0,5", "1 500"); None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = (value or "").replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    try:
        return float(text.replace(",", ".")) if text else None
    except ValueError:
        return None


def _day(value, field: str, message, required: bool = True) -> date | None:
    if isinstance(value, date):
        day = value
    elif not value:
        if required:
            raise _refuse(field, message)
        return None
    else:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise _refuse(field, message) from None
    if day < EARLIEST:
        raise _refuse(field, message)
    return day


def _text(value, limit: int) -> str:
    return (value or "").strip()[:limit]


# --- job lines ------------------------------------------------------------------------


def _job_values(organizer: Organizer, fields: dict, migrated: bool = False) -> dict:
    """The line's values from ``fields``, checked (see the module)."""
    kind = _choice(JobKind, fields.get("kind"), "kind",
                   _l("Say whether the job was created or consolidated."))  # fmt: skip
    fte = _decimal(fields.get("fte"))
    most = MAX_MIGRATED_FTE if migrated else MAX_FTE
    if fte is None or not 0 < fte <= most:  # NaN fails the comparison too
        raise _refuse(
            "fte", _l("Full-time equivalent: a number above 0 and at most 1 (one job per line).")
        )
    contract = _choice(ContractType, fields.get("contract"), "contract",
                       _l("Choose the kind of contract."))  # fmt: skip
    employment = _choice(Employment, fields.get("employment"), "employment",
                         _l("Say whether the person is an employee or self-employed."))  # fmt: skip
    if (contract == ContractType.self_employed) != (employment == Employment.self_employed) and (
        contract != ContractType.other
    ):
        raise _refuse("contract", _l("A self-employed job has no employment contract: choose "
                                     "“Self-employed” or “Other” as its contract."))  # fmt: skip
    months = None
    if contract in FIXED_TERM:
        months = _decimal(fields.get("duration_months"))
        if months is None or months != int(months) or not 1 <= months <= MAX_MONTHS:
            raise _refuse(
                "duration_months", _l("A fixed-term job needs its length: from 1 to 120 months.")
            )
        months = int(months)
    start = _day(fields.get("start_date"), "start_date", _l("Give the day the job started."))
    if start > clock.now().date():
        raise _refuse("start_date", _l("A job is recorded once it has started: the start date "
                                       "cannot be in the future."))  # fmt: skip
    return {
        "kind": kind,
        "fte": fte,
        "contract": contract,
        "duration_months": months,
        "employment": employment,
        "volunteer": bool(fields.get("volunteer")),
        "start_date": start,
        "declared_by": _text(fields.get("declared_by"), MAX_TEXT) or organizer.name,
        "evidence": _text(fields.get("evidence"), MAX_EVIDENCE),
    }


def _line(project: Project, line_id) -> JobLine:
    line = next((j for j in project.jobs if j.id == line_id), None)
    if line is None:
        raise ServiceError("not_found", _l("This job line does not exist or is not yours."))
    return line


def _summary(line: JobLine) -> dict:
    """What the history keeps of a line (no evidence text: it may name people)."""
    return {"line": line.id, "kind": line.kind.value, "fte": line.fte,
            "start_date": line.start_date.isoformat(), "volunteer": line.volunteer}  # fmt: skip


def add_job(organizer: Organizer, project: Project, fields: dict) -> JobLine:
    """Record a job of ``project`` (see ``_job_values`` for the fields),
    declared now, not checked yet."""
    values = _job_values(organizer, fields)
    line = JobLine(**values, declared_at=clock.now())
    project.jobs.append(line)
    project.updated_at = clock.now()
    db.session.flush()
    backlog.record(organizer, project, "project.job_added", **_summary(line))
    commit()
    return line


def update_job(organizer: Organizer, project: Project, line_id, fields: dict) -> None:
    """Change a job line. A change of what was checked undoes the check:
    whoever checked it did not check the new values."""
    line = _line(project, line_id)
    values = _job_values(organizer, fields, migrated=line.migrated)
    changed = sorted(name for name, value in values.items() if getattr(line, name) != value)
    if not changed:
        return
    for name in changed:
        setattr(line, name, values[name])
    if line.checked_by:
        line.checked_by, line.checked_at = "", None
    project.updated_at = clock.now()
    backlog.record(organizer, project, "project.job_updated", fields=changed, **_summary(line))
    commit()


def remove_job(organizer: Organizer, project: Project, line_id) -> None:
    """Remove a job line (recorded by mistake, or twice)."""
    line = _line(project, line_id)
    summary = _summary(line)
    project.jobs.remove(line)
    project.updated_at = clock.now()
    backlog.record(organizer, project, "project.job_removed", **summary)
    commit()


def check_job(organizer: Organizer, project: Project, line_id) -> None:
    """Mark a job line as checked by the organizer (against a contract, a
    payslip, a registration), now."""
    line = _line(project, line_id)
    if line.checked_by:
        return
    line.checked_by, line.checked_at = organizer.name, clock.now()
    backlog.record(organizer, project, "project.job_checked", **_summary(line))
    commit()


def set_baseline(organizer: Organizer, project: Project, day) -> None:
    """Set the day support started: jobs that started before it are the
    project's baseline, counted by no funder as its outcome."""
    day = _day(day, "baseline_on", _l("Give the day support started."))
    if day > clock.now().date():
        raise _refuse("baseline_on", _l("Support cannot start in the future."))
    if day == project.baseline_on:
        return
    before = project.baseline_on
    project.baseline_on, project.baseline_by = day, organizer.name
    backlog.record(organizer, project, "project.baseline",
                   before=before.isoformat(), after=day.isoformat())  # fmt: skip
    commit()


def counted_from(line: JobLine) -> date:
    """The day a line counts from: its start, or the day support started for
    a job that was there before (a consolidated job is kept from then)."""
    return max(line.start_date, line.project.baseline_on)


def pre_baseline(line: JobLine) -> bool:
    """A job there before support started: part of the baseline."""
    return line.start_date < line.project.baseline_on


def baseline_fte(project: Project) -> float:
    """The FTE of the jobs that were there when support started (volunteers aside)."""
    return sum(j.fte for j in project.jobs if pre_baseline(j) and not j.volunteer)


# --- funding requests -------------------------------------------------------------------


def _request_values(organizer: Organizer, fields: dict) -> dict:
    """A funding request's values from ``fields``, checked."""
    funder = _text(fields.get("funder"), MAX_TEXT)
    if not funder:
        raise _refuse("funder", _l("Name the funder."))
    amount = _decimal(fields.get("amount"))
    if amount is None or not 0 <= amount <= MAX_AMOUNT:
        raise _refuse("amount", _l("The amount asked is a positive number of euros."))
    requested = _day(fields.get("requested_on"), "requested_on",
                     _l("Give the day the aid was asked for."))  # fmt: skip
    decision = _choice(Decision, fields.get("decision") or Decision.pending, "decision",
                       _l("Choose the decision."))  # fmt: skip
    decided = _day(fields.get("decided_on"), "decided_on", _l("Give a valid decision date."),
                   required=False)  # fmt: skip
    if decision == Decision.pending and decided is not None:
        raise _refuse("decided_on", _l("A request waiting for a decision has no decision date."))
    if decision != Decision.pending and decided is None:
        raise _refuse("decided_on", _l("Give the day the decision was made."))
    if decided is not None and decided < requested:
        raise _refuse("decided_on", _l("The decision cannot come before the request."))
    start = _day(fields.get("project_start"), "project_start",
                 _l("Give a valid start date for the project."), required=False)  # fmt: skip
    return {
        "funder": funder,
        "programme": _text(fields.get("programme"), MAX_TEXT),
        "amount": amount,
        "requested_on": requested,
        "decision": decision,
        "decided_on": decided,
        "project_start": start,
    }


def _request(project: Project, request_id) -> FundingRequest:
    found = next((r for r in project.funding_requests if r.id == request_id), None)
    if found is None:
        raise ServiceError("not_found", _l("This funding request does not exist or is not yours."))
    return found


def add_request(organizer: Organizer, project: Project, fields: dict) -> FundingRequest:
    """Record an aid request of ``project`` (funder, programme, amount,
    dates, decision)."""
    values = _request_values(organizer, fields)
    found = FundingRequest(**values, recorded_by=organizer.name, created_at=clock.now())
    project.funding_requests.append(found)
    project.updated_at = clock.now()
    db.session.flush()
    backlog.record(organizer, project, "project.funding_added", request=found.id,
                   funder=found.funder, amount=found.amount)  # fmt: skip
    commit()
    return found


def update_request(organizer: Organizer, project: Project, request_id, fields: dict) -> None:
    """Change an aid request (its decision, most often)."""
    found = _request(project, request_id)
    values = _request_values(organizer, fields)
    changed = sorted(name for name, value in values.items() if getattr(found, name) != value)
    if not changed:
        return
    for name in changed:
        setattr(found, name, values[name])
    project.updated_at = clock.now()
    backlog.record(organizer, project, "project.funding_updated", request=found.id,
                   funder=found.funder, fields=changed, decision=found.decision.value)  # fmt: skip
    commit()


def remove_request(organizer: Organizer, project: Project, request_id) -> None:
    """Remove an aid request recorded by mistake."""
    found = _request(project, request_id)
    project.funding_requests.remove(found)
    project.updated_at = clock.now()
    backlog.record(organizer, project, "project.funding_removed", request=request_id,
                   funder=found.funder)  # fmt: skip
    commit()
