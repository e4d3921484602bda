"""The commune chairman's sign-off of the needs meeting's minute (Điều 27 khoản 2 NĐ 56/2017/NĐ-CP).

The chairman chairs the meeting (Art. 27.2) or delegates it; either way the minute (forms/needs_meeting.py)
comes to the chairman, who signs it or returns it for revision with comments.
"""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.choices import MinuteSignoff
from forms.kit.registry import register
from forms.kit.schema import FormSchema


@register
class NeedsMeetingSignoff(FormSchema):
    """The chairman signs the minute of the meeting they chaired (or had chaired), or returns it."""

    class Meta:
        name = "needs_meeting_signoff"
        version = 1
        title_vi = "Chủ tịch UBND cấp xã ký biên bản cuộc họp xác định nhu cầu"
        title_en = "The commune chairman signs the minute of the needs meeting"
        article = "Điều 27 khoản 2 NĐ 56/2017/NĐ-CP"
        provisional = True

    decision = f.choice(MinuteSignoff, "Quyết định", "Decision", required=True)
    comments = f.text("Ý kiến", "Comments", max_length=4000, required_if={"decision": "return"},
                      required_if_message="signoff_comments_required")
    signed_at = f.datetime("Thời điểm ký", "Signed at", past=True,
                           required_if={"decision": "sign"}, required_if_message="required")
    signer_name = f.string("Người ký", "Signed by")
