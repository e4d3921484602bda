"""The chairman's sign-off on a report found without basis (Chủ tịch UBND cấp xã, Điều 26.1 NĐ 56/2017).

Provisional: the decree's appendix has no layout for it.
"""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.registry import register
from forms.kit.schema import FormSchema


@register
class NoBasisSignoff(FormSchema):
    class Meta:
        name = "no_basis_signoff"
        version = 1
        title_vi = "Ý kiến của Chủ tịch UBND cấp xã về thông tin không có căn cứ"
        title_en = "Chairman's sign-off on a report found without basis"
        article = "Điều 26.1 NĐ 56/2017/NĐ-CP"
        provisional = True

    confirm = f.boolean(
        "Đồng ý kết thúc vụ việc", "Agree to end the case", required=True,
        help_vi="Có: kết thúc vì thông tin không có căn cứ. Không: trả lại để xác minh tiếp.",
        help_en="Yes: end the case as the report has no basis. No: send it back for verification.",
    )
    note = f.text("Ý kiến", "Note", required_if={"confirm": False},
                  required_if_message="note_required_return")
    signed_at = f.datetime("Thời điểm ký", "Signed at", past=True)
    signer_name = f.string("Người ký", "Signed by")
