"""The statistics report as files: the tables (`sections`, `meta`, `notes`) the page, the exports and the
`case56 report` command all show, and CSV (UTF-8 with BOM), XLSX and PDF built from them; `safe_cell` neutralises
spreadsheet formulas for every CSV this app writes (the supervisor's overdue list too). Every download is
audited (`audit_export`), from the web, the API or the command line.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from engine import audit, clock
from engine import statistics as st
from web.filters import vn_date, vn_datetime

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "pdf": "application/pdf"}


def pick(vi: str, en: str, language: str) -> str:
    return en if language == "en" else vi


# -- tables shared by the page, the exports and the CLI ------------------------------------------------------
@dataclass
class Section:
    key: str
    title: str
    header: list[str]
    rows: list[list[Any]]
    numeric_from: int = 1  # columns from this index on hold numbers
    sheet: str = ""  # a short name for the spreadsheet tab (31 characters at most)


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def period_text(period: st.Period, language: str) -> str:
    return _("%(label)s (từ %(start)s đến %(end)s)", label=period.label(language), start=vn_date(period.start),
             end=vn_date(period.end))


def due_text(period: st.Period) -> str:
    if period.due is None:
        return ""
    text = _("Hạn gửi báo cáo: trước ngày %(d)s", d=vn_date(period.due))
    return text + (" " + _("[cần xác nhận]") if period.to_confirm else "")


def sections(report: st.Report, language: str) -> list[Section]:
    children = report.children
    breakdown: list[list[Any]] = [[_("Tổng số"), "", children.total]]
    for group, items in ((_("Giới tính"), children.by_sex), (_("Nhóm tuổi"), children.by_age),
                         (_("Môi trường xảy ra xâm hại"), children.by_environment),
                         (_("Hình thức xâm hại"), children.by_form)):
        breakdown += [[group, item.label(language), item.count] for item in items]
    breakdown.append([_("Hình thức xâm hại"), _("Chưa ghi hình thức xâm hại"), children.without_form])
    units = [[r.province_name, r.commune_name, r.cases, r.abused_children, r.closed, r.open_at_end]
             for r in report.communes]
    units += [[r.province_name, _("Toàn tỉnh"), r.cases, r.abused_children, r.closed, r.open_at_end]
              for r in report.provinces]
    stage_rows: list[list[Any]] = [[pick(r.title_vi, r.title_en, language), r.cases] for r in report.stages]
    stage_rows.append([_("Tổng số hồ sơ đang mở"), report.open_cases])
    return [
        Section("indicator_0101", _("Chỉ tiêu 0101: Số trẻ em bị xâm hại"),
                [_("Phân tổ"), _("Nhóm"), _("Số trẻ em")], breakdown, numeric_from=2, sheet=_("Chỉ tiêu 0101")),
        Section("categories", _("Hồ sơ tiếp nhận theo loại thông tin"),
                [_("Loại thông tin"), _("Số hồ sơ"), _("Số trẻ em"), _("Trong đó: không có cơ sở")],
                [[pick(r.label_vi, r.label_en, language), r.cases, r.children, r.no_basis]
                 for r in report.categories], sheet=_("Loại thông tin")),
        Section("units", _("Theo xã/phường và tỉnh"),
                [_("Tỉnh/thành phố"), _("Xã/phường"), _("Số hồ sơ tiếp nhận"), _("Số trẻ em bị xâm hại (0101)"),
                 _("Số hồ sơ đóng trong kỳ"), _("Số hồ sơ đang mở cuối kỳ")], units, numeric_from=2,
                sheet=_("Theo đơn vị")),
        Section("compliance", _("Thực hiện thời hạn theo bước"),
                [_("Xã/phường"), _("Bước"), _("Đúng hạn"), _("Trễ hạn"), _("Đang quá hạn"), _("Đang trong hạn")],
                [[r.commune_name, pick(r.title_vi, r.title_en, language), r.on_time, r.late, r.overdue, r.pending]
                 for r in report.compliance], numeric_from=2, sheet=_("Tuân thủ thời hạn")),
        Section("durations", _("Thời gian xử lý (tính từ khi tiếp nhận thông tin)"),
                [_("Chỉ số"), _("Số hồ sơ"), _("Trung vị (giờ)"), _("Phân vị 90 (giờ)")],
                [[pick(d.label_vi, d.label_en, language), d.count, hours(d.median_seconds), hours(d.p90_seconds)]
                 for d in report.durations], sheet=_("Thời gian xử lý")),
        Section("stages", _("Hồ sơ đang mở theo bước (hiện tại)"), [_("Bước đang mở"), _("Số hồ sơ")], stage_rows,
                sheet=_("Đang mở theo bước")),
    ]


def meta(report: st.Report, language: str) -> list[tuple[str, str]]:
    """The report's heading facts, as (label, value) lines."""
    lines = [
        (_("Kỳ báo cáo"), period_text(report.period, language)),
        (_("Phạm vi"), report.scope.label(language)),
        (_("Thời điểm lập"), vn_datetime(report.generated_at)),
    ]
    if report.period.due:
        lines.append((_("Hạn gửi"), due_text(report.period)))
    if report.partial:
        lines.append((_("Lưu ý"), _("Kỳ báo cáo chưa kết thúc: số liệu tính đến thời điểm lập báo cáo.")))
    if report.age_groups_to_confirm:
        lines.append((_("Nhóm tuổi"), _("Cách chia nhóm tuổi là mặc định cấu hình, [cần xác nhận] theo Thông tư "
                                        "13/2021/TT-BLĐTBXH.")))
    return lines


