"""Process definitions are checked before any case runs: hostile or malformed BPMN is refused."""

import pytest

from engine.deadlines import Rules
from engine.registry import ProcessError, load_definition
from engine.sandbox import RestrictedEnvironment, UnsafeCode, check

RULES = Rules.load()

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">
  <bpmn:process id="decree56_case" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="L" name="officer">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_verify</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Script_x</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_verify" name="Xác minh">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="form" value="{form}"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="Timer_verify" attachedToRef="Task_verify" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeDate>{timer}</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:scriptTask id="Script_x"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="Task_verify"/>
    <bpmn:sequenceFlow id="f2" sourceRef="Task_verify" targetRef="Script_x"/>
    <bpmn:sequenceFlow id="f3" sourceRef="Script_x" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def bpmn(form="verification", timer='deadline("verify")', script="x = 1"):
    return TEMPLATE.format(form=form, timer=timer, script=script)


def test_a_clean_definition_loads_with_its_step_table():
    definition = load_definition(bpmn(), "ok.bpmn", RULES)
    step = definition.step("Task_verify")
    assert (step.form, step.role, step.rule) == ("verification", "officer", "verify")
    assert len(definition.content_hash) == 64


@pytest.mark.parametrize("script", [
    'data = open("/etc/passwd").read()',
    "import os",
    "x = ().__class__.__bases__[0].__subclasses__()",
    'x = __import__("os").system("id")',
    'x = "{0.__class__}".format(1)',
    "x = getattr(1, 'real')",
    "exec('1')",
    "x = [c for c in ().__class__.__mro__]",
])
def test_hostile_scripts_are_refused_naming_file_and_element(script):
    with pytest.raises(ProcessError) as err:
        load_definition(bpmn(script=script), "hostile.bpmn", RULES)
    assert "hostile.bpmn" in str(err.value) and "Script_x" in str(err.value)


def test_hostile_timer_expression_is_refused():
    with pytest.raises(ProcessError, match="Timer_verify"):
        load_definition(bpmn(timer='__import__("os").getcwd()'), "t.bpmn", RULES)


def test_unknown_form_and_unknown_rule_are_refused():
    with pytest.raises(ProcessError, match="unknown form 'mau_99'"):
        load_definition(bpmn(form="mau_99"), "f.bpmn", RULES)
    with pytest.raises(ProcessError, match="unknown deadline rule 'nope'"):
        load_definition(bpmn(timer='deadline("nope")'), "r.bpmn", RULES)


def test_malformed_xml_gets_a_clear_message():
    with pytest.raises(ProcessError, match=r"broken.bpmn: XML không hợp lệ / malformed XML"):
        load_definition(bpmn()[:-40], "broken.bpmn", RULES)


def test_external_entities_are_not_resolved():
    xxe = bpmn().replace('<?xml version="1.0" encoding="UTF-8"?>',
                         '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>')
    xxe = xxe.replace('name="Xác minh"', 'name="&x;"')
    try:
        definition = load_definition(xxe, "xxe.bpmn", RULES)
    except ProcessError:
        return
    assert "root:" not in definition.step("Task_verify").title_vi


def test_runtime_sandbox_blocks_escapes_even_if_static_check_is_bypassed():
    env = RestrictedEnvironment()
    with pytest.raises(NameError):
        env.evaluate('open("/etc/passwd")', {})
    with pytest.raises(UnsafeCode):
        env.evaluate("().__class__", {})
    with pytest.raises(UnsafeCode):
        env.execute("import_ = __import__('os')", {})
    with pytest.raises(UnsafeCode):
        env.execute("import_ = eval('1')", {})
    with pytest.raises(NameError):
        env.execute("f = compile('1', 'x', 'eval')", {})
    assert env.evaluate('x["a"] > 1 and y', {"x": {"a": 2}, "y": True}) is True


def test_check_accepts_what_the_process_needs():
    for source in ['mau_02["emergency"] == True', 'deadline("plan")', 'len(x) > 0 and not y["k"]']:
        check(source)
    check('separation = {"start": a["s"], "end": b["e"]}', "exec")
