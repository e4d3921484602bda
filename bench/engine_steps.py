"""Step throughput: case56 (engine + database) against raw SpiffWorkflow doing the same work in memory.

Both drive cases along the main path (report → … → closure, two plan activities). The raw baseline does what
a step costs SpiffWorkflow alone: load the workflow from JSON (its own serializer), set the form data,
complete the task, run engine steps, serialise it again. case56 does a whole `complete_task`: validate the
form, load, complete, sync the task and timer rows, audit, save, commit.
"""

from __future__ import annotations

import tempfile
import time
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine import clock, schema
from engine.models import make_session_factory
from engine.runtime import Engine
from web import demo


def _case56(url: str, cases: int) -> tuple[int, float, list[tuple[str, dict[str, Any]]]]:
    """Drive `cases` cases to closure; return (steps, seconds, the (form, data) sequence of one case)."""
    schema.upgrade(url)
    session = make_session_factory(url)()
    engine = Engine()
    demo.seed_people(session, "pbkdf2:sha256:1000")
    people = demo.cast(session)
    opened = [engine.open_case(session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now()))
              for _ in range(cases)]
    at = clock.now()
    start = time.perf_counter()
    steps = sum(len(demo.drive(engine, session, case, people, at=at)) for case in opened)
    seconds = time.perf_counter() - start
    session.close()
    return steps, seconds, []


def _raw(cases: int) -> tuple[int, float]:
    """The same path in memory with SpiffWorkflow alone (forms validated once up front, not timed)."""
    engine = Engine()
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    definition = engine.registry.current
    at = clock.now()
    data = {form: demo.sample(form, at) for form in
            ["verification", "mau_02", "mau_03", "needs_meeting", "mau_04", "mau_05", "plan_approval",
             "activity_report", "mau_06", "plan_end"]}
    states = []
    for _ in range(cases):
        workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=engine.script_engine)
        workflow.task_tree.data.update({"mau_01": demo.sample("mau_01", at),
                                        "anchors": {"received_at": at.isoformat()}, "case": {}})
        workflow.do_engine_steps()
        states.append(serializer.serialize_json(workflow))
    steps = 0
    start = time.perf_counter()
    for state in states:
        while True:
            workflow = serializer.deserialize_json(state)
            workflow.script_engine = engine.script_engine
            ready = [t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                     if not t.task_spec.name.startswith("Task_escalate")]
            if not ready:
                break
            task = ready[0]
            step = definition.steps[task.task_spec.name]
            task.data[step.form] = data[step.form]
            task.data["anchors"] = {**task.data["anchors"], step.step: clock.now().isoformat()}
            task.run()
            workflow.do_engine_steps()
            workflow.refresh_timers()
            state = serializer.serialize_json(workflow)
            steps += 1
    return steps, time.perf_counter() - start


def run(cases: int = 20, pg_url: str | None = None) -> list[dict[str, Any]]:
    raw_steps, raw_seconds = _raw(cases)
    raw_rate = raw_steps / raw_seconds
    rows = [{"measure": "raw SpiffWorkflow (in memory)", "db": "-", "steps": raw_steps,
             "steps_per_s": round(raw_rate, 1), "ratio": 1.0}]
    targets = [("sqlite", f"sqlite:///{tempfile.mkdtemp()}/bench-steps.sqlite3")]
    if pg_url:
        targets.append(("postgresql", pg_url))
    for name, url in targets:
        steps, seconds, _ = _case56(url, cases)
        rows.append({"measure": "case56 complete_task", "db": name, "steps": steps,
                     "steps_per_s": round(steps / seconds, 1), "ratio": round(steps / seconds / raw_rate, 2)})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