def notes(report: st.Report, language: str) -> list[str]:
    return [pick(vi, en, language) for vi, en in report.notes]


# -- exports -------------------------------------------------------------------------------------------------
def safe_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas in text (unit names come from the database)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def to_csv(report: st.Report, language: str) -> bytes:
    """UTF-8 with a BOM so that Excel reads the Vietnamese text; one block per table."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Báo cáo số liệu bảo vệ trẻ em")])
    for label, value in meta(report, language):
        writer.writerow([label, safe_cell(value)])
    for section in sections(report, language):
        writer.writerow([])
        writer.writerow([section.title])
        writer.writerow(section.header)
        for row in section.rows:
            writer.writerow([safe_cell(v) for v in row])
    writer.writerow([])
    writer.writerow([_("Ghi chú")])
    for note in notes(report, language):
        writer.writerow([note])
    return out.getvalue().encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", title)[:31].strip()
    while name in used:
        name = name[:28] + f"({len(used)})"
    used.add(name)
    return name


def to_xlsx(report: st.Report, language: str) -> bytes:
    """One sheet of heading facts and notes, then one sheet per table, figures as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    used: set[str] = set()
    info = book.active
    info.title = _sheet_title(_("Thông tin"), used)
    info.append([_("Báo cáo số liệu bảo vệ trẻ em")])
    info["A1"].font = Font(bold=True, size=13)
    for label, value in meta(report, language):
        info.append([label, safe_cell(value)])
    info.append([])
    info.append([_("Ghi chú")])
    for note in notes(report, language):
        info.append([note])
        info.cell(row=info.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    info.column_dimensions["A"].width = 28
    info.column_dimensions["B"].width = 80
    for section in sections(report, language):
        sheet = book.create_sheet(_sheet_title(section.sheet or section.title, used))
        sheet.append([section.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append(section.header)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in section.rows:
            sheet.append([safe_cell(v) for v in row])
        for index, _title in enumerate(section.header, start=1):
            width = 14 if index > section.numeric_from else 44
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@functools.cache
def _pdf_styles() -> dict[str, Any]:
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    from web.pdf.toolkit import FONT, FONT_BOLD

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


def to_pdf(report: st.Report, language: str, made_by: str = "") -> bytes:
    """The report to attach to the periodic report: national header, heading facts, the tables, notes and a
    signature block. Vietnamese in DejaVu Sans (web.pdf.toolkit registers it); all text NFC, escaped."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from web.pdf.toolkit import FONT, clean, markup, register_fonts

    register_fonts()
    styles = _pdf_styles()

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
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")),
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

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
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


def export(report: st.Report, fmt: str, language: str, made_by: str = "") -> bytes:
    if fmt == "csv":
        return to_csv(report, language)
    if fmt == "xlsx":
        return to_xlsx(report, language)
    if fmt == "pdf":
        return to_pdf(report, language, made_by)
    raise ValueError(f"unknown format {fmt!r}")


def file_name(report: st.Report, fmt: str) -> str:
    unit = report.scope.commune or report.scope.province
    code = re.sub(r"[^A-Za-z0-9_-]", "", unit.code) if unit else "toan-quoc"
    period = re.sub(r"[^A-Za-z0-9_-]", "", report.period.id.replace("..", "_"))
    return f"bao-cao-{period}-{code}.{fmt}"


def audit_export(session: Session, username: str, report: st.Report, fmt: str, channel: str) -> None:
    """A download of figures is audited like any export (who, which period and unit, which format)."""
    audit.append(session, username, "statistics_export", None, {
        "format": fmt, "period": report.period.id, "channel": channel,
        "province": report.scope.province.code if report.scope.province else None,
        "commune": report.scope.commune.code if report.scope.commune else None,
    })
    session.commit()


