"""How a step's limit is shown, and the administrator's calendar change that moves limits: previewed ("N bước
đang mở sẽ đổi thời hạn") before it is confirmed; finished steps say when they were finished, on time or late;
working-day limits in a year without announced calendar data are marked "ước tính"; `case56 check` warns."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pypdf
import pytest
import time_machine
from sqlalchemy import func, select

from engine import clock
from engine.check import check
from engine.clock import LOCAL_TZ
from engine.models import AuditEntry, CalendarDay
from tests.web.casework_kit import client_for, open_case, ready_task, task_of, token
from web import demo
from web.api.present import due_status
from web.extensions import db
from web.pdf import dossier


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


@pytest.fixture
def engine(calendar_engine):
    return calendar_engine


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _plan_due_monday(app) -> int:
    """A draft plan due 17:00 on Monday 07/12/2026 (5 working days after its receipt on Monday 30/11)."""
    case_id = open_case(app, stop_at="draft_plan")
    task_id = ready_task(app, case_id, "draft_plan")
    assert clock.local(task_of(app, task_id).due_at) == vn(2026, 12, 7, 17, 0)
    return task_id


def test_calendar_change_is_previewed_then_moves_open_limits(app, engine):
    with time_machine.travel(vn(2026, 11, 30, 9, 0), tick=False):
        plan = _plan_due_monday(app)
        hours_case = open_case(app)  # its verification runs 12 hours on the clock: never moved
        verify = ready_task(app, hours_case, "verify")
        verify_due = task_of(app, verify).due_at
        admin = client_for(app, "quantri")
        csrf = token(admin.get("/admin/calendar").get_data(as_text=True))
        form = {"csrf_token": csrf, "day": "07/12/2026", "working": "off", "note": "Nghỉ bù (thử)"}

        # Bad input is refused field by field, before any preview; nothing saved.
        for change, field in (({"day": "31/02/2026"}, "day"), ({"working": "x"}, "working"), ({"note": ""}, "note")):
            response = admin.post("/admin/calendar", data={**form, **change, "confirm": "1"})
            assert response.status_code == 422 and f'id="err-{field}"' in response.get_data(as_text=True)

        page = admin.post("/admin/calendar", data=form)
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and "1 bước đang mở sẽ đổi thời hạn" in text
        assert "Xây dựng kế hoạch hỗ trợ, can thiệp (Mẫu số 04): 1" in text and 'name="confirm" value="1"' in text
        assert _count(app, CalendarDay) == 0 and task_of(app, plan).due_at == vn(2026, 12, 7, 17, 0)  # not yet

        response = admin.post("/admin/calendar", data={**form, "confirm": "1"})
        assert response.status_code == 303
        assert "1 bước đang mở đã đổi thời hạn theo ngày 07/12/2026." in admin.get("/admin/calendar").get_data(
            as_text=True)
        assert clock.local(task_of(app, plan).due_at) == vn(2026, 12, 8, 17, 0)
        assert task_of(app, verify).due_at == verify_due
        with app.app_context():
            assert list(check(engine, db.session)) == []
            moved = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "deadline_rescheduled")).all()
            assert [(a.actor, a.details["task"], a.details["day"]) for a in moved] == [("quantri", plan, "2026-12-07")]

        # The officer's step page shows the new limit.
        officer = client_for(app, "canbo")
        assert "17:00 08/12/2026" in officer.get(f"/tasks/{plan}").get_data(as_text=True)

        # Removing the day is previewed too (in English for an English-speaking administrator), then moves it back.
        admin.post("/language", data={"csrf_token": csrf, "locale": "en"})
        page = admin.post("/admin/calendar/2026-12-07/delete", data={"csrf_token": csrf})
        assert page.status_code == 200 and "1 open steps will get a new time limit" in page.get_data(as_text=True)
        assert _count(app, CalendarDay) == 1
        assert admin.post("/admin/calendar/2026-12-07/delete",
                          data={"csrf_token": csrf, "confirm": "1"}).status_code == 303
        assert _count(app, CalendarDay) == 0
        assert clock.local(task_of(app, plan).due_at) == vn(2026, 12, 7, 17, 0)
        assert not engine.calendar.days_off & {date(2026, 12, 7)}

        # A change that moves nothing is saved at once (no preview to confirm).
        response = admin.post("/admin/calendar", data={**form, "day": "15/01/2031"})
        assert response.status_code == 303 and _count(app, CalendarDay) == 1


def test_finished_steps_say_when_they_were_finished(app, engine):
    with time_machine.travel(vn(2026, 3, 2, 9, 0), tick=False):
        on_time_case = open_case(app)
        late_case = open_case(app)
    on_time, late = ready_task(app, on_time_case, "verify"), ready_task(app, late_case, "verify")
    with time_machine.travel(vn(2026, 3, 2, 10, 0), tick=False), app.app_context():
        engine.complete_task(db.session, demo.cast(db.session).actors["canbo"], on_time,
                             demo.sample("verification", vn(2026, 3, 2, 10, 0)))
    with time_machine.travel(vn(2026, 3, 4, 13, 0), tick=False), app.app_context():
        engine.complete_task(db.session, demo.cast(db.session).actors["canbo"], late,
                             demo.sample("verification", vn(2026, 3, 4, 13, 0)))
    with time_machine.travel(vn(2026, 3, 5, 8, 0), tick=False):
        officer = client_for(app, "canbo")
        due = task_of(app, late).due_at
        page = officer.get(f"/tasks/{on_time}").get_data(as_text=True)
        assert "Hoàn thành lúc 02/03/2026 10:00 — đúng hạn" in page and "Còn " not in page
        page = officer.get(f"/tasks/{late}").get_data(as_text=True)
        late_by = vn(2026, 3, 4, 13, 0) - clock.local(due)
        hours = late_by.seconds // 3600
        assert f"Hoàn thành lúc 04/03/2026 13:00 — trễ {late_by.days} ngày {hours} giờ" in page
        assert "Quá hạn" not in page.split("Thời hạn", 1)[1].split("</dd>", 1)[0]
        # The API gives the same account, in its language.
        with app.test_request_context(headers={"Accept-Language": "en"}):
            status = due_status(task_of(app, on_time))
        assert status["state"] == "done" and status["text"] == "Completed at 02/03/2026 10:00 — on time"


def test_working_day_limits_in_a_year_without_calendar_data_are_estimates(app, engine):
    # Received Monday 28/12/2026: five working days end on 05/01/2027, and 2027 has no announced data yet.
    with time_machine.travel(vn(2026, 12, 28, 9, 0), tick=False):
        case_id = open_case(app, stop_at="draft_plan")
        plan = ready_task(app, case_id, "draft_plan")
        assert clock.local(task_of(app, plan).due_at) == vn(2027, 1, 5, 17, 0)
    with time_machine.travel(vn(2026, 12, 31, 20, 0), tick=False):
        hours_case = open_case(app)  # a 12-hour limit ending in 2027 needs no calendar: not an estimate
        verify = ready_task(app, hours_case, "verify")
        assert task_of(app, verify).due_at.year == 2027
        officer = client_for(app, "canbo")
        note = "Chưa có lịch nghỉ chính thức năm 2027"
        marker = re.compile(f'<abbr class="estimate" title="{note}[^"]*">ước tính</abbr>')
        inbox = officer.get("/").get_data(as_text=True)
        assert len(marker.findall(inbox)) == 1  # the plan, not the verification
        assert marker.search(officer.get(f"/tasks/{plan}").get_data(as_text=True))
        assert not marker.search(officer.get(f"/tasks/{verify}").get_data(as_text=True))
        assert marker.search(officer.get(f"/cases/{case_id}").get_data(as_text=True))
        with app.test_request_context():
            assert due_status(task_of(app, plan))["estimated_year"] == 2027
            assert due_status(task_of(app, verify))["estimated_year"] is None
        with app.app_context():
            pdf = dossier.build(db.session, case_id, dossier.Options(actor=demo.cast(db.session).actors["thanhtra"]))
        text = " ".join("\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())
        assert f"ước tính: {note}" in text


def test_admin_page_and_check_warn_about_missing_years(app, engine):
    with time_machine.travel(vn(2026, 12, 4, 9, 0), tick=False):
        page = client_for(app, "quantri").get("/admin/calendar").get_data(as_text=True)
        assert "Chưa có lịch nghỉ chính thức năm 2027." in page and "năm 2026." not in page
        assert "processes/calendar/vn.toml" in page
        result = app.test_cli_runner().invoke(args=["check"])
        assert result.exit_code == 0 and "database consistent" in result.output, result.output
        assert "warning: calendar 2027: no announced days off" in result.output
    with time_machine.travel(vn(2026, 5, 4, 9, 0), tick=False):
        assert "Chưa có lịch nghỉ chính thức năm 2027." in client_for(app, "quantri").get(
            "/admin/calendar").get_data(as_text=True)  # next year is planned for already


def test_hostile_calendar_input_is_refused_without_saving(app, engine):
    admin = client_for(app, "quantri")
    csrf = token(admin.get("/admin/calendar").get_data(as_text=True))
    for day in ("", "\x00", "99/99/9999", "07/12/2026 x", "a" * 500, "0/0/0", "07/12/0001"):
        for extra in ({}, {"confirm": "1"}, {"confirm": "\x00" * 50}):
            response = admin.post("/admin/calendar", data={"csrf_token": csrf, "day": day, "working": "off",
                                                           "note": "x", **extra})
            # A NUL anywhere is refused by the app before the view (400); anything else names the field.
            assert response.status_code == 400 if "\x00" in day + extra.get("confirm", "") else (
                response.status_code == 422 and 'id="err-day"' in response.get_data(as_text=True)), day
    for day in ("x", "2026-02-30", "99999-01-01", "%00", "2026-12-07"):  # the last: valid, but not declared
        assert admin.post(f"/admin/calendar/{day}/delete", data={"csrf_token": csrf, "confirm": "1"}).status_code == 404
    assert _count(app, CalendarDay) == 0
