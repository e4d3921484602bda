"""Temporary separation (Decree 56/2017 Art. 32) and plan adjustment (Art. 29.1a): the two event subprocesses of
processes/decree56.bpmn that can start at any point of a running case, and the checks their steps need.

`request_separation` records a request (form `separation_request`) and sends the BPMN signal
`separation_requested`, which starts `Sub_separation`: the chairman's Mẫu 07 decision, due 12 hours after the
information was received (32.2), then its reviews. The emergency measures of Art. 31 send the same signal from
the process itself. One separation runs at a time.

`request_adjustment` sends `adjustment_requested`, which starts `Sub_adjustment` while the plan's activities run:
the officer's proposal and the chairman's approval; approved, the process restarts the activities under the
adjusted plan (the next plan version). It ends by itself when the activities end first (`runs_while`).

`review_data` gives a separation review what the form cannot see: the separation's period, the court decision
that allows it beyond 15 days, and the Mẫu 03 reassessment of the parents that a cancellation needs (32.3).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import SignalEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

import forms
from engine import access, audit, clock
from engine.errors import Conflict, Forbidden, InvalidState
from engine.models import Case, Task
from engine.registry import Definition, Step
from forms.court_decision import reference
from forms.kit import messages

if TYPE_CHECKING:  # runtime imports this module lazily; the type alone is needed here
    from engine.runtime import Engine

SEPARATION = "Sub_separation"
ADJUSTMENT = "Sub_adjustment"
INTERVENTION = "Sub_intervention"
REQUEST_STEP = Step("separation_request", "separation_request", "Đề nghị quyết định tạm thời cách ly trẻ em",
                    "Request for a temporary separation decision", "separation_request", "officer",
                    "Điều 32 NĐ 56/2017/NĐ-CP", "")


# The steps of a running separation and of a pending adjustment. A supervisor's acknowledgement of a late step
# may stay open after them (it keeps its subprocess going) without the separation or adjustment still running.
SEPARATION_STEPS = ("Task_separation_decision", "Task_separation_review", "Task_separation_reassessment",
                    "Task_court_request", "Task_court_decision")
ADJUSTMENT_STEPS = ("Task_propose_adjustment", "Task_approve_adjustment")


def running(workflow: BpmnWorkflow, spec_name: str) -> bool:
    """Whether a (sub)process or activity of that name is started and not finished."""
    return any(not t.has_state(TaskState.FINISHED_MASK) and t.has_state(TaskState.STARTED | TaskState.READY)
               for t in workflow.get_tasks(spec_name=spec_name))


def waiting_on(workflow: BpmnWorkflow, steps: tuple[str, ...]) -> bool:
    """Whether one of these steps is open (they follow one another without a gap)."""
    return any(workflow.get_tasks(spec_name=name, state=TaskState.READY) for name in steps)


def _offers(definition: Definition, spec_name: str) -> bool:
    return spec_name in definition.spec.task_specs


def _send(workflow: BpmnWorkflow, signal: str, payload: dict[str, Any]) -> None:
    workflow.send_event(BpmnEvent(SignalEventDefinition(signal), payload=payload))


def _open_case(engine: Engine, session: Session, case_id: int, expected_version: int | None) -> Case:
    case = engine.case_row(session, case_id, lock=True)
    if case.status != "open":
        raise InvalidState("Hồ sơ đã đóng.", "The case is closed.")
    if expected_version is not None and case.version != expected_version:
        raise Conflict("Hồ sơ đã thay đổi kể từ khi bạn mở trang; không có thay đổi nào được lưu. Hãy tải lại trang.",
                       "The case changed since you opened the page; nothing was saved. Reload the page.")
    return case


def request_separation(engine: Engine, session: Session, actor: access.Actor, case_id: int, data: dict[str, Any],
                       expected_version: int | None = None, locale: str = "vi") -> Task:
    """Ask the chairman for a Mẫu 07 decision at any point of an open case; returns the request's row."""
    clean = forms.validate("separation_request", data, locale=locale)
    with engine.transaction(session):
        case = _open_case(engine, session, case_id, expected_version)
        if not access.can_request_separation(actor, case):
            raise Forbidden("Bạn không được đề nghị cách ly trẻ em trong hồ sơ này.",
                            "You may not ask for a separation in this case.")
        definition = engine.registry.for_version(session, case.process_version_id)
        if not _offers(definition, SEPARATION):
            raise InvalidState("Phiên bản quy trình của hồ sơ này không có bước cách ly theo Mẫu số 07; hãy chuyển "
                               "hồ sơ sang phiên bản quy trình mới.",
                               "This case's process version has no Form 07 separation; migrate the case first.")
        workflow = engine.load_workflow(session, case)
        if waiting_on(workflow, SEPARATION_STEPS):
            raise Conflict("Hồ sơ đang có một việc cách ly tạm thời (hoặc đề nghị cách ly chờ quyết định): mỗi lần "
                           "chỉ một quyết định cách ly.",
                           "A temporary separation (or a request for one) is already running in this case.")
        now = clock.now()
        row = engine.record_form(session, case, REQUEST_STEP, str(uuid.uuid4()), actor, clean,
                                 now, definition)
        _send(workflow, "separation_requested", {"received_at": clean["information_received_at"],
                                                 "trigger": "request", "request_task": row.id,
                                                 "ground": clean["ground"], "requested_by": actor.username})
        audit.append(session, actor.username, "separation_requested", case.id,
                     {"task": row.id, "ground": clean["ground"], "received_at": clean["information_received_at"]},
                     now)
        engine.advance(session, case, workflow, definition, actor, now)
        return row


