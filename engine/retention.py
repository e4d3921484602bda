"""Retention, legal hold and the logged destruction of personal content past retention (issue 18).

Each record type (`case_file`, `attachment`) has a retention class in processes/retention.toml; the default
keeps everything (Decree 56/2017 Art. 30.3). A case's records become destroyable `years` after its closure
when the case is closed (or ended without basis), has no step still open (the police track), is under no
legal hold and no restriction of processing, and was not destroyed already.

Destruction takes two administrators, as users of records offices expect for disposal: one requests it (the
cases eligible at that moment, with the reason), another confirms it; each case is checked again at
confirmation, and either may cancel a pending request. Confirming destroys in one transaction and leaves
**tombstones, not gaps**: the case row (number, dates, status, the coded fields statistics count) and every
task row stay; forms keep only the coded decision statistics read; drafts, plan activities and the
workflow's data are emptied; attachments lose their names, descriptions and files; the case's audit rows
keep their structure (ids, actions, actors, times, step and task ids) while their personal details become a
tombstone, and a `records_destroyed` row lists each tombstoned row with its original hash, so
`engine.audit.verify` still passes (see there). `destroyed_record` says what was destroyed, when and by which
destruction.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from engine import access, audit, children, clock, restriction
from engine.errors import FieldErrors, Forbidden, InvalidState, NotFound
from engine.models import (
    Attachment,
    AuditEntry,
    Case,
    CaseRestriction,
    DestroyedRecord,
    Destruction,
    LegalHold,
    Task,
    TaskReminder,
    transaction,
)

if TYPE_CHECKING:
    from engine.runtime import Engine

POLICY_FILE = Path(__file__).resolve().parent.parent / "processes" / "retention.toml"
RECORD_TYPES = ("case_file", "attachment")
CLOSED = ("closed", "no_basis")
# Audit detail keys that are structure, not personal content: they survive a destruction.
KEPT_AUDIT_KEYS = frozenset({
    "task", "step", "form", "status", "number", "commune", "linked_case", "role", "due_at", "escalation_task",
    "attachment", "sha256", "size", "content_type", "from", "to", "open_steps", "restricted", "restriction",
    "hold", "destruction", "version", "from_version", "to_version",
})
KEPT_FORM_KEYS = frozenset({"decision"})  # coded answers statistics count (engine.statistics: approved plans)
DESTROYED_NAME = "[đã huỷ]"
REASON_LIMIT = 2000


@dataclass(frozen=True)
class RetentionClass:
    name: str
    years: int | None  # None: kept
    vi: str
    en: str


@dataclass(frozen=True)
class Policy:
    """The retention class of each record type (processes/retention.toml)."""

    records: dict[str, RetentionClass]
    labels: dict[str, tuple[str, str]]

    @classmethod
    def load(cls, path: Path | str | None = None) -> Policy:
        with Path(path or POLICY_FILE).open("rb") as source:
            data = tomllib.load(source)
        classes: dict[str, RetentionClass] = {}
        for name, spec in (data.get("classes") or {}).items():
            years = spec.get("years")
            if years is not None and (not isinstance(years, int) or isinstance(years, bool) or years < 1):
                raise ValueError(f"retention class {name!r}: years must be a whole number of years ≥ 1")
            classes[name] = RetentionClass(name, years, spec.get("vi", name), spec.get("en", name))
        records: dict[str, RetentionClass] = {}
        labels: dict[str, tuple[str, str]] = {}
        for record in RECORD_TYPES:
            spec = (data.get("records") or {}).get(record) or {"class": "keep"}
            name = spec.get("class", "keep")
            if name not in classes and name != "keep":
                raise ValueError(f"record type {record!r}: unknown retention class {name!r}")
            records[record] = classes.get(name) or RetentionClass("keep", None, "Lưu giữ lâu dài", "Kept")
            labels[record] = (spec.get("vi", record), spec.get("en", record))
        return cls(records, labels)

    def due(self, record: str, closed_at: datetime | None, now: datetime) -> bool:
        """Has the record type's retention ended for a case closed at `closed_at`?"""
        kept = self.records[record]
        if kept.years is None or closed_at is None:
            return False
        closed = clock.local(closed_at).date()
        try:
            ends = closed.replace(year=closed.year + kept.years)
        except ValueError:  # 29 February
            ends = closed.replace(year=closed.year + kept.years, day=28)
        return clock.local(now).date() >= ends


