"""POST /reports: Mẫu 01 opens a case; permissions of the engine; the idempotency key."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from engine import clock
from engine.models import AuditEntry, Case, IdempotencyKey
from tests.api.apikit import assert_error
from web import demo


def _report(commune: str = "T01-X01", **override) -> dict:
    return {"commune": commune, "report": demo.sample("mau_01", clock.now(), **override)}


def test_intake_records_a_report_and_the_case_opens(client, auth, world):
    body = _report(child={"full_name": "Lý Thị Mai", "estimated_age": 8, "sex": "female"})
    response = client.post("/api/v1/reports", json=body, headers=auth("tiepnhan"))
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert case["number"].startswith("T01-X01-") and case["commune"] == "T01-X01"
    assert case["status"] == "open" and case["stage"] and case["version"] >= 1
    assert response.headers["Location"] == f"/api/v1/cases/{case['id']}" == case["href"]
    assert "Idempotent-Replayed" not in response.headers
    row = world.get(Case, case["id"])
    assert row.created_by == "tiepnhan" and row.child_sex == "female" and row.child_age == 8
    actions = [e.action for e in world.audit(AuditEntry.case_id == case["id"])]
    assert {"form_recorded", "case_opened", "task_opened"} <= set(actions)
    assert all(e.actor in ("tiepnhan", "system") for e in world.audit(AuditEntry.case_id == case["id"]))
    # The new case's first step is in the commune officer's inbox.
    tasks = client.get("/api/v1/tasks", headers=auth("canbo")).get_json()
    assert [t["case_id"] for t in tasks] == [case["id"]]


def test_invalid_report_gets_field_errors_and_opens_nothing(client, auth, world):
    report = _report()
    del report["report"]["received_at"]
    report["report"]["category"] = "khong_co"
    body = assert_error(client.post("/api/v1/reports", json=report, headers=auth("tiepnhan")), 422,
                        "validation_error")
    assert set(body["errors"]["report"]) >= {"received_at", "category"}
    assert body["errors"]["report"]["received_at"] == ["Trường này là bắt buộc."]
    body = assert_error(client.post("/api/v1/reports", json={"report": {}}, headers=auth("tiepnhan")), 422)
    assert body["errors"]["commune"] == ["Hãy chọn xã/phường nơi xảy ra vụ việc (commune hoặc "
                                         "report.incident_commune)."]
    body = assert_error(client.post("/api/v1/reports", json=_report("T99-X99"), headers=auth("tiepnhan")), 422)
    assert body["errors"] == {"commune": ["Không có xã/phường với mã này."]}
    english = client.post("/api/v1/reports", json=report, headers=auth("tiepnhan", **{"Accept-Language": "en"}))
    assert assert_error(english, 422)["errors"]["report"]["received_at"] == ["This field is required."]
    assert world.count(Case) == 0


def test_who_may_record_a_report_and_where(client, auth, world):
    # The commune officer records for their own commune only; chairmen, partners, supervisors,
    # inspectors and administrators never open cases (engine.access.can_open_case).
    assert client.post("/api/v1/reports", json=_report(), headers=auth("canbo")).status_code == 201
    assert_error(client.post("/api/v1/reports", json=_report("T01-X02"), headers=auth("canbo")), 403, "forbidden")
    assert client.post("/api/v1/reports", json=_report("T01-X02"), headers=auth("canbo2")).status_code == 201
    for username in ("chutich", "truonghoc", "giamsat", "thanhtra", "quantri"):
        assert_error(client.post("/api/v1/reports", json=_report(), headers=auth(username)), 403, "forbidden")
    assert world.count(Case) == 2


def test_retry_with_the_same_key_returns_the_first_case(client, auth, world):
    body = _report()
    headers = auth("tiepnhan", **{"Idempotency-Key": "111-call-2026-0001"})
    first = client.post("/api/v1/reports", json=body, headers=headers)
    assert first.status_code == 201
    for _ in range(2):
        again = client.post("/api/v1/reports", json=body, headers=headers)
        assert again.status_code == 200
        assert again.get_json() == first.get_json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["Location"] == first.headers["Location"]
    assert world.count(Case) == 1
    assert [e.action for e in world.audit(AuditEntry.action == "case_opened")] == ["case_opened"]
    assert world.count(IdempotencyKey, IdempotencyKey.case_id == first.get_json()["id"]) == 1


def test_same_key_with_another_body_is_refused_and_keys_are_per_user(client, auth, world):
    headers = auth("tiepnhan", **{"Idempotency-Key": "k-1"})
    first = client.post("/api/v1/reports", json=_report(), headers=headers)
    assert first.status_code == 201
    other = _report(child={"full_name": "Người Khác", "estimated_age": 5, "sex": "male"})
    body = assert_error(client.post("/api/v1/reports", json=other, headers=headers), 422, "idempotency_key_reused")
    assert "Idempotency-Key" in body["errors"]
    assert world.count(Case) == 1
    # Another user's identical key is another key.
    second = client.post("/api/v1/reports", json=_report(), headers=auth("canbo", **{"Idempotency-Key": "k-1"}))
    assert second.status_code == 201 and second.get_json()["id"] != first.get_json()["id"]
    assert world.count(Case) == 2


def test_a_refused_request_releases_its_key(client, auth, world):
    headers = auth("canbo", **{"Idempotency-Key": "retry-me"})
    assert_error(client.post("/api/v1/reports", json=_report("T01-X02"), headers=headers), 403)
    assert world.count(IdempotencyKey) == 0
    fixed = client.post("/api/v1/reports", json=_report("T01-X01"), headers=headers)
    assert fixed.status_code == 201
    assert world.count(IdempotencyKey, IdempotencyKey.case_id == fixed.get_json()["id"]) == 1


def test_an_abandoned_reservation_is_taken_over_after_it_goes_stale(app, client, auth, world):
    from sqlalchemy import select

    from engine.models import User
    from web.extensions import db

    with app.app_context():  # a process died after reserving the key and before opening anything
        user_id = db.session.scalar(select(User.id).where(User.username == "tiepnhan"))
        db.session.add(IdempotencyKey(user_id=user_id, key="orphan", request_hash="0" * 64, case_id=None,
                                      created_at=clock.now() - timedelta(minutes=10)))
        db.session.commit()
    response = client.post("/api/v1/reports", json=_report(), headers=auth("tiepnhan", **{"Idempotency-Key": "orphan"}))
    assert response.status_code == 201
    assert world.count(Case) == 1


def test_concurrent_retries_open_exactly_one_case(app, auth, world, case_engine, monkeypatch):
    """Two clients send the same report with the same key at once; opening is slowed down so the second
    surely arrives while the first holds the key: it waits and answers with the first case."""
    original = case_engine.open_case
    calls: list[float] = []

    def slow_open(*args, **kwargs):
        calls.append(time.monotonic())
        time.sleep(0.3)
        return original(*args, **kwargs)

    monkeypatch.setattr(case_engine, "open_case", slow_open)
    body = _report()
    headers = auth("tiepnhan", **{"Idempotency-Key": "concurrent-0001"})
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def send(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/reports", json=body, headers=headers)
        results[i] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(status for status, _body in results) == [200, 201], results
    assert results[0][1]["id"] == results[1][1]["id"]
    assert world.count(Case) == 1
    assert world.count(IdempotencyKey) == 1
    assert len(calls) == 1  # the engine was asked once: the other request never tried to open a case
