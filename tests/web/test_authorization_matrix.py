"""The authorization matrix: each role × each page × own scope / other scope, allowed or refused.

Scopes: the case worker's own commune (T01-X01), another commune of the same province (T01-X02), and another
province (T02) created here. Allowed means 200 (a redirect to the role's home page is followed); refused
means 403 or 404 — never 200 with the data, never 500. Signed out, every page sends to the log-in page.
On every page, allowed or not, no case number outside the role's scope may appear.

The expectations below are written out by hand from the domain spec (who sees what), not computed from
engine.access, so the matrix checks the permission module rather than repeating it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from engine import access, clock
from engine.models import Task
from tests.web.casework_kit import add_other_province
from web import demo
from web.extensions import db

USERS = {"intake": "tiepnhan", "officer": "canbo", "chairman": "chutich", "partner": "truonghoc",
         "supervisor": "giamsat", "inspector": "thanhtra", "admin": "quantri"}
# The cases each role may read: "x01" (T01-X01, opened by tiepnhan), "x02" (T01-X02, opened by tiepnhan),
# "t02" (another province). Intake points read the reports they recorded; officers and chairmen their commune;
# supervisors and inspectors their province; partners only their own activities (none here); admins none.
READS = {"intake": {"x01", "x02"}, "officer": {"x01"}, "chairman": {"x01"}, "partner": set(),
         "supervisor": {"x01", "x02"}, "inspector": {"x01", "x02"}, "admin": set()}
ALL_ROLES = set(USERS)
DOSSIER_ROLES = {"officer", "chairman", "supervisor", "inspector"}


@dataclass(frozen=True)
class Row:
    page: str  # path template: {case}, {task}, {escalation}
    allowed: frozenset[str]  # roles that may open it (at all)
    scoped: bool = False  # then also only for targets in READS[role]
    method: str = "GET"
    data_page: bool = True  # the body is HTML/CSV to search for case numbers


MATRIX = [
    # The case workers' pages.
    Row("/", frozenset(ALL_ROLES)),
    Row("/reports/new", frozenset({"intake", "officer"})),
    Row("/cases", frozenset({"intake", "officer", "chairman", "supervisor", "inspector"})),
    Row("/cases/{case}", frozenset(ALL_ROLES), scoped=True),
    Row("/tasks/{task}", frozenset(ALL_ROLES), scoped=True),
    Row("/cases/{case}/dossier.pdf", frozenset(DOSSIER_ROLES), scoped=True, data_page=False),
    # Oversight.
    Row("/supervisor", frozenset({"supervisor"})),
    Row("/supervisor/overdue.csv", frozenset({"supervisor"})),
    Row("/supervisor/escalations/{escalation}/ack", frozenset({"supervisor"}), scoped=True, method="POST"),
    Row("/inspector", frozenset({"inspector"})),
    Row("/inspector/cases/{case}", frozenset({"inspector"}), scoped=True),
    Row("/admin", frozenset({"admin"})),
    Row("/admin/users", frozenset({"admin"})),
    Row("/admin/users/new", frozenset({"admin"})),
    Row("/admin/units", frozenset({"admin"})),
    Row("/admin/processes", frozenset({"admin"})),
    Row("/admin/calendar", frozenset({"admin"})),
    # Personal data protection (issue 18): requests and breaches for the administrator; the child's
    # representatives for the officer and chairman of the case's commune.
    Row("/admin/privacy", frozenset({"admin"})),
    Row("/admin/privacy/requests/new", frozenset({"admin"})),
    Row("/admin/privacy/breaches/new", frozenset({"admin"})),
    Row("/cases/{case}/representatives", frozenset({"officer", "chairman"}), scoped=True),
]


def _world(app, case_engine) -> dict[str, dict[str, object]]:
    """Three cases (two communes of T01, one of T02), each with its verification step; the X01 and T02 ones
    received 13 hours ago, so their 12-hour limit passed and a supervisor's escalation is open."""
    with app.app_context():
        province, commune = add_other_province(db.session, "Tỉnh Khác", "Xã Tỉnh Khác")
        db.session.commit()
        people = demo.cast(db.session)
        other_intake = access.Actor("tiepnhan_t02", "intake", commune.id, province.id)
        now = clock.now()
        world: dict[str, dict[str, object]] = {}
        for key, actor, code, at in (("x01", people.actors["tiepnhan"], "T01-X01", now - timedelta(hours=13)),
                                     ("x02", people.actors["tiepnhan"], "T01-X02", now),
                                     ("t02", other_intake, "T02-X01", now - timedelta(hours=13))):
            case = case_engine.open_case(db.session, actor, code, demo.sample("mau_01", at))
            tasks = db.session.scalars(select(Task).where(Task.case_id == case.id, Task.state == "ready")).all()
            verify = next(t for t in tasks if t.step == "verify")
            escalation = next((t for t in tasks if t.escalates_task_id == verify.id), None)
            world[key] = {"number": case.number, "case": case.id, "task": verify.id,
                          "escalation": escalation.id if escalation else None}
        assert world["x01"]["escalation"] and world["t02"]["escalation"] and not world["x02"]["escalation"]
        return world


