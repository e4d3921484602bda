"""Reading a case file: its timeline, forms and decisions, and audit trail — from the case, task and
audit tables only. Every read of a file by a person is written to the audit trail (`open_file`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, audit, clock
from engine.errors import NotFound
from engine.models import AuditEntry, Case, OrgUnit, Task


@dataclass
class TimelineEntry:
    """One step of the case as it happened: when it was due, when done, on time or late and by how much."""

    task: Task
    late_by_seconds: float | None  # > 0 late, <= 0 on time, None without a limit or not yet due

    @property
    def status(self) -> str:
        """done_on_time | done_late | open | overdue | cancelled"""
        task = self.task
        if task.state == "cancelled":
            return "cancelled"
        if task.state == "completed":
            return "done_late" if (self.late_by_seconds or 0) > 0 else "done_on_time"
        return "overdue" if (self.late_by_seconds or 0) > 0 else "open"


@dataclass
class CaseFile:
    case: Case
    commune: OrgUnit
    timeline: list[TimelineEntry]
    linked: list[Case] = field(default_factory=list)

    def forms(self) -> list[Task]:
        """Completed steps with their form data, in the order they were done."""
        return [e.task for e in self.timeline if e.task.state == "completed" and e.task.form_data is not None]

    def first(self, form: str) -> dict[str, Any] | None:
        return next((t.form_data for t in self.forms() if t.form == form), None)

    @property
    def open_steps(self) -> list[Task]:
        return [e.task for e in self.timeline if e.task.state == "ready"]


def lateness(task: Task, now: datetime | None = None) -> float | None:
    if task.due_at is None:
        return None
    end = task.completed_at if task.state != "ready" else (now or clock.now())
    if end is None:  # completing and cancelling both stamp completed_at: no end, nothing to measure
        return None
    if task.state == "ready" and end <= task.due_at:
        return None if end < task.due_at else 0.0
    return (end - task.due_at).total_seconds()


def load(session: Session, case_id: int) -> CaseFile:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("Không tìm thấy hồ sơ.", "No such case.")
    tasks = session.scalars(select(Task).where(Task.case_id == case_id).order_by(Task.id)).all()
    now = clock.now()
    linked = list(session.scalars(select(Case).where(
        (Case.linked_case_id == case.id) | (Case.id == (case.linked_case_id or -1)))))
    return CaseFile(case, case.commune,
                    [TimelineEntry(t, lateness(t, now)) for t in tasks], linked)


def open_file(session: Session, actor: access.Actor, case_id: int, purpose: str = "view") -> CaseFile:
    """The case file for `actor`, refused outside their scope; the read is audited and committed."""
    file = load(session, case_id)
    if not access.can_read_case(actor, file.case):
        # The same answer as a missing case: a guessed id tells nothing.
        raise NotFound("Không tìm thấy hồ sơ.", "No such case.")
    audit.append(session, actor.username, f"case_{purpose}", case_id, {"role": actor.role})
    session.commit()
    return file


def record_step_read(session: Session, actor: access.Actor, task: Task, case: Case, via: str) -> str:
    """Reading a step is audited in one vocabulary whichever adapter shows it: `case_step` for a reader of
    the case file (the page and the API show its forms), `task_viewed` for someone who sees only the step
    given to them (a partner). Committed; returns the action written."""
    action = "case_step" if access.can_read_case(actor, case) else "task_viewed"
    audit.append(session, actor.username, action, case.id,
                 {"task": task.id, "step": task.step, "role": actor.role, "via": via})
    session.commit()
    return action


def audit_trail(session: Session, case_id: int, limit: int | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def redact(data: dict[str, Any] | None, form: str | None, actor: access.Actor | None,
           hide_address: bool = False) -> dict[str, Any] | None:
    """Form data as `actor` may see it: the informant's identity only for those who need it (Art. 25)."""
    if data is None or form != "mau_01":
        return data
    clean = dict(data)
    if actor is None or not access.can_see_informant(actor) or hide_address:
        informant = dict(clean.get("informant") or {})
        for key in ("name", "phone", "address"):
            if informant.get(key):
                informant[key] = "[đã ẩn / redacted]"
        clean["informant"] = informant
    if hide_address:
        child = dict(clean.get("child") or {})
        if child.get("address"):
            child["address"] = "[đã ẩn / redacted]"
        clean["child"] = child
    return clean
