"""Server-side SVG bar charts: no JavaScript, no external files, nothing for the CSP to refuse.

A chart is plain SVG markup embedded in the page. Labels come from the database (commune names, step
titles, user names), so every piece of text is XML-escaped here; colours are presentation attributes
(not `style`), which the CSP allows. The chart carries a <title>/<desc> and a text value beside each bar,
so a screen reader and a black-and-white printout read the same numbers as the bars show.

Readable at 100% zoom (issue 17): the chart is WIDTH user units wide and drawn at that many CSS pixels (the
`width` attribute; CSS only lets it shrink on a screen narrower than that), so FONT_SIZE units are FONT_SIZE
pixels — a wide label column once shrank a 465-unit chart into a 260-px grid cell and its text to ~7 px. Each
label sits on its own lines above its bar, wrapped to the chart's width, so no label runs off the left edge; a
label longer than MAX_LABEL_LINES lines is cut with "…" and its <title> gives the whole text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Fits the content box of the narrowest phone served, 320 px (273 px once the page's and card's padding are
# taken): drawn at 320 units, a 320-px phone scaled the supervisor's charts to 11 px text (issue 17).
WIDTH = 272
FONT_SIZE = 13
LINE_HEIGHT = 16
BAR_HEIGHT = 16
ROW_GAP = 8
# DejaVu Sans's small letters with Vietnamese marks average ~0.6 em; widths are estimated generously (the
# server has no font metrics) so a line never runs past the edge.
CHAR_EM = 0.68
MAX_LABEL_LINES = 3
PAD = 2  # a glyph's left side bearing reaches past its x: text starts this far in and ends this far short


@dataclass(frozen=True)
class Series:
    """One kind of value in a stacked bar (e.g. overdue, due soon) and its colour."""

    label: str
    colour: str


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Estimated drawn width of `text` in user units: DejaVu Sans's "m", "w", "M", "W" are about 1 em wide,
    other capitals about 0.8 em, the rest at most CHAR_EM."""
    return size * sum(1.0 if ch in "mwMW@%" else 0.8 if ch.isupper() else CHAR_EM for ch in text)


def _pieces(word: str, width: float) -> list[str]:
    """A word wider than the chart (a code, a long name without spaces) cut into pieces that fit."""
    out, piece = [], ""
    for ch in word:
        if piece and text_width(piece + ch) > width:
            out.append(piece)
            piece = ""
        piece += ch
    return [*out, piece]


def wrap(label: str, width: float, max_lines: int = MAX_LABEL_LINES) -> tuple[list[str], bool]:
    """`label` in lines no wider than `width`, words kept whole where they fit, at most `max_lines`; True when
    something was cut (the last line then ends with "…")."""
    lines: list[str] = []
    current = ""
    for word in label.split():
        for part in _pieces(word, width) if text_width(word) > width else [word]:
            candidate = f"{current} {part}" if current else part
            if current and text_width(candidate) > width:
                lines.append(current)
                current = part
            else:
                current = candidate
    if current:
        lines.append(current)
    if len(lines) <= max_lines:
        return lines, False
    kept = lines[:max_lines]
    last = kept[-1]
    while last and text_width(last + "…") > width:
        last = last[:-1].rstrip()
    kept[-1] = last + "…"
    return kept, True


def stacked_bars(title: str, rows: Sequence[tuple[str, Sequence[int]]], series: Sequence[Series],
                 empty_text: str = "") -> Markup:
    """A horizontal stacked bar chart: per row its label (wrapped) above one bar with a segment per series
    value, and the values as text after the bar."""
    if not rows:
        return Markup('<p class="muted chart-empty">{}</p>').format(empty_text)
    largest = max((sum(values) for _label, values in rows), default=0) or 1
    numbers = [" / ".join(str(v) for v in values) for _label, values in rows]
    value_width = max(text_width(n) for n in numbers) + 6 + PAD
    bar_width = WIDTH - PAD - value_width
    parts: list[str] = []

    # Legend: swatch and name per series, wrapped onto further lines when the chart's width runs out.
    x, y = float(PAD), 0
    for s in series:
        item = 16 + text_width(s.label) + 12
        if x > PAD and x + item > WIDTH:
            x, y = float(PAD), y + LINE_HEIGHT + 2
        parts.append(f'<rect x="{x:.1f}" y="{y + 2}" width="12" height="12" fill="{escape(s.colour)}"/>')
        parts.append(f'<text x="{x + 16:.1f}" y="{y + 13}" font-size="{FONT_SIZE}">{escape(s.label)}</text>')
        x += item
    y += LINE_HEIGHT + ROW_GAP

    for (label, values), number in zip(rows, numbers, strict=True):
        lines, cut = wrap(label or "—", WIDTH - 2 * PAD)
        tip = f"<title>{escape(label)}</title>" if cut else ""
        tspans = "".join(f'<tspan x="{PAD}" dy="{0 if i == 0 else LINE_HEIGHT}">{escape(line)}</tspan>'
                         for i, line in enumerate(lines))
        parts.append(f'<text class="chart-label" y="{y + 12}" font-size="{FONT_SIZE}">{tip}{tspans}</text>')
        y += LINE_HEIGHT * len(lines) + 2
        x = float(PAD)
        for s, value in zip(series, values, strict=False):
            if value <= 0:
                continue
            bar = bar_width * value / largest
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{bar:.1f}" height="{BAR_HEIGHT}" '
                         f'fill="{escape(s.colour)}">'
                         f"<title>{escape(label)} — {escape(s.label)}: {value}</title></rect>")
            x += bar
        parts.append(f'<text x="{x + 6:.1f}" y="{y + BAR_HEIGHT - 3}" font-size="{FONT_SIZE}">{number}</text>')
        y += BAR_HEIGHT + ROW_GAP
    height = y
    summary = "; ".join(
        f"{label}: " + ", ".join(f"{s.label} {v}" for s, v in zip(series, values, strict=False))
        for label, values in rows
    )
    head = (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
            f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}" '
            f'preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title><desc>{escape(summary)}</desc>')
    # Every dynamic piece above went through escape(): the joined string is safe markup.
    return Markup(head + "".join(parts) + "</svg>")
