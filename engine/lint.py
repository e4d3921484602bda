"""`case56 process lint`: what the domain requires of a BPMN file beyond BPMN validity.

Unlike `registry.load_definition`, which stops at the first problem, the lint reports every problem it finds,
each naming its rule, the element id and the line, so an analyst can fix a modeler's save in one pass:

  bpmn       the XML parses, validates against the BPMN schema and SpiffWorkflow can build it
  lane       every lane is a role; every user task is in a role's lane (or has a `role` property)
  form       every form named (user tasks, the start event) exists, in the `form_version` given if any
  article    every user task cites its legal article
  timer      every timer reads deadline("rule") with a rule of processes/deadlines.toml
  condition  every gateway's outgoing condition is a sandbox-valid expression over known variables and
             form fields; every script is sandbox-valid
  dead_end   every flow node can reach an end event of its (sub)process
  reachable  every flow node can be reached from a start event of its (sub)process
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

import forms
from engine import sandbox
from engine.deadlines import Rules
from engine.registry import _DEADLINE, NS, ROLES, ProcessError, load_definition

BPMN = NS["bpmn"]
RULES = ("bpmn", "lane", "form", "article", "timer", "condition", "dead_end", "reachable")
_FLOW_NODES = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
               "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
               "businessRuleTask", "callActivity", "subProcess", "transaction", "exclusiveGateway",
               "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
# Names a condition may use besides forms and the variables scripts assign: what the engine puts in every case.
_CASE_VARIABLES = {"anchors", "case", "True", "False", "None"} | set(sandbox.SAFE_FUNCTIONS)


@dataclass(frozen=True)
class Finding:
    rule: str
    element: str
    line: int | None
    message_vi: str
    message_en: str

    def text(self, file_name: str, locale: str = "vi") -> str:
        where = f"{file_name}:{self.line}" if self.line else file_name
        message = self.message_en if locale == "en" else self.message_vi
        return f"{where}: [{self.rule}] <{self.element}> {message}"


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _props(node: etree._Element) -> dict[str, str]:
    return {p.get("name"): p.get("value", "") for p in
            node.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)}


class _Linter:
    def __init__(self, root: etree._Element, rules: Rules, roles: tuple[str, ...] = ROLES) -> None:
        self.root = root
        self.rules = rules
        self.roles = roles
        self.findings: list[Finding] = []

    def add(self, rule: str, node: etree._Element, vi: str, en: str) -> None:
        self.findings.append(Finding(rule, node.get("id") or _local(node), node.sourceline, vi, en))

    def iter(self, tag: str) -> list[etree._Element]:
        return list(self.root.iter(f"{{{BPMN}}}{tag}"))

    # -- lanes and roles -------------------------------------------------------------------------------------
    def lanes(self) -> None:
        in_lane: dict[str, str] = {}
        for lane in self.iter("lane"):
            if lane.get("name") not in self.roles:
                self.add("lane", lane,
                         f"tên làn {lane.get('name')!r} không phải một vai trò ({', '.join(self.roles)})",
                         f"lane name {lane.get('name')!r} is not a role ({', '.join(self.roles)})")
                continue
            for ref in lane.findall("bpmn:flowNodeRef", NS):
                in_lane[(ref.text or "").strip()] = lane.get("name")
        for task in self.iter("userTask"):
            role = _props(task).get("role")
            node, lane = task, None
            while node is not None and lane is None:  # a task inside a subprocess takes the subprocess's lane
                lane = in_lane.get(node.get("id") or "")
                node = node.getparent()
            if role is not None and role not in self.roles:
                self.add("lane", task, f"thuộc tính role {role!r} không phải một vai trò",
                         f"property role {role!r} is not a role")
            elif role is None and lane is None:
                self.add("lane", task, "bước không nằm trong làn của vai trò nào (và không có thuộc tính role)",
                         "the step is in no role's lane (and has no role property)")

    # -- forms and articles ------------------------------------------------------------------------------------
    def forms_and_articles(self) -> None:
        known = set(forms.names())
        for node in self.iter("userTask") + self.iter("startEvent"):
            props = _props(node)
            if _local(node) == "startEvent" and "form" not in props:
                continue
            form = props.get("form")
            if not form:
                self.add("form", node, "bước không ghi biểu mẫu (thuộc tính form)",
                         "the step names no form (property form)")
            elif form not in known:
                self.add("form", node, f"không có biểu mẫu {form!r}", f"no form {form!r}")
            elif props.get("form_version") and props["form_version"] not in {str(v) for v in forms.versions(form)}:
                self.add("form", node, f"biểu mẫu {form!r} không có phiên bản {props['form_version']}",
                         f"form {form!r} has no version {props['form_version']}")
            if _local(node) == "userTask" and not props.get("article", "").strip():
                self.add("article", node, "bước không dẫn điều khoản (thuộc tính article)",
                         "the step cites no article (property article)")

    # -- timers ------------------------------------------------------------------------------------------------
    def timers(self) -> None:
        for definition in self.iter("timerEventDefinition"):
            event = definition.getparent()
            expressions = [e for e in definition if _local(e) in ("timeDate", "timeDuration", "timeCycle")]
            match = _DEADLINE.match(expressions[0].text or "") if expressions else None
            if not match:
                self.add("timer", event, 'thời hạn phải viết deadline("tên quy tắc")',
                         'a time limit must read deadline("rule")')
            elif match.group(1) not in self.rules.rules:
                self.add("timer", event, f"không có quy tắc thời hạn {match.group(1)!r} trong processes/deadlines.toml",
                         f"no deadline rule {match.group(1)!r} in processes/deadlines.toml")

    # -- conditions and scripts --------------------------------------------------------------------------------
    def _assigned(self) -> set[str]:
        names: set[str] = set()
        for script in self.iter("script"):
            try:
                tree = ast.parse(script.text or "")
            except SyntaxError:
                continue
            names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        for item in self.iter("inputDataItem") + self.iter("outputDataItem"):
            names.add(item.get("name") or item.get("id") or "")
        return names

    def conditions(self) -> None:
        for script in self.iter("script"):
            try:
                sandbox.check(script.text or "", "exec")
            except sandbox.UnsafeCode as exc:
                self.add("condition", script.getparent(), f"đoạn mã ngoài giới hạn cho phép: {exc}",
                         f"script outside the sandbox: {exc}")
        known_forms = set(forms.names())
        variables = _CASE_VARIABLES | known_forms | self._assigned()
        gateways = {g.get("id") for g in self.root.iter() if _local(g).endswith("Gateway")}
        for flow in self.iter("sequenceFlow"):
            condition = flow.find("bpmn:conditionExpression", NS)
            if condition is None:
                continue
            source = (condition.text or "").strip()
            if flow.get("sourceRef") not in gateways:
                self.add("condition", flow, "điều kiện chỉ đặt trên luồng ra của cổng rẽ nhánh",
                         "conditions belong on a gateway's outgoing flows")
                continue
            try:
                sandbox.check(source, "eval")
            except sandbox.UnsafeCode as exc:
                self.add("condition", flow, f"điều kiện không hợp lệ: {exc}", f"invalid condition: {exc}")
                continue
            for node in ast.walk(ast.parse(source, mode="eval")):
                if isinstance(node, ast.Name) and node.id not in variables:
                    self.add("condition", flow, f"điều kiện dùng biến không có trong hồ sơ: {node.id!r}",
                             f"the condition uses a variable the case does not have: {node.id!r}")
                if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
                        and node.value.id in known_forms and isinstance(node.slice, ast.Constant)):
                    fields = forms.get(node.value.id).schema().fields
                    if node.slice.value not in fields:
                        self.add("condition", flow,
                                 f"biểu mẫu {node.value.id!r} không có trường {node.slice.value!r}",
                                 f"form {node.value.id!r} has no field {node.slice.value!r}")

    # -- the graph: every node reaches an end and is reached from a start --------------------------------------
    def graph(self) -> None:
        scopes = self.iter("process") + self.iter("subProcess")
        for scope in scopes:
            nodes = {n.get("id"): n for n in scope if _local(n) in _FLOW_NODES}
            if not nodes:
                continue
            succ: dict[str, set[str]] = {n: set() for n in nodes}
            for flow in scope:
                if _local(flow) == "sequenceFlow" and flow.get("sourceRef") in succ:
                    succ[flow.get("sourceRef")].add(flow.get("targetRef"))
            ends = {i for i, n in nodes.items() if _local(n) == "endEvent"}
            starts = {i for i, n in nodes.items() if _local(n) == "startEvent"}
            # A step must end through its own flows: a non-interrupting timer's escalation path does not count.
            reaches_end = _closure(ends, {n: {s for s, t in succ.items() if n in t} for n in nodes})
            for node_id, node in nodes.items():  # a boundary event is reached when its step is
                if _local(node) == "boundaryEvent" and node.get("attachedToRef") in succ:
                    succ[node.get("attachedToRef")].add(node_id)
            reached = _closure(starts, succ)
            for node_id, node in nodes.items():
                if node.get("triggeredByEvent") == "true":  # an event subprocess: its start event starts it
                    continue
                if node_id not in reaches_end:
                    self.add("dead_end", node, "không có đường nào từ đây tới một sự kiện kết thúc",
                             "no path leads from here to an end event")
                if node_id not in reached:
                    self.add("reachable", node, "không có đường nào từ sự kiện bắt đầu tới đây",
                             "no path leads here from a start event")

    def run(self) -> list[Finding]:
        self.lanes()
        self.forms_and_articles()
        self.timers()
        self.conditions()
        self.graph()
        return self.findings


def _closure(seeds: set[str], edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(seeds), list(seeds)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def executable_process_id(root: etree._Element) -> str | None:
    """The id of the file's executable process (the one cases run)."""
    for process in root.iter(f"{{{BPMN}}}process"):
        if process.get("isExecutable") == "true":
            return process.get("id")
    return None


