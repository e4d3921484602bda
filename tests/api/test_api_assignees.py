"""The API's side of "assignees are real": the pick list of a case, the plan refused on a typed assignee, and
reassigning an open activity with If-Match — on both databases."""

from __future__ import annotations

from sqlalchemy import update

from engine import clock
from engine.models import AuditEntry, Case, Task, User
from tests.api.apikit import assert_error
from web import demo
from web.extensions import db

FREE_TEXT = "Trạm Y tế phường"


def test_assignable_accounts_of_a_case(client, auth, world):
    case_id = world.open()
    response = client.get(f"/api/v1/cases/{case_id}/assignees", headers=auth("canbo"))
    assert response.status_code == 200
    assert response.get_json() == [
        {"username": "yte", "full_name": "Trạm Y tế phường", "unit": "T01-X01",
         "unit_name": "Phường Phan Đình Phùng (demo)"},
        {"username": "ctxh", "full_name": "Trung tâm Công tác xã hội tỉnh (demo)", "unit": "T01",
         "unit_name": "Tỉnh Thái Nguyên (demo)"},
        {"username": "truonghoc", "full_name": "Trường THCS Phan Đình Phùng", "unit": "T01-X01",
         "unit_name": "Phường Phan Đình Phùng (demo)"}]
    assert client.get(f"/api/v1/cases/{case_id}/assignees", headers=auth("chutich")).status_code == 200
    assert_error(client.get(f"/api/v1/cases/{case_id}/assignees", headers=auth("giamsat")), 403, "forbidden")
    for username in ("canbo2", "truonghoc", "quantri"):
        assert_error(client.get(f"/api/v1/cases/{case_id}/assignees", headers=auth(username)), 404, "not_found")
    assert_error(client.get("/api/v1/cases/999999/assignees", headers=auth("canbo")), 404)


def test_plan_with_a_typed_assignee_is_a_field_error_and_nothing_is_saved(client, auth, world):
    case_id = world.open()
    world.drive(case_id, stop_at="draft_plan")
    task = world.open_task(case_id, "draft_plan")
    version = world.get(Case, case_id).version
    audits = len(world.audit(AuditEntry.case_id == case_id))
    plan = demo.sample("mau_04", clock.now())
    plan["activities"][1]["assignee"] = FREE_TEXT
    response = client.post(f"/api/v1/tasks/{task.id}/complete", json={"data": plan},
                           headers=auth("canbo", **{"If-Match": str(version)}))
    body = assert_error(response, 422, "validation_error")
    assert body["errors"] == {"activities": {"1": {"assignee": [
        "Không có tài khoản nào với tên này được giao việc ở xã/phường hoặc tỉnh của hồ sơ; "
        "hãy chọn trong danh sách."]}}}
    english = client.post(f"/api/v1/tasks/{task.id}/complete", json={"data": plan},
                          headers=auth("canbo", **{"Accept-Language": "en"}))
    assert assert_error(english, 422)["errors"]["activities"]["1"]["assignee"][0].startswith("No account with")
    assert world.get(Task, task.id).state == "ready" and world.get(Case, case_id).version == version
    assert len(world.audit(AuditEntry.case_id == case_id)) == audits


def test_reassign_with_if_match_moves_the_step(client, auth, world):
    case_id = world.open()
    world.drive(case_id, stop_at="carry_out_activity")
    health = next(t for t in client.get("/api/v1/tasks", headers=auth("yte")).get_json())
    etag = client.get(f"/api/v1/cases/{case_id}", headers=auth("canbo")).headers["ETag"]
    response = client.post(f"/api/v1/tasks/{health['id']}/reassign",
                           json={"assignee": "truonghoc", "reason": "Trạm y tế quá tải."},
                           headers=auth("canbo", **{"If-Match": etag}))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    case = world.get(Case, case_id)
    assert body["task"]["id"] == health["id"] and body["task"]["assignee"] == "truonghoc"
    assert body["case"] == {"id": case_id, "version": case.version, "status": "open"}
    assert response.headers["ETag"] == f'"{case.version}"' != etag
    assert client.get("/api/v1/tasks", headers=auth("yte")).get_json() == []
    assert health["id"] in {t["id"] for t in client.get("/api/v1/tasks", headers=auth("truonghoc")).get_json()}
    assert [e.details["to"] for e in world.audit(AuditEntry.action == "task_reassigned")] == ["truonghoc"]


def test_reassign_refusals_are_4xx_json_and_change_nothing(app, client, auth, world):
    case_id = world.open()
    world.drive(case_id, stop_at="carry_out_activity")
    school = next(t for t in client.get("/api/v1/tasks", headers=auth("truonghoc")).get_json())
    path = f"/api/v1/tasks/{school['id']}/reassign"
    version = world.get(Case, case_id).version
    good = {"assignee": "yte", "reason": "Lý do."}
    body = assert_error(client.post(path, json={**good, "assignee": FREE_TEXT}, headers=auth("canbo")), 422,
                        "validation_error")
    assert body["errors"] == {"assignee": [
        "Không có tài khoản nào với tên này được giao việc ở xã/phường hoặc tỉnh của hồ sơ; hãy chọn trong danh sách."]}
    assert set(assert_error(client.post(path, json={}, headers=auth("canbo")), 422)["errors"]) == {"assignee", "reason"}
    assert "reason" in assert_error(client.post(path, json={**good, "reason": "   "}, headers=auth("canbo")),
                                    422)["errors"]
    assert_error(client.post(path, json={**good, "extra": 1}, headers=auth("canbo")), 422)
    assert_error(client.post(path, json={**good, "assignee": 5}, headers=auth("canbo")), 422)
    assert_error(client.post(path, json=good, headers=auth("canbo", **{"If-Match": str(version - 1)})), 409, "conflict")
    assert_error(client.post(path, json=good, headers=auth("canbo", **{"If-Match": "abc"})), 400, "bad_request")
    assert_error(client.post(path, data="assignee=yte", headers=auth("canbo")), 415)
    assert_error(client.post(path, json=good, headers=auth("truonghoc")), 403, "forbidden")
    assert_error(client.post(path, json=good, headers=auth("giamsat")), 403, "forbidden")
    for username in ("canbo2", "yte", "quantri"):
        assert_error(client.post(path, json=good, headers=auth(username)), 404, "not_found")
    assert_error(client.post(f"/api/v1/tasks/{world.open_task(world.open()).id}/reassign", json=good,
                             headers=auth("canbo")), 409, "invalid_state")
    with app.app_context():
        db.session.execute(update(User).where(User.username == "ctxh").values(active=False))
        db.session.commit()
        db.session.remove()
    inactive = assert_error(client.post(path, json={**good, "assignee": "ctxh"}, headers=auth("canbo")), 422)
    assert inactive["errors"] == {
        "assignee": ["Tài khoản này đã ngừng hoạt động; hãy chọn tài khoản khác trong danh sách."]}
    assert world.get(Task, school["id"]).assignee == "truonghoc" and world.get(Case, case_id).version == version
    assert world.audit(AuditEntry.action == "task_reassigned") == []
