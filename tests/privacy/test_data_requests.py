"""A data subject's request driven through processes/privacy/data_request.bpmn on both databases: the limits on
the working-day calendar (a weekend and the 27/04 and 30/04-03/05 holidays in the window), the escalation of a
late step by the tick, the one extension, refusals with their legal ground, the alleged abuser refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

import forms
from engine import audit, clock, representatives, timers
from engine.errors import Forbidden
from engine.models import AuditEntry, DataRequest, DataRequestStep
from tests.privacy.privacy_kit import open_case, process, representative_data, request_data, vn

ACCEPT = {"identity_verified": True, "decision": "accept", "reply": "Đã nhận yêu cầu, sẽ trả lời trong thời hạn."}


def ready_step(session, request: DataRequest) -> DataRequestStep:
    [step] = session.scalars(select(DataRequestStep).where(DataRequestStep.request_id == request.id,
                                                           DataRequestStep.state == "ready")).all()
    return step


def actions(session, request: DataRequest) -> list[str]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.case_id == request.case_id).order_by(AuditEntry.id))
    return [r.action for r in rows if r.action.startswith("data_request") and r.details.get("request") == request.id]


def test_request_end_to_end_with_holidays_escalation_and_one_extension(case_engine, session, people):
    admin = people.actors["quantri"]
    case = open_case(case_engine, session, people)
    dr = process(case_engine)
    received = vn(2026, 4, 24, 10, 0)  # Friday; Mon 27/04 is Giỗ Tổ, 30/04-03/05 are off
    with time_machine.travel(received + timedelta(hours=1), tick=False):
        request = dr.receive(session, admin, request_data(case, received, request_type="withdraw"))
    assert request.number == f"YCDL-2026-{request.id:05d}" and request.status == "received"
    # Acknowledge in 2 working days: Sat, Sun and the holiday Monday do not count.
    assert clock.local(request.ack_due_at) == vn(2026, 4, 29, 17, 0)
    # Withdrawal: 15 days from the day after receipt end on Sat 09/05, moved to Monday 11/05.
    assert clock.local(request.due_at) == vn(2026, 5, 11, 17, 0)
    ack = ready_step(session, request)
    assert (ack.step, ack.form, ack.rule) == ("acknowledge", "data_request_ack", "data_request_acknowledge")
    assert clock.local(ack.due_at) == vn(2026, 4, 29, 17, 0)

    # The limit passes: the tick escalates the step once, the step stays open (non-interrupting timer).
    with time_machine.travel(vn(2026, 4, 29, 16, 59), tick=False):
        assert timers.tick(case_engine, session).errors == []
    assert ready_step(session, request).escalated_at is None
    with time_machine.travel(vn(2026, 4, 29, 17, 1), tick=False):
        timers.tick(case_engine, session)
        timers.tick(case_engine, session)
    session.expire_all()
    late = ready_step(session, request)
    assert late.id == ack.id and clock.local(late.escalated_at) == vn(2026, 4, 29, 17, 1)
    assert actions(session, request).count("data_request_deadline_passed") == 1

    with time_machine.travel(vn(2026, 4, 30, 9, 0), tick=False):
        dr.complete(session, admin, ack.id, ACCEPT)
    session.refresh(request)
    assert request.status == "acknowledged" and clock.local(request.acknowledged_at) == vn(2026, 4, 30, 9, 0)
    handle = ready_step(session, request)
    assert handle.step == "handle" and clock.local(handle.due_at) == vn(2026, 5, 11, 17, 0)

    with time_machine.travel(vn(2026, 5, 8, 10, 0), tick=False):
        dr.complete(session, admin, handle.id, {"outcome": "extend", "extension_reason": "Cần ý kiến của cha mẹ.",
                                                "reply": "Gia hạn giải quyết."})
    session.refresh(request)
    # The extension's 15 days run on from the original limit: Tuesday 26/05.
    assert clock.local(request.due_at) == vn(2026, 5, 26, 17, 0)
    assert clock.local(request.extended_at) == vn(2026, 5, 8, 10, 0)
    again = ready_step(session, request)
    assert again.id != handle.id and clock.local(again.due_at) == vn(2026, 5, 26, 17, 0)
    with time_machine.travel(vn(2026, 5, 9, 10, 0), tick=False), pytest.raises(forms.FormError) as refused:
        dr.complete(session, admin, again.id, {"outcome": "extend", "extension_reason": "Lần nữa.", "reply": "x"})
    assert "một lần" in refused.value.errors["outcome"][0]
    # The original limit (11/05) no longer escalates: the new step runs on the extended limit.
    with time_machine.travel(vn(2026, 5, 12, 9, 0), tick=False):
        timers.tick(case_engine, session)
    session.expire_all()
    assert ready_step(session, request).escalated_at is None

    with time_machine.travel(vn(2026, 5, 20, 15, 0), tick=False):
        dr.complete(session, admin, again.id, {"outcome": "done", "result": "Đã ngừng xử lý theo sự đồng ý.",
                                               "reply": "Đã thực hiện yêu cầu."})
    session.refresh(request)
    assert request.status == "completed" and clock.local(request.closed_at) == vn(2026, 5, 20, 15, 0)
    steps = dr.steps(session, request.id)
    assert [(s.step, s.state) for s in steps] == [("acknowledge", "completed"), ("handle", "completed"),
                                                  ("handle", "completed")]
    assert actions(session, request) == [
        "data_request_received", "data_request_step_opened", "data_request_deadline_passed",
        "data_request_step_completed", "data_request_step_opened", "data_request_step_completed",
        "data_request_step_opened", "data_request_step_completed", "data_request_closed"]
    assert audit.verify(session) == []
    assert dr.load_workflow(session, request).is_completed()


def test_refusals_carry_their_legal_ground(case_engine, session, people):
    admin = people.actors["quantri"]
    case = open_case(case_engine, session, people)
    dr = process(case_engine)
    received = vn(2026, 5, 4, 9, 0)
    with time_machine.travel(received, tick=False):
        deletion = dr.receive(session, admin, request_data(case, received, request_type="delete"))
        viewing = dr.receive(session, admin, request_data(case, received))
    assert clock.local(deletion.due_at) == vn(2026, 5, 25, 17, 0)  # 20 days: Sun 24/05 -> Mon 25/05
    assert clock.local(viewing.due_at) == vn(2026, 5, 14, 17, 0)  # 10 days: Thursday
    with time_machine.travel(received + timedelta(hours=2), tick=False):
        dr.complete(session, admin, ready_step(session, deletion).id, ACCEPT)
        step = ready_step(session, deletion)
        with pytest.raises(forms.FormError) as missing:
            dr.complete(session, admin, step.id, {"outcome": "refuse", "reply": "Từ chối."})
        assert "refusal_ground" in missing.value.errors
        dr.complete(session, admin, step.id, {"outcome": "refuse", "refusal_ground": "dossier_retention",
                                              "reply": "Hồ sơ phải được lưu giữ tại UBND xã."})
        # Retention answers erasure only; a request to view is refused on identity instead.
        ack = ready_step(session, viewing)
        with pytest.raises(forms.FormError) as wrong:
            dr.complete(session, admin, ack.id, {"identity_verified": False, "decision": "refuse",
                                                 "refusal_ground": "dossier_retention", "reply": "Từ chối."})
        assert "refusal_ground" in wrong.value.errors
        with pytest.raises(forms.FormError) as unverified:
            dr.complete(session, admin, ack.id, {**ACCEPT, "identity_verified": False})
        assert "identity_verified" in unverified.value.errors
        dr.complete(session, admin, ack.id, {"identity_verified": False, "decision": "refuse",
                                             "refusal_ground": "identity_unverified", "reply": "Chưa xác minh."})
    for request, ground in ((deletion, "dossier_retention"), (viewing, "identity_unverified")):
        session.refresh(request)
        assert (request.status, request.refusal_ground) == ("refused", ground)
        assert dr.open_step(session, request.id) is None
    assert audit.verify(session) == []


def test_a_representative_who_is_the_alleged_abuser_is_refused(case_engine, session, people):
    admin, officer = people.actors["quantri"], people.actors["canbo"]
    case = open_case(case_engine, session, people)
    dr = process(case_engine)
    with time_machine.travel(vn(2026, 4, 2, 9, 0), tick=False):
        father = representatives.record(case_engine, session, officer, case.id, representative_data(
            full_name="Lê Văn Cường", relation="father", alleged_abuser=True))
        mother = representatives.record(case_engine, session, officer, case.id, representative_data())
    received = vn(2026, 4, 6, 9, 0)
    with time_machine.travel(received, tick=False):
        request = dr.receive(session, admin, request_data(
            case, received, requester_kind="representative", representative_id=father.id,
            requester_name="Lê Văn Cường", request_type="copy"))
    assert (request.status, request.refusal_ground) == ("refused", "alleged_abuser")
    assert dr.steps(session, request.id) == [] and dr.load_workflow(session, request).is_completed()
    assert actions(session, request) == ["data_request_received", "data_request_closed"]

    # The mother's request goes on; when she is flagged meanwhile, nothing of the file goes to her.
    with time_machine.travel(received, tick=False):
        hers = dr.receive(session, admin, request_data(case, received, requester_kind="representative",
                                                       representative_id=mother.id, request_type="copy"))
        assert hers.status == "received"
        representatives.update(case_engine, session, officer, mother.id, representative_data(alleged_abuser=True))
        ack = ready_step(session, hers)
        with pytest.raises(forms.FormError) as barred:
            dr.complete(session, admin, ack.id, ACCEPT)
        assert "người bị nghi xâm hại" in barred.value.errors["decision"][0]
        dr.complete(session, admin, ack.id, {"identity_verified": True, "decision": "refuse",
                                             "refusal_ground": "alleged_abuser", "reply": "Từ chối."})
    session.refresh(hers)
    assert (hers.status, hers.refusal_ground) == ("refused", "alleged_abuser")
    flagged = [r.action for r in session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id))]
    assert "representative_barred" in flagged and flagged.count("representative_recorded") == 2
    assert audit.verify(session) == []


def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(case_engine, session, people):
    admin = people.actors["quantri"]
    case = open_case(case_engine, session, people)
    dr = process(case_engine)
    received = vn(2026, 4, 6, 9, 0)
    with time_machine.travel(received, tick=False):
        with pytest.raises(forms.FormError) as unknown:
            dr.receive(session, admin, request_data(case, received, case_number="X-2026-9999"))
        assert "X-2026-9999" in unknown.value.errors["case_number"][0]
        with pytest.raises(forms.FormError) as no_rep:
            dr.receive(session, admin, request_data(case, received, requester_kind="representative"))
        assert "representative_id" in no_rep.value.errors
        with pytest.raises(forms.FormError) as stranger:
            dr.receive(session, admin, request_data(case, received, requester_kind="representative",
                                                    representative_id=99999))
        assert "representative_id" in stranger.value.errors
        with pytest.raises(Forbidden):
            dr.receive(session, people.actors["canbo"], request_data(case, received))
    assert session.scalars(select(DataRequest)).all() == []


def test_a_request_survives_a_restart_and_keeps_the_process_text_it_started_on(case_engine, session, people,
                                                                                tmp_path):
    from engine.data_requests import PROCESS_FILE, DataRequests
    from engine.models import PrivacyProcess

    admin = people.actors["quantri"]
    case = open_case(case_engine, session, people)
    received = vn(2026, 4, 6, 9, 0)
    with time_machine.travel(received, tick=False):
        first = process(case_engine).receive(session, admin, request_data(case, received))
    # A new release renames the handling step; a runner built afresh (nothing cached) continues the old request
    # on the text it started on, and new requests start on the new one.
    changed = tmp_path / "data_request.bpmn"
    changed.write_text(PROCESS_FILE.read_text(encoding="utf-8").replace(
        'name="Giải quyết yêu cầu"', 'name="Giải quyết yêu cầu (bản mới)"'), encoding="utf-8")
    restarted = DataRequests(case_engine, changed)
    with time_machine.travel(received + timedelta(hours=1), tick=False):
        restarted.complete(session, admin, ready_step(session, first).id, ACCEPT)
        second = restarted.receive(session, admin, request_data(case, received))
        restarted.complete(session, admin, ready_step(session, second).id, ACCEPT)
    assert ready_step(session, first).title == "Giải quyết yêu cầu"
    assert ready_step(session, second).title == "Giải quyết yêu cầu (bản mới)"
    assert first.process_id != second.process_id and len(session.scalars(select(PrivacyProcess)).all()) == 2
    with time_machine.travel(received + timedelta(hours=2), tick=False):
        restarted.complete(session, admin, ready_step(session, first).id, {
            "outcome": "done", "result": "Đã cho xem.", "reply": "Đã thực hiện."})
    session.refresh(first)
    assert first.status == "completed"


def test_a_day_declared_off_moves_the_open_request_limits(calendar_engine, session, people):
    from datetime import date

    from engine import rescheduling

    admin = people.actors["quantri"]
    case = open_case(calendar_engine, session, people)
    dr = process(calendar_engine)
    received = vn(2026, 6, 10, 9, 0)  # Wednesday
    with time_machine.travel(received, tick=False):
        request = dr.receive(session, admin, request_data(case, received))
        assert clock.local(ready_step(session, request).due_at) == vn(2026, 6, 12, 17, 0)
        rescheduling.change_day(calendar_engine, session, "quantri", date(2026, 6, 11), False, "Nghỉ đột xuất")
    session.expire_all()
    ack = ready_step(session, request)
    assert clock.local(ack.due_at) == vn(2026, 6, 15, 17, 0) == clock.local(request.ack_due_at)
    with time_machine.travel(vn(2026, 6, 12, 18, 0), tick=False):  # the old limit has passed: nothing fires
        timers.tick(calendar_engine, session)
        session.expire_all()
        assert ready_step(session, request).escalated_at is None
        dr.complete(session, admin, ack.id, ACCEPT)
        # 10 days end on Saturday 20/06 -> Monday 22/06; that Monday declared off -> Tuesday 23/06.
        assert clock.local(ready_step(session, request).due_at) == vn(2026, 6, 22, 17, 0)
        rescheduling.change_day(calendar_engine, session, "quantri", date(2026, 6, 22), False, "Nghỉ bù")
    session.expire_all()
    assert clock.local(ready_step(session, request).due_at) == vn(2026, 6, 23, 17, 0)
    assert clock.local(request.due_at) == vn(2026, 6, 23, 17, 0)
    with time_machine.travel(vn(2026, 6, 23, 17, 1), tick=False):
        timers.tick(calendar_engine, session)
    session.expire_all()
    assert clock.local(ready_step(session, request).escalated_at) == vn(2026, 6, 23, 17, 1)
    assert actions(session, request).count("data_request_deadline_rescheduled") == 2
    assert audit.verify(session) == []
