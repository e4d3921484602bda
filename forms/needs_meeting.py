"""Biên bản cuộc họp xác định nhu cầu hỗ trợ, can thiệp (Điều 27 khoản 2 NĐ 56/2017/NĐ-CP).

Art. 27.2: the commune chairman chairs the meeting with the bodies responsible for protecting children, a
representative of the residential area and the parents or caregiver. Version 2 records who chaired it (the
chairman, or a delegate with name, position and the reason for the delegation) and the participants by
those categories; version 1 (a free-text chair) stays registered for the minutes stored under it.

The chairman's sign-off of the minute is its own small form (forms/needs_meeting_signoff.py), filled by the
chairman's step that follows the meeting.
"""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.choices import MeetingChair, MeetingParticipantCategory
from forms.kit.parts import Participant
from forms.kit.registry import register
from forms.kit.schema import FormSchema, Part


@register
class NeedsMeetingV1(FormSchema):
    class Meta:
        name = "needs_meeting"
        version = 1
        title_vi = "Biên bản cuộc họp xác định nhu cầu hỗ trợ, can thiệp"
        title_en = "Minute of the meeting to determine support and intervention needs"
        article = "Điều 27 NĐ 56/2017/NĐ-CP"
        provisional = False

    held_at = f.datetime("Thời gian họp", "Held at", required=True, past=True)
    place = f.string("Địa điểm", "Place", max_length=500)
    chair = f.string("Chủ trì", "Chaired by")
    participants = f.obj_list(
        Participant, "Thành phần tham dự", "Participants", required=True, min_items=1,
        help_vi="Các cơ quan có trách nhiệm, đại diện khu dân cư, cha mẹ hoặc người chăm sóc trẻ (Điều 27).",
        help_en="The responsible bodies, a representative of the residential area, the parents or "
                "caregivers (Art. 27).",
    )
    parents_present = f.boolean("Cha mẹ, người chăm sóc trẻ có mặt", "Parents or caregivers present")
    child_views = f.text("Ý kiến của trẻ", "The child's views")
    needs = f.text("Nhu cầu hỗ trợ, can thiệp được xác định", "Support and intervention needs identified")
    conclusions = f.text("Kết luận cuộc họp", "Conclusions")


class MeetingParticipant(Part):
    category = f.choice(MeetingParticipantCategory, "Thành phần", "Category", required=True)
    name = f.string("Họ và tên", "Full name", required=True)
    organisation = f.string("Chức vụ, cơ quan/tổ chức hoặc quan hệ với trẻ", "Position, organisation or relation",
                            max_length=500)


@register
class NeedsMeeting(FormSchema):
    class Meta:
        name = "needs_meeting"
        version = 2
        title_vi = "Biên bản cuộc họp xác định nhu cầu hỗ trợ, can thiệp"
        title_en = "Minute of the meeting to determine support and intervention needs"
        article = "Điều 27 khoản 2 NĐ 56/2017/NĐ-CP"
        provisional = True  # no official layout for the minute

    held_at = f.datetime("Thời gian họp", "Held at", required=True, past=True)
    place = f.string("Địa điểm", "Place", max_length=500)
    chaired_by = f.choice(
        MeetingChair, "Người chủ trì", "Chaired by", required=True,
        help_vi="Chủ tịch UBND cấp xã chủ trì cuộc họp (Điều 27.2 NĐ 56/2017) hoặc ủy quyền cho người khác.",
        help_en="The commune chairman chairs the meeting (Decree 56/2017 Art. 27.2) or delegates it.")
    chair_name = f.string("Họ và tên người chủ trì", "Name of the chair", required=True)
    chair_position = f.string("Chức vụ người chủ trì", "Position of the chair", required=True,
                              help_vi="Ví dụ: Chủ tịch UBND xã; Phó Chủ tịch UBND xã (được ủy quyền).",
                              help_en="E.g. commune chairman; vice-chairman (delegated).")
    delegation_reason = f.text(
        "Lý do ủy quyền", "Reason for the delegation", max_length=2000,
        required_if={"chaired_by": "delegate"}, required_if_message="delegation_required",
        only_if={"chaired_by": "delegate"}, only_if_message="delegation_only")
    participants = f.obj_list(
        MeetingParticipant, "Thành phần tham dự", "Participants", required=True, min_items=1,
        help_vi="Cá nhân, tổ chức có trách nhiệm bảo vệ trẻ em, đại diện địa bàn dân cư, cha, mẹ hoặc người "
                "chăm sóc trẻ (Điều 27.2).",
        help_en="Bodies responsible for child protection, a representative of the residential area, the "
                "parents or caregiver (Art. 27.2).",
    )
    child_views = f.text("Ý kiến của trẻ", "The child's views")
    needs = f.text("Nhu cầu hỗ trợ, can thiệp được xác định", "Support and intervention needs identified")
    measures = f.text("Các biện pháp bảo vệ trẻ em được xác định", "Protection measures agreed",
                      help_vi="Theo Điều 47, 48, 49, 50 Luật Trẻ em (Điều 27.2 NĐ 56/2017).",
                      help_en="Under Law on Children Art. 47–50 (Decree 56/2017 Art. 27.2).")
    conclusions = f.text("Kết luận cuộc họp", "Conclusions")
