"""Error pages: every refusal the browser gets is a page of the app, in the user's language, never a bare
Werkzeug page in English or a traceback. The API under /api answers in JSON (web/api/errors.py) instead."""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from flask import render_template as render
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from web.api.errors import API_ROOT, from_http
from web.observability import request_id

log = logging.getLogger(__name__)


def message_for(error: HTTPException) -> str:
    """What happened and what to do, in words: the error's own description when the app wrote one."""
    if isinstance(error, CSRFError):
        return _("Trang này đã mở quá lâu hoặc phiên làm việc đã hết hạn, nên biểu mẫu không được gửi đi "
                 "(không có gì được lưu). Hãy tải lại trang rồi gửi lại.")
    messages = {
        400: _("Yêu cầu không hợp lệ; không có gì được lưu."),
        403: _("Bạn không có quyền xem hoặc thực hiện việc này."),
        404: _("Không tìm thấy trang hoặc hồ sơ này, hoặc nó nằm ngoài phạm vi của bạn."),
        405: _("Trang này không nhận yêu cầu kiểu này."),
        413: _("Tệp hoặc dữ liệu gửi lên quá lớn."),
        429: _("Có quá nhiều yêu cầu; hãy thử lại sau ít phút."),
        500: _("Đã có lỗi trong hệ thống; không có gì được lưu. Hãy thử lại; nếu vẫn lỗi, báo cho quản trị viên "
               "kèm mã lỗi bên dưới."),
    }
    default = messages.get(error.code or 500) or messages[500 if (error.code or 500) >= 500 else 400]
    own = error.description if error.description != type(error).description else None
    return own if own and error.code != 500 else default


def page(error: HTTPException) -> tuple[str, int] | Response:
    status = error.code or 500
    if request.path.startswith(API_ROOT):  # reached only for errors outside the API's own blueprints
        return from_http(error)
    message = message_for(error)
    try:
        return render("error.html", message=message, status=status, request_id=request_id()), status
    except Exception:  # noqa: BLE001 - the page itself failed (say, the database is down): plain words then
        log.exception("error page failed")
        code = request_id()
        return Response(message + (f"\nMã lỗi: {code}" if code else ""), status=status, mimetype="text/plain")


def init_app(app: Flask) -> None:
    # Unhandled exceptions reach here as InternalServerError (outside tests, which let them propagate).
    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int] | Response:
        if isinstance(error, InternalServerError) and error.original_exception is not None:
            log.error("unhandled error", exc_info=error.original_exception)
        return page(error)
