"""Moving and linking cases: transfer to another commune, routing to the residence commune, reopening.

Not in the decree's text but expected by users (domain spec §2): a case follows the commune where the
child lives, and a new report about a child whose case is closed opens a new case linked to the old one
rather than overwriting it. Both are one transaction each, like every change in `engine.runtime`.

Routing (issue 16): the report names the incident and the residence commune (Mẫu 01). The case opens at the
incident commune, whose chairman directs the initial assessment (Decree 56 Art. 26.1–26.2); the plan is the
residence commune's (Law on Children Art. 52.2). When the process reaches the plan stage (the first step in
`RESIDENCE_STEPS`, the detailed assessment of Art. 27) at another commune, `route` transfers the case there
with the same machinery as a manual transfer: a transfer form row, the open steps moved, `case_transferred`
in the audit trail (marked `routed`), all in the transaction of the step that got there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

import forms
from engine import access, audit, children, clock, restriction
from engine.errors import Conflict, Forbidden, InvalidState, NotFound
from engine.models import Case, OrgUnit, Task
from engine.registry import Step
from forms.kit import messages

if TYPE_CHECKING:  # runtime imports this module lazily; the type alone is needed here
    from engine.runtime import Engine

TRANSFER_STEP = ("Chuyển hồ sơ đến xã, phường khác", "Transfer to another commune")
CLOSED_STATES = {"closed", "no_basis"}
# The steps of the plan stage (Decree 56 Art. 27–30): done by the residence commune (Law on Children Art. 52.2).
# The initial assessment, the emergency decision and the verification before them stay at the incident commune;
# a separation (Art. 32.2: the chairman of the residence *or* the incident commune) moves nothing by itself.
RESIDENCE_STEPS = frozenset({"detailed_assessment", "needs_meeting", "needs_meeting_signoff", "draft_plan",
                             "draft_decision", "approve_plan", "propose_adjustment", "approve_adjustment",
                             "carry_out_activity", "review", "end_plan"})
ROUTING_ACTOR = access.Actor("system", "system")
ROUTING_REASON = ("Chuyển đến UBND xã, phường nơi trẻ em cư trú để xây dựng, thực hiện kế hoạch hỗ trợ, can thiệp "
                  "(Điều 52 khoản 2 Luật Trẻ em 2016); đánh giá ban đầu đã do UBND xã, phường nơi xảy ra vụ việc "
                  "thực hiện (Điều 26 khoản 1 NĐ 56/2017/NĐ-CP).")


def report_communes(session: Session, opening: OrgUnit, mau_01: dict[str, Any],
                    locale: str = "vi") -> tuple[dict[str, Any], OrgUnit, OrgUnit]:
    """The report with its incident and residence communes filled in, and those two units.

    The case opens at the incident commune (Art. 26.1): an incident commune other than the one the case is
    opened for is refused; an empty one is the opening commune, an empty residence is the incident commune.
    A code that names no commune of the unit tree is refused on its field (FormError, nothing saved)."""
    errors: dict[str, list[str]] = {}
    incident_code = mau_01.get("incident_commune") or opening.code
    if incident_code != opening.code:
        errors["incident_commune"] = ["incident_commune_differs"]
    residence = opening
    residence_code = mau_01.get("residence_commune") or incident_code
    if residence_code != opening.code:
        found = session.scalar(select(OrgUnit).where(OrgUnit.code == residence_code, OrgUnit.kind == "commune"))
        if found is None:
            errors["residence_commune"] = ["unknown_commune"]
        else:
            residence = found
    if errors:
        lang = messages.normalize_locale(locale)
        raise forms.FormError({k: [messages.translate(c, lang) for c in v] for k, v in errors.items()},
                              codes=errors, form="mau_01", version=forms.get("mau_01").version, locale=lang)
    return {**mau_01, "incident_commune": opening.code, "residence_commune": residence.code}, opening, residence


def _move(engine: Engine, session: Session, case: Case, target: OrgUnit, actor: access.Actor,
          clean: dict[str, Any], now: datetime, routed: str | None = None) -> None:
    """Move `case` and its open steps to `target`, recording the transfer form and the audit entry."""
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
    # A step held by someone of the old commune goes back to the new commune's officers (engine.ownership):
    # its holder may no longer do it, and it would be stranded.
    held = session.execute(select(Task.id, Task.step, Task.assignee).where(
        Task.case_id == case.id, Task.state == "ready", Task.assignee.is_not(None),
        Task.role.in_(access.WORKERS if province_id != case.province_id else access.WORKERS - {"supervisor"}))).all()
    if held:
        session.execute(update(Task).where(Task.id.in_([row.id for row in held])).values(assignee=None)
                        .execution_options(synchronize_session="fetch"))
        for row in held:
            audit.append(session, actor.username, "task_released", case.id,
                         {"task": row.id, "step": row.step, "from": row.assignee, "reason": "transferred"}, now)
    case.commune_id, case.province_id, case.updated_at = target.id, province_id, now
    children.moved(session, case)  # the name search's copy of the scope
    details: dict[str, Any] = {"from": source.code if source else None, "to": target.code, "open_steps": moved}
    if routed:
        details["routed"] = routed
    audit.append(session, actor.username, "case_transferred", case.id, details, now)


def route(engine: Engine, session: Session, case: Case, open_rows: Iterable[Task], now: datetime) -> bool:
    """Transfer the case to its residence commune when a plan-stage step is open elsewhere (see the module
    docstring); True when it moved. Called by `Engine.advance` inside the step's transaction."""
    if case.status != "open" or case.residence_commune_id in (None, case.commune_id):
        return False
    if not any(row.step in RESIDENCE_STEPS for row in open_rows):
        return False
    target = session.get(OrgUnit, case.residence_commune_id)
    if target is None:  # a unit is never deleted while a case names it; if it were, the case stays put
        return False
    clean = forms.validate("transfer", {"to_commune": target.code, "reason": ROUTING_REASON})
    _move(engine, session, case, target, ROUTING_ACTOR, clean, now, routed="residence")
    return True


def _case_for(session: Session, actor: access.Actor, case_id: int) -> Case:
    """The case `actor` manages; a case they cannot read is reported as missing (nothing leaks)."""
    case = session.get(Case, case_id)
    if case is None or not access.can_read_case(actor, case):
        raise NotFound("Không tìm thấy hồ sơ.", "No such case.")
    if not access.can_manage_case(actor, case):
        raise Forbidden("Bạn không có quyền chuyển hoặc mở lại hồ sơ này.",
                        "You may not transfer or reopen this case.")
    restriction.ensure_unrestricted(session, case)
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
        _move(engine, session, case, target, actor, clean, clock.now())
        # A case follows the child (domain spec §2): the new commune is where the child lives now, so the
        # routing of the plan stage (`route`) does not send it back.
        case.residence_commune_id = target.id
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
    return engine.open_case(session, actor, old.commune.code, report_data, linked_case=old, reopen=clean,
                            locale=locale)
