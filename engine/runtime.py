"""Running cases: open a case from a report, complete a step, transfer, reopen.

Each public function is one database transaction that changes the workflow state, the task rows, the
timers and the audit trail together or not at all (see `_commit`). The case row carries a version
number (SQLAlchemy's version counter): a change computed from a stale case fails with `Conflict` and
leaves nothing behind.
"""

from __future__ import annotations

import functools
import hashlib
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Literal, cast

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import JSON, Integer, Table, bindparam, func, inspect, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

import forms
from engine import access, audit, children, clock, restriction
from engine.calendar import WorkingCalendar
from engine.deadlines import Rules
from engine.errors import Conflict, Forbidden, InvalidState, NotFound
from engine.models import (
    CalendarDay,
    Case,
    CaseCounter,
    CaseWorkflow,
    OrgUnit,
    ProcessVersion,
    Task,
    Timer,
    transaction,
)
from engine.registry import Definition, ProcessRegistry, Step
from engine.sandbox import RestrictedEnvironment
from engine.state import StateSerializer
from forms.kit import messages as forms_messages
from forms.kit.fields import name_key

END_STATUS = {"End_no_basis": "no_basis", "End_closed": "closed"}
RECEIPT_MAX_AGE = timedelta(days=5 * 365)


def _drop_orphans(workflow: BpmnWorkflow) -> bool:
    """Forget subprocesses whose parent task is gone. An interrupting boundary event on a multi-instance
    subprocess (an approved plan adjustment, Art. 29.1a) removes the instances' tasks but SpiffWorkflow 3.2.0
    keeps their subprocesses, and its engine loop then fails looking up their parents."""
    dropped = False
    while True:
        known = set(workflow.tasks).union(*(sub.tasks for sub in workflow.subprocesses.values()))
        orphans = [key for key, sub in workflow.subprocesses.items()
                   if sub.parent_task_id is not None and sub.parent_task_id not in known]
        if not orphans:
            return dropped
        for key in orphans:
            del workflow.subprocesses[key]
        dropped = True


def run_engine_steps(workflow: BpmnWorkflow) -> None:
    """`do_engine_steps`, tolerating the subprocesses an interrupting event orphaned meanwhile (`_drop_orphans`)."""
    _drop_orphans(workflow)
    for _attempt in range(10):
        try:
            workflow.do_engine_steps()
            return
        except TaskNotFoundException:
            if not _drop_orphans(workflow):
                raise
    workflow.do_engine_steps()


def _event_subprocesses(workflow: BpmnWorkflow) -> list[SpiffTask]:
    """The running event subprocesses (BPMN triggeredByEvent): a separation, a plan adjustment. Known by the
    start's trigger list: the spec restore (registry._restored) gives them SpiffWorkflow's plain subprocess class."""
    triggered = set(getattr(workflow.spec.start, "trigger_specs", ()))
    return [t for t in workflow.get_tasks(state=TaskState.STARTED | TaskState.READY | TaskState.WAITING)
            if t.task_spec.name in triggered]


def _end_outlived(workflow: BpmnWorkflow) -> None:
    """End an event subprocess whose `runs_while` activity is over: a plan adjustment still waiting when the
    last activity was reported has nothing left to adjust (the review and a new plan follow, Art. 30)."""
    ended = False
    for sub in _event_subprocesses(workflow):
        host = (sub.task_spec.extensions or {}).get("properties", {}).get("runs_while")
        if host and not any(t.has_state(TaskState.STARTED | TaskState.READY | TaskState.WAITING)
                            for t in workflow.get_tasks(spec_name=host)):
            sub.cancel()
            ended = True
    if ended:
        workflow.update_waiting_tasks()
        run_engine_steps(workflow)


def _child_key(mau_01: dict[str, Any], commune_code: str) -> str:
    """A stable key for the child so statistics count children, not cases; no name is stored with it."""
    child = mau_01.get("child") or {}
    # Cleaned like a name is cleaned on input (NFC, spaces folded, no invisible characters): a name pasted
    # with a BOM or a zero-width joiner is the same child, not a second one.
    name = name_key(child.get("full_name") or "")
    if not name:
        return uuid.uuid4().hex  # an unnamed child cannot be matched: counts once per case
    born = child.get("date_of_birth") or f"~{child.get('estimated_age')}"
    return hashlib.sha256(f"{name}|{born}|{commune_code}".encode()).hexdigest()


def _age(mau_01: dict[str, Any], received: datetime) -> int | None:
    child = mau_01.get("child") or {}
    if child.get("date_of_birth"):
        born = datetime.fromisoformat(child["date_of_birth"]).date()
        day = clock.local(received).date()
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return child.get("estimated_age")


def _json_rows(postgres: bool, *columns: Any) -> Any:
    """An aggregate of the selected rows as one JSON array of arrays (PostgreSQL json_agg, SQLite
    json_group_array), so a list rides along in a one-row read."""
    if postgres:
        return func.json_agg(func.json_build_array(*columns), type_=JSON)
    return func.json_group_array(func.json_array(*columns), type_=JSON)


def pending_timers(postgres: bool, case_id: Any) -> Any:
    """The case's pending timers (id, spiff id, kind) as one JSON array, a subquery that rides along in a
    command's first read (a step here, a deadline firing in engine.timers)."""
    return (select(_json_rows(postgres, Timer.id, Timer.spiff_id, Timer.kind))
            .where(Timer.case_id == case_id, Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))
            .scalar_subquery())


