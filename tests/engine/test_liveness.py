"""Liveness (engine.liveness): every open case has someone or something to move it; `case56 check` names
the ones that have not; closing a case leaves no step open but the police track's."""

from __future__ import annotations

from datetime import timedelta

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert, select, update

from engine import audit, check, clock, liveness
from engine.models import AuditEntry, Case, Task, Timer, User
from web import demo

EMERGENCY = {"mau_02": {"emergency": True, "danger_description": "Trẻ bị đánh nhiều lần, nguy cơ bị đánh tiếp."}}
# Issue 16: the emergency measures ask for the chairman's Mẫu 07 decision; decided, the separation's review opens.
SEPARATION = {**EMERGENCY, "emergency_measures": {"separate": True, "separation_reason": "Người cha gây tổn hại."}}


def open_case(engine, session, people, **mau01) -> Case:
    return engine.open_case(session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now(), **mau01))


def stranded_numbers(session, actor=None) -> list[str]:
    return [c.number for c in session.scalars(liveness.stranded_query(actor))]


def test_cases_along_the_procedure_are_live(case_engine, session, people):
    case = open_case(case_engine, session, people, crime_suspected=True)
    for stop in ("initial_assessment", "detailed_assessment", "approve_plan", "carry_out_activity", "review"):
        demo.drive(case_engine, session, case, people, choices=EMERGENCY, stop_at=stop)
        assert liveness.problems(session, case) == [] and check.check_case(case_engine, session, case) == []
    assert stranded_numbers(session) == [] and liveness.count_stranded(session) == 0


def test_a_deactivated_assignee_strands_the_case_until_the_step_moves(case_engine, session, people):
    case = open_case(case_engine, session, people)
    demo.drive(case_engine, session, case, people, stop_at="carry_out_activity")
    session.execute(update(User).where(User.username == "yte").values(active=False))
    session.commit()
    [problem] = liveness.problems(session, case)
    assert problem.code == "unworkable_step" and "“yte” đã bị khoá" in problem.vi
    assert stranded_numbers(session) == [case.number]
    assert liveness.count_stranded(session, people.actors["giamsat"]) == 1  # the province sees it
    assert liveness.count_stranded(session, people.actors["canbo2"]) == 0  # another commune does not
    assert any("stranded" in line and case.number in line for line in check.check(case_engine, session))


def test_a_role_without_any_active_account_strands_its_steps(case_engine, session, people):
    case = open_case(case_engine, session, people)
    session.execute(update(User).where(User.role == "officer", User.username == "canbo").values(active=False))
    session.commit()
    [problem] = liveness.problems(session, case)
    assert "không có tài khoản" in problem.vi and problem.task_id is not None
    assert stranded_numbers(session) == [case.number]


def test_a_workflow_where_nothing_waits_is_named_by_check(case_engine, session, people):
    """The workflow state is edited so its open step is neither ready nor waiting and its timer is gone (what
    the restart bug did to the intervention), and the rows follow: nothing will ever move the case."""
    case = open_case(case_engine, session, people)
    workflow = case_engine.load_workflow(session, case)
    [step] = workflow.get_tasks(state=TaskState.READY, manual=True)
    for timer in list(step.parent.children):
        if timer is not step:
            timer.cancel()
    step._set_state(TaskState.STARTED)
    case_engine._store_workflow(session, case, workflow)
    session.execute(update(Task).where(Task.case_id == case.id, Task.state == "ready").values(state="cancelled"))
    session.execute(update(Timer).where(Timer.case_id == case.id).values(cancelled_at=clock.now()))
    session.commit()
    found = check.check_case(case_engine, session, case)
    assert any("nothing in the workflow waits" in line for line in found), found
    assert any("no step is open and no deadline is pending" in line for line in found), found
    assert stranded_numbers(session) == [case.number]


