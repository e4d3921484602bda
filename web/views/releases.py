"""Marking a free text releasable from the case page (engine.releases; issue 18).

Free texts are sensitive (forms/kit/sensitivity.py): withheld from roles without the right (the province
supervisor) and in redacted copies. Under each form on the case page the case's officer or chairman sees the
free texts they may mark, with a reason, and the marks already given, each with a button to take it back. Both
are POST forms with the CSRF token; engine.releases checks the permission again, audits and commits; a refusal
comes back as a message on the case page (field messages) or an error page (not found, forbidden), nothing saved.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import releases
from engine.errors import EngineError, FieldErrors, NotFound
from engine.models import Task
from web.extensions import db
from web.pages import int_arg, locale, refuse

bp = Blueprint("releases", __name__)


def _step(case_id: int) -> int:
    task_id = int_arg(request.form.get("task_id"))
    task = db.session.get(Task, task_id) if task_id is not None else None
    if task is None or task.case_id != case_id:
        raise NotFound("Không tìm thấy bước này.", "No such step.")
    return task.id


def _back(case_id: int, task_id: int | None = None) -> ResponseReturnValue:
    anchor = f"#step-{task_id}" if task_id else ""
    return redirect(url_for("cases.show", case_id=case_id) + anchor, code=303)


@bp.route("/cases/<int:case_id>/releases", methods=["POST"])
@login_required
def mark(case_id: int) -> ResponseReturnValue:
    try:
        task_id = _step(case_id)
        releases.mark(db.session, current_user.actor, task_id, request.form.get("field", ""),
                      request.form.get("reason"))
    except FieldErrors as exc:
        db.session.rollback()
        flash("; ".join(exc.by_field(locale()).values()), "error")
        return _back(case_id)
    except EngineError as exc:
        db.session.rollback()
        return refuse(exc)
    flash(_("Đã đánh dấu nội dung được phép cung cấp; việc này được ghi nhật ký."), "success")
    return _back(case_id, task_id)


@bp.route("/cases/<int:case_id>/releases/revoke", methods=["POST"])
@login_required
def revoke(case_id: int) -> ResponseReturnValue:
    try:
        task_id = _step(case_id)
        releases.unmark(db.session, current_user.actor, task_id, request.form.get("field", ""))
    except FieldErrors as exc:
        db.session.rollback()
        flash("; ".join(exc.by_field(locale()).values()), "error")
        return _back(case_id)
    except EngineError as exc:
        db.session.rollback()
        return refuse(exc)
    flash(_("Đã bỏ đánh dấu: nội dung lại được ẩn với người không có quyền."), "success")
    return _back(case_id, task_id)