@functools.cache
def _step_statements(postgres: bool) -> tuple[Any, Any]:
    """The statements `Engine._step_for_change` reads a step with, built once per dialect (issue 20: building
    them costs more than SQLite takes to run them; parameters :task_id and :case_id). PostgreSQL: the case row
    locked first (with the version's content hash and the audit head), then the step's rows; SQLite: one read."""
    task_id = bindparam("task_id", type_=Integer)
    head_last, head_hash = audit.head_columns()
    content_hash = select(ProcessVersion.content_hash).where(
        ProcessVersion.id == Case.process_version_id).scalar_subquery()
    fresh = {"populate_existing": True}  # decide on the database's rows, never on cached objects
    lock_case = None
    if postgres:
        case_of_task = select(Task.case_id).where(Task.id == task_id).scalar_subquery()
        lock_case = (select(Case, content_hash, head_last, head_hash).where(Case.id == case_of_task)
                     .with_for_update(of=Case).execution_options(**fresh))
        case_id: Any = bindparam("case_id", type_=Integer)
        extra: tuple[Any, ...] = ()
    else:
        case_id = select(Task.case_id).where(Task.id == task_id).scalar_subquery()
        extra = (Case, content_hash, head_last, head_hash)
    pending = pending_timers(postgres, case_id)
    read_step = (select(Task, CaseWorkflow.state, CaseWorkflow.serializer_version, restriction.active_id(case_id),
                        pending, *extra)
                 .outerjoin(CaseWorkflow, CaseWorkflow.case_id == Task.case_id)
                 .where(Task.case_id == case_id, or_(Task.id == task_id, Task.state == "ready")))
    if not postgres:
        read_step = read_step.join(Case, Case.id == Task.case_id)
    return lock_case, read_step.execution_options(**fresh)


@functools.cache
def _timer_upsert(postgres: bool) -> Any:
    """`Engine._sync_timers`' one statement, built once per dialect and run with a row per timer (one
    multi-row INSERT, compiled once: issue 20). A row whose timer is already pending (same case, BPMN event and
    kind: uq_timer) ends it instead — only a timer still pending is ended (the rows were read as pending in this
    transaction, under the case's lock on PostgreSQL); nothing reads the new rows' ids in this transaction."""
    upsert = (postgresql.insert if postgres else sqlite.insert)(cast(Table, Timer.__table__))
    return upsert.on_conflict_do_update(
        index_elements=[Timer.case_id, Timer.spiff_id, Timer.kind],
        set_={"fired_at": upsert.excluded.fired_at, "cancelled_at": upsert.excluded.cancelled_at},
        where=Timer.fired_at.is_(None) & Timer.cancelled_at.is_(None))


_WORKFLOWS = cast(Table, CaseWorkflow.__table__)
_STORE_STATE = (update(_WORKFLOWS).where(_WORKFLOWS.c.case_id == bindparam("case"))
                .values(state=bindparam("state"), serializer_version=bindparam("serializer_version")))


class Unread(Enum):
    """A value the caller did not read (as opposed to None, read and absent)."""

    UNREAD = "unread"


@dataclass
class _StepRead:
    """What `Engine._step_for_change` read for a completion."""

    task: Task
    case: Case
    ready: list[Task]  # the case's other open rows
    state: bytes | None  # the workflow state and its serializer version (None: the row is missing)
    serializer_version: str | None
    content_hash: str  # of the case's process version
    timers: list[tuple[int, str, str]]  # pending timers: id, spiff id, kind


