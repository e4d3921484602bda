"""The chairman's decisions (Chủ tịch UBND cấp xã).

Provisional: the decree's appendix has no layout for them; built from Art. 26, 30–32 NĐ 56/2017 and
Art. 52 of the Law on Children.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from forms import fields as f
from forms.choices import ApprovalDecision, EmergencyMeasure, PlanEndDecision, SeparationAction
from forms.messages import code
from forms.registry import register
from forms.schema import Errors, FormSchema

# Điều 32 NĐ 56/2017: temporary separation lasts at most 15 days unless a competent authority
# requires it to continue.
MAX_SEPARATION_DAYS = 15

_AUTHORITY_HELP_VI = ("Số, ngày văn bản của cơ quan có thẩm quyền yêu cầu tiếp tục cách ly: bắt buộc nếu quá "
                      f"{MAX_SEPARATION_DAYS} ngày (Điều 32 NĐ 56/2017).")
_AUTHORITY_HELP_EN = ("The competent authority's request to continue the separation: required beyond "
                      f"{MAX_SEPARATION_DAYS} days (Decree 56/2017 Art. 32).")


def _check_period(errors: Errors, data: dict[str, Any], days: int) -> None:
    """Beyond the 15 days the competent authority's request must be referenced (Art. 32). Skipped
    when that field itself failed (it is then absent from ``data`` and already reported)."""
    if days > MAX_SEPARATION_DAYS and "authority_reference" in data and not data["authority_reference"]:
        errors.add("authority_reference", code("separation_too_long", max=MAX_SEPARATION_DAYS, days=days))


@register
class NoBasisSignoff(FormSchema):
    class Meta:
        name = "no_basis_signoff"
        version = 1
        title_vi = "Ý kiến của Chủ tịch UBND cấp xã về thông tin không có căn cứ"
        title_en = "Chairman's sign-off on a report found without basis"
        article = "Điều 26.1 NĐ 56/2017/NĐ-CP"
        provisional = True

    confirm = f.boolean(
        "Đồng ý kết thúc vụ việc", "Agree to end the case", required=True,
        help_vi="Có: kết thúc vì thông tin không có căn cứ. Không: trả lại để xác minh tiếp.",
        help_en="Yes: end the case as the report has no basis. No: send it back for verification.",
    )
    note = f.text("Ý kiến", "Note", required_if={"confirm": False},
                  required_if_message="note_required_return")
    signed_at = f.datetime("Thời điểm ký", "Signed at", past=True)
    signer_name = f.string("Người ký", "Signed by")


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
                                 help_vi=_AUTHORITY_HELP_VI, help_en=_AUTHORITY_HELP_EN)

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
                _check_period(errors, data, (end - start).days)
        errors.raise_if_any()


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
                                 help_vi=_AUTHORITY_HELP_VI, help_en=_AUTHORITY_HELP_EN)
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
                    _check_period(errors, data, (new_end - start).days)
        errors.raise_if_any()


@register
class PlanApproval(FormSchema):
    class Meta:
        name = "plan_approval"
        version = 1
        title_vi = "Phê duyệt kế hoạch hỗ trợ, can thiệp"
        title_en = "Approval of the support and intervention plan"
        article = "Điều 52 Luật Trẻ em; Điều 28 NĐ 56/2017/NĐ-CP"
        provisional = True

    decision = f.choice(ApprovalDecision, "Quyết định", "Decision", required=True)
    comments = f.text("Ý kiến", "Comments", required_if={"decision": "return"},
                      required_if_message="comments_required_return")
    decision_number = f.string("Số quyết định phê duyệt", "Approval decision number", max_length=100,
                               required_if={"decision": "approve"}, required_if_message="approve_required")
    signed_at = f.datetime("Thời điểm ký", "Signed at", past=True,
                           required_if={"decision": "approve"}, required_if_message="approve_required")


@register
class PlanEnd(FormSchema):
    class Meta:
        name = "plan_end"
        version = 1
        title_vi = "Quyết định kết thúc kế hoạch hỗ trợ, can thiệp"
        title_en = "Decision to end the support and intervention plan"
        article = "Điều 30.1 NĐ 56/2017/NĐ-CP"
        provisional = True

    decision = f.choice(
        PlanEndDecision, "Quyết định", "Decision", required=True,
        help_vi="Kết thúc khi trẻ không còn nguy cơ và ổn định về thể chất, tâm lý, nhận thức, tình cảm "
                "(Điều 30.1); nếu không, xây dựng kế hoạch mới.",
        help_en="End when the child is no longer at risk and physically, psychologically, cognitively "
                "and emotionally stable (Art. 30.1); otherwise draw up a new plan.",
    )
    note = f.text("Ghi chú", "Note")
    signed_at = f.datetime("Thời điểm ký", "Signed at", past=True)
