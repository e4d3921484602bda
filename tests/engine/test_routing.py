"""Issue 16: a report names its incident and residence communes (Mẫu 01). The initial assessment is the
incident commune's (Decree 56 Art. 26.1-26.2), the plan the residence commune's (Law on Children Art. 52.2):
the case moves when the plan stage opens, transferred and audited like a manual transfer. The 12 hours run from
the earlier of the intake point's and the commune's receipt (Art. 26.3, 31.2, 32.2). On both databases."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import forms
from engine import clock, liveness, transfers
from engine.check import check_case
from engine.models import AuditEntry, Case, OrgUnit, Task
from web import demo


def unit(session, code):
    return session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def report(at, **changes):
    return demo.sample("mau_01", at, **changes)


def assert_clean(engine, session, case):
    session.expire_all()
    row = session.get(Case, case.id)
    assert check_case(engine, session, row) == []
    assert liveness.problems(session, row) == []


def test_assessment_at_the_incident_commune_plan_at_the_residence_commune(case_engine, session, people):
    x01, x02 = unit(session, "T01-X01"), unit(session, "T01-X02")
    case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01",
                                 report(clock.now(), incident_commune="T01-X01", residence_commune="T01-X02"))
    session.expire_all()
    case = session.get(Case, case.id)
    assert (case.commune_id, case.incident_commune_id, case.residence_commune_id) == (x01.id, x01.id, x02.id)
    assert_clean(case_engine, session, case)

    # Verification and the initial assessment (Mẫu 02) happen at the incident commune.
    done = demo.drive(case_engine, session, case, people, stop_at="detailed_assessment")
    assert done == ["verify", "initial_assessment"]
    mau_02 = session.scalar(select(Task).where(Task.case_id == case.id, Task.step == "initial_assessment"))
    assert (mau_02.commune_id, mau_02.completed_by) == (x01.id, "canbo")

    # Completing Mẫu 02 opened the plan stage: the case went to the residence commune in that transaction.
    session.expire_all()
    case = session.get(Case, case.id)
    assert (case.commune_id, case.province_id) == (x02.id, x02.parent_id)
    [detailed] = demo.open_tasks(session, case.id)
    assert (detailed.step, detailed.commune_id) == ("detailed_assessment", x02.id)
    record = session.scalar(select(Task).where(Task.case_id == case.id, Task.step == "transfer"))
    assert (record.state, record.completed_by, record.commune_id) == ("completed", "system", x01.id)
    assert record.form_data["to_commune"] == "T01-X02" and "Điều 52 khoản 2" in record.form_data["reason"]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.case_id == case.id,
                                                    AuditEntry.action == "case_transferred"))
    assert entry.actor == "system"
    assert entry.details == {"from": "T01-X01", "to": "T01-X02", "open_steps": 1, "routed": "residence"}
    assert_clean(case_engine, session, case)

    # The plan steps land at the residence commune's officer and chairman.
    activities = [{**a, "assignee": "ctxh"} for a in demo.sample("mau_04", clock.now())["activities"]]
    done = demo.drive(case_engine, session, case, people, stop_at="carry_out_activity",
                      choices={"mau_04": {"activities": activities}})
    assert done[0] == "detailed_assessment" and done[-1] == "approve_plan" and "draft_plan" in done
    assert set(done) <= transfers.RESIDENCE_STEPS
    rows = {t.step: t for t in session.scalars(select(Task).where(Task.case_id == case.id, Task.state == "completed"))}
    assert {rows[s].completed_by for s in ("detailed_assessment", "draft_plan", "draft_decision")} == {"canbo2"}
    assert rows["approve_plan"].completed_by == "chutich2"
    # the chairman who signs the needs meeting's minute (Art. 27.2) is the residence commune's
    signoff = rows["needs_meeting_signoff"]
    assert (signoff.completed_by, signoff.commune_id) == ("chutich2", x02.id)
    assert all(rows[s].commune_id == x02.id for s in done)
    assert all(rows[s].commune_id == x02.id for s in ("needs_meeting", "draft_plan", "approve_plan"))
    assert count(session, AuditEntry, AuditEntry.case_id == case.id, AuditEntry.action == "case_transferred") == 1
    assert_clean(case_engine, session, case)


def test_same_commune_or_later_manual_transfer_is_not_routed_again(case_engine, session, people):
    case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report(clock.now()))
    session.expire_all()
    row = session.get(Case, case.id)
    assert row.incident_commune_id == row.residence_commune_id == unit(session, "T01-X01").id
    demo.drive(case_engine, session, case, people, stop_at="needs_meeting")
    assert count(session, Task, Task.case_id == case.id, Task.step == "transfer") == 0
    # The child moves: a manual transfer makes the new commune the residence, and nothing routes it back.
    transfers.transfer(case_engine, session, people.actors["canbo"], case.id, demo.sample("transfer", clock.now()))
    activities = [{**a, "assignee": "ctxh"} for a in demo.sample("mau_04", clock.now())["activities"]]
    demo.drive(case_engine, session, case, people, stop_at="approve_plan",
               choices={"mau_04": {"activities": activities}})
    session.expire_all()
    row = session.get(Case, case.id)
    assert row.commune_id == row.residence_commune_id == unit(session, "T01-X02").id
    assert count(session, Task, Task.case_id == case.id, Task.step == "transfer") == 1
    assert_clean(case_engine, session, row)


def test_limits_run_from_the_earlier_receipt(case_engine, session, people):
    now = clock.now()
    early, late = now - timedelta(hours=5), now - timedelta(hours=2)
    intake = people.actors["tiepnhan"]
    # The commune heard first (e.g. from the child's school) and the helpline later: 12 h from the commune's.
    forwarded = case_engine.open_case(session, intake, "T01-X01", report(now, received_at=late.isoformat(),
                                                                         commune_received_at=early.isoformat()))
    # The helpline received first and forwarded it three hours later: 12 h from the helpline's.
    direct = case_engine.open_case(session, intake, "T01-X01", report(now, received_at=early.isoformat(),
                                                                      commune_received_at=late.isoformat()))
    session.expire_all()
    for case in (forwarded, direct):
        row = session.get(Case, case.id)
        assert row.received_at == early
        [verify] = demo.open_tasks(session, case.id)
        assert verify.due_at == case_engine.rules.due("verify", {"anchors": {"received_at": early.isoformat()}},
                                                      case_engine.calendar)
    rows = [session.get(Case, c.id) for c in (forwarded, direct)]
    assert [(r.intake_received_at, r.commune_received_at) for r in rows] == [(late, early), (early, late)]
    # The emergency decision's 12 hours (Art. 26.3) run from the same earlier moment.
    demo.drive(case_engine, session, forwarded, people, stop_at="emergency_decision", choices={"mau_02": {
        "emergency": True, "danger_description": "Trẻ bị đánh, có thương tích."}})
    decision = next(t for t in demo.open_tasks(session, forwarded.id) if t.step == "emergency_decision")
    assert decision.due_at == case_engine.rules.due(
        "emergency", {"anchors": {"received_at": early.isoformat()}}, case_engine.calendar)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"residence_commune": "T99-X99"}, "residence_commune", "Không có xã, phường với mã này"),
    ({"incident_commune": "T01-X02"}, "incident_commune", "nơi xảy ra vụ việc (Điều 26.1"),
])
def test_bad_communes_are_refused_on_their_field_and_nothing_is_saved(case_engine, session, people, changes,
                                                                     field, message):
    before = (count(session, Case), count(session, Task), count(session, AuditEntry))
    with pytest.raises(forms.FormError) as caught:
        case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report(clock.now(), **changes))
    assert list(caught.value.errors) == [field] and message in caught.value.errors[field][0]
    with pytest.raises(forms.FormError) as caught:
        case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report(clock.now(), **changes),
                              locale="en")
    assert caught.value.errors[field][0].startswith(("No commune", "The case opens"))
    session.expire_all()
    assert (count(session, Case), count(session, Task), count(session, AuditEntry)) == before


def test_routed_case_with_police_track_runs_to_closure_live_after_every_step(case_engine, session, people):
    case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01",
                                 report(clock.now(), residence_commune="T01-X02", crime_suspected=True))
    x01, x02 = unit(session, "T01-X01"), unit(session, "T01-X02")
    activities = [{**a, "assignee": "ctxh"} for a in demo.sample("mau_04", clock.now())["activities"]]
    completed: list[str] = []
    for _ in range(40):
        tasks = [t for t in demo.open_tasks(session, case.id) if t.escalates_task_id is None]
        if not tasks:
            break
        task = tasks[0]
        data = demo.sample(task.form, clock.now(), **({"activities": activities} if task.form == "mau_04" else {}))
        case_engine.complete_task(session, people.for_task(task), task.id, data)
        completed.append(task.step)
        assert_clean(case_engine, session, case)
        row = session.get(Case, case.id)
        # Before the plan stage the incident commune holds the case; from it on, the residence commune.
        reached = any(step in transfers.RESIDENCE_STEPS for step in completed) or any(
            t.step in transfers.RESIDENCE_STEPS for t in demo.open_tasks(session, case.id))
        assert row.commune_id == (x02.id if reached else x01.id), completed
    session.expire_all()
    row = session.get(Case, case.id)
    assert row.status == "closed" and "police_outcome" in completed and "end_plan" in completed
    assert count(session, AuditEntry, AuditEntry.case_id == case.id, AuditEntry.action == "case_transferred") == 1


BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


def test_every_step_of_the_plan_stage_is_routed_to_the_residence_commune():
    """RESIDENCE_STEPS is the plan stage of the shipped process: every step the flow reaches from the detailed
    assessment (Art. 27-30; the minute's sign-off of issue 16 included), with the plan adjustment's event
    subprocess (Art. 29.1a), and nothing of the incident commune's or a separation's (Art. 32.2: either commune)."""
    root = ET.parse(Path(__file__).resolve().parents[2] / "processes" / "decree56.bpmn").getroot()
    nodes = {el.get("id"): el for el in root.iter() if el.get("id")}
    after: dict[str, list[str]] = {}
    for flow in root.iter(f"{BPMN}sequenceFlow"):
        after.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    for timer in root.iter(f"{BPMN}boundaryEvent"):
        after.setdefault(timer.get("attachedToRef"), []).append(timer.get("id"))

    def step(node_id: str) -> str | None:
        prop = nodes[node_id].find(f"{BPMN}extensionElements/{SPIFF}properties/{SPIFF}property[@name='step']")
        return prop.get("value") if prop is not None else None

    def steps_from(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            todo += after.get(node, [])
            if nodes[node].tag == f"{BPMN}subProcess":  # into an embedded subprocess (the intervention)
                todo += [str(el.get("id")) for el in nodes[node] if el.tag == f"{BPMN}startEvent"]
        return {s for n in seen if nodes[n].tag == f"{BPMN}userTask" and (s := step(n))
                and not s.startswith("escalate_")}  # an escalation is the province's, wherever the case is

    plan_stage = steps_from("Task_detailed_assessment") | steps_from("Start_adjustment")
    assert {"needs_meeting", "needs_meeting_signoff", "propose_adjustment", "carry_out_activity"} <= plan_stage
    assert plan_stage == transfers.RESIDENCE_STEPS
    assert not {"verify", "initial_assessment", "emergency_decision"} & plan_stage  # the incident commune's
    assert not transfers.RESIDENCE_STEPS & steps_from("Start_separation")