class Engine:
    """Everything needed to run cases, built once per process and shared by requests and workers."""

    def __init__(self, rules: Rules | None = None, calendar: WorkingCalendar | None = None,
                 registry: ProcessRegistry | None = None) -> None:
        self.rules = rules or Rules.load()
        self.calendar = calendar or WorkingCalendar.from_file(office_close=self.rules.office_close)
        self.registry = registry or ProcessRegistry(self.rules)
        self.script_engine = PythonScriptEngine(environment=RestrictedEnvironment(self._bind))
        self.state = StateSerializer()
        self._calendar_loaded_at = float("-inf")  # administrators' days not read yet
        # A new report received longer ago than this is refused (configurable: CASE56_RECEIPT_MAX_AGE_DAYS).
        self.receipt_max_age = RECEIPT_MAX_AGE

    # -- the sandbox's per-task functions -------------------------------------------------------------
    def _bind(self, context: dict[str, Any]) -> dict[str, Callable[..., Any]]:
        return {"deadline": lambda name: self.rules.due(name, context, self.calendar).isoformat()}

    def refresh_calendar(self, session: Session, max_age: float = 60.0) -> None:
        """Reload the administrators' days when the copy is older than `max_age` seconds, so every
        process (web workers, tick workers) follows a calendar change within a minute."""
        if time.monotonic() - self._calendar_loaded_at >= max_age:
            self.load_calendar(session)

    def load_calendar(self, session: Session) -> None:
        """Rebuild the calendar from the data file plus the days administrators recorded."""
        self._calendar_loaded_at = time.monotonic()
        rows = session.scalars(select(CalendarDay)).all()
        self.calendar = WorkingCalendar.from_file(
            days_off=[r.day for r in rows if not r.working],
            working_days=[r.day for r in rows if r.working],
            office_close=self.rules.office_close,
        )

    # -- workflow state ------------------------------------------------------------------------------
    def load_workflow(self, session: Session, case: Case) -> BpmnWorkflow:
        row = session.get(CaseWorkflow, case.id)
        if row is None:
            raise NotFound("Không tìm thấy trạng thái quy trình của hồ sơ.", "Workflow state missing.")
        definition = self.registry.for_version(session, case.process_version_id)
        return self._restore(row.state, row.serializer_version, definition)

    def _restore(self, state: bytes | None, serializer_version: str | None, definition: Definition) -> BpmnWorkflow:
        if state is None or serializer_version is None:
            raise NotFound("Không tìm thấy trạng thái quy trình của hồ sơ.", "Workflow state missing.")
        workflow = self.state.loads(state, definition, serializer_version)
        workflow.script_engine = self.script_engine  # re-attach the sandbox after every load
        return workflow

    @staticmethod
    def case_row(session: Session, case_id: int, *, lock: bool = False) -> Case:
        """The case's row; with `lock`, locked for the transaction on PostgreSQL, so concurrent changes of one
        case queue there. NotFound when it is gone (deleted or restored away under a running command)."""
        case = session.get(Case, case_id, with_for_update=lock and session.get_bind().dialect.name == "postgresql")
        if case is None:
            raise NotFound("Không tìm thấy hồ sơ.", "No such case.")
        return case

    def _store_workflow(self, session: Session, case: Case, workflow: BpmnWorkflow) -> None:
        # One UPDATE, without reading the old state back first (it is the largest column of a case), built once
        # and run on the session's connection: the ORM's bulk-update path cost more than the statement (issue 20).
        values = {"state": self.state.dumps(workflow), "serializer_version": self.state.version}
        stored = session.connection().execute(_STORE_STATE, {"case": case.id, **values})
        if not stored.rowcount:
            session.add(CaseWorkflow(case_id=case.id, **values))
            return
        held = session.identity_map.get(identity_key(CaseWorkflow, case.id))
        if held is not None:  # a row this session loaded earlier reads the new state, not the one it held
            session.expire(held, ["state", "serializer_version"])

    def store_workflow(self, session: Session, case: Case, workflow: BpmnWorkflow) -> None:
        """Write a changed workflow back (for engine commands outside this class, e.g. reassigning)."""
        self._store_workflow(session, case, workflow)

    @contextmanager
    def transaction(self, session: Session) -> Iterator[None]:
        """Commit on success; on any failure roll everything back, reporting lost races as Conflict."""
        session.expire_all()  # decide on the database's state, never on objects cached by an earlier call
        with transaction(session):
            yield

    # -- opening -------------------------------------------------------------------------------------
    def open_case(self, session: Session, actor: access.Actor, commune_code: str, report: dict[str, Any], *,
                  linked_case: Case | None = None, reopen: dict[str, Any] | None = None, locale: str = "vi",
                  same_child_of: int | None = None) -> Case:
        """Record a report on Mẫu 01 (Art. 25) and start its case at the incident commune (Art. 26.1); limits
        run from the earlier of the intake point's and the commune's receipt (Art. 26.3, 31.2, 32.2).
        `same_child_of`: an existing case intake judged to be about the same child (engine.children.candidates):
        the new case gets its child key, so statistics count that child once."""
        from engine import transfers

        mau_01 = forms.validate("mau_01", report, locale=locale)
        if linked_case is None:  # a transfer or a reopening carries the first receipt, however old
            self._check_receipt_age(mau_01, locale)
        commune = session.scalar(select(OrgUnit).where(OrgUnit.code == commune_code, OrgUnit.kind == "commune"))
        if commune is None:
            raise NotFound(f"Không có xã/phường mã {commune_code!r}.", f"No commune with code {commune_code!r}.")
        if not access.can_open_case(actor, commune):
            raise Forbidden("Bạn không được ghi nhận báo cáo cho xã/phường này.",
                            "You may not record reports for this commune.")
        mau_01, _incident, residence = transfers.report_communes(session, commune, mau_01, locale)
        for _attempt in range(5):
            try:
                with self.transaction(session):
                    child_of = (children.same_child(session, actor, mau_01, commune.id, same_child_of)
                                if same_child_of is not None else None)
                    return self._open(session, actor, commune, residence, mau_01, linked_case, reopen, child_of)
            except IntegrityError as exc:  # two reports numbered at once in one commune: number again
                if "case_counter" not in str(exc) and "uq_case_number" not in str(exc):
                    raise
                continue
        raise Conflict("Không cấp được số hồ sơ; hãy thử lại.", "Could not number the case; try again.")

    def _check_receipt_age(self, mau_01: dict[str, Any], locale: str) -> None:
        """A new report received longer ago than `receipt_max_age` is a typing slip (2006 for 2026), and its
        every limit would be long past: refused field by field, in the form's own error shape."""
        oldest = clock.now() - self.receipt_max_age
        errors: dict[str, Any] = {}
        for name in ("received_at", "commune_received_at"):
            if mau_01.get(name) and clock.parse_moment(mau_01[name]) < oldest:
                errors[name] = [forms_messages.code("receipt_too_old", oldest=clock.local(oldest).strftime("%d/%m/%Y"))]
        if errors:
            spec = forms.get("mau_01")
            raise forms.FormError(forms_messages.translate_tree(errors, locale),
                                  codes=forms_messages.codes_tree(errors), form=spec.name, version=spec.version,
                                  locale=forms_messages.normalize_locale(locale))

    def _next_number(self, session: Session, commune: OrgUnit, year: int) -> tuple[int, str]:
        bumped = session.execute(
            update(CaseCounter).where(CaseCounter.commune_id == commune.id, CaseCounter.year == year)
            .values(last=CaseCounter.last + 1).returning(CaseCounter.last)
        ).scalar_one_or_none()
        if bumped is None:
            session.add(CaseCounter(commune_id=commune.id, year=year, last=1))
            session.flush()
            bumped = 1
        return bumped, f"{commune.code}-{year}-{bumped:04d}"

    def _open(self, session: Session, actor: access.Actor, commune: OrgUnit, residence: OrgUnit,
              mau_01: dict[str, Any], linked_case: Case | None, reopen: dict[str, Any] | None,
              child_of: Case | None = None) -> Case:
        now = clock.now()
        intake = clock.parse_moment(mau_01["received_at"])
        forwarded = mau_01.get("commune_received_at")
        commune_receipt = clock.parse_moment(forwarded) if forwarded else None
        # Art. 26.3/31.2/32.2 count 12 hours "từ khi nhận thông tin" without saying whose receipt: the earlier.
        received = min(intake, commune_receipt) if commune_receipt is not None else intake
        child = mau_01.get("child") or {}
        definition = self.registry.active(session, commune.parent_id)  # a province may run its own version
        version_id = definition.version_id
        year = clock.local(received).year
        seq, number = self._next_number(session, commune, year)
        case = Case(
            number=number, year=year, seq=seq, commune_id=commune.id, province_id=commune.parent_id,
            category=mau_01["category"],
            child_key=same.child_key if (same := linked_case or child_of) else _child_key(mau_01, commune.code),
            child_sex=(mau_01.get("child") or {}).get("sex"), child_age=_age(mau_01, received),
            abuse_forms=mau_01.get("abuse_forms") or [], environment=mau_01.get("environment"),
            child_ethnicity=child.get("ethnicity"), perpetrator_relationships=mau_01.get("perpetrator_relationships"),
            intake_received_at=intake, commune_received_at=commune_receipt,
            incident_commune_id=commune.id, residence_commune_id=residence.id,
            status="open", stage="", received_at=received, opened_at=now, process_version_id=version_id,
            linked_case_id=linked_case.id if linked_case else None, created_by=actor.username, updated_at=now,
        )
        session.add(case)
        session.flush()
        children.record(session, case, mau_01)  # the name to find the child by (no name on the case row)

        workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=self.script_engine)
        workflow.task_tree.data.update({
            "mau_01": mau_01,
            "anchors": {"received_at": received.isoformat()},
            "case": {"number": number, "commune": commune.code},
        })
        start = next(s for s in definition.steps.values() if s.step == "receive")
        self.record_form(session, case, start, f"open-{case.id}", actor, mau_01, now, definition)
        if reopen is not None:
            reopen_step = Step("reopen", "reopen", "Mở lại hồ sơ (liên kết)", "Reopening (linked case)",
                               "reopen", actor.role, "Điều 25 NĐ 56/2017/NĐ-CP", "")
            self.record_form(session, case, reopen_step, f"reopen-{case.id}", actor, reopen, now, definition)
        audit.append(session, actor.username, "case_opened", case.id,
                     {"number": number, "commune": commune.code, "linked_case": case.linked_case_id,
                      **({"same_child": child_of.id} if child_of else {})}, now)
        self.advance(session, case, workflow, definition, actor, now)
        return case

    def record_form(self, session: Session, case: Case, step: Step, spiff_id: str, actor: access.Actor,
                data: dict[str, Any], now: datetime, definition: Definition) -> Task:
        """A completed row for a form filled outside a user task (the report, a transfer, a reopening)."""
        row = Task(case_id=case.id, spiff_id=spiff_id, step=step.step, title=step.title_vi, role=step.role,
                   commune_id=case.commune_id, province_id=case.province_id, state="completed",
                   created_at=now, completed_at=now, completed_by=actor.username, form=step.form,
                   form_version=forms.get(step.form).version, form_data=data)
        session.add(row)
        session.flush()
        audit.append(session, actor.username, "form_recorded", case.id,
                     {"task": row.id, "step": step.step, "form": step.form, "data": data}, now)
        return row

    # -- completing ----------------------------------------------------------------------------------
    def complete_task(self, session: Session, actor: access.Actor, task_id: int, data: dict[str, Any],
                      expected_version: int | None = None, locale: str = "vi") -> Task:
        """Validate the step's form, advance the workflow and record it all, or change nothing."""
        try:
            return self._complete(session, actor, task_id, data, expected_version, locale)
        except IntegrityError:
            # Two completions of one step raced past the version check (SQLite's writer queue): the loser's
            # rows collide with the winner's. Nothing of it was saved.
            raise Conflict("Bước này vừa được người khác hoàn thành; không có thay đổi nào được lưu.",
                           "This step was just completed by someone else; nothing was saved.") from None

    def _complete(self, session: Session, actor: access.Actor, task_id: int, data: dict[str, Any],
                  expected_version: int | None, locale: str) -> Task:
        with self.transaction(session):
            step = self._step_for_change(session, actor, task_id, expected_version)
            task, case = step.task, step.case
            definition = self.registry.for_version(session, case.process_version_id, step.content_hash)
            workflow = self._restore(step.state, step.serializer_version, definition)
            spiff_task = workflow.get_task_from_id(uuid.UUID(task.spiff_id))
            if spiff_task is None or spiff_task.state != TaskState.READY:
                raise Conflict("Bước này không còn chờ xử lý.", "This step is no longer waiting.")
            if task.step == "separation_review" and spiff_task.data.get("separation"):
                # Art. 32.3: the 15 days count from the separation's start, beyond them only on the court's decision,
                # and a cancellation needs a Mẫu 03 reassessment: facts of the case the form cannot see.
                from engine import separation

                data, form_version = separation.review_data(
                    session, case, spiff_task.data["separation"], data, definition)
            else:
                form_version = None
            form = task.form
            if form is None:  # every row the engine writes names its step's form; one without is not guessed at
                raise InvalidState("Bước này không có biểu mẫu.", "This step has no form.")
            clean = forms.validate(form, data, locale=locale, version=form_version)
            if form == "mau_04":  # activities go to real, active accounts in scope, and to registered providers
                from engine import providers

                clean = providers.check_plan(session, case, clean, locale)
            if form == "emergency_measures" and clean.get("separate"):  # one separation at a time (Art. 32)
                from engine import separation

                separation.check_one_separation(workflow, locale)
            if form == "plan_adjustment":  # adjusted activities go where a plan's may (Art. 29.1a, 28.3)
                from engine import separation

                clean = separation.check_adjustment(session, case, clean, locale)
            now = clock.now()
            spiff_task.data[form] = clean
            anchors = dict(spiff_task.data.get("anchors") or {})
            anchors[task.step] = now.isoformat()
            spiff_task.data["anchors"] = anchors
            spiff_task.run()
            task.state, task.completed_at, task.completed_by = "completed", now, actor.username
            task.form_data, task.form_version = clean, form_version or forms.get(form).version
            task.draft_data = None
            audit.append(session, actor.username, "task_completed", case.id,
                         {"task": task.id, "step": task.step, "form": task.form, "data": clean}, now)
            self.advance(session, case, workflow, definition, actor, now, ready=step.ready, timers=step.timers)
            return task

    def save_draft(self, session: Session, actor: access.Actor, task_id: int, data: dict[str, Any]) -> Task:
        """Keep the user's unfinished input (unvalidated) without touching the workflow."""
        with self.transaction(session):
            task, case = self._task_for_change(session, actor, task_id, None)
            task.draft_data, task.draft_saved_at = data, clock.now()
            audit.append(session, actor.username, "draft_saved", case.id, {"task": task.id, "step": task.step})
            return task

    def reassign_task(self, session: Session, actor: access.Actor, task_id: int, username: str, reason: str,
                      expected_version: int | None = None, locale: str = "vi") -> Task:
        """Give an open plan activity to another assignable account (engine.assignees.reassign)."""
        from engine import assignees

        return assignees.reassign(self, session, actor, task_id, username, reason, locale,
                                  expected_version=expected_version)

    def claim_task(self, session: Session, actor: access.Actor, task_id: int) -> Task:
        """Take an open step of one's role and unit ("Nhận việc", engine.ownership.claim)."""
        from engine import ownership

        return ownership.claim(self, session, actor, task_id)

    def release_task(self, session: Session, actor: access.Actor, task_id: int) -> Task:
        """Give a held step back to everyone of its role (engine.ownership.release)."""
        from engine import ownership

        return ownership.release(self, session, actor, task_id)

    def assign_task(self, session: Session, actor: access.Actor, task_id: int, data: dict[str, Any],
                    locale: str = "vi") -> Task:
        """Give an open step of a role to one account (engine.ownership.assign)."""
        from engine import ownership

        return ownership.assign(self, session, actor, task_id, data, locale)

    # -- the other commands: one transaction each, in their own modules, all reachable from the engine --------
    def fire_timer(self, session: Session, timer_id: int, worker: str) -> bool:
        """Fire one claimed timer (engine.timers.fire); False when it was not ours to fire."""
        from engine import timers  # timers and transfers build on this class

        return timers.fire(self, session, timer_id, worker)

    def transfer_case(self, session: Session, actor: access.Actor, case_id: int, data: dict[str, Any],
                      expected_version: int | None = None, locale: str = "vi") -> Case:
        """Move a case and its open steps to another commune (engine.transfers.transfer)."""
        from engine import transfers

        return transfers.transfer(self, session, actor, case_id, data, expected_version, locale)

    def reopen_case(self, session: Session, actor: access.Actor, case_id: int, reopen_data: dict[str, Any],
                    report_data: dict[str, Any], locale: str = "vi") -> Case:
        """A new report about the child of a closed case: a new, linked case (engine.transfers.reopen)."""
        from engine import transfers

        return transfers.reopen(self, session, actor, case_id, reopen_data, report_data, locale)

    def request_separation(self, session: Session, actor: access.Actor, case_id: int, data: dict[str, Any],
                           expected_version: int | None = None, locale: str = "vi") -> Task:
        """Ask for a Mẫu 07 separation decision at any point of an open case (engine.separation)."""
        from engine import separation

        return separation.request_separation(self, session, actor, case_id, data, expected_version, locale)

    def request_adjustment(self, session: Session, actor: access.Actor, case_id: int,
                           expected_version: int | None = None, locale: str = "vi") -> Task:
        """Open a plan adjustment while the plan's activities run (engine.separation)."""
        from engine import separation

        return separation.request_adjustment(self, session, actor, case_id, expected_version, locale)

    def _task_for_change(self, session: Session, actor: access.Actor, task_id: int,
                         expected_version: int | None) -> tuple[Task, Case]:
        task = session.get(Task, task_id)
        if task is None:
            raise NotFound("Không tìm thấy bước này.", "No such step.")
        self._check_actor(session, actor, task)
        if task.state != "ready":
            raise Conflict("Bước này đã được hoàn thành hoặc đã huỷ; không có thay đổi nào được lưu.",
                           "This step was already completed or cancelled; nothing was saved.")
        # PostgreSQL: concurrent changes of one case queue here, and the later one then sees the new version.
        case = self.case_row(session, task.case_id, lock=True)
        session.refresh(task)
        if task.state != "ready":
            raise Conflict("Bước này đã được hoàn thành hoặc đã huỷ; không có thay đổi nào được lưu.",
                           "This step was already completed or cancelled; nothing was saved.")
        self._check_actor(session, actor, task)  # claimed by someone else meanwhile (engine.ownership)
        if expected_version is not None and case.version != expected_version:
            raise Conflict("Hồ sơ đã thay đổi kể từ khi bạn mở trang; không có thay đổi nào được lưu. "
                           "Hãy tải lại trang.",
                           "The case changed since you opened the page; nothing was saved. Reload the page.")
        restriction.ensure_unrestricted(session, case)  # Law 91/2025 Art. 24.3: read-only while restricted
        return task, case

    def _step_for_change(self, session: Session, actor: access.Actor, task_id: int,
                         expected_version: int | None) -> _StepRead:
        """What completing a step needs, read once (issue 20): the case, its workflow state, its open rows with
        the task, its pending timers, the restriction in force, the version's content hash and the audit head;
        checked as `_task_for_change` checks. On PostgreSQL the case row is locked first (concurrent changes of
        one case queue there) and the rest read after, so nothing is from before the wait; SQLite has one
        writer and a transaction's reads agree with each other, so one statement reads it all."""
        postgres = session.get_bind().dialect.name == "postgresql"
        lock_case, read_step = _step_statements(postgres)
        case: Case | None = None
        params: dict[str, Any] = {"task_id": task_id}
        if lock_case is not None:
            locked = session.execute(lock_case, {"task_id": task_id}).one_or_none()
            if locked is None:
                raise NotFound("Không tìm thấy bước này.", "No such step.")
            case, hash_of_version = locked[0], locked[1]
            audit.seen_head(session, locked[2], locked[3])
            params["case_id"] = case.id
        rows = session.execute(read_step, params).all()
        mine = next((row for row in rows if row[0].id == task_id), None)
        if mine is None:
            raise NotFound("Không tìm thấy bước này.", "No such step.")
        if not postgres:
            case, hash_of_version = mine[5], mine[6]
            audit.seen_head(session, mine[7], mine[8])
        assert case is not None
        task = mine[0]
        self._check_actor(session, actor, task)
        if task.state != "ready":
            raise Conflict("Bước này đã được hoàn thành hoặc đã huỷ; không có thay đổi nào được lưu.",
                           "This step was already completed or cancelled; nothing was saved.")
        if expected_version is not None and case.version != expected_version:
            raise Conflict("Hồ sơ đã thay đổi kể từ khi bạn mở trang; không có thay đổi nào được lưu. "
                           "Hãy tải lại trang.",
                           "The case changed since you opened the page; nothing was saved. Reload the page.")
        if mine[3] is not None:  # Law 91/2025 Art. 24.3: read-only while restricted
            restriction.ensure_unrestricted(session, case)
        timers = [(int(t[0]), str(t[1]), str(t[2])) for t in (mine[4] or ())]
        return _StepRead(task, case, [row[0] for row in rows if row[0].id != task_id], mine[1], mine[2],
                         hash_of_version, timers)

    @staticmethod
    def _check_actor(session: Session, actor: access.Actor, task: Task) -> None:
        if access.can_act(actor, task):
            return
        if task.assignee and access.is_role_step(task) and access.may_hold(actor, task):
            from engine import ownership

            raise ownership.held_by_other(session, task)
        raise Forbidden("Bạn không có quyền thực hiện bước này.", "You may not perform this step.")

    # -- advancing and syncing -----------------------------------------------------------------------
    def advance(self, session: Session, case: Case, workflow: BpmnWorkflow, definition: Definition,
                actor: access.Actor, now: datetime, *, ready: list[Task] | None = None,
                timers: list[tuple[int, str, str]] | None = None,
                restriction_id: int | None | Literal[Unread.UNREAD] = Unread.UNREAD) -> None:
        """Run engine steps and timers, then make the task and timer rows and the case row agree. `ready` and
        `timers`: the case's open rows and pending timers (id, spiff id, kind) when the caller read them in this
        transaction already (a step, `_step_for_change`); otherwise they are read here. `restriction_id`: the
        restriction in force when the caller read it too (None when there is none; engine.timers), so an
        escalation records it without asking again."""
        self.refresh_calendar(session)  # deadlines computed below follow the administrators' days
        run_engine_steps(workflow)
        workflow.refresh_timers()  # a limit already past fires now (non-interrupting escalation)
        run_engine_steps(workflow)
        _end_outlived(workflow)
        closing: set[str] = set()
        if case.status == "open":
            # The social track's end decides the case (Art. 30.1).
            ended = {t.task_spec.name for t in workflow.get_tasks(state=TaskState.COMPLETED)} & set(END_STATUS)
            if ended:
                case.status = END_STATUS[sorted(ended)[0]]
                case.closed_at = now
                audit.append(session, actor.username, "case_closed", case.id, {"status": case.status}, now)
        if case.status != "open":
            closing = self._cancel_after_close(workflow, definition)
        open_rows = self._sync_tasks(session, case, workflow, definition, now, closing, ready,
                                     restriction_id=restriction_id)
        if case.status == "open":
            from engine import transfers  # the plan stage belongs to the residence commune (Law Art. 52.2)

            transfers.route(self, session, case, open_rows.values(), now)
        self._sync_timers(session, case, workflow, open_rows, now, timers)
        # A closed case is at no step of the procedure; what goes on (the police track) is shown as such.
        titles = [r.title for r in sorted(open_rows.values(), key=lambda r: r.id)
                  if r.escalates_task_id is None and case.status == "open"]
        case.stage = "; ".join(dict.fromkeys(titles))[:200]
        case.updated_at = now
        self._store_workflow(session, case, workflow)
        session.flush()  # the case row's version check happens here: a stale case raises StaleDataError

    @staticmethod
    def _cancel_after_close(workflow: BpmnWorkflow, definition: Definition) -> set[str]:
        """Cancel, in the workflow, every open step of a closed case that can no longer matter: all but the
        steps of a track that goes on by law (the police track, Art. 25.3) and their escalations. Returns the
        cancelled task ids."""
        cancelled: set[str] = set()
        for spiff_task in workflow.get_tasks(state=TaskState.READY, manual=True):
            step = definition.step(spiff_task.task_spec.name)
            if step is not None and step.track:
                continue
            # The step's boundary-event split holds the step and its timers: cancelling it ends them together.
            holder = spiff_task.parent if Engine._boundary_timer(spiff_task) is not None else spiff_task
            holder.cancel()
            cancelled.add(str(spiff_task.id))
        # An event subprocess still running (a separation, a plan adjustment) ends with the case: left alone its
        # cancelled steps would keep it, and so the process, from ever finishing.
        for sub in _event_subprocesses(workflow):
            sub.cancel()
            cancelled.add(str(sub.id))
        if cancelled:
            # A join already waiting (the process's end) is only re-examined when a branch reaches it, and a
            # cancelled branch never does: look again now, so the process ends once the remaining tracks do.
            workflow.update_waiting_tasks()
            run_engine_steps(workflow)
        return cancelled

    def _sync_tasks(self, session: Session, case: Case, workflow: BpmnWorkflow, definition: Definition,
                    now: datetime, closing: Collection[str] = (), ready_rows: list[Task] | None = None,
                    *, restriction_id: int | None | Literal[Unread.UNREAD] = Unread.UNREAD) -> dict[str, Task]:
        """Open a row for every new ready user task, cancel rows whose task is gone (`closing`: cancelled
        because the case closed); returns the open rows by SpiffWorkflow task id. `ready_rows`: the open rows
        as read in this transaction (rows the caller closed since are left out here)."""
        if ready_rows is None:
            ready_rows = list(session.scalars(select(Task).where(Task.case_id == case.id, Task.state == "ready")))
        open_rows = {r.spiff_id: r for r in ready_rows if r.state == "ready"}
        ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
        for spiff_id in [s for s in open_rows if s not in ready]:
            row = open_rows.pop(spiff_id)
            reason = "case_closed" if spiff_id in closing else "path_left"
            late_step = session.get(Task, row.escalates_task_id) if row.escalates_task_id else None
            if reason == "path_left" and late_step is not None and late_step.state == "completed":
                reason = "late_step_done"  # an activity's branch ended with its report (BPMN terminate end)
            row.state, row.completed_at, row.cancel_reason = "cancelled", now, reason
            audit.append(session, "system", "task_cancelled", case.id,
                         {"task": row.id, "step": row.step, "reason": reason}, now)
        opened: list[tuple[Task, Task | None]] = []
        for spiff_id, spiff_task in ready.items():
            if spiff_id in open_rows:
                continue
            step = definition.step(spiff_task.task_spec.name)
            if step is None:
                raise InvalidState(f"Bước {spiff_task.task_spec.name} không có trong định nghĩa quy trình.")
            row = Task(
                case_id=case.id, spiff_id=spiff_id, step=step.step, title=step.title_vi, role=step.role,
                commune_id=case.commune_id, province_id=case.province_id, state="ready", created_at=now,
                due_at=self._due(spiff_task), rule=step.rule, form=step.form,
                assignee=self._assignee(spiff_task, step), track=step.track,
                activity=self._activity(spiff_task, step),
            )
            late_step = self._escalated_row(spiff_task, open_rows) if step.escalates else None
            if late_step is not None:
                if not inspect(late_step).has_identity:  # the late step opened in this same sync: its id first
                    session.flush()
                row.escalates_task_id, row.due_at = late_step.id, None
            session.add(row)
            open_rows[spiff_id] = row
            opened.append((row, late_step))
        if opened:
            session.flush()  # the new rows in one INSERT (several activities of a plan): their ids go into the trail
        for row, late_step in opened:
            if late_step is not None:
                late_step.escalated_at = now
                details = {"task": late_step.id, "step": late_step.step, "due_at": late_step.due_at,
                           "escalation_task": row.id}
                if restriction_id is Unread.UNREAD:  # not read by the caller
                    row_in_force = restriction.active(session, case.id)
                    restriction_id = row_in_force.id if row_in_force is not None else None
                if restriction_id is not None:  # the limit still runs; the escalation says why nobody could act
                    details["restricted"] = restriction_id
                audit.append(session, "system", "deadline_passed", case.id, details, now)
            audit.append(session, "system", "task_opened", case.id,
                         {"task": row.id, "step": row.step, "role": row.role, "assignee": row.assignee,
                          "due_at": row.due_at}, now)
        return open_rows

    @staticmethod
    def _boundary_timer(spiff_task: SpiffTask) -> SpiffTask | None:
        parent = spiff_task.parent
        for sibling in parent.children if parent else ():
            if sibling is not spiff_task and isinstance(
                    getattr(sibling.task_spec, "event_definition", None), TimerEventDefinition):
                return sibling
        return None

    @staticmethod
    def _timer_value(timer_task: SpiffTask) -> Any:
        """The moment a waiting timer event fires, as SpiffWorkflow reports a pending event."""
        return timer_task.task_spec.event_definition.details(timer_task).value

    def _due(self, spiff_task: SpiffTask) -> datetime | None:
        timer = self._boundary_timer(spiff_task)
        value = self._timer_value(timer) if timer else None
        return clock.parse_moment(value) if value else None

    def _assignee(self, spiff_task: SpiffTask, step: Step) -> str | None:
        if not step.assignee_expr:
            return None
        value = self.script_engine.evaluate(spiff_task, step.assignee_expr)
        return str(value).strip() or None if value is not None else None

    @staticmethod
    def _activity(spiff_task: SpiffTask, step: Step) -> dict[str, Any] | None:
        """The plan activity an assigned step carries out: the multi-instance child's input item. Read here,
        where the workflow knows it, so no page has to guess it from dates and order later."""
        if not step.assignee_expr:
            return None
        activity = spiff_task.data.get("activity")
        return dict(activity) if isinstance(activity, dict) else None

    @staticmethod
    def _escalated_row(escalation: SpiffTask, open_rows: dict[str, Task]) -> Task | None:
        """The open row of the late step that a supervisor's escalation task was opened for: the step is the
        sibling of the boundary timer that fired (non-interrupting, so the step is still open)."""
        timer = escalation.parent
        split = timer.parent if timer else None
        for sibling in split.children if split else ():
            if sibling is not timer and str(sibling.id) in open_rows and not isinstance(
                    getattr(sibling.task_spec, "event_definition", None), TimerEventDefinition):
                return open_rows[str(sibling.id)]
        return None

    def _sync_timers(self, session: Session, case: Case, workflow: BpmnWorkflow, open_rows: dict[str, Task],
                     now: datetime, timers: list[tuple[int, str, str]] | None = None) -> None:
        """Make the timer rows follow the workflow's waiting timer events, in one statement (issue 20): the timers
        that ended (fired or cancelled) and the new ones go into one INSERT … ON CONFLICT DO UPDATE
        (`_timer_upsert`), which ends the existing rows and adds the new ones. `timers`: the pending (id, spiff
        id, kind) when the caller read them already."""
        if timers is None:
            timers = [(t.id, t.spiff_id, t.kind) for t in session.execute(
                select(Timer.id, Timer.spiff_id, Timer.kind)
                .where(Timer.case_id == case.id, Timer.fired_at.is_(None), Timer.cancelled_at.is_(None)))]
        pending = {(spiff_id, kind) for _id, spiff_id, kind in timers}
        postgres = session.get_bind().dialect.name == "postgresql"
        rows: list[dict[str, Any]] = []

        def row(spiff_id: str, kind: str, fire_at: datetime, task_id: int | None = None,
                fired: bool = False, cancelled: bool = False) -> None:
            rows.append({"case_id": case.id, "task_id": task_id, "spiff_id": spiff_id, "kind": kind,
                         "fire_at": fire_at, "fired_at": now if fired else None,
                         "cancelled_at": now if cancelled else None, "attempts": 0, "incident": False})

        waiting: dict[str, SpiffTask] = {}
        for spiff_task in workflow.get_tasks(state=TaskState.WAITING):
            if isinstance(getattr(spiff_task.task_spec, "event_definition", None), TimerEventDefinition):
                waiting[str(spiff_task.id)] = spiff_task
        for spiff_id, kind in pending:
            if spiff_id in waiting:
                continue
            try:
                fired = workflow.get_task_from_id(uuid.UUID(spiff_id))
            except TaskNotFoundException:  # its subprocess is gone (an interrupted intervention)
                fired = None
            done = kind == "deadline" and fired is not None and fired.state == TaskState.COMPLETED
            # An existing row's proposed values only satisfy NOT NULL: DO UPDATE keeps the row and writes its end.
            row(spiff_id, kind, now, fired=done, cancelled=not done)
        for spiff_id, timer_task in waiting.items():
            if (spiff_id, "deadline") in pending:
                continue
            value = self._timer_value(timer_task)
            if not value:
                continue
            fire_at = clock.parse_moment(value)
            step_row = self._step_row_of_timer(timer_task, open_rows)
            row(spiff_id, "deadline", fire_at, step_row.id if step_row else None)
            if step_row is not None and step_row.rule:
                remind = self.rules.reminder_at(step_row.rule, step_row.created_at, fire_at)
                if remind is not None:
                    row(spiff_id, "reminder", remind, step_row.id)
        if not rows:
            return
        session.execute(_timer_upsert(postgres), rows)

    @staticmethod
    def _step_row_of_timer(timer_task: SpiffTask, open_rows: dict[str, Task]) -> Task | None:
        for sibling in timer_task.parent.children if timer_task.parent else ():
            if sibling is not timer_task and sibling.task_spec.manual:
                return open_rows.get(str(sibling.id))
        return None
