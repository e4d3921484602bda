"""Moving and linking cases: transfer to another commune, reopening a closed case.

Not in the decree's text; expected by users (a case follows the commune where the child lives).
"""

from __future__ import annotations

from forms import fields as f
from forms.registry import register
from forms.schema import FormSchema


@register
class Transfer(FormSchema):
    class Meta:
        name = "transfer"
        version = 1
        title_vi = "Chuyển hồ sơ trẻ em đến xã, phường khác"
        title_en = "Transfer of the case to another commune"
        article = "Điều 26 NĐ 56/2017/NĐ-CP (UBND cấp xã nơi xảy ra vụ việc / nơi trẻ cư trú)"
        provisional = False

    to_commune = f.string("Mã xã/phường nhận hồ sơ", "Code of the receiving commune", required=True,
                          max_length=32)
    reason = f.text("Lý do chuyển", "Reason", required=True)
    child_new_address = f.string("Nơi cư trú mới của trẻ", "The child's new address", max_length=500)


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
