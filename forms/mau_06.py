"""Mẫu số 06 — Báo cáo rà soát, đánh giá tình trạng trẻ em sau khi thực hiện kế hoạch (Điều 30).

Two grids rated Cao / Trung bình / Thấp: in section 1 "Cao" means danger, in the self-protection
section it means strength. Each grid gets its own total and the two are never added together.

Version 2 (law-2026.md §4): section 1a carries the official wording of its three items, rated Cao / Trung bình /
Thấp with a "Tổng số"; the items of section 1b ("Đánh giá khả năng tự bảo vệ, phục hồi của trẻ em") are not
known from the official text, so they are marked provisional (field metadata `provisional`, shown beside the
label on the page and in the dossier). Refusing to close while a 1a item is "Cao" is case56 policy, not law
(its message says so); Art. 30.1 itself asks that the child is no longer at risk and is stable.
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
class Mau06V1(FormSchema):
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


def _provisional(field: f.Object) -> f.Object:
    field.metadata = {**field.metadata, "provisional": True}  # not in the official text: pages and dossier say so
    return field


@register
class Mau06(Mau06V1):
    class Meta(Mau06V1.Meta):
        version = 2
        article = "Điều 30 khoản 2 NĐ 56/2017/NĐ-CP"
        provisional = True  # only section 1a's wording is known; the layout after it is not

    harm_still_serious = f.obj(
        RatedItem, "1a. Mức độ tổn hại của trẻ em có còn nghiêm trọng không",
        "1a. Is the harm to the child still serious",
        help_vi="Mẫu số 06, mục 1a; mức độ Cao / Trung bình / Thấp (Cao = còn nghiêm trọng).",
        help_en="Form 06, section 1a; High / Medium / Low (High = still serious).")
    abuser_can_reach_child = f.obj(
        RatedItem, "1a. Khả năng tiếp cận trẻ em của đối tượng xâm hại",
        "1a. The abuser's ability to reach the child",
        help_vi="Mẫu số 06, mục 1a; Cao = đối tượng xâm hại còn dễ tiếp cận trẻ.",
        help_en="Form 06, section 1a; High = the abuser can still easily reach the child.")
    care_environment_obstacles = f.obj(
        RatedItem, "1a. Những trở ngại trong môi trường chăm sóc trẻ em đối với việc bảo đảm an toàn cho trẻ em",
        "1a. Obstacles in the care environment to keeping the child safe",
        help_vi="Mẫu số 06, mục 1a; Cao = trở ngại lớn.", help_en="Form 06, section 1a; High = large obstacles.")
    danger_total = totals_field("1a. Tổng số", "1a. Total",
                                help_vi="Tự tính: số mục 1a ở mỗi mức. Không cộng với mục 1b.",
                                help_en="Computed: how many 1a items at each level. Never added to 1b.")
    self_protection = _provisional(f.obj(
        StrengthItem, "1b. Khả năng tự bảo vệ của trẻ em", "1b. The child's ability to protect themselves",
        help_vi="Mục 1b “Đánh giá khả năng tự bảo vệ, phục hồi của trẻ em”: nội dung mục này tạm thời, chưa đối "
                "chiếu được mẫu chính thức. Ở mục này, Cao là điểm mạnh của trẻ.",
        help_en="Section 1b “the child's ability to protect themselves and recover”: this item is provisional, "
                "not checked against the official form. Here, High is a strength of the child."))
    recovery = _provisional(f.obj(
        StrengthItem, "1b. Khả năng phục hồi của trẻ em", "1b. The child's ability to recover",
        help_vi="Mục 1b: nội dung mục này tạm thời, chưa đối chiếu được mẫu chính thức. Ở mục này, Cao là điểm "
                "mạnh của trẻ.",
        help_en="Section 1b: this item is provisional, not checked against the official form. Here, High is a "
                "strength of the child."))
    strength_total = totals_field("1b. Tổng số", "1b. Total",
                                  help_vi="Tự tính. Không cộng với mục 1a.", help_en="Computed. Never added to 1a.")
