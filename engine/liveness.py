"""Liveness: no case is ever stranded.

An open case is **live** when
1. every open step can be done by someone: an active account that `access.can_act` lets complete it (the
   named assignee for an assigned step; otherwise an account of the step's role whose unit covers it), and
2. something will move it: an open step, or a pending deadline timer (it opens an escalation for the
   province when it fires). In the workflow itself (checked by `case56 check`), a case that is not finished
   has a ready step or a waiting timer event.

A closed case is live when each step still open belongs to a track that goes on by law (the police track,
Art. 25.3) and can be done by someone. Anything else is **stranded**: nobody is asked to act and no deadline
will fire. `stranded_query` finds such cases in SQL for lists and counts (dashboard, API, health); `problems`
explains one case in words (check, walker tests); both read only the case, task, timer and user tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import SQLColumnExpression

from engine import access
from engine.models import Case, OrgUnit, Task, Timer, User

ACTING_ROLES = {"officer", "chairman", "supervisor", "partner"}  # the roles `access.can_act` lets act


@dataclass(frozen=True)
class Problem:
    """Why a case is not live: a code, and the sentence in Vietnamese and English."""

    code: str  # unworkable_step | nothing_waits | open_after_close
    vi: str
    en: str
    task_id: int | None = None


def _actors_for(session: Session, task: Task) -> list[access.Actor]:
    """Active accounts that might do `task` (filtered exactly by `access.can_act` afterwards)."""
    query = select(User).where(User.active.is_(True))
    query = query.where(User.username == task.assignee) if task.assignee else query.where(User.role == task.role)
    return [access.Actor.of(u.username, u.role, u.org_unit, u.id) for u in session.scalars(query)]


def workable(session: Session, task: Task) -> bool:
    """Can some active account complete this open step?"""
    return any(access.can_act(actor, task) for actor in _actors_for(session, task))


def _why_unworkable(session: Session, task: Task) -> tuple[str, str]:
    if task.assignee:
        user = session.scalar(select(User).where(User.username == task.assignee))
        if user is None:
            return (f"người được giao “{task.assignee}” không phải là tài khoản nào",
                    f"the assignee “{task.assignee}” is no account")
        if not user.active:
            return (f"tài khoản được giao “{task.assignee}” đã bị khoá",
                    f"the assigned account “{task.assignee}” is deactivated")
        return (f"tài khoản “{task.assignee}” không được làm bước này",
                f"the account “{task.assignee}” may not do this step")
    label_vi, label_en = access.ROLE_LABELS.get(task.role, (task.role, task.role))
    return (f"không có tài khoản “{label_vi}” nào đang hoạt động phụ trách xã/phường này",
            f"no active “{label_en}” account covers this commune")


def problems(session: Session, case: Case) -> list[Problem]:
    """Why `case` is not live (empty: live), read from the task, timer and user tables."""
    tasks = list(session.scalars(select(Task).where(Task.case_id == case.id, Task.state == "ready").order_by(Task.id)))
    found: list[Problem] = []
    for task in tasks:
        if not workable(session, task):
            vi, en = _why_unworkable(session, task)
            found.append(Problem("unworkable_step", f"bước “{task.title}” (#{task.id}) không ai làm được: {vi}",
                                 f"step “{task.title}” (#{task.id}) can be done by nobody: {en}", task.id))
    if case.status != "open":
        for task in tasks:
            if task.track is None:
                found.append(Problem("open_after_close", f"hồ sơ đã đóng nhưng bước “{task.title}” (#{task.id}) vẫn mở",
                                     f"the case is closed but step “{task.title}” (#{task.id}) is still open", task.id))
        return found
    if not tasks and not session.scalar(select(exists().where(_pending_timer(case.id)))):
        found.append(Problem("nothing_waits",
                             "hồ sơ đang mở nhưng không có bước nào đang mở và không có thời hạn nào đang chờ",
                             "the case is open but no step is open and no deadline is pending"))
    return found


def _pending_timer(case_id: int | SQLColumnExpression[int]) -> ColumnElement[bool]:
    """A deadline timer of the case that will still fire (a value or a correlated `Case.id`)."""
    return and_(Timer.case_id == case_id, Timer.kind == "deadline", Timer.fired_at.is_(None),
                Timer.cancelled_at.is_(None), Timer.incident.is_(False))


def _workable_task_condition() -> ColumnElement[bool]:
    """SQL: the open `Task` row can be done by some active account — `access.can_act` as a query."""
    unit = aliased(OrgUnit)
    in_scope = or_(User.org_unit_id.is_(None), User.org_unit_id == Task.commune_id,
                   and_(unit.id == User.org_unit_id, unit.kind == "province", unit.id == Task.province_id))
    assigned = and_(Task.assignee.is_not(None), User.username == Task.assignee,
                    or_(User.role == "partner", and_(User.role == Task.role, in_scope)))
    by_role = and_(Task.assignee.is_(None), User.role == Task.role, User.role.in_(ACTING_ROLES - {"partner"}),
                   in_scope)
    return exists(select(User.id).outerjoin(unit, unit.id == User.org_unit_id)
                  .where(User.active.is_(True), or_(assigned, by_role)))


def stranded_condition() -> ColumnElement[bool]:
    """SQL condition on `Case`: the case is stranded (see the module docstring)."""
    open_task = and_(Task.case_id == Case.id, Task.state == "ready")
    unworkable = exists(select(Task.id).where(open_task, not_(_workable_task_condition())))
    after_close = exists(select(Task.id).where(open_task, Task.track.is_(None)))
    nothing_waits = and_(~exists(select(Task.id).where(open_task)),
                         ~exists(select(Timer.id).where(_pending_timer(Case.id))))
    return or_(unworkable, and_(Case.status == "open", nothing_waits), and_(Case.status != "open", after_close))


def stranded_query(actor: access.Actor | None = None) -> Select[tuple[Case]]:
    """The stranded cases (in `actor`'s scope when given), oldest receipt first."""
    query = select(Case).where(stranded_condition())
    if actor is not None:
        query = query.where(access.case_filter(actor))
    return query.order_by(Case.received_at, Case.id)


def count_stranded(session: Session, actor: access.Actor | None = None) -> int:
    query = select(func.count()).select_from(Case).where(stranded_condition())
    if actor is not None:
        query = query.where(access.case_filter(actor))
    return session.scalar(query) or 0
