"""Plan activities go to real accounts (engine.assignees): the pick list, the plan's check, reassigning — both
databases. A typed name that matches no account is refused on its field and nothing is saved; the commune's
officer or chairman moves an open activity to another account, also when its account was deactivated."""

from __future__ import annotations

import uuid

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select, update

import forms
from engine import access, assignees, clock, worklists
from engine.errors import Conflict, Forbidden, InvalidState, NotFound
from engine.models import AuditEntry, Case, Task, User
from engine.runtime import Engine
from tests.web.casework_kit import add_other_province
from web import demo

FREE_TEXT = "Trạm Y tế phường"  # the name of the health station's account, typed instead of its username
NOT_ASSIGNABLE_VI = ("Không có tài khoản nào với tên này được giao việc ở xã/phường hoặc tỉnh của hồ sơ; "
                     "hãy chọn trong danh sách.")


def open_case(engine, session, people, commune: str = "T01-X01") -> Case:
    return engine.open_case(session, people.actors["tiepnhan"], commune, demo.sample("mau_01", clock.now()))


def plan_task(engine, session, people, commune: str = "T01-X01") -> tuple[Case, Task]:
    case = open_case(engine, session, people, commune)
    demo.drive(engine, session, case, people, stop_at="draft_plan")
    return case, next(t for t in demo.open_tasks(session, case.id) if t.step == "draft_plan")


def plan(*assignees_: str) -> dict:
    activities = demo.sample("mau_04", clock.now())["activities"]
    return demo.sample("mau_04", clock.now(), activities=[
        {**activities[i % 2], "assignee": who} for i, who in enumerate(assignees_)])


def activity_tasks(session, case: Case) -> list[Task]:
    return [t for t in demo.open_tasks(session, case.id) if t.step == "carry_out_activity"]


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def inbox_ids(session, actor: access.Actor) -> set[int]:
    return {task.id for task, _case in worklists.inbox(session, actor).rows}


def test_assignable_are_the_active_partners_of_the_commune_and_province_in_vietnamese_order(
        case_engine, session, people):
    province, commune = add_other_province(session)
    now = clock.now()
    for username, name, role, unit in [("ytet02", "Trạm Y tế Tỉnh Hai", "partner", commune.id),
                                       ("nghi", "Ân Đã Nghỉ", "partner", None), ("canbo_x", "Cán Bộ", "officer", None)]:
        session.add(User(username=username, full_name=name, role=role, org_unit_id=unit, password_hash="x",
                         created_at=now, locale="vi"))
    session.commit()
    x01 = open_case(case_engine, session, people)
    x02 = open_case(case_engine, session, people, "T01-X02")
    t02 = case_engine.open_case(session, access.Actor("t", "intake"), "T02-X01", demo.sample("mau_01", now))

    listed = assignees.assignable(session, x01)
    # Commune partners and the province's centre; never the officer, another commune's or province's partner.
    assert [a.username for a in listed] == ["yte", "ctxh", "truonghoc"]  # Trạm < Trung < Trường
    assert listed[0].label == "Trạm Y tế phường — Phường Phan Đình Phùng (demo)"
    assert [a.username for a in assignees.assignable(session, x02)] == ["ctxh"]
    assert [a.username for a in assignees.assignable(session, t02)] == ["ytet02"]
    session.execute(update(User).where(User.username == "yte").values(active=False))
    session.commit()
    assert [a.username for a in assignees.assignable(session, x01)] == ["ctxh", "truonghoc"]


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_free_text_assignee_is_refused_on_its_field_and_nothing_is_saved(case_engine, session, people, locale):
    case, task = plan_task(case_engine, session, people)
    version, audits = session.get(Case, case.id).version, count(session, AuditEntry)

    with pytest.raises(forms.FormError) as err:
        case_engine.complete_task(session, people.actors["canbo"], task.id, plan("truonghoc", FREE_TEXT),
                                  expected_version=version, locale=locale)

    expected = NOT_ASSIGNABLE_VI if locale == "vi" else (
        "No account with this username can be assigned work in the case's commune or province; "
        "choose one from the list.")
    assert err.value.errors == {"activities": {"1": {"assignee": [expected]}}}
    assert err.value.codes == {"activities": {"1": {"assignee": ["not_assignable"]}}}
    assert err.value.form == "mau_04" and FREE_TEXT not in str(err.value)  # field names only, never values
    session.expire_all()
    assert session.get(Task, task.id).state == "ready" and session.get(Case, case.id).version == version
    assert count(session, AuditEntry) == audits and activity_tasks(session, case) == []


