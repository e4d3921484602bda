"""web/diagram.py: the SVG drawing of a BPMN process from its diagram interchange."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine import access
from web import diagram
from web.diagram import render_svg
from web.labels import role_label

BPMN = Path(__file__).resolve().parents[2] / "processes" / "decree56.bpmn"
SVG = "{http://www.w3.org/2000/svg}"
BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


@pytest.fixture(scope="module")
def xml() -> bytes:
    return BPMN.read_bytes()


def groups(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.get("data-id"): g for g in root.iter(f"{SVG}g") if g.get("data-id")}


def visible_text(el: ET.Element) -> str:
    """The text drawn inside an element (its <tspan>s joined), without the <title> tooltip."""
    words = []
    for text in el.iter(f"{SVG}text"):
        words += [" ".join(span.itertext()) for span in text.iter(f"{SVG}tspan")]
    return " ".join(words)


def test_svg_is_well_formed_accessible_and_self_contained(xml):
    svg = render_svg(xml)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Quy trình bảo vệ trẻ em theo NĐ 56/2017/NĐ-CP"
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert set(root.get("aria-labelledby").split()) <= ids
    # nothing that runs, loads or needs a style sheet
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter(f"{SVG}style"))
    assert not list(root.iter(f"{SVG}image")) and not list(root.iter(f"{SVG}foreignObject"))
    for el in root.iter():
        assert "style" not in el.attrib
        assert not any(k.startswith("on") for k in el.attrib)
        for value in el.attrib.values():
            assert not re.match(r"\s*(https?:|javascript:|data:)", value)
    assert re.findall(r"https?://[^\s\"']*", svg) == ["http://www.w3.org/2000/svg"]


def test_size_comes_from_the_diagram_bounds(xml):
    root = ET.fromstring(render_svg(xml))
    vx, vy, vw, vh = (float(v) for v in root.get("viewBox").split())
    assert (float(root.get("width")), float(root.get("height"))) == (vw, vh)
    bpmn = ET.fromstring(xml)
    for bounds in bpmn.iter("{http://www.omg.org/spec/DD/20100524/DC}Bounds"):
        x, y, w, h = (float(bounds.get(k)) for k in ("x", "y", "width", "height"))
        assert vx <= x and vy <= y and x + w <= vx + vw and y + h <= vy + vh
    assert vw > 4000 and vh > 1000  # the real procedure is wide: one column per step


def test_every_task_is_drawn_with_its_whole_name(xml):
    svg = render_svg(xml, labels={role: role_label(role, "vi") for role in access.ROLE_LABELS})  # as web.labels
    drawn = groups(svg)
    bpmn = ET.fromstring(xml)
    tasks = [el for tag in ("userTask", "scriptTask") for el in bpmn.iter(f"{BPMN_NS}{tag}")]
    assert len(tasks) > 30
    for task in tasks:
        g = drawn[task.get("id")]
        assert g.get("data-kind") == "task"
        assert g.find(f"{SVG}title").text == task.get("name")
        assert visible_text(g) == task.get("name"), task.get("id")  # wrapped, never cut
        assert g.find(f"{SVG}rect").get("rx")  # rounded
    for role in access.ROLE_LABELS:
        if f"Lane_{role}" not in drawn:
            continue
        label = role_label(role, "vi")
        lane = drawn[f"Lane_{role}"]
        assert lane.find(f"{SVG}title").text == label
        assert visible_text(lane) == label


def test_shapes_by_kind(xml):
    drawn = groups(render_svg(xml))
    assert drawn["Gateway_crime"].find(f"{SVG}polygon") is not None
    assert drawn["Gateway_crime"].find(f"{SVG}title").text == "Có dấu hiệu tội phạm?"
    assert drawn["Start_receive"].find(f"{SVG}circle") is not None
    timer = drawn["Timer_verify"]
    assert len(timer.findall(f"{SVG}circle")) == 3  # two rings and the clock face
    assert len(timer.findall(f"{SVG}line")) >= 12 + 2  # the clock's ticks and hands
    assert all(c.get("stroke-dasharray") for c in timer.findall(f"{SVG}circle")[:2])  # non-interrupting
    assert drawn["Sub_intervention"].get("data-kind") == "subprocess"
    flow = drawn["Flow_verify__has_basis"]
    line = flow.find(f"{SVG}polyline")
    assert line.get("marker-end").startswith("url(#")
    assert len(line.get("points").split()) >= 2


def test_done_and_current_elements_are_marked(xml):
    done = {"Start_receive", "Gateway_tracks", "Gateway_merge_verify", "Task_verify", "Gateway_has_basis"}
    svg = render_svg(xml, done=done, current={"Task_initial_assessment"})
    drawn = groups(svg)
    for element in done:
        assert drawn[element].get("data-state") == "done"
    current = drawn["Task_initial_assessment"]
    assert current.get("data-state") == "current"
    rect = current.find(f"{SVG}rect")
    assert float(rect.get("stroke-width")) >= 3
    assert rect.get("fill") != drawn["Task_draft_plan"].find(f"{SVG}rect").get("fill")
    assert drawn["Task_draft_plan"].get("data-state") == "todo"
    # flows between two done elements (or into the current one) are the path taken
    assert drawn["Flow_verify__has_basis"].get("data-state") == "done"
    assert drawn["Flow_has_basis__initial_assessment"].get("data-state") == "done"
    assert drawn["Flow_has_basis__no_basis_signoff"].get("data-state") == "todo"
    assert drawn["Flow_tracks__crime"].get("data-state") == "todo"
    done_line = drawn["Flow_verify__has_basis"].find(f"{SVG}polyline")
    todo_line = drawn["Flow_tracks__crime"].find(f"{SVG}polyline")
    assert done_line.get("stroke") != todo_line.get("stroke")
    desc = ET.fromstring(svg).find(f"{SVG}desc").text
    assert "Đánh giá nguy cơ ban đầu (Mẫu số 02)" in desc


def test_a_hostile_label_is_escaped(xml):
    hostile = '</text><script>alert("x")</script><text x="0">&amp; \' " <!-- -->'
    svg = render_svg(xml, labels={"Task_verify": hostile, "Flow_verify__has_basis": "<b>x</b>",
                                  "Lane_officer": "<i>officer</i>"})
    root = ET.fromstring(svg)
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter(f"{SVG}b"))
    drawn = groups(svg)
    assert drawn["Task_verify"].find(f"{SVG}title").text == hostile
    assert "alert(" in visible_text(drawn["Task_verify"]).replace(" ", "")  # drawn as text, long words broken
    assert drawn["Lane_officer"].find(f"{SVG}title").text == "<i>officer</i>"
    assert "<script>" not in svg


def test_hostile_names_inside_the_bpmn_are_escaped_too():
    bpmn = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="d" targetNamespace="x">
  <bpmn:process id="p" name="P &lt;script&gt;" isExecutable="true">
    <bpmn:startEvent id="s" name="&quot;&gt;&lt;svg onload=alert(1)&gt;"/>
    <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t" name="&amp;&lt;"/>
    <bpmn:userTask id="t" name="A &amp; &lt;b&gt;B&lt;/b&gt;"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="dd"><bpmndi:BPMNPlane id="pl" bpmnElement="p">
    <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="10" y="10" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="t_di" bpmnElement="t"><dc:Bounds x="100" y="0" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f_di" bpmnElement="f"><di:waypoint x="46" y="28"/><di:waypoint x="100" y="28"/>
    </bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>"""
    svg = render_svg(bpmn, current={"t"})
    root = ET.fromstring(svg)
    assert [el.tag for el in root.iter() if el.tag in (f"{SVG}script", f"{SVG}b", f"{SVG}svg")] == [f"{SVG}svg"]
    drawn = groups(svg)
    assert drawn["t"].find(f"{SVG}title").text == "A & <b>B</b>"
    assert drawn["s"].find(f"{SVG}title").text == '"><svg onload=alert(1)>'
    assert root.find(f"{SVG}title").text == "P <script>"
    assert all(not k.startswith("on") for el in root.iter() for k in el.attrib)


def test_parsing_is_cached_per_text(xml):
    diagram.parse.cache_clear()
    render_svg(xml)
    render_svg(xml.decode("utf-8"), done={"Task_verify"})
    info = diagram.parse.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_two_drawings_on_one_page_do_not_share_ids(xml):
    a = ET.fromstring(render_svg(xml, id_prefix="one"))
    b = ET.fromstring(render_svg(xml, id_prefix="two"))
    ids_a = {el.get("id") for el in a.iter() if el.get("id")}
    ids_b = {el.get("id") for el in b.iter() if el.get("id")}
    assert ids_a and not ids_a & ids_b


def test_a_file_without_diagram_interchange_is_refused():
    bpmn = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
            'targetNamespace="x"><bpmn:process id="p"/></bpmn:definitions>')
    with pytest.raises(ValueError, match="diagram interchange"):
        render_svg(bpmn)
