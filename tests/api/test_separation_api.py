"""Issue 16 in the API: POST /api/v1/cases/{id}/separation-requests (Mẫu 07, Art. 32) and
POST /api/v1/cases/{id}/plan-adjustments (Art. 29.1a), on both databases."""

from __future__ import annotations

from engine import clock
from tests.web.casework_kit import open_case
from web import demo


def test_the_api_asks_for_a_separation_and_opens_an_adjustment(app, auth):
    case_id = open_case(app, stop_at="carry_out_activity")
    api = app.test_client()
    body = {"data": demo.sample("separation_request", clock.now())}
    bad = api.post(f"/api/v1/cases/{case_id}/separation-requests", json={"data": {**body["data"], "ground": "?"}},
                   headers=auth("canbo"))
    assert bad.status_code == 422 and "ground" in bad.get_json()["errors"]
    made = api.post(f"/api/v1/cases/{case_id}/separation-requests", json=body, headers=auth("canbo"))
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["task"]["step"] == "separation_request"
    assert api.post(f"/api/v1/cases/{case_id}/separation-requests", json=body,
                    headers=auth("chutich")).status_code == 409  # one separation at a time
    opened = api.post(f"/api/v1/cases/{case_id}/plan-adjustments", json={}, headers=auth("canbo"))
    assert opened.status_code == 201 and opened.get_json()["task"]["step"] == "propose_adjustment"
    assert api.post(f"/api/v1/cases/{case_id}/plan-adjustments", json={}, headers=auth("chutich")).status_code == 403
    assert api.post(f"/api/v1/cases/{case_id}/plan-adjustments", json={}, headers=auth("canbo2")).status_code == 404
