"""Migrating running cases to another process version (as Camunda's instance migration does).

A case moves when every task of its workflow — above all every open step — has a counterpart in the new
version: the element with the same id, or the one an explicit mapping names (old id -> new id). The workflow
keeps its task tree (task ids, data, history); each task's spec is swapped for its counterpart, so the steps
the case has not reached yet follow the new version. Each open step's row takes the new title, role, form and
rule, and its limit is recomputed from the recorded anchors by the new version's rule (task row, timer rows
and the boundary timer's moment in the workflow state). One transaction and one `case_migrated` audit row per
case; a case that cannot move is refused with its reason and left untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, audit, clock, restriction
from engine.deadlines import DeadlineError
from engine.errors import EngineError, NotFound
from engine.models import Case, Task, Timer
from engine.registry import Definition, ProcessError
from engine.runtime import Engine


@dataclass
class Outcome:
    case_id: int
    number: str
    migrated: bool
    reason_vi: str = ""
    reason_en: str = ""
    moved: list[dict[str, str | None]] = field(default_factory=list)


class _Refused(Exception):
    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi, self.en = vi, en


def _mapped(name: str, mapping: dict[str, str]) -> str:
    """A spec name under the mapping; the parser's derived names (`X.BoundaryEventSplit`, `X [child]`) follow X."""
    if name in mapping:
        return mapping[name]
    for old, new in mapping.items():
        for suffix in (".BoundaryEventSplit", ".BoundaryEventJoin", " [child]"):
            if name == old + suffix:
                return new + suffix
    return name


def _swap(workflow: BpmnWorkflow, spec: BpmnProcessSpec, mapping: dict[str, str], old: Definition,
          new: Definition) -> None:
    """Point every task of (sub)workflow at its counterpart in `spec`, or refuse naming what has none."""
    for task in workflow.tasks.values():
        name = task.task_spec.name
        counterpart = spec.task_specs.get(_mapped(name, mapping))
        if counterpart is None:
            step = old.step(name)
            title = step.title_vi if step else name
            if task.state in (TaskState.READY, TaskState.STARTED, TaskState.WAITING):
                raise _Refused(f"bước đang mở «{title}» ({name}) không có phần tử tương ứng trong phiên bản mới",
                               f"the open step {name!r} has no counterpart in the new version")
            raise _Refused(f"phần tử {name} («{title}») của hồ sơ không có trong phiên bản mới",
                           f"the case's element {name!r} is not in the new version")
        task.task_spec = counterpart
    workflow.spec = spec


def _migrate_one(engine: Engine, session: Session, actor: access.Actor, case: Case, target: Definition,
                 mapping: dict[str, str], now: datetime) -> list[dict[str, str | None]]:
    old = engine.registry.for_version(session, case.process_version_id)
    workflow = engine.load_workflow(session, case)
    for old_name, new_name in mapping.items():
        if new_name not in target.steps and not any(new_name in s.task_specs for s in
                                                        [target.spec, *target.subprocess_specs.values()]):
            raise _Refused(f"ánh xạ {old_name} → {new_name}: phiên bản mới không có phần tử {new_name}",
                           f"mapping {old_name} -> {new_name}: the new version has no element {new_name}")
    _swap(workflow, target.spec, mapping, old, target)
    for sub in workflow.subprocesses.values():
        sub_spec = target.subprocess_specs.get(sub.spec.name)
        if sub_spec is None:
            raise _Refused(f"phiên bản mới không có tiến trình con {sub.spec.name}",
                           f"the new version has no subprocess {sub.spec.name!r}")
        _swap(sub, sub_spec, mapping, old, target)
    workflow.subprocess_specs = target.subprocess_specs

    moved: list[dict[str, str | None]] = []
    rows = {r.spiff_id: r for r in session.scalars(select(Task).where(Task.case_id == case.id,
                                                                         Task.state == "ready"))}
    for spiff_task in workflow.get_tasks(state=TaskState.READY, manual=True):
        row = rows.get(str(spiff_task.id))
        step = target.step(spiff_task.task_spec.name)
        if row is None or step is None:
            raise _Refused(f"bước {spiff_task.task_spec.name} không khớp với danh sách việc của hồ sơ",
                           f"step {spiff_task.task_spec.name!r} does not match the case's task rows")
        before = {"step": row.step, "title": row.title, "rule": row.rule,
                  "due_at": row.due_at.isoformat() if row.due_at else None}
        row.step, row.title, row.role, row.form, row.track = step.step, step.title_vi, step.role, step.form, step.track
        if not row.escalates_task_id:
            row.rule = step.rule
            _recompute_deadline(engine, session, case, workflow, spiff_task, row, now)
        moved.append({"task": str(row.id), **{f"old_{k}": v for k, v in before.items()}, "step": row.step,
                      "title": row.title, "due_at": row.due_at.isoformat() if row.due_at else None})
    if target.version_id is None:  # registry.for_version always sets it; a file never recorded is no target
        raise ProcessError("the target definition is not a recorded process version")
    case.process_version_id = target.version_id
    case.updated_at = now
    engine.store_workflow(session, case, workflow)
    return moved


