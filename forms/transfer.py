"""Transfer of a case to another commune (a case follows the commune where the child lives).

Not in the decree's text; expected by users. Reopening a closed case is forms/reopen.py.
"""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.registry import register
from forms.kit.schema import FormSchema
from forms.kit.sensitivity import PRIVATE


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
    child_new_address = f.string("Nơi cư trú mới của trẻ", "The child's new address", max_length=500,
                                 sensitivity=PRIVATE)  # as Mẫu 01's address (Decree 56 Art. 33)
