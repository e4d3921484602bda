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

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, CompoundSelect, Select, and_, exists, func, or_, select, true, union_all
from sqlalchemy.orm import Session, aliased, joinedload
from sqlalchemy.sql.elements import SQLColumnExpression

from engine import access
from engine.models import Case, OrgUnit, Task, Timer, User
from engine.worklists import _task_scope  # worklists' rule for the open steps of a scope

ACTING_ROLES = {"officer", "chairman", "supervisor", "partner"}  # the roles `access.can_act` lets act


@dataclass(frozen=True)
class Problem:
    """Why a case is not live: a code, and the sentence in Vietnamese and English."""

    code: str  # unworkable_step | nothing_waits | open_after_close
    vi: str
    en: str
    task_id: int | None = None


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
    return problems_of(session, [case])[case.id]


def problems_of(session: Session, cases: Sequence[Case]) -> dict[int, list[Problem]]:
    """`problems` of several cases (case id → its problems) in three queries whatever their number: their open
    steps, the active accounts that might do them, their pending deadlines (the dashboard lists twenty)."""
    by_case: dict[int, list[Task]] = {case.id: [] for case in cases}
    if by_case:
        for task in session.scalars(select(Task).where(Task.case_id.in_(by_case), Task.state == "ready")
                                    .order_by(Task.id)):
            by_case[task.case_id].append(task)
    tasks = [task for found in by_case.values() for task in found]
    names = {t.assignee for t in tasks if t.assignee}
    roles = {t.role for t in tasks if not t.assignee}
    candidates: dict[str, list[access.Actor]] = {}  # by username (named steps) and by role (the others)
    if tasks:
        query = (select(User).options(joinedload(User.org_unit))
                 .where(User.active.is_(True), or_(User.username.in_(names), User.role.in_(roles))))
        for user in session.scalars(query):
            actor = access.Actor.of(user.username, user.role, user.org_unit, user.id)
            if user.username in names:
                candidates.setdefault(user.username, []).append(actor)
            if user.role in roles:
                candidates.setdefault("role:" + user.role, []).append(actor)
    idle = [case.id for case in cases if case.status == "open" and not by_case[case.id]]
    waiting = set(session.scalars(select(Timer.case_id).where(_pending_timer(Timer.case_id), Timer.case_id.in_(idle)))
                  ) if idle else set()
    result: dict[int, list[Problem]] = {}
    for case in cases:
        open_steps, found = by_case[case.id], []
        for task in open_steps:
            who = candidates.get(task.assignee if task.assignee else "role:" + task.role, [])
            if not any(access.can_act(actor, task) for actor in who):
                vi, en = _why_unworkable(session, task)
                found.append(Problem("unworkable_step", f"bước “{task.title}” (#{task.id}) không ai làm được: {vi}",
                                     f"step “{task.title}” (#{task.id}) can be done by nobody: {en}", task.id))
        if case.status != "open":
            found += [Problem("open_after_close", f"hồ sơ đã đóng nhưng bước “{task.title}” (#{task.id}) vẫn mở",
                              f"the case is closed but step “{task.title}” (#{task.id}) is still open", task.id)
                      for task in open_steps if task.track is None]
        elif not open_steps and case.id not in waiting:
            found.append(Problem("nothing_waits",
                                 "hồ sơ đang mở nhưng không có bước nào đang mở và không có thời hạn nào đang chờ",
                                 "the case is open but no step is open and no deadline is pending"))
        result[case.id] = found
    return result


def _pending_timer(case_id: int | SQLColumnExpression[int]) -> ColumnElement[bool]:
    """A deadline timer of the case that will still fire (a value or a correlated `Case.id`)."""
    return and_(Timer.case_id == case_id, Timer.kind == "deadline", Timer.fired_at.is_(None),
                Timer.cancelled_at.is_(None), Timer.incident.is_(False))


