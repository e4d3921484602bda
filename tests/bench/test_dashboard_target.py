"""Issue 20's dashboard target in docs/benchmarks.md's Targets list (bench/queries.dashboard_targets, called by
bench/__main__.targets): met / NOT met at 100,000 cases per database, otherwise not measured at that size."""

from __future__ import annotations

import bench.__main__ as bench_main
from bench import queries


def _row(db: str, cases: int, p95: float) -> dict:
    return {"measure": queries.DASHBOARD, "db": db, "cases": cases, "p50_ms": p95 / 2, "p95_ms": p95, "cpu_ms": 20.0}


def test_the_dashboard_target_is_met_or_not_per_database_at_100k():
    rows = [_row("sqlite", 10_000, 30.0), _row("sqlite", 100_000, 48.5), _row("postgresql", 100_000, 61.2)]
    result = bench_main.Result("queries", "2. Queries", rows, "1 s; load 1.0")
    lines = [line for line in bench_main.targets([result], full=True) if queries.DASHBOARD_TARGET in line]
    assert lines == [
        f"- {queries.DASHBOARD_TARGET}, postgresql, in-process at 100,000 cases: **61.2 ms** (p50 30.6 ms, CPU 20.0 ms "
        "per page) — NOT met",
        f"- {queries.DASHBOARD_TARGET}, sqlite, in-process at 100,000 cases: **48.5 ms** (p50 24.25 ms, CPU 20.0 ms "
        "per page) — met"]
    assert queries.DASHBOARD_TARGET == "province dashboard p95 ≤ 50 ms at 100,000 cases"


def test_a_smaller_run_or_a_missing_database_says_not_measured():
    lines = queries.dashboard_targets([_row("sqlite", 10_000, 12.0)])
    assert lines == [f"- {queries.DASHBOARD_TARGET}, sqlite: 12.0 ms at 10,000 cases — not measured at 100,000 "
                     "(`--full`)"]
    assert all("not measured in this run" in line for line in queries.dashboard_targets([]))
    http = {"measure": "GET province dashboard (supervisor)", "db": "postgresql", "cases": 100_000, "p95_ms": 734.0}
    assert queries.dashboard_targets([http])[-1] == ("- (for reference) GET province dashboard (supervisor) over "
                                                     "HTTP under load, postgresql, 100,000 cases: p95 734.0 ms")
