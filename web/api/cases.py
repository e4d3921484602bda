"""A case with its timeline (audited read), its dossier PDF (audited download), the overdue steps and the
stranded cases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import RAISE
from sqlalchemy import select

from engine import access, audit, casefile, children, liveness, releases, restriction, stamp, worklists
from engine.errors import FieldErrors, NotFound
from engine.models import Case, OrgUnit, Task
from web import engine
from web.api.common import MAX_ID, ApiError, _, actor, locale, not_found
from web.api.present import case_detail, case_page, case_summary, release, task_page, task_summary, units
from web.api.schemas import (
    CaseDetailSchema,
    CaseListArgs,
    CaseListItemSchema,
    CompletedSchema,
    DossierArgs,
    NoBodySchema,
    OverdueArgs,
    PagingArgs,
    ReleaseArgs,
    ReleaseBodySchema,
    ReleaseSchema,
    SeparationRequestBodySchema,
    StrandedCaseSchema,
    TaskSummarySchema,
)
from web.api.schemas import IfMatchHeaderSchema as IfMatch
from web.api.tasks import ETAG, PAGE_HEADERS, commune_id, expected_version, page_headers
from web.extensions import db
from web.gate import gate
from web.pdf import dossier as dossier_pdf

bp = Blueprint("api_cases", __name__, description="Hồ sơ và giám sát / case files and oversight")


@bp.route("/cases", methods=["GET"])
@bp.arguments(CaseListArgs, location="query", unknown=RAISE)
@bp.response(200, CaseListItemSchema(many=True), headers=PAGE_HEADERS)
@bp.alt_response(403, response="FORBIDDEN")
@gate(access.can_list_cases)
def cases(args: dict[str, Any]) -> Any:
    """Hồ sơ trong phạm vi của bạn, mới nhất trước; tìm trẻ theo tên / the cases in your scope, newest first; find a
    child by name.

    `q` tìm theo tên trẻ không cần dấu hay chữ hoa ("nhung" tìm được "Nguyễn Thị Hồng Nhung"), một phần của tên,
    số định danh, số điện thoại người báo tin (chỉ vai trò được xem người báo tin) hoặc số hồ sơ; mỗi lượt tìm được
    ghi nhật ký (loại tìm kiếm, số kết quả — không ghi nội dung tìm). Tên và tuổi của trẻ chỉ có với vai trò được
    xem thông tin riêng tư của trẻ. `q` finds a child by name without diacritics or case, by part of the name, by
    personal ID, by the informant's phone (for roles that may see the informant) or by case number; every search
    is audited (its kind and how many cases it found, never its text). The child's name and age are given to
    roles that may see the child's private items.
    """
    who = actor()
    status, commune, q = args.get("status") or "", commune_id(args.get("commune")), (args.get("q") or "").strip()
    if q:
        try:
            _kind, page = children.search(db.session, who, q, status=status, commune_id=commune, page=args["page"],
                                          size=args["per_page"], via="api")
        except FieldErrors as exc:
            raise ApiError(422, "validation_error", _("Dữ liệu không hợp lệ; không có thay đổi nào được lưu."),
                           {"q": [exc.by_field(locale())["q"]]}) from None
    else:
        query = select(Case).where(access.case_filter(who))
        if status:
            query = query.where(Case.status == status)
        if commune:
            query = query.where(Case.commune_id == commune)
        page = worklists.paged(db.session, query.order_by(Case.received_at.desc(), Case.id.desc()),
                               query.with_only_columns(Case.id), args["page"], args["per_page"])
    return case_page(db.session, [row[0] for row in page.rows]), 200, page_headers(page)


@bp.route("/cases/<int:case_id>", methods=["GET"])
@bp.response(200, CaseDetailSchema, headers={"ETag": ETAG})
@bp.alt_response(404, response="NOT_FOUND")
def case(case_id: int) -> Any:
    """Hồ sơ với dòng thời gian các bước / a case file with the timeline of its steps.

    Mỗi lượt xem được ghi nhật ký; danh tính người báo tin chỉ hiện với vai trò được phép (Điều 25).
    Every read is audited; the informant is shown only to the roles that may see them.
    """
    if not 0 < case_id <= MAX_ID:
        raise not_found()
    who = actor()
    try:
        file = casefile.open_file(db.session, who, case_id)
    except NotFound:
        raise not_found() from None
    return case_detail(file, who), 200, {"ETag": f'"{file.case.version}"'}


@bp.route("/cases/<int:case_id>/dossier.pdf", methods=["GET"])
@bp.arguments(DossierArgs, location="query", unknown=RAISE)
@bp.response(200, content_type="application/pdf", description="Hồ sơ PDF / the dossier PDF",
             schema={"type": "string", "format": "binary"})
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
@gate(access.can_download_dossiers)
def dossier(args: dict[str, Any], case_id: int) -> Any:
    """Tải hồ sơ PDF / download the case dossier (PDF); every download is audited.

    Cho người đọc toàn bộ hồ sơ theo đơn vị (không cho nơi tiếp nhận), như trên trang web.
    For those who read whole case files by unit (not intake points), as on the web pages.
    """
    if not 0 < case_id <= MAX_ID:
        raise not_found()
    who = actor()
    case_row = db.session.get(Case, case_id)
    if case_row is None or not access.can_download_dossier(who, case_row):
        raise not_found()
    restriction.ensure_unrestricted(db.session, case_row)  # 409 case_restricted: no copy leaves meanwhile
    lang = locale()
    mark = stamp.choose("dossier_redacted" if args["redact"] else "dossier", args.get("level"),
                        args.get("recipients"), lang)
    options = dossier_pdf.Options(redact=args["redact"], actor=who, generated_by=who.username, stamp=mark)
    pdf = dossier_pdf.build(db.session, case_id, options, locale=lang)
    audit.append(db.session, who.username, "dossier_downloaded", case_id,
                 {"role": who.role, "redact": args["redact"], "lang": lang, "via": "api", "bytes": len(pdf),
                  **mark.audit()})
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{case_row.number}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/cases/<int:case_id>/releases", methods=["POST"])
@bp.arguments(ReleaseBodySchema, unknown=RAISE)
@bp.response(201, ReleaseSchema)
@bp.alt_response(400, response="BAD_REQUEST")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def release_text(body: dict[str, Any], case_id: int) -> Any:
    """Đánh dấu một nội dung văn bản tự do được phép cung cấp / mark a free text releasable.

    Văn bản tự do là dữ liệu nhạy cảm: bị ẩn trong bản cung cấp ra ngoài và với vai trò không có quyền, trừ khi
    người làm công tác bảo vệ trẻ em hoặc Chủ tịch UBND xã của hồ sơ đánh dấu (ghi nhật ký). Free texts are
    sensitive: withheld in redacted copies and from roles without the right unless the case's commune officer or
    chairman marks that text releasable (audited); the mark holds for the text as it is now.
    """
    who = actor()
    if not 0 < case_id <= MAX_ID or not _step_of(case_id, body["task_id"]):
        raise not_found()
    try:
        mark = releases.mark(db.session, who, body["task_id"], body["field"], body.get("reason"))
    except FieldErrors as error:  # not a free text of that step's form, or nothing to mark: a rule of the step
        raise _field_errors(error) from None
    return release(mark), 201


@bp.route("/cases/<int:case_id>/releases", methods=["DELETE"])
@bp.arguments(ReleaseArgs, location="query", unknown=RAISE)
@bp.response(204)
@bp.alt_response(400, response="BAD_REQUEST")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def revoke_release(args: dict[str, Any], case_id: int) -> Any:
    """Bỏ đánh dấu được phép cung cấp / take a release mark back: the text is withheld again (audited)."""
    who = actor()
    if not 0 < case_id <= MAX_ID or not _step_of(case_id, args["task_id"]):
        raise not_found()
    try:
        releases.unmark(db.session, who, args["task_id"], args["field"])
    except FieldErrors as error:
        raise _field_errors(error) from None
    return "", 204


def _field_errors(error: FieldErrors) -> ApiError:
    """A request the document allows that breaks a rule of the case (which fields a step's form has): 422 with
    the message on its field, as for a form."""
    return ApiError(422, "validation_error", error.message(locale()),
                    {name: [text] for name, text in error.by_field(locale()).items()})


def _readable_case(case_id: int) -> Case:
    """The case if the caller may read it; 404 otherwise (out of scope looks like missing)."""
    case_row = db.session.get(Case, case_id) if 0 < case_id <= MAX_ID else None
    if case_row is None or not access.can_read_case(actor(), case_row):
        raise not_found()
    return case_row


def _changed(row: Task, status: int) -> Any:
    case_row = db.session.get(Case, row.case_id)
    summary = task_summary(row, case_row, db.session.get(OrgUnit, row.commune_id))
    return ({"task": summary, "case": {"id": case_row.id, "version": case_row.version, "status": case_row.status}},
            status, {"ETag": f'"{case_row.version}"'})


@bp.route("/cases/<int:case_id>/separation-requests", methods=["POST"])
@bp.arguments(IfMatch, location="headers")
@bp.arguments(SeparationRequestBodySchema)
@bp.response(201, CompletedSchema, headers={"ETag": ETAG})
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT",
                 description="Đang có một việc cách ly / a separation already runs, or a stale If-Match")
def request_separation(headers: dict[str, Any], body: dict[str, Any], case_id: int) -> Any:
    """Đề nghị Chủ tịch quyết định tạm thời cách ly trẻ em (Mẫu số 07, Điều 32) / ask for a separation decision.

    Ở bất kỳ giai đoạn nào của hồ sơ đang mở (cả khi đang thực hiện kế hoạch, khi cha mẹ từ chối kế hoạch);
    `data` theo biểu mẫu `separation_request`; mở bước Mẫu số 07 của Chủ tịch, hạn 12 giờ từ thời điểm tiếp nhận
    thông tin (Điều 32 khoản 2). Mỗi lần một việc cách ly. At any point of an open case; `data` is the
    `separation_request` form; opens the chairman's Form 07 step, due 12 hours after the information was
    received; one separation at a time. Returns the recorded request.
    """
    _readable_case(case_id)
    row = engine().request_separation(db.session, actor(), case_id, body["data"],
                                      expected_version=expected_version(headers), locale=locale())
    return _changed(row, 201)


@bp.route("/cases/<int:case_id>/plan-adjustments", methods=["POST"])
@bp.arguments(IfMatch, location="headers")
@bp.arguments(NoBodySchema)
@bp.response(201, CompletedSchema, headers={"ETag": ETAG})
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT",
                 description="Không có hoạt động đang thực hiện hoặc đang có đề xuất / nothing running, or pending")
def propose_adjustment(headers: dict[str, Any], _body: dict[str, Any], case_id: int) -> Any:
    """Đề xuất điều chỉnh kế hoạch đang thực hiện (Điều 29 khoản 1 điểm a) / propose adjusting the running plan.

    Chỉ người làm công tác bảo vệ trẻ em của xã, khi các hoạt động đang thực hiện. Mở bước đề xuất (nháp sẵn các
    hoạt động của kế hoạch đang áp dụng); Chủ tịch phê duyệt trong 02 ngày làm việc. Only the commune's officer,
    while activities run. Returns the proposal step (its draft holds the plan in force); complete it with
    POST /tasks/{id}/complete.
    """
    _readable_case(case_id)
    row = engine().request_adjustment(db.session, actor(), case_id, expected_version=expected_version(headers),
                                      locale=locale())
    return _changed(row, 201)


def _step_of(case_id: int, task_id: int) -> bool:
    task = db.session.get(Task, task_id)
    return task is not None and task.case_id == case_id


@bp.route("/overdue", methods=["GET"])
@bp.arguments(OverdueArgs, location="query", unknown=RAISE)
@bp.response(200, TaskSummarySchema(many=True), headers=PAGE_HEADERS)
@bp.alt_response(403, response="FORBIDDEN")
@gate(access.can_list_overdue)
def overdue(args: dict[str, Any]) -> Any:
    """Các bước quá hạn trong tỉnh, trễ nhất trước (giám sát) / overdue steps in the province, most late first."""
    who = actor()
    page = worklists.overdue(db.session, who, due_within=timedelta(hours=args["due_within_hours"]),
                             commune_id=commune_id(args.get("commune")), step=args.get("step"),
                             page=args["page"], size=args["per_page"])
    return task_page(db.session, page.rows), 200, page_headers(page)


@bp.route("/stranded", methods=["GET"])
@bp.arguments(PagingArgs, location="query", unknown=RAISE)
@bp.response(200, StrandedCaseSchema(many=True), headers=PAGE_HEADERS)
@bp.alt_response(403, response="FORBIDDEN")
def stranded(args: dict[str, Any]) -> Any:
    """Hồ sơ bị bỏ lửng: không ai làm được bước đang mở, hoặc không có gì đang chờ / stranded cases.

    Một hồ sơ đang mở phải luôn có người làm được bước đang mở hoặc một thời hạn đang chờ (xem README).
    An open case always has a step some active account can do or a pending deadline; these have not, each
    with the reasons, oldest receipt first, in the caller's scope.
    """
    who = actor()
    if not access.can_list_stranded(who):
        raise ApiError(403, "forbidden", _("Vai trò của bạn không xem được danh sách hồ sơ bị bỏ lửng."))
    # The stranded set computed once for the page and its total (engine.liveness.stranded_page).
    cases, total = liveness.stranded_page(db.session, who, args["page"], args["per_page"])
    page = worklists.Page(cases, args["page"], args["per_page"], total)
    names = units(db.session, (c.commune_id for c in cases))
    english = locale() == "en"
    found = liveness.problems_of(db.session, cases)
    body = [{"case": case_summary(case, names.get(case.commune_id)),
             "problems": [{"code": p.code, "message": p.en if english else p.vi, "task_id": p.task_id}
                          for p in found[case.id]]} for case in cases]
    return body, 200, page_headers(page)
