"""Statistics page and periodic reports: indicator 0101 (Thông tư 13/2021/TT-BLĐTBXH), cases by category and
unit, procedure compliance, with server-side charts and CSV / XLSX / PDF exports.

Figures come from `engine.statistics` (SQL aggregates over the case and task tables). Supervisors see their
province, officers and chairmen their commune, inspectors their scope; anyone else is refused. The exports
are built from one list of sections (`sections`), shared with the `case56 report` command
(web/statistics_cli.py); every download is audited. Charts use web/charts.py.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import false, select
from sqlalchemy.orm import Session

from engine import access, audit, clock
from engine import statistics as st
from engine.errors import EngineError, Forbidden, NotFound
from engine.models import OrgUnit
from web import engine
from web.charts import Series, stacked_bars
from web.extensions import db
from web.filters import duration, vn_date, vn_datetime
from web.gate import blueprint_gate

bp = Blueprint("statistics", __name__, url_prefix="/statistics")

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "pdf": "application/pdf"}
YEARS_OFFERED = 3
COLOURS = {"count": "#0b5cad", "on_time": "#1e7b34", "late": "#d48a00", "overdue": "#b3261e", "pending": "#8a96a3"}


def lang() -> str:
    chosen = get_locale()
    return "en" if chosen is not None and chosen.language == "en" else "vi"


def _pick(vi: str, en: str, language: str) -> str:
    return en if language == "en" else vi


def _error(message: str, status: int) -> tuple[str, int]:
    return render_template("statistics/error.html", message=message, status=status), status


bp.before_request(blueprint_gate(access.can_view_statistics))


# -- the request ---------------------------------------------------------------------------------------------
@dataclass
class Choice:
    """What the user asked for, as typed, and the field errors found in it."""

    period: str = ""
    start: str = ""
    end: str = ""
    province: str = ""
    commune: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Any) -> Choice:
        values = {name: (args.get(key) or "").strip()[:40] for name, key in
                  (("period", "period"), ("start", "from"), ("end", "to"), ("province", "province"),
                   ("commune", "commune"))}
        return cls(**values)

    def args(self) -> dict[str, str]:
        values = {"period": self.period, "from": self.start, "to": self.end, "province": self.province,
                  "commune": self.commune}
        return {k: v for k, v in values.items() if v}


def build(session: Session, actor: access.Actor, choice: Choice, language: str,
          now: datetime | None = None) -> tuple[st.Report | None, st.Scope | None]:
    """The report for `choice`, or (None, scope) with `choice.errors` filled. Forbidden propagates."""
    try:
        scope = st.resolve_scope(session, actor, choice.province or None, choice.commune or None)
    except NotFound as exc:
        choice.errors["commune" if choice.commune else "province"] = exc.message(language)
        return None, None
    except st.InvalidInput as exc:
        choice.errors[exc.field] = exc.message(language)
        return None, None
    try:
        period = st.resolve_period(choice.period or None, choice.start or None, choice.end or None,
                                   scope.province.code if scope.province else None)
    except st.InvalidInput as exc:
        choice.errors[exc.field] = exc.message(language)
        return None, scope
    steps = st.step_titles(engine().registry.current)
    return st.report(session, actor, period, choice.province or None, choice.commune or None, now=now,
                     steps=steps), scope


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
    stage_rows: list[list[Any]] = [[_pick(r.title_vi, r.title_en, language), r.cases] for r in report.stages]
    stage_rows.append([_("Tổng số hồ sơ đang mở"), report.open_cases])
    return [
        Section("indicator_0101", _("Chỉ tiêu 0101: Số trẻ em bị xâm hại"),
                [_("Phân tổ"), _("Nhóm"), _("Số trẻ em")], breakdown, numeric_from=2, sheet=_("Chỉ tiêu 0101")),
        Section("categories", _("Hồ sơ tiếp nhận theo loại thông tin"),
                [_("Loại thông tin"), _("Số hồ sơ"), _("Số trẻ em"), _("Trong đó: không có cơ sở")],
                [[_pick(r.label_vi, r.label_en, language), r.cases, r.children, r.no_basis]
                 for r in report.categories], sheet=_("Loại thông tin")),
        Section("units", _("Theo xã/phường và tỉnh"),
                [_("Tỉnh/thành phố"), _("Xã/phường"), _("Số hồ sơ tiếp nhận"), _("Số trẻ em bị xâm hại (0101)"),
                 _("Số hồ sơ đóng trong kỳ"), _("Số hồ sơ đang mở cuối kỳ")], units, numeric_from=2,
                sheet=_("Theo đơn vị")),
        Section("compliance", _("Thực hiện thời hạn theo bước"),
                [_("Xã/phường"), _("Bước"), _("Đúng hạn"), _("Trễ hạn"), _("Đang quá hạn"), _("Đang trong hạn")],
                [[r.commune_name, _pick(r.title_vi, r.title_en, language), r.on_time, r.late, r.overdue, r.pending]
                 for r in report.compliance], numeric_from=2, sheet=_("Tuân thủ thời hạn")),
        Section("durations", _("Thời gian xử lý (tính từ khi tiếp nhận thông tin)"),
                [_("Chỉ số"), _("Số hồ sơ"), _("Trung vị (giờ)"), _("Phân vị 90 (giờ)")],
                [[_pick(d.label_vi, d.label_en, language), d.count, hours(d.median_seconds), hours(d.p90_seconds)]
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
    return [_pick(vi, en, language) for vi, en in report.notes]


# -- exports -------------------------------------------------------------------------------------------------
def _cell(value: Any) -> Any:
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
        writer.writerow([label, _cell(value)])
    for section in sections(report, language):
        writer.writerow([])
        writer.writerow([section.title])
        writer.writerow(section.header)
        for row in section.rows:
            writer.writerow([_cell(v) for v in row])
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
        info.append([label, _cell(value)])
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
            sheet.append([_cell(v) for v in row])
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

    from web.dossier import FONT, FONT_BOLD

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
    signature block. Vietnamese in DejaVu Sans (web.dossier registers it); all text NFC, escaped."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from web.dossier import FONT, clean, markup, register_fonts

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


# -- the page ------------------------------------------------------------------------------------------------
def _bars(title: str, items: Iterable[tuple[str, int]], empty: str) -> Markup:
    return stacked_bars(title, [(label, (n,)) for label, n in items], [Series(_("Số lượng"), COLOURS["count"])],
                        empty_text=empty)


def charts(report: st.Report, language: str) -> dict[str, Markup]:
    children = report.children
    none = _("Không có số liệu trong kỳ.")
    by_step: dict[str, list[int]] = {}
    for row in report.compliance:
        totals = by_step.setdefault(_pick(row.title_vi, row.title_en, language), [0, 0, 0, 0])
        for index, value in enumerate((row.on_time, row.late, row.overdue, row.pending)):
            totals[index] += value
    compliance_series = [Series(_("Đúng hạn"), COLOURS["on_time"]), Series(_("Trễ hạn"), COLOURS["late"]),
                         Series(_("Đang quá hạn"), COLOURS["overdue"]), Series(_("Đang trong hạn"), COLOURS["pending"])]
    return {
        "sex": _bars(_("Trẻ em bị xâm hại theo giới tính"),
                     [(c.label(language), c.count) for c in children.by_sex], none),
        "age": _bars(_("Trẻ em bị xâm hại theo nhóm tuổi"),
                     [(c.label(language), c.count) for c in children.by_age], none),
        "environment": _bars(_("Trẻ em bị xâm hại theo môi trường"),
                             [(c.label(language), c.count) for c in children.by_environment], none),
        "form": _bars(_("Trẻ em bị xâm hại theo hình thức"),
                      [(c.label(language), c.count) for c in children.by_form], none),
        "communes": _bars(_("Hồ sơ tiếp nhận theo xã/phường"),
                          [(r.commune_name or "", r.cases) for r in report.communes], none),
        "compliance": stacked_bars(_("Thực hiện thời hạn theo bước"), [(k, v) for k, v in by_step.items()],
                                   compliance_series, empty_text=none),
        "stages": _bars(_("Hồ sơ đang mở theo bước"),
                        [(_pick(r.title_vi, r.title_en, language), r.cases) for r in report.stages],
                        _("Không có hồ sơ đang mở.")),
    }


def _options(actor: access.Actor, scope: st.Scope | None) -> dict[str, Any]:
    """Period, province and commune choices within the actor's scope."""
    province_code = scope.province.code if scope and scope.province else None
    year = clock.local(clock.now()).year
    periods = st.year_periods(range(year - YEARS_OFFERED + 1, year + 1), province_code)
    provinces: list[OrgUnit] = []
    if actor.province_id is None and actor.commune_id is None:
        provinces = list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "province").order_by(OrgUnit.name)))
    query = select(OrgUnit).where(OrgUnit.kind == "commune").order_by(OrgUnit.name)
    if actor.commune_id is not None:
        query = query.where(OrgUnit.id == actor.commune_id)
    elif actor.province_id is not None:
        query = query.where(OrgUnit.parent_id == actor.province_id)
    elif scope and scope.province:
        query = query.where(OrgUnit.parent_id == scope.province.id)
    else:
        query = query.where(false())  # a national reader picks a province first
    return {"periods": periods, "provinces": provinces, "communes": list(db.session.scalars(query))}


