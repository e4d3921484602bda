"""A case runs from report to closure through every branch of the procedure, on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

import forms
from engine import audit, clock
from engine.clock import LOCAL_TZ
from engine.errors import Conflict, Forbidden
from engine.models import AuditEntry, Task, Timer
from web import demo


def open_case(engine, session, people, **mau01):
    report = demo.sample("mau_01", clock.now(), **mau01)
    return engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report)


def steps(session, case, state=None):
    query = select(Task.step).where(Task.case_id == case.id).order_by(Task.id)
    if state:
        query = query.where(Task.state == state)
    return list(session.scalars(query))


def ready(session, case):
    return demo.open_tasks(session, case.id)


def test_straight_path_to_closure(case_engine, session, people):
    case = open_case(case_engine, session, people)
    assert case.number == f"T01-X01-{clock.local(case.received_at).year}-0001"
    assert steps(session, case, "ready") == ["verify"]
    done = demo.drive(case_engine, session, case, people)
    assert done == [
        "verify",
        "initial_assessment",
        "detailed_assessment",
        "needs_meeting",
        "needs_meeting_signoff",
        "draft_plan",
        "draft_decision",
        "approve_plan",
        "carry_out_activity",
        "carry_out_activity",
        "review",
        "end_plan",
    ]
    session.refresh(case)
    assert (case.status, case.closed_at is not None) == ("closed", True)
    assert ready(session, case) == []
    rows = session.scalars(select(Task).where(Task.case_id == case.id, Task.state == "completed")).all()
    assert all(r.form_data and r.completed_by for r in rows)
    assert {r.completed_by for r in rows if r.step == "carry_out_activity"} == {"truonghoc", "yte"}
    # No timer is left pending once the case is closed and every step was on time.
    assert (
        session.scalar(
            select(func.count())
            .select_from(Timer)
            .where(Timer.case_id == case.id, Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))
        )
        == 0
    )
    assert audit.verify(session) == []


def test_report_without_basis_ends_with_chairman_signoff(case_engine, session, people):
    case = open_case(case_engine, session, people)
    demo.drive(
        case_engine,
        session,
        case,
        people,
        choices={"verification": {"has_basis": False, "reason_no_basis": "Không có sự việc."}},
    )
    session.refresh(case)
    assert case.status == "no_basis"
    assert steps(session, case) == ["receive", "verify", "no_basis_signoff"]


def test_chairman_sends_a_no_basis_report_back_for_verification(case_engine, session, people):
    case = open_case(case_engine, session, people)
    done = demo.drive(
        case_engine,
        session,
        case,
        people,
        stop_at="initial_assessment",
        choices={
            "verification": [{"has_basis": False, "reason_no_basis": "Chưa rõ."}, {"has_basis": True}],
            "no_basis_signoff": {"confirm": False, "note": "Cần xác minh lại tại trường học."},
        },
    )
    assert done == ["verify", "no_basis_signoff", "verify"]
    assert steps(session, case, "ready") == ["initial_assessment"]


def test_emergency_with_separation_extended_then_cancelled(case_engine, session, people):
    case = open_case(case_engine, session, people)
    demo.drive(
        case_engine,
        session,
        case,
        people,
        stop_at="detailed_assessment",
        choices={"mau_02": {"emergency": True, "danger_description": "Trẻ bị đánh, có thương tích."},
                 "emergency_measures": {"separate": True, "separation_reason": "Người cha gây tổn hại."}},
    )
    # The Art. 31 measures asked for the chairman's Mẫu 07 decision (Art. 32), due 12 hours after the report.
    assert sorted(steps(session, case, "ready")) == ["detailed_assessment", "separation_decision"]
    decision = next(t for t in ready(session, case) if t.step == "separation_decision")
    assert decision.due_at == session.get(type(case), case.id).received_at + timedelta(hours=12)
    chairman = people.actors["chutich"]
    case_engine.complete_task(session, chairman, decision.id, demo.sample("mau_07", clock.now()))
    decision = session.get(Task, decision.id)
    assert sorted(steps(session, case, "ready")) == ["detailed_assessment", "separation_review"]
    review = next(t for t in ready(session, case) if t.step == "separation_review")
    end = datetime.fromisoformat(decision.form_data["end"]).date()
    assert clock.local(review.due_at) == datetime(end.year, end.month, end.day, 17, 0, tzinfo=LOCAL_TZ)
    start = datetime.fromisoformat(decision.form_data["start"]).date()
    # Beyond 15 days from the start only on the court's decision (Art. 32.3): refused on the new end date.
    with pytest.raises(forms.FormError) as err:
        case_engine.complete_task(
            session,
            chairman,
            review.id,
            demo.sample("separation_review", clock.now(), action="extend", new_end=str(start + timedelta(days=20))),
        )
    assert set(err.value.errors) == {"new_end"}
    case_engine.complete_task(
        session, chairman, review.id,
        demo.sample("separation_review", clock.now(), action="extend", new_end=str(start + timedelta(days=15))),
    )
    again = next(t for t in ready(session, case) if t.step == "separation_review")
    assert clock.local(again.due_at).date() == start + timedelta(days=15)
    # Cancelled after the parents were reassessed on Mẫu 03: the detailed assessment, made after the decision.
    demo.drive(case_engine, session, case, people, stop_at="needs_meeting",
               skip=lambda t: t.escalates_task_id is not None or t.step == "separation_review")
    case_engine.complete_task(session, chairman, again.id, demo.sample("separation_review", clock.now()))
    assert "separation_review" not in steps(session, case, "ready")
    demo.drive(case_engine, session, case, people)
    session.refresh(case)
    assert case.status == "closed"


def test_plan_returned_for_revision_then_approved(case_engine, session, people):
    case = open_case(case_engine, session, people)
    done = demo.drive(
        case_engine,
        session,
        case,
        people,
        stop_at="carry_out_activity",
        choices={"plan_approval": [{"decision": "return", "comments": "Bổ sung kinh phí."}, {"decision": "approve"}]},
    )
    assert done[-4:] == ["approve_plan", "draft_plan", "draft_decision", "approve_plan"]
    assert sorted(steps(session, case, "ready")) == ["carry_out_activity", "carry_out_activity"]


def test_review_replans_then_a_second_cycle_closes(case_engine, session, people):
    case = open_case(case_engine, session, people)
    done = demo.drive(
        case_engine,
        session,
        case,
        people,
        choices={
            "mau_06": [{"conclusion": "replan", "no_longer_at_risk": False}, {"conclusion": "close"}],
            "plan_end": [{"decision": "replan", "note": "Cần thêm hỗ trợ học tập."}, {"decision": "end"}],
        },
    )
    assert done.count("review") == 3 and done.count("draft_plan") == 3 and done.count("end_plan") == 2
    session.refresh(case)
    assert case.status == "closed"


def test_crime_opens_a_police_track_that_does_not_block(case_engine, session, people):
    case = open_case(case_engine, session, people, crime_suspected=True)
    assert sorted(steps(session, case, "ready")) == ["police_referral", "verify"]
    demo.drive(
        case_engine,
        session,
        case,
        people,
        skip=lambda t: t.escalates_task_id is not None or t.step.startswith("police"),
    )
    session.refresh(case)
    assert case.status == "closed"
    assert sorted(steps(session, case, "ready")) == ["police_referral"]
    demo.drive(case_engine, session, case, people)
    assert steps(session, case, "ready") == []
    assert {"police_referral", "police_outcome"} <= set(steps(session, case, "completed"))


def test_each_plan_activity_is_a_task_for_whoever_the_plan_names(case_engine, session, people):
    case = open_case(case_engine, session, people)
    at = clock.now()
    acts = [
        {
            "measure": f"Hoạt động {i}",
            "level": "support",
            "assignee": a,
            "responsible_body": "UBND phường",
            "cost": 0,
            "start": demo._day(at),
            "end": demo._day(at, 10 + i),
        }
        for i, a in enumerate(["truonghoc", "yte", "truonghoc"])
    ]
    demo.drive(
        case_engine, session, case, people, stop_at="carry_out_activity", choices={"mau_04": {"activities": acts}}
    )
    tasks = [t for t in ready(session, case) if t.step == "carry_out_activity"]
    assert sorted((t.assignee, clock.local(t.due_at).date().isoformat()) for t in tasks) == sorted(
        (a["assignee"], a["end"]) for a in acts
    )
    assert all(t.role == "partner" for t in tasks)


def test_invalid_data_changes_nothing(case_engine, session, people):
    case = open_case(case_engine, session, people)
    task = ready(session, case)[0]
    audits = session.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(forms.FormError) as err:
        case_engine.complete_task(session, people.actors["canbo"], task.id, {"has_basis": "perhaps"})
    assert "findings" in err.value.errors and "has_basis" in err.value.errors
    session.refresh(case)
    assert case.version == 2 and steps(session, case, "ready") == ["verify"]
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits


def test_stale_version_is_a_conflict_and_changes_nothing(case_engine, session, people):
    case = open_case(case_engine, session, people)
    task = ready(session, case)[0]
    with pytest.raises(Conflict):
        case_engine.complete_task(
            session,
            people.actors["canbo"],
            task.id,
            demo.sample("verification", clock.now()),
            expected_version=case.version - 1,
        )
    assert steps(session, case, "ready") == ["verify"]


def test_other_commune_and_wrong_role_are_refused(case_engine, session, people):
    case = open_case(case_engine, session, people)
    task = ready(session, case)[0]
    for who in ("canbo2", "chutich", "giamsat", "thanhtra", "truonghoc"):
        with pytest.raises(Forbidden):
            case_engine.complete_task(session, people.actors[who], task.id, demo.sample("verification", clock.now()))


def test_concurrent_completions_one_wins_one_conflicts(case_engine, session_factory, session, people):
    import threading

    case = open_case(case_engine, session, people)
    task = ready(session, case)[0]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def complete():
        with session_factory() as s:
            barrier.wait()
            try:
                case_engine.complete_task(
                    s,
                    people.actors["canbo"],
                    task.id,
                    demo.sample("verification", clock.now()),
                    expected_version=case.version,
                )
                results.append("ok")
            except Conflict:
                results.append("conflict")

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    assert steps(session, case, "completed").count("verify") == 1
    assert steps(session, case, "ready") == ["initial_assessment"]
    session.refresh(case)
    assert case.version == 3
    assert audit.verify(session) == []


def test_an_older_process_version_keeps_running(case_engine, session, people):
    case = open_case(case_engine, session, people)
    definition = case_engine.registry.for_version(session, case.process_version_id)
    assert definition.content_hash == case_engine.registry.current.content_hash
    workflow = case_engine.load_workflow(session, case)
    assert workflow.script_engine is case_engine.script_engine


def test_new_definition_is_a_new_version_and_running_cases_keep_theirs(case_engine, session, people, tmp_path):
    from engine.registry import PROCESS_DIR, ProcessRegistry
    from engine.runtime import Engine

    old_case = open_case(case_engine, session, people)
    changed = (PROCESS_DIR / "decree56.bpmn").read_text(encoding="utf-8").replace(
        'name="Xác minh thông tin"', 'name="Xác minh thông tin (bản mới)"', 1
    )
    assert "bản mới" in changed
    (tmp_path / "decree56.bpmn").write_text(changed, encoding="utf-8")
    newer = Engine(registry=ProcessRegistry(case_engine.rules, directory=tmp_path))
    new_case = newer.open_case(session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now()))
    assert new_case.process_version_id != old_case.process_version_id
    assert ready(session, new_case)[0].title == "Xác minh thông tin (bản mới)"
    # The running case, driven by the newer engine, still follows the definition it started with.
    demo.drive(newer, session, old_case, people, stop_at="initial_assessment")
    titles = set(session.scalars(select(Task.title).where(Task.case_id == old_case.id)))
    assert "Xác minh thông tin" in titles and "Xác minh thông tin (bản mới)" not in titles


def test_check_finds_nothing_on_a_healthy_database_and_names_damage(case_engine, session, people):
    from sqlalchemy import text

    from engine.check import check

    case = open_case(case_engine, session, people)
    demo.drive(case_engine, session, case, people, stop_at="draft_plan")
    assert list(check(case_engine, session)) == []
    session.execute(text("UPDATE task SET state = 'completed' WHERE step = 'draft_plan'"))
    session.execute(text("DELETE FROM timer WHERE kind = 'deadline'"))
    session.commit()
    problems = list(check(case_engine, session))
    assert any("has no open task row" in p for p in problems)
    assert any("is not recorded in the timer table" in p for p in problems)
