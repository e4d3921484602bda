"""Deadlines follow the calendar: a day declared off or working (or removed) moves the open working-day limits
that span it — task row, timer rows and the workflow's own timer together, audited per step."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from engine import audit, clock, rescheduling, timers
from engine.calendar import CALENDAR_FILE, estimate_year, missing_years
from engine.check import check
from engine.clock import LOCAL_TZ
from engine.errors import InvalidState, NotFound
from engine.models import AuditEntry, CalendarDay, Case, Task, Timer
from web import demo

DAY = date(2026, 12, 7)  # a Monday


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


@pytest.fixture
def engine(calendar_engine):
    return calendar_engine


def open_case(engine, session, people, received: datetime, stop_at: str | None = None) -> Case:
    report = {**demo.sample("mau_01", received), "received_at": received.isoformat()}
    with time_machine.travel(received + timedelta(minutes=10), tick=False):
        case = engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report)
        if stop_at:
            demo.drive(engine, session, case, people, stop_at=stop_at)
    return case


def step(session, case: Case, name: str) -> Task:
    return session.scalars(select(Task).where(Task.case_id == case.id, Task.step == name)).one()


def fresh(session, task: Task) -> Task:
    """The row as the database has it now (`check` empties the session)."""
    session.expire_all()
    return session.get(Task, task.id)


def pending(session, task: Task) -> dict[str, datetime]:
    return {t.kind: clock.local(t.fire_at) for t in session.scalars(select(Timer).where(
        Timer.task_id == task.id, Timer.fired_at.is_(None), Timer.cancelled_at.is_(None)))}


def workflow_due(engine, session, case: Case, task: Task) -> datetime:
    """The moment SpiffWorkflow's own boundary timer waits for (its `event_value`)."""
    timer = session.scalars(select(Timer).where(Timer.task_id == task.id, Timer.kind == "deadline")).one()
    spiff = engine.load_workflow(session, case).get_task_from_id(uuid.UUID(timer.spiff_id))
    return clock.local(clock.parse_moment(spiff.internal_data["event_value"]))


@pytest.fixture
def cases(engine, session, people):
    """A plan due 17:00 on Monday 07/12/2026 (5 working days from Monday 30/11), and a verification due
    20:00 that Monday (12 hours on the clock from its receipt)."""
    plan_case = open_case(engine, session, people, vn(2026, 11, 30, 9, 0), stop_at="draft_plan")
    hours_case = open_case(engine, session, people, vn(2026, 12, 7, 8, 0))
    plan, verify = step(session, plan_case, "draft_plan"), step(session, hours_case, "verify")
    assert clock.local(plan.due_at) == vn(2026, 12, 7, 17, 0) and plan.rule == "plan"
    assert clock.local(verify.due_at) == vn(2026, 12, 7, 20, 0) and verify.rule == "verify"
    return plan_case, hours_case


def test_day_off_moves_working_day_limit_and_removal_moves_it_back(engine, session, people, cases):
    plan_case, hours_case = cases
    plan, verify = step(session, plan_case, "draft_plan"), step(session, hours_case, "verify")
    verify_timers = pending(session, verify)
    with time_machine.travel(vn(2026, 12, 2, 10, 0), tick=False):
        moves = rescheduling.change_day(engine, session, "quantri", DAY, False, "Nghỉ bù (thử)")
    assert [(m.task_id, clock.local(m.old_due), clock.local(m.new_due)) for m in moves] == [
        (plan.id, vn(2026, 12, 7, 17, 0), vn(2026, 12, 8, 17, 0))]
    plan = fresh(session, plan)
    verify = fresh(session, verify)
    assert clock.local(plan.due_at) == vn(2026, 12, 8, 17, 0)  # the next working day
    timers_now = pending(session, plan)
    assert timers_now["deadline"] == vn(2026, 12, 8, 17, 0) == workflow_due(engine, session, plan_case, plan)
    assert vn(2026, 12, 2, 10, 0) < timers_now["reminder"] < timers_now["deadline"]
    # Hours run on the clock: the verification keeps its limit, timers and workflow moment.
    assert clock.local(verify.due_at) == vn(2026, 12, 7, 20, 0) and pending(session, verify) == verify_timers
    assert workflow_due(engine, session, hours_case, verify) == vn(2026, 12, 7, 20, 0)
    assert not engine.calendar.is_working_day(DAY)  # this process follows at once
    assert list(check(engine, session)) == []
    trail = session.scalars(select(AuditEntry).where(AuditEntry.action == "deadline_rescheduled")).all()
    assert [(a.case_id, a.details["task"], a.details["day"]) for a in trail] == [(plan_case.id, plan.id, "2026-12-07")]
    assert clock.local(clock.parse_moment(trail[0].details["old_due_at"])) == vn(2026, 12, 7, 17, 0)
    assert clock.local(clock.parse_moment(trail[0].details["due_at"])) == vn(2026, 12, 8, 17, 0)
    added = session.scalars(select(AuditEntry).where(AuditEntry.action == "calendar_day_added")).one()
    assert added.details == {"day": "2026-12-07", "working": False, "note": "Nghỉ bù (thử)", "steps_rescheduled": 1}

    # SpiffWorkflow agrees with the table: nothing fires at the old moment, the escalation comes at the new one.
    with time_machine.travel(vn(2026, 12, 7, 17, 30), tick=False):
        timers.tick(engine, session)
    plan = fresh(session, plan)
    assert plan.escalated_at is None

    with time_machine.travel(vn(2026, 12, 7, 17, 40), tick=False):
        moves = rescheduling.change_day(engine, session, "quantri", DAY, None)
    assert [(m.task_id, clock.local(m.new_due)) for m in moves] == [(plan.id, vn(2026, 12, 7, 17, 0))]
    plan = fresh(session, plan)
    assert clock.local(plan.due_at) == vn(2026, 12, 7, 17, 0) == workflow_due(engine, session, plan_case, plan)
    assert pending(session, plan)["deadline"] == vn(2026, 12, 7, 17, 0)
    assert session.scalars(select(CalendarDay)).all() == [] and engine.calendar.is_working_day(DAY)
    assert list(check(engine, session)) == []
    # Moved back into the past: the next tick escalates it (non-interrupting), exactly once.
    with time_machine.travel(vn(2026, 12, 7, 17, 45), tick=False):
        timers.tick(engine, session)
        timers.tick(engine, session)
    plan = fresh(session, plan)
    assert plan.escalated_at is not None and plan.state == "ready"
    assert len(session.scalars(select(Task).where(Task.escalates_task_id == plan.id)).all()) == 1
    assert list(check(engine, session)) == [] and audit.verify(session) == []


