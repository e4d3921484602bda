"""The process diagram on paper: the BPMN drawing of a case's process version with the path it has taken,
drawn with ReportLab from the same parsed DI and the same palette as the case page's SVG (web/diagram.py).

The words of a drawing do not depend on the case, so they are laid out once per process version and language;
the drawing is written once per PDF as a form XObject and shown in landscape strips (`tiles`).
"""

from __future__ import annotations

import functools
import math
from typing import Any

from flask_babel import gettext as _
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Table, TableStyle

from engine.path import PathTaken
from engine.registry import Definition
from web import diagram as shared  # the DI parser, element states and palette of the page's SVG
from web import labels
from web.pdf.toolkit import FONT, FONT_BOLD, INK, MUTED, PAD, RULE, cell, draw_lines, wrap_text

DIAGRAM_FONT = 13.0  # in diagram units; the drawing is shown at about a third of its size


_colour = functools.cache(colors.HexColor)  # one ReportLab colour per hex value of the shared palette

# The shared palette (web/diagram.py) as ReportLab colours; the legend and the dossier's timeline use them too.
DONE_FILL, DONE_STROKE = _colour(shared.DONE_FILL), _colour(shared.DONE_STROKE)
CUR_FILL, CUR_STROKE = _colour(shared.CUR_FILL), _colour(shared.CUR_STROKE)


def _paint(look: str, fill: str) -> tuple[Any, Any, float]:
    """The page's colours for an element in state `look`; done outlines thicker, as the drawing is shown small."""
    fill, stroke, width = shared.paint(look, fill, done_width=2.5)
    return _colour(fill), _colour(stroke), width


def _wrap(text: str, width: float, max_lines: int, size: float, font: str = FONT) -> list[str]:
    lines = wrap_text(text, font, size, max(width, size * 3))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


# (x, y, text, font, size, colour, rotated about (ox, oy) by 90° or not): the words of a process drawing do not
# depend on the case, so they are laid out once per process version and language.
_Label = tuple[float, float, str, str, float, Any, tuple[float, float] | None]
_LABELS: dict[tuple[str, str], list[_Label]] = {}


def diagram_drawing(definition: Definition, done: set[str], current: set[str], flows: set[str],
                    locale: str = "vi") -> Drawing:
    """The process as a ReportLab drawing in BPMN DI units (y flipped), the path taken shaded."""
    drawing, labels = _parts(definition, done, current, flows, locale)
    for x, y, line, font, size, colour, about in labels:
        string = String(x, y, line, fontName=font, fontSize=size, fillColor=colour)
        if about is None:
            drawing.add(string)
        else:
            group = Group(string)
            group.translate(*about)
            group.rotate(90)
            drawing.add(group)
    return drawing


def _draw_labels(canvas: Canvas, labels: list[_Label]) -> None:
    """All the words of the drawing in one text object (far cheaper than one graphics node per line)."""
    draw_lines(canvas, ((x, y, line, name, size, fill) for x, y, line, name, size, fill, about in labels
                        if about is None))
    for x, y, line, name, size, fill, about in labels:
        if about is not None:
            canvas.saveState()
            canvas.translate(*about)
            canvas.rotate(90)
            canvas.setFont(name, size)
            canvas.setFillColor(fill)
            canvas.drawString(x, y, line)
            canvas.restoreState()


