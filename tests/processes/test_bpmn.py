"""processes/decree56.bpmn and processes/deadlines.toml: structure, diagram interchange, and every branch driven
in memory with SpiffWorkflow (a plain PythonScriptEngine whose `deadline` is a fake)."""

from __future__ import annotations

import functools
import itertools
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, BpmnValidator, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import SignalEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.registry import prewire_event_subprocesses
from engine.runtime import run_engine_steps

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "processes" / "decree56.bpmn"
RULES = ROOT / "processes" / "deadlines.toml"
PROCESS_ID = "decree56_case"
PROCESS_NAME = "Quy trình bảo vệ trẻ em theo NĐ 56/2017/NĐ-CP"
ROLES = {"intake", "officer", "chairman", "partner", "supervisor"}
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
B = f"{{{NS['bpmn']}}}"

# step key -> (role, form, deadline rule or None): the table of the procedure
STEPS = {
    "police_referral": ("officer", "police_referral", "police_referral"),
    "police_outcome": ("officer", "police_outcome", None),
    "verify": ("officer", "verification", "verify"),
    "no_basis_signoff": ("chairman", "no_basis_signoff", "no_basis_signoff"),
    "initial_assessment": ("officer", "mau_02", "initial_assessment"),
    "emergency_decision": ("chairman", "emergency_measures", "emergency"),
    # the separation (Art. 32), an event subprocess that any point of an open case can start
    "separation_decision": ("chairman", "mau_07", "separation_decision"),
    "separation_review": ("chairman", "separation_review", "separation"),
    "separation_reassessment": ("officer", "mau_03", None),
    "court_request": ("chairman", "court_request", None),
    "court_decision": ("chairman", "court_decision", None),
    "detailed_assessment": ("officer", "mau_03", "plan"),
    "needs_meeting": ("officer", "needs_meeting", "plan"),
    "needs_meeting_signoff": ("chairman", "needs_meeting_signoff", None),
    "draft_plan": ("officer", "mau_04", "plan"),
    "draft_decision": ("officer", "mau_05", "plan"),
    "approve_plan": ("chairman", "plan_approval", "approval"),
    "carry_out_activity": ("partner", "activity_report", "activity"),
    # the plan adjustment while activities run (Art. 29.1a), an event subprocess
    "propose_adjustment": ("officer", "plan_adjustment", None),
    "approve_adjustment": ("chairman", "adjustment_approval", "adjustment_approval"),
    "review": ("officer", "mau_06", "review"),
    "end_plan": ("chairman", "plan_end", "plan_end"),
}
TIMED = {step for step, (_r, _f, rule) in STEPS.items() if rule}
EVENT_SUBPROCESSES = {"Sub_separation", "Sub_adjustment"}
# steps inside a subprocess: their lane is the subprocess's, a role property names who does them
IN_SUBPROCESS = {"carry_out_activity", "separation_decision", "separation_review", "approve_adjustment"}


# ------------------------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------------------------


@functools.cache
def xml_root() -> etree._Element:
    return etree.parse(str(BPMN)).getroot()


@functools.cache
def specs():
    parser = SpiffBpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN))
    return prewire_event_subprocesses(parser.get_spec(PROCESS_ID)), parser.get_subprocess_specs(PROCESS_ID)


@functools.cache
def rules() -> dict:
    return tomllib.loads(RULES.read_text(encoding="utf-8"))


def props(el: etree._Element) -> dict[str, str]:
    return {
        p.get("name"): p.get("value")
        for p in el.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
    }


def instructions(el: etree._Element) -> str:
    node = el.find("bpmn:extensionElements/spiffworkflow:instructionsForEndUser", NS)
    return (node.text or "").strip() if node is not None else ""


def user_tasks() -> list[etree._Element]:
    return list(xml_root().iter(f"{B}userTask"))


def by_id(element_id: str) -> etree._Element:
    return xml_root().xpath(f"//*[@id='{element_id}']")[0]


# ------------------------------------------------------------------------------------------------------------
# The definition
# ------------------------------------------------------------------------------------------------------------


def test_parses_and_validates_with_the_spiff_parser():
    spec, subprocesses = specs()
    assert spec.name == PROCESS_ID
    assert spec.description == PROCESS_NAME
    assert set(subprocesses) == {"Sub_intervention"} | EVENT_SUBPROCESSES
    # the stricter validator that also checks the spiffworkflow extension schema accepts it too
    strict = SpiffBpmnParser(validator=VALIDATOR)
    strict.add_bpmn_file(str(BPMN))
    assert strict.get_spec(PROCESS_ID).name == PROCESS_ID


def test_every_step_of_the_procedure_is_a_user_task_with_its_role_form_and_rule():
    spec, subprocesses = specs()
    task_specs = dict(spec.task_specs)
    for sub in subprocesses.values():
        task_specs.update(sub.task_specs)
    timers = {b.get("attachedToRef"): b for b in xml_root().iter(f"{B}boundaryEvent")}
    for step, (role, form, rule) in STEPS.items():
        task_spec = task_specs[f"Task_{step}"]
        p = task_spec.extensions["properties"]
        assert p["step"] == step
        assert p["form"] == form
        assert (p.get("role") or task_spec.lane) == role, step
        timer = timers.get(f"Task_{step}")
        if rule is None:
            assert timer is None, step
        else:
            expr = timer.find("bpmn:timerEventDefinition/bpmn:timeDate", NS).text
            assert expr == f'deadline("{rule}")', step


