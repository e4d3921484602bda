"""Entry of a case into the national children database (Decree 56 Art. 30.3: the dossier is "lưu trữ tại UBND
cấp xã và nhập vào cơ sở dữ liệu trẻ em quốc gia").

The national system (MOH's "Hệ thống quản lý thông tin trẻ em tại cơ sở", QĐ 3978/QĐ-BYT) publishes no exchange
standard, so case56 produces a versioned export of the plan dossier — JSON validated against the JSON Schema
published in `processes/national_db/`, and the same content as CSV — at each plan approval and at closure (an
*occasion*: the completed approval step, or the plan-end step that closed the case). An exporter delivers it:
the default one only hands the files to the officer to download (and upload or key into the national system);
another may write them to a directory a transfer job reads, or be supplied by a deployment (`exporter()`). The
officer then confirms the entry ("đã nhập CSDL": the day, optionally the national record's number); the
confirmation names the export's schema version and content hash, and is audited. Occasions not yet confirmed
are listed for the officer and the province supervisor within their scope (engine.access).
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import access, audit, clock
from engine.errors import InvalidState, NotFound
from engine.models import Case, NationalDbEntry, Task

SCHEMA_NAME = "case56/national-db/plan-dossier"
SCHEMA_VERSION = "1.0"
SCHEMA_FILE = (Path(__file__).resolve().parent.parent / "processes" / "national_db"
               / f"plan-dossier-{SCHEMA_VERSION}.schema.json")
OCCASIONS = {"approve_plan": "plan_approval", "end_plan": "closure"}  # step → occasion
OCCASION_LABELS = {"plan_approval": ("Phê duyệt kế hoạch", "Plan approval"),
                   "closure": ("Kết thúc, đóng hồ sơ", "Closure")}
REFERENCE = re.compile(r"[0-9A-Za-z][0-9A-Za-z./_-]{0,99}")


class SchemaViolation(InvalidState):
    """The export does not conform to its published schema (e.g. data recorded before a field was checked):
    nothing is sent; the officer is told what to correct."""


# -- the occasions ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Occasion:
    """A moment the case has to be entered: a completed approval that approved the plan, or the plan end that
    closed the case."""

    case: Case
    task: Task
    kind: str  # plan_approval | closure

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.task.id}"


def _is_occasion(task: Task) -> bool:
    data = task.form_data or {}
    if task.step == "approve_plan":
        return data.get("decision") == "approve"
    return task.step == "end_plan" and data.get("decision") == "end"


def _occasion_tasks() -> Any:
    return (Task.state == "completed") & Task.step.in_(list(OCCASIONS))


def occasions(session: Session, case: Case) -> list[Occasion]:
    """The case's occasions, oldest first."""
    tasks = session.scalars(select(Task).where(Task.case_id == case.id, _occasion_tasks()).order_by(Task.id))
    return [Occasion(case, t, OCCASIONS[t.step]) for t in tasks if _is_occasion(t)]


def entries(session: Session, case_id: int) -> dict[int, NationalDbEntry]:
    """The confirmed entries of a case by the step they are for."""
    rows = session.scalars(select(NationalDbEntry).where(NationalDbEntry.case_id == case_id))
    return {r.source_task_id: r for r in rows if r.source_task_id is not None}


def pending(session: Session, actor: access.Actor, limit: int = 500) -> list[Occasion]:
    """Occasions not yet entered in the cases `actor` may list here (officer: their commune; supervisor: their
    province), oldest first. Raises NotFound for anyone else (as a page they may not see)."""
    if not access.can_list_national_db(actor):
        raise NotFound("Không tìm thấy.", "Not found.")
    entered = exists().where(NationalDbEntry.source_task_id == Task.id)
    rows = session.execute(
        select(Task, Case).join(Case, Case.id == Task.case_id)
        .where(_occasion_tasks(), ~entered, access.national_db_filter(actor))
        .order_by(Task.completed_at, Task.id)).all()
    found = [Occasion(case, task, OCCASIONS[task.step]) for task, case in rows if _is_occasion(task)]
    return found[:limit]


