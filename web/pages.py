"""What the HTML pages share: the page language, a refusal as a page, request integers within bounds, the names
of units and people for a list, the communes in an actor's scope, a stored form as an actor may see it, a new
Mẫu 01's prefill. No routes here; every blueprint under web/views/ builds on it.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_login import current_user
from sqlalchemy import select

import forms
from engine import access, casefile, clock, releases
from engine.errors import EngineError
from engine.models import Case, OrgUnit, Task, User
from web import formrender, labels
from web.extensions import db

locale = labels.page_locale  # the page's language: "vi" | "en"


def refuse(exc: EngineError) -> tuple[str, int]:
    """An engine refusal as a plain page with its message and status (never a traceback)."""
    return render_template("error.html", message=exc.message(locale()), status=exc.status), exc.status


def bad_request(message: str) -> tuple[str, int]:
    return render_template("error.html", message=message, status=400), 400


def int_arg(value: Any, default: int | None = None, *, low: int = 1, high: int = 2**31 - 1) -> int | None:
    """An integer from the request within bounds (a database integer), else `default`."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if low <= number <= high else default


def unit_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())


def person_names(usernames: set[str]) -> dict[str, str]:
    names = {u for u in usernames if u}
    if not names:
        return {}
    found = dict(db.session.execute(select(User.username, User.full_name).where(User.username.in_(names))).all())
    if "system" in names:  # what the engine did by itself (e.g. routing a case to the residence commune)
        found["system"] = labels.role_label("system")
    return found


def communes_in_scope(actor: access.Actor) -> list[OrgUnit]:
    query = select(OrgUnit).where(OrgUnit.kind == "commune").order_by(OrgUnit.name)
    if actor.commune_id is not None:
        query = query.where(OrgUnit.id == actor.commune_id)
    elif actor.province_id is not None:
        query = query.where(OrgUnit.parent_id == actor.province_id)
    return list(db.session.scalars(query))


def choice_label(form: str, field: str, code: str | None) -> str:
    for described in forms.describe(form, locale=locale())["fields"]:
        if described["name"] == field:
            return dict(described.get("choices") or []).get(code or "", code or "")
    return code or ""


def rendered_form(task: Task, actor: access.Actor) -> dict[str, Any] | None:
    """A stored form as this actor may see it, labelled with the form version it was stored under."""
    if not task.form or task.form_data is None:
        return None
    try:
        marks = releases.for_task(db.session, task.id)
        view = casefile.task_data(task, actor, marks=marks)
        rendered = forms.render(task.form, view.data if view is not None else {}, version=task.form_version,
                                locale=locale())
        # The texts shown because an officer marked them releasable, with the mark (engine.releases); for whoever
        # may mark (the case's officer or chairman) every mark and the texts they may still mark.
        shown = [marks[name] for name in (view.released if view is not None else []) if name in marks]
        rendered["task_id"], rendered["case_id"] = task.id, task.case_id
        case = db.session.get(Case, task.case_id)
        if case is not None and access.can_release_text(actor, case):
            shown = list(marks.values())
            rendered["releasable"] = [(path, releases.label_of(task, path, locale()))
                                      for path, _field in releases.candidates(task) if path not in marks]
        rendered["releases"] = [{"path": m.path, "label": releases.label_of(task, m.path, locale()),
                                 "by": m.released_by, "at": m.released_at, "reason": m.reason} for m in shown]
        return rendered
    except forms.UnknownForm:
        return {"title": task.form, "fields": [], "extra": task.form_data}


def report_prefill() -> dict[str, Any]:
    """A new Mẫu 01 starts with what the system knows: now, today and who is receiving it."""
    now = clock.local(clock.now())
    return {"received_at": formrender.input_datetime(now), "report_date": formrender.input_date(now.date()),
            "receiving_officer": current_user.full_name}
