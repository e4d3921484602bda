"""The chairman's decision to end the support and intervention plan (Điều 30.1 NĐ 56/2017).

Provisional: the decree's appendix has no layout for it.
"""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.choices import PlanEndDecision
from forms.kit.registry import register
from forms.kit.schema import FormSchema


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
