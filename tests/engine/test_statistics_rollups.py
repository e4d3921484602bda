"""The statistics rollups (engine.rollups, kept by triggers, migrations 0023 and 0024) give exactly the figures of
the direct queries (`statistics.compliance_direct`, `statistics.children_direct`: indicator 0101, a child counted
once), on both databases, for several periods and scopes, after:

- cases driven by the real engine at different moments: open with steps on time and late, closed, found without
  basis, a child reported twice (counted once by 0101), a closed case reopened for the same child, a case
  transferred to another commune (engine.transfers), a case moved to another province, a restricted case, a
  case destroyed by retention (two administrators), an emergency case;
- then row-level changes no engine command makes today but the triggers must follow all the same: a completed
  step reopened and completed again on another day, a limit removed and restored, a step renamed, task rows
  inserted and deleted, a case moved back.

Also: the migrations' backfills build the same rollups as the triggers (downgrade, upgrade, compare rows).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import delete, func, insert, select, update

from engine import access, clock, restriction, retention, rollups, schema, transfers
from engine import statistics as st
from engine.clock import LOCAL_TZ
from engine.models import Case, OrgUnit, Task
from tests.engine.test_restriction_retention import (  # noqa: F401 - one_year is a fixture used below
    ADMIN,
    ADMIN2,
    ORDER,
    closed_case,
    one_year,
    second_admin,
)
from web import demo

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=LOCAL_TZ)
EMERGENCY = {"mau_02": {"emergency": True, "danger_description": "Trẻ bị đánh, có thương tích."}}
CHILD = {"full_name": "Nguyễn Thị Lặp", "date_of_birth": "2016-02-03", "sex": "female"}


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


def periods() -> list[st.Period]:
    """Whole years and halves, a quarter, and periods that start and end inside months or inside one month."""
    return [st.resolve_period("2026-Y"), st.resolve_period("2025-Y"), st.resolve_period("2026-H2"),
            st.resolve_period("2026-Q3"), st.custom_period("2026-06-15", "2026-10-03"),
            st.custom_period("2026-09-02", "2026-09-20"), st.custom_period("2026-08-31", "2026-09-01"),
            st.custom_period("2020-01-01", "2026-12-31")]


def compare(session, actors: list[access.Actor], now: datetime) -> int:
    """Rollup and direct figures for every period and actor; returns how many rows were compared."""
    compared = 0
    for actor in actors:
        for period in periods():
            q = st.ReportQuery(session, actor, period, st.resolve_scope(session, actor))
            rolled, direct = st.compliance(q, now, {}), st.compliance_direct(q, now, {})
            assert rolled == direct, (actor.username, period.id)
            config = st.load_config()
            kids, kids_direct = st.children(q, config), st.children_direct(q, config)
            assert kids == kids_direct, (actor.username, period.id)
            compared += len(direct) + kids_direct.total
    return compared


def _open(engine, session, people, when: datetime, commune: str = "T01-X01", **mau01: Any) -> Case:
    if "child" not in mau01:  # a child of their own, of varied sex and age (the sample's child is always the same)
        mau01["child"] = {"full_name": f"Trẻ Số {when:%d%m%H}", "estimated_age": when.day % 17,
                          "sex": ("male", "female")[when.day % 2]}
    with time_machine.travel(when, tick=False):
        return engine.open_case(session, people.actors["tiepnhan"], commune, demo.sample("mau_01", when, **mau01))


def _drive(engine, session, people, case: Case, when: datetime, **kwargs: Any) -> None:
    with time_machine.travel(when, tick=False):
        demo.drive(engine, session, session.get(Case, case.id), people, **kwargs)


def _late_step(engine, session, people, case: Case, when: datetime) -> None:
    """Complete the case's first open step at `when` (late if `when` is past its limit)."""
    with time_machine.travel(when, tick=False):
        task = session.scalars(select(Task).where(Task.case_id == case.id, Task.state == "ready",
                                                  Task.escalates_task_id.is_(None)).order_by(Task.id)).first()
        engine.complete_task(session, people.for_task(task), task.id, demo.sample(task.form, when))


