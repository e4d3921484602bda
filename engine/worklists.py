"""Work lists answered from the task table alone (never a workflow): inboxes, overdue and due-soon lists.

Each list is one indexed query with keyset-friendly ordering (most urgent first) and a page size, so it
costs the same at a thousand cases or a million: see the indexes on `task`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, Select, and_, func, select
from sqlalchemy.orm import Session

from engine import access, clock
from engine.models import Case, OrgUnit, Task

PAGE_SIZE = 25


@dataclass
class Page:
    rows: list[tuple[Task, Case]]
    page: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def _paged(session: Session, query: Select, page: int, size: int, count: bool = True) -> Page:
    page = max(1, page)
    rows = [tuple(r) for r in session.execute(query.limit(size).offset((page - 1) * size)).all()]
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) if count else len(rows)
    return Page(rows, page, size, total or 0)


def inbox(session: Session, actor: access.Actor, *, step: str | None = None, commune_id: int | None = None,
          overdue_only: bool = False, page: int = 1, size: int = PAGE_SIZE) -> Page:
    """The actor's open tasks, most urgent first (no deadline last)."""
    query = (
        select(Task, Case).join(Case, Case.id == Task.case_id)
        .where(Task.state == "ready", access.task_filter(actor))
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
    )
    if step:
        query = query.where(Task.step == step)
    if commune_id:
        query = query.where(Task.commune_id == commune_id)
    if overdue_only:
        query = query.where(Task.due_at < clock.now())
    return _paged(session, query, page, size)


def overdue(session: Session, actor: access.Actor, *, due_within: timedelta = timedelta(0),
            commune_id: int | None = None, step: str | None = None, page: int = 1, size: int = PAGE_SIZE) -> Page:
    """Open steps past their limit (or due within `due_within`) in the actor's province, most late first."""
    if actor.role not in {"supervisor", "inspector", "officer", "chairman"}:
        return Page([], 1, size, 0)
    limit = clock.now() + due_within
    query = (
        select(Task, Case).join(Case, Case.id == Task.case_id)
        .where(Task.state == "ready", Task.due_at.is_not(None), Task.due_at < limit,
               Task.escalates_task_id.is_(None), access.case_filter(actor))
        .order_by(Task.due_at, Task.id)
    )
    if commune_id:
        query = query.where(Task.commune_id == commune_id)
    if step:
        query = query.where(Task.step == step)
    return _paged(session, query, page, size)


def overdue_counts(session: Session, actor: access.Actor, by: str = "commune",
                   due_within: timedelta = timedelta(0)) -> list[tuple[str, int, int]]:
    """(label, overdue, due soon) grouped by commune, officer role or step, for the supervisor dashboard."""
    now = clock.now()
    late = func.sum((Task.due_at < now).cast(Integer))
    soon = func.sum(and_(Task.due_at >= now, Task.due_at < now + due_within).cast(Integer))
    column = {"commune": OrgUnit.name, "step": Task.title, "role": Task.role, "assignee": Task.assignee}[by]
    query = (
        select(column, late, soon).select_from(Task).join(Case, Case.id == Task.case_id)
        .join(OrgUnit, OrgUnit.id == Task.commune_id)
        .where(Task.state == "ready", Task.due_at.is_not(None), Task.due_at < now + due_within,
               Task.escalates_task_id.is_(None), access.case_filter(actor))
        .group_by(column).order_by(late.desc())
    )
    return [(label or "—", int(a or 0), int(b or 0)) for label, a, b in session.execute(query).all()]


def attention_counts(session: Session, actor: access.Actor, now: datetime | None = None) -> tuple[int, int]:
    """(overdue, due within 24 h) among the actor's own open tasks: the header badge."""
    now = now or clock.now()
    row = session.execute(
        select(func.sum((Task.due_at < now).cast(Integer)),
               func.sum(and_(Task.due_at >= now, Task.due_at < now + timedelta(hours=24)).cast(Integer)))
        .where(Task.state == "ready", access.task_filter(actor))
    ).one()
    return int(row[0] or 0), int(row[1] or 0)