def test_user_tasks_carry_form_step_article_title_and_instructions():
    ids = set()
    for task in user_tasks():
        p = props(task)
        for key in ("form", "step", "article", "title_en"):
            assert p.get(key), (task.get("id"), key)
        assert task.get("id") == f"Task_{p['step']}"
        ids.add(task.get("id"))
        name = task.get("name") or ""
        assert re.search(r"[À-ỹĐđ]", name), f"{task.get('id')}: name should be Vietnamese: {name!r}"
        assert re.search(r"Điều \d+", p["article"]) and ("NĐ 56/2017/NĐ-CP" in p["article"]
                                                         or "Luật Trẻ em" in p["article"])
        text = instructions(task)
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s]
        assert 1 <= len(sentences) <= 3, (task.get("id"), text)
    assert {f"Task_{s}" for s in STEPS} <= ids


def test_start_event_opens_the_case_with_mau_01():
    start = by_id("Start_receive")
    assert start.tag == f"{B}startEvent"
    assert start.get("name") == "Tiếp nhận thông tin (Mẫu số 01)"
    assert props(start) == {"form": "mau_01", "step": "receive", "article": "Điều 25 NĐ 56/2017/NĐ-CP",
                            "title_en": "Receive the report (Form 01)"}
    lane = xml_root().xpath("//bpmn:lane[bpmn:flowNodeRef='Start_receive']", namespaces=NS)[0]
    assert lane.get("name") == "intake"


def test_every_time_limit_is_a_non_interrupting_timer_escalating_to_one_supervisor_task():
    boundaries = [b for b in xml_root().iter(f"{B}boundaryEvent") if b.find(f"{B}timerEventDefinition") is not None]
    assert {b.get("id") for b in boundaries} == {f"Timer_{s}" for s in TIMED}
    # the one other boundary event: an approved plan adjustment interrupts the activities (Art. 29.1a)
    others = [b for b in xml_root().iter(f"{B}boundaryEvent") if b not in boundaries]
    assert [(b.get("id"), b.get("attachedToRef"), b.get("cancelActivity")) for b in others] == [
        ("Boundary_plan_adjusted", "Sub_intervention", None)]
    flows = list(xml_root().iter(f"{B}sequenceFlow"))
    for b in boundaries:
        step = b.get("id").removeprefix("Timer_")
        assert b.get("cancelActivity") == "false"
        assert b.get("attachedToRef") == f"Task_{step}"
        assert b.find("bpmn:timerEventDefinition/bpmn:timeDate", NS) is not None
        out = [f for f in flows if f.get("sourceRef") == b.get("id")]
        assert [f.get("targetRef") for f in out] == [f"Task_escalate_{step}"]
        esc = by_id(f"Task_escalate_{step}")
        assert esc.tag == f"{B}userTask"
        p = props(esc)
        assert p["form"] == "escalation_ack"
        assert p["step"] == f"escalate_{step}"
        assert p["escalates"] == step
        assert p["role"] == "supervisor"
        assert p["article"] == props(by_id(f"Task_{step}"))["article"]
        after = [f.get("targetRef") for f in flows if f.get("sourceRef") == esc.get("id")]
        assert len(after) == 1 and by_id(after[0]).tag == f"{B}endEvent"
        if step not in IN_SUBPROCESS:  # inside a subprocess the role property does the work
            lane = xml_root().xpath(f"//bpmn:lane[bpmn:flowNodeRef='{esc.get('id')}']", namespaces=NS)[0]
            assert lane.get("name") == "supervisor"


def test_timer_rules_exist_and_every_rule_is_used():
    used = set()
    for expr in xml_root().iter(f"{B}timeDate"):
        m = re.fullmatch(r'deadline\("([a-z_]+)"\)', expr.text)
        assert m, expr.text
        used.add(m.group(1))
    defined = set(rules()["rules"])
    assert used <= defined, used - defined
    assert defined <= used, defined - used


def test_deadline_rules_are_well_formed():
    data = rules()
    assert data["calendar"]["office_close"] == "17:00"
    assert data["reminders"]["share"] == 0.75
    for name, rule in data["rules"].items():
        assert rule["kind"] in {"hours", "working_days", "date", "after_dates"}, name
        for key in ("label_vi", "label_en", "article"):
            assert isinstance(rule[key], str) and rule[key], (name, key)
        assert isinstance(rule["to_confirm"], bool), name
        if rule["kind"] == "date":
            assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", rule["field"]), name
            assert "amount" not in rule and "anchor" not in rule, name
        elif rule["kind"] == "after_dates":
            assert all(re.fullmatch(r"[a-z_0-9]+(\.[a-z_]+)+", d) for d in rule["dates"]), name
            assert isinstance(rule["amount"], int) and rule["amount"] >= 0 and "anchor" not in rule, name
        else:
            assert rule["amount"] > 0 and isinstance(rule["anchor"], list) and rule["anchor"], name
            # anchors are the receipt time or step keys (set when that step completes)
            # (separation_requested: the moment a separation request's information was received, Art. 32.2)
            assert set(rule["anchor"]) <= {"received_at", "separation_requested"} | set(STEPS), name
    r = data["rules"]
    assert (r["emergency"]["kind"], r["emergency"]["amount"], r["emergency"]["anchor"]) == ("hours", 12,
                                                                                          ["received_at"])
    assert r["emergency"]["to_confirm"] is False
    assert (r["plan"]["kind"], r["plan"]["amount"], r["plan"]["anchor"]) == ("working_days", 5,
                                                                             ["received_at", "review"])
    assert r["plan"]["to_confirm"] is True
    assert (r["separation"]["field"], r["separation"]["reminder_before_hours"]) == ("separation.end", 48)
    assert r["activity"]["field"] == "activity.end"
    # case56 policy (Art. 30 sets no interval): after the approved plan's last activity, or its planned date
    assert (r["review"]["kind"], r["review"]["dates"], r["review"]["field"], r["review"]["amount"]) == (
        "after_dates", ["mau_04.activities.end"], "mau_04.planned_review_on", 5)
    assert "case56" in r["review"]["label_vi"] and "case56" in r["review"]["policy"]


