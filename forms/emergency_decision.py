"""The chairman's decision on emergency measures and temporary separation (Điều 31, 32 NĐ 56/2017).

Provisional: the decree's appendix has no layout for it. The separation's 15-day bound (Art. 32) is defined
here, where a separation starts; forms/separation_review.py checks an extension against the same bound.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from forms.kit import fields as f
from forms.kit.choices import EmergencyMeasure
from forms.kit.messages import code
from forms.kit.registry import register
from forms.kit.schema import Errors, FormSchema

# Điều 32 NĐ 56/2017: temporary separation lasts at most 15 days unless a competent authority
# requires it to continue.
MAX_SEPARATION_DAYS = 15

AUTHORITY_HELP_VI = ("Số, ngày văn bản của cơ quan có thẩm quyền yêu cầu tiếp tục cách ly: bắt buộc nếu quá "
                     f"{MAX_SEPARATION_DAYS} ngày (Điều 32 NĐ 56/2017).")
AUTHORITY_HELP_EN = ("The competent authority's request to continue the separation: required beyond "
                     f"{MAX_SEPARATION_DAYS} days (Decree 56/2017 Art. 32).")


def check_period(errors: Errors, data: dict[str, Any], days: int) -> None:
    """Beyond the 15 days the competent authority's request must be referenced (Art. 32). Skipped
    when that field itself failed (it is then absent from ``data`` and already reported)."""
    if days > MAX_SEPARATION_DAYS and "authority_reference" in data and not data["authority_reference"]:
        errors.add("authority_reference", code("separation_too_long", max=MAX_SEPARATION_DAYS, days=days))


@register
class EmergencyDecision(FormSchema):
    class Meta:
        name = "emergency_decision"
        version = 1
        title_vi = "Quyết định áp dụng biện pháp bảo vệ khẩn cấp, tạm thời cách ly trẻ em"
        title_en = "Decision on emergency protection measures and temporary separation"
        article = "Điều 31, 32 NĐ 56/2017/NĐ-CP"
        provisional = True

    decision_number = f.string("Số quyết định", "Decision number", max_length=100)
    decided_at = f.datetime(
        "Thời điểm quyết định", "Decided at", required=True, past=True,
        help_vi="Trong 12 giờ kể từ khi nhận thông tin (Điều 26.3 NĐ 56/2017).",
        help_en="Within 12 hours of receiving the information (Decree 56/2017 Art. 26.3).",
    )
    measures = f.multichoice(
        EmergencyMeasure, "Biện pháp khẩn cấp", "Emergency measures",
        help_vi="Điều 31 NĐ 56/2017; Điều 50 Luật Trẻ em.",
        help_en="Decree 56/2017 Art. 31; Law on Children Art. 50.",
    )
    measures_detail = f.text("Nội dung cụ thể của các biện pháp", "Details of the measures")
    separate = f.boolean(
        "Tạm thời cách ly trẻ khỏi môi trường, người gây tổn hại",
        "Temporarily separate the child from the harmful environment or person", required=True,
        help_vi=f"Tối đa {MAX_SEPARATION_DAYS} ngày, trừ khi cơ quan có thẩm quyền yêu cầu (Điều 32).",
        help_en=f"At most {MAX_SEPARATION_DAYS} days unless a competent authority requires more (Art. 32).",
    )
    separation_start = f.date("Ngày bắt đầu cách ly", "Separation starts",
                              required_if={"separate": True}, required_if_message="separation_required",
                              only_if={"separate": True}, only_if_message="separation_only")
    separation_end = f.date("Ngày kết thúc cách ly", "Separation ends",
                            required_if={"separate": True}, required_if_message="separation_required",
                            only_if={"separate": True}, only_if_message="separation_only")
    separation_place = f.string("Nơi tạm trú an toàn / người chăm sóc thay thế",
                                "Safe place / alternative caregiver", max_length=500,
                                only_if={"separate": True}, only_if_message="separation_only")
    authority_reference = f.text("Văn bản yêu cầu của cơ quan có thẩm quyền",
                                 "Competent authority's request", max_length=2000,
                                 help_vi=AUTHORITY_HELP_VI, help_en=AUTHORITY_HELP_EN)

    @validates_schema(skip_on_field_errors=False)
    def _measures_and_period(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = Errors()
        if data.get("separate") is False and data.get("measures") == []:
            errors.add("measures", code("measure_or_separation"))
        start, end = data.get("separation_start"), data.get("separation_end")
        if data.get("separate") and start is not None and end is not None:
            if end < start:
                errors.add("separation_end", code("end_before_start"))
            else:
                check_period(errors, data, (end - start).days)
        errors.raise_if_any()
