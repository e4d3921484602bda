"""Restriction of processing on an authority's request (Law 91/2025/QH15 Art. 24.3; Decree 56 Art. 24).

An administrator records the authority's request (authority, document number and date, reason): from then on
the case is read-only for everyone. Every command on it is refused with `CaseRestricted` (409, code
`case_restricted`) by the engine itself — completing or saving a draft of a step (runtime), reassigning
(assignees), transferring and reopening (transfers), moving it to another process version (case_migration),
attaching evidence — and so is the dossier export (web, API, CLI: a copy for outside the system). The file
stays readable on screen by those who read it anyway, so the commune can answer the authority. Lifting (with
a reason) restores everything; both are in the audit trail.

Deadlines are not moved: a restriction suspends the work, not the legal time limits of Decree 56, so timers
keep firing; an escalation opened while the case is restricted records the restriction (`deadline_passed`
with `restricted`), and the case page and inbox show the banner. Liveness is unchanged by a restriction:
the case's steps still have someone who can do them once it is lifted, and the administrators' list of
restricted cases is where it waits (engine.liveness does not count it as stranded for that reason alone).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import ColumnExpressionArgument, Integer, ScalarSelect, Select, bindparam, select
from sqlalchemy.orm import Session

from engine import access, audit, clock
from engine.errors import FieldErrors, Forbidden, InvalidState, NotFound
from engine.models import Case, CaseRestriction, transaction

LIMITS = {"authority": 300, "document_number": 100, "reason": 2000}
EARLIEST_DOCUMENT = date(2017, 7, 1)  # Decree 56/2017 in force: no request about a case predates it


class CaseRestricted(InvalidState):
    """The case is restricted: nothing may change it (the message names the authority and document)."""

    code, status = "case_restricted", 409


def active(session: Session, case_id: int) -> CaseRestriction | None:
    """The restriction in force on the case, if any."""
    return session.scalar(_active_statement(), {"case_id": case_id})


@functools.cache
def _active_statement() -> Select[tuple[CaseRestriction]]:
    """`active`'s statement, built once (parameter :case_id): every escalation a timer opens asks it, and building
    it cost more than running it (issue 20)."""
    return select(CaseRestriction).where(CaseRestriction.id == active_id(bindparam("case_id", type_=Integer)))


def active_id(case_id: int | ColumnExpressionArgument[int]) -> ScalarSelect[int]:
    """The id of the restriction in force on the case (NULL if none), as a subquery: a step reads it with its
    case in one statement (engine.runtime) and loads the row only when there is one."""
    return (select(CaseRestriction.id).where(CaseRestriction.case_id == case_id, CaseRestriction.lifted_at.is_(None))
            .order_by(CaseRestriction.id.desc()).limit(1).scalar_subquery())


def active_for(session: Session, case_ids: Iterable[int]) -> dict[int, CaseRestriction]:
    """The restrictions in force on several cases (for lists), by case id."""
    ids = list(set(case_ids))
    if not ids:
        return {}
    rows = session.scalars(select(CaseRestriction).where(CaseRestriction.case_id.in_(ids),
                                                         CaseRestriction.lifted_at.is_(None)))
    return {row.case_id: row for row in rows}


def refusal(row: CaseRestriction) -> CaseRestricted:
    when = row.document_date.strftime("%d/%m/%Y")
    return CaseRestricted(
        f"Hồ sơ đang bị hạn chế xử lý theo yêu cầu của {row.authority} (văn bản số {row.document_number} "
        f"ngày {when}): không ai được thay đổi, chuyển hoặc xuất hồ sơ cho đến khi quản trị viên gỡ hạn chế.",
        f"Processing of this case is restricted at the request of {row.authority} (document "
        f"{row.document_number} of {when}): nobody may change, transfer or export it until an administrator "
        "lifts the restriction.")


def ensure_unrestricted(session: Session, case: Case) -> None:
    """Raise CaseRestricted when the case is restricted; called inside the command's own transaction."""
    row = active(session, case.id)
    if row is not None:
        raise refusal(row)


def _text(data: dict[str, object], name: str, errors: dict[str, tuple[str, str]], label: tuple[str, str],
          required: bool = True) -> str:
    raw = data.get(name)
    value = unicodedata.normalize("NFC", raw.strip()) if isinstance(raw, str) else ""
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} and ch not in "\n\t" for ch in value):
        errors[name] = (f"{label[0]}: có ký tự điều khiển hoặc ký tự ẩn.",
                        f"{label[1]}: contains control or invisible characters.")
    elif required and not value:
        errors[name] = (f"Hãy nhập {label[0].lower()}.", f"Enter the {label[1].lower()}.")
    elif len(value) > LIMITS[name]:
        errors[name] = (f"{label[0]}: tối đa {LIMITS[name]} ký tự.", f"{label[1]}: at most {LIMITS[name]} characters.")
    return value


