"""SQL injection attempts in every query-string filter and search box (web and API) and in form fields, and
bodies larger than MAX_CONTENT_LENGTH: refused with 4xx, nothing outside the caller's scope shown, nothing
written but the audit rows those requests always write."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.models import Case, Task
from tests.api.apikit import assert_error
from tests.security import kit
from tests.web.casework_kit import case_of, client_for, flatten, open_case, ready_task, token
from web import demo
from web.extensions import db

INJECTIONS = ["' OR 1=1 --", "1; DROP TABLE task", "x' UNION SELECT username, password_hash FROM user_account --",
              "%' OR '1'='1", "\x00' OR 1=1"]
HASHES = re.compile(r"(pbkdf2|scrypt):[a-z0-9]+[:$]")
# Web pages with a filter or search form: who uses it, the page, its query parameters.
WEB_FILTERS = [
    ("canbo", "/", ["step", "commune", "overdue", "page"]),
    ("canbo", "/cases", ["status", "number", "commune", "page"]),
    ("giamsat", "/supervisor", ["commune", "step", "window", "page"]),
    ("giamsat", "/supervisor/overdue.csv", ["commune", "step", "window", "page"]),
    ("thanhtra", "/inspector", ["status", "commune", "category", "number", "from", "to", "page"]),
    ("canbo", "/statistics", ["period", "from", "to", "province", "commune"]),
    ("giamsat", "/statistics/export.csv", ["period", "from", "to", "province", "commune"]),
]
API_FILTERS = [
    ("canbo", "/api/v1/tasks", ["step", "commune", "overdue", "page", "per_page"]),
    ("giamsat", "/api/v1/overdue", ["step", "commune", "due_within_hours", "page", "per_page"]),
    ("giamsat", "/api/v1/statistics", ["period", "from", "to", "province", "commune"]),
]
# Audit rows that these requests write whatever their input: exports and step views are audited reads, and the
# case list's search box (/cases?number=, the one search field of issue 17, b601f36) is an audited child search.
EXPECTED_AUDIT = {"statistics_export", "overdue_export", "case_step", "case_search"}


def _world(app) -> dict[str, str]:
    """Cases of X01, X02 and another province; returns their numbers by key."""
    kit.seed_other_province(app)
    ids = {"x01": open_case(app, hours_ago=30), "x02": open_case(app, commune="T01-X02", hours_ago=30)}
    with app.app_context():
        t02 = app.extensions["case56_engine"].open_case(
            db.session, demo.cast(db.session).actors["tiepnhan_t02"], "T02-X01",
            demo.sample("mau_01", clock.now()))
        ids["t02"] = t02.id
        db.session.remove()
    return {key: case_of(app, case_id).number for key, case_id in ids.items()}


# Which cases each person may see.
SCOPE = {"canbo": {"x01"}, "thanhtra": {"x01", "x02"}, "giamsat": {"x01", "x02"}}


def test_injection_in_filters_and_search_boxes_changes_nothing_and_shows_nothing_more(app):
    numbers = _world(app)
    clients = {who: client_for(app, who) for who in SCOPE}
    tokens = {who: kit.bearer(kit.api_token(app, who)) for who in SCOPE}
    before_counts, audit_from = kit.counts(app), kit.last_audit_id(app)
    before = kit.snapshot(app, skip=frozenset({"audit", "audit_head", "api_token"}))
    tried = 0
    for who, path, params in WEB_FILTERS + API_FILTERS:
        api = path.startswith("/api/")
        for param in params:
            for value in INJECTIONS:
                response = clients[who].get(path, query_string={param: value},
                                            headers=tokens[who] if api else None)
                tried += 1
                assert response.status_code < 500, (who, path, param, value, response.status_code)
                if api and response.status_code >= 400:
                    assert_error(response, response.status_code)
                text = response.get_data(as_text=True)
                outside = {key for key, number in numbers.items() if number in text} - SCOPE[who]
                assert not outside, (who, path, param, value, outside)
                assert not HASHES.search(text), (who, path, param, value)
    assert tried == sum(len(p) for _w, _p, p in WEB_FILTERS + API_FILTERS) * len(INJECTIONS)
    # Nothing was deleted, dropped or changed; the only new rows are the audited exports.
    assert kit.counts(app) | {"audit": 0} == before_counts | {"audit": 0}
    assert kit.changed(before, kit.snapshot(app, skip=frozenset({"audit", "audit_head", "api_token"}))) == []
    assert {action for _actor, action in kit.audit_actions(app, audit_from)} <= EXPECTED_AUDIT


def test_injection_in_form_fields_is_refused_or_kept_as_text(app, fast_dummy_hash):
    numbers = _world(app)
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    before_counts, audit_from = kit.counts(app), kit.last_audit_id(app)
    # Log-in: the attempts fail like any wrong password; nobody is signed in.
    for value in INJECTIONS:
        client = app.test_client()
        response = client.post("/login", data={"username": value, "password": value,
                                               "csrf_token": token(client.get("/login").get_data(as_text=True))})
        assert response.status_code in (400, 401), value  # 400: a NUL is refused before the log-in is tried
        assert client.get("/").status_code == 302
    officer = client_for(app, "canbo")
    page = officer.get(f"/tasks/{task_id}").get_data(as_text=True)
    names = sorted(set(re.findall(r'name="([a-z][a-z_.0-9]*)"', page)) - {"csrf_token"})
    version = str(case_of(app, case_id).version)
    for value in INJECTIONS:
        # The step form, every field (invalid: has_basis must be yes or no) — refused, nothing saved.
        step = officer.post(f"/tasks/{task_id}", data={**{n: value for n in names}, "_action": "complete",
                                                       "_version": version, "csrf_token": token(page)})
        assert step.status_code in (400, 422), (value, step.status_code)
        # A report for a commune that is not one: refused, no case.
        report = officer.post("/reports/new", data={**flatten(demo.sample("mau_01", clock.now())),
                                                    "_commune": value, "csrf_token": token(page)})
        assert report.status_code in (400, 422), (value, report.status_code)
        # A transfer to a commune that is not one: refused, the case stays.
        transfer = officer.post(f"/cases/{case_id}/transfer", data={"to_commune": value, "reason": value,
                                                                    "_version": version, "csrf_token": token(page)})
        assert transfer.status_code in (400, 422), (value, transfer.status_code)
    for response in (officer.get(f"/cases?number={numbers['x02'][:8]}' OR 1=1 --"),
                     officer.get("/cases?number=%25")):  # "%" is a character to look for, not a wildcard
        assert numbers["x02"] not in response.get_data(as_text=True)
    auth = kit.bearer(kit.api_token(app, "tiepnhan"))
    for value in INJECTIONS:
        response = officer.post("/api/v1/reports", json={"commune": value, "report": demo.sample("mau_01",
                                                                                                 clock.now())},
                                headers={**auth, "Idempotency-Key": f"k-{INJECTIONS.index(value)}"})
        assert response.status_code in (400, 403, 404, 422), (value, response.status_code)
    assert kit.counts(app) | {"audit": 0} == before_counts | {"audit": 0}
    with app.app_context():
        assert db.session.get(Task, task_id).state == "ready"
        assert db.session.get(Case, case_id).version == int(version)
        db.session.remove()
    # Besides the audited reads: the officer's own log-in and the intake point's API token.
    assert {action for _a, action in kit.audit_actions(app, audit_from)} <= EXPECTED_AUDIT | {"login",
                                                                                              "api_token_created"}


# -- oversized bodies -----------------------------------------------------------------------------------------

def test_bodies_over_the_limit_are_refused_with_413_and_nothing_saved(app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 20 * 1024 * 1024  # the configured default (CASE56_MAX_UPLOAD_MB)
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    officer = client_for(app, "canbo")
    page = officer.get(f"/tasks/{task_id}").get_data(as_text=True)
    auth = kit.bearer(kit.api_token(app, "canbo"))
    assert officer.get("/api/v1/me", headers=auth).status_code == 200  # the token's first use is recorded now
    before = kit.snapshot(app)
    huge = "x" * (limit + 1)
    data: dict[str, Any] = {**flatten(demo.sample("verification", clock.now())), "findings": huge,
                            "_action": "complete", "_version": str(case_of(app, case_id).version),
                            "csrf_token": token(page)}
    for path in (f"/tasks/{task_id}", "/reports/new"):
        response = officer.post(path, data=data)
        assert response.status_code == 413 and response.mimetype == "text/html", (path, response.status_code)
        assert "quá lớn" in response.get_data(as_text=True), path
    for method, path, body in (("post", "/api/v1/reports",
                                {"commune": "T01-X01", "report": {**demo.sample("mau_01", clock.now()),
                                                                  "place": huge}}),
                               ("post", f"/api/v1/tasks/{task_id}/complete", {"data": {"findings": huge}})):
        response = getattr(officer, method)(path, json=body, headers={**auth, "Idempotency-Key": "big",
                                                                       "If-Match": '"1"'})
        assert_error(response, 413, "payload_too_large")
    assert kit.changed(before, kit.snapshot(app)) == []
    with app.app_context():
        assert db.session.scalar(select(Task.state).where(Task.id == task_id)) == "ready"
        db.session.remove()


def test_a_control_character_in_an_api_query_is_a_field_error(app):
    """A NUL in a query parameter once reached PostgreSQL (a 500); a control character is no part of any code,
    date or step key: refused as JSON, naming the parameter, in the caller's language."""
    client, auth = app.test_client(), kit.bearer(kit.api_token(app, "giamsat"))
    for path in ("/api/v1/tasks?commune=T01%00", "/api/v1/statistics?province=%00"):
        response = client.get(path, headers=auth)
        assert response.status_code in (400, 422), path  # 400 where NUL is refused for the whole app
        assert_error(response, response.status_code)
    for path, name in (("/api/v1/tasks?commune=T01%01", "commune"), ("/api/v1/overdue?step=%1b", "step"),
                       ("/api/v1/statistics?province=T01%0A", "province")):
        body = assert_error(client.get(path, headers=auth), 422, "validation_error")
        assert body["errors"] == {name: ["Có ký tự không được phép (ký tự điều khiển)."]}, path
    english = assert_error(client.get("/api/v1/tasks?step=%07", headers={**auth, "Accept-Language": "en"}), 422)
    assert english["errors"] == {"step": ["Contains a character that is not allowed (a control character)."]}
    assert client.get("/api/v1/tasks?step=verify", headers=auth).status_code == 200
