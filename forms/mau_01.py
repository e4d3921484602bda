"""Mẫu số 01 — Báo cáo tiếp nhận thông tin (Điều 25 NĐ 56/2017/NĐ-CP)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from marshmallow import validates_schema

from forms.kit import fields as f
from forms.kit.choices import (
    AbuseForm,
    Channel,
    Environment,
    Ethnicity,
    OfficialChannel,
    PerpetratorRelationship,
    ReportCategory,
    Sex,
)
from forms.kit.messages import code
from forms.kit.parts import Parent
from forms.kit.registry import register
from forms.kit.schema import Errors, FormSchema, Part
from forms.kit.sensitivity import INFORMANT, PRIVATE

# Luật Trẻ em 2016, Điều 1: "Trẻ em là người dưới 16 tuổi."
CHILD_AGE_LIMIT = 16

# The official form prints three ways of receiving information; case56 records finer channels (law-2026 §4).
OFFICIAL_CHANNEL: dict[str, OfficialChannel] = {
    Channel.phone: OfficialChannel.phone,
    Channel.hotline_111: OfficialChannel.phone,
    Channel.in_person: OfficialChannel.in_person,
    Channel.written: OfficialChannel.in_person,  # handed in by the informant themself
    Channel.online: OfficialChannel.in_person,  # sent by the informant themself
    Channel.reported_by_other: OfficialChannel.reported_by_other,
    Channel.police: OfficialChannel.reported_by_other,
    Channel.other: OfficialChannel.reported_by_other,
}

# Mã định danh cá nhân (Luật Căn cước 2023 Art. 12; Thông tư 59/2021/TT-BCA Art. 7): 3 digits the province of
# birth registration, 1 digit sex and century, 2 digits the year of birth, 6 random digits.
PERSONAL_ID = re.compile(r"[0-9]{12}")
# The 63 province codes of birth registration (Thông tư 59/2021/TT-BCA, appendix); the 34 provinces formed on
# 01/07/2025 kept codes from this list, and numbers already issued keep theirs.
PROVINCE_CODES = frozenset(f"{n:03d}" for n in (
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37, 38, 40, 42, 44,
    45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77, 79, 80, 82, 83, 84, 86, 87, 89,
    91, 92, 93, 94, 95, 96))


def official_channel(channel: str | None) -> OfficialChannel | None:
    """The box of the printed form a recorded channel ticks."""
    return OFFICIAL_CHANNEL.get(channel) if channel else None


def personal_id_errors(number: str, born: dt.date | None, sex: str | None) -> list[str]:
    """Message codes for a personal identification number: its shape, province, and (when the child's date of
    birth or sex is known) the century, year and sex digits."""
    if not PERSONAL_ID.fullmatch(number):
        return [code("invalid_personal_id")]
    problems = []
    if number[:3] not in PROVINCE_CODES:
        problems.append(code("personal_id_province"))
    marker = int(number[3])  # 0/1: born 1900-1999, male/female; 2/3: 2000-2099; and so on
    century = 1900 + 100 * (marker // 2)
    if born is not None and (century != born.year // 100 * 100 or int(number[4:6]) != born.year % 100):
        problems.append(code("personal_id_birth"))
    if sex in (Sex.male, Sex.female) and (marker % 2 == 1) != (sex == Sex.female):
        problems.append(code("personal_id_sex"))
    return problems


def age_on(born: dt.date, day: dt.date) -> int:
    """Completed years on ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Child(Part):
    full_name = f.string("Họ và tên trẻ", "Child's full name", sensitivity=PRIVATE)
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
    personal_id = f.string(
        "Số định danh cá nhân", "Personal identification number", max_length=12,
        pattern=PERSONAL_ID.pattern, pattern_message="invalid_personal_id",
        help_vi=("Không bắt buộc; 12 chữ số, để nhập cơ sở dữ liệu trẻ em quốc gia (Điều 30.3 NĐ 56/2017) "
                 "và đối chiếu dân cư."),
        help_en="Optional; 12 digits, for the national children database (Decree 56/2017 Art. 30.3).",
        unofficial=True,
    )
    ethnicity = f.choice(
        Ethnicity, "Dân tộc", "Ethnicity", unofficial=True,
        help_vi="Không bắt buộc; dùng cho thống kê (54 dân tộc, mã theo danh mục của Tổng cục Thống kê).",
        help_en="Optional; for statistics (the 54 ethnic groups, coded as the General Statistics Office lists them).",
    )
    address = f.string("Nơi cư trú", "Address", max_length=500, unofficial=True, sensitivity=PRIVATE)
    incident_place = f.string("Nơi xảy ra vụ việc", "Place of the incident", max_length=500)
    current_condition = f.text("Tình trạng hiện tại của trẻ", "Child's current condition")
    foreseeable_consequences = f.text(
        "Hậu quả có thể xảy ra nếu không được hỗ trợ", "Foreseeable consequences without support")
    father = f.obj(Parent, "Cha", "Father", fill_empty=True)
    mother = f.obj(Parent, "Mẹ", "Mother", fill_empty=True)
    family_circumstances = f.text("Hoàn cảnh gia đình", "Family circumstances")
    current_caregiver = f.string("Người đang trực tiếp chăm sóc trẻ", "Current caregiver", max_length=500,
                                 sensitivity=PRIVATE)
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
        help_vi=("Mốc pháp lý để tính thời hạn, ví dụ 12 giờ áp dụng biện pháp khẩn cấp (Điều 25, 26.3 "
                 "NĐ 56/2017), do nơi tiếp nhận ghi; nếu UBND xã nhận thông tin sớm hơn thì tính từ thời "
                 "điểm của xã."),
        help_en=("The legal moment time limits run from, e.g. the 12 hours for emergency measures (Decree "
                 "56/2017 Art. 25, 26.3), as the intake point recorded it; if the commune received it earlier, "
                 "from the commune's receipt."),
    )
    # Sensitivity (forms/kit/sensitivity.py): the child's items are private (Art. 33), the informant's identity
    # is for those handling the report only (Art. 24.1, 25); free texts inside both stay sensitive as well.
    commune_received_at = f.datetime(
        "Giờ, ngày UBND xã, phường nhận thông tin", "Hour and date the commune received the information",
        past=True, unofficial=True,
        help_vi=("Khi nơi tiếp nhận (Tổng đài 111, công an…) chuyển thông tin đến xã (Điều 26.1). Thời hạn "
                 "12 giờ tính từ thời điểm sớm hơn trong hai thời điểm tiếp nhận (Điều 26.3, 31.2, 32.2)."),
        help_en=("When the intake point (helpline 111, police…) forwarded it to the commune (Art. 26.1). The "
                 "12 hours run from the earlier of the two receipts (Art. 26.3, 31.2, 32.2)."),
    )
    incident_commune = f.string(
        "Mã xã, phường nơi xảy ra vụ việc", "Code of the commune where the incident happened", max_length=32,
        unofficial=True,
        help_vi="Xã, phường đánh giá nguy cơ ban đầu (Điều 26.1, 26.2 NĐ 56/2017). Để trống: xã mở hồ sơ.",
        help_en=("The commune that makes the initial assessment (Decree 56/2017 Art. 26.1–2). "
                 "Empty: the commune the case is opened for."),
    )
    residence_commune = f.string(
        "Mã xã, phường nơi trẻ em cư trú", "Code of the commune where the child lives", max_length=32,
        unofficial=True,
        help_vi=("Xã, phường xây dựng và thực hiện kế hoạch hỗ trợ, can thiệp (Điều 52.2 Luật Trẻ em); "
                 "hồ sơ được chuyển đến đây khi bắt đầu đánh giá nguy cơ cụ thể. Để trống: như nơi xảy ra vụ việc."),
        help_en=("The commune that builds and carries out the plan (Law on Children Art. 52.2); the case moves "
                 "there when the detailed assessment begins. Empty: the incident commune."),
    )
    child = f.obj(Child, "Thông tin về trẻ em", "The child", fill_empty=True, sensitivity=PRIVATE)
    informant = f.obj(Informant, "Thông tin người báo tin", "The informant", fill_empty=True, sensitivity=INFORMANT)
    abuse_forms = f.multichoice(
        AbuseForm, "Hình thức xâm hại", "Form(s) of abuse", unofficial=True,
        help_vi="Dùng cho thống kê (Thông tư 13/2021/TT-BLĐTBXH, chỉ tiêu 0101).",
        help_en="For statistics (Circular 13/2021/TT-BLĐTBXH, indicator 0101).",
    )
    environment = f.choice(
        Environment, "Môi trường xảy ra xâm hại", "Environment where it happened", unofficial=True,
        help_vi="Dùng cho thống kê (Thông tư 13/2021/TT-BLĐTBXH).",
        help_en="For statistics (Circular 13/2021/TT-BLĐTBXH).",
    )
    perpetrator_relationships = f.multichoice(
        PerpetratorRelationship, "Quan hệ của người gây tổn hại với trẻ", "Relationship of the perpetrator(s) "
        "to the child", unofficial=True,
        help_vi="Không bắt buộc; dùng cho thống kê (như Tổng đài 111 ghi nhận). Chọn tất cả nếu nhiều người.",
        help_en="Optional; for statistics (as the child helpline 111 records it). Choose all that apply.",
    )
    crime_suspected = f.boolean(
        "Thông tin liên quan đến tội phạm", "The report concerns a crime", default=False, unofficial=True,
        help_vi="Nếu có, chuyển cơ quan công an, áp dụng thủ tục tố tụng hình sự (Điều 25.3 NĐ 56/2017).",
        help_en="If so, the police are informed and criminal procedure applies (Decree 56/2017 Art. 25.3).",
    )
    commune_code = f.string(
        "Mã xã/phường mở hồ sơ", "Code of the commune the case was opened for", max_length=32, unofficial=True,
        help_vi="Do hệ thống ghi (xã, phường chọn khi tiếp nhận).",
        help_en="Recorded by the system (the commune chosen at intake).",
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
        earlier = min(received, data.get("commune_received_at") or received)
        received_day = earlier.astimezone(f.VN_TZ).date()
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

    @validates_schema(skip_on_field_errors=False)
    def _personal_id(self, data: dict[str, Any], **kwargs: Any) -> None:
        child = data.get("child")
        if not isinstance(child, dict) or not child.get("personal_id"):
            return
        problems = personal_id_errors(child["personal_id"], child.get("date_of_birth"), child.get("sex"))
        if problems:
            errors = Errors()
            for problem in problems:
                errors.add(("child", "personal_id"), problem)
            errors.raise_if_any()
