"""Vietnamese working-day calendar and deadline arithmetic.

Working days skip weekends and public holidays (`holidays`' Vietnam calendar, which knows Tết and the
substituted days it has been told about), corrected by the yearly announced swaps in
`processes/calendar/vn.toml` and by days an administrator records in the database. A working-day limit ends
at office closing time of its last day; counting starts on the working day after the anchor moment.
Hour limits run on the clock, through nights and holidays.

A holiday the package lists but no legal act has enacted yet (the data file's `[unenacted]` names: 24/11 "Ngày
Văn hóa Việt Nam") is a working day until an administrator records the act that makes it a day off.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache
from pathlib import Path

import holidays

from engine.clock import LOCAL_TZ, local

CALENDAR_FILE = Path(__file__).resolve().parent.parent / "processes" / "calendar" / "vn.toml"


def load_calendar_file(path: Path = CALENDAR_FILE) -> tuple[set[date], set[date]]:
    """(extra days off, extra working days) declared in a calendar data file."""
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    off: set[date] = set()
    work: set[date] = set()
    for key, year in data.items():
        if not key.isdigit():  # [unenacted] and any other non-year section
            continue
        off.update(date.fromisoformat(d) for d in year.get("days_off", []))
        work.update(date.fromisoformat(d) for d in year.get("working_days", []))
    return off, work


def load_unenacted(path: Path = CALENDAR_FILE) -> tuple[str, ...]:
    """English package names of holidays that are working days until their legal act is recorded."""
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return tuple(data.get("unenacted", {}).get("names", []))


def announced_years(path: Path = CALENDAR_FILE) -> frozenset[int]:
    """Years that have a section in the calendar data file, i.e. whose announced swaps were recorded (an empty
    section means "announced, nothing to add"). Read again only when the file changes."""
    return _announced(path, path.stat().st_mtime_ns if path.exists() else 0)


@lru_cache(maxsize=8)
def _announced(path: Path, _mtime: int) -> frozenset[int]:
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return frozenset(int(key) for key in data if key.isdigit())


def missing_years(years: Iterable[int], path: Path = CALENDAR_FILE) -> list[int]:
    """Those of `years` without announced data: working-day limits there rest on the package's guesses."""
    announced = announced_years(path)
    return sorted({y for y in years if y not in announced})


def estimate_year(counts_working_days: bool, due: datetime | None, path: Path = CALENDAR_FILE) -> int | None:
    """The year without announced data that makes a limit ending at `due` an estimate, or None. Only a rule that
    counts working days (`Rule.counts_working_days`) depends on the calendar; it counts up to the due day, so
    that day's year decides."""
    if not counts_working_days or due is None:
        return None
    year = local(due).year
    return year if missing_years([year], path) else None


class WorkingCalendar:
    """Decides working days and adds limits; immutable once built, so it can be shared by threads."""

    def __init__(
        self,
        days_off: Iterable[date] = (),
        working_days: Iterable[date] = (),
        office_close: time = time(17, 0),
        unenacted: Iterable[str] = (),
    ) -> None:
        self.days_off = frozenset(days_off)
        self.unenacted = tuple(unenacted)
        self.working_days = frozenset(working_days)
        if self.days_off & self.working_days:
            raise ValueError(f"days both off and working: {sorted(self.days_off & self.working_days)}")
        self.office_close = office_close

    @classmethod
    def from_file(cls, path: Path = CALENDAR_FILE, *, days_off: Iterable[date] = (),
                  working_days: Iterable[date] = (), office_close: time = time(17, 0)) -> WorkingCalendar:
        off, work = load_calendar_file(path)
        extra_off = set(days_off)
        extra_work = set(working_days)
        # A day an administrator recorded wins over the file, which wins over the package.
        off = (off - extra_work) | extra_off
        work = (work - extra_off) | extra_work
        return cls(off, work, office_close, load_unenacted(path))

    @cached_property
    def _public(self) -> holidays.HolidayBase:
        return holidays.country_holidays("VN", language="en_US")

    def unenacted_holiday(self, day: date) -> str | None:
        """The package's name of `day` when it is a listed holiday whose legal act is not recorded (24/11), or
        None. Such a day is a working day unless an administrator declared it off (with the act)."""
        name = self._public.get(day)
        if name and day.weekday() < 5 and any(name.startswith(n) for n in self.unenacted):
            return name
        return None

    def holiday_name(self, day: date) -> str | None:
        if day in self.days_off:
            return "Ngày nghỉ theo thông báo"
        if day not in self.working_days and self.unenacted_holiday(day):
            return None  # not a holiday until its act is recorded
        return self._public.get(day)

    def is_working_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        if day in self.days_off:
            return False
        if self.unenacted_holiday(day):
            return True
        # `is_working_day` knows the package's weekend workdays (e.g. Sat 22/08/2026).
        return self._public.is_working_day(day)

    def add_working_days(self, anchor: datetime, days: int) -> datetime:
        """Office closing time of the `days`-th working day after the anchor's local date (UTC-aware)."""
        if days < 0:
            raise ValueError("a working-day limit cannot be negative")
        day = local(anchor).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day, self.office_close, LOCAL_TZ).astimezone(anchor.tzinfo or LOCAL_TZ)

    @staticmethod
    def add_hours(anchor: datetime, hours: float) -> datetime:
        return anchor + timedelta(hours=hours)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count
