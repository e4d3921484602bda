"""Mẫu số 04 — Kế hoạch hỗ trợ, can thiệp (Điều 28 NĐ 56/2017/NĐ-CP).

Provisional: the official layout was not read. A plan is a list of activities, each with the
measure and its level (support, Law Art. 49; intervention, Law Art. 50), who carries it out, when,
resources and cost, and the expected result. Each activity's end date is its due date.

Version 2 adds one rule: the planned review date, which now sets the review's limit (rule `review` in
processes/deadlines.toml), may not come before the last activity's expected end or the plan's date. Plans
stored under version 1 were accepted without it and keep validating under version 1.

Version 3 follows Art. 28.3: each activity's start and *expected* end (28.3.a), the body responsible for it in
the commune (28.3.b), the service provider mobilised (28.3.c) — chosen from the provider registry that
administrators keep per province and commune (engine.providers checks the choice against the case's
province and commune on completion and fills in the provider's name) — and its estimated cost (28.3.d), with
the plan total computed from the activities.
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
class Mau04V1(FormSchema):
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
class Mau04V2(Mau04V1):
    class Meta(Mau04V1.Meta):
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


def _money(field: f.Integer) -> f.Integer:
    field.metadata = {**field.metadata, "money": True}  # shown as 1.500.000 đồng on the page and in the dossier
    return field


class ActivityV3(Part):
    """One service or task of the plan in Art. 28.3's order: what, who is responsible in the commune, who carries
    it out, the provider mobilised, start and expected end, the estimated cost."""

    measure = Activity._declared_fields["measure"]
    level = Activity._declared_fields["level"]
    responsible_body = f.string(
        "Cơ quan, tổ chức, cá nhân chịu trách nhiệm trên địa bàn xã", "Body responsible in the commune",
        max_length=500, required=True,
        help_vi="Phân công trách nhiệm thực hiện trên địa bàn cấp xã (Điều 28.3.b NĐ 56/2017).",
        help_en="Who in the commune is responsible for it (Decree 56/2017 Art. 28.3.b).")
    assignee = Activity._declared_fields["assignee"]
    assignee_name = Activity._declared_fields["assignee_name"]
    provider = f.string(
        "Cơ sở cung cấp dịch vụ được huy động", "Service provider mobilised", max_length=32,
        help_vi="Chọn trong danh mục cơ sở cung cấp dịch vụ bảo vệ trẻ em của tỉnh, xã/phường của hồ sơ "
                "(Điều 28.3.c NĐ 56/2017). Bỏ trống nếu không cần huy động cơ sở nào.",
        help_en="Choose from the registry of child-protection service providers of the case's province or "
                "commune (Decree 56/2017 Art. 28.3.c). Leave empty when no provider is mobilised.")
    provider_name = f.string("Tên cơ sở cung cấp dịch vụ", "Name of the service provider", max_length=500,
                             help_vi="Lấy từ danh mục khi hoàn thành bước.",
                             help_en="Taken from the registry on completion.")
    start = Activity._declared_fields["start"]
    end = f.date("Dự kiến kết thúc", "Expected end", required=True,
                 help_vi="Thời điểm dự kiến kết thúc (Điều 28.3.a NĐ 56/2017); là thời hạn của hoạt động.",
                 help_en="The expected end (Decree 56/2017 Art. 28.3.a); the activity's due date.")
    cost = _money(f.integer(
        "Dự toán kinh phí (đồng)", "Estimated cost (VND)", min_value=0, max_value=10**13, grouping=True, required=True,
        help_vi="Dự toán kinh phí cho từng dịch vụ, công việc (Điều 28.3.d); ghi 0 nếu không phát sinh kinh phí.",
        help_en="Estimated cost of each service or task (Art. 28.3.d); 0 when there is none."))
    resources = Activity._declared_fields["resources"]
    expected_result = Activity._declared_fields["expected_result"]

    _period = Activity._period


def plan_total(activities: Any) -> int:
    """The plan's estimated total: the sum of its activities' costs (Art. 28.3.d)."""
    return sum(a.get("cost") or 0 for a in activities or [] if isinstance(a, dict) and isinstance(a.get("cost"), int))


def _computed_integer(label_vi: str, label_en: str, **opts: Any) -> f.Integer:
    field = _money(f.integer(label_vi, label_en, min_value=0, **opts))
    field.metadata = {**field.metadata, "computed": True}  # input ignored, filled on load (Part._drop_computed)
    return field


@register
class Mau04(Mau04V2):
    class Meta(Mau04V2.Meta):
        version = 3
        article = "Điều 28 NĐ 56/2017/NĐ-CP (khoản 3)"

    activities = f.obj_list(
        ActivityV3, "Các dịch vụ, công việc cần thực hiện", "Services and tasks", required=True, min_items=1,
        max_items=200,
        help_vi="Mỗi dòng: thời điểm bắt đầu và dự kiến kết thúc, trách nhiệm trên địa bàn xã, cơ sở cung cấp "
                "dịch vụ được huy động, dự toán kinh phí (Điều 28.3 NĐ 56/2017).",
        help_en="Each line: start and expected end, responsibility in the commune, the provider mobilised, "
                "estimated cost (Decree 56/2017 Art. 28.3).",
    )
    total_cost = _computed_integer("Tổng dự toán kinh phí của kế hoạch (đồng)", "Plan total estimated cost (VND)",
                                   help_vi="Tự tính: tổng dự toán các dịch vụ, công việc.",
                                   help_en="Computed: the sum of the estimated costs.")

    def compute(self, data: dict[str, Any]) -> dict[str, Any]:
        data["total_cost"] = plan_total(data.get("activities"))
        return data
