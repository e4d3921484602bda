"""Closing a personal data breach: what was done and what changes to prevent another (Law 91/2025/QH15 Art. 23).

case56 form, not an official layout."""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.registry import register
from forms.kit.schema import FormSchema


@register
class BreachClosure(FormSchema):
    class Meta:
        name = "breach_closure"
        version = 1
        title_vi = "Kết thúc xử lý vi phạm dữ liệu cá nhân"
        title_en = "Closure of a personal data breach"
        article = "Điều 23 Luật 91/2025/QH15"
        provisional = True

    outcome = f.text("Kết quả khắc phục", "Outcome of the remedy", max_length=10_000, required=True)
    prevention = f.text("Biện pháp phòng ngừa", "Prevention measures", max_length=10_000)
    subjects_informed = f.boolean("Đã thông báo cho chủ thể dữ liệu", "Data subjects informed", required=True)
