"""`engine.lint`: one deliberately broken file per rule, each finding naming the element and its line; every
shipped process passes; `case56 process lint` prints the findings and exits 1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import lint
from engine.deadlines import Rules
from tests.processes import variants

ROOT = Path(__file__).resolve().parents[2]
RULES = Rules.load()


def findings(text: str) -> list[lint.Finding]:
    return lint.lint(text.encode(), "broken.bpmn", RULES)


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("path", sorted((ROOT / "processes").glob("*.bpmn")), ids=lambda p: p.name)
def test_every_shipped_process_passes(path: Path):
    assert lint.lint_file(path, RULES) == []


def test_variants_used_by_the_deploy_tests_pass():
    assert findings(variants.renamed_and_extended()) == []


def _single(text: str, needle: str) -> lint.Finding:
    [finding] = findings(text)
    assert finding.line == line_of(text, needle), finding
    return finding


BROKEN = {
    # rule: (change to the shipped text, element named, the element's opening text, words of the message)
    "lane": (lambda t: t.replace('<bpmn:lane id="Lane_chairman" name="chairman">',
                                 '<bpmn:lane id="Lane_chairman" name="chu_tich">'),
             "Lane_chairman", '<bpmn:lane id="Lane_chairman"', "không phải một vai trò"),
    "form": (variants.broken, "Task_verify", '<bpmn:userTask id="Task_verify"', "verification_v9"),
    "article": (lambda t: re.sub(r'(<bpmn:userTask id="Task_verify".*?)<spiffworkflow:property name="article"'
                                 r' value="[^"]*"/>', r"\1", t, count=1, flags=re.S),
                "Task_verify", '<bpmn:userTask id="Task_verify"', "không dẫn điều khoản"),
    "timer": (lambda t: t.replace('deadline("verify")', 'deadline("verfy")'),
              "Timer_verify", '<bpmn:boundaryEvent id="Timer_verify"', "'verfy'"),
    "dead_end": (lambda t: t.replace('sourceRef="Task_needs_meeting" targetRef=',
                                     'sourceRef="Task_needs_meeting_x" targetRef='),
                 "Task_needs_meeting", '<bpmn:userTask id="Task_needs_meeting"', "kết thúc"),
}


@pytest.mark.parametrize("rule", BROKEN)
def test_each_rule_names_the_element_and_its_line(rule: str):
    change, element, opening, words = BROKEN[rule]
    text = change(variants.shipped())
    got = [f for f in findings(text) if f.rule == rule and f.element == element]
    assert len(got) == 1, findings(text)
    assert got[0].line == line_of(text, opening) and words in got[0].message_vi
    assert f"broken.bpmn:{got[0].line}: [{rule}] <{element}>" in got[0].text("broken.bpmn")
    assert lint.lint(variants.shipped().encode(), "ok.bpmn", RULES) == []  # the change alone made it


def test_a_task_outside_any_role_lane_is_named():
    text = variants.shipped().replace("<bpmn:flowNodeRef>Task_verify</bpmn:flowNodeRef>", "")
    [finding] = findings(text)
    assert (finding.rule, finding.element) == ("lane", "Task_verify") and "không nằm trong làn" in finding.message_vi


def test_a_form_version_that_does_not_exist_is_named():
    text = variants.shipped().replace('<spiffworkflow:property name="form" value="verification"/>',
                                      '<spiffworkflow:property name="form" value="verification"/>'
                                      '<spiffworkflow:property name="form_version" value="7"/>', 1)
    [finding] = findings(text)
    assert (finding.rule, finding.element) == ("form", "Task_verify") and "phiên bản 7" in finding.message_vi


@pytest.mark.parametrize("condition, words", [
    ('verification["has_basiss"] == True', "không có trường 'has_basiss'"),
    ('secret_variable == True', "biến không có trong hồ sơ: 'secret_variable'"),
    ('__import__("os").system("id")', "điều kiện không hợp lệ"),
    ('verification["has_basis"] ==', "điều kiện không hợp lệ"),
])
def test_gateway_conditions_are_sandbox_valid_over_known_form_fields(condition: str, words: str):
    old = 'verification["has_basis"] == True'
    text = variants.shipped().replace(old, condition.replace('"', "&quot;") if "&" not in condition else condition, 1)
    got = [f for f in findings(text) if f.rule == "condition"]
    assert got and words in got[0].message_vi, findings(text)
    assert got[0].element == "Flow_has_basis__initial_assessment" or got[0].element.startswith("Flow_")
    assert got[0].line == line_of(text, f'id="{got[0].element}"')


def test_an_unreachable_step_is_named():
    text = variants.shipped().replace('targetRef="Task_needs_meeting"', 'targetRef="Task_draft_plan"')
    got = [f for f in findings(text) if f.rule == "reachable"]
    assert [f.element for f in got] == ["Task_needs_meeting"] or "Task_needs_meeting" in [f.element for f in got]


@pytest.mark.parametrize("raw, words", [
    (b"<bpmn:definitions", "XML không hợp lệ"),
    (b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>', "XML"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "không phải BPMN"),
])
def test_not_bpmn_is_one_finding(raw: bytes, words: str):
    [finding] = lint.lint(raw, "x.bpmn", RULES)
    assert finding.rule == "bpmn" and words in finding.message_vi and "root:" not in finding.message_vi


def test_spiffworkflow_validation_is_reported_with_its_line():
    text = variants.shipped().replace('<bpmn:multiInstanceLoopCharacteristics>',
                                      '<bpmn:multiInstanceLoopCharacteristics isSequential="maybe">', 1)
    got = findings(text)
    assert got and got[0].rule == "bpmn"
