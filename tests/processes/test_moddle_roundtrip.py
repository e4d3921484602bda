"""A modeler's save changes nothing that matters: every processes/*.bpmn is read by bpmn-moddle (the parser of
bpmn.io and Camunda Modeler, pinned in package.json), written back with toXML, and the result is loaded by
case56 and driven through the main branches next to the original, comparing steps, roles and deadlines."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import time_machine
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.registry import Definition, load_definition
from engine.runtime import Engine

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "processes").glob("*.bpmn"))
SCRIPT = ROOT / "tests" / "processes" / "moddle_roundtrip.mjs"
RECEIVED = "2026-03-02T09:30:00+07:00"


def moddle(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """bpmn-moddle's warnings and toXML output for each file (by path)."""
    node = shutil.which("node")
    assert node, "node is needed for the bpmn-moddle round trip"
    assert (ROOT / "node_modules" / "bpmn-moddle").is_dir(), "run `npm ci` (make setup) to install bpmn-moddle"
    done = subprocess.run([node, str(SCRIPT), *map(str, paths)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout)


@functools.cache
def round_trips() -> dict[str, dict[str, Any]]:
    return moddle(FILES)


@functools.cache
def engine() -> Engine:
    return Engine()  # only its sandboxed script engine and real deadline rules and calendar are used


def test_there_is_a_process_to_check():
    assert [f.name for f in FILES] == ["decree56.bpmn"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_bpmn_moddle_reads_the_file_without_a_warning(path: Path):
    result = round_trips()[str(path)]
    assert result["warnings"] == []
    assert "<bpmn:loopDataInputRef>activities</bpmn:loopDataInputRef>" in result["xml"]
    assert "<bpmn:loopDataOutputRef>activity_results</bpmn:loopDataOutputRef>" in result["xml"]


def test_an_unresolved_reference_is_reported(tmp_path: Path):
    """The check is real: the pre-issue-15 form (references naming variables only) gives moddle's warnings
    and loses the references on save, which case56 then refuses."""
    text = FILES[0].read_text(encoding="utf-8")
    broken = tmp_path / "broken.bpmn"
    broken.write_text(text.replace('<bpmn:property id="activities" name="activities"/>', ""), encoding="utf-8")
    result = moddle([broken])[str(broken)]
    assert result["warnings"] == ["unresolved reference <activities>"]
    assert "loopDataInputRef" not in result["xml"]
    with pytest.raises(ValueError, match="multiinstance task must specify"):
        load_definition(result["xml"], "broken.bpmn", engine().rules)


def definitions(path: Path) -> tuple[Definition, Definition]:
    original = load_definition(path.read_bytes(), path.name, engine().rules)
    saved = load_definition(round_trips()[str(path)]["xml"], path.name, engine().rules)
    return original, saved


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_saved_file_has_the_same_steps(path: Path):
    original, saved = definitions(path)
    assert saved.steps == original.steps
    assert len(original.steps) > 20
    assert set(saved.spec.task_specs) == set(original.spec.task_specs)
    assert saved.subprocess_specs.keys() == original.subprocess_specs.keys()


# -- driving both files through the main branches -----------------------------------------------------------

def plan(n: int) -> dict[str, Any]:
    return {"activities": [{"measure": f"Hoạt động {i}", "level": "support", "assignee": f"partner{i}",
                            "start": "2026-03-10", "end": f"2026-04-{10 + i:02d}"} for i in range(1, n + 1)],
            "planned_review_on": None}


# Each branch answers a form with the next value of its list (the last one repeats).
BRANCHES: dict[str, dict[str, list[dict[str, Any]]]] = {
    "no_basis": {"verification": [{"has_basis": False}], "no_basis_signoff": [{"confirm": True}]},
    "no_basis_sent_back": {"verification": [{"has_basis": False}, {"has_basis": True}],
                           "no_basis_signoff": [{"confirm": False}], "mau_02": [{"emergency": False}],
                           "mau_04": [plan(1)], "plan_approval": [{"decision": "approve"}],
                           "needs_meeting_signoff": [{"decision": "sign"}],
                           "mau_06": [{"conclusion": "close"}], "plan_end": [{"decision": "end"}]},
    "emergency_separation_replan": {
        "verification": [{"has_basis": True}], "mau_02": [{"emergency": True}],
        "emergency_measures": [{"separate": True, "measures": ["safe_residence"]}],
        "mau_07": [{"decision": "separate", "start": "2026-03-02", "end": "2026-03-16"}],
        "separation_review": [{"action": "extend", "new_end": "2026-03-17"}, {"action": "end"}],
        "mau_04": [plan(2), plan(1)], "plan_approval": [{"decision": "return"}, {"decision": "approve"}],
        "needs_meeting_signoff": [{"decision": "return", "comments": "Thiếu đại diện khu dân cư"},
                                  {"decision": "sign"}],
        "mau_06": [{"conclusion": "replan"}, {"conclusion": "close"}], "plan_end": [{"decision": "end"}]},
    "crime_police_track": {"mau_01": [{"crime_suspected": True}], "verification": [{"has_basis": True}],
                           "mau_02": [{"emergency": False}], "mau_04": [plan(3)],
                           "needs_meeting_signoff": [{"decision": "sign"}],
                           "plan_approval": [{"decision": "approve"}], "mau_06": [{"conclusion": "close"}],
                           "plan_end": [{"decision": "end"}]},
}


def drive(definition: Definition, answers: dict[str, list[dict[str, Any]]]) -> list[tuple[Any, ...]]:
    """Complete the first ready step (by id, then activity) until none is left; return, for every ready step
    seen, its element, step, role, form, rule and computed deadline, and finally the end events reached."""
    script_engine = engine().script_engine
    wf = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=script_engine)
    mau_01 = {"category": "abused", "crime_suspected": False, "received_at": RECEIVED,
              **(answers.get("mau_01") or [{}])[0]}
    wf.task_tree.data.update({"mau_01": mau_01, "anchors": {"received_at": RECEIVED},
                              "case": {"number": "00001-2026-0001", "commune": "00001"}})
    wf.do_engine_steps()
    used: dict[str, int] = {}
    seen: list[tuple[Any, ...]] = []
    for clock in range(1, 80):
        ready = sorted((t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.manual),
                       key=lambda t: (t.task_spec.bpmn_id, str(t.data.get("activity", ""))))
        if not ready:
            break
        for t in ready:
            step = definition.steps[t.task_spec.bpmn_id]
            due = engine()._due(t)
            seen.append((clock, step.spec_name, step.step, step.role, step.form, step.rule,
                         due.isoformat() if due else None, (t.data.get("activity") or {}).get("assignee")))
        task = ready[0]
        step = definition.steps[task.task_spec.bpmn_id]
        options = answers.get(step.form or "") or [{}]
        data = options[min(used.get(step.form or "", 0), len(options) - 1)]
        used[step.form or ""] = used.get(step.form or "", 0) + 1
        anchors = dict(task.data.get("anchors") or {})
        anchors[step.step] = f"2026-03-{2 + clock // 8:02d}T{8 + clock % 8:02d}:00:00+07:00"
        task.data.update({step.form: data, "anchors": anchors})
        task.run()
        wf.do_engine_steps()
    else:
        pytest.fail("the branch did not finish")
    ends = sorted(t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)
                  if t.task_spec.bpmn_id and t.task_spec.bpmn_id.startswith("End_"))
    seen.append(("ends", *ends, wf.is_completed()))
    return seen


