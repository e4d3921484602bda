"""GET /api/v1/stranded: the stranded cases (engine.liveness) for those who can move them, in their scope."""

from __future__ import annotations

from tests.api.apikit import assert_error
from tests.web.test_stranded import _strand_one


def test_api_lists_stranded_cases_for_those_who_can_move_them(app, case_engine, auth):
    number = _strand_one(app, case_engine)
    client = app.test_client()
    response = client.get("/api/v1/stranded", headers=auth("giamsat"))
    assert response.status_code == 200 and response.headers["X-Total"] == "1"
    [item] = response.get_json()
    assert item["case"]["number"] == number
    assert [p["code"] for p in item["problems"]] == ["unworkable_step"]
    assert item["problems"][0]["task_id"] and "đã bị khoá" in item["problems"][0]["message"]
    english = client.get("/api/v1/stranded", headers=auth("canbo", **{"Accept-Language": "en"})).get_json()
    assert "is deactivated" in english[0]["problems"][0]["message"]
    assert client.get("/api/v1/stranded", headers=auth("canbo2")).get_json() == []  # another commune
    assert_error(client.get("/api/v1/stranded", headers=auth("truonghoc")), 403, "forbidden")
    assert_error(client.get("/api/v1/stranded?pag=2", headers=auth("giamsat")), 422)