def test_make_up_working_day_brings_the_limit_forward(engine, session, people, cases):
    plan_case, _hours = cases
    plan = step(session, plan_case, "draft_plan")
    saturday = date(2026, 12, 5)
    with time_machine.travel(vn(2026, 12, 1, 10, 0), tick=False):
        assert [m.task_id for m in rescheduling.preview(engine, session, saturday, True)] == [plan.id]
        rescheduling.change_day(engine, session, "quantri", saturday, True, "Làm bù (thử)")
    plan = fresh(session, plan)
    assert clock.local(plan.due_at) == vn(2026, 12, 5, 17, 0)
    saturday_close = vn(2026, 12, 5, 17, 0)
    assert workflow_due(engine, session, plan_case, plan) == pending(session, plan)["deadline"] == saturday_close
    assert list(check(engine, session)) == []


def test_review_counted_after_the_activities_moves_too(engine, session, people):
    # Activities end 02/12/2026 at the latest; the review falls due 5 working days later (case56 policy).
    case = open_case(engine, session, people, vn(2026, 11, 2, 9, 0), stop_at="review")
    review = step(session, case, "review")
    assert engine.rules[review.rule].kind == "after_dates" and clock.local(review.due_at) == vn(2026, 12, 9, 17, 0)
    with time_machine.travel(vn(2026, 12, 3, 10, 0), tick=False):
        rescheduling.change_day(engine, session, "quantri", DAY, False, "Nghỉ bù (thử)")
    review = fresh(session, review)
    thursday_close = vn(2026, 12, 10, 17, 0)
    assert clock.local(review.due_at) == thursday_close
    assert workflow_due(engine, session, case, review) == pending(session, review)["deadline"] == thursday_close
    assert list(check(engine, session)) == []


def test_preview_counts_without_changing_anything(engine, session, people, cases):
    plan_case, _hours = cases
    other = open_case(engine, session, people, vn(2026, 12, 4, 9, 0))
    with time_machine.travel(vn(2026, 12, 4, 10, 0), tick=False):
        demo.drive(engine, session, other, people, stop_at="draft_plan")
        before = session.scalars(select(Timer.fire_at).order_by(Timer.id)).all()
        moves = rescheduling.preview(engine, session, DAY, False)
        # Both plans count Monday 07/12 (the second one's 5 days run 07/12–11/12).
        assert sorted(m.case_id for m in moves) == [plan_case.id, other.id]
        assert rescheduling.preview(engine, session, date(2026, 12, 6), False) == []  # a Sunday is off already
        assert rescheduling.preview(engine, session, date(2026, 12, 15), False) == []  # after both limits
    assert session.scalars(select(Timer.fire_at).order_by(Timer.id)).all() == before
    assert session.scalars(select(CalendarDay)).all() == []
    assert not session.scalars(select(AuditEntry).where(AuditEntry.action == "deadline_rescheduled")).all()


def test_a_limit_already_fired_stays(engine, session, people, cases):
    plan_case, _hours = cases
    plan = step(session, plan_case, "draft_plan")
    with time_machine.travel(vn(2026, 12, 7, 17, 30), tick=False):
        timers.tick(engine, session)
        plan = fresh(session, plan)
        assert plan.escalated_at is not None
        # Declared afterwards (e.g. a storm day): the escalation happened; the limit shown stays the one missed.
        assert rescheduling.change_day(engine, session, "quantri", DAY, False, "Bão") == []
    plan = fresh(session, plan)
    assert clock.local(plan.due_at) == vn(2026, 12, 7, 17, 0)
    assert list(check(engine, session)) == []


def test_refusals_leave_nothing(engine, session, people):
    with pytest.raises(NotFound):
        rescheduling.change_day(engine, session, "quantri", DAY, None)
    rescheduling.change_day(engine, session, "quantri", DAY, False, "một")
    with pytest.raises(InvalidState):
        rescheduling.change_day(engine, session, "quantri", DAY, True, "hai")
    assert [(r.day, r.working, r.note) for r in session.scalars(select(CalendarDay))] == [(DAY, False, "một")]
    assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "calendar_day_added")).all()) == 1


def test_missing_calendar_years(tmp_path):
    assert missing_years([2026, 2027]) == [2027]  # the data file announces 2026 only
    assert estimate_year(True, vn(2027, 1, 5, 17, 0)) == 2027
    assert estimate_year(True, vn(2026, 12, 31, 17, 0)) is None
    assert estimate_year(False, vn(2027, 1, 5, 17, 0)) is None  # hours or a date: no calendar needed
    data = tmp_path / "vn.toml"
    data.write_text(CALENDAR_FILE.read_text(encoding="utf-8") + "\n[2027]\n", encoding="utf-8")
    assert missing_years([2026, 2027], data) == []  # an empty section: announced, nothing to add
