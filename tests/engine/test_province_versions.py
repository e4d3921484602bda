"""Province variants: a version activated for one province sends that province's new cases to it, every other
province's to the national version; a province goes back to the national version when its own is cleared.
Liveness and `check` hold on both versions. Runs on SQLite and PostgreSQL (the `session` fixture)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import audit, check, clock, liveness, versions
from engine.errors import InvalidState, NotFound
from engine.models import AuditEntry, Case, OrgUnit, ProvinceProcessVersion, User
from tests.processes import variants
from web import demo


def _second_province(session) -> demo.Cast:
    """Province T02 with one commune and the people a case there needs (intake, officer, chairman, supervisor)."""
    province = OrgUnit(code="T02", name="Tỉnh Bắc Kạn (thử)", kind="province")
    session.add(province)
    session.flush()
    commune = OrgUnit(code="T02-X01", name="Xã Chợ Đồn (thử)", kind="commune", parent_id=province.id)
    session.add(commune)
    session.flush()
    for username, role, unit in (("tiepnhan_t2", "intake", province), ("canbo_t2", "officer", commune),
                                 ("chutich_t2", "chairman", commune), ("giamsat_t2", "supervisor", province)):
        session.add(User(username=username, full_name=username, role=role, org_unit_id=unit.id, locale="vi",
                         created_at=clock.now(), password_hash="x"))
    session.commit()
    return demo.cast(session)


def _open(engine, session, people, commune: str, intake: str) -> Case:
    return engine.open_case(session, people.actors[intake], commune, demo.sample("mau_01", clock.now()))


def test_a_province_variant_takes_that_provinces_new_cases_only(case_engine, session, people):
    people = _second_province(session)
    national = versions.active_version(case_engine, session).id
    variant_id = versions.upload(case_engine, session, "quantri", variants.renamed_and_extended().encode(),
                                 "t01-extra-step.bpmn").version.id
    before_t1 = _open(case_engine, session, people, "T01-X02", "tiepnhan")

    versions.activate(case_engine, session, "quantri", variant_id, province_code="t01")  # codes are case-blind
    in_t1 = _open(case_engine, session, people, "T01-X01", "tiepnhan")
    in_t2 = _open(case_engine, session, people, "T02-X01", "tiepnhan_t2")
    assert in_t1.process_version_id == variant_id
    assert in_t2.process_version_id == national
    assert session.get(Case, before_t1.id).process_version_id == national  # running cases keep theirs
    assert versions.active_version(case_engine, session).id == national  # the national version is unchanged
    where = {(s.province.code if s.province else None): s.version_id for s in versions.scopes(case_engine, session)}
    assert where == {None: national, "T01": variant_id}
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "process_activated")
                            .order_by(AuditEntry.id.desc()).limit(1)).one()
    assert entry.actor == "quantri" and entry.details["province"] == "T01" and entry.details["previous"] is None

    # The variant's extra step is reached in T01; liveness and the whole-database check hold on both versions.
    demo.drive(case_engine, session, in_t1, people, stop_at="closing_note")
    assert [t.step for t in demo.open_tasks(session, in_t1.id)] == ["closing_note"]
    demo.drive(case_engine, session, in_t2, people, stop_at="draft_plan")
    assert list(check.check(case_engine, session)) == [] and liveness.count_stranded(session) == 0
    demo.drive(case_engine, session, in_t1, people)
    assert session.get(Case, in_t1.id).status == "closed"

    # A new national version does not override the province's own one.
    newer_id = versions.upload(case_engine, session, "quantri",
                               variants.renamed_id("Task_verify", "Task_check").encode(), "national-v3.bpmn").version.id
    versions.activate(case_engine, session, "quantri", newer_id)
    assert _open(case_engine, session, people, "T02-X01", "tiepnhan_t2").process_version_id == newer_id
    assert _open(case_engine, session, people, "T01-X01", "tiepnhan").process_version_id == variant_id

    # Cleared: T01 follows the national version again (audited).
    versions.follow_national(case_engine, session, "quantri", "T01")
    assert session.scalar(select(ProvinceProcessVersion)) is None
    assert _open(case_engine, session, people, "T01-X01", "tiepnhan").process_version_id == newer_id
    assert session.scalar(select(AuditEntry.details).where(AuditEntry.action == "process_province_cleared")) == \
        {"province": "T01", "previous": variant_id}
    assert list(check.check(case_engine, session)) == [] and liveness.count_stranded(session) == 0
    assert audit.verify(session) == []


def test_refused_province_activations_change_nothing(case_engine, session, people):
    variant = versions.upload(case_engine, session, "quantri", variants.renamed_and_extended().encode(),
                              "v2.bpmn").version
    with pytest.raises(NotFound):
        versions.activate(case_engine, session, "quantri", variant.id, province_code="T99")
    with pytest.raises(NotFound):  # a commune is not a province
        versions.activate(case_engine, session, "quantri", variant.id, province_code="T01-X01")
    with pytest.raises(NotFound):
        versions.activate(case_engine, session, "quantri", 999_999, province_code="T01")
    with pytest.raises(InvalidState):
        versions.follow_national(case_engine, session, "quantri", "T01")
    assert session.scalar(select(ProvinceProcessVersion)) is None
    versions.activate(case_engine, session, "quantri", variant.id, province_code="T01")
    with pytest.raises(InvalidState):
        versions.activate(case_engine, session, "quantri", variant.id, province_code="T01")
    assert session.scalar(select(ProvinceProcessVersion.version_id)) == variant.id
    activations = list(session.scalars(select(AuditEntry.details).where(AuditEntry.action == "process_activated")))
    assert [a.get("province") for a in activations] == ["T01"]  # refusals leave no audit row
