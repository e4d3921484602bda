"""Statistics (engine.statistics) on a seeded set of cases whose expected figures are computed here, in plain
Python, from the list of cases this test created — never by calling the functions under test.

The set covers a child with two cases (same name, date of birth and commune: one child), a case moved to
another commune, a case received before the period and closed in it, reports received either side of the
period's last local midnight, a report found without basis, an unnamed-environment report without a form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import select, update

from engine import access, clock
from engine import statistics as st
from engine.clock import LOCAL_TZ
from engine.errors import Forbidden, NotFound
from engine.models import Case, OrgUnit, Task
from tests.conftest import FAST_HASH
from web import demo

PERIOD_START, PERIOD_END = date(2026, 1, 1), date(2026, 6, 30)  # 2026-H1 in the default table
REPORT_NOW = datetime(2026, 7, 10, 9, 0, tzinfo=LOCAL_TZ)


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


@dataclass
class Spec:
    """One case as the test creates it, and what the test then did to it."""

    name: str
    commune: str
    received: datetime
    category: str = "xam_hai"
    child: dict[str, Any] = field(default_factory=dict)
    environment: str | None = None
    forms: list[str] = field(default_factory=list)
    moved_to: str | None = None
    status: str = "open"
    closed_at: datetime | None = None
    emergency_at: datetime | None = None
    approved_at: datetime | None = None  # first approval
    case_id: int = 0

    @property
    def current_commune(self) -> str:
        return self.moved_to or self.commune

    @property
    def child_identity(self) -> tuple[Any, ...]:
        """What identifies a child across reports: name, date of birth (or estimate), commune at intake."""
        return (self.child["full_name"], self.child.get("date_of_birth") or self.child.get("estimated_age"),
                self.commune)

    @property
    def age(self) -> int | None:
        if "date_of_birth" in self.child:
            born = date.fromisoformat(self.child["date_of_birth"])
            day = self.received.date()
            return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        return self.child.get("estimated_age")


def _report(spec: Spec) -> dict[str, Any]:
    data = demo.sample("mau_01", spec.received)
    data.update(received_at=spec.received.isoformat(), category=spec.category, child=spec.child,
                abuse_forms=spec.forms)
    if spec.environment is None:
        data.pop("environment")
    else:
        data["environment"] = spec.environment
    return data


def _complete(engine, session, people, case_id: int, step: str, when: datetime, **override: Any) -> None:
    with time_machine.travel(when, tick=False):
        task = session.scalars(select(Task).where(Task.case_id == case_id, Task.step == step,
                                                  Task.state == "ready")).one()
        engine.complete_task(session, people.for_task(task), task.id, demo.sample(task.form, when, **override))


def _drive(engine, session, people, case_id: int, when: datetime, **kwargs: Any) -> None:
    with time_machine.travel(when, tick=False):
        demo.drive(engine, session, session.get(Case, case_id), people, **kwargs)


EMERGENCY = {"mau_02": {"emergency": True, "danger_description": "Trẻ bị đánh, có thương tích."}}


def seed(engine, session) -> list[Spec]:
    """Create the cases; returns what was created, with the moments the test chose."""
    demo.seed_people(session, FAST_HASH)
    people = demo.cast(session)
    intake = people.actors["tiepnhan"]
    an = {"full_name": "Nguyễn Văn An", "date_of_birth": "2017-05-04", "sex": "male"}
    specs = [
        # 0, 1: one child (same name, date of birth, commune), two reports in the period.
        Spec("an-1", "T01-X01", vn(2026, 2, 2, 8, 0), child=an, environment="gia_dinh", forms=["bao_luc"]),
        Spec("an-2", "T01-X01", vn(2026, 5, 20, 9, 0), child=an, environment="truong_hoc",
             forms=["bao_luc", "xam_hai_tinh_duc"]),
        Spec("binh", "T01-X01", vn(2026, 3, 10, 9, 0), environment="cong_dong", forms=["xam_hai_tinh_duc"],
             child={"full_name": "Trần Thị Bình", "estimated_age": 4, "sex": "female"}),
        # No sex, no environment, no form recorded.
        Spec("cuong", "T01-X02", vn(2026, 4, 1, 9, 0), child={"full_name": "Lê Văn Cường", "estimated_age": 13}),
        # Found to have no basis: a case, not an abused child.
        Spec("dung", "T01-X02", vn(2026, 4, 2, 9, 0), environment="gia_dinh", forms=["bao_luc"],
             child={"full_name": "Phạm Thị Dung", "estimated_age": 7, "sex": "female"}),
        # Moved from X01 to X02 after its plan was drafted: counts in X02.
        Spec("em", "T01-X01", vn(2026, 3, 20, 9, 0), environment="gia_dinh", forms=["bo_mac"], moved_to="T01-X02",
             child={"full_name": "Vũ Văn Em", "estimated_age": 12, "sex": "male"}),
        # Received before the period, closed in it.
        Spec("giang", "T01-X01", vn(2025, 12, 20, 9, 0), category="nguy_co_bo_roi", forms=["bo_roi"],
             environment="gia_dinh", child={"full_name": "Đỗ Văn Giang", "estimated_age": 10, "sex": "male"}),
        # 23:30 on the period's last day (16:30 UTC): inside; 00:30 the next day (17:30 UTC the same UTC day): out.
        Spec("ha", "T01-X02", vn(2026, 6, 30, 23, 30), environment="other", forms=["other"],
             child={"full_name": "Hà Thị Hà", "estimated_age": 15, "sex": "female"}),
        Spec("khanh", "T01-X01", vn(2026, 7, 1, 0, 30), environment="gia_dinh", forms=["bao_luc"],
             child={"full_name": "Mai Văn Khánh", "estimated_age": 9, "sex": "male"}),
        Spec("lan", "T01-X02", vn(2026, 5, 5, 9, 0), category="hoan_canh_dac_biet",
             child={"full_name": "Đinh Thị Lan", "estimated_age": 11, "sex": "female"}),
    ]
    by = {s.name: s for s in specs}
    for spec in specs:
        with time_machine.travel(spec.received + timedelta(minutes=20), tick=False):
            spec.case_id = engine.open_case(session, intake, spec.commune, _report(spec)).id

    def done(name: str, step: str, when: datetime, **override: Any) -> None:
        _complete(engine, session, people, by[name].case_id, step, when, **override)

    # an-1: emergency 6 h after receipt, plan approved after 4 days 2 h, closed after 18 days 2 h.
    done("an-1", "verify", vn(2026, 2, 2, 10, 0))
    done("an-1", "initial_assessment", vn(2026, 2, 2, 12, 0), **EMERGENCY["mau_02"])
    done("an-1", "emergency_decision", vn(2026, 2, 2, 14, 0))
    by["an-1"].emergency_at = vn(2026, 2, 2, 14, 0)
    _drive(engine, session, people, by["an-1"].case_id, vn(2026, 2, 3, 9, 0), stop_at="approve_plan")
    done("an-1", "approve_plan", vn(2026, 2, 6, 10, 0))
    by["an-1"].approved_at = vn(2026, 2, 6, 10, 0)
    _drive(engine, session, people, by["an-1"].case_id, vn(2026, 2, 20, 10, 0))
    by["an-1"].status, by["an-1"].closed_at = "closed", vn(2026, 2, 20, 10, 0)

    # an-2: verified 30 hours after receipt (limit 12 h: late); the initial assessment is left overdue.
    done("an-2", "verify", vn(2026, 5, 21, 15, 0))

    # binh: emergency after 10 h; the first draft is returned, the plan approved on the second try.
    done("binh", "verify", vn(2026, 3, 10, 11, 0))
    done("binh", "initial_assessment", vn(2026, 3, 10, 15, 0), **EMERGENCY["mau_02"])
    done("binh", "emergency_decision", vn(2026, 3, 10, 19, 0))
    by["binh"].emergency_at = vn(2026, 3, 10, 19, 0)
    _drive(engine, session, people, by["binh"].case_id, vn(2026, 3, 11, 9, 0), stop_at="approve_plan")
    done("binh", "approve_plan", vn(2026, 3, 16, 10, 0), decision="return", comments="Bổ sung nguồn lực.")
    _drive(engine, session, people, by["binh"].case_id, vn(2026, 3, 17, 9, 0), stop_at="approve_plan")
    done("binh", "approve_plan", vn(2026, 3, 18, 10, 0))
    by["binh"].approved_at = vn(2026, 3, 18, 10, 0)

    done("cuong", "verify", vn(2026, 4, 1, 10, 0))

    done("dung", "verify", vn(2026, 4, 2, 10, 0), has_basis=False,
         reason_no_basis="Gia đình và nhà trường xác nhận không có sự việc.", child_unsafe=False)
    done("dung", "no_basis_signoff", vn(2026, 4, 3, 9, 0))
    by["dung"].status, by["dung"].closed_at = "no_basis", vn(2026, 4, 3, 9, 0)

    _drive(engine, session, people, by["em"].case_id, vn(2026, 3, 20, 15, 0), stop_at="draft_plan")

    # giang: everything before the period except the closure.
    _drive(engine, session, people, by["giang"].case_id, vn(2025, 12, 22, 9, 0), stop_at="approve_plan")
    done("giang", "approve_plan", vn(2025, 12, 29, 10, 0))
    by["giang"].approved_at = vn(2025, 12, 29, 10, 0)
    # Activities before their own end dates (a late one would wait for the supervisor's acknowledgement).
    _drive(engine, session, people, by["giang"].case_id, vn(2026, 1, 8, 9, 0), stop_at="review")
    _drive(engine, session, people, by["giang"].case_id, vn(2026, 1, 15, 10, 0))
    by["giang"].status, by["giang"].closed_at = "closed", vn(2026, 1, 15, 10, 0)

    # The transfer (engine/transfers.py is another engineer's): the case and its steps change commune.
    target = session.scalar(select(OrgUnit).where(OrgUnit.code == "T01-X02"))
    case_id = by["em"].case_id
    session.execute(update(Case).where(Case.id == case_id).values(commune_id=target.id, province_id=target.parent_id))
    session.execute(update(Task).where(Task.case_id == case_id, Task.state == "ready")
                    .values(commune_id=target.id, province_id=target.parent_id))
    session.commit()

    for spec in specs:  # the scenario went as planned
        case = session.get(Case, spec.case_id)
        session.refresh(case)
        assert case.status == spec.status, spec.name
    return specs


# -- the expected figures, computed from the specs ----------------------------------------------------------
def in_period(moment: datetime | None) -> bool:
    return moment is not None and PERIOD_START <= moment.astimezone(LOCAL_TZ).date() <= PERIOD_END


def expected_children(specs: list[Spec]) -> dict[str, Any]:
    abused = sorted((s for s in specs if s.category == "xam_hai" and s.status != "no_basis"
                     and in_period(s.received)), key=lambda s: s.received)
    first: dict[tuple, Spec] = {}
    environments: dict[str, set] = {}
    forms: dict[str, set] = {}
    with_form: set = set()
    for s in abused:
        first.setdefault(s.child_identity, s)
        environments.setdefault(s.environment or "unknown", set()).add(s.child_identity)
        for form in s.forms:
            forms.setdefault(form, set()).add(s.child_identity)
            with_form.add(s.child_identity)

    def age_group(age: int | None) -> str:
        if age is None:
            return "unknown"
        return "0-5" if age <= 5 else "6-10" if age <= 10 else "11-15" if age <= 15 else "outside"

    sexes: dict[str, int] = {}
    ages: dict[str, int] = {}
    for s in first.values():
        sexes[s.child.get("sex") or "unknown"] = sexes.get(s.child.get("sex") or "unknown", 0) + 1
        ages[age_group(s.age)] = ages.get(age_group(s.age), 0) + 1
    return {"total": len(first), "sex": sexes, "age": ages,
            "environment": {k: len(v) for k, v in environments.items()},
            "form": {k: len(v) for k, v in forms.items()}, "without_form": len(first) - len(with_form)}


def nonzero(counts: list[st.Count]) -> dict[str, int]:
    return {c.key: c.count for c in counts if c.count}


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (PostgreSQL percentile_cont), written out here."""
    ordered = sorted(values)
    rank = p * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# -- the tests ---------------------------------------------------------------------------------------------
