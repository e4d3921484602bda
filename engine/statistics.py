"""Statistics and periodic reports (Thông tư 13/2021/TT-BLĐTBXH indicator 0101, procedure compliance).

Every figure is one SQL aggregate over `case_file` and `task` (never a case loaded one by one, never the
workflow JSON), scoped by `access.case_filter` and optional province/commune filters — except indicator 0101 and
the completed steps of compliance, which read the exact rollups of engine.rollups (kept by database triggers;
`children_direct` and `compliance_direct` are their definitions, and tests check them equal). The rules:

- A period is a span of Vietnam local dates [start, end], both inclusive (see processes/periods.toml).
- Received in the period: `Case.received_at` (the receipt time on Mẫu 01) falls in it. Cases, children and
  categories count what was received in the period.
- Indicator 0101 "Số trẻ em bị xâm hại" counts children (distinct `Case.child_key`), not cases, among the
  cases of category `xam_hai` received in the period, except reports found to have no basis (status
  `no_basis`). Sex and age group are the child's on their first case received in the period, so these
  breakdowns add up to the total. Environment and form of abuse describe the abuse: a child counts once under
  each environment and each form found in any of their cases in the period, so those rows may add up to more
  than the total.
- Durations (receipt → emergency measures, → first approved plan, → closure) count in the period in which the
  end event happened: a case received before the period and closed in it counts in the period's closure
  figures, not in its received figures.
- Compliance: a step with a time limit completed in the period is on time when completed_at <= due_at, late
  otherwise; "overdue" and "pending" are the steps open now (at the report's `now`), past or within their
  limit — a snapshot, whatever the period.
- Open cases by stage is a snapshot now: open cases counted under each open step (a case with parallel steps,
  e.g. a police track, appears under each).
- A case moved to another commune counts in its current commune (`Case.commune_id`), with all its steps.
"""

from __future__ import annotations

import re
import statistics as pystats
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, and_, case, cast, distinct, func, or_, select, true
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLColumnExpression

from engine import access, clock, rollups
from engine.errors import EngineError, Forbidden, NotFound
from engine.models import Case, OrgUnit, Task
from engine.registry import Definition
from forms.kit.choices import AbuseForm, Choices, Environment, Ethnicity, PerpetratorRelationship, ReportCategory, Sex

PERIODS_FILE = Path(__file__).resolve().parent.parent / "processes" / "periods.toml"
ABUSED = "xam_hai"
NOT_COUNTED_0101 = ("no_basis",)  # a report found without basis is not an abused child
KINDS = ("H1", "H2", "Y", "Q1", "Q2", "Q3", "Q4")
_PERIOD_ID = re.compile(r"^(\d{4})-(H1|H2|Y|Q[1-4])$")
UNKNOWN = "unknown"
OUTSIDE = "outside"


class InvalidInput(EngineError):
    """A bad period, date or unit in a statistics request; `field` names the input it concerns."""

    code, status = "invalid_input", 400

    def __init__(self, field: str, message_vi: str, message_en: str | None = None) -> None:
        super().__init__(message_vi, message_en)
        self.field = field


