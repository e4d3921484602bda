"""Validation messages, Vietnamese and English.

Fields and rules never put human text into a ``ValidationError``: they put a message *code*
(``"required"`` or ``"too_long|max=255"``) made with :func:`code`. The registry translates the codes
into the caller's language only when it raises ``FormError``. This keeps one schema instance valid
for every language, and gives API clients stable codes (``FormError.codes``).

Messages never repeat the submitted value: a child's data must not end up in logs through an error.
"""

from __future__ import annotations

from typing import Any

LOCALES = ("vi", "en")

# code -> (Vietnamese, English); ``{name}`` placeholders are filled from the code's parameters.
MESSAGES: dict[str, tuple[str, str]] = {
    "invalid": ("Giá trị không hợp lệ.", "Invalid value."),
    "required": ("Trường này là bắt buộc.", "This field is required."),
    "unknown_field": (
        "Trường này không có trong biểu mẫu.",
        "This field is not part of the form.",
    ),
    "not_object": ("Phải là một nhóm trường (đối tượng).", "Must be a group of fields (an object)."),
    "not_list": ("Phải là một danh sách.", "Must be a list."),
    "not_string": ("Phải là văn bản.", "Must be text."),
    "too_long": ("Tối đa {max} ký tự.", "At most {max} characters."),
    "bad_characters": (
        "Có ký tự không được phép (ký tự điều khiển).",
        "Contains characters that are not allowed (control characters).",
    ),
    "no_newline": ("Trường này không được xuống dòng.", "Line breaks are not allowed in this field."),
    "duplicate_items": ("Mỗi lựa chọn chỉ được ghi một lần.", "Each choice may appear only once."),
    "invalid_date_json": ("Ngày phải theo dạng YYYY-MM-DD.", "A date must be written YYYY-MM-DD."),
    "invalid_datetime_json": (
        "Ngày giờ phải theo ISO 8601 kèm múi giờ, ví dụ 2026-12-05T14:30:00+07:00.",
        "A date and time must be ISO 8601 with its offset, e.g. 2026-12-05T14:30:00+07:00.",
    ),
    "receipt_too_old": (
        "Thời điểm tiếp nhận quá xa trong quá khứ (trước {oldest}); hãy kiểm tra lại ngày tháng năm.",
        "The receipt time is too far in the past (before {oldest}); check the date.",
    ),
    "hidden_characters": (
        "Có ký tự ẩn hoặc ký tự định dạng không được phép (ví dụ: ký tự đảo chiều văn bản, BOM, ký tự nối "
        "vô hình); hãy gõ lại nội dung thay vì dán.",
        "Contains hidden or formatting characters that are not allowed (e.g. a text-direction override, a BOM, "
        "a zero-width joiner); type the text again instead of pasting it.",
    ),
    "not_integer": ("Phải là số nguyên.", "Must be a whole number."),
    "min_value": ("Giá trị nhỏ nhất là {min}.", "Must be at least {min}."),
    "max_value": ("Giá trị lớn nhất là {max}.", "Must be at most {max}."),
    "not_boolean": ("Phải là Có hoặc Không.", "Must be yes or no."),
    "invalid_date": ("Ngày không hợp lệ (dd/mm/yyyy).", "Invalid date (dd/mm/yyyy)."),
    "invalid_datetime": (
        "Ngày giờ không hợp lệ (dd/mm/yyyy HH:MM).",
        "Invalid date and time (dd/mm/yyyy HH:MM).",
    ),
    "year_range": ("Năm phải trong khoảng {min}–{max}.", "The year must be between {min} and {max}."),
    "future_date": ("Ngày không được ở tương lai.", "The date cannot be in the future."),
    "future_datetime": (
        "Ngày giờ không được ở tương lai.",
        "The date and time cannot be in the future.",
    ),
    "invalid_choice": (
        "Lựa chọn không hợp lệ. Các giá trị được phép: {choices}.",
        "Invalid choice. Allowed values: {choices}.",
    ),
    "too_few_items": ("Cần ít nhất {min} mục.", "At least {min} item(s) required."),
    "too_many_items": ("Tối đa {max} mục.", "At most {max} items."),
    "invalid_phone": ("Số điện thoại không hợp lệ.", "Invalid phone number."),
    "end_before_start": (
        "Ngày kết thúc phải bằng hoặc sau ngày bắt đầu.",
        "The end date must be on or after the start date.",
    ),
    # Mẫu 01
    "not_a_child": (
        "Trẻ em là người dưới 16 tuổi (Điều 1 Luật Trẻ em 2016): theo ngày sinh, trẻ đã {age} tuổi "
        "khi tiếp nhận thông tin.",
        "A child is a person under 16 (Law on Children 2016, Art. 1): by this date of birth the child "
        "was {age} when the information was received.",
    ),
    "born_after_received": (
        "Ngày sinh sau thời điểm tiếp nhận thông tin.",
        "The date of birth is after the time the information was received.",
    ),
    "age_mismatch": (
        "Tuổi ước tính không khớp với ngày sinh (theo ngày sinh: {age} tuổi). Chỉ cần ghi một trong hai.",
        "The estimated age does not match the date of birth ({age} by the date of birth). "
        "Recording one of them is enough.",
    ),
    "informant_without_consent": (
        "Chỉ ghi thông tin người báo tin khi họ đồng ý (Mẫu số 01, Điều 25 NĐ 56/2017).",
        "Record the informant's details only with their consent (Form 01, Decree 56/2017 Art. 25).",
    ),
    "invalid_personal_id": (
        "Số định danh cá nhân gồm đúng 12 chữ số.",
        "A personal identification number has exactly 12 digits.",
    ),
    "personal_id_province": (
        "Ba chữ số đầu của số định danh cá nhân phải là mã tỉnh, thành phố nơi đăng ký khai sinh.",
        "The first three digits of the personal identification number must be the code of the province "
        "where the birth was registered.",
    ),
    "personal_id_birth": (
        "Chữ số thứ 4 đến 6 của số định danh cá nhân (thế kỷ, năm sinh) không khớp với ngày sinh của trẻ.",
        "Digits 4 to 6 of the personal identification number (century, year of birth) do not match the "
        "child's date of birth.",
    ),
    "personal_id_sex": (
        "Chữ số thứ 4 của số định danh cá nhân (giới tính) không khớp với giới tính của trẻ.",
        "Digit 4 of the personal identification number (sex) does not match the child's sex.",
    ),
    "unknown_commune": (
        "Không có xã, phường với mã này trong danh mục đơn vị hành chính.",
        "No commune has this code in the list of administrative units.",
    ),
    "incident_commune_differs": (
        "Hồ sơ được mở tại xã, phường nơi xảy ra vụ việc (Điều 26.1 NĐ 56/2017): mã này phải trùng với "
        "xã, phường đã chọn để mở hồ sơ.",
        "The case opens at the commune where the incident happened (Decree 56/2017 Art. 26.1): this code "
        "must be the commune chosen to open the case.",
    ),
    # verification / sign-off
    "reason_no_basis_required": (
        "Phải ghi lý do khi thông tin không có căn cứ (Điều 26.1 NĐ 56/2017).",
        "Give the reason when the report has no basis (Decree 56/2017 Art. 26.1).",
    ),
    "note_required_return": (
        "Phải ghi lý do khi trả lại để xác minh tiếp.",
        "Give the reason when sending the report back for verification.",
    ),
    # Mẫu 02
    "danger_required": (
        "Phải mô tả nguy hiểm nghiêm trọng khi kết luận cần biện pháp khẩn cấp (Điều 26.3 NĐ 56/2017).",
        "Describe the serious danger when concluding that emergency measures are needed "
        "(Decree 56/2017 Art. 26.3).",
    ),
    # emergency decision / separation
    "measure_or_separation": (
        "Chọn ít nhất một biện pháp khẩn cấp hoặc quyết định tạm thời cách ly (Điều 31, 32 NĐ 56/2017).",
        "Choose at least one emergency measure or decide a temporary separation "
        "(Decree 56/2017 Art. 31, 32).",
    ),
    "separation_required": (
        "Bắt buộc khi quyết định tạm thời cách ly trẻ (Điều 32 NĐ 56/2017).",
        "Required when the child is temporarily separated (Decree 56/2017 Art. 32).",
    ),
    "separation_only": (
        "Chỉ điền khi quyết định tạm thời cách ly trẻ.",
        "Fill this in only when the child is temporarily separated.",
    ),
    "separation_too_long": (
        "Thời hạn cách ly tối đa {max} ngày (Điều 32 NĐ 56/2017), ở đây là {days} ngày: "
        "phải ghi văn bản yêu cầu của cơ quan có thẩm quyền.",
        "Temporary separation lasts at most {max} days (Decree 56/2017 Art. 32), here {days} days: "
        "reference the competent authority's request.",
    ),
    "extend_required": ("Bắt buộc khi gia hạn cách ly.", "Required when extending the separation."),
    "extend_only": ("Chỉ điền khi gia hạn cách ly.", "Fill this in only when extending the separation."),
    "new_end_not_later": (
        "Ngày kết thúc mới phải sau ngày kết thúc hiện tại.",
        "The new end date must be after the current end date.",
    ),
    "separation_decision_too_long": (
        "Thời hạn cách ly tối đa {max} ngày kể cả gia hạn (Điều 32 khoản 3 NĐ 56/2017); tiếp tục sau đó chỉ "
        "theo quyết định của Tòa án.",
        "A temporary separation lasts at most {max} days including extensions (Decree 56/2017 Art. 32.3); "
        "beyond that only on the court's decision.",
    ),
    "separation_needs_court": (
        "Quá {max} ngày cách ly cần có quyết định của Tòa án nhân dân khu vực cho tiếp tục cách ly (Điều 32 "
        "khoản 3 NĐ 56/2017; Điều 52 khoản 3 Luật Trẻ em): chọn “Đề nghị Tòa án” và ghi nhận quyết định của Tòa án.",
        "Beyond {max} days the regional People's Court must have decided to continue the separation (Decree "
        "56/2017 Art. 32.3; Law on Children Art. 52.3): choose “Ask the court” and record its decision.",
    ),
    "separation_beyond_court": (
        "Ngày kết thúc mới vượt quá thời hạn Tòa án cho phép tiếp tục cách ly.",
        "The new end date is later than the court allowed the separation to continue.",
    ),
    "separation_running": (
        "Hồ sơ đang có một việc cách ly tạm thời (hoặc đề nghị cách ly chờ quyết định): mỗi lần chỉ một quyết định "
        "cách ly; hãy xử lý ở bước xem xét cách ly.",
        "A temporary separation (or a request for one) is already running in this case: one at a time; use its "
        "review step.",
    ),
    "separation_cancel_needs_mau_03": (
        "Chỉ hủy bỏ quyết định cách ly khi cha, mẹ, người chăm sóc đã được đánh giá lại bảo đảm an toàn cho trẻ "
        "em theo Mẫu số 03 sau khi cách ly (Điều 32 khoản 3 NĐ 56/2017): chọn “Giao đánh giá lại (Mẫu số 03)” trước.",
        "The separation is cancelled only once the parents or caregiver have been reassessed as safe on Form 03 "
        "after the separation began (Decree 56/2017 Art. 32.3): choose “Have the parents reassessed (Form 03)” "
        "first.",
    ),
    # plan / approval
    "comments_required_return": (
        "Phải ghi ý kiến khi trả lại dự thảo để sửa.",
        "Give comments when returning the draft for revision.",
    ),
    "approve_required": (
        "Bắt buộc khi phê duyệt kế hoạch (Điều 52 Luật Trẻ em).",
        "Required when approving the plan (Law on Children Art. 52).",
    ),
    "review_before_activities_end": (
        "Ngày dự kiến rà soát không được trước ngày kết thúc dự kiến của hoạt động kết thúc muộn nhất.",
        "The planned review date cannot be before the expected end of the last activity.",
    ),
    "review_before_plan_date": (
        "Ngày dự kiến rà soát không được trước ngày xây dựng kế hoạch.",
        "The planned review date cannot be before the date the plan was drafted.",
    ),
    # Mẫu 06
    "close_requires_no_risk": (
        "Chỉ kết thúc kế hoạch khi trẻ không còn nguy cơ (Điều 30.1 NĐ 56/2017).",
        "The plan can end only when the child is no longer at risk (Decree 56/2017 Art. 30.1).",
    ),
    "close_with_high_danger": (
        "Mục nguy cơ này còn ở mức Cao: chưa thể kết thúc kế hoạch (quy định của case56, không do pháp luật "
        "quy định; Điều 30.1 NĐ 56/2017 yêu cầu trẻ không còn nguy cơ).",
        "This danger is still rated High: the plan cannot end yet (a case56 policy, not set by law; Decree "
        "56/2017 Art. 30.1 requires that the child is no longer at risk).",
    ),
    # Mẫu 03 item h), needs e)
    "parents_views_excluded": (
        "Người này là người gây tổn hại cho trẻ: không lấy ý kiến, nguyện vọng của họ (Điều 27.1.h NĐ 56/2017). "
        "Hãy xoá nội dung ý kiến và ghi lý do không lấy ý kiến.",
        "This person caused the harm to the child: their views are not taken (Decree 56/2017 Art. 27.1.h). "
        "Clear the views and record why they were not taken.",
    ),
    "parents_views_reason_required": (
        "Phải ghi lý do không lấy ý kiến khi cha, mẹ, người chăm sóc là người gây tổn hại cho trẻ "
        "(Điều 27.1.h NĐ 56/2017).",
        "Record why the views were not taken when the parent or caregiver caused the harm "
        "(Decree 56/2017 Art. 27.1.h).",
    ),
    "need_detail_required": (
        "Phải mô tả cụ thể nhu cầu này (Điều 27.1.e NĐ 56/2017).",
        "Describe this need (Decree 56/2017 Art. 27.1.e).",
    ),
    # needs meeting (Điều 27.2)
    "delegation_required": (
        "Phải ghi lý do ủy quyền khi người chủ trì không phải là Chủ tịch UBND cấp xã (Điều 27.2 NĐ 56/2017).",
        "Record why the meeting was delegated when the commune chairman did not chair it "
        "(Decree 56/2017 Art. 27.2).",
    ),
    "delegation_only": (
        "Chỉ ghi lý do ủy quyền khi người chủ trì là người được ủy quyền.",
        "Record a delegation reason only when a delegate chaired the meeting.",
    ),
    "signoff_comments_required": (
        "Phải ghi ý kiến khi trả lại biên bản để sửa.",
        "Give comments when returning the minute for revision.",
    ),
    # Mẫu 05 distribution (Điều 28.5)
    "parents_recipient_required": (
        "Quyết định và kế hoạch phải được gửi đến cha, mẹ hoặc người chăm sóc trẻ (Điều 28.5 NĐ 56/2017). "
        "Thêm một dòng gửi cha, mẹ hoặc người chăm sóc, hoặc ghi lý do không an toàn để gửi.",
        "The decision and plan must be sent to the parents or caregiver (Decree 56/2017 Art. 28.5). Add a line "
        "sending them, or record why sending them is not safe.",
    ),
    "responsible_recipient_required": (
        "Quyết định và kế hoạch phải được gửi đến ít nhất một cơ quan, tổ chức, cá nhân có trách nhiệm thực hiện "
        "(Điều 28.5 NĐ 56/2017).",
        "The decision and plan must be sent to at least one body responsible for carrying them out "
        "(Decree 56/2017 Art. 28.5).",
    ),
    "parents_unsafe_reason_required": (
        "Phải ghi lý do khi không gửi cho cha, mẹ, người chăm sóc vì không an toàn cho trẻ.",
        "Record the reason when the parents or caregiver are not sent the plan because it is unsafe.",
    ),
    "parents_unsafe_but_sent": (
        "Đã có dòng gửi cho cha, mẹ hoặc người chăm sóc: bỏ đánh dấu “không an toàn để gửi” hoặc xoá dòng đó.",
        "A line already sends it to the parents or caregiver: untick “unsafe to send” or remove that line.",
    ),
    "close_requires_stable": (
        "Chỉ kết thúc kế hoạch khi tình trạng này của trẻ đã ổn định (Điều 30.1 NĐ 56/2017).",
        "The plan can end only when this aspect of the child's state is stable "
        "(Decree 56/2017 Art. 30.1).",
    ),
}


