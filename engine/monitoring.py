"""Figures an operator watches (readiness, metrics): counts only, never case data; and the tick heartbeat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from engine import clock, liveness, schema
from engine.models import Task, TickHeartbeat, Timer

BACKLOG_GRACE = timedelta(minutes=1)  # a timer due less than a minute ago is simply waiting for the next tick


@dataclass
class Figures:
    overdue_steps: int
    due_timer_backlog: int
    timer_incidents: int
    stranded_cases: int
    tick_age_seconds: float | None  # None: no tick worker has ever finished a batch


def _count(session: Session, query: Select[tuple[int]]) -> int:
    return session.scalar(query) or 0


def last_tick(session: Session) -> datetime | None:
    return session.scalar(select(func.max(TickHeartbeat.beat_at)))


def figures(session: Session, stale_minutes: int = 5) -> Figures:
    now = clock.now()
    pending = (Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))
    beat = last_tick(session)
    return Figures(
        overdue_steps=_count(session, select(func.count()).select_from(Task).where(
            Task.state == "ready", Task.due_at < now)),
        due_timer_backlog=_count(session, select(func.count()).select_from(Timer).where(
            *pending, Timer.incident.is_(False), Timer.fire_at < now - BACKLOG_GRACE)),
        timer_incidents=_count(session, select(func.count()).select_from(Timer).where(
            *pending, Timer.incident.is_(True))),
        stranded_cases=liveness.count_stranded(session),
        tick_age_seconds=None if beat is None else max(0.0, (now - beat).total_seconds()),
    )


def migration_state(session: Session) -> tuple[set[str], set[str]]:
    """(the database's revisions, the code's heads): equal when the schema is at head."""
    current = set(MigrationContext.configure(session.connection()).get_current_heads())
    return current, set(schema.current_heads("sqlite://"))  # the heads come from the code, not the database


def beat(session: Session, worker: str, fired: int, retried: int, incidents: int) -> None:
    """Record that `worker` finished a batch now (one row per worker; rows of workers gone a day are dropped)."""
    now = clock.now()
    row = session.get(TickHeartbeat, worker)
    if row is None:
        session.add(TickHeartbeat(worker=worker, beat_at=now, fired=fired, retried=retried, incidents=incidents))
    else:
        row.beat_at, row.fired, row.retried, row.incidents = now, fired, retried, incidents
    session.execute(delete(TickHeartbeat).where(TickHeartbeat.beat_at < now - timedelta(days=1)))
    session.commit()
