from datetime import date, datetime, time

from engine.calendar import WorkingCalendar
from engine.clock import LOCAL_TZ
from engine.deadlines import Rules


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


cal = WorkingCalendar.from_file()


def test_tet_2026_pushes_the_five_day_plan_limit():
    # Received Friday 13/02/2026 16:00; Tết off Sat 14/2 – Sun 22/2: days 1..5 are 23..27/02.
    assert cal.add_working_days(vn(2026, 2, 13, 16, 0), 5) == vn(2026, 2, 27, 17, 0)


def test_weekend_skipped_and_counting_starts_next_working_day():
    assert cal.add_working_days(vn(2026, 3, 6, 9, 0), 1) == vn(2026, 3, 9, 17, 0)  # Fri → Mon
    assert cal.add_working_days(vn(2026, 3, 6, 23, 59), 5) == vn(2026, 3, 13, 17, 0)


def test_announced_swaps_from_the_data_file():
    assert not cal.is_working_day(date(2026, 1, 2))  # swapped day off (TB 9441/TB-BNV)
    assert cal.is_working_day(date(2026, 1, 10))  # make-up Saturday
    assert cal.is_working_day(date(2026, 8, 22))  # known to the package too
    assert not cal.is_working_day(date(2026, 8, 31))
    # New Year 2026: received Wed 31/12/2025 → 5/1, 6/1, 7/1, 8/1, 9/1
    assert cal.add_working_days(vn(2025, 12, 31, 10, 0), 5) == vn(2026, 1, 9, 17, 0)
    # Through the make-up Saturday 10/01: from Fri 9/1, day 1 is Sat 10/1
    assert cal.add_working_days(vn(2026, 1, 9, 10, 0), 1) == vn(2026, 1, 10, 17, 0)


def test_admin_days_override_package_and_file():
    switched = WorkingCalendar.from_file(working_days=[date(2026, 9, 2)], days_off=[date(2026, 11, 25)])
    assert switched.is_working_day(date(2026, 9, 2)) and not cal.is_working_day(date(2026, 9, 2))
    assert not switched.is_working_day(date(2026, 11, 25))


def test_culture_day_is_a_working_day_until_its_act_is_recorded():
    # 24/11 "Ngày Văn hóa Việt Nam" is listed by `holidays` 0.109 but not enacted (vn.toml [unenacted]).
    for day in (date(2026, 11, 24), date(2027, 11, 24), date(2029, 11, 26)):  # 2029: the package's observed Monday
        assert cal.is_working_day(day) and cal.unenacted_holiday(day) and cal.holiday_name(day) is None, day
    assert not cal.is_working_day(date(2029, 11, 24))  # a Saturday stays a Saturday
    assert cal.unenacted_holiday(date(2026, 9, 2)) is None  # National Day is law
    # Mon 23/11/2026 + 1 working day is Tuesday 24/11 itself.
    assert cal.add_working_days(vn(2026, 11, 23, 9, 0), 1) == vn(2026, 11, 24, 17, 0)
    enacted = WorkingCalendar.from_file(days_off=[date(2026, 11, 24)])  # the admin recorded the act
    assert not enacted.is_working_day(date(2026, 11, 24)) and enacted.holiday_name(date(2026, 11, 24))
    assert enacted.add_working_days(vn(2026, 11, 23, 9, 0), 1) == vn(2026, 11, 25, 17, 0)


def test_hour_limits_run_through_nights_and_holidays():
    assert cal.add_hours(vn(2026, 2, 16, 20, 0), 12) == vn(2026, 2, 17, 8, 0)


def test_office_close_is_configurable():
    late = WorkingCalendar.from_file(office_close=time(16, 30))
    assert late.add_working_days(vn(2026, 3, 2, 8, 0), 1) == vn(2026, 3, 3, 16, 30)


def test_rules_use_latest_anchor_and_dates():
    rules = Rules.load()
    data = {"anchors": {"received_at": vn(2026, 2, 13, 16, 0).isoformat()}}
    assert rules.due("plan", data, cal) == vn(2026, 2, 27, 17, 0)
    data["anchors"]["review"] = vn(2026, 3, 2, 9, 0).isoformat()
    assert rules.due("plan", data, cal) == vn(2026, 3, 9, 17, 0)
    assert rules.due("emergency", data, cal) == vn(2026, 2, 14, 4, 0)
    assert rules.due("activity", {"activity": {"end": "2026-03-20"}}, cal) == vn(2026, 3, 20, 17, 0)
