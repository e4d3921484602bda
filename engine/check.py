"""`case56 check`: is the database consistent and is every case live? Every case's workflow loads, the task
table agrees with the workflow state, every pending timer is recorded, no case is stranded (engine.liveness),
the audit chain is intact."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock, liveness
from engine.calendar import CALENDAR_FILE, missing_years
from engine.models import Case, Task, Timer
from engine.runtime import Engine


def check(engine: Engine, session: Session, batch: int = 200) -> Iterator[str]:
    """Yield one line per problem found (nothing: consistent)."""
    last_id = 0
    while True:
        cases = session.scalars(select(Case).where(Case.id > last_id).order_by(Case.id).limit(batch)).all()
        if not cases:
            break
        for case in cases:
            last_id = case.id
            yield from check_case(engine, session, case)
        session.expunge_all()
    for problem in audit.verify(session):
        yield f"audit row {problem.entry_id}: {problem.message}"


def warnings(today: date | None = None) -> list[str]:
    """What makes results less certain without being an inconsistency (`case56 check` prints it; its exit
    status ignores it): this year or next without announced calendar data."""
    today = today or clock.local(clock.now()).date()
    return [f"calendar {year}: no announced days off or make-up days in {CALENDAR_FILE.name}, working-day "
            f"deadlines in {year} are estimates / chưa có lịch nghỉ chính thức năm {year}, thời hạn tính theo "
            "ngày làm việc trong năm này là ước tính" for year in missing_years([today.year, today.year + 1])]


def check_case(engine: Engine, session: Session, case: Case) -> list[str]:
    """Every problem of one case (empty: consistent and live)."""
    return list(_check_case(engine, session, case))


def _check_case(engine: Engine, session: Session, case: Case) -> Iterator[str]:
    where = f"case {case.number} (id {case.id})"
    for problem in liveness.problems(session, case):
        yield f"{where}: stranded: {problem.en} / {problem.vi}"
    try:
        workflow = engine.load_workflow(session, case)
    except Exception as exc:  # noqa: BLE001 - any failure to load is the finding
        yield f"{where}: workflow does not load: {type(exc).__name__}: {exc}"
        return
    ready = {str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    rows = set(session.scalars(select(Task.spiff_id).where(Task.case_id == case.id, Task.state == "ready")))
    for missing in sorted(ready - rows):
        yield f"{where}: ready step {missing} has no open task row"
    for extra in sorted(rows - ready):
        yield f"{where}: open task row {extra} is not ready in the workflow"
    waiting = {str(t.id) for t in workflow.get_tasks(state=TaskState.WAITING)
               if isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)}
    pending = set(session.scalars(select(Timer.spiff_id).where(
        Timer.case_id == case.id, Timer.kind == "deadline", Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))))
    for missing in sorted(waiting - pending):
        yield f"{where}: waiting timer {missing} is not recorded in the timer table"
    for extra in sorted(pending - waiting):
        yield f"{where}: timer row {extra} waits for a timer the workflow no longer has"
    if case.status == "open" and not workflow.is_completed() and not ready and not workflow.waiting_events():
        yield (f"{where}: stranded: nothing in the workflow waits (no ready step, no waiting event) / "
               "không có gì trong quy trình đang chờ (không có bước sẵn sàng, không có sự kiện chờ)")