def occasion(session: Session, case: Case, task_id: int) -> Occasion:
    found = next((o for o in occasions(session, case) if o.task.id == task_id), None)
    if found is None:
        raise NotFound("Không có lần nhập CSDL này trong hồ sơ.", "The case has no such database occasion.")
    return found


# -- the export -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Export:
    occasion: Occasion
    document: dict[str, Any]

    @property
    def content_sha256(self) -> str:
        return str(self.document["export"]["content_sha256"])

    @property
    def base_name(self) -> str:
        return f"csdl-tre-em-{self.occasion.case.number}-{self.occasion.kind}-{self.occasion.task.id}".replace(
            "/", "-")

    def json_bytes(self) -> bytes:
        return json.dumps(self.document, ensure_ascii=False, indent=2).encode("utf-8")

    def csv_bytes(self) -> bytes:
        """The same content as CSV: one row per field (dotted path; list items numbered), UTF-8 with BOM so a
        spreadsheet opens the Vietnamese text as written."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["truong", "gia_tri"])
        for path, value in _flatten(self.document):
            writer.writerow([path, "" if value is None else _csv_value(value)])
        return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: keep it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _NUMBER.fullmatch(text) else text


_NUMBER = re.compile(r"-?[0-9]+")


def _flatten(value: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        if not value:
            yield prefix, ""
        for n, item in enumerate(value, start=1):
            yield from _flatten(item, f"{prefix}.{n}")
    else:
        yield prefix, value


def _moment(value: datetime | None) -> str | None:
    return clock.local(value).isoformat() if value is not None else None


def _moment_text(value: Any) -> str | None:
    """A stored moment (ISO text) in Vietnam time with its offset, or None."""
    if value in (None, ""):
        return None
    return _moment(clock.parse_moment(str(value)))


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def build(session: Session, occasion: Occasion, generated_by: str) -> Export:
    """The export of the plan dossier as it stood at `occasion`, validated against the published schema."""
    case, until = occasion.case, occasion.task
    done = [t for t in session.scalars(select(Task).where(Task.case_id == case.id, Task.state == "completed",
                                                          Task.id <= until.id).order_by(Task.id))
            if t.form_data is not None]

    def last(form: str) -> dict[str, Any]:
        found = [t.form_data for t in done if t.form == form and t.form_data is not None]
        return dict(found[-1]) if found else {}

    approvals = [t for t in done if t.step == "approve_plan" and _is_occasion(t)]
    if not approvals:
        raise InvalidState("Hồ sơ chưa có kế hoạch được phê duyệt.", "The case has no approved plan.")
    approval = approvals[-1]
    # The plan approved: the latest Mẫu 04 before that approval.
    plan = next((dict(t.form_data or {}) for t in reversed(done) if t.form == "mau_04" and t.id < approval.id), {})
    mau01, mau05 = last("mau_01"), last("mau_05")
    child = mau01.get("child") or {}
    activities = [{
        "measure": str(a.get("measure") or ""),
        "level": _text(a.get("level")),
        "start": str(a.get("start") or ""),
        "expected_end": str(a.get("end") or ""),
        "responsible_body": _text(a.get("responsible_body") or a.get("assignee_name") or a.get("assignee")),
        "provider": _text(a.get("provider_name") or a.get("provider")),
        "cost": a.get("cost") if isinstance(a.get("cost"), int) else None,
    } for a in plan.get("activities") or []]
    review_data = last("mau_06") if occasion.kind == "closure" else {}
    review = None
    if review_data:
        stable_items = [review_data.get(k) for k in ("physical_stable", "psychological_stable", "cognitive_stable",
                                                     "emotional_stable")]
        review = {
            "reviewed_at": _moment_text(review_data.get("reviewed_at")),
            "no_longer_at_risk": review_data.get("no_longer_at_risk"),
            "stable": None if any(v is None for v in stable_items) else all(stable_items),
            "conclusion": _text(review_data.get("conclusion")),
        }
    closure = None
    if occasion.kind == "closure":
        closure = {"decision": str((until.form_data or {}).get("decision") or "end"),
                   "closed_at": _moment(case.closed_at or until.completed_at)}
    commune = case.commune
    province = commune.parent if commune is not None else None
    age = child.get("estimated_age") if isinstance(child.get("estimated_age"), int) else case.child_age
    content: dict[str, Any] = {
        "occasion": {"kind": occasion.kind, "at": _moment(until.completed_at), "source_step": until.id},
        "case": {
            "number": case.number,
            "province_code": province.code if province is not None else "",
            "province_name": province.name if province is not None else "",
            "commune_code": commune.code, "commune_name": commune.name,
            "category": case.category,
            "received_at": _moment(case.received_at),
            "status": case.status if occasion.kind == "closure" else "open",
            "closed_at": _moment(case.closed_at) if occasion.kind == "closure" else None,
        },
        "child": {
            "full_name": _text(child.get("full_name")),
            "date_of_birth": _text(child.get("date_of_birth")),
            "age": age,
            "sex": _text(child.get("sex") or case.child_sex),
            "personal_id": _text(child.get("personal_id")),
            "ethnicity": _text(child.get("ethnicity") or case.child_ethnicity),
        },
        "harm": {
            "abuse_forms": list(case.abuse_forms or []),
            "environment": case.environment,
            "perpetrator_relationships": list(case.perpetrator_relationships or []),
        },
        "plan": {
            "version": len(approvals),
            "approved_at": _moment(approval.completed_at),
            "decision_number": _text((approval.form_data or {}).get("decision_number") or mau05.get("decision_number")),
            "objectives": _text(plan.get("objectives")),
            "activities": activities,
            "total_cost": sum(a["cost"] or 0 for a in activities),
        },
        "review": review,
        "closure": closure,
    }
    digest = hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True,
                                       separators=(",", ":")).encode("utf-8")).hexdigest()
    document = {"schema": SCHEMA_NAME, "schema_version": SCHEMA_VERSION,
                "export": {"generated_at": _moment(clock.now()), "generated_by": generated_by,
                           "content_sha256": digest},
                **content}
    problems = validate(document)
    if problems:
        detail = "; ".join(problems[:5])
        raise SchemaViolation(f"Dữ liệu hồ sơ chưa đúng định dạng xuất CSDL {SCHEMA_VERSION}: {detail}",
                              f"The case data does not fit export format {SCHEMA_VERSION}: {detail}")
    return Export(occasion, document)


# -- exporters --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    """What an exporter did with an export: where it went (shown to the officer, kept in the audit)."""

    exporter: str
    location: str


class Exporter(Protocol):
    """Delivers an export. `name` is what the configuration calls it."""

    name: str

    def deliver(self, export: Export, fmt: str) -> Delivery: ...


class DownloadExporter:
    """The default: the file goes to the officer's browser only; they enter it into the national system."""

    name = "download"

    def deliver(self, export: Export, fmt: str) -> Delivery:
        return Delivery(self.name, f"{export.base_name}.{fmt}")


