"""Plan adjustment during implementation (Điều 29 khoản 1 điểm a NĐ 56/2017): the officer proposes changing the
approved plan "phù hợp với thay đổi của cá nhân trẻ em và mức độ an toàn của môi trường", and the commune chairman
approves it within 02 working days (Art. 28.4) or refuses it (forms/adjustment_approval.py).

The proposal carries the activities to carry out from now on, in the layout of the newest Mẫu 04 (the plan's own
form, used as a whole): approved, they replace the running activities and become the next plan version.
Activities already reported stay in the case as they were.
"""

from __future__ import annotations

import copy

from forms.kit import fields as f
from forms.kit.registry import get, register
from forms.kit.schema import FormSchema

_MAU_04 = get("mau_04").schema._declared_fields  # the current plan layout (forms/mau_04.py is imported first)


@register
class PlanAdjustment(FormSchema):
    class Meta:
        name = "plan_adjustment"
        version = 1
        title_vi = "Đề xuất điều chỉnh kế hoạch hỗ trợ, can thiệp"
        title_en = "Proposed adjustment of the support and intervention plan"
        article = "Điều 29 khoản 1 điểm a NĐ 56/2017/NĐ-CP"
        provisional = True

    reason = f.text(
        "Lý do điều chỉnh", "Why the plan is adjusted", max_length=8000, required=True,
        help_vi="Thay đổi của cá nhân trẻ em và mức độ an toàn của môi trường trẻ em đang sinh sống (Điều 29.1.a).",
        help_en="What changed for the child and in the safety of the child's environment (Art. 29.1.a).")
    changes = f.text("Nội dung thay đổi so với kế hoạch đang thực hiện", "What changes from the current plan",
                     max_length=8000, required=True)
    activities = copy.deepcopy(_MAU_04["activities"])
    planned_review_on = copy.deepcopy(_MAU_04["planned_review_on"])
    proposed_at = f.datetime("Thời điểm đề xuất", "Proposed at", past=True)
