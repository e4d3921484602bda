"""POST /reports with the issue 16 fields of Mẫu 01: incident and residence communes, the commune's receipt
time, the personal identification number, ethnicity and perpetrator relationships; refusals are 422 JSON with
Vietnamese field messages and open nothing. Both databases."""

from __future__ import annotations

from datetime import timedelta

from engine import clock
from engine.models import Case, OrgUnit, Task
from tests.api.apikit import assert_error
from web import demo


def _body(commune: str | None = "T01-X01", **override) -> dict:
    body: dict = {"report": demo.sample("mau_01", clock.now(), **override)}
    if commune is not None:
        body["commune"] = commune
    return body


def test_report_with_both_communes_and_both_receipts(client, auth, world):
    now = clock.now()
    intake, commune_receipt = now - timedelta(hours=3), now - timedelta(hours=4)
    child = {"full_name": "Lò Thị Mai", "date_of_birth": "2016-05-04", "sex": "female",
             "personal_id": "011316001234", "ethnicity": "03"}
    body = _body(None, incident_commune="T01-X01", residence_commune="T01-X02", child=child,
                 received_at=intake.isoformat(), commune_received_at=commune_receipt.isoformat(),
                 perpetrator_relationships=["cha_me_ke", "hang_xom"])
    response = client.post("/api/v1/reports", json=body, headers=auth("tiepnhan"))
    assert response.status_code == 201, response.get_json()
    row = world.get(Case, response.get_json()["id"])
    x01, x02 = world.get(OrgUnit, row.incident_commune_id), world.get(OrgUnit, row.residence_commune_id)
    assert (x01.code, x02.code, row.commune_id) == ("T01-X01", "T01-X02", x01.id)
    assert row.received_at == commune_receipt  # the earlier of the two
    assert (row.intake_received_at, row.commune_received_at) == (intake, commune_receipt)
    assert row.child_ethnicity == "03" and row.perpetrator_relationships == ["cha_me_ke", "hang_xom"]
    detail = client.get(f"/api/v1/cases/{row.id}", headers=auth("canbo")).get_json()
    assert detail["number"].startswith("T01-X01-")


def test_bad_identification_number_and_communes_are_refused_with_field_messages(client, auth, world):
    child = {"full_name": "Lò Văn Nam", "date_of_birth": "2016-05-04", "sex": "male"}
    cases = [
        ({"child": {**child, "personal_id": "0113160012"}}, ("child", "personal_id"),
         "Số định danh cá nhân gồm đúng 12 chữ số."),
        ({"child": {**child, "personal_id": "999216001234"}}, ("child", "personal_id"),
         "Ba chữ số đầu của số định danh cá nhân phải là mã tỉnh"),
        ({"child": {**child, "personal_id": "011216001234", "sex": "female"}}, ("child", "personal_id"),
         "không khớp với giới tính"),
        ({"child": {**child, "personal_id": "011015001234"}}, ("child", "personal_id"),
         "không khớp với ngày sinh"),
        ({"child": {**child, "ethnicity": "99"}}, ("child", "ethnicity"), "Lựa chọn không hợp lệ"),
        ({"perpetrator_relationships": ["ke_la"]}, ("perpetrator_relationships",), "Lựa chọn không hợp lệ"),
        ({"residence_commune": "T99-X99"}, ("residence_commune",), "Không có xã, phường với mã này"),
        ({"incident_commune": "T01-X02"}, ("incident_commune",), "nơi xảy ra vụ việc"),
        ({"commune_received_at": (clock.now() + timedelta(days=2)).isoformat()}, ("commune_received_at",),
         "không được ở tương lai"),
    ]
    for override, path, message in cases:
        body = assert_error(client.post("/api/v1/reports", json=_body(**override), headers=auth("tiepnhan")),
                            422, "validation_error")
        errors = body["errors"]["report"]
        for key in path:
            errors = errors[key]
        assert message in errors[0], (override, errors)
    english = client.post("/api/v1/reports", json=_body(residence_commune="T99-X99"),
                          headers=auth("tiepnhan", **{"Accept-Language": "en"}))
    assert assert_error(english, 422)["errors"]["report"]["residence_commune"][0].startswith("No commune")
    missing = assert_error(client.post("/api/v1/reports", json=_body(None), headers=auth("tiepnhan")), 422)
    assert "xã/phường nơi xảy ra vụ việc" in missing["errors"]["commune"][0]
    assert world.count(Case) == 0 and world.count(Task) == 0


def test_openapi_document_lists_the_new_fields(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    mau_01 = spec["components"]["schemas"]["Mau01"]["properties"]
    assert {"incident_commune", "residence_commune", "commune_received_at", "perpetrator_relationships"} <= set(mau_01)
    child = mau_01["child"]
    child = child.get("properties") or spec["components"]["schemas"][child["$ref"].split("/")[-1]]["properties"]
    assert "[0-9]{12}" in child["personal_id"]["pattern"]
    codes = [option["const"] for option in child["ethnicity"]["oneOf"] if option.get("const")]
    assert codes[:3] == ["01", "02", "03"] and len(codes) == 55  # the 54 groups and foreign nationals
    create = spec["components"]["schemas"]["ReportCreate"]
    assert "commune" not in create.get("required", [])


def test_statistics_by_ethnicity_and_relationship(client, auth):
    now = clock.now()
    for index, (name, ethnicity, relationships) in enumerate((("Lò Văn Pá", "03", ["cha_me", "hang_xom"]),
                                                               ("Giàng Thị Mỷ", "08", ["cha_me_ke"]),
                                                               ("Nguyễn Văn Bình", None, []))):
        at = now - timedelta(hours=index + 1)
        body = _body(child={"full_name": name, "estimated_age": 9, "sex": "male", "ethnicity": ethnicity},
                     received_at=at.isoformat(), perpetrator_relationships=relationships)
        assert client.post("/api/v1/reports", json=body, headers=auth("tiepnhan")).status_code == 201
    today = clock.local(now).date()
    args = {"from": (today - timedelta(days=2)).isoformat(), "to": today.isoformat()}
    response = client.get("/api/v1/statistics", query_string=args, headers=auth("giamsat"))
    assert response.status_code == 200, response.get_json()
    got = response.get_json()["children"]
    assert [(c["key"], c["count"]) for c in got["by_ethnicity"]] == [("03", 1), ("08", 1), ("unknown", 1)]
    assert {c["key"]: c["count"] for c in got["by_relationship"] if c["count"]} == {
        "cha_me": 1, "hang_xom": 1, "cha_me_ke": 1, "unknown": 1}


def test_case_detail_shows_both_communes_and_receipts(client, auth):
    now = clock.now()
    body = _body(residence_commune="T01-X02", received_at=(now - timedelta(hours=1)).isoformat(),
                 commune_received_at=(now - timedelta(hours=2)).isoformat())
    created = client.post("/api/v1/reports", json=body, headers=auth("tiepnhan")).get_json()
    detail = client.get(f"/api/v1/cases/{created['id']}", headers=auth("canbo")).get_json()
    assert (detail["incident_commune"], detail["residence_commune"], detail["commune"]) == (
        "T01-X01", "T01-X02", "T01-X01")
    assert detail["received_at"] == detail["commune_received_at"] < detail["intake_received_at"]
