"""Request guards and security headers.

- A JSON body is measured before anything parses it: nested deeper than CASE56_JSON_MAX_DEPTH it is refused
  with 400, larger than CASE56_JSON_MAX_BYTES with 413 (as any body over the upload limit), both with a JSON
  error body. This runs first of all request hooks, so
  no session, token or CSRF work is spent on it, and nothing recursive ever sees a deep body (Python's json and
  any walk over the result would hit RecursionError: a 500).
- A NUL character anywhere in the query, form or JSON body is refused (400).
- Every response carries a CSP without inline script, no framing, no sniffing; every one but a static file is
  `Cache-Control: no-store` unless its view chose otherwise.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, abort, current_app, jsonify, request
from flask_babel import gettext as _

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")

JSON_MAX_BYTES = 1024 * 1024  # the largest legal form is a few kB; a plan with 100 activities well under 1 MB
JSON_MAX_DEPTH = 32  # the deepest form nests four levels; room for clients that wrap, none for bombs

# A JSON string (escapes included) or one bracket: brackets inside strings do not count.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """True when `body`, read as JSON text, opens more than `limit` arrays/objects inside each other.
    A flat scan (no recursion, no parse): an unparseable body is left to the JSON parser to refuse."""
    depth = 0
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth = max(0, depth - 1)
    return False


_BAD = re.compile("[\x00\ud800-\udfff]")


def _has_nul(value: Any) -> bool:
    """A NUL, or half of a UTF-16 surrogate pair (JSON's "\\ud800" escape: no character, and no database can
    store it), anywhere in `value`. Iterative (an explicit stack): no body can exhaust the call stack."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _BAD.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _refusal(message: str, status: int = 400, code: str = "bad_request") -> Response:
    # The API's error shape ({"code", "message", "errors"}): whoever sends JSON reads JSON back.
    response = jsonify({"code": code, "message": message, "errors": {}})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _guard_json() -> Response | None:
    if not request.is_json:
        return None
    limit = current_app.config.get("CASE56_JSON_MAX_BYTES", JSON_MAX_BYTES)
    if request.content_length is not None and request.content_length > limit:
        return _refusal(_("Nội dung JSON quá lớn (tối đa %(n)s byte).", n=limit), 413, "payload_too_large")
    # No Content-Length (chunked): read at most one byte more than allowed, never the whole stream.
    body = request.get_data(cache=True) if request.content_length is not None else _read_capped(limit)
    if len(body) > limit:
        return _refusal(_("Nội dung JSON quá lớn (tối đa %(n)s byte).", n=limit), 413, "payload_too_large")
    depth = current_app.config.get("CASE56_JSON_MAX_DEPTH", JSON_MAX_DEPTH)
    if json_depth_exceeds(body, depth):
        return _refusal(_("Nội dung JSON lồng nhau quá sâu (tối đa %(n)s cấp).", n=depth))
    return None


def _read_capped(limit: int) -> bytes:
    chunks, size = [], 0
    while size <= limit:
        chunk = request.stream.read(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    body = b"".join(chunks)
    request._cached_data = body  # what get_data()/get_json() read from now on  # noqa: SLF001
    return body


def init_app(app: Flask) -> None:
    app.config.setdefault("CASE56_JSON_MAX_BYTES", JSON_MAX_BYTES)
    app.config.setdefault("CASE56_JSON_MAX_DEPTH", JSON_MAX_DEPTH)
    # First of all before-request hooks (CSRF, sign-in, API tokens come later): a hostile body costs nothing.
    app.before_request_funcs.setdefault(None, []).insert(0, _guard_json)

    @app.before_request
    def _refuse_nul() -> None:
        """A NUL character is never meaningful input, and PostgreSQL cannot store it: refuse the request
        here (400) rather than in every field, form and endpoint."""
        pairs = [*request.args.items(multi=True), *request.form.items(multi=True)]
        if any(_has_nul(k) or _has_nul(v) for k, v in pairs) or (
                request.is_json and _has_nul(request.get_json(silent=True))):
            abort(400, description=_("Dữ liệu gửi lên chứa ký tự không hợp lệ (NUL)."))

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        # Pages and API answers carry children's data: no browser or shared cache keeps them unless a view
        # said otherwise. Static files (no personal data) are cached by web/assets.py.
        if request.endpoint != "static" and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response
