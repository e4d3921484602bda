"""A workflow loaded in a fresh process behaves exactly like one that stayed in memory (issue: a restart
between steps stranded the intervention, because specs taken straight from the parser lacked the wiring
SpiffWorkflow's spec restore performs)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import select

from engine import clock
from engine.models import Case, Task
from engine.runtime import Engine
from web import demo

ROOT = Path(__file__).resolve().parents[2]


def _case_at_activities(case_engine, session, people) -> Case:
    report = demo.sample("mau_01", clock.now())
    case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report)
    demo.drive(case_engine, session, case, people, stop_at="carry_out_activity")
    assert {t.step for t in demo.open_tasks(session, case.id)} == {"carry_out_activity"}
    return case


def test_activities_finished_by_a_fresh_engine_reach_the_review(case_engine, session, people):
    case = _case_at_activities(case_engine, session, people)
    fresh = Engine()  # a new registry parses the BPMN again: what a restarted worker does
    done = demo.drive(fresh, session, case, people, stop_at="review")
    assert done == ["carry_out_activity", "carry_out_activity"]
    assert [t.step for t in demo.open_tasks(session, case.id)] == ["review"]
    session.refresh(case)
    assert case.status == "open" and case.stage == "Rà soát, đánh giá (Mẫu số 06)"


def test_one_activity_per_process_still_reaches_the_review(case_engine, session, people, db_url):
    """Each activity reported by its own OS process, as two gunicorn workers after a restart would."""
    case = _case_at_activities(case_engine, session, people)
    script = textwrap.dedent(f"""
        from sqlalchemy.orm import sessionmaker
        from engine.models import make_engine
        from engine.runtime import Engine
        from web import demo
        from engine import clock
        session = sessionmaker(bind=make_engine({db_url!r}), expire_on_commit=False)()
        people = demo.cast(session)
        task = [t for t in demo.open_tasks(session, {case.id}) if t.step == "carry_out_activity"][0]
        Engine().complete_task(session, people.for_task(task), task.id, demo.sample(task.form, clock.now()))
    """)
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120)
    session.expire_all()
    steps = list(session.scalars(select(Task.step).where(Task.case_id == case.id, Task.state == "ready")))
    assert steps == ["review"]
