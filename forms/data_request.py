"""A data subject's request about a child's personal data (Law 91/2025/QH15 Art. 4, 24; Decree 356/2025/NĐ-CP
Art. 5), as received: who asks, for which child's case, which right, and how their identity was checked.

case56 form, not an official layout: the decree prescribes the content of a request, not a form.
"""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.choices import Choices
from forms.kit.registry import register
from forms.kit.schema import FormSchema
from forms.kit.sensitivity import BASIC, PRIVATE


class DataRight(Choices):
    """The rights of Law 91 Art. 4.1 a request may exercise; each has its limit in
    processes/privacy/data_request.toml (Decree 356 Art. 5)."""

    view = ("view", "Xem, truy cập dữ liệu", "View / access the data")
    correct = ("correct", "Chỉnh sửa dữ liệu", "Correct the data")
    copy = ("copy", "Cung cấp bản sao dữ liệu", "Provide a copy of the data")
    withdraw = ("withdraw", "Rút lại sự đồng ý", "Withdraw consent")
    restrict = ("restrict", "Hạn chế xử lý dữ liệu", "Restrict processing")
    object = ("object", "Phản đối xử lý dữ liệu", "Object to processing")
    delete = ("delete", "Xoá dữ liệu", "Delete the data")
    protect = ("protect", "Yêu cầu áp dụng biện pháp bảo vệ", "Protective measures")


class RequesterKind(Choices):
    child = ("child", "Trẻ em (chủ thể dữ liệu)", "The child (data subject)")
    representative = ("representative", "Người đại diện theo pháp luật của trẻ em",
                      "The child's legal representative")
    authorised = ("authorised", "Người được uỷ quyền", "An authorised person")


@register
class DataRequestForm(FormSchema):
    class Meta:
        name = "data_request"
        version = 1
        title_vi = "Tiếp nhận yêu cầu thực hiện quyền của chủ thể dữ liệu"
        title_en = "Receipt of a data subject's request"
        article = "Điều 4, Điều 24 Luật 91/2025/QH15; Điều 5 NĐ 356/2025/NĐ-CP"
        provisional = True

    case_number = f.string("Số hồ sơ của trẻ em", "Case number of the child", max_length=40, required=True,
                           sensitivity=BASIC)
    received_at = f.datetime("Thời điểm nhận yêu cầu", "Received at", past=True, required=True)
    requester_kind = f.choice(RequesterKind, "Người yêu cầu là", "The requester is", required=True)
    requester_name = f.string("Họ và tên người yêu cầu", "Requester's full name", max_length=200, required=True,
                              sensitivity=PRIVATE)
    representative_id = f.integer("Người đại diện đã ghi nhận trong hồ sơ", "Representative recorded on the case",
                                  min_value=1, max_value=2**31 - 1,
                                  required_if={"requester_kind": "representative"})
    request_type = f.choice(DataRight, "Quyền yêu cầu thực hiện", "Right exercised", required=True)
    identity_document = f.string("Giấy tờ tùy thân đã xuất trình (loại, số)", "Identity document shown (kind, number)",
                                 max_length=200, required=True, sensitivity=PRIVATE)
    channel = f.string("Hình thức gửi yêu cầu", "How the request came", max_length=100,
                       help_vi="Trực tiếp, văn bản, thư điện tử…", help_en="In person, letter, e-mail…")
    details = f.text("Nội dung yêu cầu", "What is asked", max_length=5000, required=True)
