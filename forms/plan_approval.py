"""The chairman's approval of the support and intervention plan (Điều 52 Luật Trẻ em; Điều 28 NĐ 56/2017).

Provisional: the decree's appendix has no layout for it.
"""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.choices import ApprovalDecision
from forms.kit.registry import register
from forms.kit.schema import FormSchema


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
