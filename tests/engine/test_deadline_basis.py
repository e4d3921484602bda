"""Every time limit names its basis (processes/deadlines.toml): the article it comes from, and for a limit the
law does not set, the case56 policy behind it. A working-day limit set by law has two ends: the internal
target at office closing time (escalation) and the legal expiry at 24:00 of the last day (Civil Code Art. 148).
The 5-working-day plan limit's start is not stated by Art. 28.1: its anchor is a configurable option."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from engine.calendar import WorkingCalendar
from engine.clock import LOCAL_TZ
from engine.deadlines import RULES_FILE, DeadlineError, Rules

cal = WorkingCalendar.from_file()


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


def test_every_rule_names_its_article_or_policy():
    rules = Rules.load()
    assert rules.unfounded() == [], "rules without an article or a policy basis in processes/deadlines.toml"
    for rule in rules.rules.values():
        assert rule.founded, rule.name
        # A policy limit is never presented as the law's: its label or basis says it is case56's.
        if rule.policy:
            assert "case56" in rule.policy, rule.name


def test_a_rule_without_article_and_policy_fails_the_check(tmp_path: Path):
    text = RULES_FILE.read_text(encoding="utf-8") + (
        '\n[rules.unfounded]\nkind = "hours"\namount = 4\nanchor = ["received_at"]\n'
        'label_vi = "4 giờ"\nlabel_en = "4 hours"\n')
    path = tmp_path / "deadlines.toml"
    path.write_text(text, encoding="utf-8")
    assert Rules.load(path).unfounded() == ["unfounded"]
    path.write_text(text + 'policy = "Quy định của case56: thử"\n', encoding="utf-8")
    assert Rules.load(path).unfounded() == []


def test_law_2026_bases():
    rules = Rules.load()
    approval = rules["approval"]
    assert (approval.amount, approval.to_confirm, approval.policy) == (2, False, "")
    assert approval.article == "Điều 28 khoản 4 NĐ 56/2017/NĐ-CP"
    emergency = rules["emergency"]
    assert all(a in emergency.article for a in ("Điều 26 khoản 3", "Điều 31 khoản 2", "Điều 32 khoản 2"))
    assert not emergency.to_confirm and emergency.legal
    # Limits that are case56 policy and not law carry their basis and are not flagged as unknown law.
    for name in ("verify", "no_basis_signoff", "police_referral", "review", "plan_end"):
        assert rules[name].policy and not rules[name].legal, name
    assert rules["police_referral"].to_confirm  # criminal-procedure limits are not found
    assert not rules["review"].to_confirm and not rules["plan_end"].to_confirm
    plan = rules["plan"]
    assert plan.legal and plan.to_confirm and "Điều 28 khoản 1" in plan.article  # start not stated by the law
    assert "dự kiến kết thúc" in rules["activity"].label_vi


def test_plan_anchor_is_an_option(tmp_path: Path):
    rules = Rules.load()
    assert rules["plan"].anchor_choice == "received" and rules["plan"].anchor_options == ("assessment", "received")
    data = {"anchors": {"received_at": vn(2026, 3, 2, 9, 0).isoformat(),
                        "initial_assessment": vn(2026, 3, 2, 15, 0).isoformat(),
                        "detailed_assessment": vn(2026, 3, 5, 10, 0).isoformat()}}
    assert rules.due("plan", data, cal) == vn(2026, 3, 9, 17, 0)
    path = tmp_path / "deadlines.toml"
    text = RULES_FILE.read_text(encoding="utf-8")
    path.write_text(text.replace('anchor_choice = "received"', 'anchor_choice = "assessment"'), encoding="utf-8")
    assessed = Rules.load(path)
    assert assessed["plan"].anchors == ("initial_assessment", "detailed_assessment", "review")
    assert "Mẫu số 03" in assessed["plan"].label_vi and "Form 03" in assessed["plan"].label_en
    assert assessed.due("plan", data, cal) == vn(2026, 3, 12, 17, 0)  # from Mẫu 03's completion on Thu 05/03
    path.write_text(text.replace('anchor_choice = "received"', 'anchor_choice = "mau_02"'), encoding="utf-8")
    with pytest.raises(DeadlineError, match="anchor_choice"):
        Rules.load(path)


def test_legal_expiry_on_a_friday_is_midnight_that_friday():
    rules = Rules.load()
    # Draft decision submitted Wed 09/12/2026: 2 working days → Thu 10, Fri 11/12.
    data = {"anchors": {"draft_decision": vn(2026, 12, 9, 10, 0).isoformat()}}
    target = rules.due("approval", data, cal)
    assert target == vn(2026, 12, 11, 17, 0)  # the internal target: escalation fires here
    assert rules.legal_expiry("approval", target, cal) == vn(2026, 12, 12, 0, 0)  # 24:00 Friday, not Monday


def test_legal_expiry_across_a_holiday():
    rules = Rules.load()
    # Submitted Tue 28/04/2026: Wed 29/4 is day 1; 30/4–3/5 are off; day 2 is Mon 04/05.
    data = {"anchors": {"draft_decision": vn(2026, 4, 28, 16, 0).isoformat()}}
    target = rules.due("approval", data, cal)
    assert target == vn(2026, 5, 4, 17, 0)
    assert rules.legal_expiry("approval", target, cal) == vn(2026, 5, 5, 0, 0)


def test_legal_expiry_moves_off_a_day_off():
    # Art. 148.5: a last day that is not a working day (here: declared off after the count) ends the next
    # working day at 24:00.
    off = WorkingCalendar.from_file(days_off=[date(2026, 12, 11)])
    rules = Rules.load()
    assert rules.legal_expiry("approval", vn(2026, 12, 11, 17, 0), off) == vn(2026, 12, 15, 0, 0)


def test_only_legal_working_day_limits_have_a_legal_expiry():
    rules = Rules.load()
    due = vn(2026, 12, 11, 17, 0)
    assert rules.legal_expiry("plan", due, cal) == vn(2026, 12, 12, 0, 0)
    for name in ("emergency", "verify", "separation", "activity", "review", "plan_end", "no_basis_signoff"):
        assert rules.legal_expiry(name, due, cal) is None, name
    assert rules.legal_expiry("approval", None, cal) is None
