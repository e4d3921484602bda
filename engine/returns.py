"""A plan the chairman returned (Decree 56 Art. 28): the version returned, the chairman's reasons, and the rounds
the chairman compares before deciding again.

After "Trả lại để hoàn thiện" the officer drafts the plan (Mẫu 04) and the decision (Mẫu 05) again. They continue
from the returned version, not from a blank form: `prefill` gives the step the data of that version (unless the
person already saved a draft of their own), and `returned_for` the chairman's return (who, when, the comments)
shown at the top of the step. On the next approval step `rounds` pairs each returned form with its new version,
so the chairman sees what changed (the web renders the field-level difference).

Read-only: nothing is copied into the new step's row; a step opened before this module existed is served the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Task

PLAN_STEPS = ("draft_plan", "draft_decision")  # Mẫu 04, Mẫu 05: drafted again after a return
APPROVAL_STEP = "approve_plan"
RETURN = "return"


@dataclass(frozen=True)
class Round:
    """One form of the plan: the version the chairman returned and the one now submitted."""

    step: str
    returned: Task
    current: Task


def _latest(session: Session, case_id: int, step: str, before: datetime, below_id: int) -> Task | None:
    """The step's last completion in the case at or before `before`, among rows written before row `below_id`
    (one transaction gives a completion and the step it opens the same time)."""
    return session.scalar(select(Task).where(Task.case_id == case_id, Task.step == step, Task.state == "completed",
                                             Task.completed_at <= before, Task.id < below_id)
                          .order_by(Task.completed_at.desc(), Task.id.desc()).limit(1))


def _last_decision(session: Session, task: Task) -> Task | None:
    """The last decision on the plan before `task` opened."""
    return _latest(session, task.case_id, APPROVAL_STEP, task.created_at, task.id)


def returned_for(session: Session, task: Task) -> Task | None:
    """The chairman's return that `task` (a Mẫu 04 or Mẫu 05 step) was opened after: the last decision on the plan
    before the step opened, when that decision returned it. None for a first draft or after an approval."""
    if task.step not in PLAN_STEPS:
        return None
    decision = _last_decision(session, task)
    if decision is None or (decision.form_data or {}).get("decision") != RETURN:
        return None
    return decision


def returned_version(session: Session, task: Task) -> Task | None:
    """The version of this step's form the chairman returned (the last one completed before the return)."""
    decision = returned_for(session, task)
    if decision is None or decision.completed_at is None:
        return None
    return _latest(session, task.case_id, task.step, decision.completed_at, decision.id)


def prefill(session: Session, task: Task) -> dict[str, Any] | None:
    """What an open Mẫu 04/05 step starts from after a return: the returned version's data, unless the person
    already saved a draft (theirs wins). None: start as usual."""
    if task.state != "ready" or task.draft_data is not None:
        return None
    version = returned_version(session, task)
    return dict(version.form_data) if version is not None and version.form_data is not None else None


def rounds(session: Session, approval: Task) -> list[Round]:
    """For an approval step opened after a return: each plan form's returned version and the one submitted since,
    in the order they are drafted (Mẫu 04, then Mẫu 05). Empty for a first approval."""
    if approval.step != APPROVAL_STEP:
        return []
    decision = _last_decision(session, approval)
    if decision is None or decision.completed_at is None or (decision.form_data or {}).get("decision") != RETURN:
        return []
    found = []
    for step in PLAN_STEPS:
        returned = _latest(session, approval.case_id, step, decision.completed_at, decision.id)
        current = _latest(session, approval.case_id, step, approval.created_at, approval.id)
        if returned is not None and current is not None and current.id != returned.id:
            found.append(Round(step, returned, current))
    return found
