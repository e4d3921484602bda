"""Groups of fields shared by several forms."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from forms.kit import fields as f
from forms.kit.choices import RiskRating
from forms.kit.schema import Part
from forms.kit.sensitivity import PRIVATE


class Parent(Part):
    """Father or mother on Mẫu số 01."""

    # Family members are private items of the child (Decree 56 Art. 33), not free text (forms/kit/sensitivity.py).
    name = f.string("Họ và tên", "Full name", sensitivity=PRIVATE)
    age = f.integer("Tuổi", "Age", min_value=10, max_value=120, sensitivity=PRIVATE)
    occupation = f.string("Nghề nghiệp", "Occupation", sensitivity=PRIVATE)


class Participant(Part):
    name = f.string("Họ và tên", "Full name", required=True)
    role = f.string("Chức vụ, cơ quan/tổ chức", "Role, organisation")


class RatedItem(Part):
    """One line of a risk grid: a rating (Cao / Trung bình / Thấp) and what it rests on."""

    rating = f.choice(RiskRating, "Mức độ", "Rating", required=True)
    note = f.text("Căn cứ, ghi chú", "Basis, notes", max_length=4000)


class RatingTotals(Part):
    """Tổng: how many lines of one grid are rated at each level (computed)."""

    cao = f.integer("Cao", "High", min_value=0)
    trung_binh = f.integer("Trung bình", "Medium", min_value=0)
    thap = f.integer("Thấp", "Low", min_value=0)
    rated = f.integer("Số mục đã đánh giá", "Items rated", min_value=0)


def count_ratings(data: Mapping[str, Any], items: Iterable[str]) -> dict[str, int]:
    """Totals of one grid only: grids whose "Cao" means different things are never added together."""
    totals = {rating.value: 0 for rating in RiskRating}
    for name in items:
        item = data.get(name)
        if isinstance(item, Mapping) and item.get("rating") in totals:
            totals[item["rating"]] += 1
    return {**totals, "rated": sum(totals.values())}


def totals_field(label_vi: str, label_en: str, **opts: Any) -> f.Object:
    return f.obj(RatingTotals, label_vi, label_en, computed=True, **opts)


# Mẫu 06's self-protection grid: there "Cao" is a strength, so the labels say so.
STRENGTH_LABELS = {
    "cao": ("Cao (khả năng tốt)", "High (strong ability)"),
    "trung_binh": ("Trung bình", "Medium"),
    "thap": ("Thấp (khả năng yếu)", "Low (weak ability)"),
}


class StrengthItem(Part):
    rating = f.choice(RiskRating, "Mức độ", "Rating", required=True, labels=STRENGTH_LABELS)
    note = f.text("Căn cứ, ghi chú", "Basis, notes", max_length=4000)


class AssessedItem(Part):
    """A section of the detailed assessment (Mẫu 03): what was found, and its risk level."""

    description = f.text("Nhận định", "Findings", max_length=6000)
    rating = f.choice(RiskRating, "Mức độ nguy cơ", "Risk level",
                      help_vi="Cao = nguy cơ cao đối với trẻ.", help_en="High = high risk for the child.")
