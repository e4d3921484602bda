"""Queries at scale: the reads people wait for, on a synthetic case load of growing size.

- inbox of a commune officer and of a province supervisor (engine.worklists.inbox, first page),
- a province supervisor's overdue list (engine.worklists.overdue, first page),
- the case page's data (engine.casefile.load + audit_trail of one case),
- the province dashboard page (GET /supervisor, web/views/supervisor.py: counts, charts, overdue page,
  escalations, stranded cases, workload), rendered in-process through the Flask test client by the five
  province supervisors in turn (issue 20's target: p95 ≤ 50 ms at 100,000 cases).

Each call runs in a new session, as a web request would (the connection comes from the pool, the identity
map is empty). Users and cases rotate: ten officers of different communes, the five province supervisors,
random cases. The database grows in place (1,000 → 10,000 → 100,000 cases) and each size is measured after
a VACUUM ANALYZE and a CHECKPOINT on PostgreSQL (what autovacuum and the checkpointer do after a bulk
load); SQLite is used as it comes (no ANALYZE). Besides the wall-clock percentiles, the mean CPU time of the
benchmark process per call is given.

`python -m bench.queries --dashboard URL [PAGES]` times the dashboard alone on a database that already exists
(e.g. bench/statistics.py's 100,000-case case56_bench_100k, given its accounts by `ensure_people`).
"""

from __future__ import annotations

import logging
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bench.synthetic import Synthetic, fresh_database
from engine import access, casefile, clock, worklists
from engine.models import Case, OrgUnit, User, make_session_factory
from engine.runtime import Engine
from web import demo

WARMUP = 10
DASHBOARD = "province dashboard page"  # the measure's name in the rows
DASHBOARD_TARGET = "province dashboard p95 ≤ 50 ms at 100,000 cases"  # issue 20


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _actors(session: Session, usernames: list[str]) -> list[access.Actor]:
    users = session.scalars(select(User).where(User.username.in_(usernames)).order_by(User.username)).all()
    return [access.Actor.of(u.username, u.role, u.org_unit, u.id) for u in users]


def _time(session_factory: Callable[[], Session], call: Callable[[Session, int], Any],
          repeat: int) -> tuple[list[float], float]:
    """Wall-clock samples (ms) and the mean CPU time of this process per call (ms): on a busy machine the
    CPU time tells the work done from the time spent waiting for a processor."""
    samples, cpu = [], 0.0
    for i in range(WARMUP + repeat):
        with session_factory() as session:
            start, start_cpu = time.perf_counter(), time.process_time()
            call(session, i)
            elapsed, used = time.perf_counter() - start, time.process_time() - start_cpu
        if i >= WARMUP:
            samples.append(elapsed * 1000)
            cpu += used * 1000
    return samples, cpu / repeat


def dashboard_client(url: str, username: str) -> Any:
    """A Flask test client of the app on `url`, signed in as `username` through the real log-in form."""
    import re

    from web import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                      "CASE56_ATTACHMENTS": tempfile.mkdtemp(prefix="case56-bench-att-"),
                      "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789"})
    # The request log's lines (one per page, to stderr) would bury the figures; its cost stays out of them.
    logging.getLogger("case56.request").setLevel(logging.WARNING)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    answer = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                         "csrf_token": match.group(1) if match else ""})
    if answer.status_code != 302:
        raise RuntimeError(f"bench log-in of {username} failed: HTTP {answer.status_code}")
    return client


