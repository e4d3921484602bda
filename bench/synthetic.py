"""Synthetic case load: N cases over 100 communes in 5 provinces, in every state, on SQLite or PostgreSQL.

Method (fast and realistic):
1. TEMPLATE cases are driven by the real engine in the target database (`web.demo.drive`), on one simulated
   timeline (time_machine): each template's last phase happens at the same moment, just before now, and the
   timer service ticks before every phase, so deadlines that pass fire as they would in production
   (reminders, escalations to the province). Templates cover every stage: verification open, assessment,
   emergency with separation, plan late, plan awaiting approval (on time and late), intervention with 2 or 5
   activities (one with an overdue activity), review, closed after 1, 2 or 3 plan cycles, closed after a late
   step the province acknowledged, no basis, the police track (open and closed).
2. Each template is CLONED with SQLAlchemy Core executemany inserts, in chunks: new case ids and numbers
   (`<commune>-<year>-<seq>`, `case_counter` updated), commune and province remapped, every moment shifted by
   (new received_at − template received_at) — in columns and inside the JSON of forms and audit details —,
   users remapped to the commune's own officer, chairman and partners and the province's supervisor and
   intake point, task and timer rows copied (task ids remapped, also inside audit details), and the audit
   rows re-chained with `engine.audit.digest` in id order, `audit_head` updated: `case56 check` passes.

A clone's received_at is drawn over the last two years, but only where the template's state is one the real
system could be in now: nothing in the future, and a template with pending timers only as young as those
timers allow (a clone whose deadline already passed would have been escalated, so it is cloned from an
escalated template instead). Closed templates spread over two years; open ones cluster in recent weeks.

The workflow state (`case_workflow.state`, compressed JSON) is copied as it is: it is valid for its own
template, so a clone can be stepped and its timers fired, but the moments inside it (timer dates, form data
in the task tree) keep the template's values. Benchmarks that step cases (bench/engine_steps.py,
bench/http.py) therefore use freshly opened cases, never clones.

Run alone: `python -m bench.synthetic sqlite:///tmp/load.sqlite3 10000`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import JSON, Table, func, select, text, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from engine import audit, clock, schema, timers
from engine.models import (
    AuditEntry,
    AuditHead,
    Case,
    CaseCounter,
    CaseWorkflow,
    OrgUnit,
    Task,
    Timer,
    User,
    UTCDateTime,
    make_engine,
    make_session_factory,
)
from engine.runtime import Engine
from web import demo

FAST_HASH = "pbkdf2:sha256:1000"  # synthetic users log in (bench/http.py); no need for a slow hash
PROVINCES = 5
COMMUNES_PER_PROVINCE = 20
CHUNK = 500  # cases per insert batch and commit
H, D = timedelta(hours=1), timedelta(days=1)
TEMPLATE_COMMUNE = "T01-X01"  # templates are driven here by the demo people (canbo, chutich, truonghoc, yte)

# The templates' people (the demo's), each standing for the same person of any commune or province: officer,
# chairman and two partners of the commune; intake point, supervisor and inspector of the province.
TEMPLATE_PEOPLE = frozenset({"canbo", "chutich", "truonghoc", "yte", "tiepnhan", "giamsat", "thanhtra"})


# -- templates --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Phase:
    """A moment after the case's opening: timers tick, then (unless `drive` is False) steps are completed
    until `stop_at` is open (None: to the end)."""

    after: timedelta
    stop_at: str | None = None
    drive: bool = True
    choices: Callable[[datetime], dict[str, Any]] | None = None
    ack: bool = False  # also complete the province's acknowledgements of late steps
    keep_open: tuple[str, ...] = ()  # steps left waiting (e.g. the police's outcome)


@dataclass(frozen=True)
class Template:
    name: str
    weight: float
    phases: tuple[Phase, ...] = ()
    report: dict[str, Any] = field(default_factory=dict)  # Mẫu 01 overrides
    max_age: timedelta = 730 * D  # the oldest a clone may be (open cases are rarely older)


def _activities(count: int, ends: Iterable[int]) -> Callable[[datetime], dict[str, Any]]:
    def make(at: datetime) -> dict[str, Any]:
        day = clock.local(at).date()
        measures = ["Tư vấn tâm lý hằng tuần", "Khám sức khoẻ định kỳ", "Hỗ trợ học tập", "Thăm gia đình",
                    "Sinh hoạt câu lạc bộ kỹ năng"]
        drafted = clock.local(at).isoformat(timespec="minutes")
        return {"mau_04": {"objectives": "Bảo đảm an toàn và phục hồi cho trẻ.", "drafted_at": drafted,
                           "activities": [
                               {"measure": measures[i % len(measures)], "level": "support",
                                "assignee": ("truonghoc", "yte")[i % 2],
                                "assignee_name": ("Trường THCS", "Trạm Y tế")[i % 2],
                                "responsible_body": "UBND xã", "cost": 0,
                                "start": day.isoformat(), "end": (day + timedelta(days=end)).isoformat(),
                                "expected_result": "Trẻ ổn định"}
                               for i, end in zip(range(count), ends, strict=True)]}}
    return make


def _replan(_at: datetime) -> dict[str, Any]:
    return {"mau_06": {"conclusion": "replan", "no_longer_at_risk": False, "recovery": {"rating": "trung_binh"},
                       "conclusion_note": "Trẻ còn nguy cơ: xây dựng kế hoạch mới."}}


def _no_basis(_at: datetime) -> dict[str, Any]:
    return {"verification": {"has_basis": False, "child_unsafe": False,
                             "reason_no_basis": "Gia đình và nhà trường xác nhận không có sự việc."}}


def _emergency(_at: datetime) -> dict[str, Any]:
    """An emergency whose measures ask for the chairman's Mẫu 07 separation (Art. 31, 32)."""
    return {"mau_02": {"emergency": True, "danger_description": "Trẻ bị đánh nhiều lần, có thương tích."},
            "emergency_measures": {"separate": True, "separation_reason": "Người cha là người gây tổn hại."}}


