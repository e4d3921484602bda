"""Work lists answered from the task table alone (never a workflow): inboxes, overdue and due-soon lists.

Each list is read in index order and cut at the page, so a page costs the same at a thousand cases or a
hundred thousand (bench/queries.py measures it):
- the most-urgent-first order "dated by due_at, then undated" is read as two index-ordered parts (dated
  tasks by (due_at, id), then undated ones by id) from the (…, due_at, id) indexes, instead of sorting every
  matching row;
- lists scoped to a commune or province also filter on the task row's own commune/province, which a task
  that is open always shares with its case (set when it opens, moved with the case on transfer), so the
  (commune_id | province_id, state, due_at) indexes answer; the case filter stays in the row query;
- the total is counted only when the page is full (a shorter page is the last one and tells the total
  itself), on the task table alone, and only up to COUNT_LIMIT rows past the page: beyond that the page says
  "more than 1,000" (as mail clients and search engines do) and offers the next page, so the count stays
  as cheap with a million open tasks as with a thousand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, func, literal_column, select, true
from sqlalchemy.orm import Session, defer

from engine import access, clock
from engine.models import Case, OrgUnit, Task

PAGE_SIZE = 25
COUNT_LIMIT = 1000  # totals are exact up to here (or up to the current page, if further)
TASK_SCOPED = {"officer", "chairman", "supervisor", "inspector"}  # roles whose case filter is their unit


@dataclass
class Page:
    rows: list[Any]
    page: int
    size: int
    total: int
    exact: bool = True  # False: there are more than `total` rows (counting stopped there)

    @property
    def pages(self) -> int:
        """Pages known to exist; with an inexact total, `has_next` tells whether more follow."""
        return max(1, -(-self.total // self.size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages or not self.exact


# The open state as a literal, not a parameter: SQLite uses the partial index ix_task_open (WHERE state = 'ready',
# migration 0025) only for a literal, and so does a generic plan of a statement PostgreSQL has prepared.
READY: ColumnElement[str] = literal_column("'ready'")


def from_open_steps(query: Select[Any], commune_scoped: bool) -> Select[Any]:
    """`query` over a province's (or the country's) open steps reads the covering ix_task_open on SQLite, whose
    planner otherwise takes ix_task_province_due and reads every step's row for what that index lacks (role,
    holder, title: about 4x the CPU at 100,000 cases, issue 20); a commune's few hundred keep
    ix_task_commune_due. Other databases ignore the hint (engine.models renders it for SQLite)."""
    return query if commune_scoped else query.with_hint(Task, "INDEXED BY ix_task_open", "sqlite")


def unit_scope(actor: access.Actor | None, rows: type[Task] | type[Case] = Task) -> ColumnElement[bool]:
    """The actor's commune or province on the task (or case) rows: for officers, chairmen, supervisors and
    inspectors the same open tasks as `access.case_filter`, and answerable from the task (case) indexes;
    everything for other roles and for no actor."""
    if actor is None or actor.role not in TASK_SCOPED:
        return true()
    if actor.commune_id is not None:
        return rows.commune_id == actor.commune_id
    if actor.province_id is not None:
        return rows.province_id == actor.province_id
    return true()


def count_up_to(session: Session, query: Select, limit: int) -> tuple[int, bool]:
    """(how many rows `query` returns, exact?), reading at most `limit` + 1 of them: the count of a long list
    costs the same however long it is."""
    total = session.scalar(select(func.count()).select_from(query.limit(limit + 1).subquery())) or 0
    return min(total, limit), total <= limit


def paged(session: Session, query: Select, count_query: Select, page: int, size: int) -> Page:
    """One page of `query` (ordered, ideally along an index) with its total: told by a last page itself,
    otherwise counted by `count_query` up to COUNT_LIMIT rows past the page."""
    page = max(1, page)
    offset = (page - 1) * size
    rows = list(session.execute(query.limit(size).offset(offset)).all())
    return _with_total(session, rows, count_query, page, size)


def _with_total(session: Session, rows: list[Any], count_query: Select, page: int, size: int) -> Page:
    offset = (page - 1) * size
    if len(rows) < size and (rows or page == 1):
        return Page(rows, page, size, offset + len(rows))  # the last page tells the total itself
    total, exact = count_up_to(session, count_query, max(COUNT_LIMIT, offset + size))
    return Page(rows, page, size, total, exact)


def _rows(session: Session, query: Select) -> list[tuple[Task, Case]]:
    return [tuple(r) for r in session.execute(query).all()]


def _page(session: Session, where: list[ColumnElement[bool]], count_where: list[ColumnElement[bool]],
          page: int, size: int, undated: bool = True) -> Page:
    """Tasks matching `where` (with their case), dated ones by (due_at, id) then, when `undated` ones can
    match, those by id; `count_where` selects the same tasks from the task table alone."""
    page = max(1, page)
    offset = (page - 1) * size
    # A list never shows form contents: a saved draft (up to tens of kB of JSON) stays in the table.
    base = (select(Task, Case).join(Case, Case.id == Task.case_id).where(*where)
            .options(defer(Task.form_data), defer(Task.draft_data)))
    rows = _rows(session, base.where(Task.due_at.is_not(None)).order_by(Task.due_at, Task.id)
                 .limit(size).offset(offset))
    if len(rows) < size and undated:
        undated_offset = 0
        if not rows and offset:  # the dated tasks ended on an earlier page
            dated = session.scalar(select(func.count()).select_from(Task)
                                   .where(*count_where, Task.due_at.is_not(None))) or 0
            undated_offset = max(0, offset - dated)
        # Ordered "by due_at, id" although due_at is null here: the same order as by id, and one PostgreSQL
        # reads straight from the (…, due_at, id) index (it does not treat `IS NULL` as a constant to sort by).
        rows += _rows(session, base.where(Task.due_at.is_(None)).order_by(Task.due_at, Task.id)
                      .limit(size - len(rows)).offset(undated_offset))
    return _with_total(session, rows, select(Task.id).where(*count_where), page, size)


def inbox(session: Session, actor: access.Actor, *, step: str | None = None, commune_id: int | None = None,
          overdue_only: bool = False, mine: bool = False, page: int = 1, size: int = PAGE_SIZE) -> Page:
    """The actor's open tasks, most urgent first (no deadline last); `mine`: only the steps they hold
    (engine.ownership), otherwise also their commune's (or province's) steps of their role."""
    where = [Task.state == "ready", access.task_filter(actor)]  # task columns only: counted without the case
    if mine:
        where.append(Task.assignee == actor.username)
    if step:
        where.append(Task.step == step)
    if commune_id:
        where.append(Task.commune_id == commune_id)
    if overdue_only:
        where.append(Task.due_at < clock.now())
    return _page(session, where, where, page, size, undated=not overdue_only)


def overdue(session: Session, actor: access.Actor, *, due_within: timedelta = timedelta(0),
            commune_id: int | None = None, step: str | None = None, page: int = 1, size: int = PAGE_SIZE) -> Page:
    """Open steps past their limit (or due within `due_within`) in the actor's province, most late first."""
    if actor.role not in {"supervisor", "inspector", "officer", "chairman"}:
        return Page([], 1, size, 0)
    limit = clock.now() + due_within
    tasks = [Task.state == "ready", Task.due_at.is_not(None), Task.due_at < limit, Task.escalates_task_id.is_(None),
             unit_scope(actor)]
    if commune_id:
        tasks.append(Task.commune_id == commune_id)
    if step:
        tasks.append(Task.step == step)
    return _page(session, [*tasks, access.case_filter(actor)], tasks, page, size, undated=False)


