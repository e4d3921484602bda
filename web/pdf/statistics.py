"""The statistics report as PDF, to attach to the periodic report: the national header, the heading facts, the
tables and notes of web/exports.py (the same the page, CSV and XLSX show) and a signature block."""

from __future__ import annotations

import functools
import io
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from engine import clock, stamp
from engine import statistics as st
from web.exports import meta, notes, sections
from web.filters import vn_datetime
from web.pdf.toolkit import FONT, FONT_BOLD, LATE, RULE, SHADE, clean, markup, register_fonts, wrap_text


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("stat", fontName=FONT, fontSize=9, leading=11.5)
    return {
        "base": base,
        "cell": ParagraphStyle("stat_cell", parent=base, fontSize=8.5, leading=10.5),
        "head": ParagraphStyle("stat_head", parent=base, fontName=FONT_BOLD, fontSize=8.5, leading=10.5),
        "num": ParagraphStyle("stat_num", parent=base, fontSize=8.5, leading=10.5, alignment=TA_RIGHT),
        "head_num": ParagraphStyle("stat_head_num", parent=base, fontName=FONT_BOLD, fontSize=8.5, leading=10.5,
                                   alignment=TA_RIGHT),
        "center": ParagraphStyle("stat_center", parent=base, alignment=TA_CENTER),
        "center_bold": ParagraphStyle("stat_center_bold", parent=base, fontName=FONT_BOLD, alignment=TA_CENTER),
        "title": ParagraphStyle("stat_title", parent=base, fontName=FONT_BOLD, fontSize=13, leading=17,
                                alignment=TA_CENTER, spaceBefore=10, spaceAfter=2),
        "h2": ParagraphStyle("stat_h2", parent=base, fontName=FONT_BOLD, fontSize=10.5, leading=14,
                             spaceBefore=10, spaceAfter=4),
        "small": ParagraphStyle("stat_small", parent=base, fontSize=7.5, leading=9.5),
    }


def _date_line(moment: datetime, language: str) -> str:
    local = clock.local(moment)
    if language == "en":
        return local.strftime("%d %B %Y")
    return f"……, ngày {local.day:02d} tháng {local.month:02d} năm {local.year}"


def to_pdf(report: st.Report, language: str, made_by: str = "", mark: stamp.Stamp | None = None) -> bytes:
    """The report to attach to the periodic report: national header, heading facts, the tables, notes and a
    signature block. Vietnamese in DejaVu Sans (registered by the toolkit); all text NFC, escaped."""
    register_fonts()
    styles = _styles()

    def p(text: Any, style: str = "cell") -> Paragraph:
        return Paragraph(markup("" if text is None else text), styles[style])

    width = A4[0] - 36 * mm
    unit = (report.scope.label(language) if report.scope.province or report.scope.commune else "case56").upper()
    header = Table([
        [p(unit, "center_bold"), p(_("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), "center_bold")],
        ["", p(_("Độc lập - Tự do - Hạnh phúc"), "center_bold")],
        ["", p(_date_line(report.generated_at, language), "center")],
    ], colWidths=[width * 0.42, width * 0.58])
    header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                ("LINEBELOW", (1, 1), (1, 1), 0.6, colors.black)]))
    story: list[Any] = [header, Paragraph(markup(_("BÁO CÁO SỐ LIỆU BẢO VỆ TRẺ EM")), styles["title"]),
                        p(_("Trẻ em bị xâm hại (chỉ tiêu 0101, Thông tư 13/2021/TT-BLĐTBXH) và việc thực hiện quy "
                            "trình hỗ trợ, can thiệp (Nghị định 56/2017/NĐ-CP)"), "center"),
                        Spacer(0, 4 * mm)]
    story.append(Table([[p(label, "head"), p(value)] for label, value in meta(report, language)],
                       colWidths=[width * 0.25, width * 0.75]))
    for number, section in enumerate(sections(report, language), start=1):
        count = len(section.header)
        first = 0.46 if section.numeric_from == 1 else 0.25
        widths = [width * first] + [width * (1 - first) / (count - 1)] * (count - 1)
        if section.numeric_from == 2:
            widths = [width * 0.22, width * 0.30] + [width * 0.48 / (count - 2)] * (count - 2)
        numeric = section.numeric_from
        rows = [[p(h, "head_num" if i >= numeric else "head") for i, h in enumerate(section.header)]]
        rows += [[p(v, "num" if i >= numeric else "cell") for i, v in enumerate(row)] for row in section.rows] \
            or [[p(_("Không có số liệu."))] + [""] * (count - 1)]
        table = Table(rows, colWidths=widths, repeatRows=1)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, RULE),
            ("BACKGROUND", (0, 0), (-1, 0), SHADE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        heading = Paragraph(markup(f"{number}. {section.title}"), styles["h2"])
        # A short table stays on one page with its heading; a long one flows, its header row repeated.
        story += [KeepTogether([heading, table])] if len(rows) < 25 else [heading, table]
    story.append(Paragraph(markup(_("Ghi chú")), styles["h2"]))
    story += [p(f"– {note}", "small") for note in notes(report, language)]
    story.append(Spacer(0, 8 * mm))
    signature = Table([
        [p(_("NGƯỜI LẬP BIỂU"), "center_bold"), p(_("THỦ TRƯỞNG ĐƠN VỊ"), "center_bold")],
        [p(_("(Ký, ghi rõ họ tên)"), "center"), p(_("(Ký, ghi rõ họ tên, đóng dấu)"), "center")],
        [Spacer(0, 16 * mm), ""],
        [p(made_by, "center"), ""],
    ], colWidths=[width / 2, width / 2])
    story.append(KeepTogether([signature]))

    footer = clean(_("case56 · Báo cáo thống kê %(period)s · lập lúc %(at)s",
                     period=report.period.id, at=vn_datetime(report.generated_at)))
    # The confidentiality stamp (Decree 56 Art. 24.3) at the head of every page.
    stamp_lines = wrap_text((mark or stamp.choose("report", locale=language)).text(language), FONT_BOLD, 7,
                            A4[0] - 36 * mm)

    def decorate(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT_BOLD, 7)
        canvas.setFillColor(LATE)
        for i, line in enumerate(stamp_lines[:2]):
            canvas.drawString(18 * mm, A4[1] - 9 * mm - i * 8.5, line)
        canvas.setFillColor(colors.black)
        canvas.setFont(FONT, 7.5)
        canvas.drawString(18 * mm, 10 * mm, footer)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, clean(_("Trang %(n)s", n=doc.page)))
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=clean(_("Báo cáo số liệu bảo vệ trẻ em")),
                            author="case56", subject=clean(report.period.label(language)))
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue()
