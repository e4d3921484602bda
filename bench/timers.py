"""Timers: N due timers fired by 1 and by 4 concurrent tick workers, each exactly once.

The load: N/2 freshly opened cases (verification open) received 13 hours ago, so each has two due timers:
the reminder (75 % of the 12-hour limit) and the deadline, whose firing runs the workflow's boundary timer
and opens the province's escalation task. The cases are clones of one template opened in the same database
13 hours before now (bench/synthetic.py), so the timer inside each workflow is due as well.

Workers are separate processes (`spawn`), each with its own engine, connection and session, released
together by a barrier; the time is from the release until every timer has fired. A worker keeps ticking
until no due timer is left in the database, as the periodic `case56 tick --loop` would. Afterwards the
database must show: every due timer handled once (fired, or — a reminder overtaken by its deadline —
cancelled; never both, no incident), the workers' fire counts add up to the fired rows, one escalation
task and one `deadline_passed` row per case, the audit chain intact (see `_check`).
"""

from __future__ import annotations

import multiprocessing
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.synthetic import Synthetic, Template, fresh_database
from engine import audit, clock, timers
from engine.models import AuditEntry, Case, Task, Timer, make_session_factory
from engine.runtime import Engine

FRESH = Template("fresh_report", 1)
POLL = 0.2


def _due(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Timer).where(
        Timer.fired_at.is_(None), Timer.cancelled_at.is_(None), Timer.incident.is_(False),
        Timer.fire_at <= clock.now())) or 0


def _worker(url: str, name: str, barrier: Any, results: Any) -> None:
    engine = Engine()
    factory = make_session_factory(url)
    with factory() as session:  # start-up work outside the timing: parse the process version once
        engine.registry.for_version(session, session.scalar(select(Case.process_version_id).limit(1)))
    fired = retried = incidents = errors = 0
    barrier.wait()
    with factory() as session:
        while True:
            result = timers.tick(engine, session, worker=name, batch=50)
            fired, retried = fired + result.fired, retried + result.retried
            incidents, errors = incidents + result.incidents, errors + len(result.errors)
            session.rollback()
            if not _due(session):
                break
            if not result.fired:
                time.sleep(POLL)  # the rest is claimed by others or waits for a retry
    results.put({"worker": name, "fired": fired, "retried": retried, "incidents": incidents, "errors": errors})


def _check(session: Session, expected: int, cases: int, reported: int) -> list[str]:
    """Every way a timer could have fired twice or not at all.

    A reminder whose deadline fired first is cancelled rather than fired (the engine drops reminders of a
    step that is already late), so: each due timer is fired or cancelled, never both and never left; each
    case's deadline fired once, with one escalation task and one `deadline_passed` row; one `reminder` row
    per fired reminder; the workers' own counts agree with the table; the audit chain is intact."""
    problems = []

    def count(*where: Any) -> int:
        return session.scalar(select(func.count()).select_from(Timer).where(*where)) or 0

    fired, cancelled = count(Timer.fired_at.is_not(None)), count(Timer.cancelled_at.is_not(None))
    both = count(Timer.fired_at.is_not(None), Timer.cancelled_at.is_not(None))
    if both or fired + cancelled != expected:
        problems.append(f"{fired} fired + {cancelled} cancelled ({both} both) for {expected} due timers")
    if reported != fired:
        problems.append(f"workers report {reported} firings, the table {fired}")
    if count(Timer.incident.is_(True)):
        problems.append(f"{count(Timer.incident.is_(True))} incidents")
    deadlines = dict(session.execute(select(Timer.case_id, func.count()).where(
        Timer.kind == "deadline", Timer.fired_at.is_not(None)).group_by(Timer.case_id)).all())
    escalations = dict(session.execute(
        select(Task.case_id, func.count()).where(Task.step == "escalate_verify").group_by(Task.case_id)).all())
    passed = dict(session.execute(select(AuditEntry.case_id, func.count()).where(
        AuditEntry.action == "deadline_passed").group_by(AuditEntry.case_id)).all())
    for name, per_case in (("fired deadlines", deadlines), ("escalation tasks", escalations),
                           ("deadline_passed rows", passed)):
        if len(per_case) != cases or set(per_case.values()) != {1}:
            problems.append(f"{name}: {len(per_case)} cases, counts {sorted(set(per_case.values()))}")
    reminders = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "reminder"))
    if reminders != count(Timer.kind == "reminder", Timer.fired_at.is_not(None)):
        problems.append(f"{reminders} reminder rows for {count(Timer.kind == 'reminder', Timer.fired_at.is_not(None))}"
                        " fired reminders")
    problems += [f"audit: {p.message}" for p in audit.verify(session)]
    return problems


def measure(kind: str, timer_count: int, workers: int, pg_url: str | None, engine: Engine) -> dict[str, Any]:
    url = fresh_database(kind, f"bench_timers_{workers}", **({"pg_url": pg_url} if pg_url else {}))
    synthetic = Synthetic(url, engine=engine, templates=(FRESH,), end_before=timedelta(hours=13)).prepare()
    cases = timer_count // 2
    synthetic.add(cases - 1, spread=False)  # the template is the first case
    with synthetic.session_factory() as session:
        due = _due(session)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(workers + 1), context.Queue()
    processes = [context.Process(target=_worker, args=(url, f"bench-{i}", barrier, results))
                 for i in range(workers)]
    for process in processes:
        process.start()
    barrier.wait(timeout=300)
    start = time.perf_counter()
    reports = [results.get(timeout=1800) for _ in processes]
    seconds = time.perf_counter() - start
    for process in processes:
        process.join()
    with synthetic.session_factory() as session:
        problems = _check(session, due, cases, sum(r["fired"] for r in reports))
        cancelled = session.scalar(select(func.count()).select_from(Timer).where(Timer.cancelled_at.is_not(None)))
    synthetic.session_factory.kw["bind"].dispose()
    return {"measure": f"timers, {workers} worker{'s' if workers > 1 else ''}", "db": kind, "timers": due,
            "seconds": round(seconds, 1), "timers_per_s": round(due / seconds, 1),
            "fired": sum(r["fired"] for r in reports), "cancelled": cancelled,
            "retried": sum(r["retried"] for r in reports),
            "exactly_once": "yes" if not problems else "NO: " + "; ".join(problems)}


def run(timer_count: int = 2_000, workers: tuple[int, ...] = (1, 4), pg_url: str | None = None,
        engine: Engine | None = None) -> list[dict[str, Any]]:
    engine = engine or Engine()
    kinds = ["sqlite"] + (["postgresql"] if pg_url else [])
    return [measure(kind, timer_count, n, pg_url, engine) for kind in kinds for n in workers]


if __name__ == "__main__":  # pragma: no cover
    for row in run():
        print(row)
