"""Rows as the API shows them: tasks, cases and timelines with their legal labels in the caller's language.

Everything here reads the case, task and org-unit tables only (never a workflow), like the web pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import url_for
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, casefile, clock
from engine.models import Case, OrgUnit, Task
from engine.registry import Step
from web import engine
from web.api.common import locale
from web.filters import time_left

TO_CONFIRM = "[cần xác nhận]"


def units(session: Session, ids: Iterable[int]) -> dict[int, OrgUnit]:
    """The org units named by `ids`, in one query (lists show a commune per row)."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(wanted)))}


def _steps() -> dict[str, Step]:
    return {s.step: s for s in engine().registry.current.steps.values()}


def step_title(task: Task, steps: dict[str, Step] | None = None) -> str:
    step = (steps if steps is not None else _steps()).get(task.step)
    if step is not None and locale() == "en":
        return step.title_en or task.title
    return task.title


def deadline(rule_name: str | None) -> dict[str, Any] | None:
    """The legal basis of a step's limit: the rule's label, its article, and whether it is still to confirm."""
    if not rule_name:
        return None
    rule = engine().rules.rules.get(rule_name)
    if rule is None:
        return {"rule": rule_name, "label": rule_name, "article": "", "to_confirm": False}
    label = rule.label_en if locale() == "en" and rule.label_en else rule.label_vi
    if rule.to_confirm:
        label = f"{label} {TO_CONFIRM}"
    return {"rule": rule.name, "label": label, "article": rule.article, "to_confirm": rule.to_confirm}


def due_status(task: Task, now: datetime | None = None) -> dict[str, Any]:
    """The account of the step's limit the pages give (web.filters.time_left), in the API's language."""
    with force_locale(locale()):
        left = time_left(task, now)
    return {"state": left["state"], "text": left["text"], "estimated_year": left["estimated"],
            "note": left["note"] or None}


def task_summary(task: Task, case: Case, unit: OrgUnit | None, steps: dict[str, Step] | None = None,
                 now: datetime | None = None) -> dict[str, Any]:
    now = now or clock.now()
    overdue_by = (now - task.due_at).total_seconds() if task.due_at and task.state == "ready" else None
    return {
        "id": task.id,
        "case_id": case.id,
        "case_number": case.number,
        "step": task.step,
        "title": step_title(task, steps),
        "role": task.role,
        "commune": unit.code if unit else None,
        "commune_name": unit.name if unit else None,
        "assignee": task.assignee,
        "state": task.state,
        "created_at": task.created_at,
        "due_at": task.due_at,
        "overdue": overdue_by is not None and overdue_by > 0,
        "overdue_seconds": overdue_by if overdue_by is not None and overdue_by > 0 else None,
        "due_status": due_status(task, now),
        "deadline": deadline(task.rule),
        "form": task.form,
        "href": url_for("api_tasks.task", task_id=task.id),
    }


def task_page(session: Session, rows: list[tuple[Task, Case]]) -> list[dict[str, Any]]:
    by_id = units(session, (t.commune_id for t, _c in rows))
    steps, now = _steps(), clock.now()
    return [task_summary(t, c, by_id.get(t.commune_id), steps, now) for t, c in rows]


def task_detail(session: Session, actor: access.Actor, task: Task, case: Case) -> dict[str, Any]:
    steps = _steps()
    step = steps.get(task.step)
    out = task_summary(task, case, session.get(OrgUnit, task.commune_id), steps)
    form_version = task.form_version if task.state == "completed" else None
    out.update({
        "article": step.article if step else "",
        "instructions": step.instructions if step else "",
        "form_version": form_version,
        "form_schema": _form_schema(task.form, form_version),
        "draft": task.draft_data,
        "draft_saved_at": task.draft_saved_at,
        "data": casefile.redact(task.form_data, task.form, actor),
        "completed_at": task.completed_at,
        "completed_by": task.completed_by,
        "case_version": case.version,
        "may_act": access.can_act(actor, task) and task.state == "ready",
    })
    return out


def _form_schema(form: str | None, version: int | None) -> dict[str, Any] | None:
    import forms

    if not form:
        return None
    return forms.json_schema(form, version, locale=locale())


def case_summary(case: Case, unit: OrgUnit | None) -> dict[str, Any]:
    return {
        "id": case.id,
        "number": case.number,
        "commune": unit.code if unit else None,
        "commune_name": unit.name if unit else None,
        "category": case.category,
        "status": case.status,
        "stage": case.stage,
        "received_at": case.received_at,
        "opened_at": case.opened_at,
        "closed_at": case.closed_at,
        "child_sex": case.child_sex,
        "child_age": case.child_age,
        "abuse_forms": list(case.abuse_forms or []),
        "environment": case.environment,
        "linked_case_id": case.linked_case_id,
        "version": case.version,
        "href": url_for("api_cases.case", case_id=case.id),
    }


STATUS_LABELS = {
    "done_on_time": ("Hoàn thành đúng hạn", "Done on time"),
    "done_late": ("Hoàn thành trễ hạn", "Done late"),
    "open": ("Đang chờ xử lý", "Open"),
    "overdue": ("Quá hạn", "Overdue"),
    "cancelled": ("Đã huỷ", "Cancelled"),
}


def case_detail(file: casefile.CaseFile, actor: access.Actor) -> dict[str, Any]:
    steps = _steps()
    english = locale() == "en"
    out = case_summary(file.case, file.commune)
    timeline = []
    for entry in file.timeline:
        task = entry.task
        vi, en = STATUS_LABELS[entry.status]
        timeline.append({
            "task_id": task.id,
            "step": task.step,
            "title": step_title(task, steps),
            "role": task.role,
            "assignee": task.assignee,
            "state": task.state,
            "status": entry.status,
            "status_label": en if english else vi,
            "created_at": task.created_at,
            "due_at": task.due_at,
            "completed_at": task.completed_at if task.state == "completed" else None,
            "completed_by": task.completed_by,
            "late_by_seconds": entry.late_by_seconds,
            "due_status": due_status(task),
            "deadline": deadline(task.rule),
            "form": task.form,
            "form_version": task.form_version,
            "data": casefile.redact(task.form_data, task.form, actor) if task.state == "completed" else None,
        })
    out["timeline"] = timeline
    out["linked"] = [{"id": c.id, "number": c.number, "status": c.status} for c in file.linked
                     if c.id != file.case.id and access.can_read_case(actor, c)]
    out["informant_visible"] = access.can_see_informant(actor)
    return out
