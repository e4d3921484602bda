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
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    and_,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    union,
)
from sqlalchemy.orm import Session, defer, joinedload
from sqlalchemy.sql.elements import SQLColumnExpression

from engine import access
from engine.models import Case, OrgUnit, Task, Timer, User
from engine.worklists import READY, from_open_steps, unit_scope  # worklists' open steps

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
        # Without the steps' form contents (JSON, up to tens of kB each): a reason needs none of it.
        for task in session.scalars(select(Task).options(defer(Task.form_data), defer(Task.draft_data))
                                    .where(Task.case_id.in_(by_case), Task.state == "ready").order_by(Task.id)):
            by_case[task.case_id].append(task)
    tasks = [task for found in by_case.values() for task in found]
    names = {t.assignee for t in tasks if t.assignee}
    roles = {t.role for t in tasks if not t.assignee}
    # An account of the role can do an unnamed step only from no unit, the step's commune or its province
    # (access.can_act): only those are read, not every account of the role in the country (hundreds).
    units = {unit for t in tasks if not t.assignee for unit in (t.commune_id, t.province_id)}
    candidates: dict[str, list[access.Actor]] = {}  # by username (named steps) and by role (the others)
    if tasks:
        of_role = and_(User.role.in_(roles), or_(User.org_unit_id.is_(None), User.org_unit_id.in_(units)))
        query = (select(User).options(joinedload(User.org_unit))
                 .where(User.active.is_(True), or_(User.username.in_(names), of_role)))
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


# A literal, not a parameter: SQLite uses a partial index (ix_case_open_*) only for a literal (worklists.READY).
OPEN: ColumnElement[str] = literal_column("'open'")


# Joins the parts of a membership key. A key ends with parts that cannot hold it (role, unit id), so it reads
# back one way only, whatever a user name holds.
SEP = "\x1f"


def _key(*parts: Any) -> ColumnElement[str]:
    """One text key of several columns (user name, role, unit id)."""
    texts = [part if isinstance(part.type, String) else cast(part, String) for part in parts]
    key = texts[0]
    for part in texts[1:]:
        key = key + SEP + part
    return key


def _not_in(rows: bool, left: Sequence[Any], right: Sequence[Any],
            *where: ColumnElement[bool]) -> ColumnElement[bool]:
    """SQL: the step's columns `left` match no row of the account columns `right` under `where`. `rows`: as row
    values, which PostgreSQL hashes; otherwise as one text key each: SQLite searches a row value in a list
    slowly when its first part repeats (a role: 26 vs 5.5 ms CPU over a province's 14,500 open steps at
    100,000 cases), and a text key at once."""
    if rows:
        return tuple_(*left).not_in(select(*right).where(*where))
    return _key(*left).not_in(select(_key(*right)).where(*where))


