"""A worker the crash tests kill with SIGKILL mid-flight: it completes steps or ticks timers and prints
one line per committed change, so the test knows exactly what was durable before the kill."""

from __future__ import annotations

import os
import sys
from datetime import datetime

from engine import clock, timers
from engine.models import make_session_factory
from engine.runtime import Engine
from web import demo


def complete_steps(url: str) -> None:
    session = make_session_factory(url)()
    engine = Engine()
    people = demo.cast(session)
    while True:
        tasks = [t for t in demo.open_tasks_all(session) if t.escalates_task_id is None]
        if not tasks:
            print("idle", flush=True)
            return
        for task in tasks[:50]:
            engine.complete_task(session, people.for_task(task), task.id, demo.sample(task.form, clock.now()))
            print(f"done {task.id}", flush=True)


def tick(url: str) -> None:
    session = make_session_factory(url)()
    engine = Engine()
    while True:
        result = timers.tick(engine, session, batch=5)
        print(f"tick {result.fired}", flush=True)
        if not result.fired and not result.retried:
            return


if __name__ == "__main__":
    travel = os.environ.get("CASE56_TRAVEL")
    if travel:  # the timer test's worker lives in the future, when the deadlines are due
        import time_machine

        time_machine.travel(datetime.fromisoformat(travel), tick=True).start()
    {"steps": complete_steps, "tick": tick}[sys.argv[1]](sys.argv[2])
