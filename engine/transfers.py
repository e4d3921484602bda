"""Moving and linking cases: transfer to another commune, reopening a closed case.

Not in the decree's text but expected by users (domain spec §2): a case follows the commune where the
child lives, and a new report about a child whose case is closed opens a new case linked to the old one
rather than overwriting it. Both are one transaction each, like every change in `engine.runtime`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

import forms
from engine import access, audit, clock
from engine.errors import Conflict, Forbidden, InvalidState, NotFound
from engine.models import Case, OrgUnit, Task
from engine.registry import Step

if TYPE_CHECKING:  # runtime imports this module lazily; the type alone is needed here
    from engine.runtime import Engine

TRANSFER_STEP = ("Chuyển hồ sơ đến xã, phường khác", "Transfer to another commune")
CLOSED_STATES = {"closed", "no_basis"}


def _case_for(session: Session, actor: access.Actor, case_id: int) -> Case:
    """The case `actor` manages; a case they cannot read is reported as missing (nothing leaks)."""
    case = session.get(Case, case_id)
    if case is None or not access.can_read_case(actor, case):
        raise NotFound("Không tìm thấy hồ sơ.", "No such case.")
    if not access.can_manage_case(actor, case):
        raise Forbidden("Bạn không có quyền chuyển hoặc mở lại hồ sơ này.",
                        "You may not transfer or reopen this case.")
    return case


def transfer(engine: Engine, session: Session, actor: access.Actor, case_id: int, data: dict[str, Any],
             expected_version: int | None = None, locale: str = "vi") -> Case:
    """Move the case and its open steps to another commune; the history stays with the case.

    The transfer form is kept as a completed step row (like the report), the case version is bumped so a
    page opened before the move cannot change it afterwards, and everything commits together or not at all.
    """
    clean = forms.validate("transfer", data, locale=locale)
    with engine.transaction(session):
        case = _case_for(session, actor, case_id)
        if expected_version is not None and case.version != expected_version:
            raise Conflict("Hồ sơ đã thay đổi kể từ khi bạn mở trang; không có thay đổi nào được lưu. "
                           "Hãy tải lại trang.",
                           "The case changed since you opened the page; nothing was saved. Reload the page.")
        if case.status != "open":
            raise InvalidState("Chỉ chuyển được hồ sơ đang mở.", "Only an open case can be transferred.")
        target = session.scalar(select(OrgUnit).where(OrgUnit.code == clean["to_commune"],
                                                      OrgUnit.kind == "commune"))
        if target is None or target.id == case.commune_id:
            message = ("Chọn một xã/phường khác với xã/phường đang quản lý hồ sơ."
                       if target is not None else "Không có xã/phường với mã này.")
            english = ("Choose a commune other than the one holding the case."
                       if target is not None else "No commune has this code.")
            raise forms.FormError({"to_commune": [english if locale == "en" else message]},
                                  codes={"to_commune": ["invalid"]}, form="transfer",
                                  version=forms.get("transfer").version, locale=locale)
        now = clock.now()
        source = session.get(OrgUnit, case.commune_id)
        definition = engine.registry.for_version(session, case.process_version_id)
        step = Step("transfer", "transfer", TRANSFER_STEP[0], TRANSFER_STEP[1], "transfer", actor.role,
                    forms.get("transfer").article, "")
        # Recorded before the move: the transfer is an act of the commune that held the case.
        engine.record_form(session, case, step, f"transfer-{uuid.uuid4().hex[:24]}", actor, clean, now, definition)
        province_id = target.parent_id
        if province_id is None:  # a commune row always names its province; a broken unit table is not guessed at
            raise NotFound("Không tìm thấy tỉnh/thành phố của xã/phường này.", "The commune has no province.")
        # An ORM UPDATE through the session (it keeps loaded rows in step) returns a CursorResult.
        moved = cast(CursorResult[Any], session.execute(
            update(Task).where(Task.case_id == case.id, Task.state == "ready")
            .values(commune_id=target.id, province_id=province_id)
            .execution_options(synchronize_session="fetch")
        )).rowcount
        case.commune_id, case.province_id, case.updated_at = target.id, province_id, now
        audit.append(session, actor.username, "case_transferred", case.id,
                     {"from": source.code if source else None, "to": target.code, "open_steps": moved}, now)
        session.flush()  # the version check: a concurrent change makes this raise, and nothing is kept
        return case


def reopen(engine: Engine, session: Session, actor: access.Actor, case_id: int, reopen_data: dict[str, Any],
           report_data: dict[str, Any], locale: str = "vi") -> Case:
    """A new report about the child of a closed case: a new case linked to the old one (Art. 25)."""
    old = _case_for(session, actor, case_id)
    if old.status not in CLOSED_STATES:
        raise InvalidState("Chỉ mở lại được hồ sơ đã đóng hoặc đã kết thúc do không có cơ sở.",
                           "Only a closed case (or one ended without basis) can be reopened.")
    clean = forms.validate("reopen", reopen_data, locale=locale)
    return engine.open_case(session, actor, old.commune.code, report_data, linked_case=old, reopen=clean)
