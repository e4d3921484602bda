"""Xác minh thông tin (Điều 26.1 NĐ 56/2017/NĐ-CP): is the report true, is the child unsafe."""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.choices import RiskRating
from forms.kit.registry import register
from forms.kit.schema import FormSchema


@register
class Verification(FormSchema):
    class Meta:
        name = "verification"
        version = 1
        title_vi = "Kết quả xác minh thông tin"
        title_en = "Verification of the report"
        article = "Điều 26.1 NĐ 56/2017/NĐ-CP"
        provisional = False

    has_basis = f.boolean(
        "Thông tin có căn cứ", "The report has a basis", required=True,
        help_vi="Xác minh tính xác thực của thông tin (Điều 26.1 NĐ 56/2017).",
        help_en="Check that the information is true (Decree 56/2017 Art. 26.1).",
    )
    findings = f.text("Kết quả xác minh", "Findings", required=True)
    sources = f.text("Nguồn thông tin đã xác minh", "Sources checked",
                     help_vi="Nhà trường, cơ sở y tế và các cơ quan, cá nhân liên quan có trách nhiệm "
                             "cung cấp thông tin (Điều 26.1).",
                     help_en="Schools, health staff and others must give information (Art. 26.1).")
    child_unsafe = f.boolean("Trẻ em đang không an toàn", "The child is unsafe")
    preliminary_risk = f.choice(RiskRating, "Mức độ nguy cơ sơ bộ", "Preliminary level of risk")
    reason_no_basis = f.text(
        "Lý do thông tin không có căn cứ", "Why the report has no basis",
        required_if={"has_basis": False}, required_if_message="reason_no_basis_required",
    )
    verified_at = f.datetime("Thời điểm xác minh xong", "Verified at", past=True)
    verifier_name = f.string("Người xác minh", "Verified by")
