"""Mẫu số 04 — Kế hoạch hỗ trợ, can thiệp (Điều 28 NĐ 56/2017/NĐ-CP).

Provisional: the official layout was not read. A plan is a list of activities, each with the
measure and its level (support, Law Art. 49; intervention, Law Art. 50), who carries it out, when,
resources and cost, and the expected result. Each activity's end date is its due date.

Version 2 adds one rule: the planned review date, which now sets the review's limit (rule `review` in
processes/deadlines.toml), may not come before the last activity's expected end or the plan's date. Plans
stored under version 1 were accepted without it and keep validating under version 1.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from forms.kit import fields as f
from forms.kit.choices import MeasureLevel
from forms.kit.fields import VN_TZ
from forms.kit.messages import code
from forms.kit.registry import register
from forms.kit.schema import Errors, FormSchema, Part


class Activity(Part):
    measure = f.text("Biện pháp, hoạt động", "Measure or activity", max_length=4000, required=True)
    level = f.choice(MeasureLevel, "Cấp độ", "Level", required=True)
    assignee = f.string(
        "Người, cơ quan thực hiện (tài khoản)", "Carried out by (user or organisation)", required=True,
        help_vi="Tên tài khoản của cơ sở, đơn vị phối hợp thuộc xã/phường hoặc tỉnh của hồ sơ; tên khác bị từ chối.",
        help_en="The username of a service provider's or partner's account in the case's commune or province; "
                "any other name is refused.",
    )
    assignee_name = f.string("Tên người, cơ quan thực hiện", "Name of who carries it out", max_length=500)
    start = f.date("Bắt đầu", "Start", required=True)
    end = f.date("Kết thúc", "End", required=True, help_vi="Thời hạn hoàn thành hoạt động.",
                 help_en="The activity's due date.")
    resources = f.text("Nguồn lực", "Resources", max_length=4000)
    cost = f.integer("Kinh phí (đồng)", "Cost (VND)", min_value=0, max_value=10**13, grouping=True)
    expected_result = f.text("Kết quả dự kiến", "Expected result", max_length=4000)

    @validates_schema(skip_on_field_errors=False)
    def _period(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = Errors()
        if data.get("start") is not None and data.get("end") is not None and data["end"] < data["start"]:
            errors.add("end", code("end_before_start"))
        errors.raise_if_any()


@register
class Mau04(FormSchema):
    class Meta:
        name = "mau_04"
        version = 1
        title_vi = "Kế hoạch hỗ trợ, can thiệp (Mẫu số 04)"
        title_en = "Support and intervention plan (Form 04)"
        article = "Điều 28 NĐ 56/2017/NĐ-CP"
        provisional = True

    objectives = f.text("Mục tiêu", "Objectives")
    activities = f.obj_list(
        Activity, "Các hoạt động", "Activities", required=True, min_items=1, max_items=200,
        help_vi="Ít nhất một hoạt động (Điều 28 NĐ 56/2017).",
        help_en="At least one activity (Decree 56/2017 Art. 28).",
    )
    planned_review_on = f.date("Ngày dự kiến rà soát, đánh giá", "Planned review date",
                               help_vi="Điều 30 NĐ 56/2017.", help_en="Decree 56/2017 Art. 30.")
    drafted_at = f.datetime(
        "Thời điểm xây dựng xong", "Drafted at", past=True,
        help_vi="Trong 05 ngày làm việc, trừ trường hợp khẩn cấp (Điều 28).",
        help_en="Within 5 working days, except in an emergency (Art. 28).",
    )
    drafter_name = f.string("Người xây dựng kế hoạch", "Drafted by")


@register
class Mau04V2(Mau04):
    class Meta(Mau04.Meta):
        version = 2

    planned_review_on = f.date(
        "Ngày dự kiến rà soát, đánh giá", "Planned review date",
        help_vi="Không bắt buộc; không trước ngày kết thúc dự kiến của hoạt động cuối cùng. Bỏ trống: hạn rà "
                "soát tính sau ngày kết thúc đó (quy định của case56; Điều 30 NĐ 56/2017 không quy định thời hạn).",
        help_en="Optional; not before the expected end of the last activity. Left empty: the review falls due "
                "after that end (a case56 rule; Decree 56/2017 Art. 30 sets no interval).",
    )

    @validates_schema(skip_on_field_errors=False)
    def _review_date(self, data: dict[str, Any], **kwargs: Any) -> None:
        review = data.get("planned_review_on")
        if review is None:
            return
        errors = Errors()
        ends = [a["end"] for a in data.get("activities") or [] if a.get("end") is not None]
        if ends and review < max(ends):
            errors.add("planned_review_on", code("review_before_activities_end"))
        drafted = data.get("drafted_at")
        if drafted is not None and review < drafted.astimezone(VN_TZ).date():
            errors.add("planned_review_on", code("review_before_plan_date"))
        errors.raise_if_any()
