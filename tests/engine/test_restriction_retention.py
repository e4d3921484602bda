"""Restriction of processing (engine.restriction) and retention with legal hold and two-person destruction
(engine.retention), on both databases: every command refused while restricted and allowed again after the
lift; timers still fire; liveness unchanged; destruction leaves tombstones the audit verification accepts."""

from __future__ import annotations

import json
import zlib
from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select, update

from engine import access, audit, check, clock, liveness, restriction, retention, timers
from engine import statistics as st
from engine.errors import FieldErrors, Forbidden, InvalidState
from engine.models import Attachment, AuditEntry, Case, CaseWorkflow, DestroyedRecord, Task, TaskReminder, User
from web import demo

ADMIN = access.Actor("quantri", "admin", user_id=None)
ADMIN2 = access.Actor("quantri2", "admin", user_id=None)
ORDER = {"authority": "Công an tỉnh (PA05)", "document_number": "123/CV-PA05", "document_date": "01/12/2026",
         "reason": "Đề nghị tạm dừng xử lý dữ liệu để xác minh vụ việc."}
CHILD = "Lê Thị Bí Mật"
PHONE = "0987000111"
POLICY_TEXT = """
[classes.one_year]
years = 1
vi = "1 năm"
en = "1 year"
[records.case_file]
class = "one_year"
[records.attachment]
class = "one_year"
"""


def open_case(engine, session, people, **mau01) -> Case:
    return engine.open_case(session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now(), **mau01))


def ready(session, case: Case, step: str | None = None) -> Task:
    query = select(Task).where(Task.case_id == case.id, Task.state == "ready")
    if step:
        query = query.where(Task.step == step)
    return session.scalars(query.order_by(Task.id)).first()


# -- restriction ---------------------------------------------------------------------------------------------

def test_a_restricted_case_refuses_every_command_until_lifted(case_engine, session, people):
    case = open_case(case_engine, session, people)
    demo.drive(case_engine, session, case, people, stop_at="carry_out_activity")
    row = restriction.restrict(session, ADMIN, case.id, ORDER)
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "processing_restricted"))
    assert entry.case_id == case.id and entry.details["document_number"] == "123/CV-PA05"
    activity = ready(session, case, "carry_out_activity")
    officer, partner = people.actors["canbo"], people.actors[activity.assignee]
    version = session.get(Case, case.id).version
    attempts = {
        "complete": lambda: case_engine.complete_task(session, partner, activity.id,
                                                      demo.sample(activity.form, clock.now())),
        "draft": lambda: case_engine.save_draft(session, partner, activity.id, {"x": 1}),
        "reassign": lambda: case_engine.reassign_task(session, officer, activity.id, "truonghoc"
                                                      if activity.assignee != "truonghoc" else "yte", "Đổi người"),
        "transfer": lambda: case_engine.transfer_case(session, officer, case.id, demo.sample("transfer", clock.now())),
    }
    for name, attempt in attempts.items():
        with pytest.raises(restriction.CaseRestricted) as refused:
            attempt()
        assert refused.value.status == 409 and refused.value.code == "case_restricted", name
        assert "hạn chế xử lý" in refused.value.message_vi and "123/CV-PA05" in refused.value.message_vi
    assert session.get(Case, case.id).version == version  # nothing of the refused commands was saved
    assert session.get(Task, activity.id).state == "ready" and session.get(Task, activity.id).draft_data is None
    # Only an administrator records or lifts; a second restriction of the same case is refused.
    with pytest.raises(Forbidden):
        restriction.restrict(session, officer, case.id, ORDER)
    with pytest.raises(InvalidState):
        restriction.restrict(session, ADMIN, case.id, ORDER)
    with pytest.raises(FieldErrors) as bad:
        restriction.lift(session, ADMIN, row.id, {"reason": "  "})
    assert set(bad.value.errors) == {"reason"}
    # Liveness: a restriction alone strands nothing (the steps have their people once it is lifted).
    assert liveness.problems(session, case) == [] and check.check_case(case_engine, session, case) == []
    assert liveness.count_stranded(session) == 0
    restriction.lift(session, ADMIN, row.id, {"reason": "Công an tỉnh rút đề nghị (CV 130/CV-PA05)."})
    assert restriction.active(session, case.id) is None
    assert [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                                              .order_by(AuditEntry.id.desc()).limit(1))] == ["restriction_lifted"]
    case_engine.save_draft(session, partner, activity.id, {"x": 1})  # works again
    assert audit.verify(session) == []