def parse_day(raw: object) -> date | None:
    """A date typed as dd/mm/yyyy (the form) or yyyy-mm-dd (ISO); None when it is neither."""
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def find_case(session: Session, number: object) -> Case:
    """The case by its number (administrators know cases by number only; they do not read the file)."""
    text = number.strip() if isinstance(number, str) else ""
    case = session.scalar(select(Case).where(Case.number == text)) if text and len(text) <= 40 else None
    if case is None:
        raise FieldErrors({"case_number": ("Không có hồ sơ nào mang số này.", "No case has this number.")})
    return case


def restrict(session: Session, actor: access.Actor, case_id: int, data: dict[str, object]) -> CaseRestriction:
    """Record an authority's request and make the case read-only (one transaction; nothing on refusal)."""
    if not access.can_restrict_processing(actor):
        raise Forbidden("Chỉ quản trị viên mới được ghi nhận yêu cầu hạn chế xử lý.",
                        "Only an administrator may record a restriction of processing.")
    errors: dict[str, tuple[str, str]] = {}
    authority = _text(data, "authority", errors, ("Cơ quan yêu cầu", "Requesting authority"))
    number = _text(data, "document_number", errors, ("Số văn bản", "Document number"))
    reason = _text(data, "reason", errors, ("Lý do", "Reason"))
    day = parse_day(data.get("document_date"))
    today = clock.local(clock.now()).date()
    if day is None:
        errors["document_date"] = ("Ngày văn bản phải có dạng dd/mm/yyyy.", "The document date must be dd/mm/yyyy.")
    elif day > today:
        errors["document_date"] = ("Ngày văn bản không được sau hôm nay.", "The document date cannot be in the future.")
    elif day < EARLIEST_DOCUMENT:
        errors["document_date"] = ("Ngày văn bản không được trước 01/07/2017.",
                                   "The document date cannot be before 01/07/2017.")
    if errors:
        raise FieldErrors(errors)
    assert day is not None
    with transaction(session):
        case = session.get(Case, case_id, with_for_update=session.get_bind().dialect.name == "postgresql")
        if case is None:
            raise NotFound("Không tìm thấy hồ sơ.", "No such case.")
        if active(session, case.id) is not None:
            raise InvalidState("Hồ sơ này đã đang bị hạn chế xử lý.", "This case is already restricted.")
        now = clock.now()
        row = CaseRestriction(case_id=case.id, authority=authority, document_number=number, document_date=day,
                              reason=reason, restricted_by=actor.username, restricted_at=now)
        session.add(row)
        case.updated_at = now  # bumps the case's version: a page opened before cannot change it afterwards
        session.flush()
        audit.append(session, actor.username, "processing_restricted", case.id,
                     {"restriction": row.id, "authority": authority, "document_number": number,
                      "document_date": day.isoformat(), "reason": reason}, now)
    return row


def lift(session: Session, actor: access.Actor, restriction_id: int, data: dict[str, object]) -> CaseRestriction:
    """End a restriction, with the reason (e.g. the authority's withdrawal); the row stays as history."""
    if not access.can_restrict_processing(actor):
        raise Forbidden("Chỉ quản trị viên mới được gỡ hạn chế xử lý.",
                        "Only an administrator may lift a restriction of processing.")
    errors: dict[str, tuple[str, str]] = {}
    reason = _text(data, "reason", errors, ("Lý do gỡ hạn chế", "Reason for lifting"))
    if errors:
        raise FieldErrors(errors)
    with transaction(session):
        row = session.get(CaseRestriction, restriction_id)
        if row is None:
            raise NotFound("Không tìm thấy yêu cầu hạn chế này.", "No such restriction.")
        case = session.get(Case, row.case_id, with_for_update=session.get_bind().dialect.name == "postgresql")
        session.refresh(row)
        if row.lifted_at is not None or case is None:
            raise InvalidState("Hạn chế này đã được gỡ.", "This restriction was already lifted.")
        now = clock.now()
        row.lifted_by, row.lifted_at, row.lift_reason = actor.username, now, reason
        case.updated_at = now
        session.flush()
        audit.append(session, actor.username, "restriction_lifted", case.id,
                     {"restriction": row.id, "reason": reason}, now)
    return row


def history(session: Session, *, active_only: bool = False) -> list[tuple[CaseRestriction, str]]:
    """Restrictions, newest first, with their case numbers (the administrators' list)."""
    query = select(CaseRestriction, Case.number).join(Case, Case.id == CaseRestriction.case_id)
    if active_only:
        query = query.where(CaseRestriction.lifted_at.is_(None))
    return [(row, number) for row, number in session.execute(query.order_by(CaseRestriction.id.desc()).limit(500))]