def test_report_on_seeded_cases(case_engine, session):
    specs = seed(case_engine, session)
    people = demo.cast(session)
    period = st.resolve_period("2026-H1")
    assert (period.start, period.end) == (PERIOD_START, PERIOD_END)
    steps = st.step_titles(case_engine.registry.current)
    supervisor = people.actors["giamsat"]
    result = st.report(session, supervisor, period, now=REPORT_NOW, steps=steps)

    # Indicator 0101: children, not cases.
    expected = expected_children(specs)
    assert expected["total"] == 5  # An (twice), Bình, Cường, Em, Hà; Dung had no basis; Khánh came on 1/7
    assert result.children.total == expected["total"]
    assert nonzero(result.children.by_sex) == expected["sex"]
    assert sum(c.count for c in result.children.by_sex) == expected["total"]
    assert nonzero(result.children.by_age) == expected["age"]
    assert nonzero(result.children.by_environment) == expected["environment"]
    assert nonzero(result.children.by_form) == expected["form"]
    assert result.children.without_form == expected["without_form"] == 1
    assert [c.key for c in result.children.by_age] == ["0-5", "6-10", "11-15", "outside", "unknown"]

    # Cases by category: received in the period.
    received = [s for s in specs if in_period(s.received)]
    for row in result.categories:
        mine = [s for s in received if s.category == row.category]
        assert (row.cases, row.children, row.no_basis) == (
            len(mine), len({s.child_identity for s in mine}), sum(s.status == "no_basis" for s in mine)), row

    # By commune (the current one) and province.
    end = datetime.combine(PERIOD_END + timedelta(days=1), datetime.min.time(), LOCAL_TZ)

    def unit_figures(group: list[Spec]) -> tuple[int, int, int, int]:
        abused = {s.child_identity for s in group if in_period(s.received) and s.category == "xam_hai"
                  and s.status != "no_basis"}
        return (sum(in_period(s.received) for s in group), len(abused),
                sum(s.status == "closed" and in_period(s.closed_at) for s in group),
                sum(s.received < end and (s.closed_at is None or s.closed_at >= end) for s in group))

    got = {r.commune_code: (r.cases, r.abused_children, r.closed, r.open_at_end) for r in result.communes}
    assert got == {code: unit_figures([s for s in specs if s.current_commune == code])
                   for code in ("T01-X01", "T01-X02")}
    assert got["T01-X02"][0] == 5  # Cường, Dung, Em (moved in), Hà, Lan
    assert got["T01-X01"][2] == 2  # an-1, and Giang received before the period
    [province] = result.provinces
    assert (province.cases, province.abused_children, province.closed, province.open_at_end) == unit_figures(specs)

    # Durations count in the period of their end event.
    by_measure = {d.measure: d for d in result.durations}
    for measure, moment in (("emergency", "emergency_at"), ("approved_plan", "approved_at"),
                            ("closure", "closed_at")):
        values = [(getattr(s, moment) - s.received).total_seconds() for s in specs
                  if in_period(getattr(s, moment)) and (measure != "closure" or s.status == "closed")]
        got_duration = by_measure[measure]
        assert got_duration.count == len(values) == 2, measure
        assert got_duration.median_seconds == pytest.approx(percentile(values, 0.5), abs=1)
        assert got_duration.p90_seconds == pytest.approx(percentile(values, 0.9), abs=1)
    # Giang was received on 20/12/2025 and closed on 15/01/2026: 26 days 1 hour, in this period's closures.
    assert by_measure["closure"].p90_seconds == pytest.approx(18 * 86400 + 7200 + 0.9 * (8 * 86400 - 3600), abs=1)

    # Compliance per commune and step, recomputed from the task rows one by one.
    now = REPORT_NOW
    ids = {s.case_id: s.current_commune for s in specs}
    counted: dict[tuple[str, str], list[int]] = {}
    for task in session.scalars(select(Task).where(Task.due_at.is_not(None), Task.escalates_task_id.is_(None))):
        slot = counted.setdefault((ids[task.case_id], task.step), [0, 0, 0, 0])
        if task.state == "completed" and in_period(task.completed_at):
            slot[0 if task.completed_at <= task.due_at else 1] += 1
        elif task.state == "ready":
            slot[2 if task.due_at < now else 3] += 1
    counted = {k: v for k, v in counted.items() if any(v)}
    assert {(r.commune_code, r.step): [r.on_time, r.late, r.overdue, r.pending]
            for r in result.compliance} == counted
    rows = {(r.commune_code, r.step): r for r in result.compliance}
    assert rows[("T01-X01", "verify")].late == 1  # an-2, 30 hours for a 12-hour limit
    assert rows[("T01-X01", "initial_assessment")].overdue >= 1
    assert rows[("T01-X02", "needs_meeting")].on_time == 1  # done in X01 by Em's officer, counted in X02
    assert ("T01-X01", "needs_meeting") in rows  # an-1's and Bình's
    assert rows[("T01-X01", "verify")].title_en == "Verify the report"

    # Open cases now, by open step.
    open_ids = {s.case_id for s in specs if s.status == "open"}
    assert result.open_cases == len(open_ids) == 7
    stage_counts: dict[str, set] = {}
    for task in session.scalars(select(Task).where(Task.state == "ready", Task.escalates_task_id.is_(None),
                                                   Task.case_id.in_(open_ids))):
        stage_counts.setdefault(task.step, set()).add(task.case_id)
    assert {r.step: r.cases for r in result.stages} == {k: len(v) for k, v in stage_counts.items()}

    # The whole report as JSON-native data, for the API.
    data = st.report_dict(session, supervisor, "2026-H1", now=REPORT_NOW, steps=steps)
    assert data["children"]["total"] == expected["total"]
    assert data["period"] == {"id": "2026-H1", "start": "2026-01-01", "end": "2026-06-30", "due": "2026-06-10",
                              "label_vi": "Báo cáo 6 tháng đầu năm 2026",
                              "label_en": "Six-month report (first half) 2026", "to_confirm": True, "report": True}
    assert data["partial"] is False and data["generated_at"] == "2026-07-10T02:00:00+00:00"

    # An officer sees their commune only; a province filter narrows a supervisor's report.
    officer = st.report(session, people.actors["canbo"], period, now=REPORT_NOW, steps=steps)
    assert officer.scope.commune.code == "T01-X01"
    x01 = [s for s in specs if s.current_commune == "T01-X01"]
    assert officer.children.total == expected_children(x01)["total"] == 2
    assert [r.commune_code for r in officer.communes] == ["T01-X01"]
    assert {r.commune_code for r in officer.compliance} == {"T01-X01"}
    narrowed = st.report(session, supervisor, period, commune="T01-X02", now=REPORT_NOW)
    x02 = [s for s in specs if s.current_commune == "T01-X02"]
    assert narrowed.children.total == expected_children(x02)["total"] == 3
    assert narrowed.open_cases == sum(s.status == "open" for s in x02)

    # Explicit dates: only the boundary day 30/06 (Hà's report at 23:30 local counts, Khánh's at 00:30 on 1/7
    # does not).
    last_day = st.report(session, supervisor, st.custom_period("30/06/2026", "2026-06-30"), now=REPORT_NOW)
    assert [(c.category, c.cases) for c in last_day.categories if c.cases] == [("xam_hai", 1)]
    assert nonzero(last_day.children.by_age) == {"11-15": 1}


