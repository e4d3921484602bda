"""The child's legal representative, recorded on the case (Law 91/2025/QH15 Art. 24; Decree 56/2017/NĐ-CP
Art. 27.1.h): who exercises the child's data rights, unless flagged as the alleged abuser.

Each change is one transaction with its audit row (the form's data, who, when); a change of the flag is audited
under its own action so the trail shows when, and by whom, a representative was barred or cleared.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import forms
from engine import access, audit, clock
from engine.errors import Forbidden, NotFound
from engine.models import Case, LegalRepresentative
from engine.runtime import Engine

FORM = "legal_representative"


def _case(session: Session, actor: access.Actor, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("Không tìm thấy hồ sơ.", "No such case.")
    if not access.can_record_representative(actor, case):
        raise Forbidden("Bạn không được ghi nhận người đại diện của trẻ em trong hồ sơ này.",
                        "You may not record the child's representative on this case.")
    return case


def of_case(session: Session, case_id: int) -> list[LegalRepresentative]:
    return list(session.scalars(select(LegalRepresentative).where(LegalRepresentative.case_id == case_id)
                                .order_by(LegalRepresentative.id)))


def _apply(row: LegalRepresentative, clean: dict[str, Any]) -> None:
    row.full_name, row.relation = clean["full_name"], clean["relation"]
    row.contact, row.id_number, row.note = clean.get("contact"), clean.get("id_number"), clean.get("note")
    row.alleged_abuser = bool(clean["alleged_abuser"])


def record(engine: Engine, session: Session, actor: access.Actor, case_id: int, data: dict[str, Any],
           locale: str = "vi") -> LegalRepresentative:
    """Record a representative on the case; FormError (field messages) or nothing saved."""
    clean = forms.validate(FORM, data, locale=locale)
    with engine.transaction(session):
        case = _case(session, actor, case_id)
        now = clock.now()
        row = LegalRepresentative(case_id=case.id, recorded_by=actor.username, recorded_at=now)
        _apply(row, clean)
        session.add(row)
        session.flush()
        audit.append(session, actor.username, "representative_recorded", case.id,
                     {"representative": row.id, "data": clean}, now)
        return row


def update(engine: Engine, session: Session, actor: access.Actor, representative_id: int, data: dict[str, Any],
           locale: str = "vi") -> LegalRepresentative:
    """Correct a representative's record (also to set or clear the alleged-abuser flag)."""
    clean = forms.validate(FORM, data, locale=locale)
    with engine.transaction(session):
        row = session.get(LegalRepresentative, representative_id)
        if row is None:
            raise NotFound("Không tìm thấy người đại diện.", "No such representative.")
        case = _case(session, actor, row.case_id)
        now = clock.now()
        flagged_before = row.alleged_abuser
        _apply(row, clean)
        row.updated_by, row.updated_at = actor.username, now
        audit.append(session, actor.username, "representative_updated", case.id,
                     {"representative": row.id, "data": clean}, now)
        if flagged_before != row.alleged_abuser:
            audit.append(session, actor.username,
                         "representative_barred" if row.alleged_abuser else "representative_cleared", case.id,
                         {"representative": row.id}, now)
        return row
