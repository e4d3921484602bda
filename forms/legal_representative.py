"""A child's legal representative, recorded on the case: who exercises the child's data rights (Law 91/2025/QH15
Art. 24), unless they are the alleged abuser (Decree 56/2017/NĐ-CP Art. 27.1.h).

case56 form, not an official layout."""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.choices import Choices
from forms.kit.registry import register
from forms.kit.schema import FormSchema
from forms.kit.sensitivity import PRIVATE, SENSITIVE


class RepresentativeRelation(Choices):
    father = ("father", "Cha", "Father")
    mother = ("mother", "Mẹ", "Mother")
    guardian = ("guardian", "Người giám hộ", "Guardian")
    caregiver = ("caregiver", "Người chăm sóc thay thế", "Alternative caregiver")
    other = ("other", "Người đại diện khác theo pháp luật", "Other legal representative")


@register
class LegalRepresentativeForm(FormSchema):
    class Meta:
        name = "legal_representative"
        version = 1
        title_vi = "Người đại diện theo pháp luật của trẻ em"
        title_en = "The child's legal representative"
        article = "Điều 24 Luật 91/2025/QH15; Điều 27 khoản 1 điểm h NĐ 56/2017/NĐ-CP"
        provisional = True

    full_name = f.string("Họ và tên", "Full name", max_length=200, required=True, sensitivity=PRIVATE)
    relation = f.choice(RepresentativeRelation, "Quan hệ với trẻ em", "Relation to the child", required=True)
    contact = f.string("Địa chỉ, số điện thoại liên hệ", "Contact (address, phone)", max_length=200,
                       sensitivity=PRIVATE)
    id_number = f.string("Số định danh cá nhân / CCCD", "Personal ID number", max_length=40, sensitivity=PRIVATE)
    # Crime data (Decree 356 Art. 4): shown only to those who may see sensitive data.
    alleged_abuser = f.boolean("Là người bị nghi là người xâm hại trẻ em", "Is the alleged abuser", required=True,
                               sensitivity=SENSITIVE,
                               help_vi="Nếu đánh dấu: người này không được thực hiện quyền thay trẻ em và không "
                                       "được tiếp cận nội dung hồ sơ.",
                               help_en="If ticked: this person may not exercise the child's rights nor see the "
                                       "file's content.")
    note = f.text("Ghi chú", "Note", max_length=2000)