# -- legal hold ----------------------------------------------------------------------------------------------

def _reason(data: dict[str, Any], name: str, errors: dict[str, tuple[str, str]], label: tuple[str, str]) -> str:
    raw = data.get(name)
    value = unicodedata.normalize("NFC", raw.strip()) if isinstance(raw, str) else ""
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} and ch not in "\n\t" for ch in value):
        errors[name] = (f"{label[0]}: có ký tự điều khiển hoặc ký tự ẩn.",
                        f"{label[1]}: contains control or invisible characters.")
    elif not value:
        errors[name] = (f"Hãy nhập {label[0].lower()}.", f"Enter the {label[1].lower()}.")
    elif len(value) > REASON_LIMIT:
        errors[name] = (f"{label[0]}: tối đa {REASON_LIMIT} ký tự.", f"{label[1]}: at most {REASON_LIMIT} characters.")
    return value


def _require(actor: access.Actor) -> None:
    if not access.can_manage_retention(actor):
        raise Forbidden("Chỉ quản trị viên mới được quản lý lưu trữ, phong toả và huỷ hồ sơ.",
                        "Only an administrator may manage retention, legal holds and destruction.")


def hold_in_force(hold: LegalHold, today: date) -> bool:
    return hold.released_at is None and (hold.held_until is None or hold.held_until >= today)


def holds_for(session: Session, case_ids: Iterable[int], today: date | None = None) -> dict[int, LegalHold]:
    """The legal hold in force on each of these cases (the latest), by case id."""
    ids = list(set(case_ids))
    if not ids:
        return {}
    today = today or clock.local(clock.now()).date()
    found: dict[int, LegalHold] = {}
    for hold in session.scalars(select(LegalHold).where(LegalHold.case_id.in_(ids), LegalHold.released_at.is_(None))
                                .order_by(LegalHold.id)):
        if hold_in_force(hold, today):
            found[hold.case_id] = hold
    return found


def place_hold(session: Session, actor: access.Actor, case_id: int, data: dict[str, Any]) -> LegalHold:
    """Put a case under legal hold (why, until when — none: until released); audited."""
    _require(actor)
    errors: dict[str, tuple[str, str]] = {}
    reason = _reason(data, "reason", errors, ("Lý do phong toả", "Reason for the hold"))
    until: date | None = None
    raw_until = data.get("held_until")
    if isinstance(raw_until, str) and raw_until.strip() or isinstance(raw_until, date):
        until = restriction.parse_day(raw_until)
        if until is None:
            errors["held_until"] = ("Ngày hết phong toả phải có dạng dd/mm/yyyy.", "The end date must be dd/mm/yyyy.")
        elif until < clock.local(clock.now()).date():
            errors["held_until"] = ("Ngày hết phong toả không được trước hôm nay.", "The end date cannot be past.")
    if errors:
        raise FieldErrors(errors)
    with transaction(session):
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("Không tìm thấy hồ sơ.", "No such case.")
        now = clock.now()
        hold = LegalHold(case_id=case.id, reason=reason, held_until=until, placed_by=actor.username, placed_at=now)
        session.add(hold)
        session.flush()
        audit.append(session, actor.username, "legal_hold_placed", case.id,
                     {"hold": hold.id, "reason": reason, "held_until": until.isoformat() if until else None}, now)
    return hold


