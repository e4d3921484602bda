"""Draw a BPMN process as an accessible, self-contained SVG from its diagram interchange (BPMN DI).

Pure functions, no Flask: ``render_svg(xml, done=..., current=..., labels=...)`` returns SVG text that can be
inlined in a page. Sizes and positions come from the DI bounds and waypoints. The SVG uses presentation
attributes only (no <style>, no style="", no script, no external resources) so it survives a strict
Content-Security-Policy; every piece of text is escaped.

It goes down a commune's slow line inside the case page (issue 20): what every text shares (font, size, colour,
anchor) is said once on the <svg> and inherited, what every flow shares once on their group, positions are
whole pixels except the small marks that need a fraction, attributes equal to SVG's defaults (stroke-width 1,
ry = rx) are left out, and no whitespace is sent between elements.
"""

from __future__ import annotations

import functools
import math
import xml.etree.ElementTree as ET
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from xml.sax.saxutils import escape

__all__ = ["Diagram", "Edge", "Shape", "paint", "parse", "render_svg", "state"]

_NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
_B = f"{{{_NS['bpmn']}}}"

_TASKS = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
          "businessRuleTask", "callActivity"}
_SUBPROCESSES = {"subProcess", "transaction", "adHocSubProcess"}
_EVENTS = {"startEvent", "endEvent", "boundaryEvent", "intermediateCatchEvent", "intermediateThrowEvent"}
_GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}

# The one palette of the process drawing, for the page's SVG and the dossier's (web/pdf/diagram.py) alike.
INK = "#1f2933"
MUTED = "#52606d"
LANE_FILL = ("#ffffff", "#f7f9fb")
DONE_FILL, DONE_STROKE = "#dcefd8", "#2e7d32"
CUR_FILL, CUR_STROKE = "#fff1c2", "#b54708"
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif"
_CHAR_W = 6.4  # average advance of a 12px glyph, for wrapping


@dataclass(frozen=True)
class Shape:
    id: str
    kind: str  # participant | lane | task | subprocess | event | gateway | other
    tag: str
    name: str
    x: float
    y: float
    w: float
    h: float
    label: tuple[float, float, float, float] | None = None
    event: str = ""  # timer | message | ... for events
    interrupting: bool = True
    multi: str = ""  # "parallel" | "sequential" for multi-instance activities


@dataclass(frozen=True)
class Edge:
    id: str
    name: str
    source: str
    target: str
    points: tuple[tuple[float, float], ...]
    label: tuple[float, float, float, float] | None = None
    default: bool = False


@dataclass(frozen=True)
class Diagram:
    title: str
    shapes: tuple[Shape, ...]
    edges: tuple[Edge, ...]
    bounds: tuple[float, float, float, float]  # min x, min y, max x, max y


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _bounds(el: ET.Element | None) -> tuple[float, float, float, float] | None:
    if el is None:
        return None
    return (float(el.get("x", 0)), float(el.get("y", 0)), float(el.get("width", 0)), float(el.get("height", 0)))