def drive_before_any_limit(definition: Definition, answers: dict[str, list[dict[str, Any]]]) -> list[tuple[Any, ...]]:
    """Driven before the report was even received, so no limit is past and no escalation depends on the
    wall clock (SpiffWorkflow reads it when it checks timers)."""
    with time_machine.travel("2026-03-01T00:00:00+07:00", tick=False):
        return drive(definition, answers)


EXPECTED_ENDS: dict[str, Callable[[tuple[Any, ...]], bool]] = {
    "no_basis": lambda ends: "End_no_basis" in ends,
    "no_basis_sent_back": lambda ends: "End_closed" in ends,
    "emergency_separation_replan": lambda ends: "End_closed" in ends and "End_separation" in ends,
    "crime_police_track": lambda ends: "End_closed" in ends and "End_police" in ends,
}


@pytest.mark.parametrize("branch", BRANCHES)
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_saved_file_behaves_identically(path: Path, branch: str):
    original, saved = definitions(path)
    before = drive_before_any_limit(original, BRANCHES[branch])
    after = drive_before_any_limit(saved, BRANCHES[branch])
    assert after == before
    assert before[-1][-1] is True, "the case's workflow finished"
    assert EXPECTED_ENDS[branch](before[-1])
    assert any(row[6] for row in before[:-1]), "deadlines were computed"
    if branch == "crime_police_track":
        activities = {row[7] for row in before[:-1] if row[2] == "carry_out_activity"}
        assert activities == {"partner1", "partner2", "partner3"}


def test_a_changed_file_behaves_differently():
    """The comparison would notice: a file whose verification limit names another rule drives differently."""
    original, _ = definitions(FILES[0])
    text = original.xml.replace('deadline("verify")', 'deadline("plan")')
    assert text != original.xml
    changed = load_definition(text, "changed.bpmn", engine().rules)
    branch = BRANCHES["no_basis"]
    assert drive_before_any_limit(changed, branch) != drive_before_any_limit(original, branch)


def test_ids_are_unique_uuid_free():
    """Modelers keep element ids; case56's stored tasks refer to them, so none may be generated per save."""
    xml = round_trips()[str(FILES[0])]["xml"]
    for token in ("Task_verify", "Task_carry_out_activity", "Timer_review", "Sub_intervention"):
        assert f'id="{token}"' in xml
    assert not any(len(part) == 36 and _is_uuid(part) for part in xml.split('"'))


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
