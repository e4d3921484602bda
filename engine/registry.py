"""The process registry: loads, checks and versions the BPMN definitions.

A definition is refused before any case runs if its XML is malformed, it does not validate as BPMN, a
step names an unknown form, a timer names an unknown deadline rule, or any expression steps outside the
sandbox; the error names the file and the element. Each distinct file content is a version (its SHA-256):
running cases keep the workflow they were serialized with, new cases take the active one (`active`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import BpmnValidator, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from sqlalchemy import Integer, bindparam, select
from sqlalchemy.orm import Session

import forms
from engine import audit, clock, sandbox
from engine.deadlines import Rules
from engine.models import ProcessVersion, ProvinceProcessVersion

PROCESS_DIR = Path(__file__).resolve().parent.parent / "processes"
PROCESS_ID = "decree56_case"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
ROLES = ("intake", "officer", "chairman", "partner", "supervisor")
_DEADLINE = re.compile(r"""^\s*deadline\(\s*["']([A-Za-z0-9_]+)["']\s*\)\s*$""")


# SpiffWorkflow's converters, used here only to restore the specs the parser made (see `_restored`).
_SPEC_CODEC = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG)).registry


def _restored(spec: BpmnProcessSpec) -> BpmnProcessSpec:
    """The spec as SpiffWorkflow's serializer restores it. Its spec restore also wires runtime behaviour that a
    freshly parsed spec only gets when a task first runs (a multi-instance child's completion is connected to
    its parent there): specs taken straight from the parser made a workflow loaded in a fresh process
    strand its intervention. Restored once per process version, so every load behaves the same."""
    return _SPEC_CODEC.restore(_SPEC_CODEC.convert(spec))


def prewire_event_subprocesses(spec: BpmnProcessSpec) -> BpmnProcessSpec:
    """Connect the process's event subprocesses (BPMN triggeredByEvent: a separation, a plan adjustment) to its
    start and end the way SpiffWorkflow 3.2.0 does on their first trigger (BpmnStartTask.trigger_wf), but without
    listing them among the start's outputs. Left to the first trigger, that connection changes the shared spec:
    every workflow started from it afterwards would open the event subprocess at once and never finish."""
    start = spec.start
    for name in getattr(start, "trigger_specs", ()):
        sub = spec.task_specs[name]
        if start not in sub.inputs:
            sub.inputs = [*sub.inputs, start]
            sub.connect(spec.end)
    return spec


class ProcessError(ValueError):
    """A process definition that cannot be used; the message names the file and the element."""


@dataclass(frozen=True)
class Step:
    """What the engine and the UI need to know about one user task (or the start form)."""

    spec_name: str
    step: str
    title_vi: str
    title_en: str
    form: str
    role: str
    article: str
    instructions: str
    rule: str | None = None
    escalates: str | None = None
    assignee_expr: str | None = None
    # A step on a track that goes on after the case closes (the police track, Art. 25.3): closing the case
    # cancels every other open step.
    track: str | None = None


@dataclass
class Definition:
    """One version of a process: its file, spec objects and step table."""

    process_id: str
    file_name: str
    content_hash: str
    xml: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    steps: dict[str, Step] = field(default_factory=dict)
    version_id: int | None = None

    def step(self, spec_name: str) -> Step | None:
        return self.steps.get(spec_name)


def _properties(node: etree._Element) -> dict[str, str]:
    return {
        p.get("name"): p.get("value", "")
        for p in node.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
    }


def _where(file_name: str, node: etree._Element) -> str:
    return f"{file_name}: <{etree.QName(node).localname} id={node.get('id')!r}> (line {node.sourceline})"