def _parts(definition: Definition, done: set[str], current: set[str], flows: set[str],
                   locale: str) -> tuple[Drawing, list[_Label]]:
    """The shapes of the process as a drawing, and its words (laid out once per version and language)."""
    dia = shared.parse(definition.xml)
    minx, miny, maxx, maxy = dia.bounds
    pad = 12.0
    width, height = maxx - minx + 2 * pad, maxy - miny + 2 * pad
    words = labels.diagram_labels(definition, locale)
    drawing = Drawing(width, height)
    key = (definition.content_hash, locale)
    placed: list[_Label] | None = None if key in _LABELS else []

    def x_(x: float) -> float:
        return x - minx + pad

    def y_(y: float) -> float:
        return height - (y - miny + pad)

    def wrap(label: str, room: float, max_lines: int, size: float, font: str = FONT) -> list[str]:
        return _wrap(label, room, max_lines, size, font) if placed is not None else []

    def text(lines: list[str], cx: float, cy: float, size: float = DIAGRAM_FONT, fill: Any = INK,
             bold: bool = False, anchor: str = "middle", about: tuple[float, float] | None = None) -> None:
        if placed is None:
            return
        font, leading = FONT_BOLD if bold else FONT, size * 1.2
        top = cy + leading * (len(lines) - 1) / 2 - size * 0.35
        for i, line in enumerate(lines):
            shift = pdfmetrics.stringWidth(line, font, size) / 2 if anchor == "middle" else 0.0
            placed.append((cx - shift, top - i * leading, line, font, size, fill, about))

    def band(shape: shared.Shape, label: str, fill: Any, size: float) -> None:
        drawing.add(Rect(x_(shape.x), y_(shape.y + shape.h), shape.w, shape.h, fillColor=fill, strokeColor=MUTED,
                         strokeWidth=1))
        drawing.add(Line(x_(shape.x + 30), y_(shape.y), x_(shape.x + 30), y_(shape.y + shape.h), strokeColor=MUTED,
                         strokeWidth=1))
        text(wrap(label, shape.h - 12, 2, size, FONT_BOLD), 0, 0, size, bold=True,
             about=(x_(shape.x + 15), y_(shape.y + shape.h / 2)))

    def label_of(shape: shared.Shape) -> str:
        return words.get(shape.id, shape.name)

    lanes = [s for s in dia.shapes if s.kind == "lane"]
    for shape in dia.shapes:
        if shape.kind == "participant":
            band(shape, label_of(shape), colors.white, DIAGRAM_FONT + 1)
    for i, shape in enumerate(lanes):
        band(shape, words.get(shape.name, shape.name), _colour(shared.LANE_FILL[i % 2]),
             DIAGRAM_FONT)
    for shape in dia.shapes:
        if shape.kind == "subprocess":
            fill, stroke, line = _paint(shared.state(shape.id, done, current), "#fbfcfe")
            drawing.add(Rect(x_(shape.x), y_(shape.y + shape.h), shape.w, shape.h, rx=12, ry=12, fillColor=fill,
                             strokeColor=stroke, strokeWidth=line))
            lines = wrap(label_of(shape), shape.w - 20, 2, DIAGRAM_FONT, FONT_BOLD)
            text(lines, x_(shape.x + 10), y_(shape.y + 16 + 7.8 * (len(lines) - 1)), bold=True, anchor="start")

    for edge in dia.edges:
        taken = edge.id in flows
        colour, line = (DONE_STROKE, 3.0) if taken else (INK, 1.3)
        points = [v for x, y in edge.points for v in (x_(x), y_(y))]
        drawing.add(PolyLine(points, strokeColor=colour, strokeWidth=line, strokeLineJoin=1))
        (xa, ya), (xb, yb) = edge.points[-2], edge.points[-1]
        length = math.hypot(xb - xa, yb - ya) or 1.0
        ux, uy = (xb - xa) / length, (yb - ya) / length
        tip = (x_(xb), y_(yb))
        back = (xb - ux * 11, yb - uy * 11)
        drawing.add(Polygon([tip[0], tip[1], x_(back[0] - uy * 4.5), y_(back[1] + ux * 4.5),
                             x_(back[0] + uy * 4.5), y_(back[1] - ux * 4.5)], fillColor=colour, strokeColor=colour,
                            strokeWidth=0.5))
        if edge.name:
            if edge.label is not None:
                lx, ly, lw, lh = edge.label
            else:
                (x0, y0), (x1, y1) = edge.points[0], edge.points[1]
                lw, lh = 6.5 * len(edge.name), 14.0
                lx, ly = (x0 + x1) / 2 - lw / 2, (y0 + y1) / 2 - lh - 2
            text(wrap(edge.name, max(lw, 60), 2, DIAGRAM_FONT - 2), x_(lx + lw / 2), y_(ly + lh / 2),
                 DIAGRAM_FONT - 2, fill=MUTED)

    for shape in dia.shapes:
        if shape.kind in ("participant", "lane", "subprocess"):
            continue
        fill, stroke, line = _paint(shared.state(shape.id, done, current), "#ffffff")
        cx, cy = x_(shape.x + shape.w / 2), y_(shape.y + shape.h / 2)
        if shape.kind == "task":
            drawing.add(Rect(x_(shape.x), y_(shape.y + shape.h), shape.w, shape.h, rx=10, ry=10, fillColor=fill,
                             strokeColor=stroke, strokeWidth=line))
            size = DIAGRAM_FONT
            lines = wrap(label_of(shape), shape.w - 10, max(1, int((shape.h - 8) // (size * 1.2))), size)
            text(lines, cx, cy)
            if shape.multi:
                for k in (-6, 0, 6):
                    x = cx + k
                    drawing.add(Line(x, y_(shape.y + shape.h - 4), x, y_(shape.y + shape.h - 16),
                                     strokeColor=stroke, strokeWidth=1.5))
            continue
        if shape.kind == "event":
            r = min(shape.w, shape.h) / 2
            dash = None if shape.interrupting else [4, 3]
            if shape.tag == "endEvent":
                line = max(line, 3.5)
            drawing.add(Circle(cx, cy, r, fillColor=fill, strokeColor=stroke, strokeWidth=line,
                               strokeDashArray=dash))
            if shape.tag in ("boundaryEvent", "intermediateCatchEvent", "intermediateThrowEvent"):
                drawing.add(Circle(cx, cy, r - 3, fillColor=None, strokeColor=stroke, strokeWidth=1.2,
                                   strokeDashArray=dash))
            if shape.event == "timer":
                drawing.add(Circle(cx, cy, r * 0.55, fillColor=colors.white, strokeColor=stroke, strokeWidth=1.2))
                drawing.add(Line(cx, cy, cx, cy + r * 0.4, strokeColor=stroke, strokeWidth=1.4))
                drawing.add(Line(cx, cy, cx + r * 0.3, cy, strokeColor=stroke, strokeWidth=1.4))
        elif shape.kind == "gateway":
            drawing.add(Polygon([cx, y_(shape.y), x_(shape.x + shape.w), cy, cx, y_(shape.y + shape.h),
                                 x_(shape.x), cy], fillColor=fill, strokeColor=stroke, strokeWidth=line))
            k = shape.w * 0.2
            if shape.tag == "exclusiveGateway":
                drawing.add(Line(cx - k, cy - k, cx + k, cy + k, strokeColor=stroke, strokeWidth=3))
                drawing.add(Line(cx - k, cy + k, cx + k, cy - k, strokeColor=stroke, strokeWidth=3))
            elif shape.tag == "parallelGateway":
                drawing.add(Line(cx, cy - k * 1.2, cx, cy + k * 1.2, strokeColor=stroke, strokeWidth=3))
                drawing.add(Line(cx - k * 1.2, cy, cx + k * 1.2, cy, strokeColor=stroke, strokeWidth=3))
        else:
            drawing.add(Rect(x_(shape.x), y_(shape.y + shape.h), shape.w, shape.h, fillColor=fill, strokeColor=stroke,
                             strokeWidth=line, strokeDashArray=[3, 3]))
            continue
        name = label_of(shape)
        if name:  # events and gateways carry their label outside the shape
            if shape.label is not None:
                lx, ly, lw, lh = shape.label
            else:
                lw, lh = 120.0, 28.0
                lx, ly = shape.x + shape.w / 2 - lw / 2, shape.y + shape.h + 4
            text(wrap(name, max(lw, 90), 3, DIAGRAM_FONT - 2), x_(lx + lw / 2), y_(ly + lh / 2),
                 DIAGRAM_FONT - 2, fill=MUTED)
    if placed is not None:
        _LABELS[key] = placed
    return drawing, _LABELS[key]


class Tile(Flowable):
    """One vertical strip of the process drawing, scaled to the page.

    The drawing is written once per PDF as a form XObject; each strip shows it clipped and shifted.
    """

    def __init__(self, drawing: Drawing, labels: list[_Label], x0: float, x1: float, scale: float,
                 name: str) -> None:
        super().__init__()
        self.drawing, self.labels, self.x0, self.x1, self.scale, self.form = drawing, labels, x0, x1, scale, name
        self.width, self.height = (x1 - x0) * scale, drawing.height * scale

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        made = canvas.__dict__.setdefault("_case56_forms", set())
        if self.form not in made:
            canvas.beginForm(self.form, 0, 0, self.drawing.width, self.drawing.height)
            renderPDF.draw(self.drawing, canvas, 0, 0, showBoundary=False)
            _draw_labels(canvas, self.labels)
            canvas.endForm()
            made.add(self.form)
        canvas.saveState()
        path = canvas.beginPath()
        path.rect(0, 0, self.width, self.height)
        canvas.clipPath(path, stroke=0, fill=0)
        canvas.scale(self.scale, self.scale)
        canvas.translate(-self.x0, 0)
        canvas.doForm(self.form)
        canvas.restoreState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.rect(0, 0, self.width, self.height, stroke=1, fill=0)


def tiles(definition: Definition, taken: PathTaken, locale: str, width: float, height: float) -> list[Tile]:
    """The drawing with the path `taken`, in vertical strips that fit `width` × `height` on the page.

    Tall enough to read; strips overlap by about one task so none is only ever seen cut in two.
    """
    drawing, labels = _parts(definition, set(taken.done), set(taken.current), set(taken.flows), locale)
    scale = min(1.0, height / drawing.height)
    overlap = 150.0
    strips = max(1, math.ceil((drawing.width - overlap) / (width / scale - overlap)))
    strip_w = min(width / scale, (drawing.width + (strips - 1) * overlap) / strips)
    name = f"bpmn{id(drawing)}"
    return [Tile(drawing, labels, i * (strip_w - overlap), min(drawing.width, i * (strip_w - overlap) + strip_w),
                 scale, name) for i in range(strips)]


def legend() -> Table:
    """What the shading means: done, waiting, not reached."""
    legend_w = [14, 96, 14, 120, 14, 150]
    table = Table([["", cell(_("Đã thực hiện"), legend_w[1] - 2 * PAD, 7.5), "",
                    cell(_("Đang chờ thực hiện"), legend_w[3] - 2 * PAD, 7.5), "",
                    cell(_("Không đi qua / chưa tới"), legend_w[5] - 2 * PAD, 7.5)]],
                  colWidths=legend_w, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (0, 0), DONE_FILL), ("BOX", (0, 0), (0, 0), 1.2, DONE_STROKE),
        ("BACKGROUND", (2, 0), (2, 0), CUR_FILL), ("BOX", (2, 0), (2, 0), 1.2, CUR_STROKE),
        ("BOX", (4, 0), (4, 0), 0.8, INK), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    return table
