"""Finding a child through the API (issue 17): GET /cases with `q` (name without diacritics, personal ID, phone,
case number), the child on task and case lists only for roles that may see it, possible duplicates of a new report
(POST /reports/candidates) and the explicit link (POST /reports with same_child_of). Both databases."""

from __future__ import annotations

from engine import clock
from engine.models import AuditEntry, Case
from tests.api.apikit import assert_error
from web import demo

NHUNG = {"full_name": "Nguyễn Thị Hồng Nhung", "date_of_birth": "2016-05-04", "sex": "female",
         "personal_id": "001316012345", "father": {"name": "Nguyễn Văn Đức"}}


def _report(commune: str = "T01-X01", **override) -> dict:
    return {"commune": commune, "report": demo.sample("mau_01", clock.now(), **override)}


def _open(client, auth, **override) -> dict:
    response = client.post("/api/v1/reports", json=_report(**override), headers=auth("tiepnhan"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_search_and_child_on_lists(client, auth, world):
    nhung = _open(client, auth, child=NHUNG)
    other = _open(client, auth, child={"full_name": "Trần Văn Hùng", "estimated_age": 9, "sex": "male"},
                  informant={"consent": False})
    listed = client.get("/api/v1/cases", headers=auth("canbo"))
    assert listed.status_code == 200 and listed.headers["X-Total"] == "2"
    by_id = {c["id"]: c for c in listed.get_json()}
    assert by_id[nhung["id"]]["child"]["name"] == "Nguyễn Thị Hồng Nhung"
    assert by_id[other["id"]]["child"] == {"name": "Trần Văn Hùng", "age": 9, "age_estimated": True}
    for q in ("nhung", "NHUNG", "hong nhung", "001316012345", "+84 912 345 678", nhung["number"]):
        found = client.get("/api/v1/cases", query_string={"q": q}, headers=auth("canbo")).get_json()
        assert [c["id"] for c in found] == [nhung["id"]], q
    assert client.get("/api/v1/cases?q=xyzq", headers=auth("canbo")).get_json() == []
    assert client.get("/api/v1/cases?q=nhung", headers=auth("canbo2")).get_json() == []  # another commune
    short = assert_error(client.get("/api/v1/cases?q=a", headers=auth("canbo")), 422, "validation_error")
    assert "q" in short["errors"]
    assert_error(client.get("/api/v1/cases", headers=auth("truonghoc")), 403)
    searches = world.audit(AuditEntry.action == "case_search")
    assert {e.details["via"] for e in searches} == {"api"} and len(searches) == 8
    assert not any("nhung" in str(e.details).lower() for e in searches)
    tasks = client.get("/api/v1/tasks", headers=auth("canbo")).get_json()
    assert {t["child"]["name"] for t in tasks} == {"Nguyễn Thị Hồng Nhung", "Trần Văn Hùng"}
    assert client.get(tasks[0]["href"], headers=auth("canbo")).get_json()["child"] is not None


def test_candidates_and_explicit_link(client, auth, world):
    first = _open(client, auth, child=NHUNG)
    body = _report(child={**NHUNG, "full_name": "nguyen thi hong nhung", "personal_id": None,
                          "date_of_birth": "2015-11-30"})
    response = client.post("/api/v1/reports/candidates", json=body, headers=auth("tiepnhan"))
    assert response.status_code == 200, response.get_json()
    [candidate] = response.get_json()["candidates"]
    assert candidate["id"] == first["id"] and candidate["number"] == first["number"]
    assert candidate["matches"] == ["name", "birth", "parent", "commune"] and candidate["may_reopen"] is False
    assert world.count(Case) == 1  # nothing saved
    linked = client.post("/api/v1/reports", json={**body, "same_child_of": first["id"]}, headers=auth("tiepnhan"))
    assert linked.status_code == 201, linked.get_json()
    assert world.get(Case, first["id"]).child_key == world.get(Case, linked.get_json()["id"]).child_key
    stranger = _report(child={"full_name": "Lê Văn Khác", "estimated_age": 5, "sex": "male"})
    assert client.post("/api/v1/reports/candidates", json=stranger,
                       headers=auth("tiepnhan")).get_json() == {"candidates": []}
    refused = client.post("/api/v1/reports", json={**stranger, "same_child_of": first["id"]},
                          headers=auth("tiepnhan"))
    assert "same_child_of" in assert_error(refused, 422, "validation_error")["errors"]
    assert_error(client.post("/api/v1/reports/candidates", json=body, headers=auth("giamsat")), 403)
