"""The commune chairman's decision on a proposed plan adjustment (Điều 29 khoản 1 điểm a, Điều 28 khoản 4 NĐ
56/2017/NĐ-CP): approved, the activities go on under the adjusted plan (the next plan version); refused, the plan
in force goes on.

Provisional: no form is prescribed.
"""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.choices import Choices
from forms.kit.registry import register
from forms.kit.schema import FormSchema


class AdjustmentDecision(Choices):
    approve = ("approve", "Phê duyệt điều chỉnh kế hoạch", "Approve the adjustment")
    refuse = ("refuse", "Không phê duyệt; tiếp tục kế hoạch đang thực hiện",
              "Refuse; the current plan goes on")


@register
class AdjustmentApproval(FormSchema):
    class Meta:
        name = "adjustment_approval"
        version = 1
        title_vi = "Phê duyệt điều chỉnh kế hoạch hỗ trợ, can thiệp"
        title_en = "Approval of the plan adjustment"
        article = "Điều 29 khoản 1 điểm a, Điều 28 khoản 4 NĐ 56/2017/NĐ-CP"
        provisional = True

    decision = f.choice(AdjustmentDecision, "Quyết định", "Decision", required=True)
    comments = f.text("Ý kiến", "Comments", max_length=4000, required_if={"decision": "refuse"},
                      required_if_message="comments_required_return")
    decision_number = f.string("Số quyết định điều chỉnh", "Adjustment decision number", max_length=100,
                               required_if={"decision": "approve"}, required_if_message="approve_required")
    signed_at = f.datetime("Thời điểm ký", "Signed at", past=True,
                           required_if={"decision": "approve"}, required_if_message="approve_required")
