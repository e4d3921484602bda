"""Benchmark: the statistics report (engine.statistics) at 100,000 and 1,000,000 cases.

    .venv/bin/python bench/statistics.py [--cases 100000] [--pg] [--pg-url URL] [--keep]
    .venv/bin/python bench/statistics.py --national [--pg-url postgresql://…/case56_bench_1m] [--rounds 3]

Builds a synthetic data set with SQLAlchemy core `insert()` executemany — cases spread over 2025–2026 across
5 provinces × 40 communes, one child in ten reported twice, ~9 task rows per case along the Decree 56 path
(open cases stop at a random step, some past their limit) — on a temporary SQLite file, and with --pg also on
PostgreSQL in its own database `case56_bench` (created if missing, its schema dropped and rebuilt: never the
test database). Then times `statistics.report` for a national inspector, a province supervisor and a commune
officer, for a half-year and a whole year, and each figure's query on its own.

--national (issue 20's target: indicator 0101 and compliance for a year ≤ 1 s at 1,000,000 cases on
PostgreSQL) uses its own database, `case56_bench_1m` by default: built once with --cases (1,000,000 by default)
and REUSED when it already holds that many cases (the build takes 30–40 minutes on a busy 2-CPU machine); it is
migrated to the newest schema (migrations 0023 and 0024 backfill the rollups), VACUUM ANALYZEd, and then each
measure runs `--rounds` times, interleaved: compliance from the rollup (what the report uses) and from the direct
query (`compliance_direct`, the definition), indicator 0101 likewise (`children`, `children_direct`) — rollup and
direct checked equal on every call —, and with --whole-report the whole report. It prints the figures and
rewrites its own section of docs/benchmarks-national.md
(between the statistics markers; the rest of the file is bench/__main__.py's), with date, load average, rounds.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script, this folder comes first on sys.path: put the repository there instead, or this file
# would shadow the standard library's `statistics` module.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from engine import access, schema  # noqa: E402
from engine import statistics as st  # noqa: E402
from engine.models import Case, OrgUnit, ProcessVersion, Task, database_url, make_engine  # noqa: E402

PG_BENCH_URL = "postgresql://postgres@127.0.0.1:5432/case56_bench"
PROVINCES, COMMUNES_PER_PROVINCE = 5, 40
BATCH = 5000
START, END = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 15, 3, 0, tzinfo=UTC)
CATEGORIES = (["xam_hai"] * 6 + ["nguy_co_bao_luc"] * 2 + ["nguy_co_boc_lot", "nguy_co_bo_roi", "hoan_canh_dac_biet"])
FORMS = ["bao_luc", "xam_hai_tinh_duc", "boc_lot", "mua_ban", "bo_roi", "bo_mac", "other"]
ENVIRONMENTS = ["gia_dinh", "truong_hoc", "cong_dong", "moi_truong_mang", "other", None]
# (step, role, limit in hours after the previous step, form) along the usual path
PATH = [("verify", "officer", 12, "verification"), ("initial_assessment", "officer", 12, "mau_02"),
        ("emergency_decision", "chairman", 12, "emergency_decision"),
        ("detailed_assessment", "officer", 120, "mau_03"), ("needs_meeting", "officer", 120, "needs_meeting"),
        ("draft_plan", "officer", 120, "mau_04"), ("draft_decision", "officer", 120, "mau_05"),
        ("approve_plan", "chairman", 48, "plan_approval"), ("carry_out_activity", "partner", 720, "activity_report"),
        ("review", "officer", 1000, "mau_06"), ("end_plan", "chairman", 48, "plan_end")]


def units(session: Session) -> list[tuple[int, int, str]]:
    """(commune id, province id, commune code) of the synthetic units."""
    communes = []
    for p in range(1, PROVINCES + 1):
        province = OrgUnit(code=f"B{p:02d}", name=f"Tỉnh thử nghiệm {p}", kind="province")
        session.add(province)
        session.flush()
        for c in range(1, COMMUNES_PER_PROVINCE + 1):
            code = f"B{p:02d}-X{c:03d}"
            commune = OrgUnit(code=code, name=f"Xã thử nghiệm {p}-{c}", kind="commune", parent_id=province.id)
            session.add(commune)
            session.flush()
            communes.append((commune.id, province.id, code))
    session.add(ProcessVersion(id=1, process_id="decree56_case", content_hash="bench", file_name="bench.bpmn",
                               loaded_at=NOW, bpmn="<bench/>"))
    session.commit()
    return communes


def synthetic(n: int, communes: list[tuple[int, int, str]], rng: random.Random) -> Iterator[tuple[list, list]]:
    """Batches of (case rows, task rows)."""
    span = (END - START).total_seconds()
    cases: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    task_id = 0
    children: list[tuple[str, int, int]] = []
    for case_id in range(1, n + 1):
        commune_id, province_id, code = rng.choice(communes)
        received = START + timedelta(seconds=rng.random() * span)
        if children and rng.random() < 0.1:  # the same child reported again, in their commune
            child_key, commune_id, province_id = rng.choice(children)
        else:
            child_key = f"{case_id:064x}"
            children.append((child_key, commune_id, province_id))
        category = rng.choice(CATEGORIES)
        roll = rng.random()
        status = "no_basis" if roll < 0.08 else "closed" if roll < 0.6 else "open"
        emergency = rng.random() < 0.2
        steps = [s for s in PATH if emergency or s[0] != "emergency_decision"]
        if status == "no_basis":
            steps = steps[:1]
        stop = len(steps) if status != "open" else rng.randrange(len(steps))
        moment, rows = received, []
        rows.append({"step": "receive", "role": "intake", "state": "completed", "created_at": received,
                     "completed_at": received, "due_at": None, "form": "mau_01", "form_data": None})
        for index, (step, role, limit, form) in enumerate(steps[: stop + 1]):
            created = moment
            due = created + timedelta(hours=limit)
            if index < stop:
                moment = created + timedelta(hours=rng.uniform(0.1, limit * 1.3))  # about one in four late
                data = {"decision": "approve"} if step == "approve_plan" else None
                rows.append({"step": step, "role": role, "state": "completed", "created_at": created,
                             "completed_at": moment, "due_at": due, "form": form, "form_data": data})
            elif created < NOW:
                rows.append({"step": step, "role": role, "state": "ready", "created_at": created,
                             "completed_at": None, "due_at": due, "form": form, "form_data": None})
        closed_at = moment if status != "open" else None
        cases.append({
            "id": case_id, "number": f"{code}-{case_id:07d}", "year": received.year, "seq": case_id,
            "commune_id": commune_id, "province_id": province_id, "category": category, "child_key": child_key,
            "child_sex": rng.choice(["male", "female", "female", None]),
            "child_age": rng.choice([*range(16), None]),
            "abuse_forms": rng.sample(FORMS, rng.choice([0, 1, 1, 1, 2])), "environment": rng.choice(ENVIRONMENTS),
            "status": status, "stage": "" if status != "open" else rows[-1]["step"], "received_at": received,
            "opened_at": received, "closed_at": closed_at, "process_version_id": 1, "linked_case_id": None,
            "created_by": "bench", "updated_at": moment, "version": 1,
        })
        for row in rows:
            task_id += 1
            tasks.append({"id": task_id, "case_id": case_id, "spiff_id": f"t{task_id}", "title": row["step"],
                          "commune_id": commune_id, "province_id": province_id, "assignee": None,
                          "completed_by": "bench" if row["completed_at"] else None, **row})
        if len(cases) >= BATCH:
            yield cases, tasks
            cases, tasks = [], []
    if cases:
        yield cases, tasks


def build(url: str, n: int, seed: int = 56) -> tuple[float, int]:
    schema.upgrade(url)
    engine = make_engine(url)
    rng = random.Random(seed)
    started = time.perf_counter()
    task_count = 0
    with Session(engine) as session:
        communes = units(session)
    with engine.begin() as conn:
        for cases, tasks in synthetic(n, communes, rng):
            conn.execute(insert(Case.__table__), cases)
            conn.execute(insert(Task.__table__), tasks)
            task_count += len(tasks)
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - started, task_count


def timed(fn: Any, *args: Any, repeat: int = 3, **kwargs: Any) -> tuple[float, Any]:
    """Best of `repeat` runs (the first also warms the caches), in seconds."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - started)
    return best, result


