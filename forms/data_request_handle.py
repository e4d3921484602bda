"""Completing a data subject's request within its limit (Decree 356/2025/NĐ-CP Art. 5): done, extended once,
or refused with its legal ground.

case56 form, not an official layout."""

from __future__ import annotations

from forms.data_request_ack import RefusalGround
from forms.kit import fields as f
from forms.kit.choices import Choices
from forms.kit.registry import register
from forms.kit.schema import FormSchema


class HandleOutcome(Choices):
    done = ("done", "Đã thực hiện yêu cầu", "Request carried out")
    extend = ("extend", "Gia hạn (một lần)", "Extend (once)")
    refuse = ("refuse", "Từ chối yêu cầu", "Refuse the request")


@register
class DataRequestHandle(FormSchema):
    class Meta:
        name = "data_request_handle"
        version = 1
        title_vi = "Giải quyết yêu cầu của chủ thể dữ liệu"
        title_en = "Handling a data subject's request"
        article = "Điều 5 NĐ 356/2025/NĐ-CP; Điều 14, 19 Luật 91/2025/QH15"
        provisional = True

    outcome = f.choice(HandleOutcome, "Kết quả", "Outcome", required=True)
    result = f.text("Việc đã thực hiện", "What was done", max_length=5000, required_if={"outcome": "done"})
    extension_reason = f.text("Lý do gia hạn", "Reason for the extension", max_length=2000,
                              required_if={"outcome": "extend"})
    refusal_ground = f.choice(RefusalGround, "Căn cứ từ chối", "Legal ground of the refusal",
                              required_if={"outcome": "refuse"})
    reply = f.text("Nội dung trả lời người yêu cầu", "Reply to the requester", max_length=5000, required=True)