def release_hold(session: Session, actor: access.Actor, hold_id: int, data: dict[str, Any]) -> LegalHold:
    _require(actor)
    errors: dict[str, tuple[str, str]] = {}
    reason = _reason(data, "reason", errors, ("Lý do gỡ phong toả", "Reason for the release"))
    if errors:
        raise FieldErrors(errors)
    with transaction(session):
        hold = session.get(LegalHold, hold_id)
        if hold is None:
            raise NotFound("Không tìm thấy lệnh phong toả này.", "No such legal hold.")
        if hold.released_at is not None:
            raise InvalidState("Lệnh phong toả này đã được gỡ.", "This legal hold was already released.")
        now = clock.now()
        hold.released_by, hold.released_at, hold.release_reason = actor.username, now, reason
        audit.append(session, actor.username, "legal_hold_released", hold.case_id,
                     {"hold": hold.id, "reason": reason}, now)
    return hold


# -- what may be destroyed -----------------------------------------------------------------------------------

def destroyed_types(session: Session, case_id: int) -> set[str]:
    return set(session.scalars(select(DestroyedRecord.record_type).where(DestroyedRecord.case_id == case_id)))


def destroyed(session: Session, case_id: int, record_type: str) -> bool:
    return session.get(DestroyedRecord, (case_id, record_type)) is not None


def tombstone_of(session: Session, case_id: int) -> list[DestroyedRecord]:
    """What of the case was destroyed (for the case page's banner)."""
    return list(session.scalars(select(DestroyedRecord).where(DestroyedRecord.case_id == case_id)
                                .order_by(DestroyedRecord.record_type)))


def _candidates(session: Session, policy: Policy, now: datetime, case_ids: Iterable[int] | None) -> list[Case]:
    years = [kept for r in RECORD_TYPES if (kept := policy.records[r].years) is not None]
    if not years:
        return []
    # Closed on or before this day, years ago, by the shortest retention: the rest cannot be due (Policy.due).
    today = clock.local(now).date()
    try:
        last_day = today.replace(year=today.year - min(years))
    except ValueError:  # 29 February
        last_day = today.replace(year=today.year - min(years), day=28)
    before = datetime.combine(last_day + timedelta(days=1), time.min, clock.LOCAL_TZ)
    query = select(Case).where(Case.status.in_(CLOSED), Case.closed_at.is_not(None), Case.closed_at < before,
                               ~exists().where(Task.case_id == Case.id, Task.state == "ready"),
                               ~exists().where(CaseRestriction.case_id == Case.id, CaseRestriction.lifted_at.is_(None)))
    if case_ids is not None:
        query = query.where(Case.id.in_(list(case_ids)))
    return list(session.scalars(query.order_by(Case.closed_at, Case.id)))


def eligible(session: Session, policy: Policy, now: datetime | None = None,
             case_ids: Iterable[int] | None = None) -> list[tuple[Case, list[str]]]:
    """Cases whose records may be destroyed now, with the record types due for each."""
    now = now or clock.now()
    cases = _candidates(session, policy, now, case_ids)
    held = holds_for(session, [c.id for c in cases], clock.local(now).date())
    done: dict[int, set[str]] = {}
    if cases:
        for case_id, record in session.execute(select(DestroyedRecord.case_id, DestroyedRecord.record_type)
                                               .where(DestroyedRecord.case_id.in_([c.id for c in cases]))):
            done.setdefault(case_id, set()).add(record)
    found = []
    for case in cases:
        if case.id in held:
            continue
        due = [r for r in RECORD_TYPES if r not in done.get(case.id, set()) and policy.due(r, case.closed_at, now)]
        if due:
            found.append((case, due))
    return found


def _why_not(session: Session, policy: Policy, case: Case, now: datetime) -> tuple[str, str]:
    """Why a case requested for destruction is not destroyed at confirmation."""
    if restriction.active(session, case.id) is not None:
        return "Hồ sơ đang bị hạn chế xử lý", "The case is restricted"
    if holds_for(session, [case.id], clock.local(now).date()):
        return "Hồ sơ đang bị phong toả (legal hold)", "The case is under legal hold"
    if case.status not in CLOSED:
        return "Hồ sơ không còn ở trạng thái đã đóng", "The case is no longer closed"
    if session.scalar(select(exists().where(Task.case_id == case.id, Task.state == "ready"))):
        return "Hồ sơ còn bước đang mở", "The case has an open step"
    return "Chưa hết thời hạn lưu trữ hoặc đã huỷ", "Retention has not ended, or already destroyed"


