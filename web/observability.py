"""What an operator sees of a running app: client addresses through the proxy, request ids, JSON logs.

- **Proxies**: `CASE56_PROXY_COUNT` trusted reverse proxies (0 by default). werkzeug's ProxyFix then takes the
  client address from the X-Forwarded-For entry that the *nearest* trusted proxy appended, so a value a client
  wrote into the header itself is never believed; with 0, the header is ignored.
- **Request id**: each request gets one (the trusted proxy's X-Request-ID when it looks like one, otherwise
  a new one); it is in every log line of the request, in the X-Request-ID response header and on the error
  page ("Mã lỗi"), so a user's report leads to the log line.
- **Logs**: one JSON object per line on stderr (`CASE56_LOG_FORMAT=json`, the default; `text` for people),
  with the time in UTC, level, logger, message, request id and the exception if any.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from werkzeug.middleware.proxy_fix import ProxyFix

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # a proxy's id is kept only if it is harmless in a log
_HANDLER_MARK = "_case56_handler"
request_log = logging.getLogger("case56.request")


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id()
        if rid:
            entry["request_id"] = rid
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", {})
        return line + ("".join(f" {k}={v}" for k, v in fields.items()) if fields else "")


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    """One handler on the root logger (idempotent: the CLI and the app factory may both call it)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    if fmt == "off":
        return
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(TextFormatter() if fmt == "text" else JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # SpiffWorkflow logs every task state change at INFO (dozens per step): only its warnings are news here.
    for noisy in ("spiff", "SpiffWorkflow"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("CASE56_PROXY_COUNT") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]

    @app.before_request
    def _start() -> None:
        offered = request.headers.get("X-Request-ID", "") if proxies > 0 else ""
        g.request_id = offered if REQUEST_ID.match(offered) else uuid.uuid4().hex[:16]
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
        started = g.get("request_started")
        if started is not None:
            request_log.info("%s %s %s", request.method, request.path, response.status_code, extra={"fields": {
                "method": request.method, "path": request.path, "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1), "client": request.remote_addr,
                "endpoint": request.endpoint}})
        return response
