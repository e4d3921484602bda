"""The PDF toolkit shared by the case dossier and the statistics report: the embedded font, text hygiene, page
geometry and colours, cheap pre-wrapped table cells, tables that may split across pages, the national header of
Vietnamese administrative documents, and the document machinery (headings that feed the outline and a table of
contents planned before layout, a canvas that numbers "Trang x/y" when it saves).

Text: DejaVu Sans (Debian `fonts-dejavu-core`) is embedded because it covers Vietnamese; every string is
normalised to NFC; text that goes through Paragraph markup is escaped, and table cells are drawn as literal
strings, so user input is always shown as the text it is.
"""

from __future__ import annotations

import functools
import io
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, Table, TableStyle

FONT_PACKAGE = "fonts-dejavu-core"
FONT_DIR = Path(os.environ.get("CASE56_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
RULE = colors.HexColor("#9aa5b1")
SHADE = colors.HexColor("#eef2f6")
LATE = colors.HexColor("#b00020")
LATE_BG = colors.HexColor("#fde8e8")

PORTRAIT, LANDSCAPE = A4, landscape(A4)
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 18 * mm, 20 * mm, 20 * mm
WIDTH = PORTRAIT[0] - 2 * MARGIN_X  # the portrait frame
PAD = 3  # table cell padding


class FontMissing(RuntimeError):
    """The TTF that covers Vietnamese is not installed."""


# ------------------------------------------------------------------------------------------------------------
# Text and fonts

_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))
_ODD = re.compile("[\x00-\x1f\ud800-\udfff]")  # controls (tab, CR included) and unpaired surrogates


def clean(value: Any) -> str:
    """NFC text with control characters and unpaired surrogates removed (they would break the PDF)."""
    text = str(value)
    if _ODD.search(text.replace("\n", "")):  # rare: most values need only the NFC check below
        text = text.encode("utf-8", "replace").decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        text = text.replace("\t", " ").translate(_CONTROL)
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def markup(value: Any) -> str:
    """`value` as literal Paragraph text: escaped, so tags and entities in user input stay text."""
    return escape(clean(value)).replace("\n", "<br/>")


@functools.cache
def register_fonts() -> None:
    """Register DejaVu Sans once per process; fail with the package to install when it is missing."""
    for name, file in ((FONT, "DejaVuSans.ttf"), (FONT_BOLD, "DejaVuSans-Bold.ttf")):
        path = FONT_DIR / file
        if not path.is_file():
            raise FontMissing(
                f"Thiếu phông chữ {path} (cần cho tiếng Việt trong hồ sơ PDF): hãy cài gói Debian {FONT_PACKAGE} "
                f"(apt-get install -y {FONT_PACKAGE}). / Font file {path} is missing: install the Debian package "
                f"{FONT_PACKAGE}."
            )
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


@functools.cache
def styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=11.5, textColor=INK)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=16, leading=21,
                                alignment=TA_CENTER, spaceBefore=6, spaceAfter=6),
        "form_title": ParagraphStyle("form_title", parent=base, fontName=FONT_BOLD, fontSize=11.5, leading=15,
                                     alignment=TA_CENTER, spaceBefore=8, spaceAfter=2),
        "h1": ParagraphStyle("h1", parent=base, fontName=FONT_BOLD, fontSize=13, leading=17, spaceBefore=4,
                             spaceAfter=8),
        "h2": ParagraphStyle("h2", parent=base, fontName=FONT_BOLD, fontSize=10.5, leading=13.5, spaceBefore=6,
                             spaceAfter=4),
        "h2_quiet": ParagraphStyle("h2_quiet", parent=base, fontSize=7.5, leading=9.5, textColor=MUTED,
                                   spaceAfter=4),
    }


