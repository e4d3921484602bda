"""Step throughput against floors that cannot flatter (issue 20), measured side by side in interleaved rounds.

One case is first driven to closure through case56 (report → verification → … → closure, two plan activities)
to record its path: each step's BPMN task, step name, form and the validated data case56 stored. Every measure
then runs that same path with that same data, `cases` cases per round:

1. engine floor — SpiffWorkflow alone on case56's own process (processes/decree56.bpmn as case56's registry
   parses it, its script engine and sandbox): take the task by its id (as case56 does from its task row; the
   search for the next step's id is untimed), set the data, run it, run the engine steps and timers as
   `Engine.advance` does; the workflow stays in memory (no load, no dump).
2. state-format floor — the same, plus case56's own state serializer (`Engine().state`, what engine/runtime.py
   loads and stores `case_workflow.state` with) around each step: load before, dump after; no database.
3. case56 `Engine.complete_task` on SQLite — validation, load, run, task/timer rows, audit, save, commit.
4. the same on PostgreSQL.
5. the API over HTTP: POST /api/v1/tasks/{id}/complete with each step's actor's Bearer token and If-Match,
   to gunicorn with ONE worker, from ONE client (sequential requests on one keep-alive connection), on SQLite
   and PostgreSQL. Only the request is timed; the client finds the next task and its actor in the database
   between requests, untimed. Its steps/s is the steps over the summed request times (1 / mean latency).

Reference only: raw SpiffWorkflow with its own JSON serializer, which writes and parses the whole process spec
on every save and load. It is NOT a floor: case56 never serialises the spec (engine/state.py).

Each round runs every measure once, in an order rotated by one each round, so a noisy moment of the shared
machine falls on different measures; each figure is given as min / median / max over the rounds. The headline
ratios divide (3) and (4) by (2) within each round (the median of those per-round ratios is the figure). Cases
are opened before the timing (untimed); one warm-up case per measure runs before the first round, not counted.
SQL statements per step are counted by engine/sqlcount.py (SQLAlchemy's before_cursor_execute event) around
each timed `complete_task` call only.
"""

from __future__ import annotations

import copy
import http.client
import json
import os
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bench.queries import percentile
from engine import clock, schema
from engine.models import Case, CaseWorkflow, Task, User, make_session_factory
from engine.runtime import Engine, run_engine_steps
from engine.sqlcount import count_statements
from web import demo

ENGINE_FLOOR = "(1) engine floor: case56's process in SpiffWorkflow, in memory, no load/dump"
STATE_FLOOR = "(2) state-format floor: (1) + case56's state load/dump per step, no database"
CASE56 = "(3/4) case56 Engine.complete_task"
HTTP = "(5) API POST /tasks/{id}/complete, gunicorn 1 worker, 1 client"
RAW = "reference, NOT a floor: raw SpiffWorkflow with full-spec serialisation per step"

# Issue 20's targets: ratio of case56 to the state-format floor, statements per step, HTTP p95 (ms).
TARGET_RATIO = {"sqlite": 0.7, "postgresql": 0.5}
TARGET_STATEMENTS = 8
TARGET_HTTP_P95 = {"sqlite": 10.0, "postgresql": 15.0}


@dataclass(frozen=True)
class PathStep:
    spec: str  # the BPMN task's name
    step: str  # case56's step (the anchor key)
    form: str
    data: dict[str, Any]  # the validated data case56 stored for it


@dataclass
class CasePath:
    """A freshly opened case's stored workflow state and the steps case56 took to close it."""

    initial: bytes
    serializer_version: str
    steps: list[PathStep]


@dataclass
class Sample:
    """One measure's work in one round."""

    steps: int
    seconds: float
    statements: list[int] = field(default_factory=list)  # per step (database measures)
    latencies_ms: list[float] = field(default_factory=list)  # per request (HTTP)
    errors: list[str] = field(default_factory=list)
    verbs: Counter[str] = field(default_factory=Counter)  # statements by first SQL word (database measures)

    @property
    def rate(self) -> float:
        return self.steps / self.seconds if self.seconds else 0.0


# -- the path ------------------------------------------------------------------------------------------------
def next_task(session: Session, case_id: int) -> Task | None:
    """The step demo.drive would complete next (the oldest open step that is not an escalation), or None."""
    return next((t for t in demo.open_tasks(session, case_id) if t.escalates_task_id is None), None)


