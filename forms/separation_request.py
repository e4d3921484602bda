"""A request that the commune chairman decide a temporary separation (Điều 32 NĐ 56/2017), made from the case page
at any point of an open case — during verification, assessment, planning or intervention, e.g. when the parents
refuse the plan (32.1). It opens the chairman's Mẫu 07 decision, due 12 hours after the information was received
(32.2).
"""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.registry import register
from forms.kit.schema import FormSchema
from forms.mau_07 import SeparationGround


@register
class SeparationRequest(FormSchema):
    class Meta:
        name = "separation_request"
        version = 1
        title_vi = "Đề nghị quyết định tạm thời cách ly trẻ em"
        title_en = "Request for a temporary separation decision"
        article = "Điều 32 NĐ 56/2017/NĐ-CP"
        provisional = True

    information_received_at = f.datetime(
        "Thời điểm tiếp nhận thông tin", "Information received at", required=True, past=True,
        help_vi="Thời hạn 12 giờ để Chủ tịch quyết định tính từ thời điểm này (Điều 32 khoản 2).",
        help_en="The chairman's 12 hours run from this moment (Art. 32.2).")
    ground = f.choice(SeparationGround, "Căn cứ đề nghị (Điều 32 khoản 1)", "Ground (Art. 32.1)", required=True)
    reason = f.text("Thông tin, lý do đề nghị", "What happened, why", max_length=8000, required=True)