def request_adjustment(engine: Engine, session: Session, actor: access.Actor, case_id: int,
                       expected_version: int | None = None, locale: str = "vi") -> Task:
    """Open the officer's proposal to adjust the plan while its activities run; returns the proposal's row,
    pre-filled (as a draft) with the activities of the plan in force."""
    with engine.transaction(session):
        case = _open_case(engine, session, case_id, expected_version)
        if not access.can_propose_adjustment(actor, case):
            raise Forbidden("Chỉ người làm công tác bảo vệ trẻ em của xã, phường đề xuất điều chỉnh kế hoạch "
                            "(Điều 29 khoản 1 điểm a).",
                            "Only the commune's child-protection officer proposes plan adjustments (Art. 29.1a).")
        definition = engine.registry.for_version(session, case.process_version_id)
        workflow = engine.load_workflow(session, case)
        if not _offers(definition, ADJUSTMENT):
            raise InvalidState("Phiên bản quy trình của hồ sơ này không có bước điều chỉnh kế hoạch; hãy chuyển hồ "
                               "sơ sang phiên bản quy trình mới.",
                               "This case's process version has no plan adjustment; migrate the case first.")
        if not running(workflow, INTERVENTION):
            raise InvalidState("Chỉ điều chỉnh kế hoạch khi các hoạt động của kế hoạch đang được thực hiện; sau rà "
                               "soát (Mẫu số 06), hãy xây dựng kế hoạch mới.",
                               "A plan is adjusted only while its activities run; after the review, draw up a new one.")
        if waiting_on(workflow, ADJUSTMENT_STEPS):
            raise Conflict("Đang có một đề xuất điều chỉnh kế hoạch chờ xử lý.",
                           "A plan adjustment is already in progress.")
        plan = current_plan(workflow)
        now = clock.now()
        _send(workflow, "adjustment_requested", {"requested_by": actor.username, "requested_at": now.isoformat()})
        audit.append(session, actor.username, "adjustment_requested", case.id, {}, now)
        engine.advance(session, case, workflow, definition, actor, now)
        row = session.scalars(select(Task).where(Task.case_id == case.id, Task.step == "propose_adjustment",
                                                 Task.state == "ready")).first()
        if row is None:  # the signal always starts the subprocess; a missing row is an engine fault, not input
            raise InvalidState("Không mở được bước đề xuất điều chỉnh kế hoạch.", "The proposal step did not open.")
        if plan:
            row.draft_data = {"activities": plan.get("activities") or [],
                              "planned_review_on": plan.get("planned_review_on")}
            row.draft_saved_at = now
        return row


def current_plan(workflow: BpmnWorkflow) -> dict[str, Any] | None:
    """The plan in force: the Mẫu 04 data the running activities were given (adjusted or not)."""
    for task in workflow.get_tasks(spec_name=INTERVENTION):
        if task.has_state(TaskState.STARTED | TaskState.READY) and isinstance(task.data.get("mau_04"), dict):
            return dict(task.data["mau_04"])
    return None


def check_one_separation(workflow: BpmnWorkflow, locale: str = "vi") -> None:
    """Emergency measures asking for a Mẫu 07 decision while a separation already runs: refused on the field,
    as a second request from the case page is (one separation at a time)."""
    if waiting_on(workflow, SEPARATION_STEPS):
        errors = {"separate": ["separation_running"]}
        spec = forms.get("emergency_measures")
        raise forms.FormError(messages.translate_tree(errors, locale), codes=messages.codes_tree(errors),
                              form=spec.name, version=spec.version, locale=messages.normalize_locale(locale))


def check_adjustment(session: Session, case: Case, clean: dict[str, Any], locale: str = "vi") -> dict[str, Any]:
    """The adjusted activities go where a plan's may: real, active accounts in the case's scope."""
    from engine import assignees

    return assignees.check_plan_assignees(session, case, clean, locale)