def wrap_text(text: Any, font: str, size: float, width: float) -> list[str]:
    """`text` broken into lines no wider than `width`; a word longer than a line is cut where it fits."""
    text = clean(text)
    if "\n" not in text and pdfmetrics.stringWidth(text, font, size) <= width:
        return [text]  # most values fit on one line: no word-by-word measuring
    lines: list[str] = []
    for line in simpleSplit(text, font, size, width):
        while len(line) > 1 and pdfmetrics.stringWidth(line, font, size) > width:
            cut = max(1, int(len(line) * width / pdfmetrics.stringWidth(line, font, size)))
            while cut > 1 and pdfmetrics.stringWidth(line[:cut], font, size) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return lines


# A positioned line: x, y, text, font, size, colour.
PlacedLine = tuple[float, float, str, str, float, Any]


class Text(Flowable):
    """Pre-wrapped literal lines, each part in its own font, size and colour: a cheap table cell.

    Written as literal text (textOut), so nothing in the text is interpreted as markup.
    """

    def __init__(self, parts: Iterable[tuple[Any, str, float, Any]], width: float, align: str = "left",
                 lines: list[tuple[str, str, float, Any]] | None = None) -> None:
        super().__init__()
        self.lines = lines if lines is not None else [
            (line, font, size, colour) for text, font, size, colour in parts if text not in (None, "")
            for line in wrap_text(text, font, size, width)]
        self.width, self.align = width, align
        self.height = sum(size * 1.25 for _line, _font, size, _colour in self.lines) or 1.0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        """Lines that fit, and the rest: a long text value continues on the next page."""
        used, count = 0.0, 0
        for _line, _font, size, _colour in self.lines:
            if used + size * 1.25 > avail_height:
                break
            used, count = used + size * 1.25, count + 1
        if count == 0:
            return []
        if count == len(self.lines):
            return [self]
        return [Text((), self.width, self.align, self.lines[:count]),
                Text((), self.width, self.align, self.lines[count:])]

    def draw(self) -> None:
        draw_lines(self.canv, self._placed())  # one text object per cell: cheap to write and to read

    def _placed(self) -> Iterator[PlacedLine]:
        y = self.height
        for line, name, size, fill in self.lines:
            y -= size * 1.25
            x = 0.0
            if self.align != "left":
                room = self.width - pdfmetrics.stringWidth(line, name, size)
                x = room / 2 if self.align == "center" else room
            yield x, y + size * 0.28, line, name, size, fill


def draw_lines(canvas: Canvas, lines: Iterable[PlacedLine]) -> None:
    """Positioned lines in one text object, font and colour set only when they change: far cheaper to write
    and to read than a text object (or a graphics node) per line."""
    text = canvas.beginText()
    font: tuple[str, float] | None = None
    colour: Any = None
    for x, y, line, name, size, fill in lines:
        if font != (name, size):
            text.setFont(name, size)
            font = (name, size)
        if fill is not colour:
            text.setFillColor(fill)
            colour = fill
        text.setTextOrigin(x, y)
        text.textOut(line)
    canvas.drawText(text)


def cell(text: Any, width: float, size: float = 8.5, colour: Any = INK, bold: bool = False,
       align: str = "left") -> Text:
    """One literal text in one font: the usual table cell."""
    return Text([(text, FONT_BOLD if bold else FONT, size, colour)], width, align)


def para(text: Any, style: str = "base") -> Paragraph:
    """A paragraph of literal text (escaped) in one of `styles()`."""
    return Paragraph(markup(text), styles()[style])


def para_marked(marked: str, style: str = "base") -> Paragraph:
    """A paragraph from markup this module wrote itself (its parts already escaped)."""
    return Paragraph(marked, styles()[style])


# ------------------------------------------------------------------------------------------------------------
# Document: headings feed the outline and the table of contents; the canvas keeps its pages until the end
# so that each can say "Trang x/y" and the contents pages can be filled in