TO_PLAN = (Phase(2 * H, "initial_assessment"), Phase(8 * H, "detailed_assessment"), Phase(3 * D, "draft_plan"))
TO_APPROVAL = (*TO_PLAN, Phase(5 * D, "approve_plan"))
TO_ACTIVITIES = (*TO_APPROVAL, Phase(6 * D, "carry_out_activity"))
TO_REVIEW = (*TO_ACTIVITIES, Phase(18 * D, "review"))


def _cycles(count: int) -> tuple[Phase, ...]:
    """To closure after `count` plan cycles (each review but the last asks for a new plan)."""
    phases = list(TO_REVIEW)
    start = 18 * D
    for _ in range(count - 1):
        phases += [Phase(start + 22 * D, "draft_plan", choices=_replan), Phase(start + 25 * D, "approve_plan"),
                   Phase(start + 26 * D, "carry_out_activity"), Phase(start + 38 * D, "review")]
        start += 38 * D
    return (*phases, Phase(start + 22 * D, "end_plan"), Phase(start + 23 * D))


TEMPLATES: tuple[Template, ...] = (
    # Closed, in their share of a two-year history.
    Template("closed_1_cycle", 28, _cycles(1)),
    Template("closed_2_cycles", 9, _cycles(2), {"category": "nguy_co_bao_luc", "environment": "truong_hoc",
                                                "child": {"full_name": "Trần Thị Mai", "estimated_age": 13,
                                                          "sex": "female"}}),
    Template("closed_3_cycles", 3, _cycles(3), {"category": "nguy_co_bo_roi", "abuse_forms": ["bo_mac"],
                                                "child": {"full_name": "Lò Văn Sáng", "estimated_age": 6,
                                                          "sex": "male"}}),
    Template("closed_after_late_steps", 4,
             (Phase(13 * H, drive=False), Phase(14 * H, "initial_assessment", ack=True),
              Phase(1 * D, "detailed_assessment", ack=True), *[
                  Phase(p.after + D, p.stop_at, ack=True) for p in TO_REVIEW[2:]],
              Phase(41 * D, "end_plan", ack=True), Phase(42 * D, ack=True)),
             {"category": "nguy_co_boc_lot", "abuse_forms": ["boc_lot"], "environment": "cong_dong"}),
    Template("closed_police", 5, _cycles(1), {"crime_suspected": True, "abuse_forms": ["bao_luc", "xam_hai_tinh_duc"],
                                              "child": {"full_name": "Phạm Thu Hà", "estimated_age": 15,
                                                        "sex": "female"}}),
    Template("no_basis", 17, (Phase(2 * H, "no_basis_signoff", choices=_no_basis), Phase(1 * D)),
             {"category": "hoan_canh_dac_biet", "abuse_forms": ["other"], "environment": "other",
              "child": {"full_name": "Đinh Công Minh", "estimated_age": 10, "sex": "male"}}),
    # Open, where the real system could hold them today.
    Template("verify_open", 1.5),
    Template("verify_late", 2, (Phase(13 * H, drive=False),), max_age=45 * D),
    Template("assessment", 4, (Phase(2 * H, "initial_assessment"), Phase(8 * H, "detailed_assessment"))),
    Template("emergency_separation", 2,
             # the chairman decides the separation at once; its review waits beside the detailed assessment
             (Phase(2 * H, "initial_assessment"),
              Phase(4 * H, "separation_review", choices=_emergency, keep_open=("detailed_assessment",))),
             {"abuse_forms": ["bao_luc"], "child": {"full_name": "Vi Thị Hằng", "estimated_age": 4, "sex": "female"}}),
    Template("plan_late", 3, (*TO_PLAN, Phase(12 * D, drive=False)), max_age=45 * D),
    Template("plan_awaiting_approval", 3, TO_APPROVAL),
    Template("approval_late", 2, (*TO_APPROVAL, Phase(10 * D, drive=False)), max_age=45 * D),
    Template("intervention_2_activities", 5, TO_ACTIVITIES),
    Template("intervention_5_activities", 3,
             (*TO_APPROVAL[:-1], Phase(5 * D, "approve_plan", choices=_activities(5, (20, 30, 45, 60, 90))),
              Phase(6 * D, "carry_out_activity"))),
    Template("intervention_late", 3,
             (*TO_APPROVAL[:-1], Phase(5 * D, "approve_plan", choices=_activities(2, (20, 90))),
              Phase(6 * D, "carry_out_activity"), Phase(27 * D, drive=False)), max_age=90 * D),
    Template("review", 3, TO_REVIEW),
    Template("police_open", 2.5, (Phase(1 * H, "initial_assessment", keep_open=("police_outcome",)),
                                  Phase(8 * H, "detailed_assessment", keep_open=("police_outcome",))),
             {"crime_suspected": True}),
)


