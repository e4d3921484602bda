"""GET /statistics: engine.statistics' report through the API, scoped by role and audited."""

from __future__ import annotations

from engine import clock
from engine.models import AuditEntry
from tests.api.apikit import assert_error


def _year() -> str:
    return f"{clock.local(clock.now()).year}-Y"


def test_figures_follow_the_callers_scope(client, auth, world):
    world.open()  # an abused child in T01-X01
    world.open(child={"full_name": "Trần Bé Hai", "estimated_age": 6, "sex": "female"})
    world.open("T01-X02")
    officer = client.get(f"/api/v1/statistics?period={_year()}", headers=auth("canbo"))
    assert officer.status_code == 200, officer.get_json()
    body = officer.get_json()
    assert body["period"]["id"] == _year() and body["scope"]["commune"]["code"] == "T01-X01"
    assert body["children"]["total"] == 2 and body["partial"] is True
    assert {row["commune_code"]: row["cases"] for row in body["communes"]} == {"T01-X01": 2}

    supervisor = client.get(f"/api/v1/statistics?period={_year()}", headers=auth("giamsat")).get_json()
    assert supervisor["scope"]["province"]["code"] == "T01" and supervisor["scope"]["commune"] is None
    assert supervisor["children"]["total"] == 3
    narrowed = client.get(f"/api/v1/statistics?period={_year()}&commune=T01-X02", headers=auth("giamsat")).get_json()
    assert narrowed["children"]["total"] == 1

    entries = world.audit(AuditEntry.action == "statistics_export")
    assert [(e.actor, e.details["channel"], e.details["commune"]) for e in entries] == [
        ("canbo", "api", "T01-X01"), ("giamsat", "api", None), ("giamsat", "api", "T01-X02")]


def test_statistics_refused_outside_scope_and_for_other_roles(client, auth, world):
    assert_error(client.get("/api/v1/statistics?commune=T01-X02", headers=auth("canbo")), 403, "forbidden")
    for username in ("tiepnhan", "truonghoc", "quantri"):
        assert_error(client.get("/api/v1/statistics", headers=auth(username)), 403, "forbidden")
    assert world.audit(AuditEntry.action == "statistics_export") == []


def test_statistics_bad_input_is_a_field_error(client, auth):
    headers = auth("giamsat")
    body = assert_error(client.get("/api/v1/statistics?period=2026-H9", headers=headers), 422, "validation_error")
    assert list(body["errors"]) == ["period"]
    body = assert_error(client.get("/api/v1/statistics?from=2026-06-01&to=2026-01-01", headers=headers), 422)
    assert list(body["errors"]) == ["to"]
    body = assert_error(client.get("/api/v1/statistics?province=T99", headers=headers), 422)
    assert list(body["errors"]) == ["province"]
    custom = client.get("/api/v1/statistics?from=2026-01-01&to=2026-03-31", headers=headers)
    assert custom.status_code == 200 and custom.get_json()["period"]["id"] == "2026-01-01..2026-03-31"
