"""Deadlines follow the calendar: declaring a day off or a make-up working day (or removing one) moves the
limits of the open steps whose working-day count spans that day.

The change is one transaction: the `calendar_day` row, for every affected step its task row's `due_at`, its
pending deadline and reminder rows, and the boundary timer's `event_value` inside the workflow state (so
SpiffWorkflow fires at the same moment the timer table says), and one `deadline_rescheduled` audit row per
step. Each new limit is computed as the timer itself computes it — `Rules.due` over the timer task's data
(its anchors) — on the calendar including the change. Hour limits and date limits do not depend on the
calendar and never move; a limit that has already fired (the step was escalated) stays as it was.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.calendar import WorkingCalendar
from engine.deadlines import DeadlineError
from engine.errors import InvalidState, NotFound
from engine.models import CalendarDay, Task, Timer
from engine.runtime import Engine


@dataclass(frozen=True)
class Move:
    """One open step whose limit the calendar change moves."""

    case_id: int
    task_id: int
    step: str
    title: str
    old_due: datetime
    new_due: datetime


@dataclass
class _Change:
    move: Move
    task: Task
    timer: Timer
    timer_task: SpiffTask
    rule: str


def calendar_with(engine: Engine, session: Session, day: date, working: bool | None) -> WorkingCalendar:
    """The calendar once `day` is declared working (True) or off (False), or its declaration removed (None)."""
    declared = {r.day: r.working for r in session.scalars(select(CalendarDay))}
    declared.pop(day, None)
    if working is not None:
        declared[day] = working
    return WorkingCalendar.from_file(
        days_off=[d for d, w in declared.items() if not w],
        working_days=[d for d, w in declared.items() if w],
        office_close=engine.rules.office_close,
    )


def _changes(engine: Engine, session: Session, day: date, calendar: WorkingCalendar,
             workflows: dict[int, BpmnWorkflow]) -> list[_Change]:
    """The open steps whose limit differs on `calendar`, with the rows and timer to change."""
    rules = [r.name for r in engine.rules.rules.values() if r.counts_working_days]
    if not rules:
        return []
    # A day can only change a count that reaches it: limits ending before the day are never touched.
    start = datetime.combine(day, time.min, clock.LOCAL_TZ)
    rows = session.execute(
        select(Task, Timer)
        .join(Timer, (Timer.task_id == Task.id) & (Timer.kind == "deadline"))
        .where(Task.state == "ready", Task.rule.in_(rules), Task.due_at >= start, Task.escalated_at.is_(None),
               Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))
        .order_by(Task.case_id, Task.id)
    ).all()
    changes = []
    for task, timer in rows:
        rule = task.rule
        if rule is None:  # the query keeps steps with a rule; this tells the type checker
            continue
        if task.case_id not in workflows:
            workflows[task.case_id] = engine.load_workflow(session, engine.case_row(session, task.case_id))
        try:
            timer_task = workflows[task.case_id].get_task_from_id(uuid.UUID(timer.spiff_id))
        except TaskNotFoundException:
            continue  # `case56 check` reports a timer row without its timer; nothing to move here
        value = timer_task.internal_data.get("event_value")
        if timer_task.state != TaskState.WAITING or not value:
            continue
        try:
            new_due = engine.rules.due(rule, timer_task.data, calendar)
        except DeadlineError:
            continue  # the timer could not have been computed either; not this change's business
        old_due = clock.parse_moment(value)
        if new_due != old_due:
            move = Move(task.case_id, task.id, task.step, task.title, old_due, clock.parse_moment(new_due))
            changes.append(_Change(move, task, timer, timer_task, rule))
    return changes


def preview(engine: Engine, session: Session, day: date, working: bool | None) -> list[Move]:
    """What declaring `day` (see `calendar_with`) would move, changing nothing."""
    return [c.move for c in _changes(engine, session, day, calendar_with(engine, session, day, working), {})]


def change_day(engine: Engine, session: Session, actor: str, day: date, working: bool | None,
               note: str = "", act: str | None = None) -> list[Move]:
    """Declare `day` working (True) or off (False), or remove its declaration (None), and move the limits
    it changes, in one committed transaction; the engine's calendar follows at once. Returns the moves.
    `act`: the number of the legal act that makes the day off (required by the admin page for a listed but not
    enacted holiday such as 24/11), kept on the row and in the audit.

    Raises NotFound (nothing declared to remove), InvalidState (already declared), or the database's
    IntegrityError when another administrator declared the same day meanwhile."""
    with engine.transaction(session):
        now = clock.now()
        row = session.get(CalendarDay, day)
        if working is None:
            if row is None:
                raise NotFound("Ngày này không có trong danh sách.", "This day is not in the list.")
            action, details = "calendar_day_deleted", {"working": row.working, "note": row.note, "act": row.act}
            session.delete(row)
        else:
            if row is not None:
                raise InvalidState("Ngày này đã có trong danh sách; hãy xoá dòng cũ trước khi khai báo lại.",
                                   "This day is already listed; delete it before declaring it again.")
            action, details = "calendar_day_added", {"working": working, "note": note}
            if act:
                details["act"] = act
            session.add(CalendarDay(day=day, working=working, note=note, created_by=actor, act=act or None))
        session.flush()
        workflows: dict[int, BpmnWorkflow] = {}
        calendar = calendar_with(engine, session, day, working)
        changes = _changes(engine, session, day, calendar, workflows)
        audit.append(session, actor, action, None,
                     {"day": day.isoformat(), **details, "steps_rescheduled": len(changes)}, now)
        from engine import data_requests  # data subjects' requests' limits follow the calendar too (issue 18)

        data_requests.of(engine).reschedule(session, day, calendar, actor, now)
        for change in changes:
            _move(engine, session, change, day, actor, now)
        for case_id in {c.move.case_id for c in changes}:
            case = engine.case_row(session, case_id)
            case.updated_at = now  # bumps the case version: a step completed meanwhile makes this a Conflict
            engine.store_workflow(session, case, workflows[case_id])
        session.flush()
    engine.load_calendar(session)  # this process counts on the new calendar at once (others within a minute)
    return [c.move for c in changes]


def _move(engine: Engine, session: Session, change: _Change, day: date, actor: str, now: datetime) -> None:
    move, task = change.move, change.task
    change.timer_task.internal_data["event_value"] = move.new_due.isoformat()
    task.due_at = move.new_due
    change.timer.fire_at = move.new_due
    remind_at = engine.rules.reminder_at(change.rule, task.created_at, move.new_due)
    reminder = session.scalars(select(Timer).where(
        Timer.case_id == task.case_id, Timer.spiff_id == change.timer.spiff_id, Timer.kind == "reminder")).first()
    if reminder is None:
        if remind_at is not None and task.reminded_at is None:
            session.add(Timer(case_id=task.case_id, task_id=task.id, spiff_id=change.timer.spiff_id,
                              kind="reminder", fire_at=remind_at))
    elif reminder.fired_at is None:  # a reminder already sent is not sent again
        if remind_at is None:
            reminder.cancelled_at = reminder.cancelled_at or now
        else:
            reminder.fire_at, reminder.cancelled_at = remind_at, None
    # `due_at` is the new limit, named as in `task_opened`, so every view of the trail shows it.
    audit.append(session, actor, "deadline_rescheduled", task.case_id,
                 {"task": task.id, "step": task.step, "day": day.isoformat(),
                  "old_due_at": move.old_due, "due_at": move.new_due}, now)