def time_dashboard(url: str, usernames: list[str], repeat: int) -> tuple[list[float], float]:
    """GET /supervisor in turn by each supervisor: wall-clock samples (ms) and mean CPU per page (ms)."""
    clients = [dashboard_client(url, name) for name in usernames]
    samples, cpu = [], 0.0
    for i in range(WARMUP + repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = clients[i % len(clients)].get("/supervisor")
        elapsed, used = time.perf_counter() - start, time.process_time() - start_cpu
        if response.status_code != 200:
            raise RuntimeError(f"/supervisor answered HTTP {response.status_code}")
        if i >= WARMUP:
            samples.append(elapsed * 1000)
            cpu += used * 1000
    return samples, cpu / repeat


def measure(synthetic: Synthetic, repeat: int = 200) -> dict[str, tuple[list[float], float]]:
    """Latency samples (ms) and mean CPU (ms) of each query on the database as it is now."""
    factory = synthetic.session_factory
    pick = random.Random(7)
    officers_units = pick.sample(synthetic.units, 10)
    bind = synthetic.session_factory.kw["bind"]
    if bind.dialect.name == "postgresql":
        # A settled database, as autovacuum and the checkpointer leave it after a bulk load: statistics for the
        # planner, the visibility map that lets counts read the index alone, no pending writes of the load.
        with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            conn.execute(text("CHECKPOINT"))
    with factory() as session:
        officers = _actors(session, [u.users["canbo"] for u in officers_units])
        supervisors = _actors(session, sorted({u.users["giamsat"] for u in synthetic.units}))
        top = session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1))
        case_ids = [pick.randint(1, top) for _ in range(WARMUP + repeat)]

    def case_page(session: Session, i: int) -> None:
        casefile.load(session, case_ids[i])
        casefile.audit_trail(session, case_ids[i])

    return {
        "inbox (officer)": _time(factory, lambda s, i: worklists.inbox(s, officers[i % len(officers)]), repeat),
        "inbox (supervisor)": _time(factory, lambda s, i: worklists.inbox(s, supervisors[i % len(supervisors)]),
                                    repeat),
        "overdue (supervisor)": _time(factory, lambda s, i: worklists.overdue(s, supervisors[i % len(supervisors)]),
                                      repeat),
        "case page data": _time(factory, case_page, repeat),
        DASHBOARD: time_dashboard(synthetic.url, [a.username for a in supervisors], repeat),
    }


def size_label(cases: int) -> str:
    return f"{cases // 1_000_000}M" if cases >= 1_000_000 else f"{cases // 1000}k"