def _recompute_deadline(engine: Engine, session: Session, case: Case, workflow: BpmnWorkflow, spiff_task: SpiffTask,
                        row: Task, now: datetime) -> None:
    timer_task = Engine._boundary_timer(spiff_task)
    pending = list(session.scalars(select(Timer).where(Timer.task_id == row.id, Timer.fired_at.is_(None),
                                                       Timer.cancelled_at.is_(None))))
    if timer_task is None or timer_task.state != TaskState.WAITING or not row.rule:
        for timer in pending:  # the new version has no limit here
            timer.cancelled_at = now
        if timer_task is None:
            row.due_at = None
        return
    assert isinstance(timer_task.task_spec.event_definition, TimerEventDefinition)
    try:
        due = engine.rules.due(row.rule, timer_task.data, engine.calendar)
    except DeadlineError as exc:
        raise _Refused(f"không tính được thời hạn mới của bước {row.step}: {exc}",
                       f"the new limit of step {row.step!r} cannot be computed: {exc}") from None
    timer_task.internal_data["event_value"] = due.isoformat()
    row.due_at = due
    # One timer row per (task, kind) ever: the pending rows move; a reminder already sent is not sent again.
    by_kind = {t.kind: t for t in pending}
    if "deadline" in by_kind:
        by_kind["deadline"].fire_at = due
    else:
        session.add(Timer(case_id=case.id, task_id=row.id, spiff_id=str(timer_task.id), kind="deadline",
                          fire_at=due))
    remind = engine.rules.reminder_at(row.rule, row.created_at, due)
    reminder = by_kind.get("reminder")
    if reminder is not None:
        if remind is None:
            reminder.cancelled_at = now
        else:
            reminder.fire_at = remind
    elif remind is not None and remind > now and session.scalar(select(Timer.id).where(
            Timer.case_id == case.id, Timer.spiff_id == str(timer_task.id), Timer.kind == "reminder")) is None:
        session.add(Timer(case_id=case.id, task_id=row.id, spiff_id=str(timer_task.id), kind="reminder",
                          fire_at=remind))


def migrate(engine: Engine, session: Session, actor: access.Actor, case_ids: list[int], version_id: int,
            mapping: dict[str, str] | None = None) -> list[Outcome]:
    """Move each case (one transaction each) to `version_id`; the outcome says why a case was refused."""
    mapping = {k.strip(): v.strip() for k, v in (mapping or {}).items() if k.strip() and v.strip()}
    try:
        target = engine.registry.for_version(session, version_id)
    except ProcessError:
        raise NotFound("Không có phiên bản quy trình này.", "No such process version.") from None
    outcomes = []
    for case_id in case_ids:
        case = session.get(Case, case_id)
        if case is None:
            outcomes.append(Outcome(case_id, str(case_id), False, "không có hồ sơ này", "no such case"))
            continue
        number = case.number
        if case.process_version_id == version_id:
            outcomes.append(Outcome(case_id, number, False, "hồ sơ đã chạy trên phiên bản này",
                                    "the case already runs on this version"))
            continue
        if case.status != "open":
            outcomes.append(Outcome(case_id, number, False, "hồ sơ đã đóng", "the case is closed"))
            continue
        from_version = case.process_version_id
        try:
            with engine.transaction(session):
                case = engine.case_row(session, case_id, lock=True)
                restriction.ensure_unrestricted(session, case)  # a restricted case is not processed, not even moved
                now = clock.now()
                moved = _migrate_one(engine, session, actor, case, target, mapping, now)
                audit.append(session, actor.username, "case_migrated", case.id,
                             {"from_version": from_version, "to_version": version_id, "mapping": mapping,
                              "steps": moved}, now)
                session.flush()
        except _Refused as exc:
            outcomes.append(Outcome(case_id, number, False, exc.vi, exc.en))
            continue
        except EngineError as exc:
            outcomes.append(Outcome(case_id, number, False, exc.message_vi, exc.message_en))
            continue
        outcomes.append(Outcome(case_id, number, True, moved=moved))
    return outcomes


def parse_mapping(text: str) -> dict[str, str]:
    """`Task_a=Task_b` pairs, one per line or comma-separated; raises ValueError naming a bad pair."""
    mapping: dict[str, str] = {}
    for part in text.replace(",", "\n").splitlines():
        part = part.strip()
        if not part:
            continue
        old, sep, new = part.partition("=")
        if not sep or not old.strip() or not new.strip() or len(part) > 200:
            raise ValueError(part[:80])
        mapping[old.strip()] = new.strip()
    return mapping


def open_case_ids(session: Session, version_id: int | None = None) -> list[int]:
    query = select(Case.id).where(Case.status == "open").order_by(Case.id)
    if version_id is not None:
        query = query.where(Case.process_version_id == version_id)
    return list(session.scalars(query))


__all__ = ["Outcome", "migrate", "open_case_ids", "parse_mapping"]
