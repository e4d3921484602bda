"""A supervisor's acknowledgement of an overdue step (cấp tỉnh / quản lý nhà nước về trẻ em)."""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.registry import register
from forms.kit.schema import FormSchema


@register
class EscalationAck(FormSchema):
    class Meta:
        name = "escalation_ack"
        version = 1
        title_vi = "Xác nhận xử lý bước quá hạn"
        title_en = "Acknowledgement of an overdue step"
        article = "Điều 25–30 NĐ 56/2017/NĐ-CP (thời hạn)"
        provisional = False

    note = f.text("Nhận xét", "Note", required=True)
    action_taken = f.text("Biện pháp đã thực hiện", "Action taken")