def test_a_restricted_closed_case_is_not_reopened(case_engine, session, people):
    case = open_case(case_engine, session, people)
    demo.drive(case_engine, session, case, people, choices={"verification": {
        "has_basis": False, "reason_no_basis": "Gia đình và nhà trường xác nhận không có sự việc."}})
    row = restriction.restrict(session, ADMIN, case.id, ORDER)
    reopen = demo.sample("reopen", clock.now()), demo.sample("mau_01", clock.now())
    with pytest.raises(restriction.CaseRestricted):
        case_engine.reopen_case(session, people.actors["canbo"], case.id, *reopen)
    assert session.scalar(select(Case).where(Case.linked_case_id == case.id)) is None
    restriction.lift(session, ADMIN, row.id, {"reason": "Rút đề nghị."})
    assert case_engine.reopen_case(session, people.actors["canbo"], case.id, *reopen).linked_case_id == case.id


def test_a_restricted_case_is_not_migrated_to_another_process_version(case_engine, session, people):
    from engine import case_migration, versions
    from tests.processes import variants

    case = open_case(case_engine, session, people)
    row = restriction.restrict(session, ADMIN, case.id, ORDER)
    text = variants.shipped().replace('deadline("verify")', 'deadline("plan")')
    target = versions.upload(case_engine, session, "quantri", text.encode(), "slower.bpmn").version
    [outcome] = case_migration.migrate(case_engine, session, ADMIN, [case.id], target.id)
    assert not outcome.migrated and "hạn chế xử lý" in outcome.reason_vi
    assert session.get(Case, case.id).process_version_id != target.id
    restriction.lift(session, ADMIN, row.id, {"reason": "Rút đề nghị."})
    [outcome] = case_migration.migrate(case_engine, session, ADMIN, [case.id], target.id)
    assert outcome.migrated


def test_restriction_input_is_checked_field_by_field(case_engine, session, people):
    case = open_case(case_engine, session, people)
    tomorrow = (clock.local(clock.now()).date() + timedelta(days=1)).strftime("%d/%m/%Y")
    for data, fields in [
        ({}, {"authority", "document_number", "document_date", "reason"}),
        ({**ORDER, "document_date": "31/02/2026"}, {"document_date"}),
        ({**ORDER, "document_date": tomorrow}, {"document_date"}),
        ({**ORDER, "authority": "Công an\u202e tỉnh"}, {"authority"}),
        ({**ORDER, "document_number": "x" * 101}, {"document_number"}),
        ({**ORDER, "reason": 12}, {"reason"}),
    ]:
        with pytest.raises(FieldErrors) as refused:
            restriction.restrict(session, ADMIN, case.id, data)
        assert set(refused.value.errors) == fields, data
    assert restriction.active(session, case.id) is None
    with pytest.raises(FieldErrors):
        restriction.find_case(session, "không-có")


def test_deadlines_still_fire_on_a_restricted_case_and_the_escalation_says_so(case_engine, session, people):
    case = open_case(case_engine, session, people)
    restriction.restrict(session, ADMIN, case.id, ORDER)
    with time_machine.travel(clock.now() + timedelta(days=3), tick=False):
        result = timers.tick(case_engine, session)
    assert result.fired >= 1
    [passed] = session.scalars(select(AuditEntry).where(AuditEntry.action == "deadline_passed",
                                                        AuditEntry.case_id == case.id))
    assert passed.details["restricted"] == restriction.active(session, case.id).id
    escalation = session.get(Task, passed.details["escalation_task"])
    assert escalation.state == "ready" and escalation.role == "supervisor"
    with pytest.raises(restriction.CaseRestricted):
        case_engine.complete_task(session, people.actors["giamsat"], escalation.id,
                                  demo.sample(escalation.form, clock.now()))
    assert liveness.problems(session, case) == [] and check.check_case(case_engine, session, case) == []


# -- retention -----------------------------------------------------------------------------------------------

@pytest.fixture
def one_year(tmp_path) -> retention.Policy:
    path = Path(tmp_path) / "retention.toml"
    path.write_text(POLICY_TEXT)
    return retention.Policy.load(path)


def closed_case(engine, session, people, years_ago: float = 2, **mau01) -> Case:
    """A case ended without basis (closed), its closure moved `years_ago` into the past."""
    case = open_case(engine, session, people, **mau01)
    demo.drive(engine, session, case, people, choices={"verification": {
        "has_basis": False, "reason_no_basis": "Gia đình và nhà trường xác nhận không có sự việc."}})
    session.refresh(case)
    assert case.status == "no_basis"
    session.execute(update(Case).where(Case.id == case.id)
                    .values(closed_at=case.closed_at - timedelta(days=365 * years_ago)))
    session.commit()
    return session.get(Case, case.id)


