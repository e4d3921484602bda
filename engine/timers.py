"""The timer service: `tick` fires every due timer exactly once, with any number of workers.

A worker first *claims* a batch of due rows in a short transaction (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
workers never take the same rows; SQLite: one writer at a time), then fires the batch's reminders together
in one transaction (they change no workflow) and each deadline in its own transaction that marks it fired.
A deadline is fired by SpiffWorkflow itself (`refresh_timers`), in the same transaction as the case version
bump and the guarded mark (`fire`), so a row whose case was changed meanwhile is simply retried;
a row that keeps failing becomes an incident after `max_attempts` and stops blocking the others.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    Update,
    and_,
    bindparam,
    or_,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from engine import access, audit, clock, monitoring, restriction
from engine.errors import Conflict
from engine.models import Case, CaseWorkflow, ProcessVersion, Task, Timer
from engine.runtime import Engine, pending_timers

SYSTEM = access.Actor("system", "system")
RETRY_AFTER = timedelta(seconds=10)
log = logging.getLogger("case56.tick")


@dataclass
class TickResult:
    fired: int = 0
    retried: int = 0
    incidents: int = 0
    errors: list[str] = field(default_factory=list)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(session: Session, worker: str, batch: int = 100, lease: timedelta = timedelta(minutes=2)) -> list[int]:
    """Claim up to `batch` due timers for `worker` and commit; returns their ids."""
    now = clock.now()
    due = (
        select(Timer.id)
        .where(
            Timer.fired_at.is_(None),
            Timer.cancelled_at.is_(None),
            Timer.incident.is_(False),
            # Strictly past, as SpiffWorkflow decides: a timer at this very instant fires on the next tick.
            Timer.fire_at < now,
            or_(Timer.claimed_until.is_(None), Timer.claimed_until < now),
        )
        .order_by(Timer.fire_at)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Workers skip each other's locked rows instead of waiting for them.
        ids = list(session.scalars(due.with_for_update(skip_locked=True)))
        if ids:
            session.execute(update(Timer).where(Timer.id.in_(ids)).values(claimed_by=worker, claimed_until=now + lease))
    else:
        # SQLite has one writer: a single UPDATE … WHERE id IN (due) is atomic among workers.
        token = f"{worker}#{now.timestamp()}"
        session.execute(
            update(Timer)
            .where(Timer.id.in_(due.scalar_subquery()))
            .values(claimed_by=token, claimed_until=now + lease),
            execution_options={"synchronize_session": False},
        )
        ids = list(session.scalars(select(Timer.id).where(Timer.claimed_by == token)))
        if ids:
            session.execute(
                update(Timer).where(Timer.id.in_(ids)).values(claimed_by=worker),
                execution_options={"synchronize_session": False},
            )
    session.commit()
    return ids


class _NotDue(Exception):
    """SpiffWorkflow did not find the timer due (clocks of workers disagree): retry later."""


def _mark_fired(worker: str | BindParameter[str], now: datetime | BindParameter[datetime],
                *where: ColumnElement[bool]) -> Update:
    """Mark the matching rows fired, only those still pending and claimed by `worker`: of two workers that
    somehow hold the same row, only one marks it (and so fires it)."""
    return (update(Timer)
            .where(*where, Timer.fired_at.is_(None), Timer.cancelled_at.is_(None), Timer.claimed_by == worker)
            .values(fired_at=now))


def _remind(session: Session, fired: list[tuple[int, int | None]], now: datetime) -> None:
    """Stamp the step row of each fired reminder (case id, task id) that is still open, and write the trail."""
    task_ids = {task_id for _, task_id in fired if task_id is not None}
    tasks = {t.id: t for t in session.scalars(
        select(Task).where(Task.id.in_(task_ids), Task.state == "ready"))} if task_ids else {}
    for case_id, task_id in fired:
        task = tasks.get(task_id) if task_id is not None else None
        if task is not None:
            task.reminded_at = now
            audit.append(session, "system", "reminder", case_id,
                         {"task": task.id, "step": task.step, "due_at": task.due_at}, now)


def fire_reminders(engine: Engine, session: Session, timer_ids: list[int], worker: str) -> set[int]:
    """Fire the claimed reminders among `timer_ids` together, in one transaction; returns the fired ids.

    A reminder changes no workflow, so a batch of them costs a few statements in all instead of a
    transaction each."""
    with engine.transaction(session):
        now = clock.now()
        fired = session.execute(
            _mark_fired(worker, now, Timer.id.in_(timer_ids), Timer.kind == "reminder")
            .returning(Timer.id, Timer.case_id, Timer.task_id),
            execution_options={"synchronize_session": False},
        ).all()
        _remind(session, [(case_id, task_id) for _, case_id, task_id in fired], now)
        return {timer_id for timer_id, _, _ in fired}


@functools.cache
def _deadline_read(postgres: bool) -> Select[Any]:
    """The one statement a deadline firing reads with (issue 20), built once per dialect (parameters :timer_id,
    :worker): the timer if still pending and ours, its case, the version's content hash, the workflow row, the
    case's pending timers, the restriction in force and its open rows (one result row per open row). It replaces
    five reads (case, workflow, open rows, pending timers, restriction) and one of the two content-hash reads,
    which cost more to build in SQLAlchemy than the database takes to answer them."""
    mine = aliased(Timer)
    content_hash = select(ProcessVersion.content_hash).where(
        ProcessVersion.id == Case.process_version_id).scalar_subquery()
    pending = pending_timers(postgres, Case.id)
    return (select(mine.kind, mine.spiff_id, Case, content_hash, CaseWorkflow, pending,
                   restriction.active_id(Case.id), Task)
            .select_from(mine)
            .join(Case, Case.id == mine.case_id)
            .outerjoin(CaseWorkflow, CaseWorkflow.case_id == Case.id)
            .outerjoin(Task, and_(Task.case_id == Case.id, Task.state == "ready"))
            .where(mine.id == bindparam("timer_id", type_=Integer), mine.fired_at.is_(None),
                   mine.cancelled_at.is_(None), mine.claimed_by == bindparam("worker", type_=String))
            # decide on the database's rows, never on objects an earlier transaction left in the session
            .execution_options(populate_existing=True))


@functools.cache
def _mark_deadline() -> Update:
    """`_mark_fired` for one deadline (:timer_id, :worker, :now), built once, returning the audit head as it stands
    when the firing's own writes are done: the commit then moves the head in one guarded statement (audit.seen_head)
    instead of reserving ids first."""
    head_last, head_hash = audit.head_columns()
    return (_mark_fired(bindparam("worker", type_=String), bindparam("now", type_=Timer.fired_at.type),
                        Timer.id == bindparam("timer_id", type_=Integer))
            .returning(Timer.id, head_last, head_hash))


class _Lost(Exception):
    """The deadline was fired or ended by someone else while this worker computed it: roll back, not ours."""


def fire(engine: Engine, session: Session, timer_id: int, worker: str) -> bool:
    """Handle one claimed timer in its own transaction; False when it was not (or no longer) ours to fire.

    A deadline reads its case once (`_deadline_read`), asks SpiffWorkflow, advances the workflow and only then
    marks its row fired, by a conditional UPDATE in the same transaction: of two workers that somehow hold the
    same row only one marks it, and the other's whole firing rolls back. Marking last keeps the transaction's
    writes together at its end (SQLite's single writer lock is taken by the first write and held until the
    commit, so the workflow's load and engine steps no longer run under it), and the case's version check
    turns a concurrent change of the case into a retry, as before.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    try:
        with engine.transaction(session):
            rows = session.execute(_deadline_read(postgres), {"timer_id": timer_id, "worker": worker}).all()
            if not rows:
                return False
            kind, spiff_id, case, content_hash, _workflow_row, pending, restricted = rows[0][:7]
            now = clock.now()
            if kind == "reminder":
                marked = session.execute(
                    _mark_fired(worker, now, Timer.id == timer_id).returning(Timer.task_id),
                    execution_options={"synchronize_session": False}).one_or_none()
                if marked is None:
                    return False
                _remind(session, [(case.id, marked.task_id)], now)
                return True
            # The workflow row came with the read: load_workflow finds it in the session instead of reading it.
            workflow = engine.load_workflow(session, case)
            definition = engine.registry.for_version(session, case.process_version_id, content_hash)
            # Ask SpiffWorkflow first: if it does not find the timer due (a worker whose clock runs ahead), the
            # boundary event still waits, and advancing would record it as a new pending deadline beside the row
            # marked fired. Retry instead, before anything is written.
            workflow.refresh_timers()
            boundary = workflow.get_task_from_id(uuid.UUID(spiff_id))
            if boundary is not None and boundary.state == TaskState.WAITING:
                raise _NotDue(timer_id)
            case.updated_at = now  # bumps the case version: a concurrent change to the case makes this a retry
            # This row is left out of the pending timers: it is marked below, by the guarded UPDATE, not ended by
            # the sync as a timer that stopped waiting.
            engine.advance(session, case, workflow, definition, SYSTEM, now,
                           ready=[row[7] for row in rows if row[7] is not None],
                           timers=[(int(t[0]), str(t[1]), str(t[2])) for t in pending or () if int(t[0]) != timer_id],
                           restriction_id=restricted)
            head = session.execute(_mark_deadline(), {"timer_id": timer_id, "worker": worker, "now": now},
                                   execution_options={"synchronize_session": False}).one_or_none()
            if head is None:
                raise _Lost(timer_id)
            audit.seen_head(session, head[1], head[2])
            return True
    except _Lost:
        return False


def _release(engine: Engine, session: Session, timer_id: int, error: str | None, max_attempts: int) -> bool:
    """Record a failed attempt; returns True when the timer became an incident."""
    with engine.transaction(session):
        timer = session.get(Timer, timer_id)
        if timer is None:
            return False
        # Not claimable again before RETRY_AFTER, so one tick never spins on the same row.
        timer.claimed_by, timer.claimed_until = None, clock.now() + RETRY_AFTER
        if error is None:
            return False
        timer.attempts += 1
        timer.last_error = error[:2000]
        timer.incident = timer.attempts >= max_attempts
        if timer.incident:
            audit.append(
                session,
                "system",
                "timer_incident",
                timer.case_id,
                {"timer": timer.id, "kind": timer.kind, "error": error[:500]},
            )
        return timer.incident


def tick(
    engine: Engine, session: Session, worker: str | None = None, batch: int = 100, max_attempts: int = 5
) -> TickResult:
    """Fire everything due now; returns what happened."""
    worker = worker or worker_name()
    result = TickResult()
    while ids := claim(session, worker, batch):
        try:
            reminded = fire_reminders(engine, session, ids, worker)
        except Exception:  # noqa: BLE001 - then each reminder is tried alone below, and a bad one reported
            reminded = set()
        result.fired += len(reminded)
        for timer_id in ids:
            if timer_id in reminded:
                continue
            try:
                if fire(engine, session, timer_id, worker):
                    result.fired += 1
            except (Conflict, _NotDue):
                _release(engine, session, timer_id, None, max_attempts)
                result.retried += 1
            except Exception as exc:  # noqa: BLE001 - one bad timer must not block the others
                result.errors.append(f"timer {timer_id}: {exc}")
                if _release(engine, session, timer_id, f"{type(exc).__name__}: {exc}", max_attempts):
                    result.incidents += 1
        if len(ids) < batch:
            break
    _privacy_clocks(engine, session, result)
    return result


def _privacy_clocks(engine: Engine, session: Session, result: TickResult) -> None:
    """The clocks of the privacy registers (issue 18) fire with the case timers: late steps of data subjects'
    requests, breaches whose 72 hours have passed. Each escalation is its own transaction there."""
    from engine import breaches, data_requests

    for name, fire_due in (("data_requests", data_requests.of(engine).tick),
                           ("breaches", lambda s: breaches.tick(engine, s))):
        try:
            result.fired += fire_due(session)
        except Exception as exc:  # noqa: BLE001 - a failing register must not stop the case timers
            session.rollback()
            result.errors.append(f"{name}: {type(exc).__name__}: {exc}")


def run_forever(engine: Engine, session_factory: Callable[[], Session], interval: float = 30.0, *,
                max_backoff: float = 300.0, sleep: Callable[[float], None] = time.sleep,
                should_stop: Callable[[], bool] = lambda: False, worker: str | None = None) -> None:
    """The periodic runner (`case56 tick --loop`): one batch every `interval` seconds, each logged and recorded
    as a heartbeat. A database outage does not end the loop: it waits twice as long after each failure (up to
    `max_backoff`) and says so, then goes on where it left off (claims are leased, nothing is lost)."""
    worker = worker or worker_name()
    failures = 0
    while not should_stop():
        started = time.monotonic()
        try:
            with session_factory() as session:
                engine.load_calendar(session)
                result = tick(engine, session, worker)
                monitoring.beat(session, worker, result.fired, result.retried, result.incidents)
        except SQLAlchemyError as exc:
            failures += 1
            wait = min(max_backoff, interval * 2 ** (failures - 1))
            log.warning("tick: database unavailable (%s), retrying in %.0f s", type(exc).__name__, wait,
                        extra={"fields": {"worker": worker, "failures": failures, "retry_in_s": wait,
                                          "error": str(exc).splitlines()[0][:300]}})
            sleep(wait)
            continue
        if failures:
            log.info("tick: database reachable again after %d failed attempt(s)", failures,
                     extra={"fields": {"worker": worker}})
        failures = 0
        log.info("tick: fired=%d retried=%d incidents=%d", result.fired, result.retried, result.incidents,
                 extra={"fields": {"worker": worker, "fired": result.fired, "retried": result.retried,
                                   "incidents": result.incidents, "errors": len(result.errors),
                                   "ms": round((time.monotonic() - started) * 1000)}})
        for error in result.errors:
            log.error("tick: %s", error, extra={"fields": {"worker": worker}})
        sleep(interval)