def test_lanes_are_the_role_keys():
    lanes = list(xml_root().iter(f"{B}lane"))
    assert [lane.get("name") for lane in lanes] == ["intake", "officer", "chairman", "partner", "supervisor"]
    spec, _subs = specs()
    for name, task_spec in spec.task_specs.items():
        if name.startswith("Task_"):
            assert task_spec.lane in ROLES, name


def test_exclusive_gateways_have_a_default_flow_and_conditions_on_the_others():
    flows = {f.get("id"): f for f in xml_root().iter(f"{B}sequenceFlow")}
    for gw in xml_root().iter(f"{B}exclusiveGateway"):
        out = [f for f in flows.values() if f.get("sourceRef") == gw.get("id")]
        assert gw.get("default") in {f.get("id") for f in out}, gw.get("id")
        for f in out:
            cond = f.find("bpmn:conditionExpression", NS)
            if f.get("id") == gw.get("default"):
                assert cond is None
            else:
                assert cond is not None and cond.text.strip(), f.get("id")


def test_expressions_stay_within_the_sandbox_conventions():
    # plain subscripts and comparisons: no .get(), no dunders, no imports, no item assignment
    texts = [e.text for e in xml_root().iter(f"{B}conditionExpression")]
    texts += [e.text for e in xml_root().iter(f"{B}script")]
    for text in texts:
        assert ".get(" not in text and "__" not in text and "import" not in text, text
        for line in text.splitlines():
            assert not re.match(r"\s*\w+\[.*\]\s*=[^=]", line), text  # no item assignment
    merges_into_tasks = {}
    for f in xml_root().iter(f"{B}sequenceFlow"):
        merges_into_tasks.setdefault(f.get("targetRef"), []).append(f.get("id"))
    for target, incoming in merges_into_tasks.items():
        if len(incoming) > 1:
            assert by_id(target).tag in {f"{B}exclusiveGateway", f"{B}parallelGateway"}, target


# ------------------------------------------------------------------------------------------------------------
# Diagram interchange
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def overlaps(self, other: Box, margin: float = 0) -> bool:
        return not (self.right + margin <= other.x or other.right + margin <= self.x
                    or self.bottom + margin <= other.y or other.bottom + margin <= self.y)

    def contains(self, other: Box) -> bool:
        return (self.x <= other.x and self.y <= other.y and other.right <= self.right
                and other.bottom <= self.bottom)


def _bounds(el) -> Box:
    return Box(*(float(el.get(k)) for k in ("x", "y", "width", "height")))


@functools.cache
def di():
    plane = xml_root().find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    shapes, labels, edges = {}, {}, {}
    for sh in plane.findall("bpmndi:BPMNShape", NS):
        shapes[sh.get("bpmnElement")] = _bounds(sh.find("dc:Bounds", NS))
        lb = sh.find("bpmndi:BPMNLabel/dc:Bounds", NS)
        if lb is not None:
            labels[sh.get("bpmnElement")] = _bounds(lb)
    for ed in plane.findall("bpmndi:BPMNEdge", NS):
        edges[ed.get("bpmnElement")] = [(float(w.get("x")), float(w.get("y")))
                                        for w in ed.findall("di:waypoint", NS)]
    return shapes, labels, edges


FLOW_NODE_TAGS = {f"{B}{t}" for t in ("userTask", "scriptTask", "startEvent", "endEvent", "boundaryEvent",
                                       "exclusiveGateway", "parallelGateway", "subProcess")}


def flow_nodes() -> list[etree._Element]:
    return [el for el in xml_root().iter() if el.tag in FLOW_NODE_TAGS]


def test_every_flow_node_lane_and_flow_has_di():
    shapes, _labels, edges = di()
    for el in flow_nodes():
        assert el.get("id") in shapes, el.get("id")
    for lane in xml_root().iter(f"{B}lane"):
        assert lane.get("id") in shapes
    for f in xml_root().iter(f"{B}sequenceFlow"):
        assert len(edges.get(f.get("id"), [])) >= 2, f.get("id")
    plane = xml_root().find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    sub = plane.find("bpmndi:BPMNShape[@bpmnElement='Sub_intervention']", NS)
    assert sub.get("isExpanded") == "true"


def _segment_hits(p: tuple[float, float], q: tuple[float, float], box: Box) -> bool:
    """Liang–Barsky: does the segment pq enter the box (shrunk by 1 px so touching is allowed)?"""
    x0, y0, x1, y1 = box.x + 1, box.y + 1, box.right - 1, box.bottom - 1
    dx, dy = q[0] - p[0], q[1] - p[1]
    t0, t1 = 0.0, 1.0
    for pk, qk in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if pk == 0:
            if qk < 0:
                return False
        else:
            t = qk / pk
            if pk < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    return t0 < t1


