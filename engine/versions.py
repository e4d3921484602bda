"""Deploying a process version: upload (size-limited, XXE-safe, sandbox-checked, linted), compare with the
active version, activate (audited). Running cases keep the version they run on; new cases take the active
one (`ProcessRegistry.active`). Used by `case56 process deploy|activate` and the admin processes page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock, lint
from engine.errors import InvalidState, NotFound
from engine.models import ProcessVersion
from engine.registry import Definition, ProcessError, load_definition
from engine.runtime import Engine

MAX_BYTES = 2 * 1024 * 1024  # the shipped process is ~110 KB; a variant 20 times larger is not a process


class UploadRefused(ValueError):
    """The file is not deployable; `field` is the form field to show the message next to."""

    def __init__(self, message_vi: str, message_en: str, findings: list[lint.Finding] | None = None) -> None:
        super().__init__(message_en)
        self.message_vi, self.message_en = message_vi, message_en
        self.findings = findings or []
        self.field = "file"


@dataclass
class Upload:
    version: ProcessVersion
    findings: list[lint.Finding]
    existed: bool


@dataclass
class Diff:
    """Steps, timers and forms of the new version against the active one."""

    steps_added: list[str] = field(default_factory=list)
    steps_removed: list[str] = field(default_factory=list)
    steps_changed: list[tuple[str, str, str, str]] = field(default_factory=list)  # id, attribute, old, new
    timers: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # step id, old rule, new rule
    forms_added: list[str] = field(default_factory=list)
    forms_removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any((self.steps_added, self.steps_removed, self.steps_changed, self.timers, self.forms_added,
                        self.forms_removed))

    def as_dict(self) -> dict[str, Any]:
        return {"steps_added": self.steps_added, "steps_removed": self.steps_removed,
                "steps_changed": [list(c) for c in self.steps_changed],
                "timers": [list(t) for t in self.timers],
                "forms_added": self.forms_added, "forms_removed": self.forms_removed}


_COMPARED = ("title_vi", "title_en", "form", "role", "article", "instructions", "escalates", "track", "step")


def diff(old: Definition, new: Definition) -> Diff:
    result = Diff()
    result.steps_added = sorted(set(new.steps) - set(old.steps))
    result.steps_removed = sorted(set(old.steps) - set(new.steps))
    for name in sorted(set(old.steps) & set(new.steps)):
        a, b = old.steps[name], new.steps[name]
        for attr in _COMPARED:
            if getattr(a, attr) != getattr(b, attr):
                result.steps_changed.append((name, attr, str(getattr(a, attr) or ""), str(getattr(b, attr) or "")))
    for name in sorted(set(old.steps) | set(new.steps)):
        a_rule = old.steps[name].rule if name in old.steps else None
        b_rule = new.steps[name].rule if name in new.steps else None
        if a_rule != b_rule:
            result.timers.append((name, a_rule, b_rule))
    old_forms = {s.form for s in old.steps.values() if s.form}
    new_forms = {s.form for s in new.steps.values() if s.form}
    result.forms_added, result.forms_removed = sorted(new_forms - old_forms), sorted(old_forms - new_forms)
    return result


def upload(engine: Engine, session: Session, actor: str, raw: bytes, file_name: str) -> Upload:
    """Record an uploaded file as a version (not active) once it passes the lint; refuse it otherwise, saving
    nothing. The same content uploaded again returns the version already recorded."""
    file_name = (file_name or "process.bpmn").replace("\\", "/").rsplit("/", 1)[-1][:200] or "process.bpmn"
    if not raw:
        raise UploadRefused("Hãy chọn một tệp BPMN.", "Choose a BPMN file.")
    if len(raw) > MAX_BYTES:
        raise UploadRefused(f"Tệp quá lớn (tối đa {MAX_BYTES // 1024} KB).",
                            f"The file is too large (at most {MAX_BYTES // 1024} KB).")
    if b"\x00" in raw:
        raise UploadRefused("Tệp không phải văn bản XML.", "The file is not XML text.")
    findings = lint.lint(raw, file_name, engine.rules)
    if findings:
        raise UploadRefused(f"Tệp có {len(findings)} lỗi; chưa có gì được lưu.",
                            f"The file has {len(findings)} problem(s); nothing was saved.", findings)
    process_id = lint.executable_process_id(lint.parse(raw))
    try:
        definition = load_definition(raw, file_name, engine.rules, process_id or "")
    except ProcessError as exc:  # the lint ran the same load; kept for a file that changes under us
        raise UploadRefused(f"Không nạp được quy trình: {exc}", f"The process cannot be loaded: {exc}") from None
    if not any(s.step == "receive" for s in definition.steps.values()):
        raise UploadRefused("Quy trình phải mở hồ sơ bằng sự kiện bắt đầu có biểu mẫu (bước receive, Mẫu 01).",
                            "The process must open a case with a start event carrying a form (step receive).")
    with engine.transaction(session):
        row = session.scalar(select(ProcessVersion).where(ProcessVersion.content_hash == definition.content_hash))
        if row is not None:
            return Upload(row, [], existed=True)
        now = clock.now()
        row = ProcessVersion(process_id=definition.process_id, content_hash=definition.content_hash,
                             file_name=file_name, loaded_at=now, bpmn=definition.xml, source="upload",
                             uploaded_by=actor)
        session.add(row)
        session.flush()
        audit.append(session, actor, "process_uploaded", None,
                     {"version": row.id, "hash": row.content_hash, "file": file_name,
                      "process_id": definition.process_id, "steps": len(definition.steps)}, now)
    return Upload(row, [], existed=False)


def active_version(engine: Engine, session: Session) -> ProcessVersion:
    definition = engine.registry.active(session)
    row = session.get(ProcessVersion, definition.version_id)
    assert row is not None
    return row


def diff_against_active(engine: Engine, session: Session, version_id: int) -> Diff:
    active = engine.registry.active(session)
    return diff(active, engine.registry.for_version(session, version_id))


def activate(engine: Engine, session: Session, actor: str, version_id: int) -> ProcessVersion:
    """Make `version_id` the version new cases open on (audited). Running cases are not touched."""
    with engine.transaction(session):
        previous = engine.registry.active(session)
        row = session.get(ProcessVersion, version_id)
        if row is None:
            raise NotFound("Không có phiên bản quy trình này.", "No such process version.")
        if row.id == previous.version_id:
            raise InvalidState("Phiên bản này đang được dùng cho hồ sơ mới.", "This version is already active.")
        engine.registry.for_version(session, row.id)  # a stored file that no longer loads is never activated
        now = clock.now()
        last = session.get(ProcessVersion, previous.version_id)
        # The version activated last is the active one: strictly later even when the clock has not moved.
        stamp = max(now, last.activated_at + timedelta(microseconds=1)) if last and last.activated_at else now
        row.activated_at, row.activated_by = stamp, actor
        audit.append(session, actor, "process_activated", None,
                     {"version": row.id, "hash": row.content_hash, "file": row.file_name,
                      "previous": previous.version_id}, now)
    return row


def label(session: Session, version_id: int) -> str:
    """How a case's process version is named on its page and in its dossier: number, file and short hash."""
    row = session.get(ProcessVersion, version_id)
    if row is None:
        return f"#{version_id}"
    return f"#{row.id} · {row.process_id} · {row.file_name} · {row.content_hash[:12]}"


def versions(session: Session) -> list[ProcessVersion]:
    return list(session.scalars(select(ProcessVersion).order_by(ProcessVersion.id.desc())))
