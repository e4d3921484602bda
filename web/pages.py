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
from engine.models import OrgUnit, Task, User
from web import labels
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
    return dict(db.session.execute(select(User.username, User.full_name).where(User.username.in_(names))).all())


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
        # The texts shown because an officer marked them releasable, with the mark (engine.releases).
        rendered["releases"] = [marks[name] for name in (view.released if view is not None else []) if name in marks]
        return rendered
    except forms.UnknownForm:
        return {"title": task.form, "fields": [], "extra": task.form_data}


def report_prefill() -> dict[str, Any]:
    """A new Mẫu 01 starts with what the system knows: now, today and who is receiving it."""
    now = clock.local(clock.now())
    return {"received_at": now.strftime("%Y-%m-%dT%H:%M"), "report_date": now.date().isoformat(),
            "receiving_officer": current_user.full_name}
