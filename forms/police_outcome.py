"""The outcome of the parallel police track (Điều 25.3 NĐ 56/2017/NĐ-CP); the referral is police_referral."""

from __future__ import annotations

from forms.kit import fields as f
from forms.kit.choices import PoliceOutcome
from forms.kit.registry import register
from forms.kit.schema import FormSchema


@register
class PoliceOutcomeForm(FormSchema):
    class Meta:
        name = "police_outcome"
        version = 1
        title_vi = "Kết quả xử lý của cơ quan công an"
        title_en = "Outcome of the police track"
        article = "Điều 25.3 NĐ 56/2017/NĐ-CP"
        provisional = False

    outcome = f.choice(PoliceOutcome, "Kết quả", "Outcome", required=True)
    outcome_date = f.date("Ngày có kết quả", "Date of the outcome", past=True)
    note = f.text("Ghi chú", "Note")
