"""Mẫu số 02 — Báo cáo đánh giá nguy cơ ban đầu (Điều 26.2–26.3 NĐ 56/2017/NĐ-CP).

Provisional: the official layout was not read; built from what the articles require, in the style
of Mẫu 06's grid. The emergency conclusion is the officer's recorded judgement (Art. 26.3), never a
score computed from the grid: the total is shown for information only.
"""

from __future__ import annotations

from typing import Any

from forms.kit import fields as f
from forms.kit.parts import RatedItem, count_ratings, totals_field
from forms.kit.registry import register
from forms.kit.schema import FormSchema

RISK_ITEMS = ("harm_life", "harm_health", "harm_dignity", "abuser_access", "recurrence",
              "caregiver_incapacity", "child_vulnerability")


@register
class Mau02(FormSchema):
    class Meta:
        name = "mau_02"
        version = 1
        title_vi = "Báo cáo đánh giá nguy cơ ban đầu về tình trạng trẻ em (Mẫu số 02)"
        title_en = "Initial risk assessment of the child's situation (Form 02)"
        article = "Điều 26.2–26.3 NĐ 56/2017/NĐ-CP"
        provisional = True

    assessed_at = f.datetime("Thời điểm đánh giá", "Assessed at", past=True)
    harm_life = f.obj(RatedItem, "Nguy cơ, tổn hại đến tính mạng", "Risk of or harm to life",
                      help_vi="Điều 26.3 NĐ 56/2017.", help_en="Decree 56/2017 Art. 26.3.")
    harm_health = f.obj(RatedItem, "Nguy cơ, tổn hại đến sức khỏe", "Risk of or harm to health",
                        help_vi="Điều 26.3 NĐ 56/2017.", help_en="Decree 56/2017 Art. 26.3.")
    harm_dignity = f.obj(RatedItem, "Nguy cơ, tổn hại đến danh dự, nhân phẩm",
                         "Risk of or harm to dignity",
                         help_vi="Điều 26.3 NĐ 56/2017.", help_en="Decree 56/2017 Art. 26.3.")
    abuser_access = f.obj(RatedItem, "Khả năng người gây tổn hại tiếp cận trẻ",
                          "Whether the person causing harm can reach the child")
    recurrence = f.obj(RatedItem, "Nguy cơ tái diễn", "Risk that the harm happens again")
    caregiver_incapacity = f.obj(
        RatedItem, "Cha mẹ, người chăm sóc không đủ khả năng bảo vệ trẻ",
        "Parents or caregivers unable to protect the child")
    child_vulnerability = f.obj(RatedItem, "Mức độ dễ bị tổn thương của trẻ (tuổi, sức khỏe, khuyết tật)",
                                "The child's vulnerability (age, health, disability)")
    risk_total = totals_field("Tổng hợp mức độ", "Totals by rating",
                              help_vi="Tự tính: số mục ở mỗi mức. Chỉ để tham khảo.",
                              help_en="Computed: number of items at each level. For information only.")
    harm_by_caregiver = f.boolean(
        "Tổn hại do cha mẹ, người chăm sóc gây ra", "The harm comes from a parent or caregiver",
        help_vi="Căn cứ áp dụng biện pháp khẩn cấp, tạm thời cách ly (Điều 31.1 NĐ 56/2017).",
        help_en="A ground for emergency measures and temporary separation (Decree 56/2017 Art. 31.1).",
    )
    emergency = f.boolean(
        "Trẻ em đang gặp nguy hiểm nghiêm trọng: cần áp dụng biện pháp khẩn cấp",
        "The child is in serious danger: emergency measures needed", required=True,
        help_vi=("Nhận định của người làm công tác bảo vệ trẻ em (Điều 26.3): nguy cơ hoặc đang bị tổn hại "
                 "nghiêm trọng đến tính mạng, sức khỏe, nhân phẩm. Nếu có, trong 12 giờ kể từ khi nhận "
                 "thông tin phải áp dụng biện pháp khẩn cấp hoặc tạm thời cách ly (Điều 31, 32)."),
        help_en=("The officer's judgement (Art. 26.3): risk of or actual serious harm to life, health or "
                 "dignity. If so, within 12 hours of receiving the information emergency measures or a "
                 "temporary separation must be applied (Art. 31, 32)."),
    )
    danger_description = f.text(
        "Mô tả nguy hiểm và lý do kết luận", "The danger and the reasons for the conclusion",
        required_if={"emergency": True}, required_if_message="danger_required",
    )
    proposal = f.text("Đề xuất", "Proposal")
    assessor_name = f.string("Người đánh giá", "Assessed by")

    def compute(self, data: dict[str, Any]) -> dict[str, Any]:
        data["risk_total"] = count_ratings(data, RISK_ITEMS)
        return data
