"""Deploying a process version: upload (size-limited, XXE-safe, sandbox-checked, linted), compare with the
active version, activate (audited) for the whole country or for one province (a variant, e.g. an extra step).
Running cases keep the version they run on; new cases take their province's own version if it has one, else the
national one (`ProcessRegistry.active`). Used by `case56 process deploy|activate` and the admin processes page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock, lint
from engine.errors import InvalidState, NotFound
from engine.models import OrgUnit, ProcessVersion, ProvinceProcessVersion
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


def _province(session: Session, code: str) -> OrgUnit:
    province = session.scalar(select(OrgUnit).where(OrgUnit.code == code.strip().upper(), OrgUnit.kind == "province"))
    if province is None:
        raise NotFound(f"Không có tỉnh mã {code!r}.", f"No province with code {code!r}.")
    return province


def activate(engine: Engine, session: Session, actor: str, version_id: int,
             province_code: str | None = None) -> ProcessVersion:
    """Make `version_id` the version new cases open on (audited): in the whole country, or with
    `province_code` only in that province (its variant, which then stays until changed or cleared, whatever the
    national version becomes). Running cases are not touched."""
    with engine.transaction(session):
        row = session.get(ProcessVersion, version_id)
        if row is None:
            raise NotFound("Không có phiên bản quy trình này.", "No such process version.")
        if province_code:
            return _activate_in_province(engine, session, actor, row, _province(session, province_code))
        previous = engine.registry.active(session)
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


def _activate_in_province(engine: Engine, session: Session, actor: str, row: ProcessVersion,
                          province: OrgUnit) -> ProcessVersion:
    pinned = session.get(ProvinceProcessVersion, province.id, with_for_update=True)
    if pinned is not None and pinned.version_id == row.id:
        raise InvalidState(f"Phiên bản này đã được dùng cho hồ sơ mới của {province.name}.",
                           f"This version is already active in {province.code}.")
    engine.registry.for_version(session, row.id)
    now = clock.now()
    previous = pinned.version_id if pinned is not None else None
    if pinned is None:
        session.add(ProvinceProcessVersion(province_id=province.id, version_id=row.id, activated_at=now,
                                           activated_by=actor))
    else:
        pinned.version_id, pinned.activated_at, pinned.activated_by = row.id, now, actor
    audit.append(session, actor, "process_activated", None,
                 {"version": row.id, "hash": row.content_hash, "file": row.file_name, "province": province.code,
                  "previous": previous}, now)
    return row


def follow_national(engine: Engine, session: Session, actor: str, province_code: str) -> OrgUnit:
    """The province's new cases open on the national version again (audited); its running cases keep theirs."""
    with engine.transaction(session):
        province = _province(session, province_code)
        pinned = session.get(ProvinceProcessVersion, province.id, with_for_update=True)
        if pinned is None:
            raise InvalidState(f"{province.name} đang dùng phiên bản toàn quốc.",
                               f"{province.code} already follows the national version.")
        audit.append(session, actor, "process_province_cleared", None,
                     {"province": province.code, "previous": pinned.version_id})
        session.delete(pinned)
    return province


@dataclass
class Scope:
    """Where a version is active: a province with its own version, or (province None) the whole country."""

    province: OrgUnit | None
    version_id: int
    activated_at: datetime | None
    activated_by: str | None


def scopes(engine: Engine, session: Session) -> list[Scope]:
    """The national version first, then every province's own version (by province code)."""
    national = active_version(engine, session)
    result = [Scope(None, national.id, national.activated_at, national.activated_by)]
    for pinned, province in session.execute(
            select(ProvinceProcessVersion, OrgUnit).join(OrgUnit, OrgUnit.id == ProvinceProcessVersion.province_id)
            .order_by(OrgUnit.code)):
        result.append(Scope(province, pinned.version_id, pinned.activated_at, pinned.activated_by))
    return result


def provinces(session: Session) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).where(OrgUnit.kind == "province").order_by(OrgUnit.code)))


def label(session: Session, version_id: int) -> str:
    """How a case's process version is named on its page and in its dossier: number, file and short hash."""
    row = session.get(ProcessVersion, version_id)
    if row is None:
        return f"#{version_id}"
    return f"#{row.id} · {row.process_id} · {row.file_name} · {row.content_hash[:12]}"


def versions(session: Session) -> list[ProcessVersion]:
    return list(session.scalars(select(ProcessVersion).order_by(ProcessVersion.id.desc())))