# -- configuration: periods and age groups ----------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A reporting period: Vietnam local dates, both inclusive."""

    id: str
    start: date
    end: date
    label_vi: str
    label_en: str
    due: date | None = None
    to_confirm: bool = False
    report: bool = False

    @property
    def start_utc(self) -> datetime:
        return clock.parse_moment(datetime.combine(self.start, time()))

    @property
    def end_utc(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return clock.parse_moment(datetime.combine(self.end + timedelta(days=1), time()))

    def label(self, locale: str = "vi") -> str:
        return self.label_en if locale == "en" else self.label_vi


@dataclass(frozen=True)
class AgeGroup:
    key: str
    min: int
    max: int
    label_vi: str
    label_en: str


def _month_day(value: str, year: int, where: str) -> date:
    try:
        month, day = (int(p) for p in value.split("-"))
        return date(year, month, day)
    except (ValueError, AttributeError):
        raise ValueError(f"periods.toml: {where}: {value!r} is not a MM-DD date") from None


@dataclass(frozen=True)
class PeriodConfig:
    """The period table (a default plus per-province overrides) and the age groups."""

    default: dict[str, dict[str, Any]]
    provinces: dict[str, dict[str, dict[str, Any]]]
    age_groups: tuple[AgeGroup, ...]
    age_groups_to_confirm: bool = True

    @classmethod
    def load(cls, path: Path = PERIODS_FILE) -> PeriodConfig:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        default = data.get("default", {})
        missing = [k for k in KINDS if k not in default]
        if missing:
            raise ValueError(f"{path.name}: [default] lacks the period kinds {missing}")
        groups = tuple(AgeGroup(g["key"], int(g["min"]), int(g["max"]), g["label_vi"], g["label_en"])
                       for g in data.get("age_groups", {}).get("groups", []))
        config = cls(default, data.get("province", {}), groups,
                     bool(data.get("age_groups", {}).get("to_confirm", True)))
        for kind in KINDS:  # fail at start-up, not on the day a report is due
            config.period(f"2000-{kind}")
            for province in config.provinces:
                config.period(f"2000-{kind}", province)
        return config

    def _fields(self, kind: str, province: str | None) -> dict[str, Any]:
        return {**self.default[kind], **self.provinces.get(province or "", {}).get(kind, {})}

    def period(self, period_id: str, province: str | None = None) -> Period:
        match = _PERIOD_ID.match(period_id.strip())
        if not match:
            raise InvalidInput("period", f"Kỳ báo cáo {period_id!r} không hợp lệ: dùng dạng 2026-H1, 2026-H2, "
                                         "2026-Y hoặc 2026-Q1 … 2026-Q4, hoặc chọn từ ngày – đến ngày.",
                               f"Invalid period {period_id!r}: use 2026-H1, 2026-H2, 2026-Y or 2026-Q1 … "
                               "2026-Q4, or give a from and a to date.")
        year, kind = int(match.group(1)), match.group(2)
        raw = self._fields(kind, province)
        where = f"{province or 'default'}.{kind}"
        start = _month_day(raw["start"], year + int(raw.get("start_year_offset", 0)), where)
        end = _month_day(raw["end"], year + int(raw.get("end_year_offset", 0)), where)
        due = _month_day(raw["due"], year + int(raw.get("due_year_offset", 0)), where) if raw.get("due") else None
        if end < start:
            raise ValueError(f"periods.toml: {where}: the period ends before it starts")
        return Period(f"{year}-{kind}", start, end, f"{raw['label_vi']} {year}", f"{raw['label_en']} {year}",
                      due, bool(raw.get("to_confirm", False)), bool(raw.get("report", False)))

    def standard(self, year: int, province: str | None = None) -> list[Period]:
        """The year's periods, the standard reports first."""
        periods = [self.period(f"{year}-{kind}", province) for kind in KINDS]
        return sorted(periods, key=lambda p: (not p.report, KINDS.index(p.id.split("-")[1])))

    def current(self, province: str | None = None, today: date | None = None) -> Period:
        """The half-year period containing `today` (Vietnam date)."""
        today = today or clock.local(clock.now()).date()
        for kind in ("H1", "H2"):
            period = self.period(f"{today.year}-{kind}", province)
            if period.start <= today <= period.end:
                return period
        return self.period(f"{today.year}-Y", province)


def custom_period(start: date | str | None, end: date | str | None) -> Period:
    """A period from explicit dates (ISO yyyy-mm-dd or dd/mm/yyyy)."""
    first, last = _parse_date(start, "from"), _parse_date(end, "to")
    if last < first:
        raise InvalidInput("to", "Ngày kết thúc phải sau hoặc bằng ngày bắt đầu.",
                           "The end date must not be before the start date.")
    if (last - first).days > 366 * 10:
        raise InvalidInput("to", "Khoảng thời gian quá dài (tối đa 10 năm).",
                           "The span is too long (10 years at most).")
    return Period(f"{first.isoformat()}..{last.isoformat()}", first, last, "Khoảng thời gian tự chọn", "Chosen dates")


def _parse_date(value: date | str | None, name: str) -> date:
    if isinstance(value, date):
        return value
    text = (value or "").strip()
    if not text:
        raise InvalidInput(name, "Hãy nhập ngày (dd/mm/yyyy).", "Enter a date (dd/mm/yyyy).")
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            parsed = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if 2000 <= parsed.year <= 2100:
            return parsed
    raise InvalidInput(name, f"Ngày {text!r} không hợp lệ: dùng dạng dd/mm/yyyy.",
                       f"Invalid date {text!r}: use dd/mm/yyyy.")


@lru_cache(maxsize=4)
def load_config(path: Path = PERIODS_FILE) -> PeriodConfig:
    return PeriodConfig.load(path)


def resolve_period(period_id: str | None = None, start: date | str | None = None, end: date | str | None = None,
                   province: str | None = None, config: PeriodConfig | None = None) -> Period:
    """A standard period by id, or explicit dates; with neither, the current half-year."""
    config = config or load_config()
    if start or end:
        return custom_period(start, end)
    if period_id:
        return config.period(period_id, province)
    return config.current(province)


# -- scope ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class Scope:
    """The units a report covers, within what the actor may read."""

    province: Unit | None = None
    commune: Unit | None = None

    def label(self, locale: str = "vi") -> str:
        if self.commune:
            return self.commune.name
        if self.province:
            return self.province.name
        return "All provinces" if locale == "en" else "Toàn quốc"


def allowed(actor: access.Actor) -> bool:
    return access.can_view_statistics(actor)


def _unit_by_code(session: Session, code: str, kind: str) -> OrgUnit | None:
    """The unit of this kind and code; a code with a NUL names none (PostgreSQL refuses NUL in a query)."""
    if "\x00" in code:
        return None
    return session.scalar(select(OrgUnit).where(OrgUnit.code == code.strip(), OrgUnit.kind == kind))


def resolve_scope(session: Session, actor: access.Actor, province: str | None = None,
                  commune: str | None = None) -> Scope:
    """Check the request against the actor's own scope; with no filter, the actor's whole scope."""
    if not allowed(actor):
        raise Forbidden("Bạn không có quyền xem số liệu thống kê.", "You may not view statistics.")
    prov_unit = comm_unit = None
    if province:
        prov_unit = _unit_by_code(session, province, "province")
        if prov_unit is None:
            raise NotFound(f"Không có tỉnh/thành phố mã {province!r}.", f"No province with code {province!r}.")
    if commune:
        comm_unit = _unit_by_code(session, commune, "commune")
        if comm_unit is None:
            raise NotFound(f"Không có xã/phường mã {commune!r}.", f"No commune with code {commune!r}.")
        if prov_unit is not None and comm_unit.parent_id != prov_unit.id:
            raise InvalidInput("commune", "Xã/phường đã chọn không thuộc tỉnh đã chọn.",
                               "The commune chosen is not in the province chosen.")
        if prov_unit is None:
            prov_unit = session.get(OrgUnit, comm_unit.parent_id)
    refused = Forbidden("Bạn chỉ được xem số liệu của đơn vị mình.", "You may only view your own unit's figures.")
    if actor.commune_id is not None:
        if comm_unit is not None and comm_unit.id != actor.commune_id:
            raise refused
        if prov_unit is not None and prov_unit.id != actor.province_id:
            raise refused
        comm_unit = comm_unit or session.get(OrgUnit, actor.commune_id)
        prov_unit = prov_unit or (session.get(OrgUnit, actor.province_id) if actor.province_id else None)
    elif actor.province_id is not None:
        if prov_unit is not None and prov_unit.id != actor.province_id:
            raise refused
        prov_unit = prov_unit or session.get(OrgUnit, actor.province_id)

    def unit(row: OrgUnit | None) -> Unit | None:
        return Unit(row.id, row.code, row.name) if row is not None else None

    return Scope(unit(prov_unit), unit(comm_unit))


# -- result types --------------------------------------------------------------------------------------------
@dataclass
class Count:
    key: str
    label_vi: str
    label_en: str
    count: int

    def label(self, locale: str = "vi") -> str:
        return self.label_en if locale == "en" else self.label_vi


@dataclass
class Children:
    """Indicator 0101: abused children (not cases) received in the period, with its breakdowns."""

    total: int
    by_sex: list[Count]
    by_age: list[Count]
    by_environment: list[Count]
    by_form: list[Count]
    without_form: int  # children none of whose cases in the period names a form of abuse
    # Beyond Circular 13/2021 (issue 16; what the child helpline 111 records): the ethnic groups that occur
    # (zero rows left out: 54 groups), then "not recorded"; the perpetrators' relationships to the child (a child
    # counts once per relationship any of their cases names), then the children with none recorded.
    by_ethnicity: list[Count] = field(default_factory=list)
    by_relationship: list[Count] = field(default_factory=list)


@dataclass
class CategoryRow:
    category: str
    label_vi: str
    label_en: str
    cases: int
    children: int
    no_basis: int


@dataclass
class UnitRow:
    """Figures of one commune (or, with `commune_code` None, a whole province)."""

    province_code: str
    province_name: str
    commune_code: str | None
    commune_name: str | None
    cases: int  # received in the period
    abused_children: int  # indicator 0101
    closed: int  # closed in the period (plan ended), whenever received
    open_at_end: int  # received before the period's end and not closed by then


@dataclass
class ComplianceRow:
    commune_code: str
    commune_name: str
    step: str
    title_vi: str
    title_en: str
    on_time: int
    late: int
    overdue: int
    pending: int

    @property
    def done(self) -> int:
        return self.on_time + self.late


@dataclass
class Duration:
    measure: str  # emergency | approved_plan | closure
    label_vi: str
    label_en: str
    count: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass
class StageRow:
    step: str
    title_vi: str
    title_en: str
    cases: int


@dataclass
class Report:
    period: Period
    scope: Scope
    generated_at: datetime
    children: Children
    categories: list[CategoryRow]
    communes: list[UnitRow]
    provinces: list[UnitRow]
    compliance: list[ComplianceRow]
    durations: list[Duration]
    stages: list[StageRow]
    open_cases: int  # open now
    age_groups_to_confirm: bool = True
    notes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        """Made before the period ended: the figures are those known so far."""
        return self.generated_at < self.period.end_utc


# -- SQL helpers ---------------------------------------------------------------------------------------------
def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def json_elements(session: Session, column: ColumnElement) -> Any:
    """The elements of a JSON list column as a table with one text column `value`, joinable per row:
    PostgreSQL `json_array_elements_text`, SQLite `json_each`."""
    if _dialect(session) == "postgresql":
        return func.json_array_elements_text(column).table_valued("value").render_derived()
    return func.json_each(column).table_valued("value")


def seconds_between(session: Session, later: SQLColumnExpression[datetime | None],
                    earlier: SQLColumnExpression[datetime]) -> ColumnElement[float]:
    """The number of seconds from `earlier` to `later`, as a float SQL expression."""
    if _dialect(session) == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def percentiles(session: Session, durations: Select) -> tuple[int, float | None, float | None]:
    """(count, median, 90th percentile) of a one-column query of numbers, by linear interpolation between
    ranks. PostgreSQL computes them (`percentile_cont`); SQLite has no such aggregate, so only that column of
    numbers is fetched and `statistics.quantiles(method="inclusive")` — the same definition — is used."""
    if _dialect(session) == "postgresql":
        sub = durations.subquery()
        value = list(sub.c)[0]
        count, median, p90 = session.execute(select(
            func.count(value), func.percentile_cont(0.5).within_group(value),
            func.percentile_cont(0.9).within_group(value),
        )).one()
        if not count:
            return 0, None, None
        return int(count), float(median), float(p90)
    values = [float(v) for v in session.scalars(durations) if v is not None]
    return (len(values), *quantiles(values))


def quantiles(values: list[float]) -> tuple[float | None, float | None]:
    """(median, 90th percentile), interpolating as PostgreSQL's percentile_cont does."""
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    deciles = pystats.quantiles(values, n=10, method="inclusive")
    return deciles[4], deciles[8]


class ReportQuery:
    """The conditions shared by every figure of one report: the actor's scope (access.case_filter), the
    province/commune asked for, the period's bounds in UTC. `report` builds one and calls each figure."""

    def __init__(self, session: Session, actor: access.Actor, period: Period, scope: Scope) -> None:
        self.session, self.period, self.scope = session, period, scope
        self.start, self.end = period.start_utc, period.end_utc
        self.base: list[ColumnElement[bool]] = [access.case_filter(actor)]
        # The province as well as the commune: ix_case_scope starts with province_id.
        if scope.province is not None:
            self.base.append(Case.province_id == scope.province.id)
        if scope.commune is not None:
            self.base.append(Case.commune_id == scope.commune.id)

    def within(self, column: SQLColumnExpression[datetime | None]) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)

    @property
    def received(self) -> ColumnElement[bool]:
        return self.within(Case.received_at)

    @property
    def abused(self) -> list[ColumnElement[bool]]:
        return [*self.base, self.received, Case.category == ABUSED, Case.status.not_in(NOT_COUNTED_0101)]


