"""The law in force in 2026 as configuration: who decides what (Decree 147/2025 reassignments, dated, warned
60 days before their end), 24/11 a working day until the act that makes it a holiday is recorded (open limits
that count it are recomputed), and the province supervisor named as the health sector (Sở Y tế)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from engine import access, clock
from engine.authorities import AUTHORITIES_FILE, Authorities, AuthorityError
from engine.clock import LOCAL_TZ
from engine.models import AuditEntry
from tests.web.casework_kit import client_for, open_case, ready_task, task_of, token
from web.extensions import db


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


def test_decree_147_assignments_are_dated_with_sources():
    config = Authorities.load()
    assert config.warn_days == 60
    court = config.current("court_request", date(2026, 12, 5))
    assert court is not None and court.body_vi == "Chủ tịch Ủy ban nhân dân cấp xã"
    assert (court.valid_from, court.valid_to) == (date(2025, 7, 1), date(2027, 3, 1))
    assert "147/2025/NĐ-CP" in court.basis and court.sources and "52 khoản 3" in court.law
    provider = config.current("provider_establishment", date(2026, 12, 5))
    assert provider is not None and provider.body_vi.startswith("Chủ tịch Ủy ban nhân dân cấp xã")
    assert config.current("state_management", date(2026, 12, 5)).body_vi == "Sở Y tế"
    assert config.current("court_request", date(2025, 6, 30)) is None
    # 01/03/2027 − 60 days = 31/12/2026: the warning starts that day, and stays after the end date.
    assert config.warnings(date(2026, 12, 30)) == []
    assert {a.key for a, s in config.warnings(date(2026, 12, 31)) if s == "ending"} == {
        "court_request", "provider_establishment", "facility_lists"}
    assert {s for _a, s in config.warnings(date(2027, 3, 1))} == {"expired"}


def test_a_wrong_authorities_file_stops(tmp_path: Path):
    path = tmp_path / "authorities.toml"
    text = AUTHORITIES_FILE.read_text(encoding="utf-8")
    for bad, match in ((text.replace("valid_to = 2027-03-01", 'valid_to = "soon"', 1), "must be dates"),
                       (text.replace("valid_to = 2027-03-01", "valid_to = 2025-01-01", 1), "after valid_from"),
                       (text.replace('confidence = "High"', 'confidence = "High"\nowner = "x"'), "unknown keys")):
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(AuthorityError, match=match):
            Authorities.load(path)


def test_admin_is_warned_within_60_days_of_an_assignment_end(app):
    with time_machine.travel(vn(2026, 12, 5, 9, 0), tick=False):
        admin = client_for(app, "quantri")  # a session does not outlive the clock's jumps: sign in each time
        page = admin.get("/admin/authorities").get_data(as_text=True)
        assert "Chủ tịch Ủy ban nhân dân cấp xã" in page and "01/07/2025 – 01/03/2027" in page
        assert "Nghị định 147/2025/NĐ-CP" in page and "hethongphapluat.vn" in page and "đang áp dụng" in page
        assert "role=\"alert\"" not in page and "đến hết thời hạn áp dụng" not in admin.get("/admin").get_data(
            as_text=True)
    with time_machine.travel(vn(2027, 1, 15, 9, 0), tick=False):
        admin = client_for(app, "quantri")
        index = admin.get("/admin").get_data(as_text=True)
        assert "Còn 45 ngày đến hết thời hạn áp dụng (01/03/2027):" in index
        assert "processes/authorities.toml" in index
        assert "sắp hết hạn (còn 45 ngày)" in admin.get("/admin/authorities").get_data(as_text=True)
    with time_machine.travel(vn(2027, 3, 2, 9, 0), tick=False):
        admin = client_for(app, "quantri")
        assert "Đã hết thời hạn áp dụng từ 01/03/2027:" in admin.get("/admin").get_data(as_text=True)
    assert client_for(app, "canbo").get("/admin/authorities").status_code in (302, 403)


def test_province_supervisor_is_the_health_sector():
    assert access.ROLE_LABELS["supervisor"][0].startswith("Sở Y tế")
    assert "Health" in access.ROLE_LABELS["supervisor"][1]


def test_culture_day_recorded_with_its_act_recomputes_open_limits(app, calendar_engine):
    # Received Mon 23/11/2026 09:00: the draft plan is due 5 working days later, 24/11 counted as working.
    with time_machine.travel(vn(2026, 11, 23, 9, 0), tick=False):
        case_id = open_case(app, stop_at="draft_plan")
        plan = ready_task(app, case_id, "draft_plan")
        assert clock.local(task_of(app, plan).due_at) == vn(2026, 11, 30, 17, 0)  # 24, 25, 26, 27, 30
        admin = client_for(app, "quantri")
        form = {"csrf_token": token(admin.get("/admin/calendar").get_data(as_text=True)), "day": "24/11/2026",
                "working": "off", "note": "Ngày Văn hóa Việt Nam"}
        refused = admin.post("/admin/calendar", data={**form, "confirm": "1"})
        assert refused.status_code == 422 and 'id="err-act"' in refused.get_data(as_text=True)
        assert clock.local(task_of(app, plan).due_at) == vn(2026, 11, 30, 17, 0)  # nothing saved
        act = "Luật số 12/2026/QH15"
        preview = admin.post("/admin/calendar", data={**form, "act": act}).get_data(as_text=True)
        assert "1 bước đang mở sẽ đổi thời hạn" in preview and f'name="act" value="{act}"' in preview
        done = admin.post("/admin/calendar", data={**form, "act": act, "confirm": "1"})
        assert done.status_code == 303
        assert clock.local(task_of(app, plan).due_at) == vn(2026, 12, 1, 17, 0)
        with app.app_context():
            added = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "calendar_day_added")).one()
            assert (added.actor, added.details["act"], added.details["steps_rescheduled"]) == (
                "quantri", "Luật số 12/2026/QH15", 1)
            moved = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "deadline_rescheduled")).one()
            assert moved.details["task"] == plan and moved.details["day"] == "2026-11-24"


def _pages(pdf: bytes) -> list[str]:
    import io

    import pypdf

    return [" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_legal_expiry_beside_the_target_on_the_step_page_and_in_the_dossier(app):
    # The draft decision is submitted Wednesday 09/12/2026: the approval's target is Friday 17:00, its legal
    # expiry 24:00 that Friday (Civil Code Art. 148.6), not Monday.
    with time_machine.travel(vn(2026, 12, 9, 9, 0), tick=False):
        case_id = open_case(app, stop_at="approve_plan")
        approval = ready_task(app, case_id, "approve_plan")
        assert clock.local(task_of(app, approval).due_at) == vn(2026, 12, 11, 17, 0)
        page = client_for(app, "chutich").get(f"/tasks/{approval}").get_data(as_text=True)
        assert "Hạn theo luật: 24:00 ngày 11/12/2026 (Điều 148 Bộ luật Dân sự); hạn nội bộ 11/12/2026 17:00" in page
        assert "Điều 28 khoản 4 NĐ 56/2017/NĐ-CP" in page
        with app.app_context():
            from web import demo
            from web.pdf import dossier

            pdf = dossier.build(db.session, case_id, dossier.Options(actor=demo.cast(db.session).actors["canbo"]))
            db.session.remove()
    pages = _pages(pdf)
    text = " ".join(pages)
    assert "Hạn theo luật: 24:00 ngày 11/12/2026" in text and "hạn nội bộ 11/12/2026 17:00" in text
    # Policy limits say so, with their basis; the unsettled law is on the annex page only.
    assert "không do pháp luật quy định: Quy định của case56" in text
    annex = next(i for i, p in enumerate(pages) if "VI. PHỤ LỤC" in p)
    assert "[cần xác nhận]" in pages[annex] and "Điều 28 khoản 1" in " ".join(pages[annex:])
    assert "Mốc bắt đầu của thời hạn 12 giờ" in " ".join(pages[annex:])
    assert all("[cần xác nhận" not in p for p in pages[:annex]), "a flag inside the body of the dossier"


def test_policy_limit_is_labelled_on_its_step_page(app):
    with time_machine.travel(vn(2026, 12, 9, 9, 0), tick=False):
        case_id = open_case(app)
        verify = ready_task(app, case_id, "verify")
        page = client_for(app, "canbo").get(f"/tasks/{verify}").get_data(as_text=True)
    assert "không do pháp luật quy định: Quy định của case56, suy ra từ thời hạn 12 giờ" in page
    assert "Hạn theo luật" not in page  # 12 hours on the clock: one end only
    assert "[cần xác nhận]" not in page  # a policy is not unknown law


def test_inbox_flags_unsettled_law_once_per_page(app):
    with time_machine.travel(vn(2026, 12, 9, 9, 0), tick=False):
        for _ in range(3):
            open_case(app, stop_at="draft_plan")  # the plan's start is not stated by Art. 28.1
        page = client_for(app, "canbo").get("/").get_data(as_text=True)
    assert page.count('class="to-confirm-ref"') >= 3
    assert page.count("[cần xác nhận]") == 1 and 'id="to-confirm"' in page
    assert "5 ngày làm việc kể từ khi tiếp nhận thông tin" in page.split('id="to-confirm"')[1]
