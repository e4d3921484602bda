"""The OpenAPI document at its stable URL and the local documentation page drawn from it."""

from __future__ import annotations

import re

import pytest

from web import create_app

METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def client(tmp_path, case_engine):
    """The document and its page read no table: an app on an empty SQLite file is enough (once, not per database)."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
                      "CASE56_ENGINE": case_engine, "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789"})
    return app.test_client()


def test_openapi_document_describes_every_operation_auth_and_errors(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0" and spec["info"]["title"] == "case56 API"
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "Mã truy cập cá nhân / personal API token (/account/tokens)"}
    operations = {(method.upper(), path) for path, item in spec["paths"].items()
                  for method in item if method in METHODS}
    assert operations == {
        ("POST", "/api/v1/reports"), ("GET", "/api/v1/tasks"), ("GET", "/api/v1/tasks/{task_id}"),
        ("PUT", "/api/v1/tasks/{task_id}/draft"), ("POST", "/api/v1/tasks/{task_id}/complete"),
        ("GET", "/api/v1/cases/{case_id}"), ("GET", "/api/v1/cases/{case_id}/dossier.pdf"),
        ("GET", "/api/v1/overdue"), ("GET", "/api/v1/stranded"), ("GET", "/api/v1/statistics"),
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/cases/{case_id}/assignees"), ("POST", "/api/v1/tasks/{task_id}/reassign"),
        ("GET", "/api/v1/tasks/{task_id}/holders"), ("POST", "/api/v1/tasks/{task_id}/claim"),
        ("POST", "/api/v1/tasks/{task_id}/release"), ("POST", "/api/v1/tasks/{task_id}/assign"),
        ("POST", "/api/v1/tasks/{task_id}/remind"),
        ("GET", "/api/v1/cases/{case_id}/providers"),
        ("GET", "/api/v1/national-db/pending"), ("GET", "/api/v1/cases/{case_id}/national-db"),
        ("GET", "/api/v1/cases/{case_id}/national-db/{task_id}/export"),
        ("POST", "/api/v1/cases/{case_id}/national-db/{task_id}/entry"),
        ("GET", "/api/v1/cases"), ("POST", "/api/v1/reports/candidates"),
        ("POST", "/api/v1/cases/{case_id}/releases"), ("DELETE", "/api/v1/cases/{case_id}/releases"),
        ("POST", "/api/v1/cases/{case_id}/separation-requests"), ("POST", "/api/v1/cases/{case_id}/plan-adjustments"),
    }
    error = spec["components"]["schemas"]["Error"]
    assert set(error["properties"]) == set(error["required"]) == {"code", "message", "errors"}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            assert op["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}, (method, path)
    # The report body is Mẫu 01's own JSON Schema (forms.json_schema), not a loose object.
    mau01 = spec["components"]["schemas"]["Mau01"]
    assert mau01["x-form"] == "mau_01" and "received_at" in mau01["required"] and "$id" not in mau01
    report = spec["paths"]["/api/v1/reports"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in report["parameters"])
    assert set(report["responses"]) >= {"200", "201", "403", "409", "422", "default"}
    complete = spec["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]
    assert any(p["name"] == "If-Match" for p in complete["parameters"])
    assert set(spec["paths"]["/api/v1/tasks"]["get"]["responses"]["200"]["headers"]) == \
        {"X-Total", "X-Total-Exact", "X-Page", "X-Per-Page", "Link"}


def test_documentation_page_is_local_and_lists_operations_and_schemas(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for text in ("POST", "/api/v1/reports", "/api/v1/tasks/{task_id}/complete", "Idempotency-Key", "If-Match",
                 "Mau01", "TaskDetail", "/api/v1/openapi.json", "Authorization: Bearer"):
        assert text in page, text
    # Nothing from elsewhere: every stylesheet, script and image is served by the app itself.
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert url.startswith(("/", "#")), url
    assert "<script" not in page and "style=" not in page