def _members(choices: type[Choices] | None, *extra: tuple[str, str, str]) -> list[tuple[str, str, str]]:
    """(key, vi, en) rows to show, in order: the enum's members, then extra keys it does not have."""
    members = [(m.value, m.vi, m.en) for m in (choices or [])]
    keys = {key for key, _vi, _en in members}
    return members + [row for row in extra if row[0] not in keys]


def _counts(rows: Iterable[tuple[str | None, int | None]], members: list[tuple[str, str, str]]) -> list[Count]:
    """Rows of (code, count) → one Count per member (zero rows kept), then codes unknown to the enum (old
    data) at the end; a missing code counts as UNKNOWN."""
    found: dict[str, int] = {}
    for code, n in rows:
        key = UNKNOWN if code in (None, "") else str(code)
        found[key] = found.get(key, 0) + int(n or 0)
    items = [Count(key, vi, en, found.pop(key, 0)) for key, vi, en in members]
    return items + [Count(key, key, key, n) for key, n in sorted(found.items())]


# -- the figures ---------------------------------------------------------------------------------------------
def children(q: ReportQuery, config: PeriodConfig) -> Children:
    """Indicator 0101 from the exact rollup `stat_child_mark` (engine.rollups, kept by triggers): a child counts
    under a value when one of their rows of that value is in the period and scope and the previous one (in that
    scope) is not. One grouped read of one index; the same figures as `children_direct`, which defines them."""
    mark = rollups.child_mark.c
    previous = mark.prev_c if q.scope.commune else mark.prev_p if q.scope.province else mark.prev_n
    where = [mark.received_at >= q.start, mark.received_at < q.end, or_(previous.is_(None), previous < q.start)]
    if q.scope.province is not None:
        where.append(mark.province_id == q.scope.province.id)
    if q.scope.commune is not None:
        where.append(mark.commune_id == q.scope.commune.id)
    rows = q.session.execute(select(mark.kind, mark.value, mark.sex, mark.age, func.count())
                             .where(*where).group_by(mark.kind, mark.value, mark.sex, mark.age)).all()

    def age_group(age: int | None) -> str:
        if age is None:
            return UNKNOWN
        return next((g.key for g in config.age_groups if g.min <= age <= g.max), OUTSIDE)

    by_kind: dict[str, list[tuple[Any, int]]] = {}
    people: list[tuple[str | None, str, int]] = []
    for kind, value, sex, age, n in rows:
        if kind == "child":
            people.append((sex, age_group(age), int(n)))
        else:
            by_kind.setdefault(kind, []).append((value, int(n)))
    total = sum(n for _sex, _age, n in people)

    def count(kind: str) -> int:
        return sum(n for _value, n in by_kind.get(kind, []))

    ages = [(g.key, g.label_vi, g.label_en) for g in config.age_groups]
    ethnicity = [c for c in _counts(by_kind.get("eth", []), _members(Ethnicity, (UNKNOWN, "Chưa ghi nhận",
                                                                                    "Not recorded"))) if c.count]
    return Children(
        total=total,
        by_sex=_counts(((sex, n) for sex, _age, n in people), _members(Sex, (UNKNOWN, Sex.unknown.vi, Sex.unknown.en))),
        by_age=_counts(((age, n) for _sex, age, n in people),
                       _members(None, *ages, (OUTSIDE, "Ngoài các nhóm tuổi", "Outside the age groups"),
                                (UNKNOWN, "Không rõ tuổi", "Age not recorded"))),
        by_environment=_counts(by_kind.get("env", []), _members(Environment, (UNKNOWN, "Chưa ghi nhận",
                                                                               "Not recorded"))),
        by_form=_counts(by_kind.get("form", []), _members(AbuseForm)),
        without_form=count("forms_known") - count("any_form"),
        by_ethnicity=ethnicity,
        by_relationship=[*_counts(by_kind.get("rel", []), _members(PerpetratorRelationship)),
                         Count(UNKNOWN, "Chưa ghi nhận", "Not recorded", total - count("any_rel"))],
    )