def run(sizes: tuple[int, ...] = (1_000, 10_000), pg_url: str | None = None, repeat: int = 200,
        log: Callable[[str], None] = print, databases: dict[str, tuple[str, int]] | None = None,
        kinds: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Measure at each size; `databases` receives each backend's (url, cases) at the largest size."""
    rows: list[dict[str, Any]] = []
    kinds = kinds or ("sqlite", *(("postgresql",) if pg_url else ()))
    for kind in kinds:
        url = fresh_database(kind, "bench_queries", **({"pg_url": pg_url} if pg_url else {}))
        synthetic = Synthetic(url).prepare()
        by_size: dict[int, dict[str, tuple[list[float], float]]] = {}
        for size in sizes:
            seconds = synthetic.add(size - synthetic.cases)
            with synthetic.session_factory() as session:
                cases = session.scalar(text("SELECT count(*) FROM case_file"))
            log(f"  queries/{kind}: {cases} cases (generated in {seconds:.0f} s)")
            by_size[size] = measure(synthetic, repeat)
            for name, (samples, cpu) in by_size[size].items():
                rows.append({"measure": name, "db": kind, "cases": cases,
                             "p50_ms": round(statistics.median(samples), 2),
                             "p95_ms": round(percentile(samples, 0.95), 2), "cpu_ms": round(cpu, 2)})
        last = sizes[-1]
        # The target's ratio (largest over the first size) and, with three sizes, largest over the middle one:
        # at 1,000 cases an officer's page is not yet full (a few tasks, no count), from 10,000 on it is.
        for first in sizes[:-1] if len(sizes) > 2 else sizes[:1]:
            for name in by_size[first]:
                growth = percentile(by_size[last][name][0], 0.95) / percentile(by_size[first][name][0], 0.95)
                rows.append({"measure": f"{name}: growth p95({size_label(last)})/p95({size_label(first)})", "db": kind,
                             "ratio": round(growth, 2)})
        synthetic.session_factory.kw["bind"].dispose()
        if databases is not None:
            databases[kind] = (url, cases)
    return rows


def dashboard_targets(rows: list[dict[str, Any]]) -> list[str]:
    """Issue 20's dashboard target against a run's rows, one line per database: met or NOT met at 100,000
    cases (in-process, `measure`), otherwise not measured at that size; HTTP under load (bench/http.py) beside
    it for reference."""
    lines = []
    measured = {r["db"]: r for r in rows if r.get("measure") == DASHBOARD and "p95_ms" in r}
    for db in sorted(measured) or ["sqlite", "postgresql"]:
        r = measured.get(db)
        if r is None:
            lines.append(f"- {DASHBOARD_TARGET}, {db}: not measured in this run")
        elif r["cases"] < 100_000:
            lines.append(f"- {DASHBOARD_TARGET}, {db}: {r['p95_ms']} ms at {r['cases']:,} cases — not measured at "
                         "100,000 (`--full`)")
        else:
            verdict = "met" if r["p95_ms"] <= 50 else "NOT met"
            lines.append(f"- {DASHBOARD_TARGET}, {db}, in-process at {r['cases']:,} cases: **{r['p95_ms']} ms** "
                         f"(p50 {r['p50_ms']} ms, CPU {r['cpu_ms']} ms per page) — {verdict}")
    for r in rows:
        if r.get("measure", "").startswith("GET province dashboard") and "p95_ms" in r:
            lines.append(f"- (for reference) {r['measure']} over HTTP under load, {r['db']}, {r.get('cases', 0):,} "
                         f"cases: p95 {r['p95_ms']} ms")
    return lines


def ensure_people(url: str) -> list[str]:
    """Give a database built without accounts (bench/statistics.py's case56_bench_100k: cases and tasks only) a
    supervisor per province and an officer and a chairman per commune, so the dashboard can be measured on it
    (the officers and chairmen make its open steps workable, as they are in production: without them every
    open case would be listed as stranded). Adds only the missing accounts; returns the supervisors."""
    from werkzeug.security import generate_password_hash

    from bench.synthetic import FAST_HASH

    factory = make_session_factory(url)
    with factory() as session:
        existing = set(session.scalars(select(User.username)))
        password = generate_password_hash(demo.DEMO_PASSWORD, method=FAST_HASH)
        now = clock.now()
        supervisors = []
        for unit in session.scalars(select(OrgUnit).order_by(OrgUnit.id)):
            roles = (("giamsat", "supervisor"),) if unit.kind == "province" else (("canbo", "officer"),
                                                                                  ("chutich", "chairman"))
            for prefix, role in roles:
                name = f"{prefix}.{unit.code.lower().replace('-', '')}"
                if role == "supervisor":
                    supervisors.append(name)
                if name not in existing:
                    session.add(User(username=name, full_name=f"{prefix} {unit.code}", role=role, org_unit_id=unit.id,
                                     password_hash=password, created_at=now, locale="vi"))
        if session.get_bind().dialect.name == "postgresql":
            # bench/statistics.py writes process_version 1 with its id: the first page would store the shipped
            # process under the same id (a unique violation) unless the sequence moves past it.
            session.execute(text("SELECT setval(pg_get_serial_sequence('process_version', 'id'), "
                                 "(SELECT max(id) FROM process_version))"))
        # The shipped process stored once, as an installation's first request does: otherwise every measured
        # page would store it again in its transaction (a GET commits nothing) and time that too.
        Engine().registry.ensure_version(session)
        session.commit()
    factory.kw["bind"].dispose()
    return supervisors


def dashboard_main(url: str, repeat: int) -> None:
    """GET /supervisor at the size the database already has, every province's supervisor in turn."""
    supervisors = ensure_people(url)
    with make_session_factory(url)() as session:
        cases = session.scalar(text("SELECT count(*) FROM case_file"))
    samples, cpu = time_dashboard(url, supervisors, repeat)
    print(f"province dashboard page, {cases} cases, {len(supervisors)} supervisors, {repeat} pages: "
          f"p50 {statistics.median(samples):.1f} ms, p95 {percentile(samples, 0.95):.1f} ms, "
          f"max {max(samples):.1f} ms, CPU {cpu:.1f} ms per page")


if __name__ == "__main__":  # pragma: no cover
    # `python -m bench.queries --dashboard URL [PAGES]`: the dashboard alone on an existing database.
    import sys

    if len(sys.argv) > 2 and sys.argv[1] == "--dashboard":
        dashboard_main(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 200)
    else:
        for row in run():
            print(row)
