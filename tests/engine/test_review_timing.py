"""The review (Mẫu 06, Art. 30) falls due after the approved plan's activities, not at a fixed interval.

Decree 56 Art. 30 sets no review interval, so the limit is case56 policy (rule `review` in
processes/deadlines.toml): `amount` working days after the latest expected end of the plan's activities, or the
review date the plan itself sets (Mẫu 04 v2 refuses one before the activities' end or the plan's date). The old
rule (30 working days after approval) let the review fall due months before the activities ended.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

import forms
from engine import clock
from engine.clock import LOCAL_TZ
from engine.deadlines import DeadlineError, Rules
from engine.models import Case, Task, Timer
from engine.runtime import Engine
from web import demo

RULES_FILE = Path(__file__).resolve().parents[2] / "processes" / "deadlines.toml"


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


PLANNED_AT = vn(2027, 1, 4, 9, 0)  # a Monday: the case is opened, assessed and planned then


def plan(ends: list[str], review_on: str | None = None, start: str = "2027-01-04", **extra: Any) -> dict[str, Any]:
    """A Mẫu 04 override: one activity per end date, for the two demo partners in turn."""
    partners = ["truonghoc", "yte"]
    activities = [{"measure": f"Hoạt động {i + 1}", "level": "support", "assignee": partners[i % 2],
                   "responsible_body": "UBND phường", "cost": 0, "start": start, "end": end}
                  for i, end in enumerate(ends)]
    return {"activities": activities, "planned_review_on": review_on, **extra}


def open_at_activities(case_engine: Engine, session, people, mau_04: dict[str, Any],
                       at: datetime = PLANNED_AT) -> Case:
    with time_machine.travel(at, tick=False):
        report = demo.sample("mau_01", clock.now())
        case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report)
        demo.drive(case_engine, session, case, people, stop_at="carry_out_activity", choices={"mau_04": mau_04})
    return case


def report_activities(engine: Engine, session, people, case: Case, at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        done = demo.drive(engine, session, case, people, stop_at="review")
    assert done and set(done) == {"carry_out_activity"}


def review_task(session, case: Case) -> Task:
    return session.scalars(select(Task).where(Task.case_id == case.id, Task.step == "review")
                           .order_by(Task.id.desc())).first()


def five_working_days_after(case_engine: Engine, day: datetime) -> datetime:
    rule = case_engine.rules["review"]
    assert (rule.kind, rule.amount) == ("after_dates", 5)
    return case_engine.calendar.add_working_days(day, rule.amount)


# -- through the engine, on both databases ------------------------------------------------------------------


def test_review_due_five_working_days_after_the_last_activity_end(case_engine, session, people):
    case = open_at_activities(case_engine, session, people, plan(["2027-02-19", "2027-03-06"]))
    report_activities(case_engine, session, people, case, vn(2027, 2, 15, 10, 0))
    review = review_task(session, case)
    expected = five_working_days_after(case_engine, vn(2027, 3, 6, 17, 0))
    assert clock.local(review.due_at) == expected
    assert clock.local(expected).date() > datetime(2027, 3, 6).date() and expected.hour == 17
    deadline = session.scalars(select(Timer).where(Timer.task_id == review.id, Timer.kind == "deadline")).one()
    assert deadline.fire_at == review.due_at
    assert review.rule == "review"


def test_planned_review_date_in_the_plan_is_the_deadline(case_engine, session, people):
    case = open_at_activities(case_engine, session, people, plan(["2027-02-19", "2027-03-06"], "2027-03-10"))
    report_activities(case_engine, session, people, case, vn(2027, 2, 15, 10, 0))
    assert clock.local(review_task(session, case).due_at) == vn(2027, 3, 10, 17, 0)


def test_activities_reported_early_still_give_the_late_deadline(case_engine, session, people):
    case = open_at_activities(case_engine, session, people, plan(["2027-02-19", "2027-03-06"]))
    # Reported done in January by a restarted process: the review opens then, but is due after 06/03/2027.
    fresh = Engine()
    report_activities(fresh, session, people, case, vn(2027, 1, 11, 10, 0))
    review = review_task(session, case)
    assert clock.local(review.created_at) == vn(2027, 1, 11, 10, 0)
    assert clock.local(review.due_at) == five_working_days_after(case_engine, vn(2027, 3, 6, 17, 0))
    # The review's timer computed that from the approved plan in its own task data.
    workflow = fresh.load_workflow(session, case)
    timer = next(t for t in workflow.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == "Timer_review")
    assert [a["end"] for a in timer.data["mau_04"]["activities"]] == ["2027-02-19", "2027-03-06"]


def test_a_new_plan_after_a_review_brings_its_own_dates(case_engine, session, people):
    case = open_at_activities(case_engine, session, people, plan(["2027-03-06"], "2027-03-10"))
    report_activities(case_engine, session, people, case, vn(2027, 2, 15, 10, 0))
    assert clock.local(review_task(session, case).due_at) == vn(2027, 3, 10, 17, 0)
    # The review finds the child still at risk; the new plan runs to May and sets no review date: the
    # first plan's 10/03/2027 must not linger.
    with time_machine.travel(vn(2027, 3, 9, 9, 0), tick=False):
        done = demo.drive(case_engine, session, case, people, stop_at="carry_out_activity", choices={
            "mau_06": {"conclusion": "replan", "no_longer_at_risk": False},
            "mau_04": plan(["2027-04-30", "2027-05-14"]),
        })
    assert done == ["review", "draft_plan", "draft_decision", "approve_plan"]
    report_activities(case_engine, session, people, case, vn(2027, 4, 1, 10, 0))
    second = review_task(session, case)
    assert second.state == "ready"
    assert clock.local(second.due_at) == five_working_days_after(case_engine, vn(2027, 5, 14, 17, 0))


def test_a_review_date_before_the_activities_end_is_refused_on_its_field(case_engine, session, people):
    with time_machine.travel(vn(2027, 1, 4, 9, 0), tick=False):
        report = demo.sample("mau_01", clock.now())
        case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X01", report)
        demo.drive(case_engine, session, case, people, stop_at="draft_plan")
        draft = session.scalars(select(Task).where(Task.case_id == case.id, Task.step == "draft_plan")).one()
        officer = people.for_task(draft)
        bad = demo.sample("mau_04", clock.now(), **plan(["2027-03-06"], "2027-03-05"))
        with pytest.raises(forms.FormError) as err:
            case_engine.complete_task(session, officer, draft.id, bad)
        assert err.value.errors == {"planned_review_on": [
            "Ngày dự kiến rà soát không được trước ngày kết thúc dự kiến của hoạt động kết thúc muộn nhất."]}
        with pytest.raises(forms.FormError) as err:
            case_engine.complete_task(session, officer, draft.id, bad, locale="en")
        assert err.value.errors == {"planned_review_on": [
            "The planned review date cannot be before the expected end of the last activity."]}
        session.refresh(draft)
        assert draft.state == "ready"  # nothing saved
        case_engine.complete_task(session, officer, draft.id,
                                  demo.sample("mau_04", clock.now(), **plan(["2027-03-06"], "2027-03-06")))
        session.refresh(draft)
        assert draft.state == "completed" and draft.form_version == 3


# -- the form alone ------------------------------------------------------------------------------------------


def test_review_date_before_the_plan_date_is_refused():
    data = plan(["2026-12-20"], "2027-01-02", start="2026-12-01", drafted_at="2027-01-04T08:00:00+07:00")
    with pytest.raises(forms.FormError) as err:
        forms.validate("mau_04", data, now=vn(2027, 1, 4, 9, 0))
    assert err.value.errors == {"planned_review_on": ["Ngày dự kiến rà soát không được trước ngày xây dựng kế hoạch."]}
    assert err.value.codes == {"planned_review_on": ["review_before_plan_date"]}
    ok = forms.validate("mau_04", {**data, "planned_review_on": "2027-01-04"}, now=vn(2027, 1, 4, 9, 0))
    assert ok["planned_review_on"] == "2027-01-04"


def test_plans_stored_under_version_1_still_validate_under_version_1():
    old = plan(["2027-03-06"], "2027-01-18")  # accepted before the review date was checked
    for activity in old["activities"]:  # version 1 knew nothing of Art. 28.3's responsibility and cost per item
        del activity["responsible_body"], activity["cost"]
    assert forms.validate("mau_04", old, version=1, now=vn(2027, 1, 4, 9, 0))["planned_review_on"] == "2027-01-18"
    with pytest.raises(forms.FormError):
        forms.validate("mau_04", old, now=vn(2027, 1, 4, 9, 0))


# -- the rule kind and the rules file ------------------------------------------------------------------------


def test_after_dates_takes_the_latest_date_of_every_list_item(case_engine):
    rules, cal = Rules.load(), case_engine.calendar
    data = {"mau_04": {"activities": [{"end": "2027-03-06"}, {"end": "2027-02-19"}, {"end": None}]}}
    assert rules.due("review", data, cal) == cal.add_working_days(vn(2027, 3, 6, 17, 0), 5)
    data["mau_04"]["planned_review_on"] = "2027-03-10"
    assert clock.local(rules.due("review", data, cal)) == vn(2027, 3, 10, 17, 0)
    with pytest.raises(DeadlineError, match="'review'"):
        rules.due("review", {"mau_04": {"activities": []}}, cal)


def rules_with(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "deadlines.toml"
    path.write_text(RULES_FILE.read_text(encoding="utf-8") + "\n[rules.bad_review]\n" + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "problem"), [
    ('kind = "after_dates"\namount = 5\n', "needs dates"),
    ('kind = "after_dates"\ndates = "mau_04.activities.end"\namount = 5\n', None),  # one path is a list of one
    ('kind = "after_dates"\ndates = ["mau_04.activities[].end"]\namount = 5\n', "needs dates"),
    ('kind = "after_dates"\ndates = [3]\namount = 5\n', "needs dates"),
    ('kind = "after_dates"\ndates = ["mau_04.activities.end"]\namount = -1\n', "whole number"),
    ('kind = "after_dates"\ndates = ["mau_04.activities.end"]\namount = 2.5\n', "whole number"),
    ('kind = "after_dates"\ndates = ["mau_04.activities.end"]\namount = "5"\n', "number as amount"),
    ('kind = "after_dates"\ndates = ["mau_04.activities.end"]\namount = 5\nanchor = ["approve_plan"]\n',
     "not from an anchor"),
    ('kind = "after_dates"\ndates = ["mau_04.activities.end"]\namount = 5\nfield = "mau 04"\n', "dotted path"),
    ('kind = "after_dates"\ndate = ["mau_04.activities.end"]\namount = 5\n', "unknown keys"),
    ('kind = "after_date"\ndates = ["mau_04.activities.end"]\namount = 5\n', "unknown kind"),
    ('kind = "working_days"\namount = 5\nanchor = ["approve_plan"]\ndates = ["mau_04.activities.end"]\n',
     "counts from anchors"),
    ('kind = "date"\nfield = "mau_04.planned_review_on"\namount = 5\n', "takes only a field"),
])
def test_rules_file_errors_name_the_rule(tmp_path, body, problem):
    path = rules_with(tmp_path, body)
    if problem is None:
        assert Rules.load(path)["bad_review"].dates == ("mau_04.activities.end",)
        return
    with pytest.raises(DeadlineError, match=f"rule 'bad_review' .*{problem}"):
        Rules.load(path)


def test_the_review_rule_says_it_is_case56_policy_not_law():
    rule = Rules.load()["review"]
    assert rule.counts_working_days  # a day off declared later can move it (without a planned date)
    assert "quy định của case56, không phải của Nghị định" in rule.label_vi
    assert "case56" in rule.label_en and "case56" in rule.policy and not rule.legal
    assert rule.article.startswith("Điều 30")