def test_layout_has_no_overlapping_shapes_and_no_flow_through_a_shape():
    shapes, labels, edges = di()
    nodes = {el.get("id"): el for el in flow_nodes()}
    parent_sub = {i: el.getparent().get("id") for i, el in nodes.items()
                  if el.getparent().tag == f"{B}subProcess"}
    attached = {i: el.get("attachedToRef") for i, el in nodes.items() if el.tag == f"{B}boundaryEvent"}

    def related(a: str, b: str) -> bool:
        return (attached.get(a) == b or attached.get(b) == a or parent_sub.get(a) == b
                or parent_sub.get(b) == a)

    problems = []
    for a, b in itertools.combinations(nodes, 2):
        if not related(a, b) and shapes[a].overlaps(shapes[b], margin=8):
            problems.append(f"shapes {a} and {b} overlap")
    for a, label in labels.items():
        for b in nodes:
            if b != a and not (b in parent_sub.values() and parent_sub.get(a) == b) \
                    and label.overlaps(shapes[b]):
                problems.append(f"label of {a} covers {b}")
    for f in xml_root().iter(f"{B}sequenceFlow"):
        src, tgt = f.get("sourceRef"), f.get("targetRef")
        allowed = {src, tgt, attached.get(src), parent_sub.get(src), parent_sub.get(tgt)}
        points = edges[f.get("id")]
        for p, q in itertools.pairwise(points):
            if p[0] != q[0] and p[1] != q[1]:
                problems.append(f"flow {f.get('id')} has a slanted segment")
            for n in nodes:
                if n not in allowed and _segment_hits(p, q, shapes[n]):
                    problems.append(f"flow {f.get('id')} crosses {n}")
        # the flow starts on its source's border and ends on its target's
        for end, node in ((points[0], src), (points[-1], tgt)):
            box = shapes[node]
            inside = box.x - 1 <= end[0] <= box.right + 1 and box.y - 1 <= end[1] <= box.bottom + 1
            on_border = min(abs(end[0] - box.x), abs(end[0] - box.right), abs(end[1] - box.y),
                            abs(end[1] - box.bottom)) <= 1
            if not (inside and on_border):
                problems.append(f"flow {f.get('id')} does not end on the border of {node}")
    assert not problems, "\n".join(problems)


def test_shapes_sit_in_their_lane_and_boundary_timers_on_the_task_bottom():
    shapes, _labels, _edges = di()
    for lane in xml_root().iter(f"{B}lane"):
        box = shapes[lane.get("id")]
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            assert box.contains(shapes[ref.text]), (lane.get("name"), ref.text)
    for lane_a, lane_b in itertools.combinations(list(xml_root().iter(f"{B}lane")), 2):
        assert not shapes[lane_a.get("id")].overlaps(shapes[lane_b.get("id")])
    sub = shapes["Sub_intervention"]
    for el in by_id("Sub_intervention"):
        if el.tag in FLOW_NODE_TAGS:
            assert sub.contains(shapes[el.get("id")]), el.get("id")
    for b in xml_root().iter(f"{B}boundaryEvent"):
        t, host = shapes[b.get("id")], shapes[b.get("attachedToRef")]
        cx, cy = t.x + t.w / 2, t.y + t.h / 2
        assert abs(cy - host.bottom) < 1 and host.x < cx < host.right, b.get("id")
    supervisor = shapes["Lane_supervisor"]
    for step in TIMED - IN_SUBPROCESS:
        assert supervisor.contains(shapes[f"Task_escalate_{step}"])
    for sub in EVENT_SUBPROCESSES:
        for el in by_id(sub):
            if el.tag in FLOW_NODE_TAGS:
                assert shapes[sub].contains(shapes[el.get("id")]), el.get("id")


def test_the_flow_reads_left_to_right():
    shapes, _labels, _edges = di()

    def x(node: str) -> float:
        return shapes[node].x

    path = ["Start_receive", "Task_verify", "Task_initial_assessment", "Task_emergency_decision",
            "Task_detailed_assessment", "Task_needs_meeting", "Task_draft_plan", "Task_draft_decision",
            "Task_approve_plan", "Sub_intervention", "Task_review", "Task_end_plan", "End_closed"]
    assert [x(n) for n in path] == sorted(x(n) for n in path)
    assert x("Task_police_referral") < x("Task_police_outcome")


# ------------------------------------------------------------------------------------------------------------
# Driving the workflow
# ------------------------------------------------------------------------------------------------------------

FAR = "2099-12-31T17:00:00+07:00"
PAST = "2000-01-03T17:00:00+07:00"
RECEIVED = "2026-03-02T09:30:00+07:00"
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def role_of(task) -> str:
    return task.task_spec.extensions.get("properties", {}).get("role") or task.task_spec.lane


def activities(n: int) -> list[dict]:
    return [{"measure": f"Hoạt động {i}", "level": "support", "assignee": f"partner{i}",
             "start": "2026-03-10", "end": f"2026-04-{10 + i:02d}"} for i in range(1, n + 1)]


