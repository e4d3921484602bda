"""Who may see or do what, and where. The one permission module for the web UI and the API alike.

Responsibility follows the commune: officers and chairmen act in their commune, supervisors and
inspectors read across their province (or the whole country when attached to no unit), partners see only
the activities assigned to them, intake points open reports and see the ones they recorded. A supervisor
never edits a case's legal forms; an inspector never changes anything; an administrator manages users,
units, processes and the calendar but does not read case files.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, true

from engine.models import Case, OrgUnit, Task

ROLE_LABELS = {
    "intake": ("Nơi tiếp nhận thông tin", "Intake point"),
    "officer": ("Người làm công tác bảo vệ trẻ em cấp xã", "Commune child-protection officer"),
    "chairman": ("Chủ tịch UBND cấp xã", "Commune chairman"),
    "partner": ("Cơ sở cung cấp dịch vụ / đơn vị phối hợp", "Service provider / partner"),
    "supervisor": ("Cấp tỉnh (giám sát)", "Province supervisor"),
    "inspector": ("Thanh tra", "Inspector"),
    "admin": ("Quản trị", "Administrator"),
}
CASE_READERS = {"intake", "officer", "chairman", "supervisor", "inspector"}


@dataclass(frozen=True)
class Actor:
    """The person acting: enough to decide access without touching the session user object."""

    username: str
    role: str
    commune_id: int | None = None
    province_id: int | None = None
    user_id: int | None = None

    @classmethod
    def of(cls, username: str, role: str, unit: OrgUnit | None, user_id: int | None = None) -> Actor:
        if unit is None:
            return cls(username, role, None, None, user_id)
        if unit.kind == "province":
            return cls(username, role, None, unit.id, user_id)
        return cls(username, role, unit.id, unit.parent_id, user_id)


def _unit_scope(actor: Actor, commune_col: ColumnElement, province_col: ColumnElement) -> ColumnElement[bool]:
    if actor.commune_id is not None:
        return commune_col == actor.commune_id
    if actor.province_id is not None:
        return province_col == actor.province_id
    return true()


def case_filter(actor: Actor) -> ColumnElement[bool]:
    """SQL condition selecting the cases whose file `actor` may read."""
    if actor.role in {"officer", "chairman", "supervisor", "inspector"}:
        return _unit_scope(actor, Case.commune_id, Case.province_id)
    if actor.role == "intake":
        return Case.created_by == actor.username
    return false()


def can_read_case(actor: Actor, case: Case) -> bool:
    if actor.role in {"officer", "chairman", "supervisor", "inspector"}:
        if actor.commune_id is not None:
            return case.commune_id == actor.commune_id
        return actor.province_id is None or case.province_id == actor.province_id
    return actor.role == "intake" and case.created_by == actor.username


def task_filter(actor: Actor) -> ColumnElement[bool]:
    """SQL condition selecting the tasks `actor` is to do (their inbox)."""
    if actor.role == "partner":
        return Task.assignee == actor.username
    if actor.role in {"officer", "chairman", "supervisor"}:
        return and_(Task.role == actor.role, _unit_scope(actor, Task.commune_id, Task.province_id))
    return false()


def can_act(actor: Actor, task: Task) -> bool:
    """May `actor` fill in and complete this task?"""
    if actor.role == "partner":
        return task.assignee == actor.username
    if task.role != actor.role or actor.role not in {"officer", "chairman", "supervisor"}:
        return False
    if task.assignee and task.assignee != actor.username:
        return False
    if actor.commune_id is not None:
        return task.commune_id == actor.commune_id
    return actor.province_id is None or task.province_id == actor.province_id


def can_view_task(actor: Actor, task: Task, case: Case) -> bool:
    return can_act(actor, task) or can_read_case(actor, case)


def can_open_case(actor: Actor, commune: OrgUnit) -> bool:
    """Intake points and commune officers record reports (Mẫu 01) for communes in their scope."""
    if actor.role not in {"intake", "officer"} or commune.kind != "commune":
        return False
    if actor.commune_id is not None:
        return commune.id == actor.commune_id
    return actor.province_id is None or commune.parent_id == actor.province_id


def can_see_informant(actor: Actor) -> bool:
    """The informant's identity is shown only to those handling or inspecting the report (Art. 25)."""
    return actor.role in {"intake", "officer", "chairman", "inspector"}


def can_manage_case(actor: Actor, case: Case) -> bool:
    """Transfer and reopen: the commune's officer or chairman."""
    return actor.role in {"officer", "chairman"} and can_read_case(actor, case)


REASSIGNERS = {"officer", "chairman"}


def can_reassign(actor: Actor, task: Task, case: Case) -> bool:
    """Give an open, assigned step (a plan activity) to another account: the officer or chairman of the case's
    commune, who drafted and approved the plan (Art. 28-29) — also when the assignee's account was deactivated."""
    return (actor.role in REASSIGNERS and actor.commune_id is not None and actor.commune_id == case.commune_id
            and task.case_id == case.id and task.state == "ready" and bool(task.assignee))


def can_list_stranded(actor: Actor) -> bool:
    """Stranded cases (engine.liveness) are listed for those who can move them: the commune's officer and
    chairman (reassign a step) and the province supervisor (follow up), each in their scope."""
    return actor.role in {"officer", "chairman", "supervisor"}