def build(engine, session, people, policy: retention.Policy) -> dict[str, Any]:
    second_admin(session)
    made: dict[str, Any] = {}
    made["destroyed"] = closed_case(engine, session, people)  # closed two years ago: retention destroys it
    made["open"] = _open(engine, session, people, vn(2026, 8, 30, 22, 0))  # completed across a month's end
    _late_step(engine, session, people, made["open"], vn(2026, 9, 1, 2, 0))
    made["late"] = _open(engine, session, people, vn(2026, 9, 10, 8, 0), commune="T01-X02")
    _late_step(engine, session, people, made["late"], vn(2026, 9, 12, 8, 0))  # verification 2 days late
    made["closed"] = _open(engine, session, people, vn(2026, 7, 1, 8, 0), child=CHILD)
    _drive(engine, session, people, made["closed"], vn(2026, 7, 2, 9, 0))
    made["twice"] = _open(engine, session, people, vn(2026, 10, 5, 8, 0), child=CHILD)  # the same child again
    _drive(engine, session, people, made["twice"], vn(2026, 10, 5, 12, 0), stop_at="draft_plan")
    made["emergency"] = _open(engine, session, people, vn(2026, 6, 20, 8, 0))
    _drive(engine, session, people, made["emergency"], vn(2026, 6, 20, 10, 0), choices=EMERGENCY,
           stop_at="detailed_assessment")
    made["moved"] = _open(engine, session, people, vn(2026, 10, 1, 8, 0))
    _drive(engine, session, people, made["moved"], vn(2026, 10, 1, 12, 0), stop_at="draft_plan")
    with time_machine.travel(vn(2026, 10, 3, 9, 0), tick=False):
        transfers.transfer(engine, session, people.actors["canbo"], made["moved"].id,
                           demo.sample("transfer", clock.now()))
    with time_machine.travel(vn(2026, 10, 20, 9, 0), tick=False):  # the closed case reopened: same child
        made["reopened"] = transfers.reopen(engine, session, people.actors["canbo"], made["closed"].id,
                                            demo.sample("reopen", clock.now()), demo.sample("mau_01", clock.now()))
    made["restricted"] = _open(engine, session, people, vn(2026, 9, 5, 8, 0))
    _drive(engine, session, people, made["restricted"], vn(2026, 9, 5, 11, 0), stop_at="initial_assessment")
    restriction.restrict(session, ADMIN, made["restricted"].id, ORDER)
    # Destruction past retention: the case row and its steps stay as tombstones; their figures with them.
    request = retention.request(session, ADMIN, policy, {"reason": "Hết thời hạn lưu trữ theo QĐ 5/QĐ-LT."})
    retention.confirm(engine, session, ADMIN2, policy, request.id, {"note": "Đã kiểm tra."})
    # Another province (the demo has one): the case and its open steps move there, as a transfer moves them.
    province = OrgUnit(code="T02", name="Tỉnh hai", kind="province")
    session.add(province)
    session.flush()
    commune = OrgUnit(code="T02-X01", name="Xã một", kind="commune", parent_id=province.id)
    session.add(commune)
    session.flush()
    case_id = made["emergency"].id
    session.execute(update(Task).where(Task.case_id == case_id, Task.state == "ready")
                    .values(commune_id=commune.id, province_id=province.id))
    session.execute(update(Case).where(Case.id == case_id).values(commune_id=commune.id, province_id=province.id))
    session.commit()
    made["province"], made["commune"] = province, commune
    return made


def actors(session, people, made: dict[str, Any]) -> list[access.Actor]:
    x02 = session.scalar(select(OrgUnit).where(OrgUnit.code == "T01-X02"))
    return [access.Actor("nation", "inspector"), people.actors["giamsat"], people.actors["canbo"],
            access.Actor("canbo-x02", "officer", x02.id, x02.parent_id),
            access.Actor("giamsat-t02", "supervisor", None, made["province"].id),
            access.Actor("canbo-t02", "officer", made["commune"].id, made["province"].id)]


