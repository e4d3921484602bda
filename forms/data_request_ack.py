"""Acknowledging a data subject's request within 2 working days (Decree 356/2025/NĐ-CP Art. 5): the identity
check, and the request taken up or refused with its legal ground.

case56 form, not an official layout."""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.choices import Choices
from forms.kit.registry import register
from forms.kit.schema import FormSchema


class RefusalGround(Choices):
    """Why a request may be refused: the Law 91 Art. 19 cases where data are processed without consent, the
    retention duty of Decree 56 Art. 30.3, and the requester's standing (Art. 24; Decree 56 Art. 27.1.h)."""

    alleged_abuser = ("alleged_abuser", "Người yêu cầu là người bị nghi là người xâm hại trẻ em "
                      "(Điều 24 Luật 91/2025/QH15; Điều 27 khoản 1 điểm h NĐ 56/2017/NĐ-CP)",
                      "The requester is the alleged abuser (Law 91 Art. 24; Decree 56 Art. 27.1.h)")
    identity_unverified = ("identity_unverified", "Không xác minh được nhân thân hoặc tư cách người yêu cầu",
                           "The requester's identity or standing could not be verified")
    urgent_protection = ("urgent_protection", "Cần xử lý ngay để bảo vệ tính mạng, sức khỏe, danh dự của trẻ em "
                         "(Điều 19 khoản 1 điểm a Luật 91/2025/QH15)",
                         "Urgent protection of the child's life, health, dignity (Law 91 Art. 19.1.a)")
    emergency = ("emergency", "Tình trạng khẩn cấp, phòng chống bạo loạn, khủng bố, tội phạm "
                 "(Điều 19 khoản 1 điểm b Luật 91/2025/QH15)",
                 "Emergency, prevention of crime (Law 91 Art. 19.1.b)")
    state_duty = ("state_duty", "Cơ quan nhà nước thực hiện nhiệm vụ theo luật định "
                  "(Điều 19 khoản 1 điểm c Luật 91/2025/QH15)",
                  "A state agency's statutory duty (Law 91 Art. 19.1.c)")
    other_law = ("other_law", "Trường hợp khác do luật quy định (Điều 19 Luật 91/2025/QH15)",
                 "Another case provided by law (Law 91 Art. 19)")
    dossier_retention = ("dossier_retention", "Hồ sơ phải được lưu giữ tại UBND cấp xã "
                         "(Điều 30 khoản 3 NĐ 56/2017/NĐ-CP; Điều 14 khoản 2 Luật 91/2025/QH15)",
                         "The commune must keep the dossier (Decree 56 Art. 30.3; Law 91 Art. 14.2)")
    harms_child = ("harms_child", "Cung cấp dữ liệu gây nguy hại cho trẻ em hoặc người khác "
                   "(Điều 24 Luật 91/2025/QH15; Điều 33 NĐ 56/2017/NĐ-CP)",
                   "Disclosure would harm the child or others (Law 91 Art. 24; Decree 56 Art. 33)")


class AckDecision(Choices):
    accept = ("accept", "Tiếp nhận, giải quyết yêu cầu", "Take up the request")
    refuse = ("refuse", "Từ chối yêu cầu", "Refuse the request")


@register
class DataRequestAck(FormSchema):
    class Meta:
        name = "data_request_ack"
        version = 1
        title_vi = "Xác nhận đã nhận yêu cầu của chủ thể dữ liệu"
        title_en = "Acknowledgement of a data subject's request"
        article = "Điều 5 NĐ 356/2025/NĐ-CP"
        provisional = True

    identity_verified = f.boolean("Đã xác minh nhân thân và tư cách người yêu cầu",
                                  "Identity and standing of the requester verified", required=True)
    decision = f.choice(AckDecision, "Quyết định", "Decision", required=True)
    refusal_ground = f.choice(RefusalGround, "Căn cứ từ chối", "Legal ground of the refusal",
                              required_if={"decision": "refuse"})
    reply = f.text("Nội dung trả lời người yêu cầu", "Reply to the requester", max_length=5000, required=True)
