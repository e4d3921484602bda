"""Mẫu số 07: Quyết định tạm thời cách ly trẻ em khỏi cha, mẹ, người chăm sóc trẻ em và áp dụng biện pháp
chăm sóc thay thế (Điều 32 NĐ 56/2017/NĐ-CP).

Provisional: the appendix layout was not read; the content follows Art. 32 — the legal ground among the three
cases of 32.1, the commune deciding it (of residence or of the incident, 32.2), the period (at most 15 days
including extensions unless a competent authority requires more, 32.3) and the alternative care the child is
handed to at once (32.4). The chairman may also decline: the request is then closed with a reason.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from forms.kit import fields as f
from forms.kit.choices import Choices
from forms.kit.messages import code
from forms.kit.registry import register
from forms.kit.schema import Errors, FormSchema

# Điều 32 khoản 3: at most 15 days, extensions included, unless a competent authority requires more.
MAX_SEPARATION_DAYS = 15


class SeparationDecision(Choices):
    separate = ("separate", "Quyết định tạm thời cách ly", "Decide the temporary separation")
    decline = ("decline", "Không quyết định cách ly", "Decline the separation")


class SeparationGround(Choices):
    """The three cases of Điều 32 khoản 1 NĐ 56/2017."""

    harm_by_parents = (
        "harm_by_parents",
        "Trẻ em bị xâm hại, có nguy cơ bị bạo lực, bóc lột, bỏ rơi bởi cha, mẹ, người chăm sóc trẻ em",
        "Harmed, or at risk of violence, exploitation or abandonment, by the parents or caregiver")
    parents_refuse_plan = (
        "parents_refuse_plan",
        "Trẻ em bị xâm hại nhưng cha, mẹ, người chăm sóc trẻ em từ chối thực hiện kế hoạch hỗ trợ, can thiệp",
        "Harmed, and the parents or caregiver refuse to carry out the support and intervention plan")
    risk_of_reabuse = (
        "risk_of_reabuse",
        "Trẻ em bị xâm hại có nguy cơ tiếp tục bị xâm hại bởi cha, mẹ, người chăm sóc trẻ em",
        "Harmed, and at risk of further abuse by the parents or caregiver")


class DecidingCommune(Choices):
    """Điều 32 khoản 2: the chairman of the commune where the child lives or where it happened."""

    residence = ("residence", "UBND cấp xã nơi trẻ em cư trú", "Commune where the child lives")
    incident = ("incident", "UBND cấp xã nơi xảy ra vụ việc", "Commune where it happened")


class AlternativeCare(Choices):
    """Where the child is placed (Điều 32.2, 32.4 NĐ 56/2017; Điều 50.2.b, 52.3 Luật Trẻ em)."""

    relative = ("relative", "Người thân thích của trẻ em", "A relative of the child")
    foster_family = ("foster_family", "Gia đình nhận chăm sóc thay thế", "A substitute (foster) family")
    safe_residence = ("safe_residence", "Nơi tạm trú an toàn", "A safe temporary residence")
    facility = ("facility", "Cơ sở trợ giúp xã hội, cơ sở cung cấp dịch vụ bảo vệ trẻ em",
                "A social assistance or child-protection facility")


@register
class Mau07(FormSchema):
    class Meta:
        name = "mau_07"
        version = 1
        title_vi = ("Quyết định tạm thời cách ly trẻ em khỏi cha, mẹ, người chăm sóc trẻ em và áp dụng biện pháp "
                    "chăm sóc thay thế (Mẫu số 07)")
        title_en = ("Decision on temporarily separating the child from the parents or caregiver and applying "
                    "alternative care (Form 07)")
        article = "Điều 32 NĐ 56/2017/NĐ-CP"
        provisional = True

    decision = f.choice(SeparationDecision, "Quyết định", "Decision", required=True)
    decline_reason = f.text("Lý do không cách ly", "Why the separation is declined", max_length=4000,
                            required_if={"decision": "decline"}, required_if_message="required",
                            only_if={"decision": "decline"}, only_if_message="separation_only")
    decided_at = f.datetime(
        "Thời điểm quyết định", "Decided at", required=True, past=True,
        help_vi="Trong vòng 12 giờ tính từ thời điểm tiếp nhận thông tin (Điều 32 khoản 2 NĐ 56/2017).",
        help_en="Within 12 hours of receiving the information (Decree 56/2017 Art. 32.2).")
    decision_number = f.string("Số quyết định", "Decision number", max_length=100,
                               required_if={"decision": "separate"}, required_if_message="separation_required")
    ground = f.choice(
        SeparationGround, "Căn cứ cách ly (Điều 32 khoản 1)", "Legal ground (Art. 32.1)",
        required_if={"decision": "separate"}, required_if_message="separation_required")
    ground_detail = f.text("Tình trạng của trẻ em, lý do cách ly", "The child's situation, why separate",
                           max_length=4000, required_if={"decision": "separate"},
                           required_if_message="separation_required")
    deciding_commune = f.choice(
        DecidingCommune, "Thẩm quyền quyết định (Điều 32 khoản 2)", "Deciding commune (Art. 32.2)",
        required_if={"decision": "separate"}, required_if_message="separation_required")
    deciding_commune_name = f.string("Tên UBND cấp xã ra quyết định", "Name of the deciding commune",
                                     max_length=300, required_if={"decision": "separate"},
                                     required_if_message="separation_required")
    start = f.date("Ngày bắt đầu cách ly", "Separation starts",
                   required_if={"decision": "separate"}, required_if_message="separation_required",
                   only_if={"decision": "separate"}, only_if_message="separation_only")
    end = f.date("Ngày kết thúc cách ly", "Separation ends",
                 required_if={"decision": "separate"}, required_if_message="separation_required",
                 only_if={"decision": "separate"}, only_if_message="separation_only",
                 help_vi=f"Tối đa {MAX_SEPARATION_DAYS} ngày kể cả gia hạn; tiếp tục sau đó chỉ theo yêu cầu của "
                         "cơ quan có thẩm quyền (Tòa án) (Điều 32 khoản 3).",
                 help_en=f"At most {MAX_SEPARATION_DAYS} days including extensions; beyond that only as a "
                         "competent authority (the court) requires (Art. 32.3).")
    care = f.choice(AlternativeCare, "Biện pháp chăm sóc thay thế", "Alternative care",
                    required_if={"decision": "separate"}, required_if_message="separation_required",
                    help_vi="Giao chăm sóc thay thế ngay (Điều 32 khoản 4).",
                    help_en="Alternative care is arranged at once (Art. 32.4).")
    carer_name = f.string("Người, cơ sở nhận chăm sóc trẻ em", "Carer or facility", max_length=500,
                          required_if={"decision": "separate"}, required_if_message="separation_required")
    carer_address = f.string("Địa chỉ nơi trẻ em được chăm sóc", "Where the child is cared for", max_length=500,
                             required_if={"decision": "separate"}, required_if_message="separation_required")
    carer_contact = f.phone("Điện thoại liên hệ", "Contact phone")
    handed_over_at = f.datetime("Thời điểm giao trẻ em cho người, cơ sở chăm sóc thay thế",
                                "When the child was handed over", past=True,
                                only_if={"decision": "separate"}, only_if_message="separation_only")
    signer_name = f.string("Chủ tịch UBND cấp xã (người ký)", "Signed by (commune chairman)")

    @validates_schema(skip_on_field_errors=False)
    def _period(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = Errors()
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None:
            if end < start:
                errors.add("end", code("end_before_start"))
            elif (end - start).days > MAX_SEPARATION_DAYS:
                errors.add("end", code("separation_decision_too_long", max=MAX_SEPARATION_DAYS))
        errors.raise_if_any()