def test_rollup_equals_direct_query(case_engine, session, people, one_year):  # noqa: F811
    made = build(case_engine, session, people, one_year)
    who = actors(session, people, made)
    assert retention.destroyed(session, made["destroyed"].id, "case_file")
    done = session.scalar(select(func.count()).select_from(Task).where(
        Task.state == "completed", Task.due_at.is_not(None), Task.escalates_task_id.is_(None)))
    assert done >= 20  # the scenario completed steps with a limit
    assert compare(session, who, NOW) > 0
    nation = st.ReportQuery(session, who[0], st.resolve_period("2026-Y"), st.resolve_scope(session, who[0]))
    assert st.children_direct(nation, st.load_config()).total >= 4  # children, the one reported twice once

    # Row-level changes, each followed by a comparison.
    completed = list(session.scalars(select(Task).where(
        Task.state == "completed", Task.due_at.is_not(None), Task.escalates_task_id.is_(None)).order_by(Task.id)))
    first, second, third = completed[0], completed[len(completed) // 2], completed[-1]
    session.execute(update(Task).where(Task.id == first.id).values(state="ready", completed_at=None))
    session.commit()
    compare(session, who, NOW)
    session.execute(update(Task).where(Task.id == first.id)
                    .values(state="completed", completed_at=vn(2026, 9, 30, 23, 59)))  # late, end of a month
    session.execute(update(Task).where(Task.id == second.id).values(due_at=None))
    session.execute(update(Task).where(Task.id == third.id).values(step="renamed_step", title="Bước đổi tên"))
    session.commit()
    compare(session, who, NOW)
    session.execute(update(Task).where(Task.id == second.id).values(due_at=vn(2026, 9, 15, 0, 0)))
    extra = session.execute(insert(Task).values(
        case_id=made["late"].id, spiff_id="extra", step="verify", title="Xác minh", role="officer",
        commune_id=first.commune_id, province_id=first.province_id, state="completed",
        created_at=vn(2026, 9, 1, 8, 0), completed_at=vn(2026, 9, 1, 9, 0), due_at=vn(2026, 9, 1, 20, 0),
        completed_by="canbo").returning(Task.id)).scalar_one()
    session.commit()
    compare(session, who, NOW)
    session.execute(delete(Task).where(Task.id == extra))
    x01 = session.scalar(select(OrgUnit).where(OrgUnit.code == "T01-X01"))
    # Moved back, its open steps with it (an open step always carries its case's commune: engine.transfers).
    session.execute(update(Task).where(Task.case_id == made["moved"].id, Task.state == "ready")
                    .values(commune_id=x01.id))
    session.execute(update(Case).where(Case.id == made["moved"].id).values(commune_id=x01.id))
    session.commit()
    compare(session, who, NOW)
    # Report fields 0101 counts by, changed on the child reported twice and on another case.
    twice, other = made["twice"].id, made["late"].id
    session.execute(update(Case).where(Case.id == twice).values(
        environment=None, abuse_forms=[], perpetrator_relationships=["cha_me"], child_sex="male", child_age=17))
    session.execute(update(Case).where(Case.id == other).values(
        abuse_forms=["bao_luc", "bao_luc", "mua_ban"], child_ethnicity="01", child_key=made["twice"].child_key))
    session.commit()
    compare(session, who, NOW)
    session.execute(update(Case).where(Case.id == twice).values(status="no_basis"))
    session.execute(update(Case).where(Case.id == made["reopened"].id).values(received_at=vn(2026, 6, 30, 23, 59)))
    session.commit()
    compare(session, who, NOW)
    compare(session, who, NOW + timedelta(days=40))  # open steps: more of them overdue later


def test_backfill_builds_what_the_triggers_kept(case_engine, session, people, one_year, db_url):  # noqa: F811
    build(case_engine, session, people, one_year)
    table = rollups.compliance_day
    key = (table.c.commune_id, table.c.step, table.c.title, table.c.grain, table.c.day)

    def rows() -> set[tuple[Any, ...]]:
        # Rows at zero are left behind by the triggers (a count taken out again); the backfill writes none.
        return set(session.execute(select(*key, table.c.province_id, table.c.on_time, table.c.late)
                                   .where(table.c.on_time + table.c.late > 0)).tuples())

    marks = rollups.child_mark

    def child_rows() -> list[tuple[Any, ...]]:
        return sorted(session.execute(select(marks)).tuples(), key=repr)

    kept, kept_marks = rows(), child_rows()
    assert kept_marks
    assert kept and {r[3] for r in kept} == {"d", "m"}
    months = {(r[0], r[1], r[2], r[4]): (r[6], r[7]) for r in kept if r[3] == "m"}
    days: dict[tuple[Any, ...], list[int]] = {}
    for r in kept:
        if r[3] == "d":
            month = (r[0], r[1], r[2], r[4].replace(day=1))
            totals = days.setdefault(month, [0, 0])
            totals[0] += r[6]
            totals[1] += r[7]
    assert {k: tuple(v) for k, v in days.items()} == months  # a month is the sum of its days
    session.commit()
    session.close()
    session.get_bind().dispose()
    schema.downgrade(db_url, "0022")
    schema.upgrade(db_url)
    assert rows() == kept
    assert child_rows() == kept_marks
