"""/account/tokens: the signed-in user makes and revokes their API tokens; an administrator may revoke anyone's.

A new token is shown once, on the page answering the POST (never through a redirect: the flash message
would carry it in the session cookie), with `Cache-Control: no-store`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from engine import access, clock
from engine.models import ApiToken, User
from web.api import tokens
from web.extensions import db

bp = Blueprint("api_tokens", __name__, url_prefix="/account")
NAME_MAX = 100


def _expiry_choices() -> list[tuple[int, str]]:
    return [(days, _("%(n)s ngày", n=days) if days else _("Không hết hạn")) for days in tokens.EXPIRY_DAYS]


def _status_label(status: str) -> str:
    return {"active": _("Đang dùng"), "expired": _("Đã hết hạn"), "revoked": _("Đã thu hồi")}[status]


def _rows(query: Any) -> list[dict[str, Any]]:
    now = clock.now()
    out = []
    for row, username in db.session.execute(query).all():
        status = tokens.status(row, now)
        out.append({"row": row, "username": username, "status": status, "status_label": _status_label(status)})
    return out


def _render(new_token: str | None = None, errors: dict[str, str] | None = None, form: dict[str, Any] | None = None,
            status: int = 200) -> Response:
    mine = _rows(select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
                 .where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc()))
    others = []
    if access.can_administer(current_user.actor):
        others = [r for r in _rows(select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
                                   .where(ApiToken.user_id != current_user.id, ApiToken.revoked_at.is_(None))
                                   .order_by(User.username, ApiToken.id)) if r["status"] == "active"]
    body = render_template("api/tokens.html", mine=mine, others=others, new_token=new_token, errors=errors or {},
                           form=form or {"name": "", "days": 90}, expiry_choices=_expiry_choices(),
                           max_active=tokens.MAX_ACTIVE)
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/tokens", methods=["GET"])
@login_required
def index() -> Response:
    return _render()


@bp.route("/tokens", methods=["POST"])
@login_required
def create() -> Response:
    name = " ".join((request.form.get("name") or "").split())
    raw_days = request.form.get("days", "")
    form = {"name": name, "days": raw_days}
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Hãy đặt tên cho mã truy cập (ví dụ: Tổng đài 111 — máy chủ tích hợp).")
    elif len(name) > NAME_MAX:
        errors["name"] = _("Tên tối đa %(n)s ký tự.", n=NAME_MAX)
    elif any(ord(ch) < 32 or ord(ch) == 127 for ch in name):  # a NUL would reach PostgreSQL, which refuses it
        errors["name"] = _("Có ký tự không được phép (ký tự điều khiển).")
    days = int(raw_days) if raw_days.isdigit() else -1
    if days not in tokens.EXPIRY_DAYS:
        errors["days"] = _("Hãy chọn một thời hạn trong danh sách.")
    if not errors and tokens.active_count(db.session, current_user.id) >= tokens.MAX_ACTIVE:
        errors["name"] = _("Bạn đã có %(n)s mã đang dùng; hãy thu hồi mã không cần nữa trước.", n=tokens.MAX_ACTIVE)
    if errors:
        return _render(errors=errors, form=form, status=400)
    user = db.session.get(User, current_user.id)
    issued = tokens.issue(db.session, user, name, days, current_user.username)
    return _render(new_token=issued.token, form={"name": "", "days": 90}, status=201)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int) -> Response:
    row = db.session.get(ApiToken, token_id) if token_id <= 2**31 - 1 else None
    if row is None or (row.user_id != current_user.id and not access.can_administer(current_user.actor)):
        abort(404)  # someone else's token: the same answer as no token
    tokens.revoke(db.session, row, current_user.username)
    flash(_("Đã thu hồi mã %(p)s…; mọi yêu cầu dùng mã này từ nay bị từ chối.", p=row.prefix), "info")
    return redirect(url_for("api_tokens.index"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
