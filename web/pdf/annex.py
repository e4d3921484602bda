"""The dossier's annex of unsettled law ("[cần xác nhận]"): what the law in force leaves open and case56 fills
with a configurable default, listed once with its article, so that no flag appears inside the official body of a
printed form. Items: the time limits of this case whose rule is still to confirm (processes/deadlines.toml), the
12-hour clock's start (intake point or commune receipt, Art. 26.3, 31.2, 32.2), forms whose official layout is not
found (a provisional layout), and working-day limits counted on a year without an official calendar ("ước tính").
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Spacer

import forms
from engine.calendar import estimate_year
from web import labels
from web.pdf.toolkit import PAD, WIDTH, Outline, cell, grid, header_row, para

TWELVE_HOURS = ("initial_assessment", "emergency")  # rules counted from the receipt of the information


def items(c: Any) -> list[tuple[str, str, str]]:
    """(item, article, what case56 does meanwhile) for the case `c` (web.pdf.dossier._Case), each once."""
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    tasks = [e.task for e in c.file.timeline]
    for task in tasks:
        rule = c.rules.rules.get(task.rule or "")
        if rule is None or rule.name in seen:
            continue
        basis = labels.rule_label(rule.name, c.locale, c.rules)
        if rule.to_confirm and basis is not None:
            seen.add(rule.name)
            out.append((_("Thời hạn: %(l)s", l=basis.label), rule.article,
                        _("Mặc định cấu hình của case56, chờ văn bản hướng dẫn.")))
    if any((t.rule or "") in TWELVE_HOURS for t in tasks):
        out.append((_("Mốc bắt đầu của thời hạn 12 giờ: thời điểm nơi tiếp nhận hay UBND xã nhận thông tin"),
                    "Điều 26 khoản 3, Điều 31 khoản 2, Điều 32 khoản 2 NĐ 56/2017/NĐ-CP",
                    _("Ghi cả hai thời điểm; tính từ thời điểm sớm hơn.")))
    provisional: set[str] = set()
    for task in c.file.forms():
        try:
            spec = forms.describe(task.form or "", version=task.form_version, locale=c.locale)
        except forms.UnknownForm:
            continue
        if spec.get("provisional") and task.form not in provisional:
            provisional.add(task.form or "")
            out.append((_("Bố cục chính thức của biểu mẫu “%(f)s”", f=spec["title"]), spec.get("article") or "",
                        _("Bố cục tạm thời theo nội dung điều luật; đối chiếu khi có mẫu chính thức.")))
    years = sorted({y for t in tasks if (y := estimate_year(
        bool((r := c.rules.rules.get(t.rule or "")) and r.counts_working_days), t.due_at)) is not None})
    for year in years:
        out.append((_("Lịch nghỉ chính thức năm %(y)s", y=year), _("Điều 111, 112 Bộ luật Lao động 2019"),
                    _("Thời hạn theo ngày làm việc năm %(y)s là ước tính; tính lại khi lịch được khai báo.", y=year)))
    return out


def annex_section(c: Any, outline: Outline) -> list[Flowable]:
    """VI. The annex page: every unsettled item with its article, or a line saying there is none."""
    story: list[Flowable] = [
        CondPageBreak(80 * mm),
        outline.heading(_("VI. PHỤ LỤC: NHỮNG ĐIỂM PHÁP LUẬT CHƯA QUY ĐỊNH RÕ [cần xác nhận]"), 0,
                        _("VI. Phụ lục: những điểm cần xác nhận")),
        para(_("Các nội dung dưới đây chưa được văn bản pháp luật hiện hành quy định rõ; case56 áp dụng mặc định "
               "cấu hình. Các biểu mẫu trong hồ sơ không ghi các đánh dấu này.")), Spacer(1, 2 * mm)]
    found = items(c)
    if not found:
        return [*story, para(_("Hồ sơ này không có điểm nào cần xác nhận.")), Spacer(1, 6 * mm)]
    widths = [18, WIDTH * 0.38, WIDTH * 0.27]
    widths.append(WIDTH - sum(widths))
    w = [x - 2 * PAD for x in widths]
    rows: list[list[Any]] = [header_row(["#", _("Nội dung"), _("Căn cứ"), _("case56 áp dụng")], widths)]
    for n, (item, article, meanwhile) in enumerate(found, start=1):
        rows.append([str(n), cell(item, w[1], 7.5), cell(article, w[2], 7.5), cell(meanwhile, w[3], 7.5)])
    return [*story, grid(rows, widths), Spacer(1, 6 * mm)]