def record_path(engine: Engine, factory: sessionmaker[Session]) -> CasePath:
    """Drive one case to closure through case56, noting each step's BPMN task and the data case56 stored."""
    with factory() as session:
        people = demo.cast(session)
        at = clock.now()
        case = engine.open_case(session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", at))
        row = session.get(CaseWorkflow, case.id)
        assert row is not None
        path = CasePath(bytes(row.state), row.serializer_version, [])
        for _ in range(60):
            task = next_task(session, case.id)
            if task is None:
                break
            spec = engine.load_workflow(session, case).get_task_from_id(UUID(task.spiff_id)).task_spec.name
            done = engine.complete_task(session, people.for_task(task), task.id, demo.sample(task.form, at))
            path.steps.append(PathStep(spec, done.step, done.form, copy.deepcopy(done.form_data)))
        session.commit()
    if not path.steps:
        raise RuntimeError("the recorded case took no step")
    return path


# -- in-memory measures --------------------------------------------------------------------------------------
def _find(workflow: BpmnWorkflow, step: PathStep) -> UUID:
    """The id of the ready task of `step`. Searched untimed: case56 knows it from its task row."""
    ready = workflow.get_tasks(state=TaskState.READY, spec_name=step.spec)
    if not ready:
        raise RuntimeError(f"the replayed path diverged: {step.spec} is not ready")
    return ready[0].id


def _step(workflow: BpmnWorkflow, task_id: UUID, step: PathStep, data: dict[str, Any]) -> None:
    """What a completion does to the workflow in case56 (Engine._complete and Engine.advance), nothing more."""
    task = workflow.get_task_from_id(task_id)
    if task is None or task.state != TaskState.READY:
        raise RuntimeError(f"the replayed path diverged: {step.spec} is not ready")
    task.data[step.form] = data
    anchors = dict(task.data.get("anchors") or {})
    anchors[step.step] = clock.now().isoformat()
    task.data["anchors"] = anchors
    task.run()
    run_engine_steps(workflow)
    workflow.refresh_timers()
    run_engine_steps(workflow)


def _replay(engine: Engine, path: CasePath, cases: int, initial: Any = None,
            load: Callable[[Any], BpmnWorkflow] | None = None, dump: Callable[[BpmnWorkflow], Any] | None = None
            ) -> Sample:
    """Run the path `cases` times in memory; with `load` and `dump`, the workflow is loaded from what the
    previous step dumped (starting from `initial`) and dumped after each step. Only the step, the load and the
    dump are timed."""
    definition = engine.registry.current  # the process case56 runs (processes/decree56.bpmn, its registry's parse)
    steps, seconds = 0, 0.0
    for _ in range(cases):
        data = [copy.deepcopy(s.data) for s in path.steps]  # untimed: case56 gets fresh data from its form
        workflow = engine.state.loads(path.initial, definition, path.serializer_version)
        workflow.script_engine = engine.script_engine
        task_id, stored = _find(workflow, path.steps[0]), initial
        for index, (step, values) in enumerate(zip(path.steps, data, strict=True)):
            start = time.perf_counter()
            if load is not None:
                workflow = load(stored)
                workflow.script_engine = engine.script_engine  # as Engine.load_workflow re-attaches the sandbox
            _step(workflow, task_id, step, values)
            seconds += time.perf_counter() - start
            if index + 1 < len(path.steps):
                task_id = _find(workflow, path.steps[index + 1])
            if dump is not None:
                start = time.perf_counter()
                stored = dump(workflow)
                seconds += time.perf_counter() - start
        steps += len(path.steps)
    return Sample(steps, seconds)


def engine_floor(engine: Engine, path: CasePath, cases: int) -> Sample:
    """(1): the workflow stays in memory from step to step."""
    return _replay(engine, path, cases)


def state_floor(engine: Engine, path: CasePath, cases: int) -> Sample:
    """(2): case56's own state format (what Engine.load_workflow and _store_workflow use) around each step."""
    definition, state = engine.registry.current, engine.state
    return _replay(engine, path, cases, (path.initial, path.serializer_version),
                   load=lambda stored: state.loads(stored[0], definition, stored[1]),
                   dump=lambda workflow: (state.dumps(workflow), state.version))


def raw_reference(engine: Engine, path: CasePath, cases: int) -> Sample:
    """The reference, not a floor: SpiffWorkflow's own serializer, the whole spec in every saved state."""
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    first = engine.state.loads(path.initial, engine.registry.current, path.serializer_version)
    return _replay(engine, path, cases, serializer.serialize_json(first), load=serializer.deserialize_json,
                   dump=serializer.serialize_json)


# -- case56 on a database ------------------------------------------------------------------------------------
def open_cases(engine: Engine, factory: sessionmaker[Session], cases: int) -> list[int]:
    with factory() as session:
        intake = demo.cast(session).actors["tiepnhan"]
        ids = [engine.open_case(session, intake, "T01-X01", demo.sample("mau_01", clock.now())).id
               for _ in range(cases)]
        session.commit()
    return ids


def _check_step(path: CasePath, index: int, step: str) -> None:
    if index >= len(path.steps) or path.steps[index].step != step:
        expected = path.steps[index].step if index < len(path.steps) else "the end"
        raise RuntimeError(f"case56 left the recorded path at step {index + 1}: {step} instead of {expected}")


def case56_steps(engine: Engine, factory: sessionmaker[Session], path: CasePath, cases: int) -> Sample:
    """`cases` new cases driven to closure with `Engine.complete_task`; only the calls are timed and counted."""
    ids = open_cases(engine, factory, cases)
    sample = Sample(0, 0.0)
    at = clock.now()
    bind = factory.kw["bind"]
    with factory() as session:
        people = demo.cast(session)
        for case_id in ids:
            for index in range(len(path.steps) + 1):
                task = next_task(session, case_id)
                if task is None:
                    break
                _check_step(path, index, task.step)
                actor, data, task_id = people.for_task(task), demo.sample(task.form, at), task.id
                with count_statements(bind) as counter:  # listening starts and stops outside the timing
                    start = time.perf_counter()
                    engine.complete_task(session, actor, task_id, data)
                    sample.seconds += time.perf_counter() - start
                sample.statements.append(counter.count)
                sample.verbs.update(counter.by_verb())
                sample.steps += 1
            session.commit()
    return sample


# -- the API over HTTP ---------------------------------------------------------------------------------------
class ApiClient:
    """ONE client of a gunicorn with ONE worker: sequential requests on one keep-alive connection."""

    def __init__(self, server: Any, factory: sessionmaker[Session]) -> None:
        from web.api import tokens

        self.factory, self.port = factory, server.port
        with factory() as session:
            self.tokens = {u.username: tokens.issue(session, u, "benchmark", 1, "quantri").token
                           for u in session.scalars(select(User))}
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def close(self) -> None:
        self.conn.close()

    def drive(self, engine: Engine, path: CasePath, cases: int) -> Sample:
        ids = open_cases(engine, self.factory, cases)
        sample = Sample(0, 0.0)
        at = clock.now()
        for case_id in ids:
            for index in range(len(path.steps) + 1):
                with self.factory() as session:  # ended before the request: no lock held on SQLite
                    task = next_task(session, case_id)
                    if task is None:
                        break
                    _check_step(path, index, task.step)
                    username = demo.cast(session).for_task(task).username
                    version = session.scalar(select(Case.version).where(Case.id == case_id))
                    task_id, form = task.id, task.form
                body = json.dumps({"data": demo.sample(form, at)})
                headers = {"Authorization": f"Bearer {self.tokens[username]}", "Content-Type": "application/json",
                           "If-Match": f'"{version}"'}
                start = time.perf_counter()
                self.conn.request("POST", f"/api/v1/tasks/{task_id}/complete", body=body, headers=headers)
                answer = self.conn.getresponse()
                payload = answer.read()
                elapsed = time.perf_counter() - start
                sample.seconds += elapsed
                sample.latencies_ms.append(elapsed * 1000)
                sample.steps += 1
                if answer.status != 200:
                    sample.errors.append(f"{answer.status}: {payload[:200]!r}")
                    break  # this case is off the path: the next one
        return sample


# -- rounds and figures --------------------------------------------------------------------------------------
def rotation(names: list[str], rounds: int) -> list[list[str]]:
    """Every measure once per round, the order rotated by one each round."""
    return [names[r % len(names):] + names[:r % len(names)] for r in range(rounds)] if names else []


def run_rounds(measures: dict[str, Callable[[int], Sample]], rounds: int, cases: int,
               log: Callable[[str], None] = lambda _m: None) -> tuple[dict[str, list[Sample]], list[float]]:
    """Each round runs every measure once on `cases` cases (rotating order); returns the samples by measure and
    the machine's 1-minute load average at the start of each round."""
    samples: dict[str, list[Sample]] = {name: [] for name in measures}
    loads = []
    for number, order in enumerate(rotation(list(measures), rounds), 1):
        loads.append(os.getloadavg()[0])
        for name in order:
            samples[name].append(measures[name](cases))
        log(f"  round {number}/{rounds}: " + ", ".join(f"{n} {samples[n][-1].rate:.0f}/s" for n in order))
    return samples, loads


def spread(values: list[float], digits: int = 1) -> dict[str, float]:
    return {"min": round(min(values), digits), "median": round(statistics.median(values), digits),
            "max": round(max(values), digits)}


def ratios(numerator: list[Sample], denominator: list[Sample]) -> list[float]:
    """Per-round ratio of two measures' rates (the same round's moment of the machine for both)."""
    return [a.rate / b.rate for a, b in zip(numerator, denominator, strict=True) if b.rate]


def rows_for(samples: dict[str, list[Sample]], kinds: dict[str, str]) -> list[dict[str, Any]]:
    """One row per measure. `kinds` maps a measure key to its 'measure|db' label."""
    floor = samples.get("state_floor")
    rows = []
    for key, runs in samples.items():
        measure, db = kinds[key].split("|")
        rates = spread([s.rate for s in runs])
        row: dict[str, Any] = {"measure": measure, "db": db, "rounds": len(runs), "steps_per_round": runs[0].steps,
                               "steps/s median": rates["median"], "steps/s min": rates["min"],
                               "steps/s max": rates["max"]}
        if floor is not None and key != "state_floor":
            ratio = spread(ratios(runs, floor), 2)
            row |= {"ratio to (2) median": ratio["median"], "ratio min–max": f"{ratio['min']}–{ratio['max']}"}
        statements = [n for s in runs for n in s.statements]
        if statements:
            row |= {"SQL/step median": statistics.median(statements),
                    "SQL/step mean": round(sum(statements) / len(statements), 1), "SQL/step max": max(statements)}
        latencies = [ms for s in runs for ms in s.latencies_ms]
        if latencies:
            errors = [e for s in runs for e in s.errors]
            row |= {"p50_ms": round(percentile(latencies, 0.5), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
                    "errors": len(errors)}
            if errors:
                row["first_error"] = errors[0]
        rows.append(row)
    return rows


def targets(rows: list[dict[str, Any]], kinds: tuple[str, ...] = ("sqlite", "postgresql")) -> list[str]:
    """Issue 20's step targets against these rows: met, NOT met, or not measured (every target listed)."""
    lines = []

    def find(measure: str, db: str) -> dict[str, Any] | None:
        return next((r for r in rows if r["measure"] == measure and r["db"] == db), None)

    for db in kinds:
        row = find(CASE56, db)
        goal = TARGET_RATIO[db]
        if row is None or "ratio to (2) median" not in row:
            lines.append(f"- case56 / state-format floor on {db} ≥ {goal}: not measured in this run")
        else:
            ratio = row["ratio to (2) median"]
            lines.append(f"- case56 / state-format floor on {db} ≥ {goal}: **{ratio}** (median of {row['rounds']} "
                         f"rounds, {row['ratio min–max']}) — {'met' if ratio >= goal else 'NOT met'}")
    for db in kinds:
        row = find(CASE56, db)
        if row is None or "SQL/step median" not in row:
            lines.append(f"- ≤ {TARGET_STATEMENTS} SQL statements per ordinary step on {db}: not measured in this run")
        else:
            median = row["SQL/step median"]
            lines.append(f"- ≤ {TARGET_STATEMENTS} SQL statements per ordinary step on {db}: **{median}** (median "
                         f"step; mean {row['SQL/step mean']}, most {row['SQL/step max']}) — "
                         f"{'met' if median <= TARGET_STATEMENTS else 'NOT met'}")
    for db in kinds:
        row = find(HTTP, db)
        goal = TARGET_HTTP_P95[db]
        if row is None or "p95_ms" not in row:
            lines.append(f"- HTTP complete-task p95 ≤ {goal:g} ms on {db} (1 worker, 1 client): not measured in "
                         "this run")
        else:
            ok = row["p95_ms"] <= goal and row["errors"] == 0
            lines.append(f"- HTTP complete-task p95 ≤ {goal:g} ms on {db} (1 worker, 1 client): **{row['p95_ms']} "
                         f"ms** (p50 {row['p50_ms']} ms, {row['errors']} errors) — {'met' if ok else 'NOT met'}")
    return lines


def verb_notes(samples: dict[str, list[Sample]], kinds: dict[str, str]) -> list[str]:
    """What the statements of a step are, per database: the mean per step of each SQL verb."""
    lines = []
    for key, runs in samples.items():
        steps = sum(len(s.statements) for s in runs)
        verbs: Counter[str] = sum((s.verbs for s in runs), Counter())
        if steps and verbs:
            shares = ", ".join(f"{verb} {n / steps:.1f}" for verb, n in verbs.most_common())
            lines.append(f"Statements per step on {kinds[key].split('|')[1]}, by kind (mean): {shares}.")
    return lines


# -- the run -------------------------------------------------------------------------------------------------
@dataclass
class Database:
    kind: str
    url: str
    factory: sessionmaker[Session]


def prepare(kind: str, url: str) -> Database:
    schema.upgrade(url)
    factory = make_session_factory(url)
    with factory() as session:
        demo.seed_people(session, "pbkdf2:sha256:1000")
    return Database(kind, url, factory)


def run(rounds: int = 3, cases: int = 2, pg_url: str | None = None, http: bool = True,
        log: Callable[[str], None] = lambda _m: None) -> tuple[list[dict[str, Any]], list[str]]:
    """Every measure, interleaved in `rounds` rounds of `cases` cases each; returns the table's rows and the
    notes under it (the path, the load at each round, what the statements are)."""
    from bench.http import Server

    engine = Engine()
    folder = tempfile.mkdtemp(prefix="case56-bench-steps-")
    databases: list[Database] = []
    servers: list[Any] = []
    clients: list[ApiClient] = []
    try:
        databases.append(prepare("sqlite", f"sqlite:///{folder}/bench-steps.sqlite3"))
        if pg_url:
            databases.append(prepare("postgresql", pg_url))
        path = record_path(engine, databases[0].factory)
        log(f"  path: {len(path.steps)} steps ({', '.join(s.step for s in path.steps)})")
        measures: dict[str, Callable[[int], Sample]] = {
            "engine_floor": lambda n: engine_floor(engine, path, n),
            "state_floor": lambda n: state_floor(engine, path, n),
            "raw": lambda n: raw_reference(engine, path, n),
        }
        kinds = {"engine_floor": f"{ENGINE_FLOOR}|-", "state_floor": f"{STATE_FLOOR}|-", "raw": f"{RAW}|-"}
        for db in databases:
            def in_process(n: int, db: Database = db) -> Sample:
                return case56_steps(engine, db.factory, path, n)

            measures[f"case56_{db.kind}"], kinds[f"case56_{db.kind}"] = in_process, f"{CASE56}|{db.kind}"
            if http:
                server = Server(db.url, workers=1).__enter__()
                servers.append(server)
                client = ApiClient(server, db.factory)
                clients.append(client)

                def over_http(n: int, client: ApiClient = client) -> Sample:
                    return client.drive(engine, path, n)

                measures[f"http_{db.kind}"], kinds[f"http_{db.kind}"] = over_http, f"{HTTP}|{db.kind}"
        for measure in measures.values():  # warm-up, not counted: caches, the server's first requests
            measure(1)
        samples, loads = run_rounds(measures, rounds, cases, log)
    finally:
        for client in clients:
            client.close()
        for server in servers:
            server.__exit__()
        for db in databases:
            db.factory.kw["bind"].dispose()
        shutil.rmtree(folder, ignore_errors=True)
    rows = rows_for(samples, kinds)
    notes = [f"Path of every case ({len(path.steps)} steps): " + " → ".join(s.step for s in path.steps) + ".",
             f"{rounds} rounds of {cases} cases per measure, each round in a rotated order; 1-minute load average at "
             "the start of each round: " + ", ".join(f"{x:.1f}" for x in loads) + ".",
             "Ratios: case56's rate divided by the state-format floor's (2) in the same round; median and range over "
             "the rounds. Statements: per `complete_task` call, counted with SQLAlchemy's before_cursor_execute.",
             *verb_notes(samples, kinds),
             "The raw SpiffWorkflow row is a reference, not a floor: it writes and parses the whole process spec on "
             "every step, which case56 never does."]
    return rows, notes


if __name__ == "__main__":
    table, remarks = run(rounds=2, cases=1, log=print)
    for line in table:
        print(line)
    print("\n".join(remarks))
