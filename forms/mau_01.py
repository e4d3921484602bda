"""Mẫu số 01 — Báo cáo tiếp nhận thông tin (Điều 25 NĐ 56/2017/NĐ-CP)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import validates_schema

from forms.kit import fields as f
from forms.kit.choices import AbuseForm, Channel, Environment, ReportCategory, Sex
from forms.kit.messages import code
from forms.kit.parts import Parent
from forms.kit.registry import register
from forms.kit.schema import Errors, FormSchema, Part

# Luật Trẻ em 2016, Điều 1: "Trẻ em là người dưới 16 tuổi."
CHILD_AGE_LIMIT = 16


def age_on(born: dt.date, day: dt.date) -> int:
    """Completed years on ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Child(Part):
    full_name = f.string("Họ và tên trẻ", "Child's full name")
    date_of_birth = f.date(
        "Ngày, tháng, năm sinh", "Date of birth", past=True,
        help_vi="Ghi ngày sinh hoặc tuổi ước tính nếu chưa rõ ngày sinh.",
        help_en="Give the date of birth, or an estimated age if it is not known.",
    )
    estimated_age = f.integer(
        "Tuổi (ước tính)", "Estimated age", min_value=0, max_value=CHILD_AGE_LIMIT - 1,
        help_vi="Trẻ em là người dưới 16 tuổi (Điều 1 Luật Trẻ em 2016).",
        help_en="A child is a person under 16 (Law on Children 2016, Art. 1).",
    )
    sex = f.choice(Sex, "Giới tính", "Sex")
    address = f.string("Nơi cư trú", "Address", max_length=500)
    incident_place = f.string("Nơi xảy ra vụ việc", "Place of the incident", max_length=500)
    current_condition = f.text("Tình trạng hiện tại của trẻ", "Child's current condition")
    foreseeable_consequences = f.text(
        "Hậu quả có thể xảy ra nếu không được hỗ trợ", "Foreseeable consequences without support")
    father = f.obj(Parent, "Cha", "Father", fill_empty=True)
    mother = f.obj(Parent, "Mẹ", "Mother", fill_empty=True)
    family_circumstances = f.text("Hoàn cảnh gia đình", "Family circumstances")
    current_caregiver = f.string("Người đang trực tiếp chăm sóc trẻ", "Current caregiver", max_length=500)
    actions_taken = f.text("Các biện pháp đã thực hiện", "Actions already taken")


class Informant(Part):
    consent = f.boolean(
        "Người báo tin đồng ý cung cấp thông tin cá nhân", "The informant agrees to give their details",
        default=False,
        help_vi="Chỉ ghi họ tên, điện thoại, địa chỉ người báo tin khi họ đồng ý (Mẫu số 01, Điều 25).",
        help_en="Record the informant's name, phone and address only with their consent (Form 01, Art. 25).",
    )
    name = f.string("Họ và tên người báo tin", "Informant's name",
                    only_if={"consent": True}, only_if_message="informant_without_consent")
    phone = f.phone("Số điện thoại", "Phone",
                    only_if={"consent": True}, only_if_message="informant_without_consent")
    address = f.string("Địa chỉ", "Address", max_length=500,
                       only_if={"consent": True}, only_if_message="informant_without_consent")
    notes = f.text("Ghi chú", "Notes", max_length=4000)


@register
class Mau01(FormSchema):
    class Meta:
        name = "mau_01"
        version = 1
        title_vi = ("Báo cáo tiếp nhận thông tin trẻ em bị xâm hại hoặc có nguy cơ bị bạo lực, "
                    "bóc lột, bỏ rơi hoặc có hoàn cảnh đặc biệt (Mẫu số 01)")
        title_en = ("Report on information received about a child abused or at risk of violence, "
                    "exploitation, abandonment, or in special circumstances (Form 01)")
        article = "Điều 25 NĐ 56/2017/NĐ-CP"
        provisional = False

    issuing_body = f.string("Cơ quan báo cáo", "Reporting body", max_length=500)
    report_number = f.string("Số báo cáo", "Report number", max_length=100,
                             help_vi="Dạng: Số …/BC-… (không bắt buộc).",
                             help_en="Form: No. …/BC-… (optional).")
    place = f.string("Địa danh", "Place", max_length=200)
    report_date = f.date("Ngày lập báo cáo", "Date of the report", past=True)
    category = f.choice(ReportCategory, "Loại thông tin", "Category of the report", required=True)
    channel = f.choice(Channel, "Hình thức tiếp nhận", "How the information was received", required=True)
    received_at = f.datetime(
        "Giờ, ngày tiếp nhận thông tin", "Hour and date the information was received",
        required=True, past=True,
        help_vi=("Mốc pháp lý để tính thời hạn, ví dụ 12 giờ áp dụng biện pháp khẩn cấp "
                 "(Điều 25, 26.3 NĐ 56/2017)."),
        help_en=("The legal moment time limits run from, e.g. the 12 hours for emergency measures "
                 "(Decree 56/2017 Art. 25, 26.3)."),
    )
    child = f.obj(Child, "Thông tin về trẻ em", "The child", fill_empty=True)
    informant = f.obj(Informant, "Thông tin người báo tin", "The informant", fill_empty=True)
    abuse_forms = f.multichoice(
        AbuseForm, "Hình thức xâm hại", "Form(s) of abuse",
        help_vi="Dùng cho thống kê (Thông tư 13/2021/TT-BLĐTBXH, chỉ tiêu 0101).",
        help_en="For statistics (Circular 13/2021/TT-BLĐTBXH, indicator 0101).",
    )
    environment = f.choice(
        Environment, "Môi trường xảy ra xâm hại", "Environment where it happened",
        help_vi="Dùng cho thống kê (Thông tư 13/2021/TT-BLĐTBXH).",
        help_en="For statistics (Circular 13/2021/TT-BLĐTBXH).",
    )
    crime_suspected = f.boolean(
        "Thông tin liên quan đến tội phạm", "The report concerns a crime", default=False,
        help_vi="Nếu có, chuyển cơ quan công an, áp dụng thủ tục tố tụng hình sự (Điều 25.3 NĐ 56/2017).",
        help_en="If so, the police are informed and criminal procedure applies (Decree 56/2017 Art. 25.3).",
    )
    commune_code = f.string(
        "Mã xã/phường nơi xảy ra vụ việc hoặc trẻ cư trú",
        "Code of the commune where it happened or the child lives", max_length=32,
    )
    receiving_officer = f.string("Người tiếp nhận (họ và tên)", "Receiving officer (name)")

    @validates_schema(skip_on_field_errors=False)
    def _child_age(self, data: dict[str, Any], **kwargs: Any) -> None:
        child = data.get("child")
        received = data.get("received_at")
        if not isinstance(child, dict) or received is None:
            return
        born = child.get("date_of_birth")
        if born is None:
            return
        errors = Errors()
        received_day = received.astimezone(f.VN_TZ).date()
        if born > received_day:
            errors.add(("child", "date_of_birth"), code("born_after_received"))
        else:
            age = age_on(born, received_day)
            estimated = child.get("estimated_age")
            if age >= CHILD_AGE_LIMIT:
                errors.add(("child", "date_of_birth"), code("not_a_child", age=age))
            elif estimated is not None and estimated != age:
                errors.add(("child", "estimated_age"), code("age_mismatch", age=age))
        errors.raise_if_any()