def children_direct(q: ReportQuery, config: PeriodConfig) -> Children:
    """The definition of indicator 0101, straight from `case_file` (every counted report of the period read, with
    distinct counts of children): what `children` must equal (tests/engine/test_statistics_rollups.py, bench)."""
    session = q.session
    # One row per child: their first case received in the period (sex and age are the child's), with the
    # most forms of abuse any of their cases names (0: none recorded). One pass gives the total too.
    rank = func.row_number().over(partition_by=Case.child_key, order_by=(Case.received_at, Case.id))
    most_forms = func.max(func.json_array_length(Case.abuse_forms)).over(partition_by=Case.child_key)
    groups = [(Case.child_age.between(g.min, g.max), g.key) for g in config.age_groups]
    age_group = case((Case.child_age.is_(None), UNKNOWN), *groups, else_=OUTSIDE)
    first = select(Case.child_sex.label("sex"), age_group.label("age_group"), rank.label("rank"),
                   most_forms.label("forms")).where(*q.abused).subquery()
    rows = session.execute(
        select(first.c.sex, first.c.age_group, func.count(), func.sum(case((first.c.forms == 0, 1), else_=0)))
        .where(first.c.rank == 1).group_by(first.c.sex, first.c.age_group)
    ).all()
    total = sum(int(n) for _sex, _age, n, _none in rows)

    by_env = session.execute(select(Case.environment, func.count(distinct(Case.child_key))).where(*q.abused)
                             .group_by(Case.environment)).tuples().all()

    cases = select(Case.child_key, Case.abuse_forms).where(*q.abused).subquery()
    element = json_elements(session, cases.c.abuse_forms)
    by_form = session.execute(select(element.c.value, func.count(distinct(cases.c.child_key))).select_from(cases)
                              .join(element, true()).group_by(element.c.value)).tuples().all()

    by_ethnicity = session.execute(select(Case.child_ethnicity, func.count(distinct(Case.child_key)))
                                   .where(*q.abused).group_by(Case.child_ethnicity)).tuples().all()
    ethnicity = [c for c in _counts(by_ethnicity, _members(Ethnicity, (UNKNOWN, "Chưa ghi nhận", "Not recorded")))
                 if c.count]

    related = select(Case.child_key, Case.perpetrator_relationships).where(
        *q.abused, Case.perpetrator_relationships.is_not(None)).subquery()
    relation = json_elements(session, related.c.perpetrator_relationships)
    by_relationship = session.execute(
        select(relation.c.value, func.count(distinct(related.c.child_key))).select_from(related)
        .join(relation, true()).group_by(relation.c.value)).tuples().all()
    with_relationship = session.scalar(select(func.count(distinct(related.c.child_key))).select_from(related)
                                       .join(relation, true())) or 0

    ages = [(g.key, g.label_vi, g.label_en) for g in config.age_groups]
    return Children(
        total=total,
        by_sex=_counts(((sex, n) for sex, _age, n, _none in rows),
                       _members(Sex, (UNKNOWN, Sex.unknown.vi, Sex.unknown.en))),
        by_age=_counts(((age, n) for _sex, age, n, _none in rows),
                       _members(None, *ages, (OUTSIDE, "Ngoài các nhóm tuổi", "Outside the age groups"),
                                (UNKNOWN, "Không rõ tuổi", "Age not recorded"))),
        by_environment=_counts(by_env, _members(Environment, (UNKNOWN, "Chưa ghi nhận", "Not recorded"))),
        by_form=_counts(by_form, _members(AbuseForm)),
        without_form=sum(int(none or 0) for _sex, _age, _n, none in rows),
        by_ethnicity=ethnicity,
        by_relationship=[*_counts(by_relationship, _members(PerpetratorRelationship)),
                         Count(UNKNOWN, "Chưa ghi nhận", "Not recorded", total - int(with_relationship))],
    )


