"""Deploying process versions (upload, lint, diff, activate) and migrating running cases between them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import audit, case_migration, check, clock, liveness, versions
from engine.models import AuditEntry, Case, ProcessVersion, Task, Timer
from tests.processes import variants
from web import demo


def open_case(engine, session, people) -> Case:
    return engine.open_case(session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now()))


def deploy(engine, session, text: str, name: str = "decree56-v2.bpmn") -> ProcessVersion:
    row = versions.upload(engine, session, "quantri", text.encode(), name).version
    versions.activate(engine, session, "quantri", row.id)
    return row


def test_the_shipped_file_is_active_until_an_upload_is_activated(case_engine, session, people):
    first = open_case(case_engine, session, people)
    shipped = versions.active_version(case_engine, session)
    assert first.process_version_id == shipped.id and shipped.source == "shipped"

    uploaded = versions.upload(case_engine, session, "quantri", variants.renamed_and_extended().encode(), "v2.bpmn")
    assert not uploaded.existed and uploaded.version.activated_at is None
    assert open_case(case_engine, session, people).process_version_id == shipped.id  # not active yet

    change = versions.diff_against_active(case_engine, session, uploaded.version.id)
    assert change.steps_added == ["Task_closing_note"] and change.steps_removed == []
    assert ("Task_verify", "title_vi", "Xác minh thông tin", variants.NEW_LABEL) in change.steps_changed
    assert change.timers == [] and change.forms_added == [] and change.forms_removed == []

    versions.activate(case_engine, session, "quantri", uploaded.version.id)
    new = open_case(case_engine, session, people)
    assert new.process_version_id == uploaded.version.id
    session.refresh(first)
    assert first.process_version_id == shipped.id  # running cases keep their version
    [verify] = [t for t in demo.open_tasks(session, new.id) if t.step == "verify"]
    assert verify.title == variants.NEW_LABEL
    actions = [a for (a,) in session.execute(select(AuditEntry.action).order_by(AuditEntry.id))]
    assert "process_uploaded" in actions and actions.count("process_activated") == 2  # shipped + upload
    assert audit.verify(session) == []

    with pytest.raises(versions.InvalidState):
        versions.activate(case_engine, session, "quantri", uploaded.version.id)
    versions.activate(case_engine, session, "quantri", shipped.id)  # going back is an activation too
    assert open_case(case_engine, session, people).process_version_id == shipped.id


@pytest.mark.parametrize("raw, message", [
    (b"", "Hãy chọn"),
    (b"<a/>" + b" " * versions.MAX_BYTES, "quá lớn"),
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>', "lỗi"),
    (b"<not-closed", "lỗi"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "lỗi"),
    (variants.broken().encode(), "1 lỗi"),
])
def test_a_refused_upload_saves_nothing(case_engine, session, people, raw, message):
    before = session.scalar(select(func.count(ProcessVersion.id)))
    with pytest.raises(versions.UploadRefused) as refused:
        versions.upload(case_engine, session, "quantri", raw, "x.bpmn")
    assert message in refused.value.message_vi
    session.rollback()
    assert session.scalar(select(func.count(ProcessVersion.id))) == before
    assert "passwd" not in str(refused.value.findings)


def test_the_same_file_uploaded_twice_is_one_version(case_engine, session, people):
    text = variants.renamed_and_extended().encode()
    first = versions.upload(case_engine, session, "quantri", text, "a.bpmn")
    again = versions.upload(case_engine, session, "quantri", text, "b.bpmn")
    assert again.existed and again.version.id == first.version.id


def test_cases_at_three_steps_migrate_and_the_one_without_counterpart_is_refused(case_engine, session, people):
    at_verify = open_case(case_engine, session, people)
    at_detailed = open_case(case_engine, session, people)
    demo.drive(case_engine, session, at_detailed, people, stop_at="detailed_assessment")
    at_activity = open_case(case_engine, session, people)
    demo.drive(case_engine, session, at_activity, people, stop_at="carry_out_activity")
    old_version = at_verify.process_version_id
    cases = (at_verify, at_detailed, at_activity)
    old_due = {t.id: t.due_at for c in cases for t in demo.open_tasks(session, c.id)}

    target = versions.upload(case_engine, session, "quantri", variants.renamed_and_extended().encode(),
                             "v2.bpmn").version
    outcomes = case_migration.migrate(case_engine, session, people.actors["quantri"],
                                      [at_verify.id, at_detailed.id, at_activity.id], target.id)
    assert [o.migrated for o in outcomes] == [True, True, True], [o.reason_vi for o in outcomes]
    for case in (at_verify, at_detailed, at_activity):
        session.refresh(case)
        assert case.process_version_id == target.id
        for task in demo.open_tasks(session, case.id):
            assert task.due_at == old_due[task.id]  # same rules, same anchors: the same limits
            assert session.scalar(select(Timer.fire_at).where(Timer.task_id == task.id, Timer.kind == "deadline",
                                                              Timer.cancelled_at.is_(None))) == task.due_at
    [verify] = demo.open_tasks(session, at_verify.id)
    assert verify.title == variants.NEW_LABEL
    assert list(check.check(case_engine, session)) == [] and liveness.count_stranded(session) == 0

    # The migrated case goes on in the new version, to its added step.
    steps = demo.drive(case_engine, session, at_activity, people, stop_at="closing_note")
    assert "end_plan" in steps
    assert [t.step for t in demo.open_tasks(session, at_activity.id)] == ["closing_note"]
    demo.drive(case_engine, session, at_activity, people)
    assert session.get(Case, at_activity.id).status == "closed"

    # A version where the detailed assessment has another id: the case waiting there is refused ...
    at_detailed, at_verify = session.get(Case, at_detailed.id), session.get(Case, at_verify.id)
    renamed = versions.upload(case_engine, session, "quantri",
                              variants.renamed_id("Task_detailed_assessment", "Task_assessment_v3").encode(),
                              "v3.bpmn").version
    before = (at_detailed.version, at_detailed.process_version_id)
    [refused, moved] = case_migration.migrate(case_engine, session, people.actors["quantri"],
                                              [at_detailed.id, at_verify.id], renamed.id)
    assert not refused.migrated and "Task_detailed_assessment" in refused.reason_vi and moved.migrated
    at_detailed = session.get(Case, at_detailed.id)
    assert (at_detailed.version, at_detailed.process_version_id) == before  # untouched
    # ... unless the analyst maps the old id onto the new one.
    [mapped] = case_migration.migrate(case_engine, session, people.actors["quantri"], [at_detailed.id], renamed.id,
                                      {"Task_detailed_assessment": "Task_assessment_v3"})
    assert mapped.migrated, mapped.reason_vi
    demo.drive(case_engine, session, at_detailed, people, stop_at="draft_plan")
    assert [t.step for t in demo.open_tasks(session, at_detailed.id)][:1] == ["needs_meeting"] or \
        any(t.step == "draft_plan" for t in demo.open_tasks(session, at_detailed.id))

    assert list(check.check(case_engine, session)) == [] and liveness.count_stranded(session) == 0
    migrated = session.scalars(select(AuditEntry).where(AuditEntry.action == "case_migrated")).all()
    assert len(migrated) == 5 and all(a.details["from_version"] != a.details["to_version"] for a in migrated)
    assert old_version != target.id
    assert audit.verify(session) == []


def test_a_changed_rule_recomputes_the_open_limit_from_the_anchors(case_engine, session, people):
    case = open_case(case_engine, session, people)
    [verify] = demo.open_tasks(session, case.id)
    text = variants.shipped().replace('deadline("verify")', 'deadline("plan")')
    target = versions.upload(case_engine, session, "quantri", text.encode(), "slower.bpmn").version
    [outcome] = case_migration.migrate(case_engine, session, people.actors["quantri"], [case.id], target.id)
    assert outcome.migrated
    session.refresh(verify)
    timer_task_data = {"anchors": {"received_at": case.received_at.isoformat()}}
    assert verify.rule == "plan"
    assert verify.due_at == case_engine.rules.due("plan", timer_task_data, case_engine.calendar)
    assert list(check.check(case_engine, session)) == []


def test_parse_mapping_names_a_bad_pair():
    assert case_migration.parse_mapping("A=B, C = D\n") == {"A": "B", "C": "D"}
    with pytest.raises(ValueError, match="oops"):
        case_migration.parse_mapping("A=B\noops")


def test_closed_and_unknown_cases_are_refused(case_engine, session, people):
    case = open_case(case_engine, session, people)
    no_basis = {"verification": {"has_basis": False, "reason_no_basis": "Không có sự việc."}}
    demo.drive(case_engine, session, case, people, choices=no_basis)
    session.refresh(case)
    assert case.status != "open"
    target = versions.upload(case_engine, session, "quantri", variants.renamed_and_extended().encode(),
                             "v2.bpmn").version
    outcomes = case_migration.migrate(case_engine, session, people.actors["quantri"], [case.id, 999999], target.id)
    assert [(o.migrated, o.reason_vi) for o in outcomes] == [(False, "hồ sơ đã đóng"), (False, "không có hồ sơ này")]
    assert session.scalar(select(func.count(Task.id)).where(Task.case_id == case.id, Task.state == "ready")) == 0