def overdue_counts(session: Session, actor: access.Actor,
                   due_within: timedelta = timedelta(0)) -> dict[str, list[tuple[str, int, int]]]:
    """(label, overdue, due soon) grouped by commune, step title, officer role and assignee, for the
    supervisor dashboard, each most overdue first: one pass over the late and due-soon tasks, grouped by
    all four at once in SQL (a few hundred groups) and summed per grouping here."""
    now = clock.now()
    late = func.sum((Task.due_at < now).cast(Integer))
    soon = func.sum(and_(Task.due_at >= now, Task.due_at < now + due_within).cast(Integer))
    keys = (OrgUnit.name, Task.title, Task.role, Task.assignee)
    query = (
        select(*keys, late, soon).select_from(Task).join(OrgUnit, OrgUnit.id == Task.commune_id)
        .where(Task.state == READY, Task.due_at.is_not(None), Task.due_at < now + due_within,
               Task.escalates_task_id.is_(None))
        .group_by(*keys)
    )
    if actor.role in TASK_SCOPED:
        # the open tasks of the actor's cases, without reading the cases
        query = from_open_steps(query.where(unit_scope(actor)), actor.commune_id is not None)
    else:
        query = query.join(Case, Case.id == Task.case_id).where(access.case_filter(actor))
    groupings = ("commune", "step", "role", "assignee")
    sums: dict[str, dict[str, list[int]]] = {name: {} for name in groupings}
    for *labels, n_late, n_soon in session.execute(query):
        for name, label in zip(groupings, labels, strict=True):
            counts = sums[name].setdefault(label or "—", [0, 0])
            counts[0] += int(n_late or 0)
            counts[1] += int(n_soon or 0)
    return {name: sorted(((label, a, b) for label, (a, b) in by.items()), key=lambda row: -row[1])
            for name, by in sums.items()}


def attention_counts(session: Session, actor: access.Actor, now: datetime | None = None) -> tuple[int, int]:
    """(overdue, due within 24 h) among the actor's own open tasks: the header badge."""
    now = now or clock.now()
    row = session.execute(
        select(func.sum((Task.due_at < now).cast(Integer)),
               func.sum(and_(Task.due_at >= now, Task.due_at < now + timedelta(hours=24)).cast(Integer)))
        .where(Task.state == "ready", access.task_filter(actor))
    ).one()
    return int(row[0] or 0), int(row[1] or 0)
