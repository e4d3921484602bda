"""Issue 16: temporary separation at any point of an open case (Mẫu 07, Decree 56 Art. 32), the court request
beyond 15 days (Law on Children Art. 52.3), the Mẫu 03 reassessment a cancellation needs (32.3), and plan
adjustment while activities run (Art. 29.1a) — engine.separation, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

import forms
from engine import clock, versions
from engine.clock import LOCAL_TZ
from engine.errors import Conflict, Forbidden, InvalidState
from engine.models import AuditEntry, Case, Task
from engine.separation import plan_versions
from web import demo

START = clock.parse_moment("2026-03-02T08:00:00+07:00")  # a Monday


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def open_case(engine, session, people):
    report = demo.sample("mau_01", clock.now())
    return engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report)


def rows(session, case_id, step, state="ready"):
    return list(session.scalars(select(Task).where(Task.case_id == case_id, Task.step == step, Task.state == state)
                                .order_by(Task.id)))


def one(session, case_id, step):
    found = rows(session, case_id, step)
    assert len(found) == 1, (step, [t.step for t in demo.open_tasks(session, case_id)])
    return found[0]


def complete(engine, session, people, task, form=None, **override):
    data = demo.sample(form or task.form, clock.now(), **override)
    return engine.complete_task(session, people.for_task(task), task.id, data)


def day(offset: int) -> str:
    return (clock.local(clock.now()) + timedelta(days=offset)).date().isoformat()


def to_intervention(engine, session, people):
    case = open_case(engine, session, people)
    demo.drive(engine, session, case, people, stop_at="carry_out_activity")
    assert rows(session, case.id, "carry_out_activity")
    return case


def separate(engine, session, people, case, actor="chutich", end_in=10, frozen=None):
    request = demo.sample("separation_request", clock.now())
    engine.request_separation(session, people.actors[actor], case.id, request)
    decision = one(session, case.id, "separation_decision")
    complete(engine, session, people, decision, start=day(0), end=day(end_in))
    return one(session, case.id, "separation_review")


def test_separation_decided_during_intervention(case_engine, session, people):
    case = to_intervention(case_engine, session, people)
    activities = {t.id for t in rows(session, case.id, "carry_out_activity")}
    received = clock.now() - timedelta(minutes=20)
    request = demo.sample("separation_request", clock.now(), information_received_at=received.isoformat())
    row = case_engine.request_separation(session, people.actors["canbo"], case.id, request)
    assert (row.step, row.state, row.form_data["ground"]) == ("separation_request", "completed", "parents_refuse_plan")
    decision = one(session, case.id, "separation_decision")
    assert decision.role == "chairman" and decision.rule == "separation_decision"
    assert decision.due_at == received + timedelta(hours=12)  # Art. 32.2: 12 hours from the information
    # only one separation at a time, even while its decision is pending
    with pytest.raises(Conflict):
        case_engine.request_separation(session, people.actors["chutich"], case.id, request)
    complete(case_engine, session, people, decision, start=day(0), end=day(10))
    review = one(session, case.id, "separation_review")
    assert review.due_at == clock.parse_moment(f"{day(10)}T17:00:00+07:00")
    # the intervention goes on untouched beside the separation
    assert {t.id for t in rows(session, case.id, "carry_out_activity")} == activities
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.case_id == case.id)).all()
    assert "separation_requested" in actions


def test_who_may_ask_for_a_separation(case_engine, session, people):
    case = open_case(case_engine, session, people)
    request = demo.sample("separation_request", clock.now())
    for name in ("tiepnhan", "canbo2", "chutich2", "truonghoc"):
        with pytest.raises(Forbidden):
            case_engine.request_separation(session, people.actors[name], case.id, request)
    with pytest.raises(forms.FormError) as refused:
        case_engine.request_separation(session, people.actors["canbo"], case.id, {**request, "ground": "x"})
    assert set(refused.value.errors) == {"ground"}
    assert not rows(session, case.id, "separation_decision")
    assert not rows(session, case.id, "separation_request", "completed")


def test_a_declined_separation_ends_and_another_may_be_asked_for(case_engine, session, people):
    case = open_case(case_engine, session, people)
    request = demo.sample("separation_request", clock.now())
    case_engine.request_separation(session, people.actors["canbo"], case.id, request)
    complete(case_engine, session, people, one(session, case.id, "separation_decision"),
             decision="decline", decline_reason="Mẹ bảo đảm an toàn cho trẻ.", **{
                 k: None for k in ("decision_number", "ground", "ground_detail", "deciding_commune",
                                   "deciding_commune_name", "start", "end", "care", "carer_name", "carer_address",
                                   "carer_contact", "handed_over_at")})
    assert not rows(session, case.id, "separation_review")
    case_engine.request_separation(session, people.actors["chutich"], case.id, request)
    assert one(session, case.id, "separation_decision")


def test_separation_reaching_day_15_goes_to_court_and_continues_with_its_decision(case_engine, session, people,
                                                                                frozen):
    case = to_intervention(case_engine, session, people)
    review = separate(case_engine, session, people, case, end_in=12)
    start = day(0)
    frozen.shift(timedelta(days=11))
    # beyond 15 days without the court: refused on the field, nothing saved
    with pytest.raises(forms.FormError) as refused:
        complete(case_engine, session, people, review, action="extend", new_end=day(9), reason="Chưa an toàn.")
    assert "Tòa án" in refused.value.errors["new_end"][0]
    assert one(session, case.id, "separation_review").id == review.id
    complete(case_engine, session, people, review, action="court", reason="Cha chưa bảo đảm an toàn.")
    court_request = one(session, case.id, "court_request")
    assert court_request.role == "chairman"
    complete(case_engine, session, people, court_request, proposed_until=day(30))
    court = one(session, case.id, "court_decision")
    complete(case_engine, session, people, court, until=day(25), decision_number="12/2026/QĐ-TA")
    review = one(session, case.id, "separation_review")
    assert review.due_at == clock.parse_moment(f"{day(25)}T17:00:00+07:00")  # the court's date is the new end
    with pytest.raises(forms.FormError) as beyond:  # not past the court's date
        complete(case_engine, session, people, review, action="extend", new_end=day(26), reason="x")
    assert set(beyond.value.errors) == {"new_end"}
    done = complete(case_engine, session, people, review, action="reassess", reason="Đánh giá lại trước khi hết hạn.")
    # the court's decision is the authority the separation now runs on: recorded with the review
    assert "12/2026/QĐ-TA" in done.form_data["authority_reference"]
    assert done.form_data["current_start"] == start and done.form_data["authority_until"] == day(25)
    assert done.form_data["current_end"] == day(25)


def test_cancelling_needs_a_mau_03_reassessment_of_the_parents(case_engine, session, people, frozen):
    case = to_intervention(case_engine, session, people)
    frozen.shift(timedelta(hours=2))
    review = separate(case_engine, session, people, case)
    frozen.shift(timedelta(hours=2))
    cancel = {"action": "cancel", "reason": "Cha mẹ bảo đảm an toàn."}
    with pytest.raises(forms.FormError) as refused:
        complete(case_engine, session, people, review, **cancel)
    assert refused.value.errors["reassessment_task_id"] == [
        "Chỉ hủy bỏ quyết định cách ly khi cha, mẹ, người chăm sóc đã được đánh giá lại bảo đảm an toàn cho trẻ em "
        "theo Mẫu số 03 sau khi cách ly (Điều 32 khoản 3 NĐ 56/2017): chọn “Giao đánh giá lại (Mẫu số 03)” trước."]
    # a Mẫu 03 made before the separation does not count, even named by id
    earlier = session.scalar(select(Task.id).where(Task.case_id == case.id, Task.step == "detailed_assessment"))
    with pytest.raises(forms.FormError):
        complete(case_engine, session, people, review, reassessment_task_id=earlier, **cancel)
    complete(case_engine, session, people, review, action="reassess", reason="Đánh giá lại cha mẹ.")
    reassessment = one(session, case.id, "separation_reassessment")
    assert (reassessment.role, reassessment.form) == ("officer", "mau_03")
    complete(case_engine, session, people, reassessment)
    review = one(session, case.id, "separation_review")
    done = complete(case_engine, session, people, review, **cancel)
    assert done.form_data["reassessment_task_id"] == reassessment.id
    assert not demo.open_tasks(session, case.id) or all(
        t.step == "carry_out_activity" for t in demo.open_tasks(session, case.id))
    case_engine.request_separation(session, people.actors["chutich"], case.id,
                                   demo.sample("separation_request", clock.now()))  # a new one may start now


def test_a_separation_still_running_ends_with_the_case(case_engine, session, people):
    case = open_case(case_engine, session, people)
    separate(case_engine, session, people, case)
    demo.drive(case_engine, session, case, people, skip=lambda t: t.escalates_task_id is not None
               or t.step == "separation_review")
    case = session.get(Case, case.id)
    assert case.status == "closed"
    assert not demo.open_tasks(session, case.id)
    assert case_engine.load_workflow(session, case).is_completed()
    assert rows(session, case.id, "separation_review", "cancelled")[0].cancel_reason == "case_closed"


def adjust(engine, session, people, case, approve: bool, frozen):
    proposal = engine.request_adjustment(session, people.actors["canbo"], case.id)
    assert proposal.step == "propose_adjustment" and proposal.role == "officer"
    # pre-filled with the plan in force
    assert [a["measure"] for a in proposal.draft_data["activities"]] == [
        a["measure"] for a in demo.sample("mau_04", clock.now())["activities"]]
    with pytest.raises(Conflict):
        engine.request_adjustment(session, people.actors["canbo"], case.id)
    complete(engine, session, people, proposal)
    approval = one(session, case.id, "approve_adjustment")
    assert approval.role == "chairman" and approval.rule == "adjustment_approval"
    assert approval.due_at == clock.parse_moment("2026-03-04T17:00:00+07:00")  # 2 working days (Art. 28.4)
    if approve:
        complete(engine, session, people, approval)
    else:
        complete(engine, session, people, approval, decision="refuse", comments="Kế hoạch hiện tại vẫn phù hợp.",
                 decision_number=None, signed_at=None)


def test_plan_adjustment_approved_restarts_the_activities_as_plan_version_2(case_engine, session, people, frozen):
    case = to_intervention(case_engine, session, people)
    before = rows(session, case.id, "carry_out_activity")
    complete(case_engine, session, people, before[0], form="activity_report")  # one activity reported first
    adjust(case_engine, session, people, case, approve=True, frozen=frozen)
    after = rows(session, case.id, "carry_out_activity")
    assert [(t.assignee, t.activity["measure"]) for t in after] == [("truonghoc", "Hỗ trợ học tập")]
    cancelled = session.get(Task, before[1].id)
    assert (cancelled.state, cancelled.cancel_reason) == ("cancelled", "path_left")
    assert session.get(Task, before[0].id).state == "completed"  # the report stays in the case
    versions = plan_versions(session, session.get(Case, case.id))
    assert [(v["version"], v["kind"]) for v in versions] == [(1, "plan"), (2, "adjustment")]
    assert versions[1]["activities"][0]["measure"] == "Hỗ trợ học tập"
    # the review's limit follows the adjusted plan
    complete(case_engine, session, people, after[0], form="activity_report")
    review = one(session, case.id, "review")
    assert review.due_at is not None and clock.local(review.due_at).date().isoformat() > day(25)


def test_plan_adjustment_refused_leaves_the_plan_running(case_engine, session, people, frozen):
    case = to_intervention(case_engine, session, people)
    before = [t.id for t in rows(session, case.id, "carry_out_activity")]
    adjust(case_engine, session, people, case, approve=False, frozen=frozen)
    assert [t.id for t in rows(session, case.id, "carry_out_activity")] == before
    assert len(plan_versions(session, session.get(Case, case.id))) == 1


def test_an_adjustment_ends_when_the_activities_end_first(case_engine, session, people):
    case = to_intervention(case_engine, session, people)
    proposal = case_engine.request_adjustment(session, people.actors["canbo"], case.id)
    for task in rows(session, case.id, "carry_out_activity"):
        complete(case_engine, session, people, task)
    assert session.get(Task, proposal.id).state == "cancelled"
    assert one(session, case.id, "review")
    with pytest.raises(InvalidState):  # nothing left to adjust: review, then a new plan (Art. 30)
        case_engine.request_adjustment(session, people.actors["canbo"], case.id)


def test_only_the_officer_proposes_an_adjustment_and_only_during_intervention(case_engine, session, people):
    case = open_case(case_engine, session, people)
    with pytest.raises(InvalidState):
        case_engine.request_adjustment(session, people.actors["canbo"], case.id)
    with pytest.raises(Forbidden):
        case_engine.request_adjustment(session, people.actors["chutich"], case.id)


def test_the_chairman_signs_the_meeting_minute_or_returns_it(case_engine, session, people):
    case = open_case(case_engine, session, people)
    demo.drive(case_engine, session, case, people, stop_at="needs_meeting_signoff")
    signoff = one(session, case.id, "needs_meeting_signoff")
    assert signoff.role == "chairman"
    complete(case_engine, session, people, signoff, decision="return", comments="Thiếu đại diện khu dân cư.",
             signed_at=None)
    meeting = one(session, case.id, "needs_meeting")
    complete(case_engine, session, people, meeting)
    complete(case_engine, session, people, one(session, case.id, "needs_meeting_signoff"))
    assert one(session, case.id, "draft_plan")


def test_emergency_measures_ask_for_the_mau_07_decision_within_12_hours_of_the_report(case_engine, session, people):
    case = open_case(case_engine, session, people)
    demo.drive(case_engine, session, case, people, stop_at="emergency_decision",
               choices={"mau_02": {"emergency": True, "danger_description": "Bị đánh."}})
    complete(case_engine, session, people, one(session, case.id, "emergency_decision"), separate=True,
             separation_reason="Người cha gây tổn hại.")
    decision = one(session, case.id, "separation_decision")
    received = session.get(Case, case.id).received_at
    assert decision.due_at == received + timedelta(hours=12)
    assert one(session, case.id, "detailed_assessment")
    assert clock.local(decision.due_at).tzinfo == LOCAL_TZ or decision.due_at.tzinfo is not None


def test_a_case_on_the_process_before_issue_16_keeps_its_separation_review(case_engine, session, people):
    """Running cases keep their process version: one on the file before issue 16 (combined emergency decision,
    review = extend or cancel) still reviews on separation_review version 1, a typed authority included."""
    old = (Path(__file__).parent / "data" / "decree56_before_issue16.bpmn").read_text(encoding="utf-8")
    row = versions.upload(case_engine, session, "quantri", old.encode(), "decree56-before-16.bpmn").version
    versions.activate(case_engine, session, "quantri", row.id)
    case = open_case(case_engine, session, people)
    demo.drive(case_engine, session, case, people, stop_at="detailed_assessment",
               choices={"mau_02": {"emergency": True, "danger_description": "Bị đánh."}})
    review = one(session, case.id, "separation_review")
    with pytest.raises(InvalidState):  # no Mẫu 07 on that version: asked for from the page, it says so
        case_engine.request_separation(session, people.actors["chutich"], case.id,
                                       demo.sample("separation_request", clock.now()))
    done = complete(case_engine, session, people, review, action="extend", new_end=day(20), reason="Chưa an toàn.",
                    authority_reference="Văn bản số 5/CA của Công an phường")
    assert done.form_version == 1 and done.form_data["authority_reference"].startswith("Văn bản số 5")
    review = one(session, case.id, "separation_review")
    done = complete(case_engine, session, people, review, action="cancel", reason="An toàn.")
    assert done.form_version == 1 and not rows(session, case.id, "separation_review")

