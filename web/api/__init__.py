"""The case56 JSON API under /api/v1 (flask-smorest): report intake, tasks, cases, oversight.

- Authentication: `Authorization: Bearer <token>` with a personal token made on /account/tokens. No
  cookies: the API blueprints are exempt from CSRF, so they never act on a browser session.
- Permissions and audit: the engine's (engine.access, engine.casefile.open_file, engine.audit), exactly
  as the web pages use them.
- Errors: always JSON {"code", "message", "errors"} (web/api/errors.py), never an HTML page.
- The OpenAPI 3.1 document is /api/v1/openapi.json; /api/v1/docs renders it as a local HTML page.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, current_app, g, request
from flask_smorest import Api

import forms
from forms.kit import fields
from web.api import account, assignees, cases, docs, errors, me, national_db, reports, statistics, tasks
from web.api.common import ApiError, _
from web.api.schemas import ErrorSchema
from web.api.tokens import authenticate
from web.extensions import csrf, db

PREFIX = "/api/v1"
TEXT_HEADERS = ("Idempotency-Key", "If-Match")  # request headers the API reads as text
BLUEPRINTS = (reports.bp, tasks.bp, cases.bp, assignees.bp, statistics.bp, me.bp, national_db.bp)
DESCRIPTION = """\
API của case56: tiếp nhận báo cáo (Mẫu 01) từ Tổng đài 111, công an và hệ thống khác; việc cần làm;
hồ sơ và dòng thời gian; danh sách quá hạn; hồ sơ PDF; thống kê. Quyền và nhật ký như giao diện web.

The case56 API: report intake (Form 01) from the 111 hotline, police and other systems; tasks; case
files with their timeline; overdue steps; the dossier PDF; statistics. Same permissions and audit trail as
the web UI.

- Authentication: `Authorization: Bearer <token>` (personal token from /account/tokens).
- Language: `Accept-Language: vi` (default) or `en`.
- Errors: `{"code": "...", "message": "...", "errors": {"field": ["..."]}}` for every 4xx/5xx.
- `POST /reports` takes an `Idempotency-Key`: a retry returns the first case (200) and never opens another.
- `POST /tasks/{id}/complete` takes `If-Match: <case version>`: a stale version is refused (409), nothing saved.
- A plan's activities (Mẫu 04) name accounts from `GET /cases/{id}/assignees`; `POST /tasks/{id}/reassign`
  (also with `If-Match`) gives an open activity to another of them.
- Times are ISO 8601 in Asia/Ho_Chi_Minh (+07:00).
"""


class CaseApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """flask-smorest would turn every HTTP error of the whole app into JSON; the web UI keeps its
        pages, and the API blueprints get their own handlers (web/api/errors.py)."""

    def _openapi_json(self) -> Any:
        """The document with this installation's unit codes and the server's own checks (web/api/docs.py)."""
        return current_app.response_class(json.dumps(docs.document(self), indent=2, ensure_ascii=False),
                                          mimetype="application/json")


def _before_api_request() -> None:
    # Form data arrives as JSON here: typed exactly as the published JSON Schema says ("crime_suspected": 0
    # is no boolean, "" no date); reset when the request ends.
    g.json_input = fields.set_json_input(True)
    authenticate(db.session)
    if request.method in ("POST", "PUT", "PATCH") and not request.is_json:
        raise ApiError(415, "unsupported_media_type", _("Nội dung phải là JSON (Content-Type: application/json)."))
    # Query parameters are codes, dates, numbers, step keys and one-line texts: refused here, as in any one-line
    # form field, are control, format and other hidden characters (a NUL would even reach the database, which
    # PostgreSQL refuses) — the pattern the OpenAPI document declares for them (web/api/docs.py).
    bad = sorted({name for name, value in [*request.args.items(multi=True),
                                           *((h, request.headers.get(h, "")) for h in TEXT_HEADERS)]
                  if any(fields.refused_in_line(ch) for ch in name + value)})
    if bad:
        raise ApiError(422, "validation_error", _("Dữ liệu không hợp lệ; không có thay đổi nào được lưu."),
                       {name: [_("Có ký tự không được phép (ký tự điều khiển).")] for name in bad})


def _form_component(name: str) -> dict[str, Any]:
    schema = forms.json_schema(name)
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id")}


def _after_api_request(_error: BaseException | None) -> None:
    token = g.pop("json_input", None)
    if token is not None:
        fields.reset_json_input(token)


# The blueprints are module-level and may be registered on several apps (tests): hook them once, here.
for _bp in BLUEPRINTS:
    _bp.before_request(_before_api_request)
    _bp.teardown_request(_after_api_request)
    errors.register_handlers(_bp)


def init_app(app: Flask) -> CaseApi:
    app.config.setdefault("API_TITLE", "case56 API")
    app.config.setdefault("API_VERSION", "1.0")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": DESCRIPTION},
        "security": [{"bearerAuth": []}],
    })
    api = CaseApi(app)
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer",
        "description": "Mã truy cập cá nhân / personal API token (/account/tokens)",
    })
    api.spec.components.schema("Mau01", _form_component("mau_01"))
    api.spec.components.schema("SeparationRequest", _form_component("separation_request"))

    for bp in BLUEPRINTS:
        api.register_blueprint(bp, url_prefix=PREFIX)
        csrf.exempt(bp)
    errors.init_app(app)
    docs.init_app(app)
    account.init_app(app)
    app.extensions["case56_api"] = api
    return api
