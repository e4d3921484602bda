"""Helpers for the case-work page tests: cases opened and driven through the engine (fast, no demo seed),
signed-in clients, and form data flattened the way the HTML forms name their inputs (`a.b`, `list.0.c`)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.models import AuditEntry, Case, OrgUnit, Task
from web import demo
from web.extensions import db


def add_other_province(session, name: str = "Tỉnh Thứ Hai",
                       commune_name: str = "Xã Tỉnh Hai") -> tuple[OrgUnit, OrgUnit]:
    """Province T02 with its commune T02-X01 (flushed, not committed): the "elsewhere" of scope tests."""
    province = OrgUnit(code="T02", name=name, kind="province")
    session.add(province)
    session.flush()
    commune = OrgUnit(code="T02-X01", name=commune_name, kind="commune", parent_id=province.id)
    session.add(commune)
    session.flush()
    return province, commune


def token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def client_for(app, username: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                           "csrf_token": token(page)})
    assert response.status_code == 302, f"log-in of {username} failed"
    return client


def open_case(app, commune: str = "T01-X01", hours_ago: float = 0, stop_at: str | None = None,
              choices: dict[str, Any] | None = None, **mau01: Any) -> int:
    """A case opened by the demo intake point (received `hours_ago`), driven until `stop_at` is open."""
    with app.app_context():
        engine = app.extensions["case56_engine"]
        people = demo.cast(db.session)
        report = demo.sample("mau_01", clock.now() - timedelta(hours=hours_ago) + timedelta(minutes=30), **mau01)
        case = engine.open_case(db.session, people.actors["tiepnhan"], commune, report)
        if stop_at or choices:
            demo.drive(engine, db.session, case, people, stop_at=stop_at, choices=choices)
        case_id = case.id
        db.session.remove()
        return case_id


def ready_task(app, case_id: int, step: str) -> int:
    with app.app_context():
        task = db.session.scalar(select(Task).where(Task.case_id == case_id, Task.step == step,
                                                    Task.state == "ready").order_by(Task.id))
        assert task is not None, f"no open {step} step"
        task_id = task.id
        db.session.remove()
        return task_id


def load(app, model, ident):
    with app.app_context():
        row = db.session.get(model, ident)
        db.session.expunge_all()
        db.session.remove()
        return row


def case_of(app, case_id: int) -> Case:
    return load(app, Case, case_id)


def task_of(app, task_id: int) -> Task:
    return load(app, Task, task_id)


def audits(app, action: str, case_id: int | None = None) -> list[AuditEntry]:
    with app.app_context():
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        if case_id is not None:
            query = query.where(AuditEntry.case_id == case_id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        db.session.remove()
        return rows


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Form data as the browser sends it: groups and list rows by dotted path, yes/no as true/false,
    several choices as a list (the test client sends one value each)."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    path = prefix.rstrip(".")
    if isinstance(data, list):
        if data and all(isinstance(item, dict) for item in data):
            for index, item in enumerate(data):
                out.update(flatten(item, f"{path}.{index}."))
        else:
            out[path] = [str(item) for item in data]
    elif isinstance(data, bool):
        out[path] = "true" if data else "false"
    elif data is not None:
        out[path] = str(data)
    return out


def post_form(client, path: str, data: dict[str, Any], **controls: Any):
    """Post `data` (nested, as the form's clean data) to the page at `path`, with its CSRF token."""
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data={**flatten(data), "csrf_token": token(page), **controls})


def version_on(page: str) -> str:
    match = re.search(r'name="_version" value="(\d+)"', page)
    assert match, "no case version on the page"
    return match.group(1)
