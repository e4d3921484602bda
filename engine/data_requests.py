"""Data subjects' requests (Law 91/2025/QH15 Art. 4, 24; Decree 356/2025/NĐ-CP Art. 5) as a BPMN process.

`processes/privacy/data_request.bpmn` runs on case56's engine building blocks, not on copies of them: the
registry's checks (`load_definition`, with the administrator's lane), the RestrictedPython sandbox, the deadline
rules (`processes/privacy/data_request.toml`, read by engine.deadlines), the case engine's working-day calendar
(with the administrators' days), SpiffWorkflow's timers, the compact state format and the hash-chained audit.
A request keeps the BPMN text it started on (`privacy_process`), as a case keeps its process version.

A request is received (who, which right, which child's case, the identity document, the representative
recorded on the case), acknowledged within 2 working days, then completed within the limit of its right (10, 15
or 20 days), extended once, or refused with its legal ground. A representative flagged as the alleged abuser is
refused on receipt by the process itself. A step whose limit passes is escalated by `tick` (the boundary timer
fires in SpiffWorkflow; the step row is marked and the administrators alerted).
"""

from __future__ import annotations

import functools
import tomllib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import forms
from engine import access, audit, clock
from engine.calendar import WorkingCalendar
from engine.deadlines import Rules
from engine.errors import Conflict, Forbidden, InvalidState, NotFound
from engine.models import Case, DataRequest, DataRequestStep, LegalRepresentative, PrivacyProcess
from engine.registry import PROCESS_DIR, Definition, Step, load_definition
from engine.runtime import Engine
from engine.sandbox import RestrictedEnvironment

PROCESS_ID = "data_request"
PROCESS_FILE = PROCESS_DIR / "privacy" / "data_request.bpmn"
RULES_FILE = PROCESS_DIR / "privacy" / "data_request.toml"
ROLES = ("admin",)
SYSTEM = access.Actor("system", "system")
# The process's end events and the request status each means.
END_STATUS = {"End_completed": "completed", "End_refused": "refused", "End_refused_at_ack": "refused",
              "End_refused_abuser": "refused"}
OPEN = ("received", "acknowledged")
# Refusing because the commune must keep the dossier (Decree 56 Art. 30.3) answers a request to erase data.
RETENTION_REFUSABLE = frozenset({"delete", "withdraw"})


@dataclass(frozen=True)
class RequestType:
    code: str
    days: int
    extension_days: int


@dataclass(frozen=True)
class Limits:
    """The completion limits by right, and how their days are counted."""

    types: dict[str, RequestType]
    counting: str  # "days" (calendar days, Civil Code Art. 148.5) or "working_days"
    to_confirm: bool

    @classmethod
    def load(cls, path: Path = RULES_FILE) -> Limits:
        raw = tomllib.loads(path.read_text(encoding="utf-8")).get("request_types", {})
        counting = raw.get("counting", "days")
        if counting not in ("days", "working_days"):
            raise ValueError(f"{path.name}: [request_types].counting must be 'days' or 'working_days'")
        types = {}
        for code in forms.get("data_request").schema().fields["request_type"].metadata["choices"].codes():
            entry = raw.get(code)
            if not isinstance(entry, dict) or not all(isinstance(entry.get(k), int) and entry[k] > 0
                                                      for k in ("days", "extension_days")):
                raise ValueError(f"{path.name}: [request_types.{code}] needs positive whole days and extension_days")
            types[code] = RequestType(code, entry["days"], entry["extension_days"])
        return cls(types, counting, bool(raw.get("to_confirm", True)))

    def due(self, calendar: WorkingCalendar, received: datetime, request_type: str, extended: bool) -> datetime:
        """The completion limit of a request received at `received`, counted from the day after receipt; with
        the one extension, the extension's days run on from the original limit."""
        kind = self.types[request_type]
        first = self._add(calendar, received, kind.days)
        return self._add(calendar, first, kind.extension_days) if extended else first

    def _add(self, calendar: WorkingCalendar, start: datetime, days: int) -> datetime:
        if self.counting == "working_days":
            return calendar.add_working_days(start, days)
        return calendar_days_limit(calendar, start, days)


