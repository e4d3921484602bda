"""Readiness for load balancers and monitoring: `GET /readyz` (no log-in; counts only, never case data).

200 when the database answers; the body also counts what an operator must look at: stranded cases
(engine.liveness) and timers that became incidents (engine.timers). 503 when the database does not answer.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from engine import liveness
from engine.models import Timer
from web.extensions import db

bp = Blueprint("health", __name__)


@bp.route("/readyz")
def ready() -> tuple[dict[str, Any], int]:
    try:
        db.session.execute(text("SELECT 1"))
        stranded = liveness.count_stranded(db.session)
        incidents = db.session.scalar(select(func.count()).select_from(Timer).where(
            Timer.incident.is_(True), Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))) or 0
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "error"}, 503
    finally:
        db.session.remove()
    return {"status": "ready", "database": "ok", "stranded_cases": stranded, "timer_incidents": incidents}, 200