def _unworkable_open_tasks(scope: ColumnElement[bool]) -> CompoundSelect[tuple[int]]:
    """SQL: the case ids of open steps no active account can do — `access.can_act` as a query (`workable`
    per step), in three parts joined by UNION ALL whose tests are equalities under NOT EXISTS: PostgreSQL
    answers each with one anti-join over the open steps instead of testing every account against every open
    step under one OR (`_workable_task_condition`; about 2 s for a province's dashboard at 100,000 cases on
    PostgreSQL, issue 20)."""
    unit = aliased(OrgUnit)
    open_step = and_(Task.state == "ready", scope)
    in_scope = or_(User.org_unit_id.is_(None), User.org_unit_id == Task.commune_id,
                   and_(unit.kind == "province", unit.id == Task.province_id))
    # A named holder: their own active account, a partner or of the step's role within its unit.
    holder = exists(select(User.id).outerjoin(unit, unit.id == User.org_unit_id)
                    .where(User.active.is_(True), User.username == Task.assignee,
                           or_(User.role == "partner", and_(User.role == Task.role, in_scope))))
    assigned = select(Task.case_id).where(open_step, Task.assignee.is_not(None), ~holder)
    # Nobody named: someone of the step's role (a partner's step needs a name) without a unit, of the step's
    # commune or of its province.
    roles = ACTING_ROLES - {"partner"}
    of_role = (User.active.is_(True), User.role == Task.role)
    province = aliased(OrgUnit)
    unassigned = (select(Task.case_id).where(open_step, Task.assignee.is_(None), Task.role.in_(roles),
                                             ~exists(select(User.id).where(*of_role, User.org_unit_id.is_(None))),
                                             ~exists(select(User.id).where(*of_role,
                                                                           User.org_unit_id == Task.commune_id)),
                                             ~exists(select(User.id).join(province, province.id == User.org_unit_id)
                                                     .where(*of_role, province.kind == "province",
                                                            province.id == Task.province_id))))
    no_role = select(Task.case_id).where(open_step, Task.assignee.is_(None), Task.role.not_in(roles))
    return union_all(assigned, unassigned, no_role)


def _workable_task_condition() -> ColumnElement[bool]:
    """SQL: the open `Task` row can be done by some active account — `access.can_act` as one correlated test,
    what SQLite answers fastest (per case, from ix_task_case; it has no hash join for the other form)."""
    unit = aliased(OrgUnit)
    in_scope = or_(User.org_unit_id.is_(None), User.org_unit_id == Task.commune_id,
                   and_(unit.id == User.org_unit_id, unit.kind == "province", unit.id == Task.province_id))
    assigned = and_(Task.assignee.is_not(None), User.username == Task.assignee,
                    or_(User.role == "partner", and_(User.role == Task.role, in_scope)))
    by_role = and_(Task.assignee.is_(None), User.role == Task.role, User.role.in_(ACTING_ROLES - {"partner"}),
                   in_scope)
    return exists(select(User.id).outerjoin(unit, unit.id == User.org_unit_id)
                  .where(User.active.is_(True), or_(assigned, by_role)))


def stranded_condition(hashed: bool = False, actor: access.Actor | None = None) -> ColumnElement[bool]:
    """SQL condition on `Case`: the case is stranded (see the module docstring). `hashed`: the unworkable steps
    as one uncorrelated list (`_unworkable_open_tasks`), for PostgreSQL; otherwise tested per case, for SQLite
    (at 100,000 cases a province takes 60 ms vs 1.9 s on PostgreSQL, 2.2 s vs 0.18 s on SQLite). With `actor`,
    the hashed form reads only the open steps of the actor's commune or province (engine.worklists: an open
    step always carries its case's; a transfer moves them) instead of every open step of the country."""
    scope = _task_scope(actor) if hashed and actor is not None else true()
    open_task = and_(Task.case_id == Case.id, Task.state == "ready", scope)
    unworkable = (Case.id.in_(_unworkable_open_tasks(scope)) if hashed
                  else exists(select(Task.id).where(open_task, ~_workable_task_condition())))
    after_close = exists(select(Task.id).where(open_task, Task.track.is_(None)))
    nothing_waits = and_(~exists(select(Task.id).where(open_task)),
                         ~exists(select(Timer.id).where(_pending_timer(Case.id))))
    return or_(unworkable, and_(Case.status == "open", nothing_waits), and_(Case.status != "open", after_close))


def hashed_for(session: Session) -> bool:
    """Which form of `stranded_condition` suits the session's database."""
    return session.get_bind().dialect.name == "postgresql"


def stranded_query(actor: access.Actor | None = None, hashed: bool = False) -> Select[tuple[Case]]:
    """The stranded cases (in `actor`'s scope when given), oldest receipt first."""
    query = select(Case).where(stranded_condition(hashed, actor))
    if actor is not None:
        query = query.where(access.case_filter(actor))
    return query.order_by(Case.received_at, Case.id)


def count_stranded(session: Session, actor: access.Actor | None = None) -> int:
    query = select(func.count()).select_from(Case).where(stranded_condition(hashed_for(session), actor))
    if actor is not None:
        query = query.where(access.case_filter(actor))
    return session.scalar(query) or 0