def test_closing_cancels_steps_that_no_longer_matter_but_keeps_the_police_track(case_engine, session, people):
    case = open_case(case_engine, session, people, crime_suspected=True)
    # Close the social track while the separation review and the police outcome are still open.
    demo.drive(case_engine, session, case, people, choices=SEPARATION,
               skip=lambda t: t.escalates_task_id is not None or t.step in ("separation_review", "police_outcome"))
    session.refresh(case)
    assert case.status == "closed" and case.stage == ""
    rows = {t.step: t for t in session.scalars(select(Task).where(Task.case_id == case.id))}
    assert (rows["separation_review"].state, rows["separation_review"].cancel_reason) == ("cancelled", "case_closed")
    assert (rows["police_outcome"].state, rows["police_outcome"].track) == ("ready", "police")
    reasons = [e.details.get("reason") for e in session.scalars(
        select(AuditEntry).where(AuditEntry.case_id == case.id, AuditEntry.action == "task_cancelled"))]
    assert reasons == ["case_closed"]
    assert liveness.problems(session, case) == [] and check.check_case(case_engine, session, case) == []
    # The police track goes on and ends the workflow.
    outcome = rows["police_outcome"]
    case_engine.complete_task(session, people.for_task(outcome), outcome.id, demo.sample("police_outcome", clock.now()))
    assert demo.open_tasks(session, case.id) == []
    assert case_engine.load_workflow(session, case).is_completed()
    assert check.check_case(case_engine, session, case) == [] and audit.verify(session) == []


def test_a_step_left_open_on_a_closed_case_is_stranded(case_engine, session, people):
    case = open_case(case_engine, session, people)
    demo.drive(case_engine, session, case, people, stop_at="review")
    session.execute(update(Case).where(Case.id == case.id).values(status="closed"))
    session.commit()
    session.refresh(case)
    [problem] = liveness.problems(session, case)
    assert problem.code == "open_after_close"
    assert stranded_numbers(session) == [case.number]



def test_an_open_acknowledgement_of_a_late_activity_does_not_hold_up_the_review(case_engine, session, people):
    """The supervisor's acknowledgement is oversight, not a step of the procedure: once the late activity is
    reported, its branch ends (terminate end event) and the review opens; the acknowledgement is cancelled
    with its reason."""
    import time_machine

    from engine import timers

    case = open_case(case_engine, session, people)
    demo.drive(case_engine, session, case, people, stop_at="carry_out_activity")
    later = clock.now() + timedelta(days=45)  # past both activities' end dates
    with time_machine.travel(later, tick=False):
        timers.tick(case_engine, session)
        assert sorted(t.step for t in demo.open_tasks(session, case.id)) == [
            "carry_out_activity", "carry_out_activity", "escalate_carry_out_activity", "escalate_carry_out_activity"]
        demo.drive(case_engine, session, case, people, at=later, stop_at="review")
        assert [t.step for t in demo.open_tasks(session, case.id) if t.escalates_task_id is None] == ["review"]
    acks = session.scalars(select(Task).where(Task.case_id == case.id, Task.step == "escalate_carry_out_activity"))
    assert {(t.state, t.cancel_reason) for t in acks} == {("cancelled", "late_step_done")}
    assert check.check_case(case_engine, session, case) == []


def test_closing_with_only_acknowledgements_left_ends_the_workflow(case_engine, session, people):
    """Late steps done, their acknowledgements still open when the plan ends: closing cancels them and the
    process reaches its end (a join already waiting is looked at again; found by the walker)."""
    import time_machine

    from engine import timers

    case = open_case(case_engine, session, people)
    later = clock.now() + timedelta(hours=13)  # past the 12-hour verification limit
    with time_machine.travel(later, tick=False):
        timers.tick(case_engine, session)
        demo.drive(case_engine, session, case, people, at=later)  # leaves the acknowledgements open
    session.refresh(case)
    assert case.status == "closed" and demo.open_tasks(session, case.id) == []
    cancelled = session.scalars(select(Task.cancel_reason).where(Task.case_id == case.id, Task.state == "cancelled"))
    assert set(cancelled) == {"case_closed"}
    assert case_engine.load_workflow(session, case).is_completed()
    assert check.check_case(case_engine, session, case) == []