def categories(q: ReportQuery) -> list[CategoryRow]:
    rows = q.session.execute(
        select(Case.category, func.count(), func.count(distinct(Case.child_key)),
               func.sum(case((Case.status == "no_basis", 1), else_=0)))
        .where(*q.base, q.received).group_by(Case.category)
    ).all()
    found = {code: (int(n), int(kids), int(nb or 0)) for code, n, kids, nb in rows}
    result = [CategoryRow(m.value, m.vi, m.en, *found.pop(m.value, (0, 0, 0))) for m in ReportCategory]
    return result + [CategoryRow(code, code, code, *v) for code, v in sorted(found.items())]


def units(q: ReportQuery) -> tuple[list[UnitRow], list[UnitRow]]:
    """Per commune and per province: cases received, abused children, closed in and open at the end of the
    period. Province rows are their own query: children are distinct, so communes do not add up."""
    received = q.received
    abused = and_(received, Case.category == ABUSED, Case.status.not_in(NOT_COUNTED_0101))
    closed = and_(Case.status == "closed", q.within(Case.closed_at))
    open_at_end = and_(Case.received_at < q.end, or_(Case.closed_at.is_(None), Case.closed_at >= q.end))

    def figures(*group: SQLColumnExpression[int]) -> Sequence[Row[Any]]:
        return q.session.execute(
            select(*group,
                   func.sum(case((received, 1), else_=0)),
                   func.count(distinct(case((abused, Case.child_key), else_=None))),
                   func.sum(case((closed, 1), else_=0)),
                   func.sum(case((open_at_end, 1), else_=0)))
            .where(*q.base, or_(received, closed, open_at_end)).group_by(*group)
        ).all()

    by_commune = figures(Case.province_id, Case.commune_id)
    by_province = figures(Case.province_id)
    ids = {r[0] for r in by_province} | {r[1] for r in by_commune}
    names = {u.id: u for u in q.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))} if ids else {}

    def ints(values: Iterable[Any]) -> list[int]:
        return [int(v or 0) for v in values]

    communes = [UnitRow(names[p].code, names[p].name, names[c].code, names[c].name, *ints(rest))
                for p, c, *rest in by_commune]
    provinces = [UnitRow(names[p].code, names[p].name, None, None, *ints(rest)) for p, *rest in by_province]
    communes.sort(key=lambda r: (r.province_code, r.commune_code or ""))
    provinces.sort(key=lambda r: r.province_code)
    return communes, provinces