def _steps(file_name: str, root: etree._Element, rules: Rules, roles: tuple[str, ...] = ROLES) -> dict[str, Step]:
    """Read the step table from the XML and check forms, rules, roles (`roles`: those the process may give
    steps to) and every expression."""
    lane_of: dict[str, str] = {}
    for lane in root.iter(f"{{{NS['bpmn']}}}lane"):
        if lane.get("name") not in roles:
            raise ProcessError(f"{_where(file_name, lane)}: lane name must be one of {roles}")
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            lane_of[(ref.text or "").strip()] = lane.get("name")

    def inherited_lane(node: etree._Element) -> str | None:
        while node is not None:
            if node.get("id") in lane_of:
                return lane_of[node.get("id")]
            node = node.getparent()
        return None

    timers: dict[str, str] = {}
    for boundary in root.iter(f"{{{NS['bpmn']}}}boundaryEvent"):
        for expr in boundary.findall("bpmn:timerEventDefinition/*", NS):
            match = _DEADLINE.match(expr.text or "")
            if not match:
                raise ProcessError(f"{_where(file_name, boundary)}: a time limit must read deadline(\"rule\")")
            if match.group(1) not in rules.rules:
                raise ProcessError(f"{_where(file_name, boundary)}: unknown deadline rule {match.group(1)!r}")
            timers[boundary.get("attachedToRef")] = match.group(1)

    # Every piece of code in the file passes the sandbox check.
    for tag, mode in (("conditionExpression", "eval"), ("script", "exec"), ("timeDate", "eval"),
                      ("timeDuration", "eval"), ("timeCycle", "eval"), ("loopDataInputRef", "eval")):
        for node in root.iter(f"{{{NS['bpmn']}}}{tag}"):
            try:
                sandbox.check(node.text or "", mode)
            except sandbox.UnsafeCode as exc:
                raise ProcessError(f"{_where(file_name, node.getparent())}: {exc}") from None
    for node in root.iter(f"{{{NS['spiffworkflow']}}}payloadExpression"):  # a signal's payload (bpmn:signal)
        try:
            sandbox.check(node.text or "", "eval")
        except sandbox.UnsafeCode as exc:
            raise ProcessError(f"{_where(file_name, node.getparent().getparent())}: {exc}") from None

    steps: dict[str, Step] = {}
    known_forms = set(forms.names())
    nodes = list(root.iter(f"{{{NS['bpmn']}}}userTask")) + list(root.iter(f"{{{NS['bpmn']}}}startEvent"))
    for node in nodes:
        props = _properties(node)
        if node.tag.endswith("startEvent") and "form" not in props:
            continue
        where = _where(file_name, node)
        form = props.get("form")
        if form is None or form not in known_forms:
            raise ProcessError(f"{where}: unknown form {form!r}")
        role = props.get("role") or inherited_lane(node)
        if role not in roles:
            raise ProcessError(f"{where}: no role (put the task in a lane or give it a 'role' property)")
        if "assignee_expr" in props:
            try:
                sandbox.check(props["assignee_expr"])
            except sandbox.UnsafeCode as exc:
                raise ProcessError(f"{where}: assignee_expr: {exc}") from None
        instructions = node.find("bpmn:extensionElements/spiffworkflow:instructionsForEndUser", NS)
        steps[node.get("id")] = Step(
            spec_name=node.get("id"), step=props.get("step") or node.get("id"), title_vi=node.get("name", ""),
            title_en=props.get("title_en", node.get("name", "")), form=form, role=role,
            article=props.get("article", ""), instructions=(instructions.text or "").strip()
            if instructions is not None else "", rule=timers.get(node.get("id")),
            escalates=props.get("escalates"), assignee_expr=props.get("assignee_expr"), track=props.get("track"),
        )
    return steps


def load_definition(xml: str | bytes, file_name: str, rules: Rules, process_id: str = PROCESS_ID,
                    roles: tuple[str, ...] = ROLES) -> Definition:
    """Parse and check one BPMN text; raise ProcessError naming the file and element on any problem. `roles`: the
    lanes the process may have (the case process's by default; the privacy processes' are the administrator's)."""
    raw = xml.encode("utf-8") if isinstance(xml, str) else xml
    try:
        root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise ProcessError(f"{file_name}: XML không hợp lệ / malformed XML: {exc}") from None
    steps = _steps(file_name, root, rules, roles)
    parser = SpiffBpmnParser(validator=BpmnValidator())
    try:
        parser.add_bpmn_xml(etree.fromstring(raw), filename=file_name)
        spec = prewire_event_subprocesses(_restored(parser.get_spec(process_id)))
        subprocess_specs = {name: _restored(sub) for name, sub in parser.get_subprocess_specs(process_id).items()}
    except ValidationException as exc:
        where = f"{file_name}: <{exc.tag} id={exc.id!r}> (line {exc.line_number})" if exc.id else file_name
        raise ProcessError(f"{where}: {exc}") from None
    except Exception as exc:  # SpiffWorkflow raises plain exceptions for some structural errors
        raise ProcessError(f"{file_name}: {exc}") from None
    return Definition(process_id, file_name, hashlib.sha256(raw).hexdigest(), raw.decode("utf-8"), spec,
                      subprocess_specs, steps)