def rows_for(session: Session) -> bool:
    """Whether `_not_in` should compare row values on the session's database (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"


def _unworkable_step(rows: bool) -> ColumnElement[bool]:
    """SQL: the open `Task` row can be done by no active account — `access.can_act` as membership tests in
    uncorrelated lists of the accounts (a few hundred, built once per query: PostgreSQL hashes them, SQLite
    indexes them), so each open step costs a few lookups instead of a correlated search of the accounts
    (which SQLite cannot hash-join: 2.2 s for a province at 100,000 cases, issue 20). No list holds a NULL
    (NOT IN would then be unknown). `rows`: see `_not_in`."""
    active = User.active.is_(True)
    with_unit = (active, User.org_unit_id.is_not(None))
    in_province = (*with_unit, User.org_unit_id.in_(select(OrgUnit.id).where(OrgUnit.kind == "province")))
    # A named holder: their own active account, a partner, or of the step's role without a unit, in the
    # step's commune or in its province.
    named = and_(Task.assignee.is_not(None),
                 Task.assignee.not_in(select(User.username).where(active, User.role == "partner")),
                 _not_in(rows, (Task.assignee, Task.role), (User.username, User.role),
                         active, User.org_unit_id.is_(None)),
                 _not_in(rows, (Task.assignee, Task.role, Task.commune_id),
                         (User.username, User.role, User.org_unit_id), *with_unit),
                 _not_in(rows, (Task.assignee, Task.role, Task.province_id),
                         (User.username, User.role, User.org_unit_id), *in_province))
    # Nobody named: someone of the step's role (a partner's step needs a name) without a unit, of the step's
    # commune or of its province.
    roles = sorted(ACTING_ROLES - {"partner"})
    unnamed = and_(Task.assignee.is_(None), or_(
        Task.role.not_in(roles),
        and_(Task.role.not_in(select(User.role).where(active, User.org_unit_id.is_(None))),
             _not_in(rows, (Task.role, Task.commune_id), (User.role, User.org_unit_id), *with_unit),
             _not_in(rows, (Task.role, Task.province_id), (User.role, User.org_unit_id), *in_province))))
    return or_(named, unnamed)


def stranded_ids(actor: access.Actor | None = None, rows: bool = False) -> CompoundSelect[tuple[int]]:
    """SQL: the ids of the stranded cases of `actor`'s commune or province (every case without an actor),
    in two passes, one over the unit's open steps (engine.worklists: an open step carries its case's commune
    and province, a transfer moves them; partial index ix_task_open), one over its open cases (ix_case_open):
    - an open step nobody can do (`_unworkable_step`), or one off the legal tracks on a case that is not open
      (its case is missing from the unit's open cases);
    - an open case none of the unit's open steps belongs to, with no pending deadline.
    `access.case_filter` is still the caller's to apply on the cases; `rows`: see `_not_in` (`rows_for`)."""
    scope = unit_scope(actor)
    open_cases = select(Case.id).where(Case.status == OPEN, unit_scope(actor, Case))
    open_steps = and_(Task.state == READY, scope)
    steps = from_open_steps(select(Task.case_id), actor is not None and actor.commune_id is not None)
    by_step = steps.where(open_steps, or_(_unworkable_step(rows),
                                          and_(Task.track.is_(None), Task.case_id.not_in(open_cases))))
    idle = open_cases.where(Case.id.not_in(steps.where(open_steps)),
                            ~exists(select(Timer.id).where(_pending_timer(Case.id))))
    return union(by_step, idle)


def stranded_condition(actor: access.Actor | None = None, rows: bool = False) -> ColumnElement[bool]:
    """SQL condition on `Case`: the case is stranded (see the module docstring; with `actor`, among the cases
    of their unit)."""
    return Case.id.in_(stranded_ids(actor, rows))


def stranded_query(actor: access.Actor | None = None, rows: bool = False) -> Select[tuple[Case]]:
    """The stranded cases (in `actor`'s scope when given), oldest receipt first."""
    query = select(Case).where(stranded_condition(actor, rows))
    if actor is not None:
        query = query.where(access.case_filter(actor))
    return query.order_by(Case.received_at, Case.id)


def stranded_page(session: Session, actor: access.Actor | None, page: int = 1,
                  size: int = 20) -> tuple[list[Case], int]:
    """One page of `stranded_query` and the total, computing the stranded set once: the page's ids with the
    set's size beside each (a window count over ids, not over whole case rows), then the page's cases by id.
    Past the last page, the total is counted on its own."""
    query = select(Case.id, func.count().over()).where(stranded_condition(actor, rows_for(session)))
    if actor is not None:
        query = query.where(access.case_filter(actor))
    rows = session.execute(query.order_by(Case.received_at, Case.id).offset((page - 1) * size).limit(size)).all()
    if not rows:
        return [], count_stranded(session, actor) if page > 1 else 0
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_([row[0] for row in rows])))}
    return [cases[row[0]] for row in rows], rows[0][1]


def count_stranded(session: Session, actor: access.Actor | None = None) -> int:
    query = select(func.count()).select_from(Case).where(stranded_condition(actor, rows_for(session)))
    if actor is not None:
        query = query.where(access.case_filter(actor))
    return session.scalar(query) or 0