class DirectoryExporter:
    """Also writes each export (JSON and CSV) to a directory, e.g. one a transfer job to the national system
    reads. The directory must exist and be private to case56: the files carry the child's identity."""

    name = "directory"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def deliver(self, export: Export, fmt: str) -> Delivery:
        if not self.directory.is_dir():
            raise InvalidState("Thư mục xuất dữ liệu CSDL trẻ em không tồn tại.",
                               "The national database export directory does not exist.")
        base = self.directory / f"{export.base_name}-{export.content_sha256[:12]}"
        for suffix, content in (("json", export.json_bytes()), ("csv", export.csv_bytes())):
            path = base.with_name(f"{base.name}.{suffix}")
            path.write_bytes(content)
            path.chmod(0o600)
        return Delivery(self.name, str(base.with_name(f"{base.name}.{fmt}")))


EXPORTERS: dict[str, Any] = {"download": DownloadExporter, "directory": DirectoryExporter}


def exporter(name: str = "download", **options: Any) -> Exporter:
    """The exporter the configuration names: "download", "directory" (option `directory`), or a deployment's
    own class as "package.module:Class" (built with the options)."""
    factory = EXPORTERS.get(name)
    if factory is None:
        module, _, attr = name.partition(":")
        if not module or not attr:
            raise ValueError(f"unknown national database exporter {name!r}")
        factory = getattr(importlib.import_module(module), attr)
    made = factory(**options) if options else factory()
    if not callable(getattr(made, "deliver", None)):
        raise ValueError(f"national database exporter {name!r} has no deliver()")
    exporter_made: Exporter = made
    return exporter_made


