"""The chairman's decision to extend or cancel a temporary separation (Điều 32 NĐ 56/2017).

Provisional: the decree's appendix has no layout for it. The 15-day bound is the one of the emergency
decision that started the separation (forms/emergency_decision.py).
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from forms.emergency_decision import AUTHORITY_HELP_EN, AUTHORITY_HELP_VI, check_period
from forms.kit import fields as f
from forms.kit.choices import SeparationAction
from forms.kit.messages import code
from forms.kit.registry import register
from forms.kit.schema import Errors, FormSchema


@register
class SeparationReview(FormSchema):
    class Meta:
        name = "separation_review"
        version = 1
        title_vi = "Quyết định gia hạn hoặc hủy bỏ việc tạm thời cách ly trẻ em"
        title_en = "Decision to extend or cancel a temporary separation"
        article = "Điều 32 NĐ 56/2017/NĐ-CP"
        provisional = True

    action = f.choice(
        SeparationAction, "Quyết định", "Decision", required=True,
        help_vi="Hủy bỏ khi cha mẹ, người chăm sóc được đánh giá bảo đảm an toàn cho trẻ (Điều 32).",
        help_en="Cancel when the parents or caregivers are assessed able to keep the child safe (Art. 32).",
    )
    new_end = f.date("Ngày kết thúc mới", "New end date",
                     required_if={"action": "extend"}, required_if_message="extend_required",
                     only_if={"action": "extend"}, only_if_message="extend_only")
    # Filled in by the engine from the running separation; checked when present.
    current_start = f.date("Ngày bắt đầu cách ly", "Separation started")
    current_end = f.date("Ngày kết thúc hiện tại", "Current end date")
    authority_reference = f.text("Văn bản yêu cầu của cơ quan có thẩm quyền",
                                 "Competent authority's request", max_length=2000,
                                 help_vi=AUTHORITY_HELP_VI, help_en=AUTHORITY_HELP_EN)
    reason = f.text("Lý do", "Reason", required=True)
    decision_number = f.string("Số quyết định", "Decision number", max_length=100)
    decided_at = f.datetime("Thời điểm quyết định", "Decided at", past=True)

    @validates_schema(skip_on_field_errors=False)
    def _new_period(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = Errors()
        new_end = data.get("new_end")
        if data.get("action") == "extend" and new_end is not None:
            start, current_end = data.get("current_start"), data.get("current_end")
            if current_end is not None and new_end <= current_end:
                errors.add("new_end", code("new_end_not_later"))
            if start is not None:
                if new_end < start:
                    errors.add("new_end", code("end_before_start"))
                else:
                    check_period(errors, data, (new_end - start).days)
        errors.raise_if_any()