def readable(state: bytes) -> str:
    """A stored workflow state as text with its letters unescaped (the JSON escapes non-ASCII)."""
    return json.dumps(json.loads(zlib.decompress(state)), ensure_ascii=False)


def second_admin(session) -> None:
    session.add(User(username="quantri2", full_name="Quản Trị Hai", role="admin", password_hash="x",
                     created_at=clock.now(), locale="vi"))
    session.commit()


def test_the_shipped_policy_keeps_everything(case_engine, session, people):
    policy = retention.Policy.load()
    assert all(policy.records[r].years is None for r in retention.RECORD_TYPES)
    closed_case(case_engine, session, people, years_ago=30)
    assert retention.eligible(session, policy) == []


def test_destruction_takes_two_administrators_and_leaves_tombstones(case_engine, session, people, one_year):
    second_admin(session)
    informant = {"consent": True, "name": "Người Báo Tin Riêng", "phone": PHONE, "notes": f"Gọi từ {PHONE}."}
    old = closed_case(case_engine, session, people, child={"full_name": CHILD, "estimated_age": 9, "sex": "female",
                                                           "address": "Số 7 ngõ Kín"}, informant=informant)
    held = closed_case(case_engine, session, people)
    recent = closed_case(case_engine, session, people, years_ago=0.5)
    session.add(Attachment(case_id=old.id, file_name="biên bản Lê Thị Bí Mật.pdf", content_type="application/pdf",
                           size=3, sha256="a" * 64, description=f"Lời khai {CHILD}", uploaded_by="canbo",
                           uploaded_at=clock.now()))
    # A reminder about one of its steps (engine.ownership) whose note names the child.
    session.add(TaskReminder(task_id=session.scalar(select(Task.id).where(Task.case_id == old.id).limit(1)),
                             case_id=old.id, recipient="canbo", sent_by="giamsat", note=f"Gặp {CHILD} ngay",
                             sent_at=clock.now()))
    session.commit()
    retention.place_hold(session, ADMIN, held.id, {"reason": "Toà án đang thụ lý vụ án liên quan."})
    period = st.resolve_period(start=(clock.local(clock.now()) - timedelta(days=800)).date().isoformat(),
                               end=clock.local(clock.now()).date().isoformat())
    before = st.report_dict(session, people.actors["giamsat"], start=period.start.isoformat(),
                            end=period.end.isoformat())

    assert [c.id for c, _r in retention.eligible(session, one_year)] == [old.id]
    with pytest.raises(FieldErrors):
        retention.request(session, ADMIN, one_year, {"reason": ""})
    request = retention.request(session, ADMIN, one_year, {"reason": "Hết thời hạn lưu trữ theo QĐ 5/QĐ-LT."})
    assert request.cases["ids"] == [old.id] and request.status == "requested"
    with pytest.raises(Forbidden):  # the requester cannot confirm their own request
        retention.confirm(case_engine, session, ADMIN, one_year, request.id, {"note": "Tự xác nhận"})
    with pytest.raises(Forbidden):
        retention.request(session, people.actors["canbo"], one_year, {"reason": "x"})
    row, files = retention.confirm(case_engine, session, ADMIN2, one_year, request.id, {"note": "Đã kiểm tra."})
    assert row.status == "done" and row.result["destroyed"] == {old.number: ["case_file", "attachment"]}
    assert files == ["a" * 64]
    destruction_id = row.id
    with pytest.raises(InvalidState):
        retention.confirm(case_engine, session, ADMIN2, one_year, request.id, {"note": "Lần hai"})

    # Tombstones, not gaps: the case row and its steps stay, their personal content is gone.
    session.expire_all()
    kept = session.get(Case, old.id)
    assert kept.number == old.number and kept.received_at == old.received_at and kept.status == "no_basis"
    assert {r.record_type for r in session.scalars(select(DestroyedRecord))} == {"case_file", "attachment"}
    assert retention.destroyed(session, old.id, "case_file") and not retention.destroyed(session, held.id, "case_file")
    tasks = list(session.scalars(select(Task).where(Task.case_id == old.id)))
    assert tasks and all(t.form_data is None or set(t.form_data) <= {"decision"} for t in tasks)
    state = readable(session.get(CaseWorkflow, old.id).state)
    everything = state + json.dumps([e.details for e in session.scalars(
        select(AuditEntry).where(AuditEntry.case_id == old.id))], ensure_ascii=False)
    everything += json.dumps([(a.file_name, a.description) for a in session.scalars(select(Attachment))],
                             ensure_ascii=False)
    everything += json.dumps([r.note for r in session.scalars(select(TaskReminder))], ensure_ascii=False)
    for secret in (CHILD, PHONE, "Người Báo Tin Riêng", "Số 7 ngõ Kín"):
        assert secret not in everything
    # The held and the recent case keep their content.
    assert "Nguyễn Văn An" in readable(session.get(CaseWorkflow, held.id).state)
    assert not retention.destroyed(session, recent.id, "case_file")
    # The audit chain still verifies; the case still checks; statistics count the same.
    assert audit.verify(session) == []
    assert check.check_case(case_engine, session, kept) == []
    after = st.report_dict(session, people.actors["giamsat"], start=period.start.isoformat(),
                           end=period.end.isoformat())
    before.pop("generated_at"), after.pop("generated_at")
    assert after == before and "3" in json.dumps(before)  # three closed cases are counted, before and after
    # Forging a tombstone (details replaced with no destruction vouching for it) is found.
    victim = session.scalars(select(AuditEntry).where(AuditEntry.case_id == held.id,
                                                      AuditEntry.action == "form_recorded")).first()
    session.execute(update(AuditEntry).where(AuditEntry.id == victim.id)
                    .values(details={audit.TOMBSTONE: {"destruction": destruction_id, "removed": ["data"]}}))
    session.commit()
    assert [p.entry_id for p in audit.verify(session)] == [victim.id]


