"""The notice of a personal data breach: to the Ministry of Public Security (A05) within 72 hours of discovery, or
from a processor to the controller (Law 91/2025/QH15 Art. 23). The page prefills the content from the record;
the administrator completes it and records when and how it was sent.

case56 form, not an official layout."""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.choices import Choices
from forms.kit.registry import register
from forms.kit.schema import FormSchema
from forms.kit.sensitivity import BASIC


class BreachRecipient(Choices):
    a05 = ("a05", "Bộ Công an (Cục An ninh mạng và phòng, chống tội phạm sử dụng công nghệ cao – A05)",
           "Ministry of Public Security (A05)")
    controller = ("controller", "Bên kiểm soát dữ liệu (bên xử lý thông báo)", "The controller (processor's notice)")


@register
class BreachNotification(FormSchema):
    class Meta:
        name = "breach_notification"
        version = 1
        title_vi = "Thông báo vi phạm dữ liệu cá nhân"
        title_en = "Notice of a personal data breach"
        article = "Điều 23 Luật 91/2025/QH15"
        provisional = True

    recipient = f.choice(BreachRecipient, "Nơi nhận", "Recipient", required=True)
    sent_at = f.datetime("Thời điểm gửi", "Sent at", past=True, required=True)
    reference = f.string("Số văn bản / cách gửi", "Document number / how sent", max_length=200, required=True,
                         sensitivity=BASIC)
    content = f.text("Nội dung thông báo", "Content of the notice", max_length=20_000, required=True)
    late_reason = f.text("Lý do gửi sau 72 giờ", "Why sent after 72 hours", max_length=2000)
