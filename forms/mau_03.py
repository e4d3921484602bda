"""Mẫu số 03 — Báo cáo thu thập thông tin, đánh giá nguy cơ cụ thể (Điều 27 NĐ 56/2017/NĐ-CP).

The official layout was not read (law-2026.md §4): the content is what Art. 27.1 binds, items a) to h), each
field labelled with its letter. Version 1 (six assessed items and the child's views) stays registered so the
assessments stored under it still validate and render; `Mau03` is the current version, and also the tool to
reassess the parents before a temporary separation is cancelled (Art. 32.3).

Item h): the views of a parent or caregiver who caused the harm are not taken (Art. 27.1.h). The form records,
per person, whether they caused the harm; for such a person it refuses recorded views and asks why they were
not taken — so the other parent's views are still heard.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from forms.kit import fields as f
from forms.kit.choices import ParentRelation, RiskRating
from forms.kit.messages import code
from forms.kit.parts import AssessedItem
from forms.kit.registry import register
from forms.kit.schema import Errors, FormSchema, Part, blank


@register
class Mau03V1(FormSchema):
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


class Need(Part):
    """One kind of need of item e): whether the child has it, and what exactly."""

    needed = f.boolean("Trẻ có nhu cầu này", "The child has this need")
    detail = f.text("Nhu cầu cụ thể", "What is needed", max_length=4000,
                    required_if={"needed": True}, required_if_message="need_detail_required")


def _need(label_vi: str, label_en: str) -> f.Object:
    return f.obj(Need, label_vi, label_en, fill_empty=True)


class ChildNeeds(Part):
    """Item e): the needs Art. 27.1.e names, each on its own line so the plan (Mẫu 04) can answer each."""

    medical = _need("Chăm sóc y tế, chữa trị các tổn hại về thể chất và tinh thần",
                    "Medical care, treatment of physical and mental harm")
    social_assistance = _need("Trợ giúp xã hội", "Social assistance")
    education = _need("Hỗ trợ giáo dục, đào tạo, giáo dục nghề nghiệp", "Education and vocational training")
    legal_aid = _need("Trợ giúp pháp lý", "Legal aid")
    counselling = _need("Hỗ trợ tư vấn, trị liệu tâm lý", "Counselling and psychotherapy")
    other = _need("Các dịch vụ bảo vệ trẻ em khác", "Other child-protection services")


class ParentViews(Part):
    """Item h), one line per parent or caregiver."""

    relation = f.choice(ParentRelation, "Quan hệ với trẻ", "Relation to the child", required=True)
    name = f.string("Họ và tên", "Full name")
    caused_harm = f.boolean(
        "Là người gây tổn hại cho trẻ", "Caused the harm to the child",
        help_vi="Nếu Có: không lấy ý kiến, nguyện vọng của người này (Điều 27.1.h).",
        help_en="If yes, this person's views are not taken (Art. 27.1.h).")
    views = f.text("Ý kiến, nguyện vọng", "Views and wishes", max_length=6000)
    not_taken_reason = f.text(
        "Lý do không lấy ý kiến", "Why the views were not taken", max_length=2000,
        required_if={"caused_harm": True}, required_if_message="parents_views_reason_required")

    @validates_schema(skip_on_field_errors=False)
    def _excluded(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("caused_harm") is True and not blank(data.get("views")):
            errors = Errors()
            errors.add("views", code("parents_views_excluded"))
            errors.raise_if_any()


def _item(label_vi: str, label_en: str, letter: str, **opts: Any) -> f.Object:
    return f.obj(AssessedItem, label_vi, label_en, fill_empty=True,
                 help_vi=opts.pop("help_vi", f"Điều 27 khoản 1 điểm {letter} NĐ 56/2017."),
                 help_en=opts.pop("help_en", f"Decree 56/2017 Art. 27.1.{letter}."), **opts)


@register
class Mau03(FormSchema):
    """Mẫu số 03 with Art. 27.1 a–h (version 2). One importable class for every use of the detailed
    assessment, including the parents' reassessment before a separation is cancelled (Art. 32.3)."""

    class Meta:
        name = "mau_03"
        version = 2
        title_vi = "Báo cáo thu thập thông tin, đánh giá nguy cơ cụ thể (Mẫu số 03)"
        title_en = "Information collection and detailed risk assessment (Form 03)"
        article = "Điều 27 khoản 1 NĐ 56/2017/NĐ-CP"
        provisional = True

    assessed_at = f.datetime("Thời điểm đánh giá", "Assessed at", past=True)
    # a)
    physical_state = _item("a) Tình trạng thể chất của trẻ", "a) The child's physical state", "a")
    psychological_state = _item("a) Tình trạng tâm lý của trẻ", "a) The child's psychological state", "a")
    emotional_state = _item("a) Tình trạng tình cảm của trẻ", "a) The child's emotional state", "a")
    # b)
    family_situation = _item("b) Hoàn cảnh gia đình", "b) Family situation", "b")
    relationships = _item("b) Mối quan hệ của trẻ", "b) The child's relationships", "b")
    parent_capacity = _item(
        "b) Năng lực bảo vệ trẻ của cha, mẹ, các thành viên trong gia đình",
        "b) Protection capacity of the parents and family members", "b",
        help_vi="Mức độ nguy cơ: Cao = cha mẹ, gia đình ít khả năng bảo vệ trẻ (Điều 27.1.b).",
        help_en="Risk level: High = the parents and family can hardly protect the child (Art. 27.1.b).")
    # c)
    abuse_risk_factors = _item(
        "c) Các yếu tố làm trẻ có thể bị xâm hại, tiếp tục bị xâm hại hoặc tiếp tục rơi vào hoàn cảnh đặc biệt",
        "c) Factors by which the child may be (re)abused or stay in special circumstances", "c")
    # d)
    schooling = _item("d) Điều kiện, khả năng học tập của trẻ", "d) The child's schooling and ability to learn", "d")
    self_protection = _item(
        "d) Khả năng tự bảo vệ của trẻ", "d) The child's ability to protect themselves", "d",
        help_vi="Mức độ nguy cơ: Cao = trẻ ít khả năng tự bảo vệ (Điều 27.1.d).",
        help_en="Risk level: High = the child can hardly protect themselves (Art. 27.1.d).")
    # đ)
    community_safety = _item("đ) Mức độ an toàn của cộng đồng dân cư nơi trẻ sinh sống",
                             "đ) Safety of the community where the child lives", "đ")
    community_support = _item(
        "đ) Khả năng hỗ trợ của cộng đồng dân cư nơi trẻ sinh sống",
        "đ) Support capacity of the community where the child lives", "đ",
        help_vi="Mức độ nguy cơ: Cao = cộng đồng ít khả năng hỗ trợ trẻ (Điều 27.1.đ).",
        help_en="Risk level: High = the community can hardly support the child (Art. 27.1.đ).")
    # e)
    needs = f.obj(ChildNeeds, "e) Nhu cầu hỗ trợ của trẻ", "e) The child's needs", fill_empty=True,
                  help_vi="Điều 27 khoản 1 điểm e NĐ 56/2017: đánh dấu từng nhu cầu và mô tả cụ thể.",
                  help_en="Decree 56/2017 Art. 27.1.e: tick each need and describe it.")
    # g)
    child_views = f.text("g) Ý kiến, nguyện vọng của trẻ", "g) The child's views and wishes",
                         help_vi="Điều 27 khoản 1 điểm g NĐ 56/2017.", help_en="Decree 56/2017 Art. 27.1.g.")
    # h)
    parents_views = f.obj_list(
        ParentViews, "h) Ý kiến, nguyện vọng của cha, mẹ, người chăm sóc trẻ",
        "h) Views and wishes of the parents or caregiver", max_items=6,
        help_vi="Trừ trường hợp cha, mẹ, người chăm sóc là người gây tổn hại cho trẻ (Điều 27.1.h): ghi người đó, "
                "đánh dấu “là người gây tổn hại” và lý do không lấy ý kiến.",
        help_en="Except when the parent or caregiver caused the harm (Art. 27.1.h): list that person, tick "
                "“caused the harm” and record why their views were not taken.")
    other_items = f.text("Các nội dung khác", "Other items")
    sources = f.text("Nguồn thông tin", "Sources of information",
                     help_vi="Có thể có sự hỗ trợ của Tổng đài 111 và cơ sở cung cấp dịch vụ (Điều 27.1).",
                     help_en="Helpline 111 and service providers may help (Art. 27.1).")
    overall_risk = f.choice(RiskRating, "Mức độ nguy cơ chung", "Overall risk level")
    summary = f.text("Kết luận đánh giá", "Summary of the assessment")
    assessor_name = f.string("Người đánh giá", "Assessed by")
