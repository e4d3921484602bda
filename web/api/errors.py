"""JSON errors for everything under /api: {"code": str, "message": str, "errors": {field: [messages]}}.

Handlers are registered on the API blueprints only (the web UI keeps its HTML error pages). Requests
under /api that match no route, or match a route with another method, fail during routing, before any
blueprint is known: an app-level `before_request` answers those, since Flask runs it before raising the
routing error.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

import forms
from engine.errors import EngineError, FieldErrors
from web.api.common import ApiError, _, locale

log = logging.getLogger(__name__)

API_ROOT = "/api/"
HANDLED = (400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 428, 429, 500)


def _status_text(status: int) -> tuple[str, str]:
    """(code, localized message) for a bare HTTP error."""
    texts = {
        400: ("bad_request", _("Yêu cầu không hợp lệ.")),
        401: ("unauthorized", _("Cần mã truy cập API hợp lệ (Authorization: Bearer …).")),
        403: ("forbidden", _("Bạn không có quyền thực hiện thao tác này.")),
        404: ("not_found", _("Không tìm thấy.")),
        405: ("method_not_allowed", _("Phương thức HTTP này không được hỗ trợ ở địa chỉ này.")),
        409: ("conflict", _("Xung đột dữ liệu; không có thay đổi nào được lưu.")),
        412: ("precondition_failed", _("Điều kiện của yêu cầu không thoả mãn.")),
        413: ("payload_too_large", _("Nội dung gửi lên quá lớn.")),
        415: ("unsupported_media_type", _("Nội dung phải là JSON (Content-Type: application/json).")),
        422: ("validation_error", _("Dữ liệu không hợp lệ; không có thay đổi nào được lưu.")),
        428: ("precondition_required", _("Thiếu điều kiện bắt buộc của yêu cầu.")),
        429: ("too_many_requests", _("Quá nhiều yêu cầu; hãy thử lại sau.")),
    }
    return texts.get(status, ("internal_error", _("Lỗi hệ thống; không có thay đổi nào được lưu.")))


def _marshmallow_messages() -> list[tuple[re.Pattern[str], str]]:
    """marshmallow/webargs's English messages, in the API's language (built per request: it is localized)."""
    pairs = [
        (r"Missing data for required field\.", _("Trường này là bắt buộc.")),
        (r"Field may not be null\.", _("Trường này không được để trống.")),
        (r"Unknown field\.", _("Trường này không được phép.")),
        (r"Not a valid integer\.", _("Phải là số nguyên.")),
        (r"Not a valid string\.", _("Phải là văn bản.")),
        (r"Not a valid boolean\.", _("Phải là true hoặc false.")),
        (r"Not a valid mapping type\.", _("Phải là một đối tượng JSON.")),
        (r"Invalid input type\.", _("Kiểu dữ liệu không hợp lệ.")),
        (r"Invalid JSON body\.", _("Nội dung JSON không hợp lệ.")),
        (r"Length must be between (\d+) and (\d+)\.", _("Độ dài phải từ %(a)s đến %(b)s ký tự.", a=r"\1", b=r"\2")),
        (r"Longer than maximum length (\d+)\.", _("Tối đa %(a)s ký tự.", a=r"\1")),
        (r"Shorter than minimum length (\d+)\.", _("Tối thiểu %(a)s ký tự.", a=r"\1")),
        (r"Must be greater than or equal to (-?\d+) and less than or equal to (-?\d+)\.",
         _("Phải từ %(a)s đến %(b)s.", a=r"\1", b=r"\2")),
        (r"Must be greater than or equal to (-?\d+)\.", _("Phải lớn hơn hoặc bằng %(a)s.", a=r"\1")),
        (r"Must be less than or equal to (-?\d+)\.", _("Phải nhỏ hơn hoặc bằng %(a)s.", a=r"\1")),
        (r"Must be one of: (.*)\.", _("Phải là một trong: %(a)s.", a=r"\1")),
    ]
    return [(re.compile(f"^{pattern}$"), replacement) for pattern, replacement in pairs]


def _translate(tree: Any, table: list[tuple[re.Pattern[str], str]]) -> Any:
    if isinstance(tree, dict):
        return {str(k): _translate(v, table) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return [_translate(v, table) for v in tree]
    if isinstance(tree, str):
        for pattern, replacement in table:
            if pattern.match(tree):
                return pattern.sub(replacement, tree)
    return tree


def field_errors(messages: Any) -> dict[str, Any]:
    """webargs's {location: {field: [...]}} as {field: [...]} (a header keeps its header name)."""
    if not isinstance(messages, dict):
        return {"_schema": _translate(messages if isinstance(messages, list) else [str(messages)],
                                      _marshmallow_messages())}
    merged: dict[str, Any] = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            merged.update(errors)
        else:
            merged[str(location)] = errors
    return _translate(merged, _marshmallow_messages())


def payload(status: int, code: str, message: str, errors: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    response = jsonify({"code": code, "message": message, "errors": errors or {}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def from_http(error: HTTPException) -> Response:
    """An HTTP error (routing, webargs, abort) as the API's JSON error body; also used by web/errors.py."""
    status = error.code or 500
    code, message = _status_text(status)
    errors: dict[str, Any] = {}
    headers: dict[str, str] = {}
    data = getattr(error, "data", None) or {}
    if "messages" in data:  # webargs: the request failed its schema
        errors = field_errors(data["messages"])
        if status == 400:  # webargs reports unparseable JSON as 400 with {"json": [...]}
            code = "bad_request"
    if data.get("headers"):
        headers.update(data["headers"])
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return payload(status, code, message, errors, headers)


def _handle(error: Exception) -> Response:
    if isinstance(error, ApiError):
        return payload(error.status, error.code, error.message, error.errors, error.headers)
    if isinstance(error, forms.FormError):
        return payload(422, "validation_error", _status_text(422)[1], error.errors)
    if isinstance(error, FieldErrors):  # refused field by field: say which field, as for a form
        return payload(error.status, error.code, error.message(locale()),
                       {name: [text] for name, text in error.by_field(locale()).items()})
    if isinstance(error, EngineError):
        return payload(error.status, error.code, error.message(locale()))
    if isinstance(error, InternalServerError):
        original = error.original_exception
        if original is not None and not isinstance(original, HTTPException):
            log.exception("API error", exc_info=original)
        return payload(500, *_status_text(500))
    if isinstance(error, HTTPException):
        return from_http(error)
    log.exception("API error", exc_info=error)
    return payload(500, *_status_text(500))


def register_handlers(bp: Blueprint) -> None:
    """Blueprint handlers by status code too: Flask prefers an app-level handler for a code over a
    blueprint's handler for a class, and other parts of the app may register HTML pages per code."""
    for status in HANDLED:
        bp.register_error_handler(status, _handle)
    for kind in (ApiError, EngineError, forms.FormError, HTTPException, Exception):
        bp.register_error_handler(kind, _handle)


def init_app(app: Flask) -> None:
    @app.before_request
    def _api_routing_errors() -> Response | None:
        error = request.routing_exception
        if error is None or not request.path.startswith(API_ROOT):
            return None
        if isinstance(error, HTTPException) and (error.code or 0) >= 400:
            return from_http(error)
        return None
