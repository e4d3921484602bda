"""Báo cáo thực hiện một hoạt động của kế hoạch (Điều 52.2 Luật Trẻ em; Điều 29 NĐ 56/2017 [to confirm])."""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.choices import ActivityStatus
from forms.kit.registry import register
from forms.kit.schema import FormSchema


@register
class ActivityReport(FormSchema):
    class Meta:
        name = "activity_report"
        version = 1
        title_vi = "Báo cáo kết quả thực hiện hoạt động hỗ trợ, can thiệp"
        title_en = "Report on a plan activity"
        article = "Điều 52.2 Luật Trẻ em; Điều 29 NĐ 56/2017/NĐ-CP"
        provisional = False

    status = f.choice(ActivityStatus, "Tình trạng", "Status", required=True)
    result = f.text("Kết quả thực hiện", "Result", required=True)
    completed_on = f.date("Ngày hoàn thành", "Completed on", past=True)
    notes = f.text("Ghi chú, khó khăn, đề xuất", "Notes, difficulties, proposals")
