"""Who holds a step (engine.ownership), on both databases: claiming, releasing, assigning within scope, reminding,
the holder-only completion, liveness of a step held by a deactivated account, transfers freeing held steps, the
next step offered after a completion, and the per-holder workload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

import forms
from engine import access, clock, liveness, ownership, worklists
from engine.errors import Conflict, Forbidden, InvalidState, NotFound
from engine.models import AuditEntry, Case, Task, TaskReminder, User
from web import demo


def open_case(engine, session, people, commune: str = "T01-X01") -> Case:
    return engine.open_case(session, people.actors["tiepnhan"], commune, demo.sample("mau_01", clock.now()))


def first_step(session, case: Case) -> Task:
    return demo.open_tasks(session, case.id)[0]


def add_officer(session, username: str = "canbo_b", commune: str = "T01-X01", active: bool = True) -> access.Actor:
    unit = session.scalar(select(User).where(User.username == "canbo")).org_unit
    if commune != unit.code:
        unit = session.scalar(select(User).where(User.username == "canbo2")).org_unit
    user = User(username=username, full_name="Bùi Thị Cán Bộ B", role="officer", org_unit_id=unit.id,
                password_hash="x", created_at=clock.now(), locale="vi", active=active)
    session.add(user)
    session.commit()
    return access.Actor.of(user.username, user.role, unit, user.id)


def actions(session, case: Case) -> list[tuple[str, str, dict]]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id).order_by(AuditEntry.id))
    return [(r.actor, r.action, r.details) for r in rows if r.action.startswith("task_") and r.action != "task_opened"
            and r.action != "task_completed" and r.action != "task_cancelled"]


def test_claim_makes_the_holder_the_only_one_who_completes_and_others_see_who(case_engine, session, people):
    case = open_case(case_engine, session, people)
    other = add_officer(session)
    task = first_step(session, case)
    canbo = people.actors["canbo"]
    assert access.can_claim(canbo, task) and access.can_claim(other, task)
    version = session.get(Case, case.id).version

    claimed = case_engine.claim_task(session, canbo, task.id)

    assert claimed.assignee == "canbo"
    assert session.get(Case, case.id).version == version  # a claim is no change of the case file
    assert actions(session, case) == [("canbo", "task_claimed", {"task": task.id, "step": task.step})]
    # Both still see it in the commune's list; only the holder may complete it; "my steps" lists it for them.
    assert task.id in {t.id for t, _c in worklists.inbox(session, other).rows}
    assert {t.id for t, _c in worklists.inbox(session, canbo, mine=True).rows} == {task.id}
    assert worklists.inbox(session, other, mine=True).rows == []
    assert not access.can_act(other, task) and not access.can_claim(other, task)
    with pytest.raises(Forbidden) as refused:
        case_engine.complete_task(session, other, task.id, demo.sample(task.form, clock.now()))
    assert "Trần Văn Cán Bộ" in refused.value.message_vi and "Trần Văn Cán Bộ" in refused.value.message_en
    with pytest.raises(Forbidden):
        case_engine.claim_task(session, other, task.id)
    with pytest.raises(Conflict):
        case_engine.claim_task(session, canbo, task.id)
    with pytest.raises(Forbidden):  # only the holder or an assigner releases
        case_engine.release_task(session, other, task.id)
    assert session.get(Task, task.id).state == "ready"

    case_engine.complete_task(session, canbo, task.id, demo.sample(task.form, clock.now()))
    assert session.get(Task, task.id).completed_by == "canbo"


def test_unclaimed_step_is_completed_by_anyone_of_its_role_and_release_gives_it_back(case_engine, session, people):
    case = open_case(case_engine, session, people)
    other = add_officer(session)
    task = first_step(session, case)
    case_engine.claim_task(session, people.actors["canbo"], task.id)
    released = case_engine.release_task(session, people.actors["canbo"], task.id)
    assert released.assignee is None
    assert actions(session, case)[-1] == ("canbo", "task_released", {"task": task.id, "step": task.step,
                                                                      "from": "canbo"})
    with pytest.raises(Conflict):
        case_engine.release_task(session, people.actors["canbo"], task.id)
    case_engine.complete_task(session, other, task.id, demo.sample(task.form, clock.now()))
    assert session.get(Task, task.id).completed_by == "canbo_b"


def test_claiming_is_for_the_steps_role_and_unit_only(case_engine, session, people):
    case = open_case(case_engine, session, people)
    task = first_step(session, case)
    for name in ("canbo2", "chutich", "giamsat", "thanhtra"):
        with pytest.raises((Forbidden, NotFound)):
            case_engine.claim_task(session, people.actors[name], task.id)
    with pytest.raises(NotFound):  # out of scope looks like missing
        case_engine.claim_task(session, people.actors["canbo2"], 10**6)
    assert session.get(Task, task.id).assignee is None
    assert actions(session, case) == []


def test_plan_activities_are_not_claimed_but_reassigned(case_engine, session, people):
    case = open_case(case_engine, session, people)
    demo.drive(case_engine, session, case, people, stop_at="carry_out_activity")
    activity = next(t for t in demo.open_tasks(session, case.id) if t.step == "carry_out_activity")
    assert not access.can_claim(people.actors[activity.assignee], activity)
    with pytest.raises(InvalidState):
        case_engine.release_task(session, people.actors[activity.assignee], activity.id)
    with pytest.raises(InvalidState):
        case_engine.assign_task(session, people.actors["chutich"], activity.id, {"assignee": "yte"})


def test_chairman_and_supervisor_assign_within_scope_with_field_errors(case_engine, session, people):
    case = open_case(case_engine, session, people)
    other = add_officer(session)
    add_officer(session, "nghi", active=False)
    add_officer(session, "canbo_x02", commune="T01-X02")
    task = first_step(session, case)
    assert [h.username for h in ownership.holders(session, task)] == ["canbo_b", "canbo"]  # Bùi < Trần

    assigned = case_engine.assign_task(session, people.actors["chutich"], task.id,
                                       {"assignee": "canbo_b", "reason": "Chị B phụ trách địa bàn."})
    assert assigned.assignee == "canbo_b" and access.can_act(other, assigned)
    assert not access.can_act(people.actors["canbo"], assigned)
    assert actions(session, case)[-1] == ("chutich", "task_assigned", {
        "task": task.id, "step": task.step, "from": None, "to": "canbo_b", "reason": "Chị B phụ trách địa bàn."})

    for who, key in [("nghi", "not_holder"), ("canbo_x02", "not_holder"), ("chutich", "not_holder"),
                     ("canbo_b", "unchanged")]:
        with pytest.raises(forms.FormError) as err:
            case_engine.assign_task(session, people.actors["giamsat"], task.id, {"assignee": who})
        assert err.value.codes == {"assignee": [key]}
    with pytest.raises(forms.FormError) as err:
        case_engine.assign_task(session, people.actors["giamsat"], task.id, {"assignee": ""}, locale="en")
    assert set(err.value.errors) == {"assignee"}
    for name in ("canbo", "canbo_b", "chutich2", "thanhtra"):
        with pytest.raises((Forbidden, NotFound)):
            case_engine.assign_task(session, people.actors.get(name) or other, task.id, {"assignee": "canbo"})

    moved = case_engine.assign_task(session, people.actors["giamsat"], task.id, {"assignee": "canbo"})
    assert moved.assignee == "canbo"
    freed = case_engine.release_task(session, people.actors["chutich"], task.id)  # an assigner frees it
    assert freed.assignee is None
    assert [a for _w, a, _d in actions(session, case)] == ["task_assigned", "task_assigned", "task_released"]


def test_a_step_held_by_a_deactivated_account_is_stranded_until_reassigned(case_engine, session, people):
    case = open_case(case_engine, session, people)
    add_officer(session)
    task = first_step(session, case)
    case_engine.assign_task(session, people.actors["chutich"], task.id, {"assignee": "canbo_b"})
    assert liveness.problems(session, session.get(Case, case.id)) == []
    session.execute(update(User).where(User.username == "canbo_b").values(active=False))
    session.commit()

    found = liveness.problems(session, session.get(Case, case.id))
    assert [p.code for p in found] == ["unworkable_step"] and "canbo_b" in found[0].vi
    assert case.id in {c.id for c in session.scalars(liveness.stranded_query(people.actors["giamsat"]))}

    case_engine.assign_task(session, people.actors["giamsat"], task.id, {"assignee": "canbo", "reason": "Nghỉ việc"})
    assert liveness.problems(session, session.get(Case, case.id)) == []
    assert case.id not in {c.id for c in session.scalars(liveness.stranded_query())}


def test_a_transfer_frees_the_steps_held_in_the_old_commune(case_engine, session, people):
    case = open_case(case_engine, session, people)
    task = first_step(session, case)
    case_engine.claim_task(session, people.actors["canbo"], task.id)
    case_engine.transfer_case(session, people.actors["canbo"], case.id,
                              demo.sample("transfer", clock.now(), to_commune="T01-X02"))
    moved = session.get(Task, task.id)
    assert moved.assignee is None and moved.commune_id != people.actors["canbo"].commune_id
    assert liveness.problems(session, session.get(Case, case.id)) == []
    assert ("canbo", "task_released", {"task": task.id, "step": task.step, "from": "canbo",
                                       "reason": "transferred"}) in actions(session, case)
    assert access.can_act(people.actors["canbo2"], moved)


def test_reminders_reach_the_holder_or_everyone_who_may_do_the_step(case_engine, session, people):
    case = open_case(case_engine, session, people)
    add_officer(session)
    task = first_step(session, case)
    sent = ownership.remind(case_engine, session, people.actors["giamsat"], task.id, {"note": "Sắp quá hạn."})
    assert sorted(r.recipient for r in sent) == ["canbo", "canbo_b"]
    assert actions(session, case)[-1] == ("giamsat", "task_reminded", {
        "task": task.id, "step": task.step, "to": ["canbo_b", "canbo"], "note": "Sắp quá hạn."})
    case_engine.claim_task(session, people.actors["canbo"], task.id)
    sent = ownership.remind(case_engine, session, people.actors["chutich"], task.id, {})
    assert [r.recipient for r in sent] == ["canbo"]
    assert [(r.sent_by, t.id) for r, t, _c in ownership.unread_reminders(session, "canbo")] == [
        ("chutich", task.id), ("giamsat", task.id)]
    assert ownership.mark_read(session, "canbo", task.id) == 2
    session.commit()
    assert ownership.unread_reminders(session, "canbo") == []
    assert len(ownership.unread_reminders(session, "canbo_b")) == 1
    for name in ("canbo", "chutich2", "thanhtra"):
        with pytest.raises((Forbidden, NotFound)):
            ownership.remind(case_engine, session, people.actors[name], task.id, {})
    with pytest.raises(forms.FormError) as err:
        ownership.remind(case_engine, session, people.actors["giamsat"], task.id, {"note": "x" * 1001})
    assert set(err.value.errors) == {"note"}
    assert session.scalar(select(func.count()).select_from(TaskReminder)) == 3
    session.execute(update(User).where(User.username == "canbo").values(active=False))
    session.commit()
    with pytest.raises(InvalidState):  # nobody to remind: the fix is to assign it
        ownership.remind(case_engine, session, people.actors["giamsat"], task.id, {})


def test_a_reminder_checks_the_right_before_the_note(case_engine, session, people):
    """Someone who may not remind is refused (403/404) whatever the note; the right holder with a bad note gets the
    field error; in both orders nothing is sent."""
    case = open_case(case_engine, session, people)
    task = first_step(session, case)
    for bad in ("x" * 1001, "ghi chú\x00"):
        with pytest.raises(Forbidden):  # the commune's officer sees the step but may not remind
            ownership.remind(case_engine, session, people.actors["canbo"], task.id, {"note": bad})
        with pytest.raises(NotFound):  # another commune's chairman does not see it at all
            ownership.remind(case_engine, session, people.actors["chutich2"], task.id, {"note": bad})
        with pytest.raises(forms.FormError) as err:
            ownership.remind(case_engine, session, people.actors["chutich"], task.id, {"note": bad})
        assert set(err.value.errors) == {"note"}
    assert session.scalar(select(func.count()).select_from(TaskReminder)) == 0
    assert "task_reminded" not in [action for _who, action, _details in actions(session, case)]


def test_next_steps_are_the_ones_the_same_person_may_do(case_engine, session, people):
    case = open_case(case_engine, session, people)
    task = first_step(session, case)
    canbo = people.actors["canbo"]
    case_engine.complete_task(session, canbo, task.id, demo.sample(task.form, clock.now()))
    following = ownership.next_steps(session, canbo, case.id)
    assert following and all(access.can_act(canbo, t) for t in following)
    assert ownership.next_steps(session, people.actors["canbo2"], case.id) == []
    assert ownership.next_steps(session, people.actors["chutich"], case.id) == [
        t for t in demo.open_tasks(session, case.id) if t.role == "chairman"]


def test_workload_counts_open_and_overdue_steps_per_holder_in_scope(case_engine, session, people):
    first = open_case(case_engine, session, people)
    second = open_case(case_engine, session, people)
    elsewhere = open_case(case_engine, session, people, "T01-X02")
    case_engine.claim_task(session, people.actors["canbo"], first_step(session, first).id)
    late = first_step(session, second)
    session.execute(update(Task).where(Task.id == late.id).values(due_at=clock.now() - timedelta(days=1)))
    session.commit()
    chairman = ownership.workload(session, people.actors["chutich"])
    assert [(w.username, w.open, w.overdue) for w in chairman] == [(None, 1, 1), ("canbo", 1, 0)]
    assert chairman[1].full_name == "Trần Văn Cán Bộ"
    province = ownership.workload(session, people.actors["giamsat"])
    assert sum(w.open for w in province) == 3
    assert ownership.workload(session, people.actors["giamsat"], commune_id=elsewhere.commune_id)[0].open == 1
