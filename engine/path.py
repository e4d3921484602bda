"""The path a case has taken through its process: the elements and sequence flows actually traversed, and the
steps waiting now — computed once here, from the task rows and the process model of the case's version, for
the case page's drawing, the API and the dossier PDF alike (none of them loads the workflow).

A user task (or the start form) is done when one of its rows is completed, current while one is ready.
Gateways, script tasks and events are on the path when a flow through them leads from a completion to a later
completion or to a current element. An end event is on the path when it is reached that way and no exclusive
gateway on the way has another branch that leads to something done later (the case went the other way) — so a
plan sent back for revision or a review that loops does not light the end.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from engine.models import Task
from engine.registry import Definition

_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_CHOICES = ("exclusiveGateway", "inclusiveGateway")


@dataclass(frozen=True)
class PathTaken:
    done: frozenset[str]  # element ids on the path, not waiting now
    current: frozenset[str]  # element ids waiting now (a ready step, the sub-process around it)
    flows: frozenset[str]  # sequence-flow ids traversed

    def as_dict(self) -> dict[str, list[str]]:
        return {"done": sorted(self.done), "current": sorted(self.current), "flows": sorted(self.flows)}


@dataclass(frozen=True)
class _Model:
    tags: dict[str, str]  # flow element id → BPMN tag (local name)
    outgoing: dict[str, list[tuple[str, str]]]  # element → [(flow id, target)]
    targets: frozenset[str]  # elements with an incoming flow
    attached: dict[str, str]  # boundary event → the task it sits on
    parent: dict[str, str]  # element → the sub-process it is inside


@functools.lru_cache(maxsize=16)
def _model(xml: str) -> _Model:
    """The process graph from the semantic model (not the diagram interchange: the path is a process fact)."""
    root = ET.fromstring(xml)
    tags: dict[str, str] = {}
    outgoing: dict[str, list[tuple[str, str]]] = {}
    targets: set[str] = set()
    for process in root.iter(f"{_BPMN}process"):
        for el in process.iter():
            tag, ident = el.tag.rsplit("}", 1)[-1], el.get("id")
            if not ident or el is process:
                continue
            if tag == "sequenceFlow":
                outgoing.setdefault(el.get("sourceRef", ""), []).append((ident, el.get("targetRef", "")))
                targets.add(el.get("targetRef", ""))
            else:
                tags[ident] = tag
    attached = {el.get("id", ""): el.get("attachedToRef", "") for el in root.iter(f"{_BPMN}boundaryEvent")}
    parent = {child.get("id", ""): sub.get("id", "") for sub in root.iter(f"{_BPMN}subProcess")
              for child in sub if child.get("id")}
    return _Model(tags, outgoing, frozenset(targets), attached, parent)


def path_taken(definition: Definition, tasks: Iterable[Task]) -> PathTaken:
    """The path of a case with these task rows through `definition` (the case's own process version)."""
    model = _model(definition.xml)
    spec_of: dict[str, list[str]] = {}
    for spec_name, step in definition.steps.items():
        spec_of.setdefault(step.step, []).append(spec_name)
    times: dict[str, list[datetime]] = {}
    current: set[str] = set()
    for task in tasks:
        for spec in spec_of.get(task.step, []):
            if task.state == "completed" and task.completed_at is not None:
                times.setdefault(spec, []).append(task.completed_at)
            elif task.state == "ready":
                current.add(spec)
    for node, sub in model.parent.items():  # a sub-process is done/current as its inner tasks are
        if node in times:
            times.setdefault(sub, []).extend(times[node])
        if node in current:
            current.add(sub)
    steps = set(definition.steps) | {i for i, tag in model.tags.items() if tag == "subProcess"}
    done: set[str] = set(times)
    flows: set[str] = set()

    def later(node: str, since: datetime | None) -> bool:
        return node in current or any(since is None or t > since for t in times.get(node, ()))

    def leads_later(node: str, since: datetime | None, seen: set[str]) -> bool:
        if node in steps:
            return later(node, since)
        if node in seen:
            return False
        seen.add(node)
        return any(leads_later(target, since, seen) for _flow, target in model.outgoing.get(node, []))

    def walk(node: str, since: datetime | None, nodes: list[str], edges: list[str],
             choices: list[tuple[str, str]]) -> None:
        exclusive = model.tags.get(node) in _CHOICES
        for flow, target in model.outgoing.get(node, []):
            taken = [*choices, (node, flow)] if exclusive else choices
            if target in steps:
                if later(target, since):
                    done.update(nodes)
                    flows.update([*edges, flow])
            elif target in nodes:
                continue
            elif model.tags.get(target) == "endEvent":
                other_way = any(leads_later(other, since, set()) for gateway, chosen in taken
                                for flow_id, other in model.outgoing.get(gateway, []) if flow_id != chosen)
                if not other_way:
                    done.update([*nodes, target])
                    flows.update([*edges, flow])
            else:
                walk(target, since, [*nodes, target], [*edges, flow], taken)

    for node, moments in list(times.items()):
        for moment in sorted(set(moments)):
            walk(node, moment, [], [], [])
    for node in model.tags:  # starts without incoming flows: boundary timers, a sub-process's start
        host = model.attached.get(node) or model.parent.get(node)
        if node not in model.targets and node not in steps and host and (host in times or host in current):
            walk(node, None, [node], [], [])
    return PathTaken(frozenset(done - current), frozenset(current), frozenset(flows))
