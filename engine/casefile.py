"""Reading a case file: its timeline, forms and decisions, and audit trail — from the case, task and
audit tables only. Every read of a file by a person is written to the audit trail (`open_file`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import forms
from engine import access, audit, clock, releases
from engine.errors import NotFound
from engine.models import AuditEntry, Case, OrgUnit, Task, TextRelease
from forms.kit import sensitivity


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
    # Texts marked releasable, by step and field path (engine.releases).
    releases: dict[int, dict[str, TextRelease]] = field(default_factory=dict)

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
                    [TimelineEntry(t, lateness(t, now)) for t in tasks], linked, releases.for_case(session, case_id))


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


def filtered(data: dict[str, Any] | None, form: str | None, actor: access.Actor | None, redacted: bool = False, *,
             version: int | None = None, marks: Mapping[str, TextRelease] | None = None,
             author: str | None = None) -> sensitivity.Filtered | None:
    """Form data as `actor` may see it, by the sensitivity class of each field (forms/kit/sensitivity.py) and the
    classes the actor may see (engine.access.visible_classes): a value withheld reads "[đã ẩn]". `redacted`: the
    copy shared outside the commune, basic data only. `marks`: the step's releasable texts (engine.releases).
    `author`: who completed the step — one always reads what they wrote themselves, except in a redacted copy."""
    if data is None:
        return None
    if author is not None and actor is not None and author == actor.username and not redacted:
        return sensitivity.Filtered(dict(data))
    try:
        schema = forms.get(form, version).schema if form else None
    except forms.UnknownForm:  # data of a form no longer registered: every key judged as free text
        schema = None
    return sensitivity.filter_data(schema, data, access.visible_classes(actor, redacted),
                                   releases.checker(marks or {}))


def redact(data: dict[str, Any] | None, form: str | None, actor: access.Actor | None, redacted: bool = False, *,
           version: int | None = None, marks: Mapping[str, TextRelease] | None = None,
           author: str | None = None) -> dict[str, Any] | None:
    """`filtered` without the account of what was withheld: the data alone."""
    result = filtered(data, form, actor, redacted, version=version, marks=marks, author=author)
    return None if result is None else result.data


def task_data(task: Task, actor: access.Actor | None, redacted: bool = False,
              marks: Mapping[str, TextRelease] | None = None) -> sensitivity.Filtered | None:
    """A completed step's form data as `actor` may see it (see `filtered`)."""
    return filtered(task.form_data, task.form, actor, redacted, version=task.form_version, marks=marks,
                    author=task.completed_by)
