"""Mẫu số 05 — Quyết định phê duyệt kế hoạch hỗ trợ, can thiệp (dự thảo kèm kế hoạch).

Provisional: the official layout was not read; built from Law on Children Art. 52 and Decree 56
Art. 28 (the dossier submitted to the chairman includes the draft decision).
"""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.registry import register
from forms.kit.schema import FormSchema

DEFAULT_LEGAL_BASES = (
    "Căn cứ Luật Trẻ em ngày 05 tháng 4 năm 2016, Điều 52;\n"
    "Căn cứ Nghị định số 56/2017/NĐ-CP ngày 09 tháng 5 năm 2017 của Chính phủ quy định chi tiết "
    "một số điều của Luật Trẻ em, Điều 28;"
)


@register
class Mau05(FormSchema):
    class Meta:
        name = "mau_05"
        version = 1
        title_vi = "Quyết định phê duyệt kế hoạch hỗ trợ, can thiệp (Mẫu số 05)"
        title_en = "Decision approving the support and intervention plan (Form 05)"
        article = "Điều 52 Luật Trẻ em; Điều 28 NĐ 56/2017/NĐ-CP"
        provisional = True

    decision_number = f.string("Số quyết định", "Decision number", max_length=100)
    decision_date = f.date("Ngày quyết định", "Date of the decision")
    issuing_body = f.string("Cơ quan ban hành", "Issuing body", max_length=500)
    legal_bases = f.text("Căn cứ pháp lý", "Legal bases", max_length=4000, default=DEFAULT_LEGAL_BASES)
    articles = f.text("Các điều của quyết định", "Articles of the decision",
                      help_vi="Điều 1: Phê duyệt kế hoạch hỗ trợ, can thiệp kèm theo…",
                      help_en="Article 1: The attached support and intervention plan is approved…")
    recipients = f.text("Nơi nhận", "Recipients", max_length=2000)
    signer_name = f.string("Người ký", "Signed by")
