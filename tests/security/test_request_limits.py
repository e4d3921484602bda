"""Hostile JSON bodies: nested deep (400) or oversized (413), they are refused with a Vietnamese JSON message
before any recursion and before any authentication work (no token looked up, no user loaded, no SQL at all)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import event

import web.api
from tests.api.conftest import auth, token  # noqa: F401, F811  (fixtures, used by name)
from web.extensions import db, login_manager
from web.security import JSON_MAX_BYTES, JSON_MAX_DEPTH, json_depth_exceeds

JSON = {"Content-Type": "application/json"}
TARGETS = [("POST", "/api/v1/reports"), ("PUT", "/api/v1/tasks/1/draft"), ("POST", "/api/v1/tasks/1/complete"),
           ("GET", "/api/v1/me"), ("POST", "/login"), ("POST", "/logout")]


@pytest.fixture
def no_work(app, monkeypatch):
    """Fails the test if a refused request reaches token checks, the user loader or the database."""
    statements: list[str] = []

    def forbidden(*_args, **_kwargs):
        raise AssertionError("authentication work before the JSON guard")

    monkeypatch.setattr(web.api, "authenticate", forbidden)
    monkeypatch.setattr(login_manager, "_user_callback", forbidden)
    with app.app_context():
        engine = db.engine

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    yield statements
    event.remove(engine, "before_cursor_execute", count)


def _refused(response, words: str, status: int = 400, code: str = "bad_request") -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.is_json
    body = response.get_json()
    assert body["code"] == code and body["errors"] == {}
    assert words in body["message"]


@pytest.mark.parametrize("depth", [400, 10_000, 100_000])
def test_deeply_nested_json_is_refused_before_anything_else(app, no_work, depth):
    client = app.test_client()
    for opener, closer in ((b"[", b"]"), (b'{"a":', b"}")):
        body = opener * depth + b"1" + closer * depth
        for method, path in TARGETS:
            response = client.open(path, method=method, data=body, headers={**JSON, "Authorization": "Bearer x"})
            _refused(response, "lồng nhau quá sâu")
    assert no_work == []


def test_a_body_that_does_not_even_close_is_refused_too(app, no_work):
    response = app.test_client().post("/api/v1/reports", data=b"[" * 50_000, headers=JSON)
    _refused(response, "lồng nhau quá sâu")
    assert no_work == []


def test_oversized_json_is_refused_unread(app, no_work):
    client = app.test_client()
    body = b'{"notes": "' + b"a" * JSON_MAX_BYTES + b'"}'
    response = client.post("/api/v1/reports", data=body, headers=JSON)
    _refused(response, "quá lớn", 413, "payload_too_large")
    # Without a Content-Length (chunked): read up to the limit, then refused.
    response = client.post("/api/v1/reports", input_stream=io.BytesIO(body),
                           headers={**JSON, "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    _refused(response, "quá lớn", 413, "payload_too_large")
    assert no_work == []


def test_ordinary_json_still_reaches_the_api(app, auth):  # noqa: F811
    client = app.test_client()
    nested = {"child": {"full_name": "Nguyễn Văn A", "extra": [[[[["deep but allowed"]]]]]}}
    response = client.post("/api/v1/reports", json=nested, headers=auth("tiepnhan"))
    assert response.status_code == 422  # validated like any report, not refused as hostile
    # A bracket inside a string is text, not nesting.
    response = client.post("/api/v1/reports", json={"notes": "[" * 5000}, headers=auth("tiepnhan"))
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_error"


def test_the_depth_scan():
    assert json_depth_exceeds(b"[" * (JSON_MAX_DEPTH + 1), JSON_MAX_DEPTH)
    assert not json_depth_exceeds(b"[" * JSON_MAX_DEPTH + b"]" * JSON_MAX_DEPTH, JSON_MAX_DEPTH)
    assert not json_depth_exceeds(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 4)
    assert not json_depth_exceeds(b'["\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]', 4)
    assert json_depth_exceeds(b'[[[[["\\\\"]]]]]', 4)
