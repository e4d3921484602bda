"""Issue 20: a deadline firing costs few round trips. Firing a claimed deadline (the verification's 12 hours,
its reminder fired before, which opens the province's escalation) sends at most 9 SQL statements, commit
aside, on both databases: its case, workflow row, open rows, pending timers and restriction in one read, the audit head
written once, the row marked by one guarded UPDATE. Counted with engine.sqlcount, as
tests/engine/test_step_statements.py counts a step."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import time_machine
from sqlalchemy import select

from engine import audit, timers
from engine.clock import LOCAL_TZ
from engine.models import AuditEntry, Task, Timer
from engine.sqlcount import count_statements, table_of
from web import demo

DEADLINE_STATEMENTS = 9


def test_a_deadline_firing_sends_at_most_nine_statements(case_engine, session, people):
    received = datetime(2026, 3, 2, 9, 0, tzinfo=LOCAL_TZ)
    data = {**demo.sample("mau_01", received), "received_at": received.isoformat()}
    with time_machine.travel(received + timedelta(minutes=10), tick=False):
        case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", data)
    deadline = session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.kind == "deadline")).one()
    with time_machine.travel(received + timedelta(hours=10), tick=False):  # the reminder (75 %) fires first
        assert timers.tick(case_engine, session).fired == 1
    with time_machine.travel(received + timedelta(hours=13), tick=False):
        ids = timers.claim(session, "w1")
        assert deadline.id in ids
        with count_statements(session.get_bind()) as counter:
            assert timers.fire(case_engine, session, deadline.id, "w1")
    assert counter.commits == 1 and counter.rollbacks == 0
    assert counter.count <= DEADLINE_STATEMENTS, counter.statements
    selects = Counter(table_of(s) for s in counter.statements if s.lstrip().upper().startswith("SELECT"))
    # One read of the timer with its case, workflow row, open rows, pending timers and the restriction an escalation
    # records; the version's hash once more (Engine.load_workflow): nothing read twice.
    assert selects["case_workflow"] == 0 and selects["task"] == 0 and selects["process_version"] <= 1, selects
    assert selects["case_restriction"] == 0 and sum(selects.values()) <= 2, counter.statements
    writes = [s for s in counter.statements if not s.lstrip().upper().startswith("SELECT")]
    # The head is moved once (the mark only reads it, in its RETURNING, for that move).
    assert sum("audit_head" in s for s in writes if table_of(s) != "timer") == 1, counter.statements
    # What it wrote is whole: the row fired once, the late step escalated, the trail chains.
    session.expire_all()
    assert session.get(Timer, deadline.id).fired_at is not None
    escalation = session.scalars(select(Task).where(Task.case_id == case.id, Task.step == "escalate_verify")).one()
    assert escalation.escalates_task_id is not None
    assert session.scalars(select(AuditEntry.action).where(
        AuditEntry.case_id == case.id, AuditEntry.action == "deadline_passed")).all() == ["deadline_passed"]
    assert audit.verify(session) == []
    # Fired is fired: the same worker asking again gets nothing to do.
    with time_machine.travel(received + timedelta(hours=13, minutes=1), tick=False):
        assert not timers.fire(case_engine, session, deadline.id, "w1")
