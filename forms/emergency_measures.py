"""The emergency intervention (Điều 31 NĐ 56/2017): the measures taken for a child who needs protection at once.

Art. 31 has no form of its own: this is case56's record of what was done within the 12 hours (Art. 26.3,
31.2). Temporarily separating the child from the parents is a different decision with its own form (Mẫu số 07,
Art. 32; forms/mau_07.py): here the officer only records that the chairman is asked to take it, which opens
that decision.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from forms.kit import fields as f
from forms.kit.choices import EmergencyMeasure
from forms.kit.messages import code
from forms.kit.registry import register
from forms.kit.schema import Errors, FormSchema


@register
class EmergencyMeasures(FormSchema):
    class Meta:
        name = "emergency_measures"
        version = 1
        title_vi = "Biện pháp can thiệp khẩn cấp (Điều 31)"
        title_en = "Emergency intervention measures (Art. 31)"
        article = "Điều 26 khoản 3, Điều 31 NĐ 56/2017/NĐ-CP"
        provisional = True  # Art. 31 prescribes no form

    decided_at = f.datetime(
        "Thời điểm quyết định", "Decided at", required=True, past=True,
        help_vi="Nhanh nhất có thể và không quá 12 giờ từ khi nhận được thông tin (Điều 26.3, 31.2 NĐ 56/2017).",
        help_en="As fast as possible and within 12 hours of receiving the information (Decree 56/2017 "
                "Art. 26.3, 31.2).",
    )
    decision_number = f.string("Số văn bản (nếu có)", "Document number (if any)", max_length=100)
    measures = f.multichoice(
        EmergencyMeasure, "Biện pháp can thiệp khẩn cấp", "Emergency measures",
        help_vi="Điều 31 khoản 3–5 NĐ 56/2017; Điều 50 Luật Trẻ em.",
        help_en="Decree 56/2017 Art. 31.3–31.5; Law on Children Art. 50.",
    )
    measures_detail = f.text("Nội dung cụ thể của các biện pháp", "Details of the measures")
    police_unit = f.string("Cơ quan công an phối hợp", "Police unit involved", max_length=500,
                           help_vi="Điều 31.3.a, 31.4 NĐ 56/2017.", help_en="Decree 56/2017 Art. 31.3.a, 31.4.")
    health_facility = f.string("Cơ sở khám bệnh, chữa bệnh", "Health facility", max_length=500,
                               help_vi="Điều 31.5 NĐ 56/2017.", help_en="Decree 56/2017 Art. 31.5.")
    separate = f.boolean(
        "Đề nghị Chủ tịch UBND cấp xã quyết định tạm thời cách ly trẻ em (Mẫu số 07)",
        "Ask the commune chairman to decide a temporary separation (Form 07)", required=True,
        help_vi="Mở bước “Quyết định tạm thời cách ly trẻ em” theo Mẫu số 07 (Điều 32 NĐ 56/2017).",
        help_en="Opens the step “Temporary separation decision” on Form 07 (Decree 56/2017 Art. 32).",
    )
    separation_reason = f.text(
        "Lý do đề nghị cách ly", "Why separation is asked for", max_length=4000,
        required_if={"separate": True}, required_if_message="separation_required",
        only_if={"separate": True}, only_if_message="separation_only")

    @validates_schema(skip_on_field_errors=False)
    def _something_done(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = Errors()
        if data.get("separate") is False and not data.get("measures"):
            errors.add("measures", code("measure_or_separation"))
        errors.raise_if_any()