# -- a separation review ----------------------------------------------------------------------------------------
def _decided_at(session: Session, case: Case, separation: dict[str, Any]) -> datetime:
    """When the running separation was decided: its Mẫu 07 row, or (old combined decisions) its start day."""
    row = session.scalars(select(Task).where(Task.case_id == case.id, Task.step == "separation_decision",
                                             Task.state == "completed").order_by(Task.completed_at.desc())).first()
    if row is not None and row.completed_at is not None and (row.form_data or {}).get("decision") == "separate":
        return row.completed_at
    return clock.parse_moment(f"{separation['start']}T00:00:00+07:00")


def eligible_reassessments(session: Session, case: Case, separation: dict[str, Any]) -> list[Task]:
    """Mẫu 03 assessments completed since the separation was decided, newest first (Art. 32.3)."""
    since = _decided_at(session, case, separation)
    rows = session.scalars(select(Task).where(Task.case_id == case.id, Task.form == "mau_03",
                                              Task.state == "completed").order_by(Task.completed_at.desc()))
    return [r for r in rows if r.completed_at is not None and r.completed_at > since]


def court_decision(session: Session, case: Case, separation: dict[str, Any]) -> Task | None:
    """The court's latest decision to continue this separation (Law on Children Art. 52.3), if any."""
    since = _decided_at(session, case, separation)
    rows = session.scalars(select(Task).where(Task.case_id == case.id, Task.step == "court_decision",
                                              Task.state == "completed").order_by(Task.completed_at.desc()))
    for row in rows:
        if row.completed_at is None or row.completed_at < since:
            break
        if (row.form_data or {}).get("outcome") in ("granted", "rights_restricted"):
            return row
    return None


def review_data(session: Session, case: Case, separation: dict[str, Any], data: dict[str, Any],
                definition: Definition) -> tuple[dict[str, Any], int | None]:
    """The review's input with what only the case knows: period, court authority, the Mẫu 03 reassessment, and
    the form version to check it with. Typed values of those fields are replaced, never trusted; a reassessment
    named by id must be eligible. A case on a process version before issue 16 (no court step: its gateway knows
    only extend and cancel) keeps reviewing on version 1 of the form, a typed authority reference included."""
    if "Task_court_request" not in definition.spec.task_specs and not any(
            "Task_court_request" in sub.task_specs for sub in definition.subprocess_specs.values()):
        return {**data, "current_start": separation["start"], "current_end": separation["end"]}, 1
    data = {k: v for k, v in data.items() if k not in ("current_start", "current_end", "authority_reference",
                                                         "authority_until")}
    data.update(current_start=separation["start"], current_end=separation["end"])
    court = court_decision(session, case, separation)
    if court is not None:
        data.update(authority_reference=reference(court.form_data or {}),
                    authority_until=(court.form_data or {}).get("until"))
    if data.get("action") == "cancel":
        eligible = {r.id: r for r in eligible_reassessments(session, case, separation)}
        raw = data.get("reassessment_task_id")
        chosen: int | None
        try:
            chosen = int(raw) if isinstance(raw, int | str) and raw != "" else None
        except ValueError:
            chosen = None
        if chosen not in eligible:
            chosen = next(iter(eligible), None)
        data["reassessment_task_id"] = chosen
    else:
        data.pop("reassessment_task_id", None)
    return data, None


# -- plan versions ------------------------------------------------------------------------------------------------
def plan_versions(session: Session, case: Case) -> list[dict[str, Any]]:
    """The case's approved plans in order, v1, v2 …: each approval of a drafted plan (Art. 28.4) and each approved
    adjustment (Art. 29.1a), with the activities it set, when and by whom it was approved, and its source row."""
    rows = session.scalars(select(Task).where(
        Task.case_id == case.id, Task.state == "completed",
        Task.step.in_(("draft_plan", "approve_plan", "propose_adjustment", "approve_adjustment")))
        .order_by(Task.completed_at, Task.id)).all()
    versions: list[dict[str, Any]] = []
    drafted: dict[str, Task] = {}
    for row in rows:
        data = row.form_data or {}
        if row.step in ("draft_plan", "propose_adjustment"):
            drafted[row.step] = row
            continue
        source = drafted.get("draft_plan" if row.step == "approve_plan" else "propose_adjustment")
        if data.get("decision") != "approve" or source is None:
            continue
        versions.append({
            "version": len(versions) + 1, "kind": "plan" if row.step == "approve_plan" else "adjustment",
            "approved_at": row.completed_at, "approved_by": row.completed_by, "approval_task": row.id,
            "decision_number": data.get("decision_number"), "source_task": source.id,
            "activities": (source.form_data or {}).get("activities") or [],
            "reason": (source.form_data or {}).get("reason"),
        })
    return versions
