"""Helpers shared by the API tests."""

from __future__ import annotations

from typing import Any


def assert_error(response, status: int, code: str | None = None) -> dict[str, Any]:
    """The stable error shape, and nothing else, on every failure under /api."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/json", response.mimetype
    body = response.get_json()
    assert set(body) == {"code", "message", "errors"}, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body