class Case:
    """One case driven in memory. `deadline` is recorded and answered by `answer(rule)`."""

    def __init__(self, *, crime: bool = False, answer: Callable[[str], str] | None = None) -> None:
        self.asked: list[str] = []
        self.answer = answer or (lambda rule: FAR)

        def deadline(rule: str) -> str:
            self.asked.append(rule)
            return self.answer(rule)

        self.engine = PythonScriptEngine(environment=TaskDataEnvironment({"deadline": deadline}))
        spec, subprocesses = specs()
        self.wf = BpmnWorkflow(spec, subprocesses, script_engine=self.engine)
        start = self.wf.get_tasks(state=TaskState.READY)[0]
        start.data.update({
            "mau_01": {"category": "abused", "crime_suspected": crime, "channel": "phone",
                       "received_at": RECEIVED, "child": {"full_name": "Nguyễn Văn A"}},
            "anchors": {"received_at": RECEIVED},
            "case": {"commune": "00001", "number": "00001/2026/0001"},
        })
        run_engine_steps(self.wf)
        self.clock = 0

    # -- inspection --
    def ready(self) -> list:
        return [t for t in self.wf.get_tasks(state=TaskState.READY) if t.task_spec.manual]

    def ready_ids(self) -> list[str]:
        return sorted(t.task_spec.bpmn_id for t in self.ready())

    def reached(self, bpmn_id: str) -> bool:
        return any(t.task_spec.bpmn_id == bpmn_id for t in self.wf.get_tasks(state=TaskState.COMPLETED))

    def the(self, bpmn_id: str):
        found = [t for t in self.ready() if t.task_spec.bpmn_id == bpmn_id]
        assert len(found) == 1, (bpmn_id, self.ready_ids())
        return found[0]

    # -- acting, as the engine does --
    def complete(self, bpmn_id: str, data: dict, *, role: str | None = None, task=None) -> None:
        task = task or self.the(bpmn_id)
        p = task.task_spec.extensions["properties"]
        if role is not None:
            assert role_of(task) == role, (bpmn_id, role_of(task))
        self.clock += 1
        anchors = dict(task.data.get("anchors") or {})
        anchors[p["step"]] = f"2026-03-{2 + self.clock // 24:02d}T{self.clock % 24:02d}:00:00+07:00"
        task.data.update({p["form"]: data, "anchors": anchors})
        task.run()
        run_engine_steps(self.wf)

    def signal(self, name: str, payload: dict) -> None:
        """What the engine sends for the case page's actions (engine/separation.py)."""
        self.wf.send_event(BpmnEvent(SignalEventDefinition(name), payload=payload))
        run_engine_steps(self.wf)

    # -- steps --
    def verify(self, has_basis: bool = True):
        self.complete("Task_verify", {"has_basis": has_basis, "reason_no_basis": None if has_basis else "sai"},
                      role="officer")

    def assess(self, emergency: bool = False):
        self.complete("Task_initial_assessment", {"emergency": emergency, "danger": "..." if emergency else None},
                      role="officer")

    def emergency(self, separate: bool, start: str = "2026-03-02", end: str = "2026-03-16"):
        self.complete("Task_emergency_decision", {"separate": separate, "measures": ["safe_residence"]},
                      role="chairman")
        if separate:  # the Mẫu 07 decision the emergency measures asked for
            self.complete("Task_separation_decision", {"decision": "separate", "start": start, "end": end},
                          role="chairman")

    def plan(self, n_activities: int = 1, *, approve: bool = True):
        self.complete("Task_draft_plan", {"activities": activities(n_activities)}, role="officer")
        self.complete("Task_draft_decision", {"decision_text": "Phê duyệt kế hoạch"}, role="officer")
        self.complete("Task_approve_plan", {"decision": "approve" if approve else "return"}, role="chairman")

    def assess_in_detail(self):
        self.complete("Task_detailed_assessment", {"physical_state": "ổn"}, role="officer")
        self.complete("Task_needs_meeting", {"conclusions": "cần hỗ trợ"}, role="officer")
        self.complete("Task_needs_meeting_signoff", {"decision": "sign"}, role="chairman")

    def carry_out_all(self):
        for task in [t for t in self.ready() if t.task_spec.bpmn_id == "Task_carry_out_activity"]:
            self.complete("Task_carry_out_activity", {"status": "done", "for": task.data["activity"]["assignee"]},
                          role="partner", task=task)

    def review(self, close: bool):
        self.complete("Task_review", {"conclusion": "close" if close else "replan"}, role="officer")

    def end_plan(self, end: bool):
        self.complete("Task_end_plan", {"decision": "end" if end else "replan"}, role="chairman")

    def to_plan(self):
        self.verify(True)
        self.assess(False)
        self.assess_in_detail()


def test_no_basis_confirmed_by_the_chairman_ends_the_case():
    case = Case()
    assert case.ready_ids() == ["Task_verify"]
    case.verify(has_basis=False)
    assert case.ready_ids() == ["Task_no_basis_signoff"]
    case.complete("Task_no_basis_signoff", {"confirm": True}, role="chairman")
    assert case.wf.is_completed()
    assert case.reached("End_no_basis") and case.reached("End_no_crime")
    assert not case.reached("Task_initial_assessment")


def test_no_basis_sent_back_is_verified_again_and_goes_on():
    case = Case()
    case.verify(has_basis=False)
    case.complete("Task_no_basis_signoff", {"confirm": False, "note": "xác minh thêm"}, role="chairman")
    assert case.ready_ids() == ["Task_verify"]
    case.verify(has_basis=True)
    assert case.ready_ids() == ["Task_initial_assessment"]
    assert not case.reached("End_no_basis")
    assert case.asked.count("verify") == 2  # the timer of the second visit computed its deadline afresh


def test_no_emergency_runs_straight_to_closure():
    case = Case()
    case.verify(True)
    case.assess(emergency=False)
    assert case.ready_ids() == ["Task_detailed_assessment"]
    case.assess_in_detail()
    case.plan(1)
    case.carry_out_all()
    case.review(close=True)
    assert case.ready_ids() == ["Task_end_plan"]
    case.end_plan(end=True)
    assert case.wf.is_completed()
    assert case.reached("End_closed")
    assert not case.reached("Task_emergency_decision") and not case.reached("Task_police_referral")
    assert set(case.asked) == {"verify", "initial_assessment", "plan", "approval", "activity", "review",
                               "plan_end"}
    # a step done in time leaves no timer behind
    assert not case.wf.get_tasks(state=TaskState.WAITING)


def test_emergency_without_separation():
    case = Case()
    case.verify(True)
    case.assess(emergency=True)
    assert case.ready_ids() == ["Task_emergency_decision"]
    assert "emergency" in case.asked
    case.emergency(separate=False)
    assert case.ready_ids() == ["Task_detailed_assessment"]
    case.assess_in_detail()
    case.plan(1)
    case.carry_out_all()
    case.review(close=True)
    case.end_plan(end=True)
    assert case.wf.is_completed()
    assert not case.reached("Task_separation_review")