# -- JSON with moments, users, ids and case numbers to substitute ------------------------------------------
_TOKEN = re.compile(r'"(task|escalation_task)":(\d+)|"((?:[^"\\]|\\.)*)"')
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:[+-]\d{2}:\d{2}|Z)?)?")


def canonical(value: Any) -> str:
    """JSON text as engine.audit.digest writes it (sorted keys, compact, UTF-8)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


@dataclass
class _Clone:
    """What changes from a template to one clone."""

    delta: timedelta
    days: int  # the shift of calendar dates
    users: dict[str, str]
    task_ids: dict[int, int]
    number: str
    commune: str


def _moment_slot(value: str) -> Callable[[_Clone], str] | None:
    """A function writing `value` shifted for a clone, in the same format; None when it is no moment."""
    if not _MOMENT.fullmatch(value):
        return None
    if len(value) == 10:
        day = date.fromisoformat(value)
        return lambda c: (day + timedelta(days=c.days)).isoformat()
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    sep = value[10]
    spec = "minutes" if len(value) in (16, 22) else "microseconds" if "." in value else "seconds"
    zone = moment.tzinfo
    if zone is None:
        return lambda c: (moment + c.delta).isoformat(sep, spec)
    return lambda c: (moment + c.delta).astimezone(zone).isoformat(sep, spec)


class Shape:
    """A JSON value as canonical text, split into literal parts and per-clone substitutions: moments,
    the template's usernames, task ids under "task"/"escalation_task", its case number and commune code."""

    def __init__(self, value: Any, number: str) -> None:
        source = canonical(value)
        self.parts: list[str | Callable[[_Clone], str]] = []
        last = 0
        for match in _TOKEN.finditer(source):
            slot: Callable[[_Clone], str] | None = None
            if match.group(1):
                key, old = match.group(1), int(match.group(2))
                slot = lambda c, key=key, old=old: f'"{key}":{c.task_ids.get(old, old)}'  # noqa: E731
            else:
                raw = match.group(3)
                moment = _moment_slot(raw)
                if moment is not None:
                    slot = lambda c, m=moment: f'"{m(c)}"'  # noqa: E731
                elif raw in TEMPLATE_PEOPLE:
                    slot = lambda c, raw=raw: f'"{c.users[raw]}"'  # noqa: E731
                elif raw == number:
                    slot = lambda c: f'"{c.number}"'  # noqa: E731
                elif raw == TEMPLATE_COMMUNE:
                    slot = lambda c: f'"{c.commune}"'  # noqa: E731
            if slot is None:
                continue
            self.parts += [source[last:match.start()], slot]
            last = match.end()
        self.parts.append(source[last:])
        self.static = len(self.parts) == 1

    def render(self, clone: _Clone) -> str:
        if self.static:
            return self.parts[0]  # type: ignore[return-value]
        return "".join(p if isinstance(p, str) else p(clone) for p in self.parts)