def test_retention_ends_on_the_anniversary_of_the_closing_day(case_engine, session, people, one_year):
    from datetime import datetime, time

    with time_machine.travel(datetime(2026, 12, 5, 10, 0, tzinfo=clock.LOCAL_TZ), tick=False):
        on_day, day_after = (closed_case(case_engine, session, people) for _ in range(2))
        for case, day in ((on_day, date(2025, 12, 5)), (day_after, date(2025, 12, 6))):
            closed = datetime.combine(day, time(23, 30), clock.LOCAL_TZ)  # late in the local day (UTC: 16:30)
            session.execute(update(Case).where(Case.id == case.id).values(closed_at=closed))
        session.commit()
        assert [c.id for c, _r in retention.eligible(session, one_year)] == [on_day.id]


def test_holds_expire_and_release_and_a_cancelled_request_destroys_nothing(case_engine, session, people, one_year):
    second_admin(session)
    case = closed_case(case_engine, session, people)
    tomorrow = (clock.local(clock.now()).date() + timedelta(days=1)).strftime("%d/%m/%Y")
    hold = retention.place_hold(session, ADMIN, case.id, {"reason": "Thanh tra tỉnh", "held_until": tomorrow})
    assert retention.eligible(session, one_year) == []
    with time_machine.travel(clock.now() + timedelta(days=3), tick=False):
        assert [c.id for c, _r in retention.eligible(session, one_year)] == [case.id]
    for bad in ({"reason": "x", "held_until": "hôm qua"}, {"reason": "x", "held_until": "01/01/2020"}, {}):
        with pytest.raises(FieldErrors):
            retention.place_hold(session, ADMIN, case.id, bad)
    retention.release_hold(session, ADMIN, hold.id, {"reason": "Thanh tra kết thúc."})
    with pytest.raises(InvalidState):
        retention.release_hold(session, ADMIN, hold.id, {"reason": "lại"})
    request = retention.request(session, ADMIN, one_year, {"reason": "Hết hạn"})
    # A restriction recorded between request and confirmation stops the destruction of that case.
    restriction.restrict(session, ADMIN, case.id, ORDER)
    row, files = retention.confirm(case_engine, session, ADMIN2, one_year, request.id, {"note": "ok"})
    assert row.result["destroyed"] == {} and case.number in row.result["skipped"] and files == []
    assert not retention.destroyed(session, case.id, "case_file")
    restriction.lift(session, ADMIN, restriction.active(session, case.id).id, {"reason": "Rút đề nghị"})
    request = retention.request(session, ADMIN, one_year, {"reason": "Hết hạn"})
    cancelled = retention.cancel(session, ADMIN2, request.id, {"note": "Chờ ý kiến lưu trữ tỉnh"})
    assert cancelled.status == "cancelled" and not retention.destroyed(session, case.id, "case_file")
    actions = [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.case_id.is_(None)))]
    assert actions.count("destruction_requested") == 2 and "destruction_cancelled" in actions
    assert audit.verify(session) == []
