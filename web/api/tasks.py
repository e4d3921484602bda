"""My tasks: the list (filters, paging), one task with its form as JSON Schema, save a draft, complete it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from flask import request
from flask_smorest import Blueprint
from marshmallow import RAISE
from sqlalchemy import select

from engine import access, casefile, ownership, worklists
from engine.models import Case, OrgUnit, Task
from web import engine
from web.api.common import MAX_ID, ApiError, _, actor, locale, not_found
from web.api.present import UnitLabel, task_detail, task_page, task_summary
from web.api.schemas import (
    CompletionSchema,
    DraftSavedSchema,
    IfMatchHeaderSchema,
    TaskDataSchema,
    TaskDetailSchema,
    TaskListArgs,
    TaskSummarySchema,
)
from web.extensions import db

bp = Blueprint("api_tasks", __name__, description="Việc cần làm / my tasks")

PAGE_HEADERS = {
    "X-Total": {"description": "Tổng số mục (đếm tối đa 1.000 mục sau trang này) / total items (counted up to "
                "1,000 past this page)", "schema": {"type": "integer"}},
    "X-Total-Exact": {"description": "false: còn nhiều mục hơn X-Total / false: there are more items than X-Total",
                      "schema": {"type": "string", "enum": ["true", "false"]}},
    "X-Page": {"description": "Trang hiện tại / this page", "schema": {"type": "integer"}},
    "X-Per-Page": {"description": "Số mục mỗi trang / items per page", "schema": {"type": "integer"}},
    "Link": {"description": "RFC 8288: first, prev, next, last (last only when the total is exact)",
             "schema": {"type": "string"}},
}
ETAG = {"description": "Phiên bản hồ sơ / the case version, for If-Match", "schema": {"type": "string"}}
# ASCII digits and blanks only (Python's \d and \s take other scripts' digits and more spaces): exactly the
# pattern the OpenAPI document declares for If-Match (web/api/docs.py).
_VERSION = re.compile(r'^[ \t]*(?:W/)?"?([0-9]{1,9})"?[ \t]*$')


def commune_id(code: str | None) -> int | None:
    """The id of the commune with `code`; an unknown code is refused (422), as the document's enum says."""
    if not code:
        return None
    found = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code, OrgUnit.kind == "commune"))
    if found is None:
        raise ApiError(422, "validation_error", _("Dữ liệu không hợp lệ; không có thay đổi nào được lưu."),
                       {"commune": [_("Không có xã/phường với mã này.")]})
    return found


def page_headers(page: worklists.Page) -> dict[str, str]:
    args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}

    def link(number: int, rel: str) -> str:
        query = urlencode({**args, "page": number, "per_page": page.size})
        return f'<{request.path}?{query}>; rel="{rel}"'

    links = [link(1, "first")]
    if page.exact:  # past COUNT_LIMIT rows the last page is not known: follow "next" links
        links.append(link(page.pages, "last"))
    if page.page > 1:
        links.append(link(min(page.page - 1, page.pages), "prev"))
    if page.has_next:
        links.append(link(page.page + 1, "next"))
    # X-Total is exact, or a lower bound when X-Total-Exact is "false" (there are more rows than that).
    return {"X-Total": str(page.total), "X-Total-Exact": "true" if page.exact else "false",
            "X-Page": str(page.page), "X-Per-Page": str(page.size), "Link": ", ".join(links)}


def visible(task_id: int) -> tuple[Task, Case, OrgUnit | None]:
    """The task, its case and its commune, in one statement, if `actor` may see the task; 404 otherwise (out of
    scope looks like missing). A caller that holds the commune finds it in the session (the identity map is weak)."""
    if not 0 < task_id <= MAX_ID:
        raise not_found()
    found = db.session.execute(select(Task, Case, OrgUnit).join(Case, Case.id == Task.case_id)
                               .outerjoin(OrgUnit, OrgUnit.id == Task.commune_id)
                               .where(Task.id == task_id)).one_or_none()
    if found is None or not access.can_view_task(actor(), found[0], found[1]):
        raise not_found()
    return found[0], found[1], found[2]


def load_visible(task_id: int) -> tuple[Task, Case]:
    """The task and its case if `actor` may see it; 404 otherwise (out of scope looks like missing)."""
    task, case, _unit = visible(task_id)
    return task, case


@contextmanager
def kept_after_commit() -> Iterator[None]:
    """The request's session keeps its objects as committed inside the block, as the engine's own sessions do
    (engine.models.make_session_factory): what a step wrote is read back from memory, not from the database."""
    session = db.session()
    before = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = before