def measure(url: str, label: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        province_id = session.scalar(text("SELECT id FROM org_unit WHERE code = 'B01'"))
        commune_id = session.scalar(text("SELECT id FROM org_unit WHERE code = 'B01-X001'"))
        actors = {
            "national inspector": access.Actor("bench-nation", "inspector"),
            "province supervisor": access.Actor("bench-province", "supervisor", None, province_id),
            "commune officer": access.Actor("bench-commune", "officer", commune_id, province_id),
        }
        print(f"\n[{label}] report time (best of 3)")
        for period_id in ("2026-H1", "2025-Y"):
            period = st.resolve_period(period_id)
            for who, actor in actors.items():
                seconds, result = timed(st.report, session, actor, period, now=NOW)
                print(f"  {period_id:8} {who:20} {seconds * 1000:8.0f} ms   children(0101)={result.children.total:6}"
                      f"  cases={sum(c.cases for c in result.categories):6}"
                      f"  compliance rows={len(result.compliance):5}  open now={result.open_cases}")
        period = st.resolve_period("2025-Y")
        actor = actors["national inspector"]
        q = st.ReportQuery(session, actor, period, st.resolve_scope(session, actor))
        config = st.load_config()
        print("  2025-Y national, per figure:")
        for name, fn, args in (("children (0101)", st.children, (q, config)), ("categories", st.categories, (q,)),
                               ("units", st.units, (q,)), ("compliance", st.compliance, (q, NOW, {})),
                               ("durations", st.durations, (q,)), ("stages", st.stages, (q, {}))):
            seconds, _result = timed(fn, *args)
            print(f"    {name:18} {seconds * 1000:8.0f} ms")
        durations = st.durations(q)
        for d in durations:
            median = f"{d.median_seconds / 3600:.1f} h" if d.median_seconds is not None else "-"
            p90 = f"{d.p90_seconds / 3600:.1f} h" if d.p90_seconds is not None else "-"
            print(f"    {d.measure:14} n={d.count:6} median={median:>9} p90={p90:>9}")


def prepare_pg(url: str) -> str:
    """Create the bench database if missing and empty its schema; refuse the test database."""
    target = make_url(database_url(url))
    if target.database in {"test", "postgres", None}:
        raise SystemExit(f"refusing to use database {target.database!r}: give a database of its own")
    admin = make_engine(str(target.set(database="postgres")))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    with make_engine(url).begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    return url


NATIONAL_URL = "postgresql://postgres@127.0.0.1:5432/case56_bench_1m"
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks-national.md"
MARK_START, MARK_END = "<!-- bench/statistics.py --national: start -->", "<!-- bench/statistics.py --national: end -->"


def reuse_or_build(url: str, n: int, log: Any = print) -> int:
    """The bench database at `url` with `n` cases: reused if it holds exactly that many, else rebuilt."""
    target = make_url(database_url(url))
    admin = make_engine(str(target.set(database="postgres")))
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database})
    admin.dispose()
    cases = 0
    if exists:
        engine = make_engine(url)
        with engine.connect() as conn:
            has_table = conn.scalar(text("SELECT to_regclass('public.case_file') IS NOT NULL"))
            cases = conn.scalar(text("SELECT count(*) FROM case_file")) if has_table else 0
        engine.dispose()
    if cases != n:
        seconds, _tasks = build(prepare_pg(url), n)
        log(f"built {n} cases in {seconds:.0f} s")
    else:
        log(f"reusing {target.database}: {cases} cases")
    started = time.perf_counter()
    schema.upgrade(url)
    with make_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    log(f"migrated and analysed in {time.perf_counter() - started:.0f} s")
    return n