# -- the two-person procedure --------------------------------------------------------------------------------

def request(session: Session, actor: access.Actor, policy: Policy, reason_data: dict[str, Any],
            case_ids: Iterable[int] | None = None) -> Destruction:
    """First administrator: request the destruction of what is eligible now (of `case_ids`, or all)."""
    _require(actor)
    errors: dict[str, tuple[str, str]] = {}
    reason = _reason(reason_data, "reason", errors, ("Lý do huỷ", "Reason for the destruction"))
    if errors:
        raise FieldErrors(errors)
    with transaction(session):
        found = eligible(session, policy, case_ids=case_ids)
        if not found:
            raise FieldErrors({"cases": ("Không có hồ sơ nào đã hết thời hạn lưu trữ để huỷ.",
                                         "No case is past its retention period.")})
        now = clock.now()
        row = Destruction(reason=reason, status="requested", requested_by=actor.username, requested_at=now,
                          cases={"ids": [c.id for c, _r in found], "numbers": [c.number for c, _r in found],
                                 "records": {str(c.id): records for c, records in found}})
        session.add(row)
        session.flush()
        audit.append(session, actor.username, "destruction_requested", None,
                     {"destruction": row.id, "reason": reason, "cases": row.cases["numbers"]}, now)
    return row


def cancel(session: Session, actor: access.Actor, destruction_id: int, data: dict[str, Any]) -> Destruction:
    """Either administrator withdraws a pending request; nothing is destroyed."""
    _require(actor)
    errors: dict[str, tuple[str, str]] = {}
    note = _reason(data, "note", errors, ("Lý do huỷ bỏ yêu cầu", "Reason for cancelling"))
    if errors:
        raise FieldErrors(errors)
    with transaction(session):
        row = _pending(session, destruction_id)
        now = clock.now()
        row.status, row.decided_by, row.decided_at, row.decision_note = "cancelled", actor.username, now, note
        audit.append(session, actor.username, "destruction_cancelled", None,
                     {"destruction": row.id, "note": note}, now)
    return row


def _pending(session: Session, destruction_id: int) -> Destruction:
    dialect = session.get_bind().dialect.name
    row = session.get(Destruction, destruction_id, with_for_update=dialect == "postgresql")
    if row is None:
        raise NotFound("Không tìm thấy yêu cầu huỷ này.", "No such destruction request.")
    session.refresh(row)
    if row.status != "requested":
        raise InvalidState("Yêu cầu huỷ này đã được xử lý.", "This destruction request was already decided.")
    return row


def confirm(engine: Engine, session: Session, actor: access.Actor, policy: Policy, destruction_id: int,
            data: dict[str, Any]) -> tuple[Destruction, list[str]]:
    """Second administrator: carry the destruction out. Returns the row and the SHA-256 names of attachment
    files no remaining attachment uses, for the caller to delete from the store once this has committed."""
    _require(actor)
    errors: dict[str, tuple[str, str]] = {}
    note = _reason(data, "note", errors, ("Ghi chú xác nhận", "Confirmation note"))
    if errors:
        raise FieldErrors(errors)
    with transaction(session):
        row = _pending(session, destruction_id)
        if row.requested_by == actor.username:
            raise Forbidden("Việc huỷ phải do một quản trị viên khác với người đề nghị xác nhận.",
                            "A destruction must be confirmed by an administrator other than the one who requested it.")
        now = clock.now()
        requested = {int(k): v for k, v in (row.cases.get("records") or {}).items()}
        still = {case.id: records for case, records in eligible(session, policy, now, requested)}
        destroyed_now: dict[str, list[str]] = {}
        skipped: dict[str, list[str]] = {}
        files: set[str] = set()
        for case_id, records in requested.items():
            case = session.get(Case, case_id)
            if case is None:
                continue
            records_now = [r for r in records if r in still.get(case_id, [])]
            if not records_now:
                skipped[case.number] = list(_why_not(session, policy, case, now))
                continue
            files |= _destroy(engine, session, actor, row, case, records_now, now)
            destroyed_now[case.number] = records_now
        row.status, row.decided_by, row.decided_at, row.decision_note = "done", actor.username, now, note
        session.flush()
        # Files another (kept) attachment row still names are kept: the store is content-addressed.
        in_use = set(session.scalars(select(Attachment.sha256).where(
            Attachment.sha256.in_(files), Attachment.file_name != DESTROYED_NAME))) if files else set()
        removable = sorted(files - in_use)
        row.result = {"destroyed": destroyed_now, "skipped": skipped, "files": len(removable)}
        audit.append(session, actor.username, "destruction_confirmed", None,
                     {"destruction": row.id, "note": note, "destroyed": destroyed_now, "skipped": skipped}, now)
    return row, removable


