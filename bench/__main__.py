"""`python -m bench [--full] [--pg]` (or `make bench BENCH_ARGS="--full --pg"`): every measurement in one run.

Prints one table per measurement and writes them, with the machine's CPU count, its load and the date, to
docs/benchmarks.md. Small sizes by default (a few minutes); `--full` for the sizes the targets are set at.
SQLite always; `--pg` adds PostgreSQL, in the benchmark's own database (`case56_bench`, created if missing,
one schema per measurement — never the `test` database test runs use).

The sections are listed, in the document's order, in SECTIONS below: each has a builder giving its title and
the call that measures it. `--only steps,http` runs some of them and `--steps-only` the step benchmark alone
(bench/engine_steps.py: the floors, case56 on each database and the API, interleaved in rounds); a partial run
prints its tables and writes a file only when `--out` is given, so docs/benchmarks.md always holds a whole run.

Each measurement module exposes `run(...)`, returning its table's rows (one dict per row; keys become columns),
or its rows and notes printed under the table. bench/dossier.py and bench/statistics.py are their authors'
command-line tools; if they grow such a `run(full: bool, pg_url: str | None) -> list[dict]`, it is called,
otherwise the small adapters below build their cases and time the same calls.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import clock
from engine.runtime import Engine

OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
OUT_NATIONAL = OUT.with_name("benchmarks-national.md")
NATIONAL = (1_000, 10_000, 100_000, 1_000_000)  # cases: a commune's first year to the whole country's load
PG_URL = "postgresql://postgres@127.0.0.1:5432/case56_bench"

# (what the row is about, its size in a default run, in a full run)
SIZES = {
    "steps": ((3, 2), (14, 2)),  # (rounds, cases driven to closure per measure and round; 12 steps each)
    "queries": ((1_000, 10_000), (1_000, 10_000, 100_000)),
    "repeat": (200, 400),  # calls timed per query and size
    "timers": (1_000, 10_000),
    "http": ((8, 150), (15, 400)),  # (seconds per wrk run, prepared tasks for the API)
    "dossier": (5, 10),  # builds timed per case
    "statistics": (10_000, 100_000),  # cases
}


NOTES = """\
## What was changed for performance, and what was found

**Work lists (engine/worklists.py, migration 0004)** — same results as before (checked call by call against
the previous code on 5,452 calls at 10,000 cases and 2,204 calls at 100,000 on both databases, and in
tests/bench/test_synthetic.py against a plain sort), found with EXPLAIN QUERY PLAN / EXPLAIN ANALYZE:
- A supervisor's inbox (escalations, which have no due date) sorted all of the province's ~1,900 open
  escalations to show 25: the "dated by due_at, then undated" order is now read as two index-ordered parts
  cut at the page size, and the work-list indexes end with `id`, so (due_at, id) comes from the index
  (PostgreSQL keeps equal keys in heap order and sorted them otherwise).
- A province's overdue list walked every overdue task of the country and read each row to count them: the
  lists also filter on the task's own commune/province (an open task always carries its case's; a transfer
  moves them) over new (province_id | commune_id, state, escalates_task_id, due_at, id) indexes, so the
  page and the count come from the index; the dashboard counts no longer join the case table.
- The total is counted only when a page is full (a shorter page is the last and tells the total), on the
  task table alone.
- The case page looked for linked cases with a full scan of case_file: index `ix_case_linked`.