def test_emergency_with_separation_extended_then_cancelled():
    case = Case()
    case.verify(True)
    case.assess(emergency=True)
    case.complete("Task_emergency_decision", {"separate": True, "measures": []}, role="chairman")
    # the emergency measures (Art. 31) ask for a Mẫu 07 decision (Art. 32): 12 hours from the report's receipt
    assert case.ready_ids() == ["Task_detailed_assessment", "Task_separation_decision"]
    decision = case.the("Task_separation_decision")
    assert decision.data["anchors"]["separation_requested"] == RECEIVED
    assert "separation_decision" in case.asked
    case.complete("Task_separation_decision", {"decision": "separate", "start": "2026-03-02", "end": "2026-03-16"},
                  role="chairman")
    # the separation runs in parallel with the detailed assessment
    assert case.ready_ids() == ["Task_detailed_assessment", "Task_separation_review"]
    review = case.the("Task_separation_review")
    assert role_of(review) == "chairman"
    assert review.data["separation"] == {"start": "2026-03-02", "end": "2026-03-16"}
    assert case.asked.count("separation") == 1
    case.complete("Task_separation_review", {"action": "extend", "new_end": "2026-03-25", "reason": "…"},
                  role="chairman")
    review = case.the("Task_separation_review")
    assert review.data["separation"] == {"start": "2026-03-02", "end": "2026-03-25"}
    assert case.asked.count("separation") == 2
    # the social track goes all the way to the end of the plan while the separation lasts
    case.assess_in_detail()
    case.plan(1)
    case.carry_out_all()
    case.review(close=True)
    case.end_plan(end=True)
    assert case.reached("End_closed")
    assert not case.wf.is_completed()
    assert case.ready_ids() == ["Task_separation_review"]
    case.complete("Task_separation_review", {"action": "cancel", "reason": "gia đình bảo đảm an toàn"},
                  role="chairman")
    assert case.reached("End_separation")
    assert case.wf.is_completed()


def test_separation_requested_during_intervention_goes_to_court_and_continues():
    case = Case()
    case.to_plan()
    case.plan(2)
    # parents refuse the plan (Art. 32.1): the case page's action sends the signal while activities run
    case.signal("separation_requested", {"received_at": "2026-03-20T08:00:00+07:00", "trigger": "request"})
    assert case.ready_ids() == ["Task_carry_out_activity", "Task_carry_out_activity", "Task_separation_decision"]
    assert case.the("Task_separation_decision").data["anchors"]["separation_requested"] == "2026-03-20T08:00:00+07:00"
    case.complete("Task_separation_decision", {"decision": "separate", "start": "2026-03-20", "end": "2026-04-03"},
                  role="chairman")
    case.complete("Task_separation_review", {"action": "reassess"}, role="chairman")
    case.complete("Task_separation_reassessment", {"overall_risk": "cao"}, role="officer")
    case.complete("Task_separation_review", {"action": "court"}, role="chairman")
    case.complete("Task_court_request", {"requests": ["continue_separation"]}, role="chairman")
    case.complete("Task_court_decision", {"outcome": "granted", "until": "2026-05-01", "decision_number": "3/QĐ"},
                  role="chairman")
    review = case.the("Task_separation_review")
    assert review.data["separation"] == {"start": "2026-03-20", "end": "2026-05-01", "court": "3/QĐ"}
    case.complete("Task_separation_review", {"action": "cancel"}, role="chairman")
    assert case.reached("End_separation")
    case.carry_out_all()
    assert case.ready_ids() == ["Task_review"]


def test_a_declined_separation_and_a_rejected_court_request():
    case = Case()
    case.verify(True)
    case.signal("separation_requested", {"received_at": "2026-03-02T10:00:00+07:00"})
    case.complete("Task_separation_decision", {"decision": "decline"}, role="chairman")
    assert case.reached("End_separation_declined")
    case.signal("separation_requested", {"received_at": "2026-03-03T10:00:00+07:00"})
    case.complete("Task_separation_decision", {"decision": "separate", "start": "2026-03-03", "end": "2026-03-10"})
    case.complete("Task_separation_review", {"action": "court"})
    case.complete("Task_court_request", {})
    case.complete("Task_court_decision", {"outcome": "rejected"})
    assert case.the("Task_separation_review").data["separation"] == {"start": "2026-03-03", "end": "2026-03-10"}


def test_the_chairman_returns_the_meeting_minute_then_signs_it():
    case = Case()
    case.verify(True)
    case.assess(False)
    case.complete("Task_detailed_assessment", {}, role="officer")
    case.complete("Task_needs_meeting", {}, role="officer")
    case.complete("Task_needs_meeting_signoff", {"decision": "return", "comments": "Thiếu người tham dự"},
                  role="chairman")
    assert case.ready_ids() == ["Task_needs_meeting"]
    case.complete("Task_needs_meeting", {}, role="officer")
    case.complete("Task_needs_meeting_signoff", {"decision": "sign"}, role="chairman")
    assert case.ready_ids() == ["Task_draft_plan"]


def test_a_plan_adjustment_approved_restarts_the_activities_under_the_new_version():
    case = Case()
    case.to_plan()
    case.plan(2)
    first = case.ready()[0]
    case.complete("Task_carry_out_activity", {"status": "done"}, task=first)
    case.signal("adjustment_requested", {"requested_by": "canbo"})
    case.complete("Task_propose_adjustment", {"activities": activities(3), "planned_review_on": None,
                                              "reason": "Trẻ chuyển trường"}, role="officer")
    assert "adjustment_approval" in case.asked
    case.complete("Task_approve_adjustment", {"decision": "approve"}, role="chairman")
    running = [t for t in case.ready() if t.task_spec.bpmn_id == "Task_carry_out_activity"]
    assert sorted(t.data["activity"]["assignee"] for t in running) == ["partner1", "partner2", "partner3"]
    assert running[0].data["mau_04"]["activities"] == activities(3)
    assert case.reached("End_adjusted")
    case.carry_out_all()
    assert case.ready_ids() == ["Task_review"]


