"""Biên bản cuộc họp xác định nhu cầu hỗ trợ, can thiệp (Điều 27 NĐ 56/2017/NĐ-CP)."""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.parts import Participant
from forms.kit.registry import register
from forms.kit.schema import FormSchema


@register
class NeedsMeeting(FormSchema):
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