def compliance(q: ReportQuery, now: datetime, steps: Mapping[str, tuple[str, str]]) -> list[ComplianceRow]:
    """Steps with a time limit, per commune (the case's current commune) and step kind: the completed ones from
    the exact rollup `stat_compliance_day` (engine.rollups, kept by triggers), the open ones live from the
    partial index of open steps. The same figures as `compliance_direct`, which defines them.

    The scope is the report's units: `resolve_scope` has already narrowed them to the actor's (statistics are
    for file readers, whose `case_filter` is their unit). An open step carries its case's commune and province
    (engine.transfers moves them), so the open part needs no join to the cases."""
    day = rollups.compliance_day.c
    done_where: list[ColumnElement[bool]] = [_grain_span(day.grain, day.day, q.period.start, q.period.end)]
    open_where: list[ColumnElement[bool]] = [Task.state == "ready", Task.due_at.is_not(None),
                                             Task.escalates_task_id.is_(None)]
    if q.scope.province is not None:
        done_where.append(day.province_id == q.scope.province.id)
        open_where.append(Task.province_id == q.scope.province.id)
    if q.scope.commune is not None:
        done_where.append(day.commune_id == q.scope.commune.id)
        open_where.append(Task.commune_id == q.scope.commune.id)
    counted = day.on_time + day.late > 0  # rows brought back to zero keep their key; their title is not counted
    done = q.session.execute(
        select(day.commune_id, day.step, func.min(case((counted, day.title), else_=None)),
               func.sum(day.on_time), func.sum(day.late))
        .where(*done_where).group_by(day.commune_id, day.step)
        .having(func.sum(day.on_time) + func.sum(day.late) > 0)
    ).all()
    pending = q.session.execute(
        select(Task.commune_id, Task.step, func.min(Task.title),
               func.sum(case((Task.due_at < now, 1), else_=0)), func.sum(case((Task.due_at >= now, 1), else_=0)))
        .where(*open_where).group_by(Task.commune_id, Task.step)
    ).all()
    figures: dict[tuple[int, str], list[Any]] = {}
    for commune_id, step, title, on_time, late in done:
        figures[(commune_id, step)] = [title, int(on_time or 0), int(late or 0), 0, 0]
    for commune_id, step, title, overdue, waiting in pending:
        row = figures.setdefault((commune_id, step), [title, 0, 0, 0, 0])
        titles = [t for t in (row[0], title) if t is not None]
        row[0] = min(titles) if titles else None
        row[3], row[4] = int(overdue or 0), int(waiting or 0)
    return _compliance_rows(q, steps, [(c, s, *v) for (c, s), v in figures.items()])