@functools.cache
def _json_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _digest(prev_hash: str, entry_id: int, case_id: int, at: str, actor: str, action: str, details: str) -> str:
    """engine.audit.digest for details already in canonical text (checked against it: see `_insert`)."""
    payload = f'["{prev_hash}",{entry_id},{case_id},"{at}",{_json_text(actor)},{_json_text(action)},{details}]'
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# -- template rows, ready to clone --------------------------------------------------------------------------
class Rows:
    """One table's rows of a template in column order: moments to shift, JSON to render, the rest as is."""

    def __init__(self, table: Table, rows: list[dict[str, Any]], number: str) -> None:
        self.table = table
        self.columns = [c.name for c in table.columns]
        self.index = {name: i for i, name in enumerate(self.columns)}
        moment_columns = [i for i, c in enumerate(table.columns) if isinstance(c.type, UTCDateTime)]
        json_columns = [i for i, c in enumerate(table.columns) if isinstance(c.type, JSON)]
        self.rows: list[tuple[list[Any], list[tuple[int, datetime]], list[tuple[int, Shape]]]] = []
        self.source = rows
        for row in rows:
            values = [row[c] for c in self.columns]
            moments = [(i, values[i].replace(tzinfo=None)) for i in moment_columns if values[i] is not None]
            shapes = []
            for i in json_columns:
                if values[i] is not None:
                    shape = Shape(values[i], number)
                    values[i] = shape.parts[0] if shape.static else None
                    if not shape.static:
                        shapes.append((i, shape))
            self.rows.append((values, moments, shapes))

    def clone(self, clone: _Clone, moment: Callable[[datetime], Any]) -> Iterable[list[Any]]:
        delta = clone.delta
        for base, moments, shapes in self.rows:
            values = list(base)
            for i, value in moments:
                values[i] = moment(value + delta)
            for i, shape in shapes:
                values[i] = shape.render(clone)
            yield values


@dataclass
class Loaded:
    template: Template
    received: datetime
    case: Rows
    state: bytes
    serializer_version: str
    tasks: Rows
    timers: Rows
    audit: Rows
    oldest: timedelta  # a clone may be received at most this long ago
    youngest: timedelta  # and at least this long ago (its last event must be in the past)