def test_access_to_statistics(session):
    demo.seed_people(session, FAST_HASH)
    people = demo.cast(session)
    period = st.resolve_period("2026-H1")
    for username in ("truonghoc", "tiepnhan", "quantri"):  # partner, intake point, administrator
        with pytest.raises(Forbidden):
            st.report(session, people.actors[username], period)
    with pytest.raises(Forbidden):  # an officer asks for another commune
        st.report(session, people.actors["canbo"], period, commune="T01-X02")
    session.add(OrgUnit(code="T02", name="Tỉnh khác", kind="province"))
    session.commit()
    with pytest.raises(Forbidden):  # a supervisor of T01 asks for another province
        st.report(session, people.actors["giamsat"], period, province="T02")
    with pytest.raises(NotFound):
        st.report(session, people.actors["giamsat"], period, commune="T99-X99")
    with pytest.raises(st.InvalidInput) as refused:
        st.report(session, access.Actor("nation", "inspector"), period, province="T02", commune="T01-X01")
    assert refused.value.field == "commune"
    # A national inspector sees every province; an empty period gives zeros, not errors.
    empty = st.report(session, access.Actor("nation", "inspector"), period)
    assert empty.children.total == 0 and empty.provinces == [] and empty.scope.label("vi") == "Toàn quốc"
    assert [d.count for d in empty.durations] == [0, 0, 0]
    assert all(d.median_seconds is None for d in empty.durations)