# `ProcessRegistry.for_version`'s check, built once: every timer firing and step asks it (issue 20).
_CONTENT_HASH = select(ProcessVersion.content_hash).where(
    ProcessVersion.id == bindparam("version_id", type_=Integer))


class ProcessRegistry:
    """The definitions known to this process: the newest from disk plus any older ones cases still use."""

    def __init__(self, rules: Rules, directory: Path = PROCESS_DIR) -> None:
        self.rules = rules
        path = directory / f"{PROCESS_ID.split('_')[0]}.bpmn"
        self.current = load_definition(path.read_bytes(), path.name, rules)
        self._by_version: dict[int, Definition] = {}

    def ensure_version(self, session: Session) -> int:
        """Record the current definition as a version (once per content) and return its id."""
        cached = self.current.version_id
        if cached is not None:
            row = session.get(ProcessVersion, cached)
            if row is not None and row.content_hash == self.current.content_hash:
                return cached
        row = session.execute(
            select(ProcessVersion).where(ProcessVersion.content_hash == self.current.content_hash)
        ).scalar_one_or_none()
        if row is None:
            # A shipped file seen for the first time (a new release) becomes the active version, as every new
            # file on disk did before versions could be activated; an upload waits for an administrator.
            now = clock.now()
            row = ProcessVersion(process_id=self.current.process_id, content_hash=self.current.content_hash,
                                 file_name=self.current.file_name, loaded_at=now, bpmn=self.current.xml,
                                 source="shipped", activated_at=now, activated_by="system")
            session.add(row)
            session.flush()
            audit.append(session, "system", "process_activated", None,
                         {"version": row.id, "hash": row.content_hash, "file": row.file_name, "source": "shipped"},
                         now)
        self.current.version_id = row.id
        self._by_version[row.id] = self.current
        return row.id

    def active(self, session: Session, province_id: int | None = None) -> Definition:
        """The definition new cases open on: the province's own version when it has one, else the national
        one, i.e. the version activated last (the shipped file until an administrator activates an upload)."""
        self.ensure_version(session)
        if province_id is not None:
            own = session.scalar(select(ProvinceProcessVersion.version_id)
                                 .where(ProvinceProcessVersion.province_id == province_id))
            if own is not None:
                return self.for_version(session, own)
        version_id = session.scalar(select(ProcessVersion.id).where(ProcessVersion.activated_at.is_not(None))
                                    .order_by(ProcessVersion.activated_at.desc(), ProcessVersion.id.desc()).limit(1))
        if version_id is None:  # ensure_version activates the shipped file, so only a broken database gets here
            raise ProcessError("no process version is active")
        return self.for_version(session, version_id)

    def for_version(self, session: Session, version_id: int, content_hash: str | None = None) -> Definition:
        """The definition a case runs on (its steps and diagram), loaded from the database once. The cache
        checks the version's content hash (a small column), so a database restored or emptied under a running
        process never serves another file's definition under a reused id. `content_hash`: the hash already
        read in this transaction (a step reads it with its case, engine.runtime), so it is not read again."""
        if content_hash is None:
            content_hash = session.scalar(_CONTENT_HASH, {"version_id": version_id})
        if content_hash is None:
            raise ProcessError(f"process version {version_id} is not recorded")
        cached = self._by_version.get(version_id)
        if cached is None or cached.content_hash != content_hash:
            row = session.get(ProcessVersion, version_id)
            assert row is not None
            definition = load_definition(row.bpmn, row.file_name, self.rules, row.process_id)
            definition.version_id = row.id
            self._by_version[version_id] = definition
        return self._by_version[version_id]

    def describe(self) -> dict[str, Any]:
        return {"process_id": self.current.process_id, "hash": self.current.content_hash,
                "steps": len(self.current.steps)}