def _load_template(session: Session, template: Template, case_id: int) -> Loaded:
    def rows(table: Table, where: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in session.execute(select(table).where(where).order_by(table.c.id)).mappings()]

    case = rows(Case.__table__, Case.id == case_id)[0]
    workflow = session.get(CaseWorkflow, case_id)
    tasks = rows(Task.__table__, Task.case_id == case_id)
    timer_rows = rows(Timer.__table__, Timer.case_id == case_id)
    audit_rows = rows(AuditEntry.__table__, AuditEntry.case_id == case_id)
    received = case["received_at"]
    # Moments that have happened: a clone must have them all in the past.
    happened = [case[k] for k in ("opened_at", "closed_at", "updated_at") if case[k]]
    happened += [t[k] for t in tasks for k in ("created_at", "completed_at", "reminded_at", "escalated_at") if t[k]]
    happened += [t[k] for t in timer_rows for k in ("fired_at", "cancelled_at") if t[k]]
    happened += [a["at"] for a in audit_rows]
    pending = [t["fire_at"] for t in timer_rows if t["fired_at"] is None and t["cancelled_at"] is None]
    oldest = template.max_age
    if pending:  # younger than its first pending timer, else that timer would have fired
        oldest = min(oldest, min(pending) - received - timedelta(minutes=1))
    youngest = max(happened) - received + timedelta(minutes=1)
    if oldest <= youngest:
        raise RuntimeError(f"template {template.name}: no moment where it can be cloned")
    number = case["number"]
    return Loaded(template, received, Rows(Case.__table__, [case], number), workflow.state,
                  workflow.serializer_version, Rows(Task.__table__, tasks, number),
                  Rows(Timer.__table__, timer_rows, number), Rows(AuditEntry.__table__, audit_rows, number),
                  oldest, youngest)