def test_deactivated_out_of_scope_and_officer_accounts_are_refused(case_engine, session, people):
    _province, commune = add_other_province(session)
    session.add(User(username="ytet02", full_name="Trạm Y tế Tỉnh Hai", role="partner", org_unit_id=commune.id,
                     password_hash="x", created_at=clock.now(), locale="vi"))
    session.execute(update(User).where(User.username == "yte").values(active=False))
    session.commit()
    case, task = plan_task(case_engine, session, people)
    with pytest.raises(forms.FormError) as err:
        case_engine.complete_task(session, people.actors["canbo"], task.id,
                                  plan("truonghoc", "yte", "ytet02", "canbo"))
    assert err.value.codes == {"activities": {
        "1": {"assignee": ["inactive"]}, "2": {"assignee": ["not_assignable"]}, "3": {"assignee": ["not_assignable"]}}}
    assert err.value.errors["activities"]["1"]["assignee"] == [
        "Tài khoản này đã ngừng hoạt động; hãy chọn tài khoản khác trong danh sách."]
    assert "0" not in err.value.errors["activities"]
    assert session.get(Task, task.id).state == "ready"


def test_valid_plan_routes_each_activity_and_takes_the_name_from_the_account(case_engine, session, people):
    case, task = plan_task(case_engine, session, people)
    data = plan("truonghoc", "ctxh")
    data["activities"][1]["assignee_name"] = "Tên gõ tay, không tin"
    case_engine.complete_task(session, people.actors["canbo"], task.id, data)
    stored = session.get(Task, task.id).form_data["activities"]
    assert [(a["assignee"], a["assignee_name"]) for a in stored] == [
        ("truonghoc", "Trường THCS Phan Đình Phùng"), ("ctxh", "Trung tâm Công tác xã hội tỉnh (demo)")]
    demo.drive(case_engine, session, case, people, stop_at="carry_out_activity")
    assert sorted(t.assignee for t in activity_tasks(session, case)) == ["ctxh", "truonghoc"]
    assert all(inbox_ids(session, people.actors[t.assignee]) == {t.id} for t in activity_tasks(session, case))
    # Each step's row carries the activity the workflow opened it for (what the partner's page shows).
    assert sorted((t.activity["assignee"], t.activity["measure"]) for t in activity_tasks(session, case)) == sorted(
        (a["assignee"], a["measure"]) for a in stored)


def _at_activities(engine, session, people) -> tuple[Case, Task, Task]:
    case = open_case(engine, session, people)
    demo.drive(engine, session, case, people, stop_at="carry_out_activity")
    tasks = activity_tasks(session, case)
    return case, next(t for t in tasks if t.assignee == "truonghoc"), next(t for t in tasks if t.assignee == "yte")


def test_officer_reassigns_an_activity_to_the_other_partners_inbox(case_engine, session, people):
    case, _school, health = _at_activities(case_engine, session, people)
    version = session.get(Case, case.id).version
    assert health.id in inbox_ids(session, people.actors["yte"])

    moved = case_engine.reassign_task(session, people.actors["canbo"], health.id, "truonghoc",
                                      "Trạm y tế quá tải; nhà trường nhận theo dõi.", expected_version=version)

    session.expire_all()
    assert moved.assignee == "truonghoc" and session.get(Case, case.id).version == version + 1
    assert health.id not in inbox_ids(session, people.actors["yte"])
    assert health.id in inbox_ids(session, people.actors["truonghoc"])
    # The workflow's copy of the activity agrees with the task row (a fresh engine reads the same).
    spiff = Engine().load_workflow(session, session.get(Case, case.id)).get_task_from_id(uuid.UUID(health.spiff_id))
    assert spiff.state == TaskState.READY
    assert (spiff.data["activity"]["assignee"], spiff.data["activity"]["assignee_name"]) == (
        "truonghoc", "Trường THCS Phan Đình Phùng")
    assert session.get(Task, health.id).activity == spiff.data["activity"]  # the row follows the workflow
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "task_reassigned"))
    assert (entry.actor, entry.case_id) == ("canbo", case.id)
    assert {k: entry.details[k] for k in ("task", "from", "to", "reason")} == {
        "task": health.id, "from": "yte", "to": "truonghoc", "reason": "Trạm y tế quá tải; nhà trường nhận theo dõi."}
    # The old assignee can no longer act; the new one completes it.
    with pytest.raises(Forbidden):
        case_engine.complete_task(session, people.actors["yte"], health.id, demo.sample("activity_report", clock.now()))
    case_engine.complete_task(session, people.actors["truonghoc"], health.id,
                              demo.sample("activity_report", clock.now()))
    assert session.get(Task, health.id).completed_by == "truonghoc"


