"""Process versions for the deploy and migration tests, made from the shipped file as an analyst would in a
modeler: a label renamed, a step added later in the flow, a step's id changed, a file the lint refuses."""

from __future__ import annotations

import re
from pathlib import Path

SHIPPED = Path(__file__).resolve().parents[2] / "processes" / "decree56.bpmn"
NEW_LABEL = "Xác minh thông tin báo cáo (sửa đổi)"


def shipped() -> str:
    return SHIPPED.read_text(encoding="utf-8")


def renamed_and_extended(text: str | None = None) -> str:
    """Task_verify gets a new label; a chairman's closing step (Task_closing_note) comes before End_closed."""
    text = text or shipped()
    text = text.replace('<bpmn:userTask id="Task_verify" name="Xác minh thông tin">',
                        f'<bpmn:userTask id="Task_verify" name="{NEW_LABEL}">', 1)
    text = text.replace('<bpmn:flowNodeRef>Task_end_plan</bpmn:flowNodeRef>',
                        '<bpmn:flowNodeRef>Task_end_plan</bpmn:flowNodeRef>\n'
                        '        <bpmn:flowNodeRef>Task_closing_note</bpmn:flowNodeRef>', 1)
    flow = re.search(r'<bpmn:sequenceFlow id="Flow_plan_end__closed"[^>]*targetRef="End_closed"', text)
    assert flow, "the shipped file changed: update tests/processes/variants.py"
    text = text.replace(flow.group(0), flow.group(0).replace('targetRef="End_closed"',
                                                             'targetRef="Task_closing_note"'), 1)
    step = (
        '<bpmn:userTask id="Task_closing_note" name="Biên bản kết thúc hồ sơ (bước mới)">\n'
        '      <bpmn:extensionElements>\n'
        '        <spiffworkflow:properties>\n'
        '          <spiffworkflow:property name="form" value="needs_meeting"/>\n'
        '          <spiffworkflow:property name="step" value="closing_note"/>\n'
        '          <spiffworkflow:property name="article" value="Điều 30 NĐ 56/2017/NĐ-CP"/>\n'
        '          <spiffworkflow:property name="title_en" value="Closing minute (new step)"/>\n'
        '        </spiffworkflow:properties>\n'
        '      </bpmn:extensionElements>\n'
        '      <bpmn:incoming>Flow_plan_end__closed</bpmn:incoming>\n'
        '      <bpmn:outgoing>Flow_closing_note__closed</bpmn:outgoing>\n'
        '    </bpmn:userTask>\n'
        '    <bpmn:sequenceFlow id="Flow_closing_note__closed" sourceRef="Task_closing_note" targetRef="End_closed"/>\n'
        '    <bpmn:userTask id="Task_end_plan" ')
    return text.replace('<bpmn:userTask id="Task_end_plan" ', step, 1)


def renamed_id(old: str, new: str, text: str | None = None) -> str:
    """Element `old` is called `new` everywhere (as a modeler's id field would do)."""
    return re.sub(rf"\b{re.escape(old)}\b", new, text or shipped())


def broken(text: str | None = None) -> str:
    """A file the lint refuses: Task_verify names a form that does not exist."""
    text = text or shipped()
    return text.replace('<spiffworkflow:property name="form" value="verification"/>',
                        '<spiffworkflow:property name="form" value="verification_v9"/>', 1)
