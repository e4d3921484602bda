"""Every failure under /api is JSON {"code", "message", "errors"}; the web UI keeps its own pages."""

from __future__ import annotations

import pytest

from engine import worklists
from tests.api.apikit import assert_error


def test_unknown_path_and_wrong_method_are_json(client, auth):
    assert_error(client.get("/api/v1/no-such-thing", headers=auth("canbo")), 404, "not_found")
    assert_error(client.get("/api/v1/tasks/abc"), 404, "not_found")  # no route: before authentication
    assert_error(client.delete("/api/v1/tasks/1", headers=auth("canbo")), 405, "method_not_allowed")
    response = client.get("/api/v1/reports", headers=auth("canbo"))
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]
    assert_error(client.post("/api/v1/openapi.json"), 405)


def test_body_errors_415_400_413_422(app, client, auth, world):
    case_id = world.open()
    task = world.open_task(case_id)
    headers = auth("canbo")
    assert_error(client.post(f"/api/v1/tasks/{task.id}/complete", data="data=1", headers=headers,
                             content_type="application/x-www-form-urlencoded"), 415, "unsupported_media_type")
    assert_error(client.put(f"/api/v1/tasks/{task.id}/draft", data="{not json", headers=headers,
                            content_type="application/json"), 400, "bad_request")
    body = assert_error(client.put(f"/api/v1/tasks/{task.id}/draft", json={"data": "text", "extra": 1},
                                   headers=headers), 422, "validation_error")
    assert body["errors"] == {"data": ["Phải là một đối tượng JSON."], "extra": ["Trường này không được phép."]}
    body = assert_error(client.get("/api/v1/tasks?per_page=500&page=0", headers=headers), 422, "validation_error")
    assert body["errors"] == {"per_page": ["Phải từ 1 đến 100."], "page": ["Phải từ 1 đến 100000."]}
    body = assert_error(client.get("/api/v1/tasks?comune=T01-X01", headers=headers), 422)  # a typo is not ignored
    assert body["errors"] == {"comune": ["Trường này không được phép."]}
    app.config["MAX_CONTENT_LENGTH"] = 2000
    try:
        assert_error(client.put(f"/api/v1/tasks/{task.id}/draft", json={"data": {"x": "y" * 5000}},
                                headers=headers), 413, "payload_too_large")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    assert world.get(type(task), task.id).draft_data is None


def test_unexpected_failure_is_a_json_500_without_details(client, auth, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("database exploded: secret detail")

    monkeypatch.setattr(worklists, "inbox", broken)
    body = assert_error(client.get("/api/v1/tasks", headers=auth("canbo")), 500, "internal_error")
    assert "secret" not in body["message"]


@pytest.mark.parametrize("language, expected", [("vi", "Không tìm thấy."), ("en", "Not found."),
                                                ("en-US,en;q=0.9", "Not found."), ("fr", "Không tìm thấy.")])
def test_messages_follow_accept_language(client, auth, language, expected):
    response = client.get("/api/v1/tasks/999999", headers=auth("canbo", **{"Accept-Language": language}))
    assert assert_error(response, 404)["message"] == expected


def test_token_owner_language_is_the_default(app, client, auth):
    from sqlalchemy import update

    from engine.models import User
    from web.extensions import db

    with app.app_context():
        db.session.execute(update(User).where(User.username == "canbo").values(locale="en"))
        db.session.commit()
    body = assert_error(client.get("/api/v1/overdue", headers=auth("canbo")), 403, "forbidden")
    assert body["message"] == "Only province supervisors can list overdue steps."


def test_web_pages_keep_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype != "application/json"
