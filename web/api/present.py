"""Rows as the API shows them: tasks, cases and timelines with their legal labels in the caller's language.

Everything here reads the case, task and org-unit tables only (never a workflow), like the web pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from flask import url_for
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, casefile, children, clock, path, releases, returns
from engine.models import Case, OrgUnit, Task, TextRelease
from forms.kit import sensitivity
from web import labels
from web.api.common import actor, locale
from web.filters import time_left

TO_CONFIRM = "[cần xác nhận]"


def units(session: Session, ids: Iterable[int]) -> dict[int, OrgUnit]:
    """The org units named by `ids`, in one query (lists show a commune per row)."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(wanted)))}


def deadline(rule_name: str | None) -> dict[str, Any] | None:
    """The legal basis of a step's limit (web.labels.rule_label), the label marked when still to confirm."""
    basis = labels.rule_label(rule_name, locale())
    if basis is None:
        return None
    label = f"{basis.label} {TO_CONFIRM}" if basis.to_confirm else basis.label
    return {"rule": basis.rule, "label": label, "article": basis.article, "to_confirm": basis.to_confirm,
            "policy": basis.policy or None}


def due_status(task: Task, now: datetime | None = None) -> dict[str, Any]:
    """The account of the step's limit the pages give (web.filters.time_left), in the API's language."""
    with force_locale(locale()):
        left = time_left(task, now)
    return {"state": left["state"], "text": left["text"], "estimated_year": left["estimated"],
            "note": left["note"] or None, "legal": left["legal"] or None}


def child(label: children.ChildLabel | None) -> dict[str, Any] | None:
    """The child of a listed case (engine.children.labels: only for roles that may see the child's name)."""
    return None if label is None else {"name": label.name, "age": label.age, "age_estimated": label.estimated}


def child_of(case: Case) -> dict[str, Any] | None:
    from web.extensions import db

    return child(children.labels(db.session, actor(), [case]).get(case.id))


_UNSET: Any = object()


class UnitLabel(NamedTuple):
    """What an answer shows of a commune (its code and name), kept apart from the session's objects."""

    code: str
    name: str


def task_summary(task: Task, case: Case, unit: OrgUnit | UnitLabel | None, now: datetime | None = None,
                 child_json: dict[str, Any] | None = _UNSET) -> dict[str, Any]:
    now = now or clock.now()
    overdue_by = (now - task.due_at).total_seconds() if task.due_at and task.state == "ready" else None
    return {
        "id": task.id,
        "case_id": case.id,
        "case_number": case.number,
        "step": task.step,
        "title": labels.step_title(task, case, locale()),
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
        "child": child_of(case) if child_json is _UNSET else child_json,
    }


def task_page(session: Session, rows: list[tuple[Task, Case]]) -> list[dict[str, Any]]:
    by_id = units(session, (t.commune_id for t, _c in rows))
    kids = children.labels(session, actor(), [c for _t, c in rows])  # one read for the page
    now = clock.now()
    return [task_summary(t, c, by_id.get(t.commune_id), now, child(kids.get(c.id))) for t, c in rows]


def task_detail(session: Session, actor: access.Actor, task: Task, case: Case) -> dict[str, Any]:
    step = labels.steps_by_key(labels.definition(case.process_version_id)).get(task.step)
    out = task_summary(task, case, session.get(OrgUnit, task.commune_id))
    form_version = task.form_version if task.state == "completed" else None
    out.update({
        # In the request's language like the title (web/labels.py): an untranslated text stays Vietnamese.
        "article": labels.law_text(step.article, locale()) if step else "",
        "instructions": labels.law_text(step.instructions, locale()) if step else "",
        "form_version": form_version,
        "form_schema": _form_schema(task.form, form_version),
        # A draft is the acting person's own work; anyone else reads it through the same classes as the data.
        "draft": task.draft_data if access.can_act(actor, task) else casefile.redact(task.draft_data, task.form, actor),
        "draft_saved_at": task.draft_saved_at,
        **form_data(task, actor, releases.for_task(session, task.id)),
        "completed_at": task.completed_at,
        "completed_by": task.completed_by,
        "case_version": case.version,
        "may_act": access.can_act(actor, task) and task.state == "ready",
        **plan_return(session, actor, task),
    })
    return out


