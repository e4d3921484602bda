"""The national children database (Decree 56 Art. 30.3) in the API: the cases not yet entered, one case's
entries, the export (JSON with its published schema, or CSV; audited) and the officer's confirmation
"đã nhập CSDL". Permissions: engine.access, as on the pages (web/views/national_db.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from engine import access, national_db, restriction
from engine.errors import NotFound
from engine.models import Case, NationalDbEntry
from web import labels
from web.api.common import MAX_ID, _, actor, locale, not_found
from web.extensions import db
from web.gate import gate
from web.national_db import FORMATS, exporter

bp = Blueprint("api_national_db", __name__,
               description="Cơ sở dữ liệu trẻ em quốc gia (Điều 30.3) / national children database")
REFUSAL = ("Chỉ cán bộ cấp xã và Sở Y tế theo dõi việc nhập cơ sở dữ liệu trẻ em.",
           "Only commune officers and the provincial Department of Health follow database entries.")


class EntrySchema(Schema):
    entered_on = fields.String(required=True, metadata={"format": "date"})
    reference = fields.String(required=True, allow_none=True)
    confirmed_by = fields.String(required=True)
    confirmed_at = fields.String(required=True, metadata={"format": "date-time"})
    export_version = fields.String(required=True)
    export_sha256 = fields.String(required=True)


class OccasionSchema(Schema):
    case_id = fields.Integer(required=True)
    case_number = fields.String(required=True)
    commune = fields.String(required=True)
    task_id = fields.Integer(required=True, metadata={"description": "Bước phê duyệt hoặc kết thúc / the step"})
    occasion = fields.String(required=True, metadata={"enum": ["plan_approval", "closure"]})
    label = fields.String(required=True)
    since = fields.String(required=True, metadata={"format": "date-time"})
    entered = fields.Boolean(required=True, metadata={"description": "đã nhập CSDL / entered"})
    entry = fields.Nested(EntrySchema, allow_none=True, required=True)


class ExportArgs(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(list(FORMATS)))


class ConfirmSchema(Schema):
    entered_on = fields.Date(required=True, metadata={"description": "Ngày nhập vào hệ thống quốc gia / entry day"})
    reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100), metadata={
        "description": "Mã bản ghi trên hệ thống quốc gia / the national record's number",
        "pattern": f"^(|{national_db.REFERENCE.pattern})$"})

    @validates("reference")
    def _reference(self, value: str | None, **_kwargs: Any) -> None:
        if value and not national_db.REFERENCE.fullmatch(value):
            raise ValidationError(_("Mã bản ghi tối đa 100 ký tự: chữ, số và . / _ -"))


def _entry(row: NationalDbEntry | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"entered_on": row.entered_on.isoformat(), "reference": row.reference, "confirmed_by": row.confirmed_by,
            "confirmed_at": row.confirmed_at.isoformat(), "export_version": row.export_version,
            "export_sha256": row.export_sha256}


def _present(o: national_db.Occasion, row: NationalDbEntry | None) -> dict[str, Any]:
    return {"case_id": o.case.id, "case_number": o.case.number, "commune": o.case.commune.code,
            "task_id": o.task.id, "occasion": o.kind, "label": labels.national_db_occasion(o.kind, locale()),
            "since": o.task.completed_at.isoformat() if o.task.completed_at else "", "entered": row is not None,
            "entry": _entry(row)}


def _case(case_id: int) -> Case:
    case = db.session.get(Case, case_id) if 0 < case_id <= MAX_ID else None
    if case is None or not access.can_view_national_db(actor(), case):
        raise not_found()
    return case


@bp.route("/national-db/pending", methods=["GET"])
@bp.response(200, OccasionSchema(many=True))
@bp.alt_response(403, response="FORBIDDEN")
@gate(access.can_list_national_db, REFUSAL)
def pending() -> Any:
    """Hồ sơ chưa nhập CSDL trẻ em / cases not yet entered into the national database.

    Cán bộ xã: hồ sơ của xã; Sở Y tế (giám sát cấp tỉnh): hồ sơ của tỉnh. Officer: their commune; supervisor:
    their province. Oldest first.
    """
    return [_present(o, None) for o in national_db.pending(db.session, actor())]


@bp.route("/cases/<int:case_id>/national-db", methods=["GET"])
@bp.response(200, OccasionSchema(many=True))
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@gate(access.can_list_national_db, REFUSAL)
def case_entries(case_id: int) -> Any:
    """Các lần nhập CSDL của hồ sơ / the case's database occasions and their entries."""
    case = _case(case_id)
    rows = national_db.entries(db.session, case.id)
    return [_present(o, rows.get(o.task.id)) for o in national_db.occasions(db.session, case)]


@bp.route("/cases/<int:case_id>/national-db/<int:task_id>/export", methods=["GET"])
@bp.arguments(ExportArgs, location="query", unknown=RAISE)
@bp.response(200, content_type="application/json", description="Dữ liệu xuất / the export (JSON or CSV)",
             schema={"type": "string", "format": "binary"})
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
@gate(access.can_list_national_db, REFUSAL)
def export(args: dict[str, Any], case_id: int, task_id: int) -> Any:
    """Xuất hồ sơ kế hoạch để nhập CSDL / export the plan dossier for the national database (audited).

    JSON theo lược đồ processes/national_db/plan-dossier-1.0.schema.json, hoặc CSV (format=csv). Chỉ cán bộ
    xã của hồ sơ. JSON conforming to the published schema, or CSV; for the case's commune officer only.
    """
    who = actor()
    case = _case(case_id)
    if not access.can_export_national_db(who, case) or not 0 < task_id <= MAX_ID:
        raise not_found()
    restriction.ensure_unrestricted(db.session, case)
    try:
        made = national_db.build(db.session, national_db.occasion(db.session, case, task_id), who.username)
    except NotFound:
        raise not_found() from None
    fmt = args["format"]
    delivery = exporter().deliver(made, fmt)
    national_db.record_export(db.session, who, made, delivery, fmt)
    body = made.json_bytes() if fmt == "json" else made.csv_bytes()
    return Response(body, mimetype=FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{made.base_name}.{fmt}"', "Cache-Control": "no-store",
        "X-Case56-Export-Sha256": made.content_sha256})


@bp.route("/cases/<int:case_id>/national-db/<int:task_id>/entry", methods=["POST"])
@bp.arguments(ConfirmSchema, unknown=RAISE)
@bp.response(201, OccasionSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@gate(access.can_list_national_db, REFUSAL)
def confirm(body: dict[str, Any], case_id: int, task_id: int) -> Any:
    """Xác nhận đã nhập CSDL / confirm the entry into the national database (audited).

    Cán bộ xã của hồ sơ ghi ngày nhập (không sau hôm nay, không trước ngày phê duyệt/kết thúc) và mã bản ghi
    nếu có. The case's commune officer records the day (not in the future, not before the occasion).
    """
    who = actor()
    case = _case(case_id)
    if not access.can_record_national_db_entry(who, case) or not 0 < task_id <= MAX_ID:
        raise not_found()
    day: date = body["entered_on"]
    try:
        row = national_db.confirm(db.session, who, case, task_id, day, body.get("reference") or None)
    except NotFound:
        raise not_found() from None
    occasion = national_db.occasion(db.session, case, task_id)
    return _present(occasion, row), 201