def test_chairman_may_reassign_and_stale_versions_conflict(case_engine, session, people):
    case, school, _health = _at_activities(case_engine, session, people)
    with pytest.raises(Conflict):
        case_engine.reassign_task(session, people.actors["chutich"], school.id, "ctxh", "Lý do.", expected_version=0)
    case_engine.reassign_task(session, people.actors["chutich"], school.id, "ctxh", "Nhà trường nghỉ hè.")
    assert session.get(Task, school.id).assignee == "ctxh"


def test_reassign_refusals_change_nothing(case_engine, session, people):
    case, school, health = _at_activities(case_engine, session, people)
    _province, commune = add_other_province(session)
    session.commit()
    version = session.get(Case, case.id).version
    actors = people.actors
    refusals = [
        (actors["truonghoc"], school.id, "yte", Forbidden),  # a partner, even on their own step
        (actors["truonghoc"], health.id, "truonghoc", NotFound),  # another partner's step does not exist for them
        (actors["giamsat"], school.id, "yte", Forbidden),  # the supervisor reads but does not manage
        (actors["thanhtra"], school.id, "yte", Forbidden),
        (actors["canbo2"], school.id, "yte", NotFound),  # another commune
        (actors["chutich2"], school.id, "yte", NotFound),
        (access.Actor("canbo_t02", "officer", commune.id, commune.parent_id), school.id, "yte", NotFound),
        (actors["canbo"], 10**9, "yte", NotFound),
    ]
    for actor, task_id, username, error in refusals:
        with pytest.raises(error):
            case_engine.reassign_task(session, actor, task_id, username, "Lý do.")
    verify = session.scalar(select(Task).where(Task.case_id == case.id, Task.step == "verify"))
    with pytest.raises(Conflict):  # a completed step
        case_engine.reassign_task(session, actors["canbo"], verify.id, "yte", "Lý do.")
    other = open_case(case_engine, session, people)
    open_verify = demo.open_tasks(session, other.id)[0]
    with pytest.raises(InvalidState):  # a step of a role, not of an account
        case_engine.reassign_task(session, actors["canbo"], open_verify.id, "yte", "Lý do.")
    fields = [("Trạm Y tế phường", "Lý do.", {"assignee": ["not_assignable"]}),
              ("canbo", "Lý do.", {"assignee": ["not_assignable"]}),
              ("truonghoc", "Lý do.", {"assignee": ["unchanged"]}),
              ("yte", "  ", {"reason": ["required"]}),
              ("", None, {"assignee": ["required"], "reason": ["required"]}),
              ("yte", "x" * 1001, {"reason": ["too_long|max=1000"]})]
    for username, reason, codes in fields:
        with pytest.raises(forms.FormError) as err:
            case_engine.reassign_task(session, actors["canbo"], school.id, username, reason)
        assert err.value.codes == codes, username
    with pytest.raises(forms.FormError) as err:
        case_engine.reassign_task(session, actors["canbo"], school.id, "Trạm Y tế phường", "Lý do.")
    assert err.value.errors == {"assignee": [NOT_ASSIGNABLE_VI]}
    session.expire_all()
    assert session.get(Case, case.id).version == version
    assert (session.get(Task, school.id).assignee, session.get(Task, health.id).assignee) == ("truonghoc", "yte")
    assert count(session, AuditEntry, AuditEntry.action == "task_reassigned") == 0


def test_deactivated_assignees_step_is_reassigned_completed_and_the_case_reaches_review(case_engine, session, people):
    case, school, health = _at_activities(case_engine, session, people)
    session.execute(update(User).where(User.username == "yte").values(active=False))  # the admin's user edit
    session.commit()
    officer = people.actors["canbo"]
    assert access.can_reassign(officer, health, session.get(Case, case.id))
    with pytest.raises(forms.FormError) as err:  # nor may it be given back to the deactivated account
        case_engine.reassign_task(session, officer, school.id, "yte", "Lý do.")
    assert err.value.codes == {"assignee": ["inactive"]}

    case_engine.reassign_task(session, officer, health.id, "ctxh", "Tài khoản trạm y tế đã ngừng hoạt động.")
    fresh = Engine()  # as after a restart: the workflow read back from the database
    fresh.complete_task(session, people.actors["ctxh"], health.id, demo.sample("activity_report", clock.now()))
    fresh.complete_task(session, people.actors["truonghoc"], school.id, demo.sample("activity_report", clock.now()))

    session.expire_all()
    assert [t.step for t in demo.open_tasks(session, case.id) if t.escalates_task_id is None] == ["review"]
    results = fresh.load_workflow(session, session.get(Case, case.id)).get_tasks(state=TaskState.COMPLETED)
    assert {r.data.get("activity", {}).get("assignee") for r in results if r.task_spec.name == "Task_carry_out_activity"
            } == {"ctxh", "truonghoc"}