def parse(raw: bytes) -> etree._Element:
    """Parse untrusted XML: no entities resolved, no network, no DTD (XXE and entity expansion refused)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    root = etree.fromstring(raw, parser)
    if root.getroottree().docinfo.internalDTD is not None or root.getroottree().docinfo.doctype:
        raise etree.XMLSyntaxError("DOCTYPE is not allowed", None, 0, 0, "")
    return root


def lint(raw: bytes, file_name: str, rules: Rules, roles: tuple[str, ...] = ROLES) -> list[Finding]:
    """Every problem of one BPMN text, in file order; `roles`: the lanes the process may have."""
    try:
        root = parse(raw)
    except etree.XMLSyntaxError as exc:
        return [Finding("bpmn", "xml", exc.lineno or None, f"XML không hợp lệ: {exc}", f"malformed XML: {exc}")]
    if _local(root) != "definitions" or etree.QName(root).namespace != BPMN:
        return [Finding("bpmn", _local(root), root.sourceline, "tệp không phải BPMN 2.0 (bpmn:definitions)",
                        "not a BPMN 2.0 file (bpmn:definitions)")]
    findings = _Linter(root, rules, roles).run()
    process_id = executable_process_id(root)
    if process_id is None:
        findings.append(Finding("bpmn", "definitions", root.sourceline, "không có quy trình nào isExecutable=\"true\"",
                                "no process is isExecutable=\"true\""))
    elif not findings:  # SpiffWorkflow's own validation (schema, structure) once the domain rules hold
        try:
            load_definition(raw, file_name, rules, process_id, roles)
        except ProcessError as exc:
            findings.append(Finding("bpmn", process_id, _line_of(str(exc)), f"SpiffWorkflow từ chối tệp: {exc}",
                                    f"SpiffWorkflow refuses the file: {exc}"))
    return sorted(findings, key=lambda f: (f.line or 0, f.rule))


def _line_of(message: str) -> int | None:
    marker = "(line "
    if marker in message:
        digits = message.split(marker, 1)[1].split(")", 1)[0]
        return int(digits) if digits.isdigit() else None
    return None


def lint_file(path: Path, rules: Rules) -> list[Finding]:
    return lint(path.read_bytes(), path.name, rules)
