"""processes/privacy/data_request.bpmn passes `case56 process lint` (with the request process's own limits and the
administrator's lane), is read by bpmn-moddle without a warning and behaves the same after a modeler's save, and is
sandboxed like the case process (a hostile script is refused before any request runs)."""

from __future__ import annotations

import functools
from typing import Any

import pytest
import time_machine
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import data_requests
from engine.deadlines import Rules
from engine.lint import lint
from engine.registry import ProcessError, load_definition
from engine.runtime import Engine
from tests.processes.test_moddle_roundtrip import moddle

PATH = data_requests.PROCESS_FILE
RECEIVED = "2026-04-24T10:00:00+07:00"


@functools.cache
def process() -> data_requests.DataRequests:
    return data_requests.DataRequests(Engine())


def rules() -> Rules:
    return process().rules


def test_lint_is_clean_with_the_request_rules_and_the_admin_lane():
    assert lint(PATH.read_bytes(), PATH.name, rules(), data_requests.ROLES) == []
    # The case process's roles would not do: the administrator's lane is this process's own.
    findings = lint(PATH.read_bytes(), PATH.name, rules())
    assert {f.rule for f in findings} == {"lane"}


def test_case56_process_lint_checks_it_against_its_own_limits():
    from web import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 40, "CASE56_ENGINE": Engine()})
    result = app.test_cli_runner().invoke(args=["process", "lint", str(PATH)])
    assert result.exit_code == 0 and result.output.strip() == f"{PATH}: OK"


@functools.cache
def saved_xml() -> str:
    result = moddle([PATH])[str(PATH)]
    assert result["warnings"] == []
    return result["xml"]


def test_bpmn_moddle_reads_and_writes_it_back_with_the_same_steps():
    original = process().current
    saved = load_definition(saved_xml(), PATH.name, rules(), data_requests.PROCESS_ID, data_requests.ROLES)
    assert saved.steps == original.steps
    assert {s.step for s in original.steps.values()} == {"receive", "acknowledge", "handle"}
    assert set(saved.spec.task_specs) == set(original.spec.task_specs)
    for token in ("Task_acknowledge", "Task_handle", "Timer_handle", "End_refused_abuser"):
        assert f'id="{token}"' in saved_xml()


BRANCHES: dict[str, dict[str, Any]] = {
    "abuser": {"blocked": True, "answers": []},
    "refused_at_ack": {"blocked": False, "answers": [{"identity_verified": False, "decision": "refuse",
                                                      "refusal_ground": "identity_unverified", "reply": "x"}]},
    "extended_then_done": {"blocked": False, "answers": [
        {"identity_verified": True, "decision": "accept", "reply": "x"},
        {"outcome": "extend", "extension_reason": "x", "reply": "x"},
        {"outcome": "done", "result": "x", "reply": "x"}]},
    "refused": {"blocked": False, "answers": [
        {"identity_verified": True, "decision": "accept", "reply": "x"},
        {"outcome": "refuse", "refusal_ground": "dossier_retention", "reply": "x"}]},
}
ENDS = {"abuser": "End_refused_abuser", "refused_at_ack": "End_refused_at_ack", "extended_then_done": "End_completed",
        "refused": "End_refused"}


def drive(definition, branch: dict[str, Any]) -> list[Any]:
    dr = process()
    wf = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=dr.script_engine)
    wf.task_tree.data.update({"data_request": {"request_type": "view"}, "anchors": {"received_at": RECEIVED},
                              "limits": {"complete": "2026-05-04T17:00:00+07:00"},
                              "screening": {"alleged_abuser": branch["blocked"]}})
    seen: list[Any] = []
    with time_machine.travel("2026-04-24T10:00:00+07:00", tick=False):
        wf.do_engine_steps()
        for answer in branch["answers"]:
            [task] = [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.manual]
            step = definition.steps[task.task_spec.bpmn_id]
            due = data_requests._due(task)
            seen.append((step.step, step.form, step.rule, due.isoformat() if due else None))
            task.data[step.form] = answer
            task.run()
            wf.do_engine_steps()
    ends = sorted(t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)
                  if (t.task_spec.bpmn_id or "").startswith("End_"))
    seen.append((tuple(ends), wf.is_completed()))
    return seen


@pytest.mark.parametrize("branch", BRANCHES)
def test_the_saved_file_behaves_identically(branch: str):
    original = process().current
    saved = load_definition(saved_xml(), PATH.name, rules(), data_requests.PROCESS_ID, data_requests.ROLES)
    before, after = drive(original, BRANCHES[branch]), drive(saved, BRANCHES[branch])
    assert before == after
    assert before[-1] == ((ENDS[branch],), True)
    if BRANCHES[branch]["answers"]:
        assert before[0] == ("acknowledge", "data_request_ack", "data_request_acknowledge",
                             "2026-04-29T10:00:00+00:00")  # 2 working days: 29/04 17:00 in Vietnam


def test_a_hostile_script_is_refused_by_the_sandbox():
    text = PATH.read_text(encoding="utf-8").replace("extended = True", "extended = __import__('os').system('id')")
    with pytest.raises(ProcessError, match="Script_extend|sandbox|__import__"):
        load_definition(text, PATH.name, rules(), data_requests.PROCESS_ID, data_requests.ROLES)
