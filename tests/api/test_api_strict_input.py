"""JSON input is typed as the published JSON Schema says (strict booleans, numbers, ISO dates, no "" for
"not given" but text), the web forms keep their lenient reading, and a new report received longer ago than
CASE56_RECEIPT_MAX_AGE_DAYS is refused with a Vietnamese message. Both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.models import Case
from tests.api.apikit import assert_error
from web import demo
from web.extensions import db


def _report(**override):
    return demo.sample("mau_01", clock.now(), **override)


def _cases(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Case))
        db.session.remove()
    return count


@pytest.mark.parametrize(("override", "field", "words"), [
    ({"crime_suspected": 0}, "crime_suspected", "Có hoặc Không"),
    ({"crime_suspected": "true"}, "crime_suspected", "Có hoặc Không"),
    ({"commune_received_at": ""}, "commune_received_at", "không hợp lệ"),
    ({"received_at": "05/12/2026 10:00"}, "received_at", "ISO 8601"),
    ({"received_at": "2026-12-05T10:00"}, "received_at", "múi giờ"),
    ({"abuse_forms": "xam_hai_tinh_duc"}, "abuse_forms", "danh sách"),
])
def test_json_values_must_have_their_json_type(app, auth, override, field, words):
    response = app.test_client().post("/api/v1/reports", headers=auth("tiepnhan"),
                                      json={"commune": "T01-X01", "report": _report(**override)})
    body = assert_error(response, 422, "validation_error")
    assert words in body["errors"]["report"][field][0], body
    assert _cases(app) == 0


def test_a_report_received_too_long_ago_is_refused(app, auth):
    client = app.test_client()
    old = clock.local(clock.now() - timedelta(days=5 * 365 + 2))
    response = client.post("/api/v1/reports", headers=auth("tiepnhan"), json={
        "commune": "T01-X01", "report": _report(received_at=old.isoformat(timespec="seconds"),
                                                report_date=old.date().isoformat())})
    body = assert_error(response, 422, "validation_error")
    message = body["errors"]["report"]["received_at"][0]
    assert message.startswith("Thời điểm tiếp nhận quá xa trong quá khứ (trước ") and "/" in message
    assert _cases(app) == 0
    # English on request; the bound is configurable.
    response = client.post("/api/v1/reports", headers=auth("tiepnhan", **{"Accept-Language": "en"}), json={
        "commune": "T01-X01", "report": _report(received_at=old.isoformat(timespec="seconds"),
                                                report_date=old.date().isoformat())})
    assert "too far in the past" in response.get_json()["errors"]["report"]["received_at"][0]
    engine = app.extensions["case56_engine"]
    saved = engine.receipt_max_age
    try:
        engine.receipt_max_age = timedelta(days=10 * 365)
        response = client.post("/api/v1/reports", headers=auth("tiepnhan"), json={
            "commune": "T01-X01", "report": _report(received_at=old.isoformat(timespec="seconds"),
                                                    report_date=old.date().isoformat())})
        assert response.status_code == 201, response.get_json()
    finally:
        engine.receipt_max_age = saved


def test_the_bound_comes_from_the_configuration(monkeypatch, tmp_path):
    from web import config

    monkeypatch.setenv("CASE56_RECEIPT_MAX_AGE_DAYS", "730")
    assert config.from_environment(tmp_path)["CASE56_RECEIPT_MAX_AGE_DAYS"] == 730


def test_well_typed_json_is_accepted(app, auth):
    response = app.test_client().post("/api/v1/reports", headers=auth("tiepnhan"),
                                      json={"commune": "T01-X01", "report": _report(crime_suspected=True)})
    assert response.status_code == 201, response.get_json()