def _token(client, path: str) -> str:
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_authorization_matrix(app, login, case_engine):
    world = _world(app, case_engine)
    numbers = {key: str(item["number"]) for key, item in world.items()}
    failures: list[str] = []
    checked = 0

    def targets(row: Row) -> list[str | None]:
        if not row.scoped:
            return [None]
        keys = ["x01", "x02", "t02"]
        return [k for k in keys if "{escalation}" not in row.page or world[k]["escalation"]]

    def path_for(row: Row, key: str | None) -> str:
        if key is None:
            return row.page
        return row.page.format(**{name: world[key][name] for name in ("case", "task", "escalation")
                                  if world[key][name] is not None})

    def request(client, row: Row, path: str, token: str):
        if row.method == "POST":
            # An empty note: an allowed supervisor gets the form back with its field error (422), nothing saved.
            return client.post(path, data={"csrf_token": token, "note": ""})
        return client.get(path, follow_redirects=client is not anonymous)

    anonymous = app.test_client()
    anonymous_token = _token(anonymous, "/login")
    for row in MATRIX:
        for key in targets(row):
            path = path_for(row, key)
            response = request(anonymous, row, path, anonymous_token)
            checked += 1
            if response.status_code != 302 or "/login" not in response.headers.get("Location", ""):
                failures.append(f"anonymous {row.method} {path}: {response.status_code}, expected redirect to log-in")

    for role, username in USERS.items():
        client = app.test_client()
        login(client, username)
        token = _token(client, "/")
        for row in MATRIX:
            for key in targets(row):
                path = path_for(row, key)
                expected = role in row.allowed and (key is None or key in READS[role])
                response = request(client, row, path, token)
                checked += 1
                status = response.status_code
                label = f"{role} {row.method} {path} ({key or 'no scope'})"
                if status >= 500:
                    failures.append(f"{label}: {status}")
                    continue
                if expected:
                    ok = status == 200 or (row.method == "POST" and status == 422)
                    if not ok:
                        failures.append(f"{label}: {status}, expected allowed")
                        continue
                elif status not in (403, 404):
                    failures.append(f"{label}: {status}, expected refused (403/404)")
                    continue
                if not row.data_page:
                    if expected and response.mimetype != "application/pdf":
                        failures.append(f"{label}: {response.mimetype}, expected a PDF")
                    continue
                body = response.get_data(as_text=True)
                leaked = {k for k, number in numbers.items() if number in body} - READS[role]
                if leaked:
                    failures.append(f"{label}: shows {sorted(leaked)} outside the role's scope")
                if expected and key is not None and numbers[key] not in body:
                    failures.append(f"{label}: allowed but the case {numbers[key]} is not shown")
    assert not failures, f"{len(failures)} of {checked} checks failed:\n" + "\n".join(failures)
    # The matrix is complete: 8 actors (signed out included) × every row × every target.
    assert checked == 8 * sum(len(targets(row)) for row in MATRIX)
    # Nothing was acknowledged by the refused or empty posts.
    with app.app_context():
        for key in ("x01", "t02"):
            assert db.session.get(Task, world[key]["escalation"]).state == "ready"


