"""A personal data breach as recorded when discovered; the 72-hour notice to the Ministry of Public Security runs
from the discovery (Law 91/2025/QH15 Art. 23.1).

case56 form, not an official layout."""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.choices import Choices
from forms.kit.registry import register
from forms.kit.schema import FormSchema


class BreachData(Choices):
    identity = ("identity", "Thông tin định danh của trẻ em", "The child's identity")
    family = ("family", "Đời sống riêng tư, gia đình", "Private and family life")
    health = ("health", "Sức khỏe", "Health")
    crime = ("crime", "Thông tin về tội phạm, hành vi xâm hại", "Crime and abuse data")
    location = ("location", "Nơi ở, vị trí", "Residence, location")
    informant = ("informant", "Danh tính người báo tin", "The informant's identity")
    accounts = ("accounts", "Tài khoản đăng nhập", "Login accounts")
    attachments = ("attachments", "Tài liệu đính kèm", "Attached documents")


class BreachRisk(Choices):
    """What Law 91 Art. 23.1 names as at risk."""

    life = ("life", "Tính mạng", "Life")
    health = ("health", "Sức khỏe", "Health")
    dignity = ("dignity", "Danh dự, nhân phẩm", "Honour and dignity")
    property = ("property", "Tài sản", "Property")
    order = ("order", "An ninh, trật tự", "Security and order")


@register
class BreachReport(FormSchema):
    class Meta:
        name = "breach_report"
        version = 1
        title_vi = "Ghi nhận vi phạm dữ liệu cá nhân"
        title_en = "Record of a personal data breach"
        article = "Điều 23 khoản 1 Luật 91/2025/QH15"
        provisional = True

    discovered_at = f.datetime("Thời điểm phát hiện", "Discovered at", past=True, required=True)
    discovered_by = f.string("Người phát hiện", "Discovered by", max_length=200, required=True)
    description = f.text("Diễn biến vụ việc", "What happened", max_length=10_000, required=True)
    data_categories = f.multichoice(BreachData, "Loại dữ liệu bị ảnh hưởng", "Data affected", required=True)
    subjects_count = f.integer("Số chủ thể dữ liệu bị ảnh hưởng (ước tính)", "Data subjects affected (estimate)",
                               min_value=0, max_value=10_000_000, required=True)
    risks = f.multichoice(BreachRisk, "Nguy cơ gây tổn hại", "Risk of harm to")
    by_processor = f.boolean("Do bên xử lý dữ liệu báo cáo", "Reported by a data processor")
    measures = f.text("Biện pháp đã áp dụng", "Measures taken", max_length=10_000)
