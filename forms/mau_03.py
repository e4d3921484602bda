"""Mẫu số 03 — Báo cáo thu thập thông tin, đánh giá nguy cơ cụ thể (Điều 27 NĐ 56/2017/NĐ-CP).

Provisional: the official layout was not read. Art. 27 asks at least for the child's physical,
psychological and emotional state, the family situation, the child's relationships and the parents'
capacity to protect; further items are to be confirmed against the appendix.
"""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.choices import RiskRating
from forms.kit.parts import AssessedItem
from forms.kit.registry import register
from forms.kit.schema import FormSchema


@register
class Mau03(FormSchema):
    class Meta:
        name = "mau_03"
        version = 1
        title_vi = "Báo cáo thu thập thông tin, đánh giá nguy cơ cụ thể (Mẫu số 03)"
        title_en = "Information collection and detailed risk assessment (Form 03)"
        article = "Điều 27 NĐ 56/2017/NĐ-CP"
        provisional = True

    assessed_at = f.datetime("Thời điểm đánh giá", "Assessed at", past=True)
    physical_state = f.obj(AssessedItem, "Tình trạng thể chất của trẻ", "The child's physical state",
                           fill_empty=True, help_vi="Điều 27 NĐ 56/2017.", help_en="Decree 56/2017 Art. 27.")
    psychological_state = f.obj(AssessedItem, "Tình trạng tâm lý của trẻ", "The child's psychological state",
                                fill_empty=True, help_vi="Điều 27 NĐ 56/2017.", help_en="Decree 56/2017 Art. 27.")
    emotional_state = f.obj(AssessedItem, "Tình trạng tình cảm của trẻ", "The child's emotional state",
                            fill_empty=True, help_vi="Điều 27 NĐ 56/2017.", help_en="Decree 56/2017 Art. 27.")
    family_situation = f.obj(AssessedItem, "Hoàn cảnh gia đình", "Family situation", fill_empty=True,
                             help_vi="Điều 27 NĐ 56/2017.", help_en="Decree 56/2017 Art. 27.")
    relationships = f.obj(AssessedItem, "Các mối quan hệ của trẻ", "The child's relationships",
                          fill_empty=True, help_vi="Điều 27 NĐ 56/2017.", help_en="Decree 56/2017 Art. 27.")
    parent_capacity = f.obj(
        AssessedItem, "Khả năng bảo vệ trẻ của cha mẹ, gia đình",
        "Protection capacity of the parents and family", fill_empty=True,
        help_vi="Mức độ nguy cơ: Cao = cha mẹ, gia đình ít khả năng bảo vệ trẻ (Điều 27).",
        help_en="Risk level: High = the parents and family can hardly protect the child (Art. 27).",
    )
    other_items = f.text("Các nội dung khác", "Other items")
    child_views = f.text("Ý kiến, nguyện vọng của trẻ", "The child's views and wishes")
    sources = f.text("Nguồn thông tin", "Sources of information",
                     help_vi="Có thể có sự hỗ trợ của Tổng đài 111 và cơ sở cung cấp dịch vụ (Điều 27).",
                     help_en="Helpline 111 and service providers may help (Art. 27).")
    overall_risk = f.choice(RiskRating, "Mức độ nguy cơ chung", "Overall risk level")
    summary = f.text("Kết luận đánh giá", "Summary of the assessment")
    assessor_name = f.string("Người đánh giá", "Assessed by")
