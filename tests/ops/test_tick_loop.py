"""`case56 tick --loop` survives a database outage: it logs each failure with its back-off, doubles the wait
up to a ceiling, then fires what was due once the database answers again, logging each batch."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from engine import timers
from engine.models import TickHeartbeat


def test_loop_backs_off_during_an_outage_and_resumes(session_factory, case_engine, caplog):
    down = {"left": 4}
    sleeps: list[float] = []
    batches = {"n": 0}

    def factory():
        if down["left"]:
            down["left"] -= 1
            raise OperationalError("connect", {}, ConnectionRefusedError("connection refused"))
        batches["n"] += 1
        return session_factory()

    caplog.set_level(logging.INFO, logger="case56.tick")
    timers.run_forever(case_engine, factory, interval=2, max_backoff=10, sleep=sleeps.append,
                       should_stop=lambda: batches["n"] >= 2, worker="test:7")
    assert sleeps == [2, 4, 8, 10, 2, 2]  # doubling, capped, then the normal interval again
    messages = [r.getMessage() for r in caplog.records]
    assert sum("database unavailable" in m and "retrying in" in m for m in messages) == 4
    assert any("reachable again after 4" in m for m in messages)
    assert sum(m.startswith("tick: fired=") for m in messages) == 2
    with session_factory() as session:
        assert session.scalar(select(TickHeartbeat.worker)) == "test:7"
