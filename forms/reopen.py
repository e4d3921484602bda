"""Reopening: a new report about the child of a closed case opens a new case linked to it.

Not in the decree's text; expected by users (new information about the same child, Điều 25).
"""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.registry import register
from forms.kit.schema import FormSchema


@register
class Reopen(FormSchema):
    class Meta:
        name = "reopen"
        version = 1
        title_vi = "Mở lại hồ sơ (vụ việc mới liên kết với hồ sơ đã đóng)"
        title_en = "Reopening (a new case linked to the closed one)"
        article = "Điều 25 NĐ 56/2017/NĐ-CP (thông tin mới về cùng trẻ em)"
        provisional = False

    reason = f.text("Lý do mở lại", "Reason", required=True)
    new_report_summary = f.text("Tóm tắt thông tin mới", "Summary of the new report")
