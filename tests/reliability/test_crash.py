"""Crash consistency: kill -9 a process while it completes steps or fires timers, on SQLite and PostgreSQL.

After every kill `case56 check` (engine.check) finds nothing wrong, every step the worker reported as done is
still done, no step was applied twice, and in the end every deadline fired exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock
from engine.check import check
from engine.models import AuditEntry, Case, Task
from web import demo

WORKER = Path(__file__).with_name("crash_worker.py")
ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("CASE56_CRASH_KILLS", "6"))

pytestmark = pytest.mark.slow


def _run_and_kill(kind: str, url: str, delay: float, env: dict[str, str] | None = None) -> list[str]:
    """Start a worker, kill -9 it after `delay` seconds (or let it finish); return the lines it committed."""
    proc = subprocess.Popen([sys.executable, str(WORKER), kind, url], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    try:
        out, err = proc.communicate(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, -signal.SIGKILL), err[-2000:]
    return out.splitlines()


def _completions(session) -> Counter:
    rows = session.scalars(select(AuditEntry.details).where(AuditEntry.action == "task_completed"))
    return Counter(d["task"] for d in rows)


def test_kill_during_step_completion_loses_nothing_and_applies_nothing_twice(case_engine, session, db_url):
    demo.seed_people(session, "pbkdf2:sha256:1000")
    people = demo.cast(session)
    for _ in range(100):  # more work than a worker finishes between two kills
        case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now()))
    rng = random.Random(56)
    reported: set[int] = set()
    kills = 0
    for _ in range(KILLS):
        lines = _run_and_kill("steps", db_url, rng.uniform(2.0, 4.0))
        kills += 1
        reported |= {int(line.split()[1]) for line in lines if line.startswith("done ")}
        session.expire_all()
        assert list(check(case_engine, session)) == []
        done = set(session.scalars(select(Task.id).where(Task.state == "completed")))
        assert reported <= done  # nothing reported as committed was lost
        assert all(n == 1 for n in _completions(session).values())  # nothing applied twice
        if "idle" in lines:
            break
    assert kills >= 2 and len(reported) >= 8


def test_kill_during_timer_ticks_fires_every_deadline_exactly_once(case_engine, session, db_url):
    demo.seed_people(session, "pbkdf2:sha256:1000")
    people = demo.cast(session)
    received = clock.now() - timedelta(hours=11, minutes=55)
    cases = [case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01",
                                   {**demo.sample("mau_01", received), "received_at": received.isoformat()})
             for _ in range(30)]
    rng = random.Random(12)
    # The worker lives 13 hours ahead (CASE56_TRAVEL: it travels with time-machine), when all are due.
    env = {"CASE56_TRAVEL": (clock.now() + timedelta(hours=13)).isoformat()}
    for _ in range(KILLS):
        _run_and_kill("tick", db_url, rng.uniform(0.8, 2.0), env)
        session.expire_all()
        assert list(check(case_engine, session)) == []
    # A killed worker's claims hold for their lease (2 minutes); after it, the next tick takes them over.
    env = {"CASE56_TRAVEL": (clock.now() + timedelta(hours=13, minutes=5)).isoformat()}
    lines = _run_and_kill("tick", db_url, 120, env)  # this time let it finish
    assert lines and lines[-1] == "tick 0"
    session.expire_all()
    escalations = Counter(session.scalars(select(Task.case_id).where(Task.step == "escalate_verify")))
    assert escalations == Counter({c.id: 1 for c in cases})
    assert session.scalar(select(Case.id).limit(1)) is not None
    assert list(check(case_engine, session)) == []
