"""Server-side SVG bar charts: no JavaScript, no external files, nothing for the CSP to refuse.

A chart is plain SVG markup embedded in the page. Labels come from the database (commune names, step
titles, user names), so every piece of text is XML-escaped here; colours are presentation attributes
(not `style`), which the CSP allows. The chart carries a <title>/<desc> and a text value beside each bar,
so a screen reader and a black-and-white printout read the same numbers as the bars show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

ROW_HEIGHT = 26
BAR_HEIGHT = 16
LABEL_WIDTH = 165
BAR_WIDTH = 240
VALUE_WIDTH = 60
MAX_LABEL_CHARS = 25


@dataclass(frozen=True)
class Series:
    """One kind of value in a stacked bar (e.g. overdue, due soon) and its colour."""

    label: str
    colour: str


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def stacked_bars(title: str, rows: Sequence[tuple[str, Sequence[int]]], series: Sequence[Series],
                 empty_text: str = "") -> Markup:
    """A horizontal stacked bar chart: one row per label, one segment per series value."""
    if not rows:
        return Markup('<p class="muted chart-empty">{}</p>').format(empty_text)
    largest = max((sum(values) for _label, values in rows), default=0) or 1
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    legend_height = 22
    height = legend_height + ROW_HEIGHT * len(rows) + 4
    summary = "; ".join(
        f"{label}: " + ", ".join(f"{s.label} {v}" for s, v in zip(series, values, strict=False))
        for label, values in rows
    )
    parts: list[str] = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(summary)}</desc>",
    ]
    x = LABEL_WIDTH
    for s in series:  # legend
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{escape(s.colour)}"/>')
        parts.append(f'<text x="{x + 16}" y="14" font-size="12">{escape(s.label)}</text>')
        x += 24 + 7 * len(s.label)
    for index, (label, values) in enumerate(rows):
        y = legend_height + index * ROW_HEIGHT
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT - 3}" font-size="12" text-anchor="end">'
                     f"<title>{escape(label)}</title>{escape(_short(label))}</text>")
        x = float(LABEL_WIDTH)
        for s, value in zip(series, values, strict=False):
            if value <= 0:
                continue
            bar = BAR_WIDTH * value / largest
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{bar:.1f}" height="{BAR_HEIGHT}" '
                         f'fill="{escape(s.colour)}">'
                         f"<title>{escape(label)} — {escape(s.label)}: {value}</title></rect>")
            x += bar
        numbers = " / ".join(str(v) for v in values)
        parts.append(f'<text x="{x + 6:.1f}" y="{y + BAR_HEIGHT - 3}" font-size="12">{numbers}</text>')
    parts.append("</svg>")
    # Every dynamic piece above went through escape(): the joined string is safe markup.
    return Markup("".join(parts))