def plan_return(session: Session, actor: access.Actor, task: Task) -> dict[str, Any]:
    """A Mẫu 04/05 step opened after the chairman returned the plan (engine.returns): the return (who, when, the
    comments as `actor` may see them) and the returned version's data to start from when there is no draft."""
    decision = returns.returned_for(session, task) if task.state == "ready" else None
    if decision is None:
        return {"returned": None, "prefill": None}
    seen = casefile.task_data(decision, actor)
    start = returns.prefill(session, task)
    version = returns.returned_version(session, task)
    if start is not None and version is not None and not access.can_act(actor, task):
        start = casefile.redact(start, task.form, actor, version=version.form_version, author=version.completed_by)
    return {"returned": {"by": decision.completed_by, "at": decision.completed_at,
                         "comments": (seen.data if seen is not None else {}).get("comments")},
            "prefill": start}


def release(mark: TextRelease) -> dict[str, Any]:
    return {"task_id": mark.task_id, "field": mark.path, "released_by": mark.released_by,
            "released_at": mark.released_at, "reason": mark.reason}


def form_data(task: Task, actor: access.Actor, marks: dict[str, TextRelease]) -> dict[str, Any]:
    """A completed step's data as `actor` may see it (engine.casefile.task_data), with the paths withheld and the
    texts shown because an officer marked them releasable (the mark goes with them)."""
    view = casefile.task_data(task, actor, marks=marks) if task.state == "completed" else None
    if view is None:
        return {"data": None, "withheld": [], "releases": []}
    return {"data": view.data, "withheld": view.withheld,
            "releases": [release(marks[name]) for name in view.released if name in marks]}


def _form_schema(form: str | None, version: int | None) -> dict[str, Any] | None:
    import forms

    if not form:
        return None
    return forms.json_schema(form, version, locale=locale())


def case_page(session: Session, cases: list[Case]) -> list[dict[str, Any]]:
    """A page of the case list, each with its child for roles that may see it (one read for the page)."""
    by_id = units(session, (c.commune_id for c in cases))
    kids = children.labels(session, actor(), cases)
    return [{**case_summary(c, by_id.get(c.commune_id)), "child": child(kids.get(c.id))} for c in cases]


def candidates(found: list[children.Candidate], who: access.Actor) -> list[dict[str, Any]]:
    """Possible earlier cases of a new report's child: what intake needs to decide, nothing of the file."""
    return [{"id": c.case.id, "number": c.case.number, "status": c.case.status, "commune": c.case.commune.code,
             "commune_name": c.case.commune.name, "received_at": c.case.received_at, "matches": ["name", *c.reasons],
             "may_reopen": c.case.status != "open" and access.can_manage_case(who, c.case)} for c in found]


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


def case_detail(file: casefile.CaseFile, actor: access.Actor) -> dict[str, Any]:
    lang = locale()
    out = case_summary(file.case, file.commune)
    titles = labels.step_titles(labels.definition(file.case.process_version_id), [e.task for e in file.timeline], lang)
    timeline = []
    for entry in file.timeline:
        task = entry.task
        timeline.append({
            "task_id": task.id,
            "step": task.step,
            "title": titles[task.step],
            "role": task.role,
            "assignee": task.assignee,
            "state": task.state,
            "status": entry.status,
            "status_label": labels.timeline_status_label(entry.status, lang),
            "created_at": task.created_at,
            "due_at": task.due_at,
            "completed_at": task.completed_at if task.state == "completed" else None,
            "completed_by": task.completed_by,
            "late_by_seconds": entry.late_by_seconds,
            "due_status": due_status(task),
            "deadline": deadline(task.rule),
            "form": task.form,
            "form_version": task.form_version,
            **form_data(task, actor, file.releases.get(task.id, {})),
        })
    out["timeline"] = timeline
    out["linked"] = [{"id": c.id, "number": c.number, "status": c.status} for c in file.linked
                     if c.id != file.case.id and access.can_read_case(actor, c)]
    out["informant_visible"] = access.can_see_informant(actor)
    case, session = file.case, Session.object_session(file.case)
    out["intake_received_at"], out["commune_received_at"] = case.intake_received_at, case.commune_received_at
    for key, unit_id in (("incident_commune", case.incident_commune_id),
                         ("residence_commune", case.residence_commune_id)):
        unit = session.get(OrgUnit, unit_id) if session is not None and unit_id is not None else None
        out[key] = unit.code if unit is not None else None
    out["visible_classes"] = [name for name in sensitivity.CLASSES if name in access.visible_classes(actor)]
    # The path through the case's process version, as the case page draws it and the dossier prints it.
    tasks = [e.task for e in file.timeline]
    out["path"] = path.path_taken(labels.definition(file.case.process_version_id), tasks).as_dict()
    return out
