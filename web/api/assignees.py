"""Who carries out a plan activity, for API clients: the accounts a case may assign, and reassigning a step.

A plan (Mẫu 04) sent to `POST /tasks/{id}/complete` must name, for each activity, one of the usernames
`GET /cases/{id}/assignees` lists; anything else is refused with a field error on `activities.<i>.assignee`.
Likewise each activity's `provider` (Mẫu 04 v3, Decree 56 Art. 28.3.c) is empty or one of the codes
`GET /cases/{id}/providers` lists (the active registry of the case's province and commune), else a field error on
`activities.<i>.provider`.

Steps of a role (officer, chairman, supervisor) are held by one account once claimed (engine.ownership):
`POST /tasks/{id}/claim` and `/release`; the commune chairman or the province supervisor `POST /tasks/{id}/assign`
(to one of `GET /tasks/{id}/holders`) and `/remind`.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engine import access, assignees, ownership, providers
from engine.models import Case, OrgUnit, Task
from forms.kit.fields import json_pattern
from web import engine
from web.api.common import MAX_ID, ApiError, _, actor, locale, not_found
from web.api.present import task_summary
from web.api.schemas import CompletedSchema, IfMatchHeaderSchema, NoBodySchema
from web.api.tasks import ETAG, expected_version, load_visible
from web.extensions import db

bp = Blueprint("api_assignees", __name__, description="Giao việc / who carries out plan activities")


class AssigneeSchema(Schema):
    username = fields.String(required=True, metadata={"description": "Tên tài khoản: giá trị của `assignee` / "
                                                                     "the value to send as `assignee`"})
    full_name = fields.String(required=True)
    unit = fields.String(required=True, metadata={"description": "Mã xã/phường hoặc tỉnh / unit code"})
    unit_name = fields.String(required=True)


class ProviderSchema(Schema):
    code = fields.String(required=True, metadata={"description": "Mã cơ sở: giá trị của `provider` / the value to "
                                                                 "send as `provider`", "example": "T01-DV-01"})
    name = fields.String(required=True)
    service_type = fields.String(required=True, metadata={"description": "Loại dịch vụ / type of service (code)"})
    service_type_label = fields.String(required=True)
    unit_name = fields.String(required=True, metadata={"description": "Tỉnh hoặc xã/phường của danh mục / the "
                                                                      "registry's province or commune"})


class ReassignSchema(Schema):
    assignee = fields.String(required=True, validate=validate.Length(min=1, max=80), metadata={
        "description": "Tài khoản nhận bước, một trong GET /cases/{id}/assignees / the account to give the step "
                       "to, one of GET /cases/{id}/assignees", "example": "yte"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000), metadata={
        "description": "Lý do giao lại (ghi nhật ký) / why (kept in the audit trail)",
        "example": "Tài khoản được giao đã ngừng hoạt động.",
        # engine.assignees reads it as a form's free text (forms/kit String): no control or hidden character.
        "pattern": json_pattern(multiline=True, required=True)})


@bp.route("/cases/<int:case_id>/assignees", methods=["GET"])
@bp.response(200, AssigneeSchema(many=True))
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def assignable(case_id: int) -> Any:
    """Tài khoản được giao hoạt động của kế hoạch / accounts a plan activity of this case may go to.

    Các tài khoản đang hoạt động của cơ sở, đơn vị phối hợp thuộc xã/phường hoặc tỉnh của hồ sơ, theo tên.
    The active partner accounts of the case's commune or province, by name (for Mẫu 04 and reassigning).
    """
    if not 0 < case_id <= MAX_ID:
        raise not_found()
    who = actor()
    case = db.session.get(Case, case_id)
    if case is None or not access.can_read_case(who, case):
        raise not_found()
    if not access.can_manage_case(who, case):
        raise ApiError(403, "forbidden", _("Chỉ cán bộ hoặc chủ tịch UBND xã/phường quản lý hồ sơ được giao việc."))
    return [{"username": a.username, "full_name": a.full_name, "unit": a.unit_code, "unit_name": a.unit_name}
            for a in assignees.assignable(db.session, case)]


@bp.route("/cases/<int:case_id>/providers", methods=["GET"])
@bp.response(200, ProviderSchema(many=True))
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def provider_list(case_id: int) -> Any:
    """Cơ sở cung cấp dịch vụ kế hoạch được huy động / service providers a plan of this case may mobilise.

    Các cơ sở đang hoạt động trong danh mục của xã/phường và tỉnh của hồ sơ (Điều 28.3.c NĐ 56/2017), cơ sở của
    xã/phường trước. The active providers of the case's commune and province (Decree 56/2017 Art. 28.3.c), the
    commune's first: each activity's `provider` in Mẫu 04 is one of these codes or empty.
    """
    if not 0 < case_id <= MAX_ID:
        raise not_found()
    who = actor()
    case = db.session.get(Case, case_id)
    if case is None or not access.can_read_case(who, case):
        raise not_found()
    if not access.can_manage_case(who, case):
        raise ApiError(403, "forbidden", _("Chỉ cán bộ hoặc chủ tịch UBND xã/phường quản lý hồ sơ được giao việc."))
    lang = locale()
    return [{"code": o.code, "name": o.name, "service_type": o.service_type,
             "service_type_label": o.type_label(lang), "unit_name": o.unit_name}
            for o in providers.available(db.session, case)]


@bp.route("/tasks/<int:task_id>/reassign", methods=["POST"])
@bp.arguments(IfMatchHeaderSchema, location="headers")
@bp.arguments(ReassignSchema)
@bp.response(200, CompletedSchema, headers={"ETag": ETAG})
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT",
                 description="Hồ sơ đã đổi (If-Match cũ), bước đã xong hoặc không giao cho tài khoản nào / stale "
                             "If-Match, step already done or not assigned to an account")
def reassign(headers: dict[str, Any], body: dict[str, Any], task_id: int) -> Any:
    """Giao lại bước cho tài khoản khác / give an open plan activity to another account.

    Cán bộ hoặc chủ tịch UBND xã/phường của hồ sơ; tài khoản không có trong danh sách → 422 với lỗi ở
    `assignee`; If-Match cũ → 409; không có gì được lưu. The case's commune officer or chairman; an account not
    in the list → 422 with the error on `assignee`; a stale If-Match → 409; nothing is saved either way.
    """
    version = expected_version(headers)
    load_visible(task_id)
    done = engine().reassign_task(db.session, actor(), task_id, body["assignee"], body["reason"],
                                  expected_version=version, locale=locale())
    case = db.session.get(Case, done.case_id)
    summary = task_summary(done, case, db.session.get(OrgUnit, done.commune_id))
    return ({"task": summary, "case": {"id": case.id, "version": case.version, "status": case.status}}, 200,
            {"ETag": f'"{case.version}"'})


# -- who holds a step of a role (engine.ownership) --------------------------------------------------------------

class HolderSchema(Schema):
    username = fields.String(required=True, metadata={"description": "Giá trị của `assignee` / the value to send"})
    full_name = fields.String(required=True)
    unit_name = fields.String(required=True)


# The engine reads reason and note as the free text of a form (engine.ownership: forms/kit String): no control or
# hidden character, declared so a client knows before sending.
FREE_TEXT = json_pattern(multiline=True, required=False)


class AssignSchema(Schema):
    assignee = fields.String(required=True, validate=validate.Length(min=1, max=80), metadata={
        "description": "Tài khoản nhận bước, một trong GET /tasks/{id}/holders / the account to give the step to, "
                       "one of GET /tasks/{id}/holders", "example": "canbo"})
    reason = fields.String(load_default="", validate=validate.Length(max=1000), metadata={
        "description": "Lý do (ghi nhật ký) / why (kept in the audit trail)", "pattern": FREE_TEXT})


class RemindSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=1000), metadata={
        "description": "Lời nhắc (hiện trong hộp việc và thư tổng hợp) / a note shown in the inbox and the digest",
        "pattern": FREE_TEXT})


class RemindedSchema(Schema):
    task_id = fields.Integer(required=True)
    recipients = fields.List(fields.String(), required=True)


def _held(task: Task) -> Any:
    case = db.session.get(Case, task.case_id)
    summary = task_summary(task, case, db.session.get(OrgUnit, task.commune_id))
    return ({"task": summary, "case": {"id": case.id, "version": case.version, "status": case.status}}, 200,
            {"ETag": f'"{case.version}"'})


@bp.route("/tasks/<int:task_id>/holders", methods=["GET"])
@bp.response(200, HolderSchema(many=True))
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def holder_list(task_id: int) -> Any:
    """Tài khoản có thể nhận bước này / accounts that may hold this step (the assign pick list).

    Các tài khoản đang hoạt động cùng vai trò của bước, thuộc địa bàn của bước. The active accounts of the step's
    role whose unit covers it; for the commune chairman and the province supervisor who assign steps.
    """
    task, _case = load_visible(task_id)
    if not access.can_assign(actor(), task):
        raise ApiError(403, "forbidden", _("Chỉ chủ tịch UBND xã/phường của hồ sơ hoặc Sở Y tế của tỉnh được giao "
                                           "bước này."))
    return [{"username": h.username, "full_name": h.full_name, "unit_name": h.unit_name}
            for h in ownership.holders(db.session, task)]


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
@bp.arguments(NoBodySchema)
@bp.response(200, CompletedSchema, headers={"ETag": ETAG})
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT", description="Đã có người nhận hoặc bước đã xong / already held or done")
def claim(_body: dict[str, Any], task_id: int) -> Any:
    """Nhận việc / claim an open step of your role and unit: only you complete it until you release it.

    Bước đã có người khác nhận → 403 (nêu tên người đó); bước đã xong → 409. A step someone else holds → 403
    naming them; a finished step → 409. The case version does not change.
    """
    load_visible(task_id)
    return _held(engine().claim_task(db.session, actor(), task_id))


@bp.route("/tasks/<int:task_id>/release", methods=["POST"])
@bp.arguments(NoBodySchema)
@bp.response(200, CompletedSchema, headers={"ETag": ETAG})
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT", description="Chưa ai nhận hoặc bước đã xong / nobody holds it, or done")
def release(_body: dict[str, Any], task_id: int) -> Any:
    """Trả việc / give a held step back to everyone of its role (its holder, or whoever may assign it)."""
    load_visible(task_id)
    return _held(engine().release_task(db.session, actor(), task_id))


@bp.route("/tasks/<int:task_id>/assign", methods=["POST"])
@bp.arguments(AssignSchema)
@bp.response(200, CompletedSchema, headers={"ETag": ETAG})
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT", description="Bước đã xong hoặc vừa đổi người / done, or just changed")
def assign(body: dict[str, Any], task_id: int) -> Any:
    """Giao bước cho một tài khoản / give an open step of a role to one account.

    Chủ tịch UBND xã/phường (bước của xã) hoặc Sở Y tế (bước trong tỉnh); tài khoản ngoài GET /tasks/{id}/holders
    → 422 với lỗi ở `assignee`. The commune chairman (the commune's steps) or the province supervisor (steps in
    the province); an account outside GET /tasks/{id}/holders → 422 with the error on `assignee`.
    """
    load_visible(task_id)
    return _held(engine().assign_task(db.session, actor(), task_id, body, locale=locale()))


@bp.route("/tasks/<int:task_id>/remind", methods=["POST"])
@bp.arguments(RemindSchema)
@bp.response(201, RemindedSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT",
                 description="Bước đã xong hoặc không ai làm được / done, or nobody can do it")
def remind(body: dict[str, Any], task_id: int) -> Any:
    """Nhắc việc / remind the holder of a step (or everyone who may do it) in the inbox and the e-mail digest.

    Chủ tịch UBND xã/phường hoặc Sở Y tế, trong địa bàn; ghi nhật ký. The commune chairman or the province
    supervisor, in their scope; audited.
    """
    load_visible(task_id)
    sent = ownership.remind(engine(), db.session, actor(), task_id, body, locale=locale())
    return {"task_id": task_id, "recipients": sorted(r.recipient for r in sent)}, 201