def calendar_days_limit(calendar: WorkingCalendar, anchor: datetime, days: int) -> datetime:
    """Office closing time of the `days`-th calendar day after the anchor's local date; a last day that is a
    weekend or holiday moves to the next working day (Civil Code 2015 Art. 147.2-3, 148.5)."""
    day = clock.local(anchor).date() + timedelta(days=days)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return clock.parse_moment(datetime.combine(day, calendar.office_close, clock.LOCAL_TZ))


class DataRequests:
    """The request process, built once per engine (see `of`)."""

    def __init__(self, engine: Engine, process_file: Path = PROCESS_FILE, rules_file: Path = RULES_FILE) -> None:
        self.engine = engine
        self.rules = Rules.load(rules_file)
        self.limits = Limits.load(rules_file)
        self.current = load_definition(process_file.read_bytes(), process_file.name, self.rules, PROCESS_ID, ROLES)
        self.script_engine = PythonScriptEngine(environment=RestrictedEnvironment(self._bind))
        self._by_id: dict[int, Definition] = {}

    def _bind(self, context: dict[str, Any]) -> dict[str, Any]:
        return {"deadline": lambda name: self.rules.due(name, context, self.engine.calendar).isoformat()}

    # -- process texts ------------------------------------------------------------------------------------------
    def _process_row(self, session: Session) -> PrivacyProcess:
        """The current BPMN text's row, recorded when first used."""
        row = session.scalar(select(PrivacyProcess).where(PrivacyProcess.content_hash == self.current.content_hash))
        if row is None:
            row = PrivacyProcess(process_id=PROCESS_ID, content_hash=self.current.content_hash,
                                 file_name=self.current.file_name, bpmn=self.current.xml, loaded_at=clock.now())
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:  # recorded by a concurrent first request
                row = session.scalars(select(PrivacyProcess)
                                      .where(PrivacyProcess.content_hash == self.current.content_hash)).one()
        return row

    def definition(self, session: Session, process_id: int) -> Definition:
        row = session.get(PrivacyProcess, process_id)
        if row is None:
            raise InvalidState("Không tìm thấy quy trình của yêu cầu.", "The request's process is missing.")
        cached = self._by_id.get(process_id)
        if cached is None or cached.content_hash != row.content_hash:
            if row.content_hash == self.current.content_hash:
                cached = self.current
            else:
                cached = load_definition(row.bpmn, row.file_name, self.rules, PROCESS_ID, ROLES)
            self._by_id[process_id] = cached
        return cached

    def step_of(self, session: Session, request: DataRequest, spec_name: str) -> Step | None:
        return self.definition(session, request.process_id).step(spec_name)

    def load_workflow(self, session: Session, request: DataRequest) -> BpmnWorkflow:
        definition = self.definition(session, request.process_id)
        workflow = self.engine.state.loads(request.state, definition, request.serializer_version)
        workflow.script_engine = self.script_engine
        return workflow

    # -- receiving ----------------------------------------------------------------------------------------------
    def receive(self, session: Session, actor: access.Actor, data: dict[str, Any], locale: str = "vi") -> DataRequest:
        """Record a request and start its process; FormError with field messages, or nothing saved."""
        if not access.can_handle_privacy(actor):
            raise Forbidden("Bạn không được tiếp nhận yêu cầu của chủ thể dữ liệu.",
                            "You may not record data subjects' requests.")
        clean = forms.validate("data_request", data, locale=locale)
        with self.engine.transaction(session):
            self.engine.refresh_calendar(session)
            case = session.scalar(select(Case).where(Case.number == clean["case_number"]))
            if case is None:
                raise _field_error("case_number", f"Không có hồ sơ số {clean['case_number']}.",
                                   f"No case numbered {clean['case_number']}.", locale)
            representative = None
            if clean.get("representative_id") is not None:
                representative = session.get(LegalRepresentative, clean["representative_id"])
                if representative is None or representative.case_id != case.id:
                    raise _field_error("representative_id", "Người đại diện này không được ghi nhận trong hồ sơ.",
                                       "This representative is not recorded on the case.", locale)
            received = clock.parse_moment(clean["received_at"])
            if received < case.received_at - timedelta(days=1):
                raise _field_error("received_at", "Thời điểm nhận yêu cầu trước khi hồ sơ được tiếp nhận.",
                                   "The request is dated before the case was received.", locale)
            blocked = representative is not None and not access.representative_may_act(representative.alleged_abuser)
            now = clock.now()
            anchors = {"received_at": received.isoformat()}
            ack_due = self.rules.due("data_request_acknowledge", {"anchors": anchors}, self.engine.calendar)
            due = self.limits.due(self.engine.calendar, received, clean["request_type"], extended=False)
            process = self._process_row(session)
            request = DataRequest(
                number=f"tmp-{uuid.uuid4().hex}", case_id=case.id, commune_id=case.commune_id,
                province_id=case.province_id, representative_id=representative.id if representative else None,
                requester_kind=clean["requester_kind"], requester_name=clean["requester_name"],
                request_type=clean["request_type"], status="received", received_at=received,
                recorded_by=actor.username, ack_due_at=ack_due, due_at=due, form_data=clean,
                process_id=process.id, serializer_version=self.engine.state.version, state=b"", updated_at=now)
            session.add(request)
            session.flush()
            request.number = f"YCDL-{clock.local(received).year}-{request.id:05d}"
            definition = self.definition(session, process.id)
            workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=self.script_engine)
            workflow.task_tree.data.update({
                "data_request": clean, "anchors": anchors, "limits": {"complete": due.isoformat()},
                "screening": {"alleged_abuser": blocked}, "request": {"number": request.number},
            })
            audit.append(session, actor.username, "data_request_received", case.id,
                         {"request": request.id, "number": request.number, "type": request.request_type,
                          "requester_kind": request.requester_kind, "representative": request.representative_id,
                          "ack_due_at": ack_due, "due_at": due, "data": clean}, now)
            if blocked:
                request.refusal_ground = "alleged_abuser"
            self._advance(session, request, workflow, definition, actor, now)
            return request

    # -- completing a step --------------------------------------------------------------------------------------
    def complete(self, session: Session, actor: access.Actor, step_id: int, data: dict[str, Any],
                 expected_version: int | None = None, locale: str = "vi") -> DataRequestStep:
        """Validate the step's form, advance the request's process and record it all, or change nothing."""
        if not access.can_handle_privacy(actor):
            raise Forbidden("Bạn không được giải quyết yêu cầu của chủ thể dữ liệu.",
                            "You may not handle data subjects' requests.")
        try:
            with self.engine.transaction(session):
                return self._complete(session, actor, step_id, data, expected_version, locale)
        except IntegrityError:
            raise Conflict("Bước này vừa được người khác hoàn thành; không có thay đổi nào được lưu.",
                           "This step was just completed by someone else; nothing was saved.") from None

    def _complete(self, session: Session, actor: access.Actor, step_id: int, data: dict[str, Any],
                  expected_version: int | None, locale: str) -> DataRequestStep:
        row = session.get(DataRequestStep, step_id)
        if row is None:
            raise NotFound("Không tìm thấy bước này.", "No such step.")
        request = self._locked(session, row.request_id)
        session.refresh(row)
        if row.state != "ready":
            raise Conflict("Bước này đã được hoàn thành hoặc đã huỷ; không có thay đổi nào được lưu.",
                           "This step was already completed or cancelled; nothing was saved.")
        if expected_version is not None and request.version != expected_version:
            raise Conflict("Yêu cầu đã thay đổi kể từ khi bạn mở trang; không có thay đổi nào được lưu.",
                           "The request changed since you opened the page; nothing was saved.")
        if row.form is None:
            raise InvalidState("Bước này không có biểu mẫu.", "This step has no form.")
        clean = forms.validate(row.form, data, locale=locale)
        self._check(session, request, row.step, clean, locale)
        self.engine.refresh_calendar(session)
        workflow = self.load_workflow(session, request)
        spiff_task = workflow.get_task_from_id(uuid.UUID(row.spiff_id))
        if spiff_task is None or spiff_task.state != TaskState.READY:
            raise Conflict("Bước này không còn chờ xử lý.", "This step is no longer waiting.")
        now = clock.now()
        anchors = dict(spiff_task.data.get("anchors") or {})
        anchors[row.step] = now.isoformat()
        spiff_task.data.update({row.form: clean, "anchors": anchors})
        details: dict[str, Any] = {"request": request.id, "step_row": row.id, "step": row.step, "form": row.form,
                                   "data": clean}
        decision = clean.get("decision") or clean.get("outcome")
        if row.step == "acknowledge" and decision == "accept":
            request.status, request.acknowledged_at = "acknowledged", now
        if decision == "refuse":
            request.refusal_ground = clean["refusal_ground"]
        if decision == "extend":
            due = self.limits.due(self.engine.calendar, request.received_at, request.request_type, extended=True)
            spiff_task.data["limits"] = {**(spiff_task.data.get("limits") or {}), "complete": due.isoformat()}
            request.extended_at, request.due_at = now, due
            details["new_due_at"] = due
        spiff_task.run()
        row.state, row.completed_at, row.completed_by = "completed", now, actor.username
        row.form_data, row.form_version = clean, forms.get(row.form).version
        audit.append(session, actor.username, "data_request_step_completed", request.case_id, details, now)
        self._advance(session, request, workflow, self.definition(session, request.process_id), actor, now)
        return row

    def _check(self, session: Session, request: DataRequest, step: str, clean: dict[str, Any], locale: str) -> None:
        """What the law adds to the form: one extension only; a refusal ground that fits; the identity checked
        before a request is taken up; nothing of the file for a representative flagged meanwhile."""
        decision = clean.get("decision") or clean.get("outcome")
        if decision == "extend" and request.extended_at is not None:
            raise _field_error("outcome", "Yêu cầu đã được gia hạn một lần; không được gia hạn thêm "
                               "(Điều 5 NĐ 356/2025/NĐ-CP).",
                               "The request was already extended once; no further extension (Decree 356 Art. 5).",
                               locale)
        if step == "acknowledge" and decision == "accept" and not clean.get("identity_verified"):
            raise _field_error("identity_verified", "Chưa xác minh nhân thân người yêu cầu: hãy xác minh, hoặc từ "
                               "chối với căn cứ “không xác minh được nhân thân”.",
                               "The requester's identity is not verified: verify it, or refuse on that ground.",
                               locale)
        ground = clean.get("refusal_ground") if decision == "refuse" else None
        if ground == "dossier_retention" and request.request_type not in RETENTION_REFUSABLE:
            raise _field_error("refusal_ground", "Căn cứ lưu giữ hồ sơ chỉ dùng để từ chối yêu cầu xoá dữ liệu "
                               "hoặc rút lại sự đồng ý.",
                               "The retention ground answers only a request to delete data or withdraw consent.",
                               locale)
        representative = (session.get(LegalRepresentative, request.representative_id)
                          if request.representative_id else None)
        barred = representative is not None and not access.representative_may_act(representative.alleged_abuser)
        if barred and decision in ("accept", "done", "extend"):
            raise _field_error("decision" if step == "acknowledge" else "outcome",
                               "Người đại diện đã được xác định là người bị nghi xâm hại trẻ em: phải từ chối yêu cầu "
                               "(Điều 24 Luật 91/2025/QH15; Điều 27 khoản 1 điểm h NĐ 56/2017/NĐ-CP).",
                               "The representative is flagged as the alleged abuser: the request must be refused.",
                               locale)
        if ground == "alleged_abuser" and not barred:
            raise _field_error("refusal_ground", "Người yêu cầu không phải người đại diện được xác định là người bị "
                               "nghi xâm hại trẻ em trong hồ sơ.",
                               "The requester is not a representative flagged as the alleged abuser on the case.",
                               locale)

    @staticmethod
    def _locked(session: Session, request_id: int) -> DataRequest:
        postgres = session.get_bind().dialect.name == "postgresql"
        request = session.get(DataRequest, request_id, with_for_update=postgres)
        if request is None:
            raise NotFound("Không tìm thấy yêu cầu.", "No such request.")
        return request

    # -- advancing and syncing ----------------------------------------------------------------------------------
    def _advance(self, session: Session, request: DataRequest, workflow: BpmnWorkflow, definition: Definition,
                 actor: access.Actor, now: datetime) -> int:
        """Run engine steps and timers, then make the step rows and the request row agree with the workflow;
        returns how many steps were escalated."""
        workflow.do_engine_steps()
        workflow.refresh_timers()  # a limit already past fires now (non-interrupting: the step stays open)
        workflow.do_engine_steps()
        ended = {t.task_spec.name for t in workflow.get_tasks(state=TaskState.COMPLETED)} & set(END_STATUS)
        if ended and request.status in OPEN:
            request.status, request.closed_at = END_STATUS[sorted(ended)[0]], now
            audit.append(session, actor.username, "data_request_closed", request.case_id,
                         {"request": request.id, "status": request.status, "refusal_ground": request.refusal_ground},
                         now)
        escalated = self._sync_steps(session, request, workflow, definition, now)
        request.updated_at = now
        request.state, request.serializer_version = self.engine.state.dumps(workflow), self.engine.state.version
        session.flush()  # the version check: a request changed meanwhile raises StaleDataError (a Conflict)
        return escalated

    def _sync_steps(self, session: Session, request: DataRequest, workflow: BpmnWorkflow, definition: Definition,
                    now: datetime) -> int:
        rows = {r.spiff_id: r for r in session.scalars(
            select(DataRequestStep).where(DataRequestStep.request_id == request.id, DataRequestStep.state == "ready"))}
        ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
        for spiff_id in [s for s in rows if s not in ready]:
            gone = rows.pop(spiff_id)
            gone.state, gone.completed_at = "cancelled", now
            audit.append(session, "system", "data_request_step_cancelled", request.case_id,
                         {"request": request.id, "step_row": gone.id, "step": gone.step}, now)
        for spiff_id, spiff_task in ready.items():
            if spiff_id in rows:
                continue
            step = definition.step(spiff_task.task_spec.name)
            if step is None:
                raise InvalidState(f"Bước {spiff_task.task_spec.name} không có trong quy trình yêu cầu.")
            row = DataRequestStep(request_id=request.id, spiff_id=spiff_id, step=step.step, title=step.title_vi,
                                  state="ready", rule=step.rule, created_at=now, due_at=_due(spiff_task),
                                  form=step.form)
            session.add(row)
            session.flush()
            rows[spiff_id] = row
            audit.append(session, "system", "data_request_step_opened", request.case_id,
                         {"request": request.id, "step_row": row.id, "step": row.step, "due_at": row.due_at}, now)
        escalated = 0
        for spiff_id, row in rows.items():  # a step whose boundary timer has fired is late: escalate it once
            timer = _boundary_timer(ready[spiff_id])
            if row.escalated_at is None and timer is not None and timer.state == TaskState.COMPLETED:
                row.escalated_at = now
                escalated += 1
                audit.append(session, "system", "data_request_deadline_passed", request.case_id,
                             {"request": request.id, "number": request.number, "step_row": row.id, "step": row.step,
                              "due_at": row.due_at}, now)
        return escalated

    # -- timers -------------------------------------------------------------------------------------------------
    def tick(self, session: Session, batch: int = 100) -> int:
        """Escalate every open step whose limit has passed; returns how many were escalated. Each request in its
        own transaction; a request changed meanwhile is left for the next tick."""
        now = clock.now()
        due = list(session.scalars(
            select(DataRequestStep.request_id).where(DataRequestStep.state == "ready",
                                                     DataRequestStep.escalated_at.is_(None),
                                                     DataRequestStep.due_at < now)
            .distinct().limit(batch)))
        escalated = 0
        for request_id in due:
            try:
                with self.engine.transaction(session):
                    request = self._locked(session, request_id)
                    self.engine.refresh_calendar(session)
                    workflow = self.load_workflow(session, request)
                    escalated += self._advance(session, request, workflow,
                                               self.definition(session, request.process_id), SYSTEM, clock.now())
            except Conflict:
                continue
        return escalated

    def reschedule(self, session: Session, day: date, calendar: WorkingCalendar, actor: str, now: datetime) -> int:
        """Move the open steps' limits that a calendar change reaches (called by engine.rescheduling in the
        change's transaction), as a case's are moved: the step row, the request row and the boundary timer's
        moment in the workflow, one audit row each. A limit that has fired stays. Returns how many moved."""
        start = datetime.combine(day, time.min, clock.LOCAL_TZ)
        rows = list(session.scalars(select(DataRequestStep).where(
            DataRequestStep.state == "ready", DataRequestStep.escalated_at.is_(None), DataRequestStep.due_at >= start)
            .order_by(DataRequestStep.request_id, DataRequestStep.id)))
        moved = 0
        for row in rows:
            request = self._locked(session, row.request_id)
            workflow = self.load_workflow(session, request)
            timer = _boundary_timer(workflow.get_task_from_id(uuid.UUID(row.spiff_id)))
            if timer is None or timer.state != TaskState.WAITING or not row.rule:
                continue
            if row.rule == "data_request_complete":
                new_due = self.limits.due(calendar, request.received_at, request.request_type,
                                          extended=request.extended_at is not None)
                request.due_at = new_due
            else:
                new_due = self.rules.due(row.rule, timer.data, calendar)
                request.ack_due_at = new_due if row.step == "acknowledge" else request.ack_due_at
            if new_due == row.due_at:
                continue
            audit.append(session, actor, "data_request_deadline_rescheduled", request.case_id,
                         {"request": request.id, "step_row": row.id, "step": row.step, "from": row.due_at,
                          "due_at": new_due, "day": day.isoformat()}, now)
            timer.internal_data["event_value"] = new_due.isoformat()
            row.due_at, request.updated_at = new_due, now
            request.state = self.engine.state.dumps(workflow)
            moved += 1
        session.flush()
        return moved

    # -- reading ------------------------------------------------------------------------------------------------
    def steps(self, session: Session, request_id: int) -> list[DataRequestStep]:
        return list(session.scalars(select(DataRequestStep).where(DataRequestStep.request_id == request_id)
                                    .order_by(DataRequestStep.id)))

    def open_step(self, session: Session, request_id: int) -> DataRequestStep | None:
        return session.scalar(select(DataRequestStep).where(DataRequestStep.request_id == request_id,
                                                            DataRequestStep.state == "ready")
                              .order_by(DataRequestStep.id).limit(1))


