"""Template filters and display labels: Vietnamese dates (dd/mm/yyyy), Vietnam time, numbers (1.000), how a
step's time limit stands (time left, overdue, finished on time or late, estimated). What a step, rule, status,
role or audit action is called lives in web/labels.py."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

from flask import Flask, current_app, g, has_app_context
from flask_babel import format_number
from flask_babel import gettext as _

from engine import casefile, clock
from engine.calendar import WorkingCalendar, estimate_year
from engine.deadlines import Rules
from engine.models import Task
from web.labels import legal_expiry_day


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


@cache
def _file_rules() -> Rules:
    return Rules.load()


@cache
def _file_calendar() -> WorkingCalendar:
    return WorkingCalendar.from_file()


def _stamp(moment: datetime) -> str:
    return clock.local(moment).strftime("%d/%m/%Y %H:%M")


def time_left(subject: Task | datetime | None, now: datetime | None = None,
              rules: Rules | None = None) -> dict[str, Any]:
    """How a step's limit stands, for every place that shows one: {'text', 'state', 'estimated', 'label', 'note',
    'legal'}.

    Given a task, a finished one says when it was finished and whether on time (state done | late), or when it
    was cancelled (cancelled) — never a countdown; an open one, like a bare due moment, counts down (ok | soon
    within 24 h | overdue | none). A working-day limit in a year without announced calendar data is an
    estimate: `estimated` is that year, `label` says "ước tính" and `note` why. A working-day limit set by law
    also has its legal expiry (`legal`: "Hạn theo luật: 24:00 ngày …", Civil Code Art. 148) beside the internal
    target `due` at office closing time, which escalation uses."""
    task = subject if isinstance(subject, Task) else None
    due = task.due_at if task is not None else subject
    out: dict[str, Any] = {"estimated": None, "label": "", "note": "", "legal": ""}
    if task is not None and task.rule and due is not None:
        engine = current_app.extensions["case56_engine"] if has_app_context() else None
        ruleset = rules or (engine.rules if engine is not None else _file_rules())
        rule = ruleset.rules.get(task.rule)
        expiry = ruleset.legal_expiry(task.rule, due, engine.calendar if engine is not None else _file_calendar())
        if expiry is not None:
            out["legal"] = _("Hạn theo luật: 24:00 ngày %(d)s (Điều 148 Bộ luật Dân sự); hạn nội bộ %(h)s",
                             d=legal_expiry_day(expiry), h=_stamp(due))
        # An after_dates rule that took the plan's own review date is marked too: the row cannot tell which.
        year = estimate_year(rule is not None and rule.counts_working_days, due)
        if year is not None:
            out.update(estimated=year, label=_("ước tính"), note=_(
                "Chưa có lịch nghỉ chính thức năm %(y)s: thời hạn tính theo lịch dự kiến và sẽ được tính lại "
                "khi lịch được khai báo.", y=year))
    if task is not None and task.state == "cancelled":
        text = _("Đã huỷ lúc %(t)s", t=_stamp(task.completed_at)) if task.completed_at else _("Đã huỷ")
        return {**out, "text": text, "state": "cancelled"}
    if task is not None and task.state == "completed" and task.completed_at is not None:
        late = casefile.lateness(task)
        if late is None:
            return {**out, "text": _("Hoàn thành lúc %(t)s", t=_stamp(task.completed_at)), "state": "done"}
        if late > 0:
            return {**out, "state": "late",
                    "text": _("Hoàn thành lúc %(t)s — trễ %(d)s", t=_stamp(task.completed_at), d=duration(late))}
        return {**out, "text": _("Hoàn thành lúc %(t)s — đúng hạn", t=_stamp(task.completed_at)), "state": "done"}
    if due is None:
        return {**out, "text": _("Không có thời hạn"), "state": "none"}
    delta = (due - (now or clock.now())).total_seconds()
    if delta < 0:
        return {**out, "text": _("Quá hạn %(t)s", t=duration(delta)), "state": "overdue"}
    return {**out, "text": _("Còn %(t)s", t=duration(delta)), "state": "soon" if delta < 86400 else "ok"}


def init_app(app: Flask) -> None:
    app.add_template_filter(vn_date, "vn_date")
    app.add_template_filter(vn_datetime, "vn_datetime")
    app.add_template_filter(format_number, "vn_number")  # grouped as the page's language writes it: 1.000 / 1,000
    app.add_template_global(time_left, "time_left")
    app.add_template_global(lambda seconds: duration(seconds or 0), "duration_text")
    app.add_template_global(lambda: getattr(g, "locale", "vi"), "current_locale")