def _grain_span(grain: ColumnElement[str], day: ColumnElement[date], start: date, end: date) -> ColumnElement[bool]:
    """The rollup rows that add up to the local days [start, end]: the months it covers whole (grain 'm'), and
    the days of the partial months at either end (grain 'd')."""
    first_full = start if start.day == 1 else (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    after_end = end + timedelta(days=1)
    last_full = end if after_end.day == 1 else end.replace(day=1) - timedelta(days=1)
    if first_full > last_full:  # within one month, or across a month boundary without a whole month
        return and_(grain == "d", day >= start, day <= end)
    parts = [and_(grain == "m", day >= first_full, day <= last_full)]
    if start < first_full:
        parts.append(and_(grain == "d", day >= start, day < first_full))
    if last_full < end:
        parts.append(and_(grain == "d", day > last_full, day <= end))
    return or_(*parts)


def compliance_direct(q: ReportQuery, now: datetime, steps: Mapping[str, tuple[str, str]]) -> list[ComplianceRow]:
    """The definition of the compliance figures, straight from `task` and `case_file` (every completed step of
    the period read): what `compliance` must equal (tests/engine/test_statistics_rollups.py, bench)."""
    done = Task.state == "completed"
    is_open = Task.state == "ready"
    rows = q.session.execute(
        select(Case.commune_id, Task.step, func.min(Task.title),
               func.sum(case((and_(done, Task.completed_at <= Task.due_at), 1), else_=0)),
               func.sum(case((and_(done, Task.completed_at > Task.due_at), 1), else_=0)),
               func.sum(case((and_(is_open, Task.due_at < now), 1), else_=0)),
               func.sum(case((and_(is_open, Task.due_at >= now), 1), else_=0)))
        .select_from(Task).join(Case, Case.id == Task.case_id)
        .where(*q.base, Task.due_at.is_not(None), Task.escalates_task_id.is_(None),
               or_(and_(done, q.within(Task.completed_at)), is_open))
        .group_by(Case.commune_id, Task.step)
    ).all()
    return _compliance_rows(q, steps, [tuple(r) for r in rows])


def _compliance_rows(q: ReportQuery, steps: Mapping[str, tuple[str, str]],
                     rows: Sequence[Sequence[Any]]) -> list[ComplianceRow]:
    """(commune id, step, title, on time, late, overdue, pending) rows → named and ordered ComplianceRows."""
    ids = {r[0] for r in rows}
    names = {u.id: u for u in q.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))} if ids else {}
    order = {step: i for i, step in enumerate(steps)}
    result = []
    for commune_id, step, title, on_time, late, overdue, pending in rows:
        vi, en = steps.get(step, (title, title))
        unit = names[commune_id]
        result.append(ComplianceRow(unit.code, unit.name, step, vi, en,
                                    int(on_time or 0), int(late or 0), int(overdue or 0), int(pending or 0)))
    result.sort(key=lambda r: (r.commune_code, order.get(r.step, len(order)), r.step))
    return result


DURATIONS = (
    ("emergency", "Từ khi tiếp nhận đến khi quyết định biện pháp khẩn cấp",
     "From receipt to the emergency measures decision"),
    ("approved_plan", "Từ khi tiếp nhận đến khi kế hoạch được phê duyệt (lần đầu)",
     "From receipt to the (first) approved plan"),
    ("closure", "Từ khi tiếp nhận đến khi đóng hồ sơ", "From receipt to closure"),
)


def durations(q: ReportQuery) -> list[Duration]:
    session = q.session

    def first_completion(step: str, *extra: ColumnElement[bool]) -> Select:
        """Seconds from receipt to the case's first completion of `step`, for those completed in the period.
        Joined from the cases in scope, so a commune's report reads only that commune's tasks."""
        done_at = func.min(Task.completed_at)
        return (
            select(seconds_between(session, done_at, Case.received_at))
            .select_from(Case)
            .join(Task, and_(Task.case_id == Case.id, Task.step == step, Task.state == "completed", *extra))
            .where(*q.base).group_by(Case.id, Case.received_at)
            .having(and_(done_at >= q.start, done_at < q.end))
        )

    queries = {
        "emergency": first_completion("emergency_decision"),
        "approved_plan": first_completion("approve_plan", Task.form_data["decision"].as_string() == "approve"),
        "closure": select(seconds_between(session, Case.closed_at, Case.received_at))
        .where(*q.base, Case.status == "closed", q.within(Case.closed_at)),
    }
    return [Duration(measure, vi, en, *percentiles(session, queries[measure])) for measure, vi, en in DURATIONS]


def stages(q: ReportQuery, steps: Mapping[str, tuple[str, str]]) -> tuple[list[StageRow], int]:
    """Open cases now, under each of their open steps; and the number of open cases."""
    rows = q.session.execute(
        select(Task.step, func.min(Task.title), func.count(distinct(Task.case_id)))
        .select_from(Task).join(Case, Case.id == Task.case_id)
        .where(*q.base, Case.status == "open", Task.state == "ready", Task.escalates_task_id.is_(None))
        .group_by(Task.step)
    ).all()
    order = {step: i for i, step in enumerate(steps)}
    result = []
    for step, title, n in rows:
        vi, en = steps.get(step, (title, title))
        result.append(StageRow(step, vi, en, int(n)))
    result.sort(key=lambda r: (order.get(r.step, len(order)), r.step))
    total = q.session.scalar(select(func.count()).select_from(Case).where(*q.base, Case.status == "open")) or 0
    return result, int(total)


