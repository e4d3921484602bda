"""The statistics report as files: the tables (`sections`, `meta`, `notes`) the page, the exports and the
`case56 report` command all show, and CSV (UTF-8 with BOM), XLSX and PDF built from them; `safe_cell` neutralises
spreadsheet formulas for every CSV this app writes (the supervisor's overdue list too). The PDF is drawn in
web/pdf/statistics.py. Every file carries its confidentiality stamp (engine.stamp, Decree 56 Art. 24.3: CSV its first
line, XLSX the first line of its first sheet and every sheet's printed header, PDF every page), chosen per export.
Every download is audited (`audit_export`, with the stamp), from the web, the API or the command line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy.orm import Session

from engine import audit, stamp
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
    # Not in Circular 13/2021: the same children by ethnicity and by the perpetrator's relationship (issue 16).
    more: list[list[Any]] = [[_("Dân tộc"), item.label(language), item.count] for item in children.by_ethnicity]
    more += [[_("Quan hệ của người gây tổn hại với trẻ"), item.label(language), item.count]
             for item in children.by_relationship]
    units = [[r.province_name, r.commune_name, r.cases, r.abused_children, r.closed, r.open_at_end]
             for r in report.communes]
    units += [[r.province_name, _("Toàn tỉnh"), r.cases, r.abused_children, r.closed, r.open_at_end]
              for r in report.provinces]
    stage_rows: list[list[Any]] = [[pick(r.title_vi, r.title_en, language), r.cases] for r in report.stages]
    stage_rows.append([_("Tổng số hồ sơ đang mở"), report.open_cases])
    return [
        Section("indicator_0101", _("Chỉ tiêu 0101: Số trẻ em bị xâm hại"),
                [_("Phân tổ"), _("Nhóm"), _("Số trẻ em")], breakdown, numeric_from=2, sheet=_("Chỉ tiêu 0101")),
        Section("ethnicity_relationship",
                _("Trẻ em bị xâm hại theo dân tộc và quan hệ của người gây tổn hại (bổ sung, ngoài Thông tư "
                  "13/2021)"),
                [_("Phân tổ"), _("Nhóm"), _("Số trẻ em")], more, numeric_from=2, sheet=_("Dân tộc, quan hệ")),
        Section("categories", _("Hồ sơ tiếp nhận theo loại thông tin"),
                [_("Loại thông tin"), pgettext("count", "Số hồ sơ"), _("Số trẻ em"), _("Trong đó: không có cơ sở")],
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
                [_("Chỉ số"), pgettext("count", "Số hồ sơ"), _("Trung vị (giờ)"), _("Phân vị 90 (giờ)")],
                [[pick(d.label_vi, d.label_en, language), d.count, hours(d.median_seconds), hours(d.p90_seconds)]
                 for d in report.durations], sheet=_("Thời gian xử lý")),
        Section("stages", _("Hồ sơ đang mở theo bước (hiện tại)"),
                [_("Bước đang mở"), pgettext("count", "Số hồ sơ")], stage_rows,
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


def _stamp(mark: stamp.Stamp | None, language: str) -> stamp.Stamp:
    return mark or stamp.choose("report", locale=language)


def to_csv(report: st.Report, language: str, mark: stamp.Stamp | None = None) -> bytes:
    """UTF-8 with a BOM so that Excel reads the Vietnamese text; the stamp first, then one block per table."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(_stamp(mark, language).text(language))])
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


def to_xlsx(report: st.Report, language: str, mark: stamp.Stamp | None = None) -> bytes:
    """One sheet of heading facts and notes, then one sheet per table, figures as numbers; the stamp heads the
    first sheet and every printed page."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    used: set[str] = set()
    info = book.active
    info.title = _sheet_title(_("Thông tin"), used)
    line = _stamp(mark, language).text(language)
    info.append([safe_cell(line)])
    info["A1"].font = Font(bold=True, color="B00020")
    info.append([_("Báo cáo số liệu bảo vệ trẻ em")])
    info["A2"].font = Font(bold=True, size=13)
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
    for sheet in book.worksheets:  # Excel's header codes start with "&": the stamp's own are doubled
        sheet.oddHeader.center.text = line.replace("&", "&&")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export(report: st.Report, fmt: str, language: str, made_by: str = "", mark: stamp.Stamp | None = None) -> bytes:
    if fmt == "csv":
        return to_csv(report, language, mark)
    if fmt == "xlsx":
        return to_xlsx(report, language, mark)
    if fmt == "pdf":
        from web.pdf.statistics import to_pdf  # here: ReportLab is loaded only when a PDF is asked for

        return to_pdf(report, language, made_by, _stamp(mark, language))
    raise ValueError(f"unknown format {fmt!r}")


def file_name(report: st.Report, fmt: str) -> str:
    unit = report.scope.commune or report.scope.province
    code = re.sub(r"[^A-Za-z0-9_-]", "", unit.code) if unit else "toan-quoc"
    period = re.sub(r"[^A-Za-z0-9_-]", "", report.period.id.replace("..", "_"))
    return f"bao-cao-{period}-{code}.{fmt}"


def audit_export(session: Session, username: str, report: st.Report, fmt: str, channel: str,
                 mark: stamp.Stamp | None = None) -> None:
    """A download of figures is audited like any export (who, which period and unit, which format, which stamp)."""
    audit.append(session, username, "statistics_export", None, {
        **(mark.audit() if mark is not None else {}),
        "format": fmt, "period": report.period.id, "channel": channel,
        "province": report.scope.province.code if report.scope.province else None,
        "commune": report.scope.commune.code if report.scope.commune else None,
    })
    session.commit()