def expected_version(headers: dict[str, Any]) -> int | None:
    raw = headers.get("if_match")
    if raw is None or raw.strip(" \t") == "*":
        return None
    match = _VERSION.match(raw)
    if not match:
        raise ApiError(400, "bad_request", _("If-Match phải là số phiên bản của hồ sơ."),
                       {"If-Match": [_("If-Match phải là số phiên bản của hồ sơ.")]})
    return int(match.group(1))


@bp.route("/tasks", methods=["GET"])
@bp.arguments(TaskListArgs, location="query", unknown=RAISE)
@bp.response(200, TaskSummarySchema(many=True), headers=PAGE_HEADERS)
def tasks(args: dict[str, Any]) -> Any:
    """Việc của tôi, gấp nhất trước / my open tasks, most urgent first.

    Lọc theo bước, xã, chỉ việc quá hạn; phân trang bằng page/per_page (X-Total, Link).
    """
    page = worklists.inbox(db.session, actor(), step=args.get("step"), commune_id=commune_id(args.get("commune")),
                           overdue_only=args["overdue"], mine=args["mine"], page=args["page"], size=args["per_page"])
    return task_page(db.session, page.rows), 200, page_headers(page)


@bp.route("/tasks/<int:task_id>", methods=["GET"])
@bp.response(200, TaskDetailSchema, headers={"ETag": ETAG})
@bp.alt_response(404, response="NOT_FOUND")
def task(task_id: int) -> Any:
    """Một việc với biểu mẫu (JSON Schema), thời hạn và căn cứ / a task with its form, deadline and article."""
    task_row, case, _unit = visible(task_id)  # the commune held: task_detail finds it without a read
    who = actor()
    out = task_detail(db.session, who, task_row, case)
    casefile.record_step_read(db.session, who, task_row, case, via="api")  # as the step page does
    return out, 200, {"ETag": f'"{case.version}"'}


@bp.route("/tasks/<int:task_id>/draft", methods=["PUT"])
@bp.arguments(TaskDataSchema)
@bp.response(200, DraftSavedSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
def save_draft(body: dict[str, Any], task_id: int) -> Any:
    """Lưu nháp (chưa kiểm tra) / keep unfinished input (not validated, the workflow is untouched)."""
    load_visible(task_id)
    saved = engine().save_draft(db.session, actor(), task_id, body["data"])
    return {"task_id": saved.id, "draft_saved_at": saved.draft_saved_at}


@bp.route("/tasks/<int:task_id>/complete", methods=["POST"])
@bp.arguments(IfMatchHeaderSchema, location="headers")
@bp.arguments(TaskDataSchema)
@bp.response(200, CompletionSchema, headers={"ETag": ETAG})
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT",
                 description="Hồ sơ đã đổi (If-Match cũ) hoặc bước đã xong / stale If-Match or step already done")
def complete(headers: dict[str, Any], body: dict[str, Any], task_id: int) -> Any:
    """Hoàn thành bước / complete the step: validate its form, advance the case, all or nothing.

    Dữ liệu sai → 422 với lỗi theo trường; If-Match cũ → 409; không có gì được lưu.
    Invalid data → 422 with field errors; a stale If-Match → 409; nothing is saved either way.
    `next_tasks`: the case's open steps the caller may do now (the next one in one request).
    """
    version = expected_version(headers)
    # `case` is held on purpose: the session's identity map is weak, and the step re-reads (populate_existing) and
    # changes this very object, so the answer's version and status are the ones the step committed, read from
    # memory. The step expires everything else it did not re-read, so the commune's label is taken now (read
    # again only if the step's row names another commune).
    _task, case, unit = visible(task_id)
    commune: OrgUnit | UnitLabel | None = UnitLabel(unit.code, unit.name) if unit is not None else None
    commune_id = unit.id if unit is not None else None  # not read from `unit` later: that would reload it
    with kept_after_commit():
        done = engine().complete_task(db.session, actor(), task_id, body["data"], expected_version=version,
                                      locale=locale())
    if done.commune_id != commune_id:
        commune = None if done.commune_id is None else db.session.get(OrgUnit, done.commune_id)
    summary = task_summary(done, case, commune)
    following = [t.id for t in ownership.next_steps(db.session, actor(), case.id)]
    return ({"task": summary, "case": {"id": case.id, "version": case.version, "status": case.status},
             "next_tasks": following}, 200, {"ETag": f'"{case.version}"'})