def test_a_plan_adjustment_refused_leaves_the_plan_running():
    case = Case()
    case.to_plan()
    case.plan(2)
    before = sorted(str(t.id) for t in case.ready())
    case.signal("adjustment_requested", {})
    case.complete("Task_propose_adjustment", {"activities": activities(1), "planned_review_on": None})
    case.complete("Task_approve_adjustment", {"decision": "refuse", "comments": "Chưa cần"}, role="chairman")
    assert case.reached("End_adjustment_refused")
    assert sorted(str(t.id) for t in case.ready()) == before


def test_plan_returned_for_revision_then_approved():
    case = Case()
    case.to_plan()
    case.plan(2, approve=False)
    assert case.ready_ids() == ["Task_draft_plan"]
    assert case.the("Task_draft_plan").data["plan_approval"] == {"decision": "return"}
    case.plan(2, approve=True)
    assert case.ready_ids() == ["Task_carry_out_activity"] * 2


def test_review_replan_runs_a_second_cycle_then_closes():
    case = Case()
    case.to_plan()
    case.plan(2)
    case.carry_out_all()
    case.review(close=False)
    assert case.ready_ids() == ["Task_draft_plan"]
    case.plan(1)
    # the second intervention has exactly the new plan's activity
    carry = [t for t in case.ready() if t.task_spec.bpmn_id == "Task_carry_out_activity"]
    assert [t.data["activity"]["assignee"] for t in carry] == ["partner1"]
    case.carry_out_all()
    review = case.the("Task_review")
    assert len(review.data["activity_results"]) == 1
    assert "activity" not in review.data and "activity_result" not in review.data
    case.review(close=True)
    case.end_plan(end=True)
    assert case.wf.is_completed()
    assert case.asked.count("plan") == 2 + 2 + 2  # 4 plan steps in cycle 1, 2 in cycle 2
    assert case.asked.count("review") == 2


def test_chairman_sends_the_plan_back_at_the_end_then_closes():
    case = Case()
    case.to_plan()
    case.plan(1)
    case.carry_out_all()
    case.review(close=True)
    case.end_plan(end=False)
    assert case.ready_ids() == ["Task_draft_plan"]
    case.plan(1)
    case.carry_out_all()
    case.review(close=True)
    case.end_plan(end=True)
    assert case.wf.is_completed()


def test_a_crime_opens_a_parallel_police_track_that_never_blocks():
    case = Case(crime=True)
    assert case.ready_ids() == ["Task_police_referral", "Task_verify"]
    assert role_of(case.the("Task_police_referral")) == "officer"
    assert "police_referral" in case.asked
    # the whole social track runs while the referral waits
    case.to_plan()
    case.plan(1)
    case.carry_out_all()
    case.review(close=True)
    case.end_plan(end=True)
    assert case.reached("End_closed")
    assert case.ready_ids() == ["Task_police_referral"]
    assert not case.wf.is_completed()
    case.complete("Task_police_referral", {"police_unit": "Công an xã"}, role="officer")
    assert case.ready_ids() == ["Task_police_outcome"]
    case.complete("Task_police_outcome", {"outcome": "prosecuted"}, role="officer")
    assert case.reached("End_police") and not case.reached("End_no_crime")
    assert case.wf.is_completed()


def test_the_police_track_can_finish_first():
    case = Case(crime=True)
    case.complete("Task_police_referral", {"police_unit": "Công an xã"}, role="officer")
    case.complete("Task_police_outcome", {"outcome": "not_prosecuted"}, role="officer")
    assert case.ready_ids() == ["Task_verify"]
    case.verify(False)
    case.complete("Task_no_basis_signoff", {"confirm": True}, role="chairman")
    assert case.wf.is_completed()


def test_three_activities_make_three_partner_tasks_each_with_its_activity():
    case = Case()
    case.to_plan()
    case.plan(3)
    carry = [t for t in case.ready() if t.task_spec.bpmn_id == "Task_carry_out_activity"]
    assert len(carry) == 3
    assert sorted(t.data["activity"]["assignee"] for t in carry) == ["partner1", "partner2", "partner3"]
    for t in carry:
        assert role_of(t) == "partner" and t.task_spec.lane == "partner"
        assert t.task_spec.extensions["properties"]["assignee_expr"] == 'activity["assignee"]'
        assert case.engine.evaluate(t, 'activity["assignee"]') == t.data["activity"]["assignee"]
    assert case.asked.count("activity") == 3
    # finish them in reverse order: the review waits for the last one
    for i, t in enumerate(reversed(carry)):
        assert case.ready_ids().count("Task_review") == 0
        case.complete("Task_carry_out_activity", {"status": "done", "n": i}, role="partner", task=t)
    review = case.the("Task_review")
    results = review.data["activity_results"]
    assert sorted(r["activity"]["assignee"] for r in results) == ["partner1", "partner2", "partner3"]
    by_assignee = {r["activity"]["assignee"]: r["report"]["n"] for r in results}
    assert by_assignee == {"partner3": 0, "partner2": 1, "partner1": 2}


