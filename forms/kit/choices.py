"""Enumerations with stable codes and Vietnamese/English labels.

The codes are stored in case data and counted by the statistics (Thông tư 13/2021/TT-BLĐTBXH,
indicator 0101): never rename a code; add a new one and stop offering the old one instead.
Each member is a ``str`` equal to its code, so ``Sex.female == "female"``.
"""

from __future__ import annotations

from enum import StrEnum


class Choices(StrEnum):
    """Base: members are declared as ``code = ("code", "Vietnamese label", "English label")``."""

    vi: str
    en: str

    def __new__(cls, value: str, vi: str, en: str) -> Choices:
        member = str.__new__(cls, value)
        member._value_ = value
        member.vi = vi
        member.en = en
        return member

    def label(self, locale: str = "vi") -> str:
        return self.en if locale.lower().startswith("en") else self.vi

    @classmethod
    def codes(cls) -> list[str]:
        return [member.value for member in cls]

    @classmethod
    def labels(cls) -> dict[str, tuple[str, str]]:
        """code -> (vi, en)"""
        return {member.value: (member.vi, member.en) for member in cls}

    @classmethod
    def items(cls, locale: str = "vi") -> list[tuple[str, str]]:
        """[(code, label)] in declaration order, for select boxes."""
        return [(member.value, member.label(locale)) for member in cls]


def label(enum: type[Choices], code: str | None, locale: str = "vi") -> str:
    """The label of ``code`` in ``enum``; an unknown code (e.g. from old data) is shown as is."""
    if code is None:
        return ""
    # A scan rather than enum(code): Choices' constructor takes (code, vi, en), so the lookup call does not type.
    for member in enum:
        if member.value == code:
            return member.label(locale)
    return str(code)


class ReportCategory(Choices):
    """Loại thông tin báo cáo on Mẫu số 01."""

    xam_hai = ("xam_hai", "Trẻ em bị xâm hại", "Child abused")
    nguy_co_bao_luc = ("nguy_co_bao_luc", "Trẻ em có nguy cơ bị bạo lực", "Child at risk of violence")
    nguy_co_boc_lot = ("nguy_co_boc_lot", "Trẻ em có nguy cơ bị bóc lột", "Child at risk of exploitation")
    nguy_co_bo_roi = ("nguy_co_bo_roi", "Trẻ em có nguy cơ bị bỏ rơi", "Child at risk of abandonment")
    hoan_canh_dac_biet = (
        "hoan_canh_dac_biet",
        "Trẻ em có hoàn cảnh đặc biệt",
        "Child in special circumstances",
    )


class Channel(Choices):
    """Hình thức tiếp nhận thông tin (Mẫu số 01, A.1)."""

    phone = ("phone", "Qua điện thoại", "By phone")
    in_person = ("in_person", "Trực tiếp", "In person")
    reported_by_other = ("reported_by_other", "Do người khác báo tin", "Reported by another person")
    hotline_111 = ("hotline_111", "Tổng đài điện thoại quốc gia bảo vệ trẻ em 111", "Child helpline 111")
    written = ("written", "Bằng văn bản", "In writing")
    online = ("online", "Qua mạng (thư điện tử, cổng trực tuyến)", "Online (e-mail, web portal)")
    police = ("police", "Do cơ quan công an chuyển đến", "Forwarded by the police")
    other = ("other", "Khác", "Other")


class Sex(Choices):
    male = ("male", "Nam", "Male")
    female = ("female", "Nữ", "Female")
    unknown = ("unknown", "Chưa xác định", "Unknown")


class AbuseForm(Choices):
    """Hình thức xâm hại (Luật Trẻ em 2016, Điều 4.8)."""

    bao_luc = ("bao_luc", "Bạo lực", "Violence")
    xam_hai_tinh_duc = ("xam_hai_tinh_duc", "Xâm hại tình dục", "Sexual abuse")
    boc_lot = ("boc_lot", "Bóc lột", "Exploitation")
    mua_ban = ("mua_ban", "Mua bán", "Trafficking")
    bo_roi = ("bo_roi", "Bỏ rơi", "Abandonment")
    bo_mac = ("bo_mac", "Bỏ mặc", "Neglect")
    other = ("other", "Hình thức gây tổn hại khác", "Other harm")


