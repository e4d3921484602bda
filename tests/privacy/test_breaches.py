"""The breach register on both databases: the 72-hour clock runs from the recorded discovery (Law 91 Art. 23.1),
the tick escalates a late notice once (engine clock moved by time travel), the A05 notice and the processor's notice
to the controller are recorded, a late notice needs its reason, a risky breach closes only after the A05 notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

import forms
from engine import audit, breaches, clock, timers
from engine.errors import Forbidden, InvalidState
from engine.models import AuditEntry, Breach
from tests.privacy.privacy_kit import vn

REPORT = {"discovered_at": "2026-06-05T16:30:00+07:00", "discovered_by": "Cán bộ tư pháp xã",
          "description": "Một bản in hồ sơ bị bỏ quên tại quán photocopy.", "data_categories": ["identity", "health"],
          "subjects_count": 1, "risks": ["dignity"], "by_processor": False, "measures": "Đã thu hồi bản in."}


def breach_actions(session, breach: Breach) -> list[str]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.action.like("breach_%")).order_by(AuditEntry.id))
    return [r.action for r in rows if r.details.get("breach") == breach.id]


def test_breach_escalated_after_72_hours_then_notified_and_closed(case_engine, session, people):
    admin = people.actors["quantri"]
    with time_machine.travel(vn(2026, 6, 6, 9, 0), tick=False):  # recorded the morning after the discovery
        breach = breaches.record(case_engine, session, admin, REPORT)
    assert breach.number == f"VPDL-2026-{breach.id:04d}" and breach.status == "open"
    # 72 hours on the clock from the discovery, through the weekend: Monday 08/06 16:30.
    assert clock.local(breach.notify_due_at) == vn(2026, 6, 8, 16, 30)
    with time_machine.travel(vn(2026, 6, 8, 16, 29), tick=False):
        assert breaches.attention(session) == [breach]  # due within a day: shown to the administrators
        timers.tick(case_engine, session)
    session.refresh(breach)
    assert breach.escalated_at is None
    with time_machine.travel(vn(2026, 6, 8, 16, 31), tick=False):
        assert timers.tick(case_engine, session).errors == []
        timers.tick(case_engine, session)
    session.refresh(breach)
    assert clock.local(breach.escalated_at) == vn(2026, 6, 8, 16, 31)
    assert breach_actions(session, breach) == ["breach_recorded", "breach_escalated"]

    with time_machine.travel(vn(2026, 6, 9, 8, 0), tick=False):
        with pytest.raises(forms.FormError) as risky:
            breaches.close(case_engine, session, admin, breach.id, {"outcome": "Đã xử lý.", "subjects_informed": True})
        assert "A05" in risky.value.errors["outcome"][0]
        content = breaches.notice_template(breach, "UBND phường Phan Đình Phùng")
        assert "72 giờ" in content and "Danh dự, nhân phẩm" in content and "Sức khỏe" in content
        notice = {"recipient": "a05", "sent_at": "2026-06-09T07:45:00+07:00", "reference": "Công văn số 12/UBND",
                  "content": content}
        with pytest.raises(forms.FormError) as late:
            breaches.notify(case_engine, session, admin, breach.id, notice)
        assert "late_reason" in late.value.errors
        breaches.notify(case_engine, session, admin, breach.id,
                        {**notice, "late_reason": "Phát hiện vào chiều thứ Sáu, cán bộ nghỉ cuối tuần."})
        with pytest.raises(forms.FormError):
            breaches.notify(case_engine, session, admin, breach.id, {**notice, "late_reason": "x"})
        breaches.close(case_engine, session, admin, breach.id,
                       {"outcome": "Đã thu hồi, không phát tán.", "prevention": "Không in hồ sơ ra ngoài trụ sở.",
                        "subjects_informed": True})
        with pytest.raises(InvalidState):
            breaches.close(case_engine, session, admin, breach.id, {"outcome": "x", "subjects_informed": True})
    session.refresh(breach)
    assert breach.status == "closed" and clock.local(breach.notified_at) == vn(2026, 6, 9, 7, 45)
    assert breach_actions(session, breach) == ["breach_recorded", "breach_escalated", "breach_notified",
                                               "breach_closed"]
    assert audit.verify(session) == []


def test_processor_notice_and_a_breach_without_risk(case_engine, session, people):
    admin = people.actors["quantri"]
    report = {**REPORT, "risks": [], "by_processor": True, "discovered_at": "2026-06-10T10:00:00+07:00"}
    with time_machine.travel(vn(2026, 6, 10, 11, 0), tick=False):
        breach = breaches.record(case_engine, session, admin, report)
        breaches.notify(case_engine, session, admin, breach.id, {
            "recipient": "controller", "sent_at": "2026-06-10T10:30:00+07:00", "reference": "Thư điện tử",
            "content": "Bên xử lý thông báo cho UBND xã."})
        breaches.close(case_engine, session, admin, breach.id, {"outcome": "Không có nguy cơ.",
                                                                "subjects_informed": False})
    session.refresh(breach)
    assert breach.status == "closed" and breach.controller_notified_at is not None and breach.notified_at is None
    with time_machine.travel(vn(2026, 6, 20, 11, 0), tick=False):
        timers.tick(case_engine, session)
    session.refresh(breach)
    assert breach.escalated_at is None  # closed: no clock runs


def test_bad_input_and_other_roles(case_engine, session, people):
    admin = people.actors["quantri"]
    with time_machine.travel(vn(2026, 6, 10, 11, 0), tick=False):
        with pytest.raises(forms.FormError) as bad:
            breaches.record(case_engine, session, admin, {**REPORT, "subjects_count": -1, "discovered_at": "mai"})
        assert {"subjects_count", "discovered_at"} <= set(bad.value.errors)
        with pytest.raises(forms.FormError) as future:
            breaches.record(case_engine, session, admin, {**REPORT, "discovered_at": "2026-06-11T10:00:00+07:00"})
        assert "discovered_at" in future.value.errors
        with pytest.raises(Forbidden):
            breaches.record(case_engine, session, people.actors["canbo"], REPORT)
        breach = breaches.record(case_engine, session, admin, REPORT)
        with pytest.raises(forms.FormError) as before:
            breaches.notify(case_engine, session, admin, breach.id, {
                "recipient": "a05", "sent_at": "2026-06-01T10:00:00+07:00", "reference": "x", "content": "x"})
        assert "sent_at" in before.value.errors
    assert session.scalars(select(Breach)).all() == [breach]
    assert breach.notify_due_at - breach.discovered_at == timedelta(hours=72)
