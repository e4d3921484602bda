"""Script payloads in every text field of a case driven through the whole procedure, in a user's and a unit's
name, an attachment's description and file name, an API token's name and in search boxes: every page shows them
as text (escaped, never markup), and the dossier PDF prints them literally.

(The checked client of conftest.py also parses every page: no inline <script>, no on* attribute, no
javascript: URL, whatever the data.)
"""

from __future__ import annotations

import html
import io
import itertools
from typing import Any

import pypdf
from markupsafe import escape
from sqlalchemy import select

import forms
from engine import clock
from engine.models import OrgUnit, Task, User
from tests.web.casework_kit import client_for, open_case, token
from web import demo
from web.extensions import db

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(1)"
PAYLOADS = (SCRIPT, IMAGE, JS_URL)
MARKUP = (SCRIPT, IMAGE)  # the two that would be markup if printed raw
# Names of people, units and providers the engine routes by (issue 16: Mẫu 01's incident and residence communes,
# a plan activity's provider from the registry).
NOT_TEXT = {"assignee", "to_commune", "commune_code", "incident_commune", "residence_commune", "provider"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def _set(data: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A copy of `data` with `value` at `path` (dict keys and list indexes)."""
    head, *rest = path
    if isinstance(data, list):
        copy: Any = list(data)
    else:
        copy = dict(data or {})
    if rest:
        inner = copy[head] if (isinstance(copy, list) or head in copy) else ({} if isinstance(rest[0], str) else [])
        copy[head] = _set(inner, tuple(rest), value)
    else:
        copy[head] = value
    return copy


def _text_paths(fields: list[dict[str, Any]], data: dict[str, Any], prefix: tuple = ()) -> list[tuple]:
    """Paths of every string and text field of a form (inside groups and list rows too)."""
    out: list[tuple] = []
    for field in fields:
        name = field["name"]
        if field.get("computed") or name in NOT_TEXT:
            continue
        if field["type"] in ("string", "text"):
            out.append((*prefix, name))
        elif field["type"] == "object":
            out += _text_paths(field["fields"], (data or {}).get(name) or {}, (*prefix, name))
        elif field["type"] == "list" and field.get("fields"):
            for index, row in enumerate((data or {}).get(name) or []):
                out += _text_paths(field["fields"], row, (*prefix, name, index))
    return out


def with_payloads(form: str, data: dict[str, Any], payloads: itertools.cycle) -> tuple[dict[str, Any], int]:
    """`data` with a payload in every text field the form accepts one in (a field with a format of its own — a
    phone number, a decision number — keeps its valid value). Returns the data and how many fields took one."""
    placed = 0
    for path in _text_paths(forms.describe(form)["fields"], data):
        trial = _set(data, path, next(payloads))
        try:
            forms.validate(form, trial)
        except forms.FormError:
            continue
        data, placed = trial, placed + 1
    return data, placed


CHOICES: dict[str, Any] = {
    "verification": [{"has_basis": False, "reason_no_basis": "x"}, {"has_basis": True}],
    "no_basis_signoff": {"confirm": False, "note": "x"},
    "mau_02": {"emergency": True, "danger_description": "x"},
}


def _drive_with_payloads(app) -> tuple[int, dict[str, int]]:
    """A case opened in X01 with payloads in its report, then every step completed with payloads in every
    text field, down to the end of the plan. Returns the case id and the fields filled per form."""
    payloads = itertools.cycle(PAYLOADS)
    placed: dict[str, int] = {}
    used: dict[str, int] = {}
    with app.app_context():
        engine = app.extensions["case56_engine"]
        people = demo.cast(db.session)
        report, placed["mau_01"] = with_payloads("mau_01", demo.sample("mau_01", clock.now(), crime_suspected=True),
                                                 payloads)
        case = engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01", report)
        for _ in range(60):
            tasks = [t for t in demo.open_tasks(db.session, case.id) if t.escalates_task_id is None]
            if not tasks:
                break
            task = tasks[0]
            choice = CHOICES.get(task.form, {})
            if isinstance(choice, list):
                choice = choice[min(used.get(task.form, 0), len(choice) - 1)]
            used[task.form] = used.get(task.form, 0) + 1
            data, count = with_payloads(task.form, demo.sample(task.form, clock.now(), **choice), payloads)
            placed[task.form] = placed.get(task.form, 0) + count
            engine.complete_task(db.session, people.for_task(task), task.id, data)
        case_id, status = case.id, case.status
        db.session.remove()
    assert status == "closed", status
    return case_id, placed


def _check(page: str, where: str, expect: tuple[str, ...] = ()) -> None:
    """No payload as markup; the ones expected here shown as text (escaped in the HTML)."""
    for payload in MARKUP:
        assert payload not in page, f"{where}: raw {payload!r}"
    shown = html.unescape(page)
    for payload in expect:
        assert payload in shown, f"{where}: {payload!r} not shown"
        if payload in MARKUP:
            assert str(escape(payload)) in page or html.escape(payload) in page, f"{where}: {payload!r} not escaped"


def test_payloads_are_text_on_every_page_and_in_the_dossier(app):
    admin = client_for(app, "quantri")
    csrf_value = token(admin.get("/admin/units").get_data(as_text=True))
    with app.app_context():
        x01 = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "T01-X01"))
        canbo = db.session.get(User, db.session.scalar(select(User.id).where(User.username == "canbo")))
        canbo_id, canbo_unit = canbo.id, canbo.org_unit_id
        db.session.remove()
    # A unit and a person named with payloads, through the administration pages.
    unit_name, person_name = f"Phường {SCRIPT}", f"Cán bộ {IMAGE}"
    assert admin.post(f"/admin/units/{x01}/rename", data={"name": unit_name, "csrf_token": csrf_value}
                      ).status_code == 303
    assert admin.post(f"/admin/users/{canbo_id}", data={
        "full_name": person_name, "role": "officer", "unit": str(canbo_unit), "locale": "vi", "active": "1",
        "csrf_token": csrf_value}).status_code == 303
    assert admin.post("/admin/calendar", data={"day": "02/01/2099", "working": "off", "note": f"Nghỉ {SCRIPT}",
                                               "csrf_token": csrf_value}).status_code == 303
    case_id, placed = _drive_with_payloads(app)
    # Every form of the procedure took payloads (a form with no free text would show 0).
    assert len(placed) >= 15 and sum(placed.values()) >= 60, placed
    assert all(placed[form] > 0 for form in ("mau_01", "verification", "mau_02", "mau_03", "mau_04", "mau_06")), placed
    waiting = open_case(app, hours_ago=13)  # an open, overdue case of the renamed commune for the work lists

    officer = client_for(app, "canbo")
    upload = officer.get(f"/cases/{case_id}/attachments/new").get_data(as_text=True)
    assert officer.post(f"/cases/{case_id}/attachments/new", data={
        # (no quote in the file name: the test client cannot encode one; a browser sends it as %22)
        "file": (io.BytesIO(PNG), "<img src=x onerror=alert(1)>.png"), "description": f"Ảnh {SCRIPT}",
        "csrf_token": token(upload)},
        content_type="multipart/form-data").status_code == 302
    created = officer.post("/account/tokens", data={"name": f"Máy {IMAGE}", "days": "30",
                                                    "csrf_token": token(upload)})
    assert created.status_code == 201
    _check(created.get_data(as_text=True), "token page", (IMAGE,))

    with app.app_context():
        task_ids = list(db.session.scalars(select(Task.id).where(Task.case_id == case_id, Task.form.is_not(None))
                                           .order_by(Task.id)))
        db.session.remove()
    pages: list[tuple[str, Any, str, tuple[str, ...]]] = [
        ("officer inbox", officer, "/", (SCRIPT,)),  # the commune's name
        ("officer case list", officer, "/cases", (SCRIPT,)),
        ("officer case page", officer, f"/cases/{case_id}", PAYLOADS),
        ("officer open case", officer, f"/cases/{waiting}", (SCRIPT, IMAGE)),
        ("case search echo", officer, f"/cases?number={SCRIPT}", (SCRIPT,)),
        ("statistics", officer, "/statistics", (SCRIPT,)),
        ("statistics bad period", officer, f"/statistics?period={IMAGE}", ()),
    ]
    # Step pages show the earlier forms with the same macros as the case page: a few of them suffice.
    pages += [(f"step {t}", officer, f"/tasks/{t}", ()) for t in task_ids[1::10]]
    supervisor, inspector = client_for(app, "giamsat"), client_for(app, "thanhtra")
    pages += [
        ("supervisor dashboard", supervisor, "/supervisor?window=168", (SCRIPT,)),
        ("supervisor case page", supervisor, f"/cases/{case_id}", PAYLOADS),
        ("supervisor bad filter", supervisor, f"/supervisor?step={SCRIPT}&commune={IMAGE}", ()),
        ("inspector search", inspector, "/inspector", (SCRIPT,)),
        ("inspector search echo", inspector, f"/inspector?number={IMAGE}&from={SCRIPT}", (IMAGE, SCRIPT)),
        ("inspector case file", inspector, f"/inspector/cases/{case_id}", PAYLOADS),
        ("admin users", admin, "/admin/users", (IMAGE, SCRIPT)),
        ("admin user", admin, f"/admin/users/{canbo_id}", (IMAGE,)),
        ("admin units", admin, "/admin/units", (SCRIPT,)),
        ("admin calendar", admin, "/admin/calendar", (SCRIPT,)),
        ("admin tokens", admin, "/account/tokens", (IMAGE,)),
    ]
    for where, client, path, expect in pages:
        response = client.get(path)
        assert response.status_code in (200, 400), (where, response.status_code)
        _check(response.get_data(as_text=True), where, expect)
    # The signed-in officer's own name and unit, in the header of every page they open.
    _check(officer.get("/").get_data(as_text=True), "header", (IMAGE, SCRIPT))

    # The dossier prints them as literal text; the build does not break on them.
    response = officer.get(f"/cases/{case_id}/dossier.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.data)).pages)
    squeezed = "".join(text.split())
    for payload in (*PAYLOADS, unit_name, person_name, f"Ảnh {SCRIPT}"):
        assert "".join(payload.split()) in squeezed, payload
    assert "&lt;" not in text and "&quot;" not in text  # literal, not escaped twice
    export = officer.get("/statistics/export.pdf")
    assert export.status_code == 200
    assert "".join(SCRIPT.split()) in "".join(
        "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(export.data)).pages).split())