class Environment(Choices):
    """Môi trường xảy ra xâm hại (statistics breakdown)."""

    gia_dinh = ("gia_dinh", "Gia đình", "Family")
    truong_hoc = ("truong_hoc", "Trường học", "School")
    cong_dong = ("cong_dong", "Cộng đồng", "Community")
    moi_truong_mang = ("moi_truong_mang", "Môi trường mạng", "Online")
    other = ("other", "Khác", "Other")


class OfficialChannel(Choices):
    """The three ways of receiving information printed on the official Mẫu số 01; case56's `Channel` maps onto
    them (forms.mau_01.OFFICIAL_CHANNEL)."""

    phone = ("phone", "Qua điện thoại", "By phone")
    in_person = ("in_person", "Trực tiếp", "In person")
    reported_by_other = ("reported_by_other", "Do người khác báo tin", "Reported by another person")


class Ethnicity(Choices):
    """The 54 ethnic groups of Viet Nam with their official codes (Danh mục các dân tộc Việt Nam, Quyết định
    121-TCTK/PPCĐ ngày 02/3/1979 của Tổng cục Thống kê, the codes of the national population database)."""

    e01 = ("01", "Kinh", "Kinh")
    e02 = ("02", "Tày", "Tay")
    e03 = ("03", "Thái", "Thai")
    e04 = ("04", "Hoa", "Hoa")
    e05 = ("05", "Khơ-me", "Khmer")
    e06 = ("06", "Mường", "Muong")
    e07 = ("07", "Nùng", "Nung")
    e08 = ("08", "Hmông", "Hmong")
    e09 = ("09", "Dao", "Dao")
    e10 = ("10", "Gia-rai", "Gia Rai")
    e11 = ("11", "Ngái", "Ngai")
    e12 = ("12", "Ê-đê", "Ede")
    e13 = ("13", "Ba-na", "Ba Na")
    e14 = ("14", "Xơ-đăng", "Xo Dang")
    e15 = ("15", "Sán Chay", "San Chay")
    e16 = ("16", "Cơ-ho", "Co Ho")
    e17 = ("17", "Chăm", "Cham")
    e18 = ("18", "Sán Dìu", "San Diu")
    e19 = ("19", "Hrê", "Hre")
    e20 = ("20", "Mnông", "Mnong")
    e21 = ("21", "Ra-glai", "Ra Glai")
    e22 = ("22", "Xtiêng", "Xtieng")
    e23 = ("23", "Bru-Vân Kiều", "Bru-Van Kieu")
    e24 = ("24", "Thổ", "Tho")
    e25 = ("25", "Giáy", "Giay")
    e26 = ("26", "Cơ-tu", "Co Tu")
    e27 = ("27", "Gié-Triêng", "Gie Trieng")
    e28 = ("28", "Mạ", "Ma")
    e29 = ("29", "Khơ-mú", "Kho Mu")
    e30 = ("30", "Co", "Co")
    e31 = ("31", "Tà-ôi", "Ta Oi")
    e32 = ("32", "Chơ-ro", "Cho Ro")
    e33 = ("33", "Kháng", "Khang")
    e34 = ("34", "Xinh-mun", "Xinh Mun")
    e35 = ("35", "Hà Nhì", "Ha Nhi")
    e36 = ("36", "Chu-ru", "Chu Ru")
    e37 = ("37", "Lào", "Lao")
    e38 = ("38", "La Chí", "La Chi")
    e39 = ("39", "La Ha", "La Ha")
    e40 = ("40", "Phù Lá", "Phu La")
    e41 = ("41", "La Hủ", "La Hu")
    e42 = ("42", "Lự", "Lu")
    e43 = ("43", "Lô Lô", "Lo Lo")
    e44 = ("44", "Chứt", "Chut")
    e45 = ("45", "Mảng", "Mang")
    e46 = ("46", "Pà Thẻn", "Pa Then")
    e47 = ("47", "Cờ Lao", "Co Lao")
    e48 = ("48", "Cống", "Cong")
    e49 = ("49", "Bố Y", "Bo Y")
    e50 = ("50", "Si La", "Si La")
    e51 = ("51", "Pu Péo", "Pu Peo")
    e52 = ("52", "Brâu", "Brau")
    e53 = ("53", "Ơ Đu", "O Du")
    e54 = ("54", "Rơ-măm", "Ro Mam")
    foreign = ("nuoc_ngoai", "Người nước ngoài", "Foreign national")


