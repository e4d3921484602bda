"""Referral to the police: the parallel track when a report concerns a crime (Điều 25.3 NĐ 56/2017/NĐ-CP).

Its outcome is forms/police_outcome.py.
"""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.registry import register
from forms.kit.schema import FormSchema


@register
class PoliceReferral(FormSchema):
    class Meta:
        name = "police_referral"
        version = 1
        title_vi = "Chuyển thông tin đến cơ quan công an"
        title_en = "Referral to the police"
        article = "Điều 25.3 NĐ 56/2017/NĐ-CP"
        provisional = False

    referred_at = f.datetime("Thời điểm chuyển", "Referred at", required=True, past=True)
    police_unit = f.string("Cơ quan công an nhận", "Police unit", max_length=500)
    reference = f.string("Số văn bản, số tiếp nhận", "Reference", max_length=200)
    content = f.text("Nội dung chuyển", "Content of the referral")
