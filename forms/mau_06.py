"""Mẫu số 06 — Báo cáo rà soát, đánh giá tình trạng trẻ em sau khi thực hiện kế hoạch (Điều 30).

Two grids rated Cao / Trung bình / Thấp: in section 1 "Cao" means danger, in the self-protection
section it means strength. Each grid gets its own total and the two are never added together.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from forms.kit import fields as f
from forms.kit.choices import ReviewConclusion
from forms.kit.messages import code
from forms.kit.parts import Participant, RatedItem, StrengthItem, count_ratings, totals_field
from forms.kit.registry import register
from forms.kit.schema import Errors, FormSchema

DANGER_ITEMS = ("harm_still_serious", "abuser_can_reach_child", "care_environment_obstacles")
STRENGTH_ITEMS = ("self_protection", "recovery")
STATES = ("physical_stable", "psychological_stable", "cognitive_stable", "emotional_stable")


@register
class Mau06(FormSchema):
    class Meta:
        name = "mau_06"
        version = 1
        title_vi = "Báo cáo rà soát, đánh giá tình trạng trẻ em sau khi thực hiện kế hoạch hỗ trợ, can thiệp " \
                   "(Mẫu số 06)"
        title_en = "Review of the child's situation after the support and intervention plan (Form 06)"
        article = "Điều 30 NĐ 56/2017/NĐ-CP"
        provisional = False

    reviewed_at = f.datetime("Thời điểm rà soát", "Reviewed at", past=True)
    participants = f.obj_list(Participant, "Thành phần tham gia rà soát", "Participants in the review")
    # Section 1: danger ("Cao" = still dangerous)
    harm_still_serious = f.obj(RatedItem, "Mức độ tổn hại còn nghiêm trọng", "The harm is still serious")
    abuser_can_reach_child = f.obj(RatedItem, "Người gây tổn hại còn khả năng tiếp cận trẻ",
                                   "The person causing harm can still reach the child")
    care_environment_obstacles = f.obj(
        RatedItem, "Trở ngại về an toàn trong môi trường chăm sóc trẻ",
        "Obstacles to safety in the child's care environment")
    danger_total = totals_field("Tổng hợp mục 1 (nguy cơ)", "Section 1 totals (danger)",
                                help_vi="Tự tính. Không cộng với mục khả năng tự bảo vệ.",
                                help_en="Computed. Never added to the self-protection section.")
    # Section 2: the child's own strength ("Cao" = strong)
    self_protection = f.obj(
        StrengthItem, "Khả năng tự bảo vệ của trẻ", "The child's ability to protect themselves",
        help_vi="Ở mục này, Cao là điểm mạnh của trẻ.", help_en="Here, High is a strength of the child.")
    recovery = f.obj(StrengthItem, "Khả năng phục hồi của trẻ", "The child's ability to recover",
                     help_vi="Ở mục này, Cao là điểm mạnh của trẻ.", help_en="Here, High is a strength of the child.")
    strength_total = totals_field("Tổng hợp mục khả năng tự bảo vệ", "Self-protection section totals",
                                  help_vi="Tự tính. Không cộng với mục 1.",
                                  help_en="Computed. Never added to section 1.")
    physical_stable = f.boolean("Thể chất của trẻ ổn định", "Physically stable")
    psychological_stable = f.boolean("Tâm lý của trẻ ổn định", "Psychologically stable")
    cognitive_stable = f.boolean("Nhận thức của trẻ ổn định", "Cognitively stable")
    emotional_stable = f.boolean("Tình cảm của trẻ ổn định", "Emotionally stable")
    no_longer_at_risk = f.boolean("Trẻ không còn nguy cơ", "The child is no longer at risk")
    conclusion = f.choice(
        ReviewConclusion, "Kết luận", "Conclusion", required=True,
        help_vi="Kết thúc khi trẻ không còn nguy cơ và ổn định về thể chất, tâm lý, nhận thức, tình cảm "
                "(Điều 30.1); nếu không, xây dựng kế hoạch mới.",
        help_en="End when the child is no longer at risk and physically, psychologically, cognitively "
                "and emotionally stable (Art. 30.1); otherwise draw up a new plan.",
    )
    conclusion_note = f.text("Nhận xét, đề xuất", "Comments and proposals")
    reviewer_name = f.string("Người rà soát", "Reviewed by")

    @validates_schema(skip_on_field_errors=False)
    def _close_conditions(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("conclusion") != "close":
            return
        errors = Errors()
        if "no_longer_at_risk" in data and data["no_longer_at_risk"] is not True:
            errors.add("no_longer_at_risk", code("close_requires_no_risk"))
        for state in STATES:
            if state in data and data[state] is not True:
                errors.add(state, code("close_requires_stable"))
        for item in DANGER_ITEMS:  # a danger still rated "Cao" says the child is still at risk
            if (data.get(item) or {}).get("rating") == "cao":
                errors.add((item, "rating"), code("close_with_high_danger"))
        errors.raise_if_any()

    def compute(self, data: dict[str, Any]) -> dict[str, Any]:
        data["danger_total"] = count_ratings(data, DANGER_ITEMS)
        data["strength_total"] = count_ratings(data, STRENGTH_ITEMS)
        return data