class PerpetratorRelationship(Choices):
    """The person who caused the harm, by relationship to the child (as the child helpline 111 records it;
    for statistics, not a category of any circular)."""

    parent = ("cha_me", "Cha, mẹ đẻ", "Parent")
    step_parent = ("cha_me_ke", "Cha dượng, mẹ kế", "Step-parent")
    caregiver = ("nguoi_cham_soc", "Người giám hộ, người chăm sóc khác", "Guardian or other caregiver")
    grandparent = ("ong_ba", "Ông, bà", "Grandparent")
    sibling = ("anh_chi_em", "Anh, chị, em", "Sibling")
    relative = ("ho_hang", "Họ hàng khác", "Other relative")
    teacher = ("giao_vien", "Giáo viên, nhân viên nhà trường", "Teacher or school staff")
    peer = ("ban_be", "Bạn bè, bạn học", "Friend or schoolmate")
    partner = ("nguoi_yeu", "Người yêu", "Boyfriend or girlfriend")
    neighbour = ("hang_xom", "Hàng xóm, người quen", "Neighbour or acquaintance")
    employer = ("chu_lao_dong", "Người sử dụng lao động", "Employer")
    online = ("quen_qua_mang", "Người quen qua mạng", "Someone met online")
    stranger = ("nguoi_la", "Người lạ", "Stranger")
    unknown = ("chua_ro", "Chưa xác định", "Not known")
    other = ("other", "Khác", "Other")


class RiskRating(Choices):
    """Mức độ in the risk grids. In a danger section "cao" means high danger; in Mẫu 06's
    self-protection section it means strength: forms label it per section."""

    cao = ("cao", "Cao", "High")
    trung_binh = ("trung_binh", "Trung bình", "Medium")
    thap = ("thap", "Thấp", "Low")


class MeasureLevel(Choices):
    support = ("support", "Hỗ trợ (Điều 49 Luật Trẻ em)", "Support (Law on Children Art. 49)")
    intervention = ("intervention", "Can thiệp (Điều 50 Luật Trẻ em)", "Intervention (Law on Children Art. 50)")


class EmergencyMeasure(Choices):
    """Biện pháp bảo vệ khẩn cấp (Điều 31 NĐ 56/2017; Điều 50 Luật Trẻ em) — list to confirm."""

    safe_residence = ("safe_residence", "Bố trí nơi tạm trú an toàn", "Safe temporary residence")
    medical_care = ("medical_care", "Chăm sóc y tế", "Medical care")
    alternative_care = ("alternative_care", "Chăm sóc thay thế tạm thời", "Temporary alternative care")
    police_intervention = (
        "police_intervention",
        "Đề nghị công an ngăn chặn hành vi xâm hại",
        "Police asked to stop the harm",
    )
    first_aid = ("first_aid", "Sơ cứu, cấp cứu", "First aid")
    preserve_evidence = (
        "preserve_evidence",
        "Giữ lại đồ vật, tài liệu liên quan làm chứng cứ",
        "Preserve objects and documents as evidence",
    )
    psychological_support = ("psychological_support", "Hỗ trợ tâm lý khẩn cấp", "Emergency psychological support")
    basic_needs = ("basic_needs", "Hỗ trợ nhu cầu thiết yếu (ăn, mặc, ở)", "Basic needs (food, clothing)")
    other = ("other", "Biện pháp khác", "Other measure")


class SeparationAction(Choices):
    extend = ("extend", "Gia hạn cách ly", "Extend the separation")
    cancel = ("cancel", "Hủy bỏ cách ly", "Cancel the separation")


class ApprovalDecision(Choices):
    approve = ("approve", "Phê duyệt", "Approve")
    return_ = ("return", "Trả lại để sửa", "Return for revision")


class ActivityStatus(Choices):
    done = ("done", "Đã hoàn thành", "Done")
    partly_done = ("partly_done", "Hoàn thành một phần", "Partly done")
    not_done = ("not_done", "Chưa thực hiện được", "Not done")


class ReviewConclusion(Choices):
    close = ("close", "Kết thúc kế hoạch, đóng hồ sơ", "End the plan and close the case")
    replan = ("replan", "Xây dựng kế hoạch mới", "Draw up a new plan")