Before → after at 100,000 cases, measured once on 23/11/2026 while making the change (not by this run; the
same 2-CPU machine and load, bench/queries.py's calls), mean / p95 ms per call:

| call | SQLite before | SQLite after | PostgreSQL before | PostgreSQL after |
|---|---|---|---|---|
| inbox (officer) | 7.0 / 9.2 | 2.2 / 3.2 | 12.0 / 20.7 | 5.0 / 6.4 |
| inbox (supervisor) | 19.1 / 23.2 | 3.1 / 4.4 | 20.2 / 26.9 | 5.3 / 7.6 |
| overdue (supervisor) | 37.3 / 38.5 | 3.0 / 4.2 | 106 / 134 | 4.6 / 6.4 |
| case page data | 31.8 / 37.7 | 3.6 / 4.7 | 38.4 / 52.6 | 5.3 / 7.5 |

**Totals counted up to 1,000 (engine/worklists.py, second round)** — a full page still counted every
matching task, a cost that grows with the case load (the growth ratio over 1,000 cases was 2.05–2.33 on
three lists). A page now counts at most COUNT_LIMIT = 1,000 rows past its start (a LIMIT inside the count,
read from the index): beyond that it shows "Hơn 1.000 việc" / "Trang 2 / hơn 40" and a next link, and the
API sends `X-Total-Exact: false` and no `rel="last"`, as mail clients and search engines do. A page then
reads at most 25 rows and 1,025 index entries whatever the size of the country's case load.

**Growth from 1,000 cases, and how much it moves between runs** — at 1,000 cases a commune officer's inbox
holds 2–4 tasks and a province's lists are short: the page is not full, so there are fewer rows to load and
no count query at all; from 10,000 cases on pages are full and counted (up to the limit). The
"p95(100k)/p95(10k)" rows show the growth of the data alone. The officer's ratio over 1,000 divides ~1.3 ms
by a p95 of 0.6–1.2 ms, which a few scheduler delays move: in the four full runs of 23/11/2026 (the
first without the work lists' defer of draft JSON) it was 2.15, 1.25, 2.46 and 1.55 on SQLite and 2.17,
0.69, 1.48 and 0.99 on PostgreSQL — above 2 in three of those eight. Its 100k/10k ratio stayed between 0.48
and 1.17. The 10,000 timers with 4 workers took 25.3, 21.0, 23.4, 24.9 s on SQLite and 26.1, 25.6, 28.3,
26.7 s on PostgreSQL in the same runs.

**Timers (engine/audit.py, engine/timers.py, engine/runtime.py, second round)** — before: 85.7 s SQLite /
103.9 s PostgreSQL for 10,000 timers with 4 workers; 4 workers gained little over 1 because every firing
appended to the audit chain, whose single head row was locked from the transaction's first
`audit.append` until its commit (pg_stat_activity showed ~1.3 of 4 workers waiting on it), and a deadline
firing issued 24 SQL statements. Changes:
- `audit.append` only queues the row on the session; a `before_commit` listener reserves the transaction's
  ids with one `UPDATE audit_head … RETURNING`, inserts the rows in one executemany and moves the head:
  the head is locked for the last three statements of a transaction, not for all of it. Rolled-back
  transactions and savepoints drop their queued rows (tests/engine/test_audit.py).
- Reminders change no workflow: a claimed batch is marked (`UPDATE … RETURNING`), stamped and audited in
  one transaction instead of one transaction each.
- A deadline firing marks its row with `RETURNING` (no re-read), finds the late step and the new stage
  among the open rows it already read, and writes the workflow state with one UPDATE (no read-back of the
  largest column). Statements per timer (mixed reminders and deadlines): 16 → 6.
Measured once while making the change, quiet machine, 10,000 timers / 4 workers: PostgreSQL 103.9 → 28.1 s,
SQLite 85.7 → 26.5 s; one worker 111 → 194 timers/s on SQLite and 70 → 134 on PostgreSQL (300 cases,
cProfile on). The same changes lift every step: `complete_task` on PostgreSQL went from 0.33 to 0.83 of the
rate of the benchmark's then "raw SpiffWorkflow" baseline in a quiet run. That baseline was no floor (it
wrote and parsed the whole process spec on every step, which case56 never does), so those ratios, and the
1.45 "case56/raw" an earlier version of this page reported, say nothing about how close case56 is to what its
work costs: since issue 20 the step table divides by the state-format floor instead, and keeps the raw figure
only as a labelled reference.

**Province dashboard (web/views/supervisor.py, second round)** — before: about 145 ms of CPU per page at
100,000 cases, of which rendering 46 % (some 580 translation calls per page), the escalation list 23 %
(it loaded every commune of the country for their names), the four overdue counts 22 % (four scans of
the province's overdue tasks). Now one grouped pass gives all four counts, the escalation list shows the
20 oldest (each carries its acknowledgement form) and counts only when full, and row labels are
translated once per page: 34 ms per page and 79 kB of HTML (126 kB before) at 100,000 cases through the
Flask test client on SQLite.
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- adapters for the dossier and statistics benchmarks (their modules are their authors') -------------------
def dossier_rows(full: bool, pg_url: str | None, engine: Engine) -> list[dict[str, Any]]:
    module = importlib.import_module("bench.dossier")
    if callable(getattr(module, "run", None)):
        return module.run(full=full, pg_url=pg_url)
    from bench.synthetic import fresh_database
    from engine import schema
    from engine.models import make_session_factory

    rows = []
    runs = SIZES["dossier"][full]
    for kind in ["sqlite"] + (["postgresql"] if pg_url else []):
        url = fresh_database(kind, "bench_dossier", **({"pg_url": pg_url} if pg_url else {}))
        schema.upgrade(url)
        factory = make_session_factory(url)
        with factory() as session:
            small, large = module.make_cases(session, engine)
            for name, case_id in (("typical case", small), ("large case", large)):
                result = module.measure(session, engine, case_id, runs)
                rows.append({"measure": f"dossier, {name}", "db": kind, "steps": result["tasks"],
                             "audit_rows": result["audit"], "pages": result["pages"],
                             "median_ms": round(module.median(result["wall"])),
                             "best_ms": round(min(result["wall"])), "cpu_ms": round(module.median(result["cpu"])),
                             "peak_mb": round(result["peak"] / 1024 / 1024, 1)})
        factory.kw["bind"].dispose()
    return rows


def statistics_rows(full: bool, pg_url: str | None) -> list[dict[str, Any]]:
    module = importlib.import_module("bench.statistics")
    if callable(getattr(module, "run", None)):
        return module.run(full=full, pg_url=pg_url)
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from bench.synthetic import fresh_database
    from engine import access
    from engine import statistics as st
    from engine.models import make_engine

    cases = SIZES["statistics"][full]
    rows = []
    for kind in ["sqlite"] + (["postgresql"] if pg_url else []):
        url = fresh_database(kind, "bench_statistics", **({"pg_url": pg_url} if pg_url else {}))
        seconds, _tasks = module.build(url, cases)
        log(f"  statistics/{kind}: {cases} cases built in {seconds:.0f} s")
        engine = make_engine(url)
        with Session(engine) as session:
            province = session.scalar(text("SELECT id FROM org_unit WHERE code = 'B01'"))
            commune = session.scalar(text("SELECT id FROM org_unit WHERE code = 'B01-X001'"))
            actors = {"national inspector": access.Actor("bench-nation", "inspector"),
                      "province supervisor": access.Actor("bench-province", "supervisor", None, province),
                      "commune officer": access.Actor("bench-commune", "officer", commune, province)}
            for period in ("2026-H1", "2025-Y"):
                for who, actor in actors.items():
                    best, _result = module.timed(st.report, session, actor, st.resolve_period(period),
                                                 now=module.NOW)
                    rows.append({"measure": f"statistics report {period}, {who}", "db": kind, "cases": cases,
                                 "best_of_3_ms": round(best * 1000)})
        engine.dispose()
    return rows


# -- the run --------------------------------------------------------------------------------------------------
class LoadSampler:
    """The machine's 1-minute load average, sampled every few seconds while a measurement runs (it counts the
    benchmark's own processes too: 4 tick workers and PostgreSQL alone make about 5 on this measurement)."""

    def __init__(self, every: float = 5.0) -> None:
        self.every, self.samples = every, [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> str:
        return f"load {sum(self.samples) / len(self.samples):.1f} on average, {max(self.samples):.1f} at most"


Rows = list[dict[str, Any]]
Measured = Rows | tuple[Rows, list[str]]  # a table's rows, or its rows and notes printed under it


@dataclass
class Result:
    """One section of the document: its table, the time and load it took, or why it was not measured."""

    name: str
    title: str
    rows: Rows
    footer: str
    error: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Run:
    """What a section is built from."""

    full: bool
    pg_url: str | None
    national: bool
    engine: Engine
    databases: dict[str, tuple[str, int]] = field(default_factory=dict)  # generated loads, shared by sections


def section(name: str, title: str, call: Callable[[], Measured], results: list[Result]) -> None:
    log(f"[{name}] {title} …")
    started = time.perf_counter()
    notes: list[str] = []
    with LoadSampler() as load:
        try:
            measured, error = call(), None
            rows, notes = measured if isinstance(measured, tuple) else (measured, [])
        except Exception as exc:  # noqa: BLE001 - one broken measurement must not hide the others
            rows, error = [], f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
    footer = f"{time.perf_counter() - started:.0f} s; {load.summary()}"
    results.append(Result(name, title, rows, footer, error, notes))
    print(render_table(title, rows, footer, error, markdown=False, notes=notes), flush=True)


def columns(rows: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def render_table(title: str, rows: list[dict[str, Any]], footer: str, error: str | None, markdown: bool,
                 notes: Sequence[str] = ()) -> str:
    head = f"### {title}" if markdown else f"\n== {title} ({footer}) =="
    if error:
        return f"{head}\n\nNot measured: {error}\n" if markdown else f"{head}\nNOT MEASURED: {error}"
    keys = columns(rows)
    cells = [[str(row.get(k, "")) for k in keys] for row in rows]
    if markdown:
        lines = [head, "", "| " + " | ".join(keys) + " |", "|" + "|".join("---" for _ in keys) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in line) + " |" for line in cells]
        below = "".join(f"\n{note}\n" for note in notes)
        return "\n".join(lines) + f"\n\n({footer})\n" + below
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)] if cells else []
    lines = [head, "  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    return "\n".join([*lines, *notes])


# -- the sections, in the document's order ---------------------------------------------------------------------
# Each builder returns the section's title and the call that measures it (rows, or rows and notes). A new
# benchmark adds its builder to SECTIONS (and, if it has targets, its lines to `targets`).
def steps_section(run: Run) -> tuple[str, Callable[[], Measured]]:
    from bench import engine_steps, synthetic

    rounds, cases = SIZES["steps"][run.full]

    def call() -> Measured:
        pg = synthetic.fresh_database("postgresql", "bench_steps", run.pg_url) if run.pg_url else None
        return engine_steps.run(rounds, cases, pg, log=log)

    return (f"1. Step throughput against its floors ({rounds} interleaved rounds, {cases} cases to closure per "
            "measure and round)", call)


def queries_section(run: Run) -> tuple[str, Callable[[], Measured]]:
    from bench import queries

    sizes = NATIONAL if run.national else SIZES["queries"][run.full]
    return (f"2. Queries at scale ({', '.join(f'{s:,}' for s in sizes)} cases)",
            lambda: queries.run(sizes, run.pg_url, repeat=SIZES["repeat"][run.full], log=log,
                                databases=run.databases, kinds=("postgresql",) if run.national else None))


def timers_section(run: Run) -> tuple[str, Callable[[], Measured]]:
    from bench import timers

    count = SIZES["timers"][run.full]
    return (f"3. Timers: {count:,} due timers, 1 and 4 tick workers",
            lambda: timers.run(count, (1, 4), run.pg_url, run.engine))


def dossier_section(run: Run) -> tuple[str, Callable[[], Measured]]:
    return "4. Dossier (PDF) of a typical and a large case", lambda: dossier_rows(run.full, run.pg_url, run.engine)


def http_section(run: Run) -> tuple[str, Callable[[], Measured]]:
    from bench import http, synthetic

    seconds, tasks = SIZES["http"][run.full]

    def call() -> Measured:
        rows = []
        for kind in ["sqlite"] + (["postgresql"] if run.pg_url else []):
            if kind not in run.databases:  # run alone: a load of its own
                url = synthetic.fresh_database(kind, "bench_http", **({"pg_url": run.pg_url} if run.pg_url else {}))
                synthetic.Synthetic(url, engine=run.engine).prepare().add(SIZES["queries"][run.full][0])
                run.databases[kind] = (url, SIZES["queries"][run.full][0])
            url, cases = run.databases[kind]
            rows += http.run(url, kind, cases, seconds=seconds, tasks=tasks, engine=run.engine)
        return rows

    return "5. HTTP under load: gunicorn (2 workers) on loopback, several clients", call


def statistics_section(run: Run) -> tuple[str, Callable[[], Measured]]:
    cases = SIZES["statistics"][run.full]
    return f"6. Statistics report at {cases:,} cases", lambda: statistics_rows(run.full, run.pg_url)


SECTIONS: list[tuple[str, Callable[[Run], tuple[str, Callable[[], Measured]]]]] = [
    ("steps", steps_section),
    ("queries", queries_section),
    ("timers", timers_section),
    ("dossier", dossier_section),
    ("http", http_section),
    ("statistics", statistics_section),
    ("pages", lambda run: importlib.import_module("bench.pages").section(run)),  # issue 20: bench/pages.py
]


def targets(results: list[Result], full: bool) -> list[str]:
    """The issue's targets against this run's figures: met, not met, or not measured at that size."""
    from bench import engine_steps

    rows = [row for result in results for row in result.rows]
    lines = []
    if any(result.name == "steps" for result in results):  # every step target, measured or not (issue 20)
        lines += engine_steps.targets([row for result in results if result.name == "steps" for row in result.rows])
    largest = max((r["cases"] for r in rows if "p95_ms" in r and "cases" in r and r.get("measure", "").startswith(
        ("inbox", "overdue"))), default=None)
    for r in rows:
        if r.get("measure", "").startswith(("inbox", "overdue")) and r.get("cases") == largest and "p95_ms" in r:
            at = f"{largest:,}" if largest >= 100_000 else f"{largest:,} (the target is at 100,000: `--full`)"
            verdict = ("met" if r["p95_ms"] <= 20 else "NOT met") if largest >= 100_000 else (
                "within it already" if r["p95_ms"] <= 20 else "over it already")
            lines.append(f"- {r['measure']} p95 ≤ 20 ms, {r['db']}, at {at} cases: **{r['p95_ms']} ms** — {verdict}")
        if ": growth" in r.get("measure", "") and r["measure"].startswith(("inbox", "overdue")):
            if "/p95(1k)" not in r["measure"]:
                lines.append(f"- (for reference) {r['measure']}, {r['db']}: {r['ratio']}")
                continue
            verdict = "met" if r["ratio"] <= 2 else "NOT met"
            if "100k" not in r["measure"] and "M)" not in r["measure"]:
                verdict += " (the target is to 100k: `--full`)"
            lines.append(f"- {r['measure']} ≤ 2, {r['db']}: **{r['ratio']}** — {verdict}")
    if any(result.name == "queries" for result in results):  # issue 20: the province dashboard
        lines += importlib.import_module("bench.queries").dashboard_targets(rows)
    for r in rows:
        if r.get("measure") == "timers, 4 workers":
            scale = "" if r["timers"] >= 10_000 else f" ({r['timers']:,} timers, not the 10,000 of the target)"
            verdict = "met" if r["seconds"] <= 30 and r["timers"] >= 10_000 else (
                "NOT met" if r["timers"] >= 10_000 else "not measured at full size")
            lines.append(f"- 10,000 timers in ≤ 30 s with 4 workers, {r['db']}: **{r['seconds']} s**{scale}, "
                         f"exactly once: {r['exactly_once']} — {verdict}")
    for r in rows:
        if r.get("measure") == "dossier, typical case":
            verdict = "met" if r["median_ms"] <= 300 else "NOT met"
            lines.append(f"- A typical dossier ≤ 300 ms, {r['db']}: **{r['median_ms']} ms** (median) — {verdict}")
    for r in rows:
        if r.get("measure", "").startswith(("GET", "POST")) and "errors" in r:
            lines.append(f"- HTTP under load {r['measure']}, {r['db']}: {r['req_per_s']} requests/s, p95 "
                         f"{r['p95_ms']} ms, errors {r['errors']} — {'met' if r['errors'] == 0 else 'NOT met'} "
                         "(zero errors)")
    lines += importlib.import_module("bench.pages").target_lines(rows)  # issue 20: bytes and time per page
    return lines


def environment(pg_url: str | None) -> list[str]:
    load = os.getloadavg()
    lines = [f"- Date: {clock.local(clock.now()):%d/%m/%Y %H:%M} (Asia/Ho_Chi_Minh)",
             f"- CPUs: {os.cpu_count()} ({platform.processor() or platform.machine()}), "
             f"load average at the end of the run: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)",
             f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"]
    if pg_url:
        try:
            version = subprocess.run(["psql", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            version = "psql not found"
        lines.append(f"- PostgreSQL: {version} on 127.0.0.1 (database case56_bench)")
    if shutil.which("wrk"):
        lines.append("- Load generator: wrk (Debian) for GET, Python http.client threads for the API POST")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="full sizes (100,000 cases, 10,000 timers)")
    parser.add_argument("--pg", action="store_true", help="also on PostgreSQL (database case56_bench)")
    parser.add_argument("--pg-url", default=PG_URL, help="the benchmark's PostgreSQL database (not `test`)")
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(name for name, _ in SECTIONS))
    parser.add_argument("--steps-only", action="store_true", help="the step benchmark alone (= --only steps)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the Markdown tables (default: docs/benchmarks.md, or "
                             "docs/benchmarks-national.md with --national; a partial run, --only or "
                             "--steps-only, writes only where --out says)")
    parser.add_argument("--national", action="store_true",
                        help="the work-list queries alone at 1,000 to 1,000,000 cases, on PostgreSQL only (the "
                             "national deployment's database; about 40 minutes and 20 GB)")
    args = parser.parse_args(argv)
    if args.steps_only:
        args.only = "steps"
    partial = bool(args.only) and not args.national
    if args.national:
        args.pg, args.only, args.full = True, "queries", True
    out = args.out or (None if partial else OUT_NATIONAL if args.national else OUT)
    if args.pg and args.pg_url.rstrip("/").rsplit("/", 1)[-1].split("?")[0] in {"test", "postgres"}:
        parser.error("give the benchmark a database of its own (not `test` or `postgres`)")
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - {name for name, _ in SECTIONS}
    if unknown:
        parser.error(f"no such section: {', '.join(sorted(unknown))}")

    from bench import synthetic

    pg_url = args.pg_url if args.pg else None
    if pg_url:
        synthetic.ensure_pg_database(pg_url)
    work = tempfile.mkdtemp(prefix="case56-bench-")
    os.environ["TMPDIR"] = work  # every SQLite file of this run goes here, removed at the end
    tempfile.tempdir = work
    run = Run(args.full, pg_url, args.national, Engine())
    started = time.perf_counter()
    results: list[Result] = []
    try:
        for name, build in SECTIONS:
            if not only or name in only:
                title, call = build(run)
                section(name, title, call, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    total = time.perf_counter() - started
    if out is None:
        print(f"\nA partial run ({total / 60:.1f} min): {OUT.name} not written (give --out to write the tables)")
        return
    write(out, results, args.full, pg_url, total, argv if argv is not None else sys.argv[1:])
    print(f"\nWritten to {out} ({total / 60:.1f} min)")


def kept_sections(path: Path) -> list[str]:
    """Sections a standalone tool writes into the document itself (bench/name_search.py's name search at a
    million cases, too long for this run): carried over as they are, from the file being replaced or else
    from docs/benchmarks.md."""
    from bench.name_search import SECTION

    for source in (path, OUT):
        if source.exists():
            found = re.search(re.escape(SECTION) + r".*?(?=\n## |\n### |\Z)", source.read_text(encoding="utf-8"),
                              re.S)
            if found:
                return [found.group(0).rstrip("\n") + "\n"]
    return []


def write(path: Path, results: list[Result], full: bool, pg_url: str | None, total: float,
          argv: list[str]) -> None:
    text = [
        "# Benchmarks",
        "",
        f"Written by `python -m bench {' '.join(argv)}`".rstrip() + f" in {total / 60:.1f} min "
        f"({'full' if full else 'default (small)'} sizes; "
        f"{'SQLite and PostgreSQL' if pg_url else 'SQLite only'}). Methods: the docstrings of bench/*.py.",
        "",
        *environment(pg_url),
        "",
        "Wall-clock figures depend on what else the machine runs: each table ends with the load average during it.",
        "",
        "## Targets",
        "",
        *(targets(results, full) or ["- (no target measured in this run)"]),
        "",
        "## Figures",
        "",
    ]
    for result in results:
        text.append(render_table(result.title, result.rows, result.footer, result.error, markdown=True,
                                 notes=result.notes))
    text += kept_sections(path)
    text.append(NOTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(text), encoding="utf-8")


if __name__ == "__main__":
    main()
