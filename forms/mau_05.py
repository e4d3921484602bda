"""Mẫu số 05 — Quyết định phê duyệt kế hoạch hỗ trợ, can thiệp (dự thảo kèm kế hoạch).

Provisional: the official layout was not read; built from Law on Children Art. 52 and Decree 56
Art. 28 (the dossier submitted to the chairman includes the draft decision).

Version 2 replaces the free-text "Nơi nhận" with a structured record of where the decision and plan go
(Art. 28.5): one line per recipient (kind, name, date sent, means). The parents or caregiver must be among
them unless sending to them is unsafe for the child, with the reason recorded; at least one responsible
body must be. Decisions stored under version 1 keep their free-text recipients and render as they were.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from forms.kit import fields as f
from forms.kit.choices import RecipientKind, SendingMeans
from forms.kit.messages import code
from forms.kit.registry import register
from forms.kit.schema import Errors, FormSchema, Part

DEFAULT_LEGAL_BASES = (
    "Căn cứ Luật Trẻ em ngày 05 tháng 4 năm 2016, Điều 52;\n"
    "Căn cứ Nghị định số 56/2017/NĐ-CP ngày 09 tháng 5 năm 2017 của Chính phủ quy định chi tiết "
    "một số điều của Luật Trẻ em, Điều 28;"
)


@register
class Mau05V1(FormSchema):
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


PARENT_KINDS = ("parents", "caregiver")


class Recipient(Part):
    kind = f.choice(RecipientKind, "Nơi nhận", "Recipient kind", required=True)
    name = f.string("Tên cơ quan, tổ chức, cá nhân", "Name", max_length=500, required=True)
    sent_on = f.date("Ngày gửi", "Date sent", help_vi="Ngày gửi hoặc dự kiến gửi sau khi quyết định được ký.",
                     help_en="The date it was or will be sent once the decision is signed.")
    means = f.choice(SendingMeans, "Hình thức gửi", "Means", required=True)
    note = f.string("Ghi chú", "Note", max_length=500)


@register
class Mau05(Mau05V1):
    class Meta(Mau05V1.Meta):
        version = 2
        article = "Điều 52 Luật Trẻ em; Điều 28 NĐ 56/2017/NĐ-CP (khoản 2, 4, 5)"
        exclude = ("recipients",)  # version 1's free text, replaced by `distribution`

    distribution = f.obj_list(
        Recipient, "Nơi nhận quyết định và kế hoạch", "Where the decision and plan are sent", required=True,
        min_items=1, max_items=50,
        help_vi="Gửi đến cơ quan, tổ chức, cá nhân có trách nhiệm thực hiện và cha, mẹ hoặc người chăm sóc trẻ "
                "(Điều 28.5 NĐ 56/2017).",
        help_en="Sent to the bodies responsible for carrying it out and to the parents or caregiver "
                "(Decree 56/2017 Art. 28.5).")
    parents_unsafe = f.boolean(
        "Không gửi cho cha, mẹ, người chăm sóc vì không an toàn cho trẻ",
        "Not sent to the parents or caregiver because it is unsafe for the child",
        help_vi="Chỉ khi việc gửi có thể gây nguy hiểm cho trẻ (ví dụ cha, mẹ là người gây tổn hại); ghi lý do.",
        help_en="Only when sending could endanger the child (e.g. the parent caused the harm); give the reason.")
    parents_unsafe_reason = f.text(
        "Lý do không gửi cho cha, mẹ, người chăm sóc", "Why the parents or caregiver are not sent it",
        max_length=2000, required_if={"parents_unsafe": True}, required_if_message="parents_unsafe_reason_required",
        only_if={"parents_unsafe": True})

    @validates_schema(skip_on_field_errors=False)
    def _distribution(self, data: dict[str, Any], **kwargs: Any) -> None:
        rows = data.get("distribution")
        if not isinstance(rows, list) or not rows:
            return  # the list's own error (required, too few) says it
        kinds = {row.get("kind") for row in rows if isinstance(row, dict)}
        errors = Errors()
        to_parents = bool(kinds & set(PARENT_KINDS))
        if data.get("parents_unsafe") is True:
            if to_parents:
                errors.add("parents_unsafe", code("parents_unsafe_but_sent"))
        elif not to_parents:
            errors.add("distribution", code("parents_recipient_required"))
        if "responsible_body" not in kinds:
            errors.add("distribution", code("responsible_recipient_required"))
        errors.raise_if_any()
