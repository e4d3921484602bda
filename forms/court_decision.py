"""The regional People's Court's decision on a separation request (Điều 52 khoản 3 Luật Trẻ em; Điều 32 khoản 3
NĐ 56/2017/NĐ-CP), recorded in the case: granted, it is the authority for continuing the separation beyond 15 days
and its date the separation's new end (engine/separation.py).

Provisional: no form is prescribed.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from forms.kit import fields as f
from forms.kit.choices import Choices
from forms.kit.messages import code
from forms.kit.registry import register
from forms.kit.schema import Errors, FormSchema


class CourtOutcome(Choices):
    granted = ("granted", "Chấp nhận: tiếp tục cách ly", "Granted: the separation continues")
    rights_restricted = ("rights_restricted", "Hạn chế quyền của cha, mẹ; tiếp tục cách ly",
                         "Parents' rights restricted; the separation continues")
    rejected = ("rejected", "Không chấp nhận", "Rejected")


@register
class CourtDecision(FormSchema):
    class Meta:
        name = "court_decision"
        version = 1
        title_vi = "Quyết định của Tòa án về việc tiếp tục cách ly / hạn chế quyền của cha mẹ"
        title_en = "The court's decision on continuing the separation / restricting parental rights"
        article = "Điều 52 khoản 3 Luật Trẻ em; Điều 32 khoản 3 NĐ 56/2017/NĐ-CP"
        provisional = True

    court_name = f.string("Tòa án ra quyết định", "Court", max_length=300, required=True)
    decision_number = f.string("Số quyết định của Tòa án", "Court decision number", max_length=100, required=True)
    decision_date = f.date("Ngày quyết định", "Decision date", required=True, past=True)
    outcome = f.choice(CourtOutcome, "Kết quả", "Outcome", required=True)
    content = f.text("Nội dung quyết định", "What the court decided", max_length=8000, required=True)
    until = f.date("Tiếp tục cách ly đến ngày", "Separation continues until",
                   help_vi="Bắt buộc khi Tòa án cho tiếp tục cách ly; là thời hạn mới của việc cách ly.",
                   help_en="Required when the court continues the separation; its new end.")

    @validates_schema(skip_on_field_errors=False)
    def _until_after_decision(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = Errors()
        continues = data.get("outcome") in ("granted", "rights_restricted")
        if continues and "until" in data and data["until"] is None:
            errors.add("until", code("required"))
        if data.get("outcome") == "rejected" and data.get("until") is not None:
            errors.add("until", code("invalid"))
        if data.get("until") is not None and data.get("decision_date") is not None \
                and data["until"] < data["decision_date"]:
            errors.add("until", code("end_before_start"))
        errors.raise_if_any()


def reference(decision: dict[str, Any]) -> str:
    """The court decision as the separation's authority, as it is printed: "Quyết định số … ngày … của …"."""
    day = str(decision.get("decision_date") or "")
    shown = f"{day[8:10]}/{day[5:7]}/{day[0:4]}" if len(day) >= 10 else day
    return f"Quyết định số {decision.get('decision_number')} ngày {shown} của {decision.get('court_name')}"