@functools.lru_cache(maxsize=16)
def parse(text: str) -> Diagram:
    """The shapes and edges of the BPMN DI in `text` (cached per text): for the SVG and the PDF drawing."""
    root = ET.fromstring(text)
    by_id: dict[str, ET.Element] = {el.get("id"): el for el in root.iter() if el.get("id")}
    defaults = {el.get("default") for el in root.iter() if el.get("default")}
    process = root.find(f"{_B}process")
    title = ""
    if process is not None:
        title = process.get("name") or process.get("id") or ""
    shapes: list[Shape] = []
    edges: list[Edge] = []
    xs: list[float] = []
    ys: list[float] = []
    plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", _NS)
    if plane is None:
        raise ValueError("the BPMN file has no diagram interchange (bpmndi:BPMNDiagram/BPMNPlane)")
    for di in plane:
        tag = _local(di.tag)
        ref = di.get("bpmnElement")
        el = by_id.get(ref)
        if el is None:
            continue
        etag = _local(el.tag)
        name = (el.get("name") or "").strip()
        if tag == "BPMNShape":
            b = _bounds(di.find("dc:Bounds", _NS))
            if b is None:
                continue
            lb = _bounds(di.find("bpmndi:BPMNLabel/dc:Bounds", _NS))
            event, interrupting, multi = "", True, ""
            if etag == "participant":
                kind = "participant"
            elif etag == "lane":
                kind = "lane"
            elif etag in _SUBPROCESSES:
                kind = "subprocess" if di.get("isExpanded") == "true" else "task"
            elif etag in _TASKS:
                kind = "task"
            elif etag in _EVENTS:
                kind = "event"
                for child in el:
                    if _local(child.tag).endswith("EventDefinition"):
                        event = _local(child.tag)[: -len("EventDefinition")]
                interrupting = el.get("cancelActivity", "true") != "false"
            elif etag in _GATEWAYS:
                kind = "gateway"
            else:
                kind = "other"
            mi = el.find(f"{_B}multiInstanceLoopCharacteristics")
            if mi is not None:
                multi = "sequential" if mi.get("isSequential") == "true" else "parallel"
            shapes.append(Shape(ref, kind, etag, name, *b, label=lb, event=event, interrupting=interrupting,
                                 multi=multi))
            xs += [b[0], b[0] + b[2]]
            ys += [b[1], b[1] + b[3]]
            if lb:
                xs += [lb[0], lb[0] + lb[2]]
                ys += [lb[1], lb[1] + lb[3]]
        elif tag == "BPMNEdge":
            pts = tuple((float(w.get("x", 0)), float(w.get("y", 0))) for w in di.findall("di:waypoint", _NS))
            if len(pts) < 2:
                continue
            lb = _bounds(di.find("bpmndi:BPMNLabel/dc:Bounds", _NS))
            edges.append(Edge(ref, name, el.get("sourceRef", ""), el.get("targetRef", ""), pts, lb,
                               ref in defaults))
            xs += [p[0] for p in pts]
            ys += [p[1] for p in pts]
            if lb:
                xs += [lb[0], lb[0] + lb[2]]
                ys += [lb[1], lb[1] + lb[3]]
    if not xs:
        raise ValueError("the diagram interchange has no shapes")
    return Diagram(title, tuple(shapes), tuple(edges), (min(xs), min(ys), max(xs), max(ys)))


def _attr(value: object) -> str:
    return escape(str(value), {'"': "&quot;"})


def _n(v: float) -> str:
    return str(int(round(v))) if abs(v - round(v)) < 0.05 else f"{v:.1f}"


