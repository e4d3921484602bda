"""Issue 20: a step costs few round trips. An ordinary step (complete_task of a user task that neither ends the
case nor opens more than one new step) sends at most 8 SQL statements, commit aside, on both databases; no row
is read twice and the audit head is written once. Counted with engine.sqlcount (SQLAlchemy's cursor events), as
bench/engine_steps.py counts them."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from engine import audit, clock
from engine.models import AuditEntry, Case, Timer
from engine.sqlcount import count_statements, table_of
from web import demo

ORDINARY_STEP_STATEMENTS = 8
# Forms whose content is checked against registries (a plan's activities go to active accounts and registered
# providers, engine.providers): their checks read those, two statements more, by design.
REGISTRY_CHECKED = {"mau_04", "plan_adjustment"}


def test_ordinary_steps_send_at_most_eight_statements(case_engine, session, people):
    report = demo.sample("mau_01", clock.now())
    case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report)
    bind = session.get_bind()
    ordinary: dict[str, int] = {}
    at = clock.now()
    for _ in range(30):
        open_rows = demo.open_tasks(session, case.id)
        if not open_rows:
            break
        task = open_rows[0]
        before = {t.id for t in open_rows}
        with count_statements(bind) as counter:
            case_engine.complete_task(session, people.for_task(task), task.id, demo.sample(task.form, at))
        status = session.scalar(select(Case.status).where(Case.id == case.id))
        opened = [t for t in demo.open_tasks(session, case.id) if t.id not in before]
        assert counter.commits == 1 and counter.rollbacks == 0
        if status != "open" or len(opened) > 1 or task.form in REGISTRY_CHECKED:
            continue  # closing the case or opening several steps (a plan's activities) is not an ordinary step
        ordinary[task.step] = counter.count
        assert counter.count <= ORDINARY_STEP_STATEMENTS, (task.step, counter.statements)
        # One read of what the step needs: no row of the task, case or workflow state is selected twice, the
        # process version's hash is not read apart, and the audit head is written in one statement.
        selects = Counter(table_of(s) for s in counter.statements if s.lstrip().upper().startswith("SELECT"))
        assert selects["process_version"] == 0 and selects["case_workflow"] == 0, counter.statements
        assert sum(selects.values()) <= 2, counter.statements
        writes = [s for s in counter.statements if not s.lstrip().upper().startswith("SELECT")]
        assert sum("audit_head" in s for s in writes) == 1, counter.statements
    # The main path has ordinary steps from the verification on (the walk covers the rest).
    assert {"verify", "initial_assessment", "detailed_assessment"} <= set(ordinary), ordinary
    # What the statements wrote is whole: the trail chains, one pending deadline per open step with a limit.
    assert audit.verify(session) == []
    open_steps = {t.id for t in demo.open_tasks(session, case.id)}
    pending = session.scalars(select(Timer.task_id).where(Timer.case_id == case.id, Timer.kind == "deadline",
                                                          Timer.fired_at.is_(None), Timer.cancelled_at.is_(None)))
    assert set(pending) <= open_steps


# PostgreSQL only: on SQLite no other writer can commit inside a transaction that has read (one writer, and a
# write after a stale read fails), so the head a step read there is always the head it moves.
@pytest.mark.parametrize("db_kind", ["postgresql"])
def test_a_stale_audit_head_takes_the_locking_path_and_the_chain_holds(case_engine, session, session_factory, people):
    """The head a step read is only an expectation: another writer moving it first makes the step's guarded move
    miss, and the step then chains after that writer's rows (no fork, no row written twice)."""
    report = demo.sample("mau_01", clock.now())
    case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report)
    task = demo.open_tasks(session, case.id)[0]
    real_seen_head = audit.seen_head

    def seen_then_moved(s, last_id, head_hash):
        real_seen_head(s, last_id, head_hash)
        with session_factory() as other:  # another writer commits between the step's read and its commit
            audit.append(other, "system", "other_writer")  # no case: its FK check would wait on the step's lock
            other.commit()

    audit.seen_head = seen_then_moved
    try:
        with count_statements(session.get_bind()) as counter:
            case_engine.complete_task(session, people.for_task(task), task.id, demo.sample(task.form, clock.now()))
    finally:
        audit.seen_head = real_seen_head
    assert counter.commits == 2  # the other writer's and the step's
    assert audit.verify(session) == []
    actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions.index("other_writer") < actions.index("task_completed")
    assert actions.count("task_completed") == 1 and actions.count("other_writer") == 1
