"""/healthz, /readyz and /metrics as an operator's monitoring sees them: ready only when the database answers,
the schema is at head and a tick worker ran recently, with the reasons otherwise; monitoring endpoints answer
only configured addresses; request ids on error pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from engine import clock, monitoring
from engine.models import TickHeartbeat
from web import create_app
from web.extensions import db


def _beat(app, age: timedelta = timedelta(0)) -> None:
    with app.app_context():
        monitoring.beat(db.session, "node:1", 1, 0, 0)
        db.session.get(TickHeartbeat, "node:1").beat_at = clock.now() - age
        db.session.commit()
        db.session.remove()


def test_healthz_needs_no_database(app):
    assert app.test_client().get("/healthz").get_json() == {"status": "alive"}


def test_ready_when_database_schema_and_tick_are_fine(app):
    _beat(app)
    response = app.test_client().get("/readyz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "ready" and body["migrations"] == "head" and body["tick_age_seconds"] < 60
    assert "reasons" not in body


def test_not_ready_without_a_recent_tick(app):
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reasons"] == ["no tick worker has ever run: deadlines are not being fired"]
    _beat(app, timedelta(minutes=7))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reasons"] == ["no tick worker finished a batch for 7 min (limit 5 min)"]


def test_not_ready_when_a_migration_is_missing(app, db_url):
    _beat(app)
    with app.app_context():
        at = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        db.session.execute(text("UPDATE alembic_version SET version_num = '0007'"))
        db.session.commit()
        try:
            response = app.test_client().get("/readyz")
        finally:
            db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": at})
            db.session.commit()
            db.session.remove()
    assert response.status_code == 503
    assert "run `case56 db upgrade`" in response.get_json()["reasons"][0]


def test_not_ready_when_the_database_is_down(tmp_path, case_engine):
    app = create_app({"TESTING": True, "CASE56_ENGINE": case_engine,
                      "SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
                      "SECRET_KEY": "x" * 40})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == "error" and body["reasons"][0].startswith("database unreachable")
    assert app.test_client().get("/healthz").status_code == 200


def test_monitoring_endpoints_answer_only_configured_addresses(app):
    _beat(app)
    client = app.test_client()
    outside = {"REMOTE_ADDR": "198.51.100.7"}
    assert client.get("/readyz", environ_base=outside).status_code == 404
    assert client.get("/metrics", environ_base=outside).status_code == 404
    app.config["CASE56_MONITOR_ALLOW"] = "198.51.100.0/24"
    assert client.get("/readyz", environ_base=outside).status_code == 200
    assert client.get("/metrics", environ_base=outside).status_code == 200
    assert client.get("/healthz", environ_base=outside).status_code == 200  # liveness is public


def test_metrics_count_requests_and_report_business_gauges(app):
    _beat(app)
    client = app.test_client()
    client.get("/login")
    text_ = client.get("/metrics").get_data(as_text=True)
    assert 'case56_http_requests_total{endpoint="auth.login",method="GET",status="200"}' in text_
    assert 'case56_http_request_duration_seconds_bucket{endpoint="auth.login"' in text_
    for gauge in ("case56_overdue_steps 0.0", "case56_due_timer_backlog 0.0", "case56_timer_incidents 0.0",
                  "case56_stranded_cases 0.0", "case56_up 1.0"):
        assert gauge in text_


@pytest.fixture
def proxied_app(db_url, case_engine, tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url, "CASE56_ENGINE": case_engine,
                      "CASE56_PROXY_COUNT": 1, "SECRET_KEY": "x" * 40})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_error_page_shows_the_request_id_that_is_in_the_header(app):
    response = app.test_client().get("/no-such-page")
    assert response.status_code == 404
    rid = response.headers["X-Request-ID"]
    assert f"Mã lỗi: <code>{rid}</code>" in response.get_data(as_text=True)


def test_client_address_comes_from_the_trusted_proxy_only(proxied_app):
    from flask import request

    @proxied_app.route("/_who")
    def who() -> str:
        return request.remote_addr or ""

    client = proxied_app.test_client()
    # nginx appends the address it saw; whatever the client wrote before it is not believed.
    spoofed = {"X-Forwarded-For": "203.0.113.9, 198.51.100.20"}
    assert client.get("/_who", headers=spoofed, environ_base={"REMOTE_ADDR": "10.0.0.2"}).text == "198.51.100.20"
    # a proxy's own request id is kept when it looks like one; anything else is replaced
    assert client.get("/_who", headers={"X-Request-ID": "abc123def456"}).headers["X-Request-ID"] == "abc123def456"
    assert client.get("/_who", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"] != "<script>"


def test_without_configured_proxies_the_header_is_ignored(app):
    from flask import request

    @app.route("/_who")
    def who() -> str:
        return request.remote_addr or ""

    response = app.test_client().get("/_who", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.text == "127.0.0.1"
