"""Health for load balancers and monitoring (no log-in; counts only, never case data).

- `GET /healthz`: the process answers (no database): a load balancer restarts or drops a node that fails it.
- `GET /readyz`: the node can do its work: the database answers, its schema is at the code's migration head,
  a tick worker finished a batch within `CASE56_TICK_STALE_MINUTES` (otherwise no deadline fires). 503 with
  the reasons (English, for operators) when any of these fails. It also counts what an operator must look at:
  stranded cases (engine.liveness) and timers that became incidents — these do not make the node unready (a
  person has to act; restarting nodes would not help). Answered only to `CASE56_MONITOR_ALLOW` addresses.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from engine import monitoring
from web.extensions import db
from web.metrics import require_monitor_address

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def alive() -> dict[str, Any]:
    return {"status": "alive"}


@bp.route("/readyz")
def ready() -> tuple[dict[str, Any], int]:
    require_monitor_address()
    stale = int(current_app.config["CASE56_TICK_STALE_MINUTES"])
    try:
        db.session.execute(text("SELECT 1"))
        at, heads = monitoring.migration_state(db.session)
        if at != heads:  # the figures below need the tables of the head revision
            return {"status": "unavailable", "database": "ok", "reasons": [
                f"database schema at {', '.join(sorted(at)) or 'nothing'}, code expects {', '.join(sorted(heads))}:"
                " run `case56 db upgrade`"]}, 503
        figures = monitoring.figures(db.session, stale)
    except SQLAlchemyError as exc:
        db.session.rollback()
        return {"status": "unavailable", "database": "error",
                "reasons": [f"database unreachable: {type(exc).__name__}"]}, 503
    finally:
        db.session.remove()
    reasons = []
    age = figures.tick_age_seconds
    if age is None:
        reasons.append("no tick worker has ever run: deadlines are not being fired")
    elif age > stale * 60:
        reasons.append(f"no tick worker finished a batch for {int(age // 60)} min (limit {stale} min)")
    body = {"status": "unavailable" if reasons else "ready", "database": "ok", "migrations": "head",
            "tick_age_seconds": None if age is None else round(age), "stranded_cases": figures.stranded_cases,
            "timer_incidents": figures.timer_incidents, "overdue_steps": figures.overdue_steps,
            "due_timer_backlog": figures.due_timer_backlog}
    if reasons:
        body["reasons"] = reasons
    return body, 503 if reasons else 200