def period_option(period: st.Period, language: str) -> str:
    text = period_text(period, language)
    if period.due:
        text += " · " + _("hạn %(d)s", d=vn_date(period.due))
    return text


@bp.route("")
def index() -> tuple[str, int]:
    actor = current_user.actor
    language = lang()
    choice = Choice.from_args(request.args)
    try:
        report, scope = build(db.session, actor, choice, language)
    except Forbidden as exc:
        return _error(exc.message(language), 403)
    status = 400 if choice.errors else 200
    context: dict[str, Any] = {"choice": choice, "report": report, "language": language,
                               "period_option": period_option, "fixed_commune": actor.commune_id is not None,
                               **_options(actor, scope)}
    if report is not None:
        if not choice.period and not choice.start and not choice.end:
            choice.period = report.period.id  # show the default period as chosen
        context.update(sections=sections(report, language), meta=meta(report, language),
                       notes=notes(report, language), charts=charts(report, language),
                       durations=[(d, duration(d.median_seconds) if d.median_seconds is not None else "—",
                                   duration(d.p90_seconds) if d.p90_seconds is not None else "—")
                                  for d in report.durations])
    return render_template("statistics/index.html", **context), status


@bp.route("/export.<fmt>")
def download(fmt: str) -> Any:
    if fmt not in FORMATS:
        return _error(_("Định dạng tải về không hợp lệ: chọn CSV, XLSX hoặc PDF."), 404)
    actor = current_user.actor
    language = lang()
    choice = Choice.from_args(request.args)
    try:
        report, _scope = build(db.session, actor, choice, language)
    except Forbidden as exc:
        return _error(exc.message(language), 403)
    except EngineError as exc:  # pragma: no cover - build reports input errors on the choice
        return _error(exc.message(language), exc.status)
    if report is None:
        return _error("; ".join(choice.errors.values()), 400)
    body = export(report, fmt, language, made_by=current_user.full_name)
    audit_export(db.session, actor.username, report, fmt, "web")
    return Response(body, headers={
        "Content-Type": FORMATS[fmt],
        "Content-Disposition": f'attachment; filename="{file_name(report, fmt)}"',
        "Cache-Control": "no-store",
    })