class Heading(Paragraph):
    def __init__(self, marked: str, style: ParagraphStyle, level: int, key: str, toc_text: str) -> None:
        super().__init__(marked, style)
        self.toc_level, self.toc_key, self.toc_text = level, key, clean(toc_text)


class Outline:
    """The headings of one document, in order: (level, text, key)."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, str, str]] = []
        self.pages: dict[str, int] = {}

    def heading(self, text: str, level: int, toc_text: str | None = None, quiet: bool = False) -> Heading:
        key = f"h{len(self.entries) + 1}"
        self.entries.append((level, clean(toc_text or text), key))
        style = "h1" if level == 0 else ("h2_quiet" if quiet else "h2")
        return Heading(markup(text), styles()[style], level, key, toc_text or text)


class TocPlan:
    """The contents laid out before the document: the lines of each entry on each reserved page."""

    TITLE_SPACE, NUMBER_W = 46.0, 34.0

    def __init__(self, outline: Outline, title: str) -> None:
        self.outline, self.title = outline, title
        self.pages: list[list[tuple[str, int, list[str], float]]] = [[]]  # (key, level, lines, top y offset)
        self.page_numbers: dict[int, int] = {}  # plan page index → PDF page number
        frame_h = PORTRAIT[1] - MARGIN_TOP - MARGIN_BOTTOM
        y = self.TITLE_SPACE
        for level, text, key in outline.entries:
            font, size, indent = self.font(level)
            lines = wrap_text(text, font, size, WIDTH - indent - self.NUMBER_W)
            height = len(lines) * size * 1.3 + (6 if level == 0 else 3)
            if y + height > frame_h:
                self.pages.append([])
                y = 0.0
            self.pages[-1].append((key, level, lines, y + (4 if level == 0 else 0)))
            y += height

    @staticmethod
    def font(level: int) -> tuple[str, float, float]:
        return (FONT_BOLD, 10.0, 0.0) if level == 0 else (FONT, 9.0, 14.0)

    def draw(self, canvas: Canvas, index: int) -> None:
        top = PORTRAIT[1] - MARGIN_TOP
        if index == 0:
            canvas.setFont(FONT_BOLD, 16)
            canvas.setFillColor(INK)
            canvas.drawCentredString(PORTRAIT[0] / 2, top - 20, self.title)
        for key, level, lines, offset in self.pages[index]:
            font, size, indent = self.font(level)
            canvas.setFont(font, size)
            canvas.setFillColor(INK)
            y = top - offset
            for line in lines:
                y -= size * 1.3
                canvas.drawString(MARGIN_X + indent, y, line)
            last = pdfmetrics.stringWidth(lines[-1], font, size) if lines else 0
            number = str(self.outline.pages.get(key, ""))
            right = MARGIN_X + WIDTH
            canvas.drawRightString(right, y, number)
            dots_from = MARGIN_X + indent + last + 6
            dots_to = right - pdfmetrics.stringWidth(number, font, size) - 6
            if dots_to > dots_from:
                canvas.setFillColor(MUTED)
                count = int((dots_to - dots_from) / pdfmetrics.stringWidth(" .", font, size))
                canvas.drawRightString(dots_to, y, " ." * count)
            canvas.linkRect("", key, (MARGIN_X, y - 2, right, y + size * 1.3 * len(lines)), relative=0,
                            name=f"toc-{key}")  # named: the page states restored at save reuse counters


class TocPage(Flowable):
    """Holds one page of the contents; records which PDF page it landed on."""

    def __init__(self, plan: TocPlan, index: int) -> None:
        super().__init__()
        self.plan, self.index = plan, index

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return avail_width, 1

    def draw(self) -> None:
        self.plan.page_numbers[self.index] = self.canv.getPageNumber()


class Doc(BaseDocTemplate):
    def __init__(self, buffer: io.BytesIO, outline: Outline, decorate: Any, **kwargs: Any) -> None:
        super().__init__(buffer, pagesize=PORTRAIT, leftMargin=MARGIN_X, rightMargin=MARGIN_X,
                         topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM, **kwargs)
        self.outline = outline
        frames = {}
        for name, size in (("portrait", PORTRAIT), ("landscape", LANDSCAPE)):
            frames[name] = Frame(MARGIN_X, MARGIN_BOTTOM, size[0] - 2 * MARGIN_X,
                                 size[1] - MARGIN_TOP - MARGIN_BOTTOM, id=name, leftPadding=0, rightPadding=0,
                                 topPadding=0, bottomPadding=0)
        self.addPageTemplates([
            PageTemplate("portrait", [frames["portrait"]], pagesize=PORTRAIT, onPage=decorate),
            PageTemplate("landscape", [frames["landscape"]], pagesize=LANDSCAPE, onPage=decorate),
        ])

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 (ReportLab's name)
        if isinstance(flowable, Heading):
            self.canv.bookmarkPage(flowable.toc_key)
            self.canv.addOutlineEntry(flowable.toc_text, flowable.toc_key, flowable.toc_level, closed=True)
            self.outline.pages[flowable.toc_key] = self.page


def numbered_canvas(page_label: str, footer: str, toc: TocPlan) -> type[Canvas]:
    """A canvas that keeps its pages until the end so that each can say 'Trang x/y'."""
    footer_lines = wrap_text(footer, FONT, 6.5, WIDTH - 70)

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            toc_pages = {number: index for index, number in toc.page_numbers.items()}
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                if number in toc_pages:
                    toc.draw(self, toc_pages[number])
                width = self._pagesize[0]
                self.setFont(FONT, 6.5)
                self.setFillColor(MUTED)
                for i, line in enumerate(footer_lines):
                    self.drawString(MARGIN_X, 12 * mm - i * 8, line)
                self.setFont(FONT_BOLD, 8)
                self.setFillColor(INK)
                self.drawRightString(width - MARGIN_X, 12 * mm, page_label % {"x": number, "y": total})
                super().showPage()
            super().save()

    return NumberedCanvas


# ------------------------------------------------------------------------------------------------------------
# Tables


def _cells(rows: list[list[Any]]) -> list[list[Any]]:
    # A flowable alone in a cell is lost when ReportLab splits its row; in a list it is split or carried over.
    return [[[value] if isinstance(value, Flowable) else value for value in row] for row in rows]


def flow_table(rows: list[list[Any]], widths: list[float], repeat: int = 0, align: str = "LEFT") -> Table:
    """A table whose rows may split across pages (a long text value must never stop the document).

    In-row splitting first (splitByRow=0) so the page is filled and the rest, with its repeated header, starts
    the next page; a row is cut only where at least 24 pt of it stay on each side.
    """
    return Table(_cells(rows), colWidths=widths, repeatRows=repeat, hAlign=align, splitByRow=0, splitInRow=24)


def grid(rows: list[list[Any]], widths: list[float], header: bool = True, extra: Iterable[tuple] = ()) -> Table:
    table = flow_table(rows, widths, 1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    table.setStyle(TableStyle(style + list(extra)))
    return table


def header_row(titles: Iterable[str], widths: list[float]) -> list[Text]:
    return [cell(title, w - 2 * PAD, 7.5, bold=True) for title, w in zip(titles, widths, strict=True)]


def national_header(issuer: str, below: str, width: float) -> Table:
    """The two-column header of Vietnamese administrative documents: issuer left, national motto right."""
    left = [para_marked(f"<b>{markup(issuer.upper())}</b>", "center")]
    if below:
        left.append(para(below, "center"))
    right = [para_marked("<b>" + markup(_("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")) + "</b>", "center"),
             para_marked("<b><u>" + markup(_("Độc lập - Tự do - Hạnh phúc")) + "</u></b>", "center")]
    table = Table([[left, right]], colWidths=[width * 0.42, width * 0.58])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return table