class PlanEndDecision(Choices):
    end = ("end", "Kết thúc kế hoạch", "End the plan")
    replan = ("replan", "Xây dựng kế hoạch mới", "Draw up a new plan")


class PoliceOutcome(Choices):
    prosecuted = ("prosecuted", "Khởi tố vụ án", "Criminal case opened")
    not_prosecuted = ("not_prosecuted", "Không khởi tố vụ án", "No criminal case")
    investigating_closed = (
        "investigating_closed",
        "Đình chỉ điều tra",
        "Investigation closed",
    )
    administrative_sanction = (
        "administrative_sanction",
        "Xử phạt vi phạm hành chính",
        "Administrative penalty",
    )
    transferred = ("transferred", "Chuyển cơ quan có thẩm quyền khác", "Passed to another authority")
    other = ("other", "Khác", "Other")


class ParentRelation(Choices):
    """Whose views Mẫu 03 item h) records (Điều 27.1.h NĐ 56/2017)."""

    father = ("father", "Cha", "Father")
    mother = ("mother", "Mẹ", "Mother")
    caregiver = ("caregiver", "Người chăm sóc trẻ", "Caregiver")


class MeetingChair(Choices):
    """Who chaired the needs meeting: the commune chairman (Điều 27.2) or someone the chairman delegated."""

    chairman = ("chairman", "Chủ tịch UBND cấp xã", "The commune chairman")
    delegate = ("delegate", "Người được Chủ tịch UBND cấp xã ủy quyền", "A delegate of the commune chairman")


class MeetingParticipantCategory(Choices):
    """Who Điều 27.2 invites to the needs meeting, plus the child and anyone else who attended."""

    responsible_body = ("responsible_body", "Cá nhân, tổ chức có trách nhiệm bảo vệ trẻ em",
                        "Body or person responsible for child protection")
    residential_area = ("residential_area", "Đại diện địa bàn dân cư nơi trẻ cư trú, sinh sống hoặc nơi xảy ra vụ việc",
                        "Representative of the residential area")
    parent_caregiver = ("parent_caregiver", "Cha, mẹ hoặc người chăm sóc trẻ", "Parent or caregiver")
    child = ("child", "Trẻ em", "The child")
    other = ("other", "Thành phần khác", "Other")


class MinuteSignoff(Choices):
    sign = ("sign", "Ký xác nhận biên bản", "Sign the minute")
    return_ = ("return", "Trả lại để sửa", "Return for revision")


class RecipientKind(Choices):
    """Who the approved decision and plan are sent to (Điều 28.5 NĐ 56/2017)."""

    responsible_body = ("responsible_body", "Cơ quan, tổ chức, cá nhân có trách nhiệm thực hiện",
                        "Body or person responsible for carrying it out")
    parents = ("parents", "Cha, mẹ của trẻ", "The child's parents")
    caregiver = ("caregiver", "Người chăm sóc trẻ", "The child's caregiver")
    other = ("other", "Nơi nhận khác (lưu hồ sơ…)", "Other recipient (file copy…)")


class SendingMeans(Choices):
    hand = ("hand", "Giao trực tiếp", "By hand")
    post = ("post", "Qua bưu điện", "By post")
    electronic = ("electronic", "Văn bản điện tử, thư điện tử", "Electronic document or e-mail")
    other = ("other", "Cách khác", "Other means")


class ServiceType(Choices):
    """What a child-protection service provider offers (Điều 27.1.e, 28.3.c NĐ 56/2017)."""

    medical = ("medical", "Y tế, chữa trị tổn hại thể chất và tinh thần", "Medical and mental health care")
    counselling = ("counselling", "Tư vấn, trị liệu tâm lý", "Counselling and psychotherapy")
    social_assistance = ("social_assistance", "Trợ giúp xã hội", "Social assistance")
    education = ("education", "Giáo dục, đào tạo, giáo dục nghề nghiệp", "Education and vocational training")
    legal_aid = ("legal_aid", "Trợ giúp pháp lý", "Legal aid")
    alternative_care = ("alternative_care", "Chăm sóc thay thế, nơi tạm trú an toàn",
                        "Alternative care and safe shelter")
    other = ("other", "Dịch vụ bảo vệ trẻ em khác", "Other child-protection service")