NOTES = [
    ("Chỉ tiêu 0101 đếm số trẻ em (không đếm số hồ sơ): một trẻ có nhiều hồ sơ trong kỳ chỉ tính một lần. "
     "Không tính các báo cáo đã xác minh là không có cơ sở.",
     "Indicator 0101 counts children, not cases: a child with several cases in the period counts once. "
     "Reports found to have no basis are not counted."),
    ("Giới tính và nhóm tuổi lấy theo hồ sơ đầu tiên của trẻ trong kỳ; một trẻ được tính ở mỗi môi trường và mỗi "
     "hình thức xâm hại ghi trong các hồ sơ của trẻ, nên tổng các dòng có thể lớn hơn tổng số trẻ.",
     "Sex and age group are taken from the child's first case in the period; a child counts under each "
     "environment and each form of abuse recorded in their cases, so those rows may add up to more than the "
     "total."),
    ("Hồ sơ tính theo ngày tiếp nhận thông tin (Mẫu số 01). Thời gian xử lý tính vào kỳ có sự kiện kết thúc: "
     "hồ sơ tiếp nhận trước kỳ và đóng trong kỳ được tính vào thời gian đóng hồ sơ của kỳ.",
     "Cases count by the receipt date on Form 01. A duration counts in the period of its end event: a case "
     "received before the period and closed in it counts in the period's closure times."),
    ("Hồ sơ đã chuyển sang xã/phường khác được tính cho xã/phường hiện đang quản lý hồ sơ, kể cả các bước đã "
     "làm trước khi chuyển.",
     "A case transferred to another commune counts in the commune that holds it now, with all its steps."),
    ("Bước quá hạn, đang trong hạn và hồ sơ đang mở theo giai đoạn là số liệu tại thời điểm lập báo cáo.",
     "Overdue and pending steps and open cases by stage are as at the time the report is made."),
]


def report(session: Session, actor: access.Actor, period: Period, province: str | None = None,
           commune: str | None = None, *, now: datetime | None = None,
           steps: Mapping[str, tuple[str, str]] | None = None, config: PeriodConfig | None = None) -> Report:
    """All figures for `period` within the actor's scope, narrowed to a province or commune code.

    `steps` maps step keys to (Vietnamese, English) titles in process order (the registry's); without it the
    stored Vietnamese titles are used.
    """
    config = config or load_config()
    now = now or clock.now()
    scope = resolve_scope(session, actor, province, commune)
    q = ReportQuery(session, actor, period, scope)
    steps = steps or {}
    communes, provinces = units(q)
    stage_rows, open_cases = stages(q, steps)
    return Report(
        period=period, scope=scope, generated_at=now, children=children(q, config), categories=categories(q),
        communes=communes, provinces=provinces, compliance=compliance(q, now, steps), durations=durations(q),
        stages=stage_rows, open_cases=open_cases, age_groups_to_confirm=config.age_groups_to_confirm,
        notes=list(NOTES),
    )


def step_titles(definition: Definition) -> dict[str, tuple[str, str]]:
    """(vi, en) titles of a process definition's steps, in its order (escalation steps left out)."""
    return {s.step: (s.title_vi, s.title_en) for s in definition.steps.values() if not s.escalates}


def _native(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _native(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_native(v) for v in value]
    return value


def to_dict(result: Report) -> dict[str, Any]:
    """The report as JSON-native data (dates ISO, instants UTC ISO, durations in seconds)."""
    data = asdict(result)
    data["notes"] = [{"vi": vi, "en": en} for vi, en in result.notes]
    data["partial"] = result.partial
    for row, obj in zip(data["compliance"], result.compliance, strict=True):
        row["done"] = obj.done
    return _native(data)


def report_dict(session: Session, actor: access.Actor, period: str | None = None, *, start: str | None = None,
                end: str | None = None, province: str | None = None, commune: str | None = None,
                now: datetime | None = None, steps: Mapping[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    """For the API: the report for a period id (e.g. "2026-H1") or explicit ISO dates, as JSON-native data.

    Raises InvalidInput (400, with `.field`), NotFound (404) or Forbidden (403).
    """
    scope = resolve_scope(session, actor, province, commune)
    province_code = scope.province.code if scope.province else None
    chosen = resolve_period(period, start, end, province_code)
    return to_dict(report(session, actor, chosen, province, commune, now=now, steps=steps))


def year_periods(years: Iterable[int], province: str | None = None,
                 config: PeriodConfig | None = None) -> list[Period]:
    """Standard periods of several years (newest first) for a period picker."""
    config = config or load_config()
    return [p for year in sorted(set(years), reverse=True) for p in config.standard(year, province)]


__all__ = [
    "Children", "CategoryRow", "ComplianceRow", "Count", "Duration", "InvalidInput", "Period", "PeriodConfig",
    "Report", "ReportQuery", "Scope", "StageRow", "UnitRow", "allowed", "categories", "children", "children_direct",
    "compliance", "compliance_direct", "custom_period", "durations", "json_elements", "load_config", "percentiles",
    "quantiles", "report", "report_dict", "resolve_period", "resolve_scope", "seconds_between", "stages",
    "step_titles", "to_dict", "units", "year_periods",
]