def _sql_agrees_with_problems(session, people) -> int:
    """The SQL stranded set (list, page, count) is exactly the cases `problems` finds, in every scope: the
    country, the province's supervisor, each commune's officer. Returns how many cases are stranded."""
    from engine import access

    cases = list(session.scalars(select(Case)))
    found = liveness.problems_of(session, cases)
    for actor in (None, people.actors["giamsat"], people.actors["canbo"], people.actors["canbo2"]):
        expected = sorted((c.received_at, c.id) for c in cases
                          if found[c.id] and (actor is None or access.can_read_case(actor, c)))
        listed = [c.id for c in session.scalars(liveness.stranded_query(actor))]
        assert listed == [case_id for _at, case_id in expected], actor
        assert [c.id for c in session.scalars(liveness.stranded_query(actor, True))] == listed  # row values
        page, total = liveness.stranded_page(session, actor, 2, 2)
        assert [c.id for c in page] == listed[2:4] and total == len(expected)
        assert liveness.stranded_page(session, actor, 1000, 2) == ([], len(expected))  # past the last page
        assert liveness.count_stranded(session, actor) == len(expected)
    return sum(1 for problems in found.values() if problems)


def test_the_stranded_query_follows_every_kind_of_change(case_engine, session, people):
    """engine.liveness.stranded_ids (lists of account keys, the unit's open cases against its open steps) stays
    equal to `problems` (access.can_act per step, in Python) after each change it depends on: accounts
    deactivated, moved, re-roled, added without a unit or at the province; steps held by a missing account or
    by one of another role; a case closed with a step open; an open case left with nothing open or waiting."""
    demo.seed_cases(session, case_engine)
    session.commit()
    counts = [_sql_agrees_with_problems(session, people)]

    def change(*statements) -> None:
        for statement in statements:
            session.execute(statement)
        session.commit()
        counts.append(_sql_agrees_with_problems(session, people))

    change(update(User).where(User.username == "yte").values(active=False))
    change(update(User).where(User.username == "canbo").values(active=False))
    province_id = session.scalar(select(User.org_unit_id).where(User.username == "giamsat"))
    other_commune = session.scalar(select(User.org_unit_id).where(User.username == "canbo2"))
    change(update(User).where(User.username == "thanhtra").values(role="officer", org_unit_id=None))  # no unit
    change(update(User).where(User.username == "thanhtra").values(org_unit_id=province_id))  # the province
    change(update(User).where(User.username == "thanhtra").values(role="inspector"))
    change(update(User).where(User.username == "chutich").values(org_unit_id=other_commune))  # moved away
    change(update(User).where(User.username == "canbo2").values(role="inspector"))  # re-roled
    [held, other] = session.scalars(select(Task).where(Task.state == "ready", Task.escalates_task_id.is_(None),
                                                       Task.role == "officer").order_by(Task.id).limit(2))
    change(update(Task).where(Task.id == held.id).values(assignee="nobody-of-that-name"))
    change(update(Task).where(Task.id == other.id).values(assignee="chutich2"))  # an account of another role
    change(update(Task).where(Task.id == other.id).values(assignee="ctxh"))  # a partner may hold any step
    live = session.scalar(select(Case).where(Case.status == "open", Case.id.not_in([held.case_id, other.case_id]))
                          .order_by(Case.id))
    change(update(Case).where(Case.id == live.id).values(status="closed"))
    change(update(Case).where(Case.id == live.id).values(status="open"),
           update(Task).where(Task.case_id == live.id, Task.state == "ready").values(state="cancelled"),
           update(Timer).where(Timer.case_id == live.id).values(cancelled_at=clock.now()))
    change(insert(Timer).values(case_id=live.id, spiff_id="a-pending-deadline", kind="deadline",  # waits again
                                fire_at=clock.now() + timedelta(days=1), attempts=0, incident=False))
    change(update(User).where(User.username.in_(["yte", "canbo"])).values(active=True))
    assert counts[0] == 0 and max(counts) >= 4 and len(set(counts)) >= 4, counts  # the changes did strand cases