def test_periods_configurable_per_province(tmp_path: Path):
    config = st.load_config()
    assert config.period("2026-Y").due == date(2026, 11, 10)
    assert (config.period("2026-Q3").start, config.period("2026-Q3").end) == (date(2026, 7, 1), date(2026, 9, 30))
    assert config.current(today=date(2026, 11, 23)).id == "2026-H2"
    assert [p.id for p in config.standard(2026)][:2] == ["2026-H1", "2026-Y"]
    source = st.PERIODS_FILE.read_text(encoding="utf-8") + (
        '\n[province."T01".H1]\nstart = "12-15"\nstart_year_offset = -1\nend = "06-14"\ndue = "05-10"\n')
    custom = tmp_path / "periods.toml"
    custom.write_text(source, encoding="utf-8")
    config = st.PeriodConfig.load(custom)
    own = config.period("2026-H1", "T01")
    assert (own.start, own.end, own.due) == (date(2025, 12, 15), date(2026, 6, 14), date(2026, 5, 10))
    assert config.period("2026-H1", "T02").start == date(2026, 1, 1)  # other provinces keep the default
    assert own.start_utc == datetime(2025, 12, 14, 17, 0, tzinfo=UTC)  # 00:00 on 15/12 in Vietnam
    assert clock.local(own.end_utc) == vn(2026, 6, 15, 0, 0)
    for bad in ("2026-H3", "H1", "2026-q1", ""):
        with pytest.raises(st.InvalidInput) as refused:
            config.period(bad) if bad else st.resolve_period(None, "", "2026-01-01")
        assert refused.value.field in {"period", "from"}
    with pytest.raises(st.InvalidInput) as refused:
        st.custom_period("2026-02-01", "31/01/2026")
    assert refused.value.field == "to" and "sau" in refused.value.message("vi")
    with pytest.raises(st.InvalidInput):
        st.custom_period("31/02/2026", "2026-03-01")


def test_quantiles_match_percentile_cont():
    assert st.quantiles([]) == (None, None)
    assert st.quantiles([7.0]) == (7.0, 7.0)
    values = [5.0, 1.0, 9.0, 3.0]
    assert st.quantiles(values) == pytest.approx((percentile(values, 0.5), percentile(values, 0.9)))
    assert st.quantiles([1.0, 2.0]) == pytest.approx((1.5, 1.9))
