"""The commune chairman's request to the regional People's Court to continue a separation beyond 15 days or to
restrict the parents' rights (Điều 52 khoản 3 Luật Trẻ em; Điều 32 khoản 3 NĐ 56/2017; Điều 14 khoản 3 Thông tư
14/2020/TT-BLĐTBXH; NĐ 147/2025/NĐ-CP gives it to the commune chairman). The court's answer is
forms/court_decision.py.

Provisional: no form is prescribed.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from forms.kit import fields as f
from forms.kit.choices import Choices
from forms.kit.messages import code
from forms.kit.registry import register
from forms.kit.schema import Errors, FormSchema


class CourtRequestKind(Choices):
    continue_separation = ("continue_separation", "Tiếp tục cách ly trẻ em khỏi cha, mẹ, người chăm sóc",
                           "Continue the separation from the parents or caregiver")
    restrict_parental_rights = ("restrict_parental_rights", "Hạn chế quyền của cha, mẹ đối với con",
                                "Restrict the parents' rights over the child")


@register
class CourtRequest(FormSchema):
    class Meta:
        name = "court_request"
        version = 1
        title_vi = "Văn bản đề nghị Tòa án nhân dân khu vực tiếp tục cách ly / hạn chế quyền của cha mẹ"
        title_en = "Request to the regional People's Court to continue the separation / restrict parental rights"
        article = "Điều 52 khoản 3 Luật Trẻ em; Điều 32 khoản 3 NĐ 56/2017/NĐ-CP; NĐ 147/2025/NĐ-CP"
        provisional = True

    court_name = f.string("Tòa án nhân dân khu vực", "Regional People's Court", max_length=300, required=True,
                          help_vi="Từ 01/07/2025 là Tòa án nhân dân khu vực (thay Tòa án cấp huyện).",
                          help_en="Since 01/07/2025 the regional People's Court (formerly the district court).")
    request_number = f.string("Số văn bản đề nghị", "Request number", max_length=100, required=True)
    filed_at = f.datetime("Thời điểm gửi Tòa án", "Filed at", required=True, past=True)
    requests = f.multichoice(CourtRequestKind, "Nội dung đề nghị", "Requested", required=True)
    proposed_until = f.date("Đề nghị cách ly đến ngày", "Separation proposed until",
                            help_vi="Bắt buộc khi đề nghị tiếp tục cách ly.",
                            help_en="Required when asking to continue the separation.")
    grounds = f.text("Căn cứ, lý do đề nghị", "Grounds", max_length=8000, required=True,
                     help_vi="Kết quả đánh giá lại (Điều 14.3 TT 14/2020): vì sao trẻ em chưa thể trở về gia đình.",
                     help_en="The reassessment (Circular 14/2020 Art. 14.3): why the child cannot go home yet.")
    signer_name = f.string("Chủ tịch UBND cấp xã (người ký)", "Signed by (commune chairman)")

    @validates_schema(skip_on_field_errors=False)
    def _some_request(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = Errors()
        if data.get("requests") == []:
            errors.add("requests", code("required"))
        if "continue_separation" in (data.get("requests") or []) and "proposed_until" in data \
                and data["proposed_until"] is None:
            errors.add("proposed_until", code("required"))
        errors.raise_if_any()
