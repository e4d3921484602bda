"""Attachments: officers and chairmen attach evidence to a case or one of its steps; readers download it.

Accepted: PDF, PNG and JPEG, decided by content (see web.attachments), up to CASE56_ATTACHMENT_MAX_BYTES
(default: the request limit MAX_CONTENT_LENGTH). Every upload and every download is audited; a download is
refused (404) outside the reader's scope and refused (410) if the stored file no longer has its checksum.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from engine import access, audit, clock, restriction, retention
from engine.crypto import KeyMissing, Keyring
from engine.errors import EngineError, Forbidden, NotFound
from engine.models import Attachment, Case, Task
from web import attachments as storage
from web.extensions import db
from web.labels import step_title
from web.pages import int_arg, refuse

bp = Blueprint("attachments", __name__)
DEFAULT_MAX = 20 * 1024 * 1024


def max_bytes() -> int:
    config = current_app.config
    return int(config.get("CASE56_ATTACHMENT_MAX_BYTES") or config.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX)


def keyring() -> Keyring:
    return storage.keyring_of(current_app.config.get("CASE56_ATTACHMENT_KEYS"))


def _case_to_attach(case_id: int) -> Case:
    actor: access.Actor = current_user.actor
    case = db.session.get(Case, case_id)
    if case is None or not access.can_read_case(actor, case):
        raise NotFound("Không tìm thấy hồ sơ.", "No such case.")
    if not access.can_attach(actor, case):
        raise Forbidden("Chỉ cán bộ và Chủ tịch UBND xã quản lý hồ sơ mới được đính kèm tài liệu.",
                        "Only the commune's officer or chairman may attach documents.")
    restriction.ensure_unrestricted(db.session, case)
    return case


def _messages() -> dict[str, str]:
    return {
        "missing": _("Hãy chọn tệp cần đính kèm."),
        "empty": _("Tệp rỗng."),
        "too_large": _("Tệp quá lớn: tối đa %(mb)s MB.", mb=round(max_bytes() / 1024 / 1024, 1)),
        "type": _("Chỉ nhận tệp PDF, PNG hoặc JPEG (kiểm tra theo nội dung tệp, không theo tên tệp)."),
        "task": _("Bước được chọn không thuộc hồ sơ này."),
        "description": _("Mô tả tối đa 500 ký tự."),
    }


@bp.route("/cases/<int:case_id>/attachments/new", methods=["GET", "POST"])
@login_required
def upload(case_id: int):
    actor: access.Actor = current_user.actor
    try:
        case = _case_to_attach(case_id)
    except EngineError as exc:
        return refuse(exc)
    tasks = list(db.session.scalars(select(Task).where(Task.case_id == case.id, Task.state != "cancelled")
                                    .order_by(Task.id)))
    task_choices = [(t.id, step_title(t)) for t in tasks]
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"task": int_arg(request.args.get("task")), "description": ""}
    status = 200
    if request.method == "POST":
        try:
            upload_file = request.files.get("file")
            form = request.form
        except RequestEntityTooLarge:
            errors["file"] = _messages()["too_large"]
            return _form(case, task_choices, values, errors), 413
        values = {"task": int_arg(form.get("task")), "description": (form.get("description") or "").strip()}
        if values["task"] is not None and values["task"] not in {t.id for t in tasks}:
            errors["task"] = _messages()["task"]
        if len(values["description"]) > 500 or "\x00" in values["description"]:
            errors["description"] = _messages()["description"]
        if upload_file is None or not upload_file.filename:
            errors["file"] = _messages()["missing"]
        status = 400
        if not errors:
            try:
                sha256, size, content_type = storage.store(current_app.config["CASE56_ATTACHMENTS"],
                                                           upload_file.stream, max_bytes(), keyring())
            except KeyMissing as exc:
                return refuse(exc)
            except storage.AttachmentError as exc:
                errors["file"] = _messages()[exc.code]
                status = {"too_large": 413, "type": 415}.get(exc.code, 400)
            else:
                row = Attachment(case_id=case.id, task_id=values["task"], sha256=sha256, size=size,
                                 content_type=content_type, file_name=storage.clean_name(upload_file.filename,
                                                                                         content_type),
                                 description=values["description"] or None, uploaded_by=actor.username,
                                 uploaded_at=clock.now())
                db.session.add(row)
                db.session.flush()
                audit.append(db.session, actor.username, "attachment_uploaded", case.id,
                             {"attachment": row.id, "file_name": row.file_name, "sha256": sha256, "size": size,
                              "content_type": content_type, "task": row.task_id})
                db.session.commit()
                flash(_("Đã đính kèm “%(name)s” vào hồ sơ %(number)s.", name=row.file_name, number=case.number),
                      "success")
                return redirect(url_for("cases.show", case_id=case.id) + "#attachments")
    return _form(case, task_choices, values, errors), status


@bp.app_errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> tuple[str, int]:
    """A request over MAX_CONTENT_LENGTH is refused while the form is read (before any view, by the CSRF
    check): say why in words rather than with a bare error page. In practice only uploads get this big."""
    return render_template("error.html", message=_messages()["too_large"], status=413), 413


def _form(case: Case, task_choices: list[tuple[int, str]], values: dict[str, Any], errors: dict[str, str]) -> str:
    return render_template("cases/attach.html", case=case, tasks=task_choices, values=values, errors=errors,
                           max_mb=round(max_bytes() / 1024 / 1024, 1))


@bp.route("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    actor: access.Actor = current_user.actor
    row = db.session.get(Attachment, attachment_id)
    case = db.session.get(Case, row.case_id) if row is not None else None
    if row is None or case is None or not access.can_read_attachment(actor, case):
        return refuse(NotFound("Không tìm thấy tài liệu.", "No such document."))
    if retention.destroyed(db.session, case.id, "attachment"):
        message = _("Tệp đính kèm của hồ sơ này đã được huỷ khi hết thời hạn lưu trữ.")
        return render_template("error.html", message=message, status=410), 410
    try:
        content = storage.read_verified(current_app.config["CASE56_ATTACHMENTS"], row.sha256, keyring())
    except KeyMissing as exc:
        return refuse(exc)
    if content is None:
        audit.append(db.session, actor.username, "attachment_missing", case.id,
                     {"attachment": row.id, "sha256": row.sha256})
        db.session.commit()
        message = _("Tệp đính kèm không còn nguyên vẹn hoặc đã bị xoá khỏi kho lưu trữ; hãy báo quản trị viên.")
        return render_template("error.html", message=message, status=410), 410
    audit.append(db.session, actor.username, "attachment_downloaded", case.id,
                 {"attachment": row.id, "file_name": row.file_name, "sha256": row.sha256})
    db.session.commit()
    response = send_file(io.BytesIO(content), mimetype=row.content_type, as_attachment=True,
                         download_name=row.file_name, conditional=False, etag=False, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