def national(url: str, n: int, rounds: int = 3, log: Any = print, whole_report: bool = False) -> list[dict[str, Any]]:
    """Per measure: min / median / max ms over `rounds` interleaved rounds (a fresh session per call)."""
    reuse_or_build(url, n, log)
    engine = make_engine(url)
    with Session(engine) as session:
        province_id = session.scalar(text("SELECT id FROM org_unit WHERE code = 'B01'"))
        commune_id = session.scalar(text("SELECT id FROM org_unit WHERE code = 'B01-X001'"))
    actors = {"national": access.Actor("bench-nation", "inspector"),
              "province": access.Actor("bench-province", "supervisor", None, province_id),
              "commune": access.Actor("bench-commune", "officer", commune_id, province_id)}
    config = st.load_config()
    measures: dict[str, Any] = {}
    for period_id in ("2025-Y", "2026-H1"):
        period = st.resolve_period(period_id)
        for who, actor in actors.items():
            def query(session: Session, actor: access.Actor = actor, period: st.Period = period) -> st.ReportQuery:
                return st.ReportQuery(session, actor, period, st.resolve_scope(session, actor))
            measures[f"compliance {period_id}, {who} (rollup)"] = (
                lambda s, q=query: st.compliance(q(s), NOW, {}))
            measures[f"compliance {period_id}, {who} (direct query)"] = (
                lambda s, q=query: st.compliance_direct(q(s), NOW, {}))
            measures[f"indicator 0101 {period_id}, {who} (rollup)"] = lambda s, q=query: st.children(q(s), config)
            measures[f"indicator 0101 {period_id}, {who} (direct query)"] = (
                lambda s, q=query: st.children_direct(q(s), config))
            if whole_report:
                measures[f"whole report {period_id}, {who}"] = (
                    lambda s, a=actor, p=period: st.report(s, a, p, now=NOW))
    samples: dict[str, list[float]] = {name: [] for name in measures}
    loads = []
    for round_no in range(rounds):
        for name, call in measures.items():
            with Session(engine) as session:
                started = time.perf_counter()
                call(session)
                samples[name].append((time.perf_counter() - started) * 1000)
            if name.endswith("(direct query)"):  # exact: the rollup's figures equal the definition's
                with Session(engine) as session:
                    rolled = measures[name.replace("(direct query)", "(rollup)")](session)
                    direct = call(session)
                if rolled != direct:
                    raise SystemExit(f"{name}: the rollup differs from the direct query")
        loads.append(os.getloadavg()[0])
        log(f"  round {round_no + 1}/{rounds} done (load {loads[-1]:.1f})")
    engine.dispose()
    rows = []
    for name, values in samples.items():
        ordered = sorted(values)
        rows.append({"measure": name, "db": "postgresql", "cases": n, "min_ms": round(ordered[0]),
                     "median_ms": round(ordered[len(ordered) // 2]), "max_ms": round(ordered[-1])})
        log(f"  {name:52} min {ordered[0]:7.0f}  median {ordered[len(ordered) // 2]:7.0f}  max {ordered[-1]:7.0f} ms")
    rows.append({"measure": "load average (1 min) after each round", "loads": [round(x, 1) for x in loads]})
    return rows


DESIGN = """How (issue 20): both figures come from rollups kept by database triggers in the statement that changes
a step or a report (engine/rollups.py; the step path issues no extra SQL statement), backfilled by their migrations.
Compliance: `stat_compliance_day` (migration 0023) counts steps with a limit completed on time and late per (the
case's current commune, step, title, Vietnam local day) and per month; a period sums its whole months and the days
of its partial months; open steps (overdue / pending now) are read live from a partial index. Indicator 0101:
`stat_child_mark` (migration 0024) holds one row per fact a counted report adds to its child (the child with sex
and age, environment, ethnic group, each form, each relationship…) with the receipt of the child's previous such
row in the country, province and commune, recomputed for the child when one of their reports changes; a child
counts once under a value when one of their rows is in the period and the previous one is not, so distinct
children are a plain count from one index. `compliance_direct` and `children_direct` keep the definitions;
tests/engine/test_statistics_rollups.py checks rollup and direct equal on SQLite and PostgreSQL after varied cases
(late, closed, the same child reported twice, reopened, transferred, moved to another province, restricted,
destroyed by retention) and row-level changes, and this benchmark checks them equal on every call."""


def write_section(rows: list[dict[str, Any]], rounds: int, seconds: float, path: Path = DOC) -> None:
    """Rewrite this benchmark's section of the national benchmarks document (appended if absent)."""
    stamp = datetime.now(st.clock.LOCAL_TZ).strftime("%d/%m/%Y %H:%M")
    figures = [r for r in rows if "min_ms" in r]
    loads = next((r["loads"] for r in rows if "loads" in r), [])
    target = [r for r in figures if r["measure"] in ("compliance 2025-Y, national (rollup)",
                                                     "indicator 0101 2025-Y, national (rollup)")]
    lines = [MARK_START, "", f"### National statistics at {figures[0]['cases']:,} cases (PostgreSQL)", "",
             f"Written by `python {' '.join(sys.argv)}` on {stamp} (Asia/Ho_Chi_Minh) in {seconds:.0f} s: "
             f"{rounds} interleaved rounds, a new session per call; CPUs: {os.cpu_count()}; load average (1 min) "
             f"after each round: {', '.join(str(x) for x in loads)}, at the end: "
             f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())} (1/5/15 min). Every rollup result was checked "
             "equal to the direct query's.", "", "Target (issue 20): indicator 0101 and compliance for a year, "
             "national, ≤ 1 s:", ""]
    at_scale = figures[0]["cases"] >= 1_000_000
    for row in target:
        verdict = ("met" if row["median_ms"] <= 1000 else "NOT met") if at_scale else \
            f"target not judged: this run is at {figures[0]['cases']:,} cases, the target at 1,000,000"
        lines.append(f"- {row['measure']}: median **{row['median_ms']} ms** — {verdict}")
    lines += ["", DESIGN]
    lines += ["", "| measure | min_ms | median_ms | max_ms |", "|---|---|---|---|"]
    lines += [f"| {r['measure']} | {r['min_ms']} | {r['median_ms']} | {r['max_ms']} |" for r in figures]
    lines += ["", MARK_END]
    text_now = path.read_text(encoding="utf-8") if path.exists() else ""
    block = "\n".join(lines)
    if MARK_START in text_now and MARK_END in text_now:
        head, rest = text_now.split(MARK_START, 1)
        text_now = head + block + rest.split(MARK_END, 1)[1]
    else:
        text_now = text_now.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text_now, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--national", action="store_true",
                        help="PostgreSQL only, a reused database of --cases (1,000,000 by default); writes the doc")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--whole-report", action="store_true", help="with --national: time the whole report too "
                        "(its other figures — units, durations, stages — read every case of the period)")
    parser.add_argument("--no-doc", action="store_true", help="with --national: print only")
    parser.add_argument("--cases", type=int, default=None)
    parser.add_argument("--pg", action="store_true", help="also run on PostgreSQL (database case56_bench)")
    parser.add_argument("--pg-url", default=PG_BENCH_URL)
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL (with --pg)")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file and print its path")
    args = parser.parse_args()
    if args.national:
        started = time.perf_counter()
        url = args.pg_url if args.pg_url != PG_BENCH_URL else NATIONAL_URL
        rows = national(url, args.cases or 1_000_000, args.rounds, whole_report=args.whole_report)
        if not args.no_doc:
            write_section(rows, args.rounds, time.perf_counter() - started)
            print(f"wrote its section of {DOC}")
        return
    args.cases = args.cases or 100_000

    targets = []
    tmp = tempfile.mkdtemp(prefix="case56-bench-")
    if not (args.no_sqlite and args.pg):
        targets.append(("sqlite", f"sqlite:///{tmp}/bench.sqlite3"))
    if args.pg:
        targets.append(("postgresql", prepare_pg(args.pg_url)))
    for label, url in targets:
        seconds, tasks = build(url, args.cases)
        print(f"[{label}] built {args.cases} cases and {tasks} task rows in {seconds:.1f} s")
        measure(url, label)
    if args.keep and Path(tmp, "bench.sqlite3").exists():
        print(f"\nSQLite file kept: {tmp}/bench.sqlite3")
    else:
        for path in Path(tmp).glob("*"):
            path.unlink()
        Path(tmp).rmdir()


if __name__ == "__main__":
    main()
