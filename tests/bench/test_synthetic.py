"""The synthetic load generator (bench/synthetic.py) on SQLite and PostgreSQL: the database it builds passes
`case56 check`, has clones in every stage with their moments, people, numbers and audit chain remapped, and
the work lists page through it exactly as a plain sort of the task table would."""

from __future__ import annotations

import os
import re
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from bench.synthetic import TEMPLATES, Synthetic, fresh_database
from engine import access, clock, worklists
from engine.check import check
from engine.models import AuditEntry, AuditHead, Case, CaseCounter, OrgUnit, Task, Timer, User, make_engine

PG_URL = os.environ.get("CASE56_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
CLONES = 40


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def load(request, tmp_path_factory, case_engine):
    """One generated database per backend for the whole module (a schema of its own on PostgreSQL)."""
    name = f"case56_test_synthetic_{os.getpid()}"
    url = fresh_database(request.param, name, pg_url=PG_URL, folder=str(tmp_path_factory.mktemp("synthetic")))
    synthetic = Synthetic(url, engine=case_engine).prepare()
    synthetic.add(CLONES)
    yield synthetic
    synthetic.session_factory.kw["bind"].dispose()
    if request.param == "postgresql":
        with make_engine(PG_URL).begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


@pytest.fixture
def session(load):
    with load.session_factory() as s:
        yield s


def clones(session) -> list[Case]:
    """The cloned cases (the templates were opened first)."""
    return list(session.scalars(select(Case).where(Case.id > len(TEMPLATES)).order_by(Case.id)))


def test_generated_database_passes_case56_check(load, session):
    assert list(check(load.engine, session)) == []
    head = session.get(AuditHead, 1)
    assert head.last_id == session.scalar(select(func.max(AuditEntry.id)))
    assert session.scalar(select(func.count()).select_from(Case)) == len(TEMPLATES) + CLONES


def test_clones_cover_every_stage_and_state(session):
    cases = clones(session)
    assert len(cases) == CLONES
    assert {c.status for c in cases} == {"open", "closed", "no_basis"}
    open_steps = set(session.scalars(select(Task.step).where(Task.state == "ready",
                                                             Task.case_id.in_([c.id for c in cases]))))
    assert {"verify", "detailed_assessment", "separation_review", "draft_plan", "approve_plan",
            "carry_out_activity", "review", "police_outcome", "escalate_verify", "escalate_draft_plan",
            "escalate_approve_plan", "escalate_carry_out_activity"} <= open_steps
    now = clock.now()
    overdue = session.scalar(select(func.count()).select_from(Task).where(
        Task.state == "ready", Task.due_at < now, Task.case_id > len(TEMPLATES)))
    assert overdue > 0
    # Several plan cycles: a clone of the three-cycle template has three completed reviews.
    reviews = Counter(session.scalars(select(Task.case_id).where(Task.step == "review", Task.state == "completed",
                                                                 Task.case_id > len(TEMPLATES))))
    assert max(reviews.values()) == 3
    # Plans with two and with five activities (opened together by the approval), each assigned to a partner
    # of the clone's own commune.
    activities = session.execute(select(Task.case_id, Task.created_at, Task.assignee, Task.commune_id).where(
        Task.step == "carry_out_activity", Task.case_id > len(TEMPLATES))).all()
    assert set(Counter((a.case_id, a.created_at) for a in activities).values()) == {2, 5}
    partners = {(u.username, u.org_unit_id) for u in session.scalars(select(User).where(User.role == "partner"))}
    assert all((a.assignee, a.commune_id) in partners for a in activities)


def test_clones_are_remapped_consistently(session):
    now = clock.now()
    cases = clones(session)
    communes = {u.id: u for u in session.scalars(select(OrgUnit))}
    assert len({c.commune_id for c in cases}) > 10
    assert len({c.province_id for c in cases}) == 5
    numbers = [c.number for c in cases]
    assert len(set(numbers)) == len(numbers)
    for case in cases:
        commune = communes[case.commune_id]
        assert case.province_id == commune.parent_id
        assert re.fullmatch(rf"{re.escape(commune.code)}-{case.year}-\d{{4}}", case.number)
        assert clock.local(case.received_at).year == case.year
        assert case.received_at <= case.opened_at <= now
        assert case.received_at > now - timedelta(days=731)
        tasks = session.scalars(select(Task).where(Task.case_id == case.id)).all()
        assert {t.commune_id for t in tasks if t.state == "ready"} <= {case.commune_id}
        assert all(t.created_at >= case.opened_at and (t.completed_at or now) <= now for t in tasks)
        # Moments inside the forms moved with the case: Mẫu 01's receipt time is the case's.
        report = next(t for t in tasks if t.step == "receive")
        assert clock.parse_moment(report.form_data["received_at"]) == case.received_at
        # Pending timers are all still ahead: nothing a running timer service would have fired already.
        pending = session.scalars(select(Timer.fire_at).where(Timer.case_id == case.id, Timer.fired_at.is_(None),
                                                              Timer.cancelled_at.is_(None))).all()
        assert all(at > now - timedelta(minutes=5) for at in pending)
        actors = set(session.scalars(select(AuditEntry.actor).where(AuditEntry.case_id == case.id)))
        people = {u.username: u for u in session.scalars(select(User).where(User.username.in_(actors)))}
        assert actors - set(people) <= {"system"}
        assert all(p.org_unit_id in (case.commune_id, case.province_id) for p in people.values())
        opened = session.scalar(select(AuditEntry).where(AuditEntry.case_id == case.id,
                                                         AuditEntry.action == "case_opened"))
        assert opened.details["number"] == case.number and opened.details["commune"] == commune.code
    counters = {(c.commune_id, c.year): c.last for c in session.scalars(select(CaseCounter))}
    last = session.execute(select(Case.commune_id, Case.year, func.max(Case.seq)).group_by(Case.commune_id, Case.year))
    assert counters == {(commune, year): seq for commune, year, seq in last}


def _reference(session, where, dated_only: bool) -> list[int]:
    """The order the lists promise, by a plain sort in Python."""
    rows = session.execute(select(Task.id, Task.due_at).join(Case, Case.id == Task.case_id).where(*where)).all()
    far = datetime.max.replace(tzinfo=clock.now().tzinfo)
    return [r.id for r in sorted(rows, key=lambda r: (r.due_at is None, r.due_at or far, r.id))
            if not dated_only or r.due_at is not None]


@pytest.mark.parametrize("username", ["giamsat", "giamsat.t03", "canbo", "canbo.t02x07", "chutich.t04x11",
                                      "truonghoc.t05x02", "thanhtra"])
def test_work_lists_page_like_a_plain_sort(session, username):
    user = session.scalar(select(User).where(User.username == username))
    actor = access.Actor.of(user.username, user.role, user.org_unit, user.id)
    expected = _reference(session, [Task.state == "ready", access.task_filter(actor)], False)
    for size in (1, 3, 25):
        seen: list[int] = []
        for page in range(1, len(expected) // size + 3):
            result = worklists.inbox(session, actor, page=page, size=size)
            assert result.total == len(expected)
            seen += [t.id for t, c in result.rows]
            assert all(t.case_id == c.id for t, c in result.rows)
        assert seen == expected
    now = clock.now()
    late = _reference(session, [Task.state == "ready", Task.due_at < now + timedelta(hours=48),
                                Task.escalates_task_id.is_(None), access.case_filter(actor)], True)
    if actor.role not in {"supervisor", "inspector", "officer", "chairman"}:
        late = []
    for size in (2, 25):
        seen = []
        for page in range(1, len(late) // size + 3):
            result = worklists.overdue(session, actor, due_within=timedelta(hours=48), page=page, size=size)
            assert result.total == len(late)
            seen += [t.id for t, _c in result.rows]
        assert seen == late