# -- the web and the API give the same answer ------------------------------------------------------------------

@dataclass(frozen=True)
class Action:
    """One thing a person asks for, through the pages and through the API."""

    name: str
    web: str  # path template, GET
    api: str  # path template under /api/v1
    allowed: frozenset[str]
    scoped: bool = False  # then also only for targets in READS[role]
    api_method: str = "GET"


# Written out from the domain spec like MATRIX. The dossier is the whole case file: intake points record
# reports and read what they recorded, but the dossier is for those who handle or inspect the case by unit.
ACTIONS = [
    Action("inbox", "/", "/tasks", frozenset(ALL_ROLES)),
    Action("read case", "/cases/{case}", "/cases/{case}", frozenset(ALL_ROLES), scoped=True),
    Action("read step", "/tasks/{task}", "/tasks/{task}", frozenset(ALL_ROLES), scoped=True),
    Action("dossier", "/cases/{case}/dossier.pdf", "/cases/{case}/dossier.pdf", frozenset(DOSSIER_ROLES),
           scoped=True),
    Action("overdue list", "/supervisor/overdue.csv", "/overdue", frozenset({"supervisor"})),
    Action("statistics", "/statistics", "/statistics",
           frozenset({"officer", "chairman", "supervisor", "inspector"})),
    Action("record a report", "/reports/new", "/reports", frozenset({"intake", "officer"}), api_method="POST"),
]


def _answer(status: int) -> str:
    return {200: "allowed", 201: "allowed", 403: "forbidden", 404: "not found"}.get(status, f"status {status}")


def test_web_and_api_agree(app, login, case_engine):
    """Each actor × action through both adapters: the same answer (allowed, forbidden or not found), and the
    one the spec expects. A role refused outright is 403 on both; a case outside the scope is 404 on both."""
    from tests.security.kit import api_token, bearer

    world = _world(app, case_engine)
    report = {"commune": "T01-X01", "report": demo.sample("mau_01", clock.now())}
    failures: list[str] = []
    checked = 0
    for role, username in USERS.items():
        client = app.test_client()
        login(client, username)
        headers = bearer(api_token(app, username))
        for action in ACTIONS:
            for key in (["x01", "x02", "t02"] if action.scoped else [None]):
                values = {"case": world[key]["case"], "task": world[key]["task"]} if key else {}
                web = client.get(action.web.format(**values), follow_redirects=True)
                api_path = "/api/v1" + action.api.format(**values)
                api = (client.post(api_path, json=report, headers=headers) if action.api_method == "POST"
                       else client.get(api_path, headers=headers))
                checked += 1
                expected = "allowed" if role in action.allowed and (key is None or key in READS[role]) else None
                answers = (_answer(web.status_code), _answer(api.status_code))
                label = f"{role} {action.name} ({key or 'no scope'}): web {answers[0]}, API {answers[1]}"
                if answers[0] != answers[1]:
                    failures.append(f"{label}: the adapters disagree")
                elif expected == "allowed" and answers[0] != "allowed":
                    failures.append(f"{label}: expected allowed")
                elif expected is None and answers[0] not in ("forbidden", "not found"):
                    failures.append(f"{label}: expected refused")
    assert not failures, f"{len(failures)} of {checked} checks failed:\n" + "\n".join(failures)
    assert checked == len(USERS) * sum(3 if a.scoped else 1 for a in ACTIONS)