def _scrub_audit(session: Session, case_id: int, record: str, destruction_id: int) -> list[list[Any]]:
    """Tombstone the personal details of the case's audit rows of this record type; [[id, original hash]]."""
    pairs: list[list[Any]] = []
    rows = session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id))
    for entry in rows:
        about_files = entry.action.startswith("attachment_")
        if entry.action == audit.DESTROYED or (record == "attachment") != about_files:
            continue
        details = entry.details if isinstance(entry.details, dict) else {}
        removed = sorted(k for k in details if k not in KEPT_AUDIT_KEYS and k != audit.TOMBSTONE)
        if not removed:
            continue
        kept = {k: v for k, v in details.items() if k in KEPT_AUDIT_KEYS}
        previous = details.get(audit.TOMBSTONE) or {}
        kept[audit.TOMBSTONE] = {"destruction": destruction_id,
                                 "removed": sorted(set(previous.get("removed") or []) | set(removed))}
        session.execute(update(AuditEntry).where(AuditEntry.id == entry.id).values(details=kept),
                        execution_options={"synchronize_session": False})
        pairs.append([entry.id, entry.hash])
    return pairs


def _scrub_workflow(engine: Engine, session: Session, case: Case) -> None:
    """Empty the data of every task of the stored workflow (its structure stays, so `case56 check` holds)."""
    workflow = engine.load_workflow(session, case)
    for spiff_task in workflow.get_tasks():
        spiff_task.data = {}
    for sub in getattr(workflow, "subprocesses", {}).values():
        for spiff_task in sub.get_tasks():
            spiff_task.data = {}
        sub.data = {}
    workflow.data = {}
    engine.store_workflow(session, case, workflow)


def _destroy(engine: Engine, session: Session, actor: access.Actor, destruction: Destruction, case: Case,
             records: list[str], now: datetime) -> set[str]:
    files: set[str] = set()
    tombstones: list[list[Any]] = []
    for record in records:
        if record == "case_file":
            for task in session.scalars(select(Task).where(Task.case_id == case.id)):
                kept = {k: v for k, v in (task.form_data or {}).items() if k in KEPT_FORM_KEYS}
                task.form_data = kept or None
                task.draft_data, task.activity = None, None
            # A reminder's note is free text about the case (engine.ownership): emptied with the file.
            session.execute(update(TaskReminder).where(TaskReminder.case_id == case.id).values(note=""),
                            execution_options={"synchronize_session": False})
            _scrub_workflow(engine, session, case)
            children.forget(session, case.id)
        else:
            for attachment in session.scalars(select(Attachment).where(Attachment.case_id == case.id)):
                files.add(attachment.sha256)
                attachment.file_name, attachment.description = DESTROYED_NAME, None
        tombstones += _scrub_audit(session, case.id, record, destruction.id)
        session.add(DestroyedRecord(case_id=case.id, record_type=record, destruction_id=destruction.id,
                                    destroyed_at=now))
    session.flush()
    audit.append(session, actor.username, audit.DESTROYED, case.id,
                 {"destruction": destruction.id, "records": records, "tombstones": tombstones}, now)
    return files


def history(session: Session, limit: int = 200) -> list[Destruction]:
    return list(session.scalars(select(Destruction).order_by(Destruction.id.desc()).limit(limit)))
