"""The chairman's decision to extend or cancel a temporary separation (Điều 32 NĐ 56/2017).

Provisional: the decree's appendix has no layout for it. Version 1 reviewed the separations of the old
combined emergency decision (forms/emergency_decision.py); version 2 reviews a Mẫu 07 separation
(forms/mau_07.py) and adds the Mẫu 03 reassessment and the court request of Art. 32.3.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from forms.emergency_decision import AUTHORITY_HELP_EN, AUTHORITY_HELP_VI, check_period
from forms.kit import fields as f
from forms.kit.choices import Choices, SeparationAction
from forms.kit.messages import code
from forms.kit.registry import register
from forms.kit.schema import Errors, FormSchema
from forms.mau_07 import MAX_SEPARATION_DAYS


@register
class SeparationReviewV1(FormSchema):
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


class SeparationStep(Choices):
    """What the chairman decides at a review of a running separation (Điều 32 khoản 3 NĐ 56/2017;
    Điều 14 khoản 3 Thông tư 14/2020/TT-BLĐTBXH)."""

    extend = ("extend", "Gia hạn cách ly", "Extend the separation")
    reassess = ("reassess", "Giao đánh giá lại cha, mẹ, người chăm sóc (Mẫu số 03)",
                "Have the parents or caregiver reassessed (Form 03)")
    cancel = ("cancel", "Hủy bỏ quyết định cách ly, trẻ em trở về gia đình",
              "Cancel the separation: the child returns home")
    court = ("court", "Đề nghị Tòa án nhân dân khu vực tiếp tục cách ly / hạn chế quyền của cha mẹ",
             "Ask the regional People's Court to continue the separation / restrict parental rights")


@register
class SeparationReviewV2(FormSchema):
    """Version 2: the review of a Mẫu 07 separation. Cancelling needs a Mẫu 03 reassessment of the parents made
    after the separation was decided (32.3); going beyond 15 days needs the court's decision (32.3, Law Art.
    52.3). Both references are filled in by the engine from the case, never typed."""

    class Meta:
        name = "separation_review"
        version = 2
        title_vi = "Xem xét gia hạn, hủy bỏ hoặc đề nghị Tòa án tiếp tục cách ly trẻ em"
        title_en = "Extend, cancel or ask the court to continue a temporary separation"
        article = "Điều 32 khoản 3 NĐ 56/2017/NĐ-CP; Điều 52 khoản 3 Luật Trẻ em"
        provisional = True

    action = f.choice(
        SeparationStep, "Quyết định", "Decision", required=True,
        help_vi="Tối đa 15 ngày kể cả gia hạn; hủy bỏ khi cha, mẹ, người chăm sóc được đánh giá bảo đảm an toàn "
                "theo Mẫu số 03; quá 15 ngày chỉ khi Tòa án quyết định (Điều 32.3).",
        help_en="At most 15 days including extensions; cancel once the parents are assessed safe on Form 03; "
                "beyond 15 days only on the court's decision (Art. 32.3).")
    new_end = f.date("Ngày kết thúc mới", "New end date",
                     required_if={"action": "extend"}, required_if_message="extend_required",
                     only_if={"action": "extend"}, only_if_message="extend_only")
    reason = f.text("Lý do", "Reason", required=True)
    decision_number = f.string("Số quyết định", "Decision number", max_length=100)
    decided_at = f.datetime("Thời điểm quyết định", "Decided at", past=True)
    # Filled in by the engine from the running separation and the case's rows; checked when present.
    current_start = f.date("Ngày bắt đầu cách ly", "Separation started")
    current_end = f.date("Ngày kết thúc hiện tại", "Current end date")
    authority_reference = f.text("Quyết định của Tòa án cho phép tiếp tục cách ly",
                                 "The court's decision to continue the separation", max_length=2000)
    authority_until = f.date("Tòa án cho phép cách ly đến ngày", "Court allows separation until")
    reassessment_task_id = f.integer(
        "Báo cáo đánh giá lại theo Mẫu số 03", "Form 03 reassessment", min_value=1,
        required_if={"action": "cancel"}, required_if_message="separation_cancel_needs_mau_03")

    @validates_schema(skip_on_field_errors=False)
    def _new_period(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = Errors()
        new_end = data.get("new_end")
        if data.get("action") == "extend" and new_end is not None:
            start, current_end = data.get("current_start"), data.get("current_end")
            until = data.get("authority_until")
            if current_end is not None and new_end <= current_end:
                errors.add("new_end", code("new_end_not_later"))
            if start is not None and new_end < start:
                errors.add("new_end", code("end_before_start"))
            elif start is not None and (new_end - start).days > MAX_SEPARATION_DAYS:
                if not data.get("authority_reference"):
                    errors.add("new_end", code("separation_needs_court", max=MAX_SEPARATION_DAYS))
                elif until is not None and new_end > until:
                    errors.add("new_end", code("separation_beyond_court"))
        errors.raise_if_any()
