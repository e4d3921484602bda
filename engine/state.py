"""Compact storage of a case's SpiffWorkflow state.

SpiffWorkflow's serializer writes the whole process specification into every saved workflow and parses
it back on every load; for a case that is the same few hundred kilobytes each time. We store only the run
(tasks, data, events), compressed, and attach the spec objects of the case's process version, parsed once per process
from `process_version`. Loading skips the spec restore and saving skips the spec conversion — the largest
share of the library's serialization cost — while the format of the run itself is SpiffWorkflow's own
(its serializer version is stored beside every state, so a library upgrade can migrate it).
"""

from __future__ import annotations

import json
import zlib
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.registry import Definition

# Each task keeps its own copy of the case data, so the text is very repetitive: level 1 already shrinks
# a closed case from ~80 kB to a few kB for well under a millisecond.
COMPRESSION = 1
_definition: ContextVar[Definition] = ContextVar("case56_definition")


class _RunOnlyConverter(BpmnWorkflowConverter):
    """SpiffWorkflow's workflow converter without the specs (they come from the process version)."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        definition = _definition.get()
        workflow = self.target_class(definition.spec, definition.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StateSerializer:
    """Turns a workflow into the text kept in `case_workflow.state`, and back."""

    def __init__(self) -> None:
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = _RunOnlyConverter
        self._serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
        self.version: str = self._serializer.VERSION

    def dumps(self, workflow: BpmnWorkflow) -> bytes:
        registry = self._serializer.registry
        registry._encoder_mode = True  # as SpiffWorkflow's serialize_json does
        try:
            text = json.dumps(self._serializer.to_dict(workflow), separators=(",", ":"),
                              cls=self._serializer._encoder_cls)
        finally:
            registry._encoder_mode = False
        return zlib.compress(text.encode("utf-8"), COMPRESSION)

    def loads(self, state: bytes, definition: Definition, serializer_version: str) -> BpmnWorkflow:
        dct = json.loads(zlib.decompress(state), cls=self._serializer.json_decoder_cls)
        dct[self._serializer.VERSION_KEY] = serializer_version
        self._serializer.migrate(dct)
        token = _definition.set(definition)
        try:
            return self._serializer.from_dict(dct)
        finally:
            _definition.reset(token)
