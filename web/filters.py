"""Template filters and display labels: Vietnamese dates (dd/mm/yyyy), Vietnam time, numbers (1.000), time left
or overdue, what an audit row's action means."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, g
from flask_babel import format_number
from flask_babel import gettext as _

from engine import clock


def vn_date(value: date | datetime | str | None) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = clock.local(value)
    return value.strftime("%d/%m/%Y")


def vn_datetime(value: datetime | str | None) -> str:
    if value in (None, ""):
        return ""
    moment = clock.local(datetime.fromisoformat(value) if isinstance(value, str) else value)
    return moment.strftime("%H:%M %d/%m/%Y")


def duration(seconds: float) -> str:
    """A short human duration: '2 ngày 3 giờ', '45 phút'."""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)s ngày %(h)s giờ", d=days, h=hours)
    if hours:
        return _("%(h)s giờ %(m)s phút", h=hours, m=minutes)
    return _("%(m)s phút", m=minutes)


def time_left(due: datetime | None, now: datetime | None = None) -> dict[str, object]:
    """{'text', 'state'}: state is overdue | soon (within 24 h) | ok | none."""
    if due is None:
        return {"text": _("Không có thời hạn"), "state": "none"}
    delta = (due - (now or clock.now())).total_seconds()
    if delta < 0:
        return {"text": _("Quá hạn %(t)s", t=duration(delta)), "state": "overdue"}
    return {"text": _("Còn %(t)s", t=duration(delta)), "state": "soon" if delta < 86400 else "ok"}


def audit_actions() -> dict[str, str]:
    """What each audit action means, in the current language: the case page, the inspector's file and the
    dossier all read the trail through this one table (translate it once per page, not once per row)."""
    return {
        "case_opened": _("Mở hồ sơ"),
        "form_recorded": _("Ghi nhận biểu mẫu"),
        "task_opened": _("Giao bước"),
        "task_completed": _("Hoàn thành bước"),
        "task_cancelled": _("Hủy bước"),
        "draft_saved": _("Lưu nháp"),
        "deadline_passed": _("Quá thời hạn"),
        "reminder": _("Nhắc thời hạn"),
        "timer_incident": _("Sự cố hẹn giờ"),
        "case_closed": _("Đóng hồ sơ"),
        "case_transferred": _("Chuyển hồ sơ"),
        "case_reopened": _("Mở lại hồ sơ"),
        "case_view": _("Xem hồ sơ"),
        "case_inspect": _("Thanh tra xem hồ sơ"),
        "dossier_downloaded": _("Tải hồ sơ PDF"),
        "attachment_uploaded": _("Thêm tài liệu đính kèm"),
        "attachment_missing": _("Không tìm thấy tệp đính kèm"),
        "attachment_downloaded": _("Tải tài liệu đính kèm"),
        "case_step": _("Xem bước"),
        "task_view": _("Xem bước"),
        "task_viewed": _("Xem bước"),
    }


def track_label(track: str, case_closed: bool = False) -> str:
    """A track of steps that goes on by law after the case closes (engine.registry.Step.track)."""
    names = {"police": _("Luồng tố tụng (công an)")}
    name = names.get(track, track)
    return _("%(t)s — vẫn tiếp tục sau khi đóng hồ sơ", t=name) if case_closed else name


def cancel_reason_label(reason: str) -> str:
    """Why a step was cancelled (task.cancel_reason)."""
    return {"case_closed": _("hồ sơ đã đóng, bước không còn cần thiết"),
            "path_left": _("quy trình đã chuyển sang nhánh khác"),
            "late_step_done": _("bước quá hạn đã được hoàn thành")}.get(reason, reason)


def init_app(app: Flask) -> None:
    app.add_template_filter(vn_date, "vn_date")
    app.add_template_filter(vn_datetime, "vn_datetime")
    app.add_template_filter(format_number, "vn_number")  # grouped as the page's language writes it: 1.000 / 1,000
    app.add_template_global(time_left, "time_left")
    app.add_template_global(track_label, "track_label")
    app.add_template_global(cancel_reason_label, "cancel_reason_label")
    app.add_template_global(lambda: getattr(g, "locale", "vi"), "current_locale")