def record_export(session: Session, actor: access.Actor, export: Export, delivery: Delivery, fmt: str) -> None:
    """Audit the export (the file carries the child's identity), committed with nothing else."""
    occ = export.occasion
    audit.append(session, actor.username, "national_db_exported", occ.case.id,
                 {"occasion": occ.kind, "task": occ.task.id, "format": fmt, "schema_version": SCHEMA_VERSION,
                  "sha256": export.content_sha256, "exporter": delivery.exporter, "location": delivery.location})
    session.commit()


# -- the officer's confirmation ---------------------------------------------------------------------------------

def confirm(session: Session, actor: access.Actor, case: Case, task_id: int, entered_on: date,
            reference: str | None) -> NationalDbEntry:
    """Record that the occasion's export was entered into the national database on `entered_on`, with the audit
    row, in one commit. Raises NotFound (no such occasion / not allowed), InvalidState (already recorded, or a
    day in the future or before the occasion)."""
    if not access.can_record_national_db_entry(actor, case):
        raise NotFound("Không tìm thấy hồ sơ.", "No such case.")
    occ = occasion(session, case, task_id)
    today = clock.local(clock.now()).date()
    if occ.task.completed_at is not None and entered_on < clock.local(occ.task.completed_at).date():
        raise InvalidState("Ngày nhập không được trước ngày phê duyệt, kết thúc.",
                           "The entry date cannot precede the approval or closure.")
    if entered_on > today:
        raise InvalidState("Ngày nhập không được sau hôm nay.", "The entry date cannot be in the future.")
    if task_id in entries(session, case.id):
        raise InvalidState("Lần này đã được ghi nhận nhập CSDL.", "This entry is already recorded.")
    export = build(session, occ, actor.username)
    now = clock.now()
    row = NationalDbEntry(case_id=case.id, occasion=occ.kind, occasion_key=occ.key, source_task_id=task_id,
                          export_version=SCHEMA_VERSION, export_sha256=export.content_sha256, entered_on=entered_on,
                          reference=reference or None, confirmed_by=actor.username, confirmed_at=now)
    session.add(row)
    audit.append(session, actor.username, "national_db_entered", case.id,
                 {"occasion": occ.kind, "task": task_id, "entered_on": entered_on.isoformat(),
                  "reference": reference or None, "schema_version": SCHEMA_VERSION, "sha256": export.content_sha256},
                 now)
    try:
        session.commit()
    except IntegrityError:  # recorded meanwhile by someone else
        session.rollback()
        raise InvalidState("Lần này đã được ghi nhận nhập CSDL.", "This entry is already recorded.") from None
    return row


# -- the published schema, checked by jsonschema --------------------------------------------------------

@cache
def schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


# jsonschema's own checks, with a date-time that must carry its offset (+07:00): a moment without one is ambiguous.
_FORMATS = FormatChecker(["date"])


@_FORMATS.checks("date-time", raises=ValueError)
def _is_moment(text: object) -> bool:
    if not isinstance(text, str):
        return True  # a non-string is the `type` keyword's to refuse
    return "T" in text and datetime.fromisoformat(text).tzinfo is not None


@cache
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(schema())
    return Draft202012Validator(schema(), format_checker=_FORMATS)


def validate(value: Any, spec: dict[str, Any] | None = None) -> list[str]:
    """Problems of `value` against the published schema (or `spec`), each as "$.path: message"."""
    validator = _validator() if spec is None else Draft202012Validator(spec, format_checker=_FORMATS)
    problems = []
    for error in sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path]):
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        problems.append(f"{path}: {error.message}")
    return problems