def _boundary_timer(spiff_task: SpiffTask) -> SpiffTask | None:
    return Engine._boundary_timer(spiff_task)


def _due(spiff_task: SpiffTask) -> datetime | None:
    timer = _boundary_timer(spiff_task)
    value = Engine._timer_value(timer) if timer is not None else None
    return clock.parse_moment(value) if value else None


def _field_error(field: str, vi: str, en: str, locale: str) -> forms.FormError:
    return forms.FormError({field: [en if locale == "en" else vi]}, codes={field: ["invalid"]}, locale=locale)


@functools.lru_cache(maxsize=8)
def of(engine: Engine) -> DataRequests:
    """The request process of `engine` (built once: parsing the BPMN and the limits is start-up work)."""
    return DataRequests(engine)


def overdue(session: Session, now: datetime | None = None) -> list[DataRequest]:
    """Open requests with a step past its limit, most overdue first (the admin area's alert)."""
    now = now or clock.now()
    rows = session.scalars(select(DataRequest).join(DataRequestStep, DataRequestStep.request_id == DataRequest.id)
                           .where(DataRequestStep.state == "ready", DataRequestStep.due_at < now)
                           .order_by(DataRequestStep.due_at, DataRequest.id))
    return list(dict.fromkeys(cast(list[DataRequest], list(rows))))
