"""Deadlines on the Vietnamese calendar, from the recorded legal moment; timers fire exactly once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import time_machine
from sqlalchemy import func, select

from engine import audit, clock, timers
from engine.clock import LOCAL_TZ
from engine.models import Case, Task, Timer
from web import demo


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)



def report(received: datetime, **override):
    data = demo.sample("mau_01", received)
    data["received_at"] = received.isoformat()
    return {**data, **override}


def task(session, case, step):
    return session.scalars(
        select(Task).where(Task.case_id == case.id, Task.step == step).order_by(Task.id.desc())
    ).first()


def test_plan_limit_after_tet_counted_from_receipt_not_from_task_creation(case_engine, session, people):
    received = vn(2026, 2, 13, 16, 0)  # Friday before Tết
    with time_machine.travel(received + timedelta(minutes=20), tick=False):
        case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report(received))
    assert clock.local(task(session, case, "verify").due_at) == vn(2026, 2, 14, 4, 0)  # 12 h on the clock
    # The officer gets to the plan days later; its limit is still 5 working days after receipt: after Tết.
    with time_machine.travel(vn(2026, 2, 13, 18, 0), tick=False):
        demo.drive(case_engine, session, case, people, stop_at="draft_plan")
    plan = task(session, case, "draft_plan")
    assert clock.local(plan.due_at) == vn(2026, 2, 27, 17, 0)
    assert plan.rule == "plan" and plan.escalated_at is None


def test_emergency_clock_runs_from_receipt_time_on_mau_01(case_engine, session, people):
    received = vn(2026, 3, 2, 9, 0)
    with time_machine.travel(vn(2026, 3, 2, 15, 0), tick=False):  # recorded 6 hours after the call
        case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report(received))
    with time_machine.travel(vn(2026, 3, 2, 17, 30), tick=False):
        demo.drive(
            case_engine,
            session,
            case,
            people,
            stop_at="emergency_decision",
            choices={"mau_02": {"emergency": True, "danger_description": "Nguy hiểm đến tính mạng."}},
        )
    decision = task(session, case, "emergency_decision")
    assert clock.local(decision.created_at) == vn(2026, 3, 2, 17, 30)
    assert clock.local(decision.due_at) == vn(2026, 3, 2, 21, 0)  # 12 h from 09:00 on Mẫu 01, not from 17:30


def test_deadline_escalates_exactly_once_and_reminds_before(case_engine, session, people):
    received = vn(2026, 3, 2, 9, 0)
    with time_machine.travel(received + timedelta(minutes=10), tick=False):
        case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report(received))
    verify = task(session, case, "verify")
    kinds = sorted(session.scalars(select(Timer.kind).where(Timer.case_id == case.id)))
    assert kinds == ["deadline", "reminder"]
    with time_machine.travel(vn(2026, 3, 2, 18, 30), tick=False):  # 75 % of 12 h passed: reminder only
        result = timers.tick(case_engine, session)
    assert result.fired == 1
    session.refresh(verify)
    assert verify.reminded_at is not None and verify.escalated_at is None
    with time_machine.travel(vn(2026, 3, 2, 21, 1), tick=False):
        assert timers.tick(case_engine, session).fired == 1
        assert timers.tick(case_engine, session).fired == 0
    session.refresh(verify)
    assert verify.state == "ready" and verify.escalated_at is not None  # non-interrupting
    escalations = session.scalars(select(Task).where(Task.case_id == case.id, Task.step == "escalate_verify")).all()
    assert len(escalations) == 1 and escalations[0].role == "supervisor"
    assert escalations[0].escalates_task_id == verify.id
    # The supervisor acknowledges; the officer can still do the step.
    case_engine.complete_task(
        session, people.actors["giamsat"], escalations[0].id, demo.sample("escalation_ack", clock.now())
    )
    case_engine.complete_task(session, people.actors["canbo"], verify.id, demo.sample("verification", clock.now()))
    assert task(session, case, "initial_assessment").state == "ready"
    assert audit.verify(session) == []


def test_separation_reaching_day_15_warns_then_escalates(case_engine, session, people):
    received = vn(2026, 3, 2, 9, 0)
    with time_machine.travel(received + timedelta(hours=1), tick=False):
        case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report(received))
        demo.drive(
            case_engine,
            session,
            case,
            people,
            stop_at="separation_decision",
            choices={
                "mau_02": {"emergency": True, "danger_description": "Bị đánh."},
                "emergency_measures": {"separate": True, "separation_reason": "Người cha gây tổn hại."},
            },
        )
        # Issue 16: the emergency measures ask for the chairman's Mẫu 07 decision, which sets the period.
        decision = task(session, case, "separation_decision")
        case_engine.complete_task(
            session, people.for_task(decision), decision.id,
            demo.sample("mau_07", clock.now(), start="2026-03-02", end="2026-03-16"),
        )
    review = task(session, case, "separation_review")
    assert clock.local(review.due_at) == vn(2026, 3, 16, 17, 0)
    reminder = session.scalars(select(Timer).where(Timer.task_id == review.id, Timer.kind == "reminder")).one()
    assert clock.local(reminder.fire_at) == vn(2026, 3, 14, 17, 0)  # warned 48 h before it lapses
    with time_machine.travel(vn(2026, 3, 14, 18, 0), tick=False):
        timers.tick(case_engine, session)
    session.refresh(review)
    assert review.reminded_at is not None and review.escalated_at is None
    with time_machine.travel(vn(2026, 3, 16, 17, 30), tick=False):  # day 15 is over
        timers.tick(case_engine, session)
    session.refresh(review)
    assert review.escalated_at is not None
    assert task(session, case, "escalate_separation_review").state == "ready"


def test_a_report_recorded_after_its_limit_escalates_at_once(case_engine, session, people):
    received = clock.now() - timedelta(days=3)
    case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report(received))
    verify = task(session, case, "verify")
    assert verify.escalated_at is not None
    assert task(session, case, "escalate_verify") is not None
    assert (
        session.scalar(
            select(func.count())
            .select_from(Timer)
            .where(Timer.case_id == case.id, Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))
        )
        == 0
    )


def test_failing_timer_becomes_an_incident_without_blocking_others(case_engine, session, people, monkeypatch):
    received = vn(2026, 3, 2, 9, 0)
    with time_machine.travel(received, tick=False):
        a = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report(received))
        b = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report(received))
    real = case_engine.load_workflow

    def broken(s, case):
        if case.id == a.id:
            raise RuntimeError("corrupt state")
        return real(s, case)

    monkeypatch.setattr(case_engine, "load_workflow", broken)
    for hour in range(5):
        with time_machine.travel(vn(2026, 3, 3, 9, hour * 11 % 60), tick=False):
            timers.tick(case_engine, session, max_attempts=3)
        with time_machine.travel(vn(2026, 3, 3, 9 + hour, 0), tick=False):
            timers.tick(case_engine, session, max_attempts=3)
    deadline_a = session.scalars(select(Timer).where(Timer.case_id == a.id, Timer.kind == "deadline")).one()
    assert deadline_a.incident and deadline_a.attempts == 3 and "corrupt state" in deadline_a.last_error
    assert task(session, b, "verify").escalated_at is not None


def test_concurrent_tick_workers_fire_each_timer_exactly_once(case_engine, session_factory, session, people, db_kind):
    received = vn(2026, 3, 2, 9, 0)
    with time_machine.travel(received, tick=False):
        cases = [
            case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report(received)) for _ in range(12)
        ]
    errors: list[Exception] = []
    fired: list[int] = []
    barrier = threading.Barrier(4)

    def worker(n: int) -> None:
        try:
            with session_factory() as s:
                barrier.wait()
                for _ in range(5):  # conflicts are retried on a later tick
                    fired.append(timers.tick(case_engine, s, worker=f"w{n}", batch=3).fired)
        except Exception as exc:  # pragma: no cover - reported by the assertion
            errors.append(exc)

    with time_machine.travel(vn(2026, 3, 3, 9, 0), tick=False):
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Whatever a conflict deferred, one more tick finishes (the retry delay has passed by then).
    with time_machine.travel(vn(2026, 3, 3, 9, 5), tick=False):
        fired.append(timers.tick(case_engine, session).fired)
    assert errors == []
    case_ids = [c.id for c in cases]
    escalations = session.scalars(
        select(Task.case_id).where(Task.case_id.in_(case_ids), Task.step == "escalate_verify")
    ).all()
    assert sorted(escalations) == sorted(case_ids)  # exactly one per case
    pending = session.scalar(
        select(func.count())
        .select_from(Timer)
        .where(Timer.case_id.in_(case_ids), Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))
    )
    assert pending == 0
    fired_rows = session.scalars(
        select(Timer.kind).where(Timer.case_id.in_(case_ids), Timer.fired_at.is_not(None))
    ).all()
    assert sum(fired) == len(fired_rows)  # every successful fire is one row, fired once
    assert fired_rows.count("deadline") == len(cases)  # a reminder overtaken by its deadline is cancelled
    assert audit.verify(session) == []
    assert session.scalar(select(func.count()).select_from(Case)) == 12


def test_a_tick_at_the_very_instant_of_a_limit_fires_it_on_the_next_tick(case_engine, session, people):
    # SpiffWorkflow fires a timer only once its moment is strictly past; a tick landing on the moment itself
    # must leave the deadline pending (not fail on a second row for the same boundary event) and fire it next.
    received = vn(2026, 3, 2, 9, 0)
    with time_machine.travel(received + timedelta(minutes=10), tick=False):
        case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report(received))
    verify = task(session, case, "verify")
    due = clock.local(verify.due_at)
    assert due == vn(2026, 3, 2, 21, 0)
    with time_machine.travel(due, tick=False):
        result = timers.tick(case_engine, session)
    assert result.errors == [] and result.retried == 0
    assert result.fired == 1  # the reminder, already due; not the deadline
    pending = session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.kind == "deadline")).all()
    assert [(t.fired_at, t.last_error) for t in pending] == [(None, None)]
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        assert timers.tick(case_engine, session).fired == 1
    session.refresh(verify)
    assert verify.escalated_at is not None
    assert session.scalar(select(func.count()).select_from(Timer).where(
        Timer.case_id == case.id, Timer.kind == "deadline", Timer.last_error.is_not(None))) == 0


def test_a_worker_whose_clock_runs_ahead_retries_without_writing(case_engine, session, people):
    # The row says due, SpiffWorkflow (the judge) says not yet: the attempt is a clean retry, nothing recorded.
    received = vn(2026, 3, 2, 9, 0)
    with time_machine.travel(received + timedelta(minutes=10), tick=False):
        case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report(received))
    row = session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.kind == "deadline")).one()
    row.fire_at = vn(2026, 3, 2, 20, 0)  # an hour before the workflow's own moment
    session.commit()
    with time_machine.travel(vn(2026, 3, 2, 20, 30), tick=False):
        result = timers.tick(case_engine, session)
    assert result.errors == [] and result.retried == 1 and result.fired == 1  # the reminder only
    session.refresh(row)
    assert row.fired_at is None and row.last_error is None and row.attempts == 0
    assert session.scalar(select(func.count()).select_from(Timer).where(
        Timer.case_id == case.id, Timer.kind == "deadline")) == 1
    with time_machine.travel(vn(2026, 3, 2, 21, 1), tick=False):
        assert timers.tick(case_engine, session).fired == 1
    assert task(session, case, "verify").escalated_at is not None