def _wrap(text: str, width: float, max_lines: int, char_w: float = _CHAR_W) -> list[str]:
    per_line = max(4, int(width / char_w))
    lines: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > per_line:  # break words longer than a line
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:per_line])
            word = word[per_line:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= per_line:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        lines[-1] = (last[: per_line - 1] if len(last) >= per_line else last) + "…"
    return lines


def _i(v: float) -> str:
    """A position in whole pixels: text and outlines need no finer one at the page's scale."""
    return str(int(round(v)))


# What every <text> shares unless it says otherwise, said once on the <svg> (inherited).
_TEXT_DEFAULTS = {"font-size": "12", "fill": INK, "font-weight": "normal", "text-anchor": "middle"}


def _text_block(lines: list[str], cx: float, cy: float, *, size: int = 12, fill: str = INK,
                weight: str = "normal", anchor: str = "middle") -> str:
    if not lines:
        return ""
    lh = size * 1.2
    y0 = cy - lh * (len(lines) - 1) / 2 + size * 0.35
    spans = "".join(
        f'<tspan x="{_i(cx)}" y="{_i(y0 + i * lh)}">{escape(line)}</tspan>' for i, line in enumerate(lines)
    )
    own = {"font-size": str(size), "fill": fill, "font-weight": weight, "text-anchor": anchor}
    attrs = "".join(f' {k}="{v}"' for k, v in own.items() if _TEXT_DEFAULTS[k] != v)
    return f"<text{attrs}>{spans}</text>"


def state(element: str, done: AbstractSet[str], current: AbstractSet[str]) -> str:
    """Where an element stands on the path taken: current (waiting now), done, or todo."""
    if element in current:
        return "current"
    if element in done:
        return "done"
    return "todo"


def paint(state: str, fill: str, stroke: str = INK, width: float = 1.5,
          done_width: float = 2.0) -> tuple[str, str, float]:
    """Fill, stroke and line width of an element in `state`; `fill`, `stroke` and `width` are its look off the
    path. `done_width`: the paper drawing, shown at a third of its size, draws the done outline thicker."""
    if state == "current":
        return CUR_FILL, CUR_STROKE, 3.5
    if state == "done":
        return DONE_FILL, DONE_STROKE, done_width
    return fill, stroke, width


def _lane(s: Shape, label: str, index: int) -> str:
    hx = s.x + 15
    hy = s.y + s.h / 2
    size = 12 if len(label) * _CHAR_W <= s.h - 10 else 11
    lines = _wrap(label, s.h - 10, 2, char_w=_CHAR_W * size / 12)
    text = _text_block(lines, hx, hy, size=size, weight="600")
    return (
        f'<g data-id="{_attr(s.id)}" data-kind="lane"><title>{escape(label)}</title>'
        f'<rect x="{_n(s.x)}" y="{_n(s.y)}" width="{_n(s.w)}" height="{_n(s.h)}" '
        f'fill="{LANE_FILL[index % 2]}" stroke="{MUTED}"/>'
        f'<line x1="{_n(s.x + 30)}" y1="{_n(s.y)}" x2="{_n(s.x + 30)}" y2="{_n(s.y + s.h)}" '
        f'stroke="{MUTED}"/>'
        f'<g transform="rotate(-90 {_n(hx)} {_n(hy)})">{text}</g></g>'
    )


def _participant(s: Shape, label: str) -> str:
    hx, hy = s.x + 15, s.y + s.h / 2
    text = _text_block(_wrap(label, s.h - 10, 1), hx, hy, size=13, weight="700")
    return (
        f'<g data-id="{_attr(s.id)}" data-kind="participant"><title>{escape(label)}</title>'
        f'<rect x="{_n(s.x)}" y="{_n(s.y)}" width="{_n(s.w)}" height="{_n(s.h)}" fill="#ffffff" '
        f'stroke="{INK}" stroke-width="1.5"/>'
        f'<line x1="{_n(s.x + 30)}" y1="{_n(s.y)}" x2="{_n(s.x + 30)}" y2="{_n(s.y + s.h)}" '
        f'stroke="{INK}" stroke-width="1.5"/>'
        f'<g transform="rotate(-90 {_n(hx)} {_n(hy)})">{text}</g></g>'
    )


def _mi_marker(cx: float, bottom: float, kind: str, stroke: str) -> str:
    out = []
    for i in (-5, 0, 5):
        if kind == "sequential":
            out.append(f'<line x1="{_n(cx - 6)}" y1="{_n(bottom - 14 + i + 5)}" x2="{_n(cx + 6)}" '
                       f'y2="{_n(bottom - 14 + i + 5)}" stroke="{stroke}" stroke-width="2"/>')
        else:
            out.append(f'<line x1="{_n(cx + i)}" y1="{_n(bottom - 18)}" x2="{_n(cx + i)}" y2="{_n(bottom - 6)}" '
                       f'stroke="{stroke}" stroke-width="2"/>')
    return "".join(out)


def _task_icon(s: Shape, stroke: str) -> str:
    x, y = s.x + 6, s.y + 6
    if s.tag == "userTask":  # a head and shoulders
        return (f'<circle cx="{_n(x + 6)}" cy="{_n(y + 4)}" r="3.5" fill="none" stroke="{stroke}" '
                f'stroke-width="1.2"/><path d="M{_n(x)} {_n(y + 14)} q6 -9 12 0" fill="none" '
                f'stroke="{stroke}" stroke-width="1.2"/>')
    if s.tag == "scriptTask":  # a sheet with lines
        return (f'<rect x="{_n(x)}" y="{_n(y)}" width="11" height="14" fill="none" stroke="{stroke}" '
                f'stroke-width="1.2"/>' + "".join(
                    f'<line x1="{_n(x + 2)}" y1="{_n(y + 4 + 3 * i)}" x2="{_n(x + 9)}" y2="{_n(y + 4 + 3 * i)}" '
                    f'stroke="{stroke}"/>' for i in range(3)))
    return ""


def _task(s: Shape, label: str, state: str) -> str:
    fill, stroke, width = paint(state, "#ffffff")
    lines = _wrap(label, s.w - 14, max(1, int((s.h - 24) // 14.4)))
    body = (
        f'<rect x="{_n(s.x)}" y="{_n(s.y)}" width="{_n(s.w)}" height="{_n(s.h)}" rx="10" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{_n(width)}"/>'
        + _task_icon(s, stroke)
        + _text_block(lines, s.x + s.w / 2, s.y + s.h / 2 + 5)
    )
    if s.multi:
        body += _mi_marker(s.x + s.w / 2, s.y + s.h, s.multi, stroke)
    return body


def _subprocess(s: Shape, label: str, state: str) -> str:
    fill, stroke, width = paint(state, "#fbfcfe")
    lines = _wrap(label, s.w - 20, 2)
    return (
        f'<rect x="{_n(s.x)}" y="{_n(s.y)}" width="{_n(s.w)}" height="{_n(s.h)}" rx="12" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{_n(width)}"/>'
        + _text_block(lines, s.x + 10, s.y + 14 + 7.2 * (len(lines) - 1), weight="600", anchor="start")
        + (_mi_marker(s.x + s.w / 2, s.y + s.h, s.multi, stroke) if s.multi else "")
    )


def _clock(cx: float, cy: float, r: float, stroke: str) -> str:
    ticks = "".join(
        f'<line x1="{_n(cx + r * 0.78 * math.cos(a))}" y1="{_n(cy + r * 0.78 * math.sin(a))}" '
        f'x2="{_n(cx + r * math.cos(a))}" y2="{_n(cy + r * math.sin(a))}" stroke="{stroke}"/>'
        for a in (i * math.pi / 6 for i in range(12))
    )
    return (
        f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="#ffffff" stroke="{stroke}" stroke-width="1.2"/>'
        + ticks
        + f'<line x1="{_n(cx)}" y1="{_n(cy)}" x2="{_n(cx)}" y2="{_n(cy - r * 0.7)}" stroke="{stroke}" '
        f'stroke-width="1.4"/>'
        f'<line x1="{_n(cx)}" y1="{_n(cy)}" x2="{_n(cx + r * 0.5)}" y2="{_n(cy)}" stroke="{stroke}" '
        f'stroke-width="1.4"/>'
    )


def _event(s: Shape, state: str) -> str:
    cx, cy, r = s.x + s.w / 2, s.y + s.h / 2, min(s.w, s.h) / 2
    fill, stroke, width = paint(state, "#ffffff")
    if s.tag == "endEvent":
        width = max(width, 3.5)
    dash = "" if s.interrupting else ' stroke-dasharray="4 3"'
    out = (f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="{fill}" stroke="{stroke}" '
           f'stroke-width="{_n(width)}"{dash}/>')
    if s.tag in ("boundaryEvent", "intermediateCatchEvent", "intermediateThrowEvent"):
        out += (f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r - 3)}" fill="none" stroke="{stroke}" '
                f'stroke-width="1.2"{dash}/>')
    if s.event == "timer":
        out += _clock(cx, cy, r * 0.55, stroke)
    return out


def _gateway(s: Shape, state: str) -> str:
    cx, cy = s.x + s.w / 2, s.y + s.h / 2
    fill, stroke, width = paint(state, "#ffffff")
    pts = f"{_n(cx)},{_n(s.y)} {_n(s.x + s.w)},{_n(cy)} {_n(cx)},{_n(s.y + s.h)} {_n(s.x)},{_n(cy)}"
    out = f'<polygon points="{pts}" fill="{fill}" stroke="{stroke}" stroke-width="{_n(width)}"/>'
    k = s.w * 0.2
    if s.tag == "exclusiveGateway":
        out += (f'<path d="M{_n(cx - k)} {_n(cy - k)} L{_n(cx + k)} {_n(cy + k)} M{_n(cx + k)} {_n(cy - k)} '
                f'L{_n(cx - k)} {_n(cy + k)}" stroke="{stroke}" stroke-width="3" fill="none"/>')
    elif s.tag == "parallelGateway":
        k *= 1.2
        out += (f'<path d="M{_n(cx)} {_n(cy - k)} L{_n(cx)} {_n(cy + k)} M{_n(cx - k)} {_n(cy)} '
                f'L{_n(cx + k)} {_n(cy)}" stroke="{stroke}" stroke-width="3" fill="none"/>')
    elif s.tag == "inclusiveGateway":
        out += f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(k)}" fill="none" stroke="{stroke}" stroke-width="2.5"/>'
    return out


def _external_label(s: Shape, label: str) -> str:
    if not label:
        return ""
    if s.label is not None:
        x, y, w, h = s.label
    else:
        w, h = 110.0, 28.0
        x, y = s.x + s.w / 2 - w / 2, s.y + s.h + 4
    lines = _wrap(label, max(w, 60), 3, char_w=5.8)
    return _text_block(lines, x + w / 2, y + h / 2, size=11, fill=MUTED)


def render_svg(
    bpmn_xml: bytes | str,
    *,
    done: set[str] | frozenset[str] = frozenset(),
    current: set[str] | frozenset[str] = frozenset(),
    labels: dict[str, str] | None = None,
    flows: set[str] | frozenset[str] | None = None,
    id_prefix: str = "bpmn",
) -> str:
    """Return an SVG drawing of the process in ``bpmn_xml``.

    ``done``: ids of elements on the path already taken (shaded, as are flows between two of them, or from
    one of them into a current element); ``current``: ids of the elements waiting now (strongly highlighted);
    ``flows``: ids of the sequence flows traversed (engine.path); without it a flow is shaded between two
    shaded elements;
    ``labels``: optional text per element id replacing its name (lanes: per lane id or role key; the words come
    from web.labels.diagram_labels, this module names nothing itself);
    ``id_prefix``: prefix of the ids inside the SVG, so several drawings can share one page.
    """
    text = bpmn_xml.decode("utf-8") if isinstance(bpmn_xml, bytes) else bpmn_xml
    dia = parse(text)
    done_f, cur_f = frozenset(done), frozenset(current)
    labels = labels or {}
    pid = "".join(c for c in id_prefix if c.isalnum() or c in "-_") or "bpmn"

    minx, miny, maxx, maxy = dia.bounds
    pad = 12
    vx, vy, vw, vh = minx - pad, miny - pad, maxx - minx + 2 * pad, maxy - miny + 2 * pad

    def label_of(s_id: str, default: str) -> str:
        return labels.get(s_id, default)

    current_names = [label_of(s.id, s.name) or s.id for s in dia.shapes if s.id in cur_f]
    title = dia.title or "BPMN"
    desc_parts = [f"Sơ đồ quy trình “{title}”."]
    if current_names:
        desc_parts.append("Đang thực hiện: " + "; ".join(current_names) + ".")
    n_done = sum(1 for s in dia.shapes if s.id in done_f and s.kind in ("task", "subprocess"))
    if n_done:
        desc_parts.append(f"Đã hoàn thành {n_done} bước.")

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{pid}-title {pid}-desc" '
        f'width="{_n(vw)}" height="{_n(vh)}" viewBox="{_n(vx)} {_n(vy)} {_n(vw)} {_n(vh)}" '
        f'font-family="{_attr(_FONT)}"' + "".join(f' {k}="{v}"' for k, v in _TEXT_DEFAULTS.items()) + ">",
        f'<title id="{pid}-title">{escape(title)}</title>',
        f'<desc id="{pid}-desc">{escape(" ".join(desc_parts))}</desc>',
        "<defs>",
    ]
    for key, colour in (("todo", INK), ("done", DONE_STROKE), ("current", CUR_STROKE)):
        out.append(
            f'<marker id="{pid}-arrow-{key}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    out.append(f'<rect x="{_n(vx)}" y="{_n(vy)}" width="{_n(vw)}" height="{_n(vh)}" fill="#ffffff"/>')

    lanes = [s for s in dia.shapes if s.kind == "lane"]
    for s in dia.shapes:
        if s.kind == "participant":
            out.append(_participant(s, label_of(s.id, s.name)))
    for i, s in enumerate(lanes):
        out.append(_lane(s, labels.get(s.id) or labels.get(s.name) or s.name, i))
    for s in dia.shapes:
        if s.kind == "subprocess":
            st = state(s.id, done_f, cur_f)
            lab = label_of(s.id, s.name)
            out.append(f'<g data-id="{_attr(s.id)}" data-kind="subprocess" data-state="{st}">'
                       f'<title>{escape(lab)}</title>{_subprocess(s, lab, st)}</g>')

    out.append('<g fill="none" stroke-linejoin="round">')  # what every flow's line shares
    for e in dia.edges:
        src_state, tgt_state = state(e.source, done_f, cur_f), state(e.target, done_f, cur_f)
        if (e.id in flows) if flows is not None else (src_state == "done" and tgt_state in ("done", "current")):
            st, colour, width = "done", DONE_STROKE, 2.5
        else:
            st, colour, width = "todo", INK, 1.3
        pts = " ".join(f"{_i(x)},{_i(y)}" for x, y in e.points)
        lab = label_of(e.id, e.name)
        title = f"<title>{escape(lab)}</title>" if lab else ""
        piece = (f'<g data-id="{_attr(e.id)}" data-kind="flow" data-state="{st}">{title}'
                 f'<polyline points="{pts}" stroke="{colour}" stroke-width="{_n(width)}" '
                 f'marker-end="url(#{pid}-arrow-{st})"/>')
        if e.default:  # the BPMN default-flow slash near the start
            (x0, y0), (x1, y1) = e.points[0], e.points[1]
            length = math.hypot(x1 - x0, y1 - y0) or 1
            ux, uy = (x1 - x0) / length, (y1 - y0) / length
            mx, my = x0 + ux * 10, y0 + uy * 10
            nx, ny = -uy, ux
            piece += (f'<line x1="{_n(mx - 5 * nx - 3 * ux)}" y1="{_n(my - 5 * ny - 3 * uy)}" '
                      f'x2="{_n(mx + 5 * nx + 3 * ux)}" y2="{_n(my + 5 * ny + 3 * uy)}" stroke="{colour}" '
                      f'stroke-width="1.3"/>')
        if lab:
            if e.label is not None:
                lx, ly, lw, lh = e.label
            else:
                (x0, y0), (x1, y1) = e.points[0], e.points[1]
                lw, lh = 6.0 * len(lab), 14.0
                lx, ly = (x0 + x1) / 2 - lw / 2, (y0 + y1) / 2 - lh - 2
            # fill: the group's "none" is for the lines; a label is drawn in ink.
            piece += _text_block(_wrap(lab, max(lw, 40), 2, char_w=5.8), lx + lw / 2, ly + lh / 2, size=11,
                                 fill=MUTED)
        out.append(piece + "</g>")
    out.append("</g>")

    for s in dia.shapes:
        if s.kind in ("participant", "lane", "subprocess"):
            continue
        st = state(s.id, done_f, cur_f)
        lab = label_of(s.id, s.name)
        head = (f'<g data-id="{_attr(s.id)}" data-kind="{s.kind}" data-state="{st}">'
                f'<title>{escape(lab or s.id)}</title>')
        if s.kind == "task":
            body = _task(s, lab, st)
        elif s.kind == "event":
            body = _event(s, st) + _external_label(s, lab)
        elif s.kind == "gateway":
            body = _gateway(s, st) + _external_label(s, lab)
        else:
            fill, stroke, width = paint(st, "#ffffff")
            body = (f'<rect x="{_n(s.x)}" y="{_n(s.y)}" width="{_n(s.w)}" height="{_n(s.h)}" fill="{fill}" '
                    f'stroke="{stroke}" stroke-width="{_n(width)}" stroke-dasharray="3 3"/>')
        out.append(head + body + "</g>")
    out.append("</svg>")
    return "".join(out)
