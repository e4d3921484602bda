"""Transfer to another commune and reopening a closed case (engine.transfers), on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import forms
from engine import access, clock, transfers, worklists
from engine.errors import Conflict, Forbidden, InvalidState, NotFound
from engine.models import AuditEntry, Case, OrgUnit, Task
from web import demo


def open_case(engine, session, people, **mau01):
    report = demo.sample("mau_01", clock.now(), **mau01)
    return engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report)


def unit(session, code):
    return session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_transfer_moves_case_and_open_steps_and_keeps_history(case_engine, session, people):
    case = open_case(case_engine, session, people, crime_suspected=True)  # two open steps: verify, police
    demo.drive(case_engine, session, case, people, stop_at="initial_assessment",
               skip=lambda t: t.step == "police_referral")
    before = session.get(Case, case.id).version
    completed_before = list(session.scalars(select(Task.id).where(Task.case_id == case.id,
                                                                  Task.state == "completed")))
    x01, x02 = unit(session, "T01-X01"), unit(session, "T01-X02")

    moved = transfers.transfer(case_engine, session, people.actors["canbo"], case.id,
                               demo.sample("transfer", clock.now()), expected_version=before)

    session.expire_all()
    moved = session.get(Case, moved.id)
    assert (moved.commune_id, moved.province_id) == (x02.id, x02.parent_id)
    assert moved.version > before  # a page opened before the move cannot change the case afterwards
    open_rows = demo.open_tasks(session, case.id)
    assert {t.step for t in open_rows} == {"initial_assessment", "police_referral"}
    assert all(t.commune_id == x02.id for t in open_rows)
    # History stays where it happened; the transfer itself is a completed row holding the form.
    history = session.scalars(select(Task).where(Task.id.in_(completed_before))).all()
    assert all(t.commune_id == x01.id for t in history)
    record = session.scalar(select(Task).where(Task.case_id == case.id, Task.step == "transfer"))
    assert record.state == "completed" and record.completed_by == "canbo" and record.form == "transfer"
    assert record.form_data["to_commune"] == "T01-X02" and record.form_version == forms.get("transfer").version
    entry = session.scalar(select(AuditEntry).where(AuditEntry.case_id == case.id,
                                                    AuditEntry.action == "case_transferred"))
    assert entry.details == {"from": "T01-X01", "to": "T01-X02", "open_steps": 2}

    # The receiving commune's officer has the steps now; the old one neither sees nor acts.
    canbo, canbo2 = people.actors["canbo"], people.actors["canbo2"]
    assert {t.id for t, _c in worklists.inbox(session, canbo2).rows} == {t.id for t in open_rows}
    assert not worklists.inbox(session, canbo).rows
    assert not access.can_read_case(canbo, moved)
    step = next(t for t in open_rows if t.step == "initial_assessment")
    with pytest.raises(Forbidden):
        case_engine.complete_task(session, canbo, step.id, demo.sample("mau_02", clock.now()))
    case_engine.complete_task(session, canbo2, step.id, demo.sample("mau_02", clock.now()))
    assert "detailed_assessment" in {t.step for t in demo.open_tasks(session, case.id)}
    assert all(t.commune_id == x02.id for t in demo.open_tasks(session, case.id))


def test_transfer_refusals_change_nothing(case_engine, session, people):
    case = open_case(case_engine, session, people)
    version = session.get(Case, case.id).version
    audits = count(session, AuditEntry)
    data = demo.sample("transfer", clock.now())

    def unchanged():
        session.expire_all()
        row = session.get(Case, case.id)
        assert (row.version, row.commune_id) == (version, unit(session, "T01-X01").id)
        assert count(session, Task, Task.case_id == case.id, Task.step == "transfer") == 0
        assert count(session, AuditEntry) == audits

    with pytest.raises(Conflict):  # a stale page
        transfers.transfer(case_engine, session, people.actors["canbo"], case.id, data, expected_version=version - 1)
    unchanged()
    with pytest.raises(forms.FormError) as same:
        transfers.transfer(case_engine, session, people.actors["canbo"], case.id, {**data, "to_commune": "T01-X01"})
    assert "to_commune" in same.value.errors
    with pytest.raises(forms.FormError) as unknown:
        transfers.transfer(case_engine, session, people.actors["canbo"], case.id, {**data, "to_commune": "NOPE"})
    assert "to_commune" in unknown.value.errors
    with pytest.raises(forms.FormError) as invalid:
        transfers.transfer(case_engine, session, people.actors["canbo"], case.id, {"to_commune": "T01-X02"})
    assert "reason" in invalid.value.errors
    with pytest.raises(NotFound):  # another commune's officer: the case does not exist for them
        transfers.transfer(case_engine, session, people.actors["canbo2"], case.id, data)
    with pytest.raises(Forbidden):  # the supervisor reads the case but never changes it
        transfers.transfer(case_engine, session, people.actors["giamsat"], case.id, data)
    with pytest.raises(NotFound):
        transfers.transfer(case_engine, session, people.actors["canbo"], 999_999, data)
    unchanged()

    demo.drive(case_engine, session, case, people, choices={"verification": {
        "has_basis": False, "reason_no_basis": "Không có sự việc."}})
    with pytest.raises(InvalidState):  # a closed case stays where it was closed
        transfers.transfer(case_engine, session, people.actors["canbo"], case.id, data)


def test_reopen_links_a_new_case_to_the_closed_one(case_engine, session, people):
    old = open_case(case_engine, session, people)
    with pytest.raises(InvalidState):  # an open case is not reopened: it is still running
        transfers.reopen(case_engine, session, people.actors["canbo"], old.id, demo.sample("reopen", clock.now()),
                         demo.sample("mau_01", clock.now()))
    demo.drive(case_engine, session, old, people)
    session.expire_all()
    assert session.get(Case, old.id).status == "closed"
    cases_before = count(session, Case)

    with pytest.raises(forms.FormError):  # no reason: nothing opened
        transfers.reopen(case_engine, session, people.actors["canbo"], old.id, {},
                         demo.sample("mau_01", clock.now()))
    with pytest.raises(forms.FormError):  # an invalid new report: nothing opened
        transfers.reopen(case_engine, session, people.actors["canbo"], old.id, demo.sample("reopen", clock.now()),
                         {"category": "nonsense"})
    with pytest.raises(Forbidden):  # the chairman manages the case but does not record reports
        transfers.reopen(case_engine, session, people.actors["chutich"], old.id,
                         demo.sample("reopen", clock.now()), demo.sample("mau_01", clock.now()))
    with pytest.raises(NotFound):
        transfers.reopen(case_engine, session, people.actors["canbo2"], old.id,
                         demo.sample("reopen", clock.now()), demo.sample("mau_01", clock.now()))
    assert count(session, Case) == cases_before

    new = transfers.reopen(case_engine, session, people.actors["canbo"], old.id,
                           demo.sample("reopen", clock.now()), demo.sample("mau_01", clock.now()))
    session.expire_all()
    new, old = session.get(Case, new.id), session.get(Case, old.id)
    assert new.id != old.id and new.linked_case_id == old.id and new.status == "open"
    assert new.child_key == old.child_key  # the same child, counted once
    assert old.status == "closed"  # the old file is kept as it was
    reopen_row = session.scalar(select(Task).where(Task.case_id == new.id, Task.step == "reopen"))
    assert reopen_row.form_data["reason"] == demo.sample("reopen", clock.now())["reason"]
    assert [t.step for t in demo.open_tasks(session, new.id)] == ["verify"]
