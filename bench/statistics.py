"""Benchmark: the statistics report (engine.statistics) at 100,000 cases.

    .venv/bin/python bench/statistics.py [--cases 100000] [--pg] [--pg-url URL] [--keep]

Builds a synthetic data set with SQLAlchemy core `insert()` executemany — cases spread over 2025–2026 across
5 provinces × 40 communes, one child in ten reported twice, ~9 task rows per case along the Decree 56 path
(open cases stop at a random step, some past their limit) — on a temporary SQLite file, and with --pg also on
PostgreSQL in its own database `case56_bench` (created if missing, its schema dropped and rebuilt: never the
test database). Then times `statistics.report` for a national inspector, a province supervisor and a commune
officer, for a half-year and a whole year, and each figure's query on its own.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--pg", action="store_true", help="also run on PostgreSQL (database case56_bench)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/case56_bench")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL (with --pg)")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file and print its path")
    args = parser.parse_args()

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