def code(name: str, **params: Any) -> str:
    """A message code with parameters, as carried inside ``ValidationError``.

    Parameter values must be plain words or numbers (no ``|``, ``;`` or ``=``)."""
    if not params:
        return name
    return name + "|" + ";".join(f"{key}={value}" for key, value in params.items())


def parse(raw: str) -> tuple[str, dict[str, str]]:
    name, _, rest = raw.partition("|")
    params = dict(part.split("=", 1) for part in rest.split(";") if "=" in part) if rest else {}
    return name, params


def known(raw: str) -> bool:
    return parse(raw)[0] in MESSAGES


def normalize_locale(locale: str | None) -> str:
    """'en', 'en_US', 'EN-gb' -> 'en'; anything not English -> 'vi' (the users' language)."""
    return "en" if (locale or "").lower().startswith("en") else "vi"


def translate(raw: str, locale: str = "vi") -> str:
    name, params = parse(raw)
    vi, en = MESSAGES.get(name, MESSAGES["invalid"])
    template = en if normalize_locale(locale) == "en" else vi
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def translate_tree(errors: Any, locale: str = "vi") -> Any:
    """Translate a marshmallow error tree; keys become strings (list indexes too) so it is JSON."""
    if isinstance(errors, dict):
        return {str(key): translate_tree(value, locale) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [translate_tree(item, locale) for item in errors]
    return translate(str(errors), locale)


def codes_tree(errors: Any) -> Any:
    """The same tree with the raw codes, keys as strings."""
    if isinstance(errors, dict):
        return {str(key): codes_tree(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [codes_tree(item) for item in errors]
    return str(errors)
