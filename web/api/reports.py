"""POST /reports: record a report on Mẫu 01 and open its case (Điều 25 NĐ 56/2017/NĐ-CP)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_smorest import Blueprint
from sqlalchemy import select

import forms
from engine import access, children
from engine.errors import FieldErrors, NotFound
from engine.models import Case, OrgUnit
from web import engine
from web.api import idempotency
from web.api.common import ApiError, _, actor, locale
from web.api.present import candidates as candidate_rows
from web.api.present import case_summary
from web.api.schemas import CandidatesSchema, CaseSummarySchema, IdempotencyHeaderSchema, ReportCreateSchema
from web.extensions import db
from web.gate import gate

bp = Blueprint("api_reports", __name__, description="Tiếp nhận báo cáo (Mẫu 01) / report intake")

EXAMPLE = {
    "commune": "T01-X01",
    "report": {
        "issuing_body": "Tổng đài 111", "place": "Hà Nội", "category": "xam_hai", "channel": "hotline_111",
        "received_at": "2026-01-05T08:30:00+07:00", "commune_received_at": "2026-01-05T09:10:00+07:00",
        "incident_commune": "T01-X01", "residence_commune": "T01-X02",
        "child": {"full_name": "Nguyễn Văn An", "estimated_age": 9, "sex": "male", "ethnicity": "01",
                  "incident_place": "Tại nhà", "current_condition": "Có vết bầm ở tay."},
        "informant": {"consent": False},
        "abuse_forms": ["bao_luc"], "environment": "gia_dinh", "perpetrator_relationships": ["cha_me"],
        "crime_suspected": False, "receiving_officer": "Nguyễn Thị Tiếp Nhận",
    },
}
LOCATION = {"description": "Địa chỉ hồ sơ / the case's URL", "schema": {"type": "string"}}
REPLAYED = {"description": "true khi trả lại hồ sơ của lần gửi đầu / true when the first case is returned",
            "schema": {"type": "string", "enum": ["true"]}}


@bp.route("/reports", methods=["POST"])
@bp.arguments(IdempotencyHeaderSchema, location="headers")
@bp.arguments(ReportCreateSchema, example=EXAMPLE)
@bp.response(201, CaseSummarySchema, description="Đã mở hồ sơ / case opened", headers={"Location": LOCATION})
@bp.alt_response(200, schema=CaseSummarySchema, headers={"Location": LOCATION, "Idempotent-Replayed": REPLAYED},
                 description="Gửi lặp cùng Idempotency-Key: hồ sơ của lần đầu / a retry: the first request's case")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(409, response="CONFLICT")
@gate(access.can_record_reports)
def create(headers: dict[str, Any], body: dict[str, Any]) -> Any:
    """Ghi nhận báo cáo Mẫu 01 và mở hồ sơ / record a Form 01 report and open its case.

    Nơi tiếp nhận và cán bộ xã ghi nhận cho xã trong phạm vi của mình. Hồ sơ mở tại xã nơi xảy ra vụ việc
    (commune, hoặc report.incident_commune; Điều 26.1) và được chuyển đến xã nơi trẻ cư trú
    (report.residence_commune) khi bắt đầu đánh giá nguy cơ cụ thể (Điều 52.2 Luật Trẻ em). Thời hạn tính từ
    thời điểm sớm hơn giữa received_at (nơi tiếp nhận) và commune_received_at (UBND xã).
    Intake points and commune officers record reports for communes in their scope. The case opens at the
    incident commune and moves to the residence commune when the plan stage begins; limits run from the earlier
    of the two receipt times.
    """
    who = actor()
    report, commune = _checked(body)

    def open_case() -> Case:
        try:
            return engine().open_case(db.session, who, commune, report, locale=locale(),
                                      same_child_of=body.get("same_child_of"))
        except forms.FormError as error:  # a commune code the unit tree does not have (engine.transfers)
            raise ApiError(422, "validation_error", _("Dữ liệu không hợp lệ; không có thay đổi nào được lưu."),
                           {"report": error.errors}) from None
        except FieldErrors as error:  # same_child_of is not one of the report's candidates
            raise ApiError(422, "validation_error", _("Dữ liệu không hợp lệ; không có thay đổi nào được lưu."),
                           {name: [text] for name, text in error.by_field(locale()).items()}) from None
        except NotFound as error:  # the commune vanished between the check and the transaction
            raise ApiError(422, "validation_error", error.message(locale()), {"commune": [error.message(locale())]}
                           ) from None

    key = headers.get("idempotency_key")
    if key is None:
        case, created = open_case(), True
    else:
        case, created = idempotency.open_once(db.session(), who, key,
                                              {"commune": commune, "report": report,
                                               **({"same_child_of": body["same_child_of"]}
                                                  if body.get("same_child_of") else {})}, open_case)
    out_headers = {"Location": url_for("api_cases.case", case_id=case.id)}
    if not created:
        out_headers["Idempotent-Replayed"] = "true"
    return case_summary(case, db.session.get(OrgUnit, case.commune_id)), 201 if created else 200, out_headers


@bp.route("/reports/candidates", methods=["POST"])
@bp.arguments(ReportCreateSchema, example=EXAMPLE)
@bp.response(200, CandidatesSchema)
@bp.alt_response(403, response="FORBIDDEN")
@gate(access.can_record_reports)
def candidates(body: dict[str, Any]) -> Any:
    """Hồ sơ có thể cùng trẻ với báo cáo mới / existing cases possibly about the new report's child.

    Cùng nội dung như POST /reports (không lưu gì): các hồ sơ có tên trẻ trùng (không kể dấu, chữ hoa) và năm sinh
    (±1), tên cha/mẹ hoặc xã/phường khớp. Nếu là cùng trẻ, gửi POST /reports với same_child_of = id của hồ sơ đó
    (thống kê đếm trẻ một lần), hoặc mở lại hồ sơ đã đóng. The same body as POST /reports (nothing is saved): cases
    whose child's name matches once diacritics and case are set aside, and whose birth year (±1), a parent's name or
    commune matches too. For the same child, send POST /reports with same_child_of = that case's id (statistics
    count the child once), or reopen the closed case.
    """
    who = actor()
    report, commune = _checked(body)
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == commune, OrgUnit.kind == "commune"))
    if unit is None or not access.can_open_case(who, unit):
        raise ApiError(403, "forbidden", _("Bạn không được ghi nhận báo cáo cho xã/phường này."))
    clean = forms.validate("mau_01", report, locale=locale())
    found = children.candidates(db.session, who, {**clean, "incident_commune": clean.get("incident_commune")
                                                  or commune}, unit.id)
    return {"candidates": candidate_rows(found, who)}


def _checked(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The report and its commune code, refused field by field (422) as POST /reports refuses them."""
    report = body["report"]
    commune = body.get("commune") or (report.get("incident_commune") if isinstance(report, dict) else None)
    if not isinstance(commune, str) or not commune:
        raise ApiError(422, "validation_error", _("Dữ liệu không hợp lệ; không có thay đổi nào được lưu."),
                       {"commune": [_("Hãy chọn xã/phường nơi xảy ra vụ việc (commune hoặc "
                                      "report.incident_commune).")]})
    try:  # the engine validates again; this first pass answers in the caller's language
        forms.validate("mau_01", report, locale=locale())
    except forms.FormError as error:
        raise ApiError(422, "validation_error", _("Dữ liệu không hợp lệ; không có thay đổi nào được lưu."),
                       {"report": error.errors}) from None
    # A NUL is in no code (and PostgreSQL refuses it in a query): no such commune.
    if "\x00" in commune or db.session.query(OrgUnit.id).filter(OrgUnit.code == commune,
                                                                  OrgUnit.kind == "commune").first() is None:
        raise ApiError(422, "validation_error", _("Dữ liệu không hợp lệ; không có thay đổi nào được lưu."),
                       {"commune": [_("Không có xã/phường với mã này.")]})
    return report, commune
