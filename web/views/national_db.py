"""The national children database (Decree 56 Art. 30.3) from the web: the cases whose plan approval or closure is
not yet entered (`/national-db`, the officer's commune or the supervisor's province), one case's entries
(`/cases/<id>/national-db`), the export download (JSON or CSV, audited) and the officer's confirmation
"đã nhập CSDL" (date, optional national record number; audited). Permissions: engine.access."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import access, clock, national_db, restriction
from engine.errors import EngineError, InvalidState, NotFound
from engine.models import Case
from web import labels
from web.extensions import db
from web.gate import gate
from web.national_db import FORMATS, exporter
from web.pages import int_arg, locale, refuse
from web.views.inspector import parse_vn_date

bp = Blueprint("national_db", __name__)
REFUSAL = ("Chỉ cán bộ cấp xã và Sở Y tế theo dõi việc nhập cơ sở dữ liệu trẻ em.",
           "Only commune officers and the provincial Department of Health follow database entries.")


@bp.app_context_processor
def _links() -> dict[str, Any]:
    def may_follow_national_db(case: Case) -> bool:
        return current_user.is_authenticated and access.can_view_national_db(current_user.actor, case)

    return {"may_follow_national_db": may_follow_national_db}


def _case(case_id: int) -> Case | None:
    case = db.session.get(Case, case_id) if int_arg(case_id) is not None else None
    if case is None or not access.can_view_national_db(current_user.actor, case):
        return None
    return case


@bp.route("/national-db")
@login_required
@gate(access.can_list_national_db, REFUSAL)
def pending() -> str:
    rows = national_db.pending(db.session, current_user.actor)
    return render_template("national_db/pending.html", rows=rows, occasion_label=labels.national_db_occasion)


def _case_page(case: Case, errors: dict[str, str] | None = None, data: dict[str, str] | None = None,
               status: int = 200, problem: str | None = None) -> tuple[str, int]:
    actor = current_user.actor
    occasions = national_db.occasions(db.session, case)
    return render_template(
        "national_db/case.html", case=case, occasions=occasions, entries=national_db.entries(db.session, case.id),
        may_export=access.can_export_national_db(actor, case),
        may_confirm=access.can_record_national_db_entry(actor, case), errors=errors or {}, data=data or {},
        problem=problem, occasion_label=labels.national_db_occasion, schema_version=national_db.SCHEMA_VERSION,
        today=clock.local(clock.now()).date()), status


@bp.route("/cases/<int:case_id>/national-db", methods=["GET"])
@login_required
@gate(access.can_list_national_db, REFUSAL)
def case_entries(case_id: int) -> Any:
    case = _case(case_id)
    if case is None:
        return refuse(NotFound("Không tìm thấy hồ sơ.", "No such case."))
    return _case_page(case)


@bp.route("/cases/<int:case_id>/national-db/<int:task_id>.<fmt>")
@login_required
@gate(access.can_list_national_db, REFUSAL)
def export(case_id: int, task_id: int, fmt: str) -> Any:
    actor = current_user.actor
    case = _case(case_id)
    if case is None or fmt not in FORMATS or not access.can_export_national_db(actor, case):
        return refuse(NotFound("Không tìm thấy.", "Not found."))
    restricted = restriction.active(db.session, case.id)  # nothing leaves while processing is restricted
    if restricted is not None:
        return refuse(restriction.refusal(restricted))
    try:
        made = national_db.build(db.session, national_db.occasion(db.session, case, task_id), actor.username)
        delivery = exporter().deliver(made, fmt)
    except EngineError as exc:
        return refuse(exc)
    national_db.record_export(db.session, actor, made, delivery, fmt)
    body = made.json_bytes() if fmt == "json" else made.csv_bytes()
    return Response(body, mimetype=FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{made.base_name}.{fmt}"', "Cache-Control": "no-store"})


@bp.route("/cases/<int:case_id>/national-db/<int:task_id>", methods=["POST"])
@login_required
@gate(access.can_list_national_db, REFUSAL)
def confirm(case_id: int, task_id: int) -> Any:
    actor = current_user.actor
    case = _case(case_id)
    if case is None or not access.can_record_national_db_entry(actor, case):
        return refuse(NotFound("Không tìm thấy hồ sơ.", "No such case."))
    data = {"entered_on": (request.form.get("entered_on") or "").strip()[:11],
            "reference": (request.form.get("reference") or "").strip()[:101], "task": str(task_id)}
    errors: dict[str, str] = {}
    day = parse_vn_date(data["entered_on"])
    if day is None:
        errors["entered_on"] = _("Ngày nhập không hợp lệ (dd/mm/yyyy).")
    if data["reference"] and not national_db.REFERENCE.fullmatch(data["reference"]):
        errors["reference"] = _("Mã bản ghi tối đa 100 ký tự: chữ, số và . / _ -")
    if errors or day is None:
        return _case_page(case, errors, data, 422)
    try:
        national_db.confirm(db.session, actor, case, task_id, day, data["reference"] or None)
    except InvalidState as exc:
        return _case_page(case, {"entered_on": exc.message(locale())}, data, 422)
    except NotFound as exc:
        return refuse(exc)
    return redirect(url_for(".case_entries", case_id=case.id), code=303)
