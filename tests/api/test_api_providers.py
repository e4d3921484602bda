"""The API's side of the provider registry (Decree 56 Art. 28.3.c): the providers a case's plan may mobilise, and a
plan naming another one refused with a field error, nothing saved — on both databases."""

from __future__ import annotations

from engine import clock
from engine.models import Case, Task
from tests.api.apikit import assert_error
from web import demo


def test_providers_of_a_case(client, auth, world):
    case_id = world.open()
    response = client.get(f"/api/v1/cases/{case_id}/providers", headers=auth("canbo"))
    assert response.status_code == 200
    body = response.get_json()
    assert [p["code"] for p in body] == ["T01-X01-DV-01", "T01-DV-02", "T01-DV-01", "T01-DV-03"]
    assert body[0] == {"code": "T01-X01-DV-01", "name": "Trạm Y tế phường Phan Đình Phùng (demo)",
                       "service_type": "medical", "service_type_label": "Y tế, chữa trị tổn hại thể chất và tinh thần",
                       "unit_name": "Phường Phan Đình Phùng (demo)"}
    english = client.get(f"/api/v1/cases/{case_id}/providers", headers=auth("canbo", **{"Accept-Language": "en"}))
    assert english.get_json()[0]["service_type_label"] == "Medical and mental health care"
    assert_error(client.get(f"/api/v1/cases/{case_id}/providers", headers=auth("giamsat")), 403, "forbidden")
    for username in ("canbo2", "truonghoc", "quantri"):
        assert_error(client.get(f"/api/v1/cases/{case_id}/providers", headers=auth(username)), 404, "not_found")
    assert_error(client.get("/api/v1/cases/999999/providers", headers=auth("canbo")), 404)
    assert "/cases/{case_id}/providers" in str(client.get("/api/v1/openapi.json").get_json()["paths"])


def test_plan_naming_an_unlisted_provider_is_a_field_error(client, auth, world):
    case_id = world.open()
    world.drive(case_id, stop_at="draft_plan")
    task = world.open_task(case_id, "draft_plan")
    version = world.get(Case, case_id).version
    plan = demo.sample("mau_04", clock.now())
    plan["activities"][1]["provider"] = "T09-DV-99"
    response = client.post(f"/api/v1/tasks/{task.id}/complete", json={"data": plan},
                           headers=auth("canbo", **{"If-Match": str(version)}))
    body = assert_error(response, 422, "validation_error")
    assert body["errors"] == {"activities": {"1": {"provider": [
        "Không có cơ sở cung cấp dịch vụ nào với mã này trong danh mục; hãy chọn trong danh sách."]}}}
    assert world.get(Task, task.id).state == "ready" and world.get(Case, case_id).version == version
    plan["activities"][1]["provider"] = "T01-DV-03"
    done = client.post(f"/api/v1/tasks/{task.id}/complete", json={"data": plan},
                       headers=auth("canbo", **{"If-Match": str(version)}))
    assert done.status_code == 200, done.get_json()
    stored = world.get(Task, task.id).form_data
    assert stored["activities"][1]["provider_name"] == "Trung tâm Trợ giúp pháp lý nhà nước tỉnh (demo)"
    assert stored["total_cost"] == 1_700_000