def _write(session: Session, table: Table, rows: list[list[Any]]) -> None:
    """Bulk insert in the session's transaction: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    raw = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" * len(table.columns))
        raw.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', rows)


def _sqlite_moment(value: datetime) -> str:
    return value.isoformat(" ", "microseconds")  # SQLAlchemy's SQLite DATETIME format, naive UTC


def _pg_moment(value: datetime) -> datetime:
    return value  # timestamp without time zone, UTC (engine.models.UTCDateTime)


# -- the generator ------------------------------------------------------------------------------------------
@dataclass
class Unit:
    id: int
    code: str
    province_id: int
    users: dict[str, str]  # template username → this commune's or province's username


@dataclass
class _Next:
    case: int
    task: int
    timer: int
    audit: int
    hash: str


class Synthetic:
    """A synthetic case load in one database: `prepare()` once, then `add(n)` as often as wanted."""

    def __init__(self, url: str, seed: int = 56, engine: Engine | None = None,
                 templates: tuple[Template, ...] = TEMPLATES, end_before: timedelta = timedelta(minutes=5)) -> None:
        self.url = url
        self.end_before = end_before  # the templates' timeline ends this long before now
        self.random = random.Random(seed)
        self.engine = engine or Engine()
        self.templates = templates
        self.session_factory = make_session_factory(url)
        self.loaded: list[Loaded] = []
        self.units: list[Unit] = []
        self.unit_weights: list[float] = []
        self.template_ids: dict[str, int] = {}
        self.cases = 0  # clones added so far
        self._checked: set[tuple[int, int]] = set()

    # -- set-up ----------------------------------------------------------------------------------------
    def prepare(self) -> Synthetic:
        """Migrate, create the units and people, drive the templates (in an empty database)."""
        schema.upgrade(self.url)
        with self.session_factory() as session:
            if session.scalar(select(func.count()).select_from(User)):
                raise RuntimeError("the database already has users: give the generator an empty database")
            demo.seed_people(session, FAST_HASH)
            self._units(session)
            self.template_ids = self._drive_templates(session)
            self.loaded = [_load_template(session, t, self.template_ids[t.name]) for t in self.templates]
        return self

    def _units(self, session: Session) -> None:
        """5 provinces × 20 communes (the demo's T01, T01-X01, T01-X02 among them) and their people."""
        now = clock.now()
        units = {u.code: u for u in session.scalars(select(OrgUnit))}
        existing = {u.username for u in session.scalars(select(User))}
        password = generate_password_hash(demo.DEMO_PASSWORD, method=FAST_HASH)

        def person(template_user: str, code: str, role: str, unit: OrgUnit, title: str) -> str:
            demo_names = {("T01", "tiepnhan"), ("T01", "giamsat"), ("T01", "thanhtra"), ("T01-X01", "canbo"),
                          ("T01-X01", "chutich"), ("T01-X01", "truonghoc"), ("T01-X01", "yte")}
            if (code, template_user) in demo_names:
                return template_user
            if (code, template_user) in {("T01-X02", "canbo"), ("T01-X02", "chutich")}:
                return template_user + "2"
            username = f"{template_user}.{code.lower().replace('-', '')}"
            if username not in existing:
                session.add(User(username=username, full_name=f"{title} {code}", role=role, org_unit_id=unit.id,
                                 password_hash=password, created_at=now, locale="vi"))
                existing.add(username)
            return username

        for p in range(1, PROVINCES + 1):
            pcode = f"T{p:02d}"
            province = units.get(pcode)
            if province is None:
                province = units[pcode] = OrgUnit(code=pcode, name=f"Tỉnh tổng hợp {p}", kind="province")
                session.add(province)
                session.flush()
            people = {"tiepnhan": person("tiepnhan", pcode, "intake", province, "Tiếp nhận"),
                      "giamsat": person("giamsat", pcode, "supervisor", province, "Giám sát"),
                      "thanhtra": person("thanhtra", pcode, "inspector", province, "Thanh tra"), "system": "system"}
            for c in range(1, COMMUNES_PER_PROVINCE + 1):
                code = f"{pcode}-X{c:02d}"
                commune = units.get(code)
                if commune is None:
                    commune = units[code] = OrgUnit(code=code, name=f"Xã tổng hợp {c:02d} ({pcode})",
                                                    kind="commune", parent_id=province.id)
                    session.add(commune)
                    session.flush()
                users = {"canbo": person("canbo", code, "officer", commune, "Cán bộ"),
                         "chutich": person("chutich", code, "chairman", commune, "Chủ tịch"),
                         "truonghoc": person("truonghoc", code, "partner", commune, "Trường học"),
                         "yte": person("yte", code, "partner", commune, "Trạm y tế")}
                self.units.append(Unit(commune.id, code, province.id, {**users, **people}))
                # Communes differ in size: some see four times the cases of others.
                self.unit_weights.append(self.random.uniform(0.5, 2.0))
        session.commit()

    def _drive_templates(self, session: Session) -> dict[str, int]:
        """Drive every template on one timeline ending a few minutes ago; returns template → case id."""
        people = demo.cast(session)
        end = clock.now().replace(second=0, microsecond=0) - self.end_before
        events: list[tuple[datetime, int, Template, Phase | None]] = []
        for order, template in enumerate(self.templates):
            start = end - (template.phases[-1].after if template.phases else timedelta(0))
            events.append((start, order, template, None))
            events += [(start + phase.after, order, template, phase) for phase in template.phases]
        events.sort(key=lambda e: (e[0], e[1]))
        ids: dict[str, int] = {}
        for at, order, template, phase in events:
            with time_machine.travel(at, tick=False):
                timers.tick(self.engine, session)
                if phase is None:
                    report = demo.sample("mau_01", at, **template.report)
                    report["child"] = {**report["child"], "full_name": f"Trẻ mẫu {order + 1:02d}"}
                    ids[template.name] = self.engine.open_case(session, people.actors["tiepnhan"],
                                                               TEMPLATE_COMMUNE, report).id
                elif phase.drive:
                    case = session.get(Case, ids[template.name])
                    keep, ack = phase.keep_open, phase.ack
                    demo.drive(self.engine, session, case, people, stop_at=phase.stop_at,
                               choices=phase.choices(at) if phase.choices else None,
                               skip=lambda t, keep=keep, ack=ack: t.step in keep or (
                                   not ack and t.escalates_task_id is not None))
        with time_machine.travel(end, tick=False):
            timers.tick(self.engine, session)
        return ids

    # -- cloning ---------------------------------------------------------------------------------------
    def add(self, n: int, on_chunk: Callable[[int], None] | None = None, spread: bool = True) -> float:
        """Clone `n` cases into the database; returns the seconds it took. Without `spread`, clones keep their
        template's moments (bench/timers.py: timers that are all due now)."""
        started = time.perf_counter()
        now = clock.now().replace(second=0, microsecond=0)
        # Every template at least once when n allows (small loads still have every stage), then by weight.
        first = list(self.loaded) if n >= len(self.loaded) else []
        picks = first + self.random.choices(self.loaded, weights=[t.template.weight for t in self.loaded],
                                            k=n - len(first))
        units = self.random.choices(self.units, weights=self.unit_weights, k=n)
        plan = []
        for loaded, unit in zip(picks, units, strict=True):
            if not spread:
                plan.append((loaded.received, loaded, unit))
                continue
            minutes = self.random.randint(int(loaded.youngest.total_seconds() // 60) + 1,
                                          int(loaded.oldest.total_seconds() // 60))
            plan.append((now - timedelta(minutes=minutes), loaded, unit))
        plan.sort(key=lambda p: p[0])  # ids and case numbers follow the order of receipt
        with self.session_factory() as session:
            head = session.get(AuditHead, 1)
            following = _Next(*((session.scalar(select(func.max(m.id))) or 0) + 1 for m in (Case, Task, Timer)),
                              head.last_id + 1, head.hash)
            counters = {(c.commune_id, c.year): c for c in session.scalars(select(CaseCounter))}
            for start in range(0, n, CHUNK):
                self._insert(session, plan[start:start + CHUNK], following, counters)
                if on_chunk:
                    on_chunk(min(start + CHUNK, n))
            if session.get_bind().dialect.name == "postgresql":
                for table in ("case_file", "task", "timer", "audit"):
                    session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                         f"(SELECT max(id) FROM {table}))"))
                session.commit()
        self.cases += n
        return time.perf_counter() - started

    def _insert(self, session: Session, plan: list[tuple[datetime, Loaded, Unit]], following: _Next,
                counters: dict[tuple[int, int], CaseCounter]) -> None:
        """One chunk of clones in one transaction (rows, counters and the audit head together)."""
        session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update())
        moment = _pg_moment if session.get_bind().dialect.name == "postgresql" else _sqlite_moment
        out: dict[str, list[list[Any]]] = {"case_file": [], "case_workflow": [], "task": [], "timer": [], "audit": []}
        first = self.loaded[0]
        cix, tix, mix, aix = first.case.index, first.tasks.index, first.timers.index, first.audit.index
        for received, loaded, unit in plan:
            year = clock.local(received).year
            counter = counters.get((unit.id, year))
            if counter is None:
                counter = counters[(unit.id, year)] = CaseCounter(commune_id=unit.id, year=year, last=0)
                session.add(counter)
            counter.last += 1
            local = clock.local(loaded.received)
            delta = received - loaded.received
            task_ids = {row["id"]: following.task + i for i, row in enumerate(loaded.tasks.source)}
            clone = _Clone(delta, ((local + delta).date() - local.date()).days, unit.users, task_ids,
                           f"{unit.code}-{year}-{counter.last:04d}", unit.code)
            case_id = following.case
            following.case += 1
            following.task += len(task_ids)
            users = unit.users
            for row in loaded.case.clone(clone, moment):
                row[cix["id"]], row[cix["number"]], row[cix["year"]], row[cix["seq"]] = (
                    case_id, clone.number, year, counter.last)
                row[cix["commune_id"]], row[cix["province_id"]] = unit.id, unit.province_id
                row[cix["created_by"]] = users.get(row[cix["created_by"]], row[cix["created_by"]])
                row[cix["child_key"]] = f"{self.random.getrandbits(128):032x}"  # one child per case
                out["case_file"].append(row)
            out["case_workflow"].append([case_id, loaded.serializer_version, loaded.state])
            for row in loaded.tasks.clone(clone, moment):
                row[tix["id"]] = task_ids[row[tix["id"]]]
                row[tix["case_id"]], row[tix["commune_id"]], row[tix["province_id"]] = (
                    case_id, unit.id, unit.province_id)
                for key in ("assignee", "completed_by"):
                    if row[tix[key]]:
                        row[tix[key]] = users.get(row[tix[key]], row[tix[key]])
                if row[tix["escalates_task_id"]]:
                    row[tix["escalates_task_id"]] = task_ids[row[tix["escalates_task_id"]]]
                out["task"].append(row)
            for row in loaded.timers.clone(clone, moment):
                row[mix["id"]], row[mix["case_id"]] = following.timer, case_id
                if row[mix["task_id"]]:
                    row[mix["task_id"]] = task_ids[row[mix["task_id"]]]
                following.timer += 1
                out["timer"].append(row)
            for k, row in enumerate(loaded.audit.clone(clone, moment)):
                entry_id, at = following.audit, loaded.audit.source[k]["at"] + delta
                actor = users.get(row[aix["actor"]], row[aix["actor"]])
                details = row[aix["details"]]
                digest = _digest(following.hash, entry_id, case_id, at.isoformat(), actor, row[aix["action"]],
                                 details)
                if (id(loaded), k) not in self._checked:  # the fast path must agree with the engine's digest
                    expected = audit.digest(following.hash, entry_id, case_id, at, actor, row[aix["action"]],
                                            json.loads(details))
                    if digest != expected:
                        raise RuntimeError(f"audit digest mismatch for template {loaded.template.name}")
                    self._checked.add((id(loaded), k))
                row[aix["id"]], row[aix["case_id"]], row[aix["actor"]] = entry_id, case_id, actor
                row[aix["prev_hash"]], row[aix["hash"]] = following.hash, digest
                following.audit, following.hash = entry_id + 1, digest
                out["audit"].append(row)
        session.flush()  # the case counters
        for name, rows in out.items():
            _write(session, RAW_TABLES[name], rows)
        session.execute(update(AuditHead).where(AuditHead.id == 1)
                        .values(last_id=following.audit - 1, hash=following.hash))
        session.commit()


RAW_TABLES = {t.name: t for t in (Case.__table__, CaseWorkflow.__table__, Task.__table__, Timer.__table__,
                                  AuditEntry.__table__)}


PG_URL = "postgresql://postgres@127.0.0.1:5432/case56_bench"


def fresh_database(kind: str, name: str, pg_url: str = PG_URL, folder: str | None = None) -> str:
    """An empty database for one measurement: a new SQLite file, or a new schema `name` in the benchmark's
    own PostgreSQL database (never the `test` database the test runs use); returns its URL."""
    if kind == "sqlite":
        folder = folder or tempfile.mkdtemp(prefix="case56-bench-")
        path = os.path.join(folder, f"{name}.sqlite3")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        return f"sqlite:///{path}"
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    engine.dispose()
    sep = "&" if "?" in pg_url else "?"
    return f"{pg_url}{sep}options=-csearch_path%3D{name}"


def ensure_pg_database(pg_url: str = PG_URL) -> None:
    """Create the benchmark's PostgreSQL database when it is missing."""
    base, _, name = pg_url.rpartition("/")
    name = name.split("?")[0]
    engine = make_engine(f"{base}/postgres")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def generate(url: str, n: int, seed: int = 56, engine: Engine | None = None) -> Synthetic:
    """An empty database filled with the templates and `n` clones."""
    synthetic = Synthetic(url, seed, engine).prepare()
    synthetic.add(n)
    return synthetic


def main(argv: list[str]) -> None:  # pragma: no cover - a convenience for people
    url, n = argv[0], int(argv[1])
    started = time.perf_counter()
    synthetic = Synthetic(url).prepare()
    print(f"templates driven in {time.perf_counter() - started:.1f} s", flush=True)
    seconds = synthetic.add(n, on_chunk=lambda done: print(f"  {done} cases", end="\r", flush=True))
    print(f"{n} cases cloned in {seconds:.1f} s")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