def test_a_past_deadline_escalates_at_once_to_the_supervisor_without_interrupting():
    case = Case(answer=lambda rule: PAST if rule == "verify" else FAR)
    assert case.ready_ids() == ["Task_escalate_verify", "Task_verify"]
    esc = case.the("Task_escalate_verify")
    assert esc.task_spec.lane == "supervisor" and role_of(esc) == "supervisor"
    assert esc.task_spec.extensions["properties"]["escalates"] == "verify"
    # non-interrupting: the officer's task is still there and still completes normally
    assert case.the("Task_verify").state == TaskState.READY
    case.verify(True)
    assert case.ready_ids() == ["Task_escalate_verify", "Task_initial_assessment"]
    case.complete("Task_escalate_verify", {"note": "đã đôn đốc"}, role="supervisor")
    assert case.ready_ids() == ["Task_initial_assessment"]
    assert case.reached("End_escalate_verify")


def test_an_overdue_activity_escalates_inside_the_intervention():
    case = Case(answer=lambda rule: PAST if rule == "activity" else FAR)
    case.to_plan()
    case.plan(2)
    esc = [t for t in case.ready() if t.task_spec.bpmn_id == "Task_escalate_carry_out_activity"]
    assert len(esc) == 2
    # inherits the partner lane from the subprocess; the role property sends it to the supervisor
    assert {t.task_spec.lane for t in esc} == {"partner"}
    assert {role_of(t) for t in esc} == {"supervisor"}
    assert sorted(t.data["activity"]["assignee"] for t in esc) == ["partner1", "partner2"]
    case.complete("Task_escalate_carry_out_activity", {"note": "ok"}, role="supervisor", task=esc[0])
    case.carry_out_all()
    # Each branch ends with its activity's report (a terminate end event): an acknowledgement still open is
    # cancelled rather than holding up the review.
    assert case.ready_ids() == ["Task_review"]
    assert esc[1].state == TaskState.CANCELLED


def test_serialization_round_trips_mid_case():
    case = Case(crime=True)
    case.verify(True)
    case.assess(emergency=True)
    case.emergency(separate=True)
    case.assess_in_detail()
    case.plan(3)
    before = sorted((t.task_spec.bpmn_id, str(t.id)) for t in case.ready())
    data = SERIALIZER.serialize_json(case.wf)
    restored = SERIALIZER.deserialize_json(data)
    restored.script_engine = case.engine
    case.wf = restored
    assert sorted((t.task_spec.bpmn_id, str(t.id)) for t in case.ready()) == before
    assert SERIALIZER.serialize_json(restored) == data
    assert [t.task_spec.bpmn_id for t in case.ready()].count("Task_carry_out_activity") == 3
    # the restored workflow runs on to the end
    case.carry_out_all()
    case.review(close=True)
    case.end_plan(end=True)
    case.complete("Task_separation_review", {"action": "cancel", "reason": "an toàn"}, role="chairman")
    case.complete("Task_police_referral", {"police_unit": "Công an xã"}, role="officer")
    case.complete("Task_police_outcome", {"outcome": "prosecuted"}, role="officer")
    assert case.wf.is_completed()


@pytest.mark.parametrize("step", sorted(TIMED))
def test_each_timed_step_escalates_when_its_rule_is_past(step):
    """Drive to the step with only its rule in the past: the escalation is ready beside the step."""
    rule = STEPS[step][2]
    case = Case(crime=(step == "police_referral"), answer=lambda r: PAST if r == rule else FAR)
    drive = {
        "police_referral": [],
        "verify": [],
        "no_basis_signoff": [lambda c: c.verify(False)],
        "initial_assessment": [lambda c: c.verify(True)],
        "emergency_decision": [lambda c: c.verify(True), lambda c: c.assess(True)],
        "separation_decision": [lambda c: c.verify(True), lambda c: c.assess(True),
                                lambda c: c.complete("Task_emergency_decision", {"separate": True})],
        "separation_review": [lambda c: c.verify(True), lambda c: c.assess(True), lambda c: c.emergency(True)],
        "detailed_assessment": [lambda c: c.verify(True), lambda c: c.assess(False)],
        "needs_meeting": [lambda c: c.verify(True), lambda c: c.assess(False),
                          lambda c: c.complete("Task_detailed_assessment", {})],
        "draft_plan": [Case.to_plan],
        "draft_decision": [Case.to_plan, lambda c: c.complete("Task_draft_plan", {"activities": activities(1)})],
        "approve_plan": [Case.to_plan, lambda c: c.complete("Task_draft_plan", {"activities": activities(1)}),
                         lambda c: c.complete("Task_draft_decision", {})],
        "carry_out_activity": [Case.to_plan, lambda c: c.plan(1)],
        "review": [Case.to_plan, lambda c: c.plan(1), Case.carry_out_all],
        "end_plan": [Case.to_plan, lambda c: c.plan(1), Case.carry_out_all, lambda c: c.review(True)],
        "approve_adjustment": [Case.to_plan, lambda c: c.plan(1), lambda c: c.signal("adjustment_requested", {}),
                               lambda c: c.complete("Task_propose_adjustment", {"activities": activities(1),
                                                                                "planned_review_on": None})],
    }[step]
    for action in drive:
        for t in [t for t in case.ready() if t.task_spec.bpmn_id.startswith("Task_escalate_")]:
            case.complete(t.task_spec.bpmn_id, {}, task=t)  # acknowledge earlier escalations of the plan rule
        action(case)
    ready = case.ready_ids()
    assert f"Task_{step}" in ready, ready
    escalations = [t for t in case.ready() if t.task_spec.bpmn_id == f"Task_escalate_{step}"]
    assert len(escalations) == 1, ready
    assert role_of(escalations[0]) == "supervisor"
    assert escalations[0].task_spec.extensions["properties"]["escalates"] == step
