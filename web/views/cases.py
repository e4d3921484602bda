"""Case list and case page; transfer to another commune and reopening (linked case).

The case page is read through `engine.casefile.open_file` (permission + audited read) and shows only what the
case, task and audit tables hold: status and stage, the timeline, the process diagram with the path taken, every
form and decision (the informant redacted for roles that must not see it), transfers, linked cases, attachments
and — for the roles that audit — the audit trail. The helpers the case-work pages share are in web/pages.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

import forms
import web
from engine import access, casefile, children, path, separation, transfers, versions, worklists
from engine.errors import Conflict, EngineError, FieldErrors, Forbidden, InvalidState, NotFound
from engine.models import Attachment, Case, OrgUnit, Task
from forms.kit import sensitivity
from web import formrender, labels
from web.diagram import render_svg
from web.extensions import db
from web.gate import gate
from web.pages import (
    choice_label,
    communes_in_scope,
    int_arg,
    locale,
    person_names,
    refuse,
    rendered_form,
    report_prefill,
    unit_names,
)
from web.views import assign, reports

bp = Blueprint("cases", __name__)
bp.record_once(lambda state: formrender.install(state.app))
PAGE_SIZE = 25
MOVES = {"transfer", "reopen"}  # rows recorded outside the process (engine.transfers / open_case)


# -- the case list -----------------------------------------------------------------------------------

@bp.route("/cases")
@login_required
@gate(access.can_list_cases)
def index():
    actor: access.Actor = current_user.actor
    status = request.args.get("status") if request.args.get("status") in {"open", "closed", "no_basis"} else ""
    # One search field: a child's name (without diacritics, or part of it), personal ID, phone or case number
    # (engine.children); `number` is the field's former name, kept for links people saved.
    q = (request.args.get("q") or request.args.get("number") or "").replace("\x00", "").strip()[:100]
    communes = communes_in_scope(actor) if access.filters_by_commune(actor) else []
    commune_id = int_arg(request.args.get("commune"))
    page = int_arg(request.args.get("page"), 1, high=100_000)
    size = int(current_app.config.get("CASE56_PAGE_SIZE") or PAGE_SIZE)
    error = None
    if q:
        try:
            _kind, result = children.search(db.session, actor, q, status=status, commune_id=commune_id, page=page,
                                            size=size)
        except FieldErrors as exc:
            error = exc.by_field(locale())["q"]
            result = worklists.Page([], 1, size, 0)
    else:
        query = select(Case).where(access.case_filter(actor))
        if status:
            query = query.where(Case.status == status)
        if commune_id:
            query = query.where(Case.commune_id == commune_id)
        # Newest first along the (scope, received_at, id) indexes; counted up to worklists.COUNT_LIMIT.
        result = worklists.paged(db.session, query.order_by(Case.received_at.desc(), Case.id.desc()),
                                 query.with_only_columns(Case.id), page, size)
    rows = [row[0] for row in result.rows]
    names = unit_names({c.commune_id for c in rows})
    return render_template("cases/index.html", rows=rows, names=names, result=result, status=status, q=q,
                           error=error, communes=communes if len(communes) > 1 else [], commune_id=commune_id,
                           show_child=children.may_see_child(actor),
                           category=lambda code: choice_label("mau_01", "category", code)), 400 if error else 200


# -- the case page -----------------------------------------------------------------------------------

def diagram(case: Case, tasks: list[Task]) -> Markup:
    """The process drawing with the path taken (engine.path, as the API and the dossier report it) and the
    waiting steps, from the case's own process version."""
    definition = labels.definition(case.process_version_id)
    taken = path.path_taken(definition, tasks)
    # render_svg escapes every text it draws and emits no script or style: safe to inline.
    return Markup(render_svg(definition.xml, done=taken.done, current=taken.current, flows=taken.flows,
                             labels=labels.diagram_labels(definition), id_prefix=f"case{case.id}"))


@bp.route("/cases/<int:case_id>")
@login_required
def show(case_id: int):
    actor: access.Actor = current_user.actor
    try:
        file = casefile.open_file(db.session, actor, case_id)
    except EngineError as exc:
        return refuse(exc)
    case = file.case
    tasks = [entry.task for entry in file.timeline]
    process = labels.definition(case.process_version_id)
    titles = labels.step_titles(process, tasks)
    documents = [(t, rendered_form(t, actor)) for t in file.forms() if t.step not in MOVES]
    moves = [(t, rendered_form(t, actor)) for t in file.forms() if t.step in MOVES]
    attachments = list(db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                          .order_by(Attachment.id)))
    names = person_names({t.completed_by for t in tasks} | {t.assignee for t in tasks}
                         | {a.uploaded_by for a in attachments})
    trail = casefile.audit_trail(db.session, case.id) if access.can_read_audit_trail(actor, case) else None
    actions = labels.audit_actions()
    manage = access.can_manage_case(actor, case)
    return render_template(
        "cases/show.html", file=file, case=case, tasks=tasks, names=names, titles=titles, documents=documents,
        moves=moves, attachments=attachments, trail=trail, diagram=diagram(case, tasks),
        can_open_attachments=access.can_read_attachment(actor, case),
        process_version=versions.label(db.session, case.process_version_id),
        units=unit_names({case.commune_id} | {c.commune_id for c in file.linked}
                         | {u for u in (case.incident_commune_id, case.residence_commune_id) if u is not None}),
        audit_label=lambda action: actions.get(action, action),
        audit_summary=labels.AuditSummary(titles, sensitive=access.can_see_class(actor, sensitivity.SENSITIVE)),
        category=choice_label("mau_01", "category", case.category),
        can_transfer=manage and case.status == "open",
        can_reopen=manage and case.status in transfers.CLOSED_STATES and access.can_open_case(actor, file.commune),
        can_attach=manage, task_by_id={t.id: t for t in tasks},
        can_separate=access.can_request_separation(actor, case),
        can_adjust=access.can_propose_adjustment(actor, case) and any(
            t.step == "carry_out_activity" and t.state == "ready" for t in tasks),
        plan_versions=separation.plan_versions(db.session, case),
        reassign_offers=assign.offers(actor, case, [t for t in tasks if t.state == "ready"]), reassign_back="case",
    )


# -- transfer and reopening --------------------------------------------------------------------------

def _managed_case(case_id: int) -> Case:
    actor: access.Actor = current_user.actor
    case = db.session.get(Case, case_id)
    if case is None or not access.can_read_case(actor, case):
        raise NotFound("Không tìm thấy hồ sơ.", "No such case.")
    if not access.can_manage_case(actor, case):
        raise Forbidden("Bạn không có quyền chuyển hoặc mở lại hồ sơ này.",
                        "You may not transfer or reopen this case.")
    return case


@bp.route("/cases/<int:case_id>/transfer", methods=["GET", "POST"])
@login_required
def transfer(case_id: int):
    actor: access.Actor = current_user.actor
    try:
        case = _managed_case(case_id)
        if case.status != "open":
            raise InvalidState("Chỉ chuyển được hồ sơ đang mở.", "Only an open case can be transferred.")
    except EngineError as exc:
        return refuse(exc)
    targets = list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "commune", OrgUnit.id != case.commune_id)
                                      .order_by(OrgUnit.name)))
    description = formrender.describe("transfer", locale=locale(),
                                      choices={"to_commune": [(u.code, f"{u.name} ({u.code})") for u in targets]})
    values: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    conflict = None
    status = 200
    if request.method == "POST":
        values = formrender.parse(description["fields"], request.form)
        try:
            web.engine().transfer_case(db.session, actor, case.id, values,
                               expected_version=int_arg(request.form.get("_version"), -1, low=0), locale=locale())
        except forms.FormError as exc:
            errors, status = exc.errors, 422
        except (Conflict, InvalidState) as exc:
            conflict, status = exc.message(locale()), 409
        except EngineError as exc:
            return refuse(exc)
        else:
            target = next((u for u in targets if u.code == values.get("to_commune")), None)
            flash(_("Đã chuyển hồ sơ %(number)s đến %(unit)s. Cán bộ của xã/phường đó tiếp nhận các bước đang mở.",
                    number=case.number, unit=target.name if target else values.get("to_commune")), "success")
            still = access.can_read_case(actor, db.session.get(Case, case.id))
            return redirect(url_for(".show", case_id=case.id) if still else url_for(".index"))
    return render_template("cases/transfer.html", case=case, form=description, values=values, errors=errors,
                           error_items=formrender.summary(description["fields"], errors), conflict=conflict), status


# -- a separation (Art. 32) and a plan adjustment (Art. 29.1a) at any point of the case -----------------------

def _case_for(case_id: int, allowed: Any, vi: str, en: str) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or not access.can_read_case(current_user.actor, case):
        raise NotFound("Không tìm thấy hồ sơ.", "No such case.")
    if not allowed(current_user.actor, case):
        raise Forbidden(vi, en)
    return case


@bp.route("/cases/<int:case_id>/separation", methods=["GET", "POST"])
@login_required
def request_separation(case_id: int):
    """"Tách trẻ tạm thời": ask the chairman for a Mẫu 07 decision at any point of an open case (Art. 32)."""
    actor: access.Actor = current_user.actor
    try:
        case = _case_for(case_id, access.can_request_separation,
                         "Chỉ người làm công tác bảo vệ trẻ em hoặc Chủ tịch UBND của xã, phường đề nghị cách ly trẻ "
                         "em trong hồ sơ đang mở.",
                         "Only the commune's officer or chairman asks for a separation, in an open case.")
    except EngineError as exc:
        return refuse(exc)
    description = formrender.describe("separation_request", locale=locale())
    values: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    conflict = None
    status = 200
    if request.method == "POST":
        values = formrender.parse(description["fields"], request.form)
        try:
            web.engine().request_separation(db.session, actor, case.id, values,
                                            expected_version=int_arg(request.form.get("_version"), -1, low=0),
                                            locale=locale())
        except forms.FormError as exc:
            errors, status = exc.errors, 422
        except (Conflict, InvalidState) as exc:
            conflict, status = exc.message(locale()), 409
        except EngineError as exc:
            return refuse(exc)
        else:
            flash(_("Đã gửi đề nghị. Chủ tịch UBND xã, phường quyết định tạm thời cách ly theo Mẫu số 07 trong vòng "
                    "12 giờ kể từ thời điểm tiếp nhận thông tin (Điều 32 khoản 2)."), "success")
            return redirect(url_for(".show", case_id=case.id))
    return render_template("cases/separation.html", case=case, form=description, values=values, errors=errors,
                           error_items=formrender.summary(description["fields"], errors), conflict=conflict), status


@bp.route("/cases/<int:case_id>/adjustment", methods=["POST"])
@login_required
def propose_adjustment(case_id: int):
    """"Điều chỉnh kế hoạch": open the officer's proposal while activities run (Art. 29.1a)."""
    actor: access.Actor = current_user.actor
    try:
        case = _case_for(case_id, access.can_propose_adjustment,
                         "Chỉ người làm công tác bảo vệ trẻ em của xã, phường đề xuất điều chỉnh kế hoạch.",
                         "Only the commune's officer proposes a plan adjustment.")
        proposal = web.engine().request_adjustment(
            db.session, actor, case.id, expected_version=int_arg(request.form.get("_version"), -1, low=0),
            locale=locale())
    except (Conflict, InvalidState) as exc:
        flash(exc.message(locale()), "error")
        return redirect(url_for(".show", case_id=case_id)), 303
    except EngineError as exc:
        return refuse(exc)
    return redirect(url_for("steps.task", task_id=proposal.id))


@bp.route("/cases/<int:case_id>/reopen", methods=["GET", "POST"])
@login_required
def reopen(case_id: int):
    actor: access.Actor = current_user.actor
    try:
        case = _managed_case(case_id)
        if case.status not in transfers.CLOSED_STATES:
            raise InvalidState("Chỉ mở lại được hồ sơ đã đóng hoặc đã kết thúc do không có cơ sở.",
                               "Only a closed case (or one ended without basis) can be reopened.")
        if not access.can_open_case(actor, db.session.get(OrgUnit, case.commune_id)):
            raise Forbidden("Chỉ cán bộ được ghi nhận báo cáo mới mở lại được hồ sơ.",
                            "Only someone who may record reports can reopen a case.")
    except EngineError as exc:
        return refuse(exc)
    loc = locale()
    reason_form = formrender.describe("reopen", locale=loc)
    # The new case opens where the old one is held now; the child's residence may be any commune (issue 16).
    report_form = formrender.describe("mau_01", locale=loc, hide=reports.HIDDEN,
                                      choices={"residence_commune": reports.residence_choices()})
    reasons: dict[str, Any] = {}
    report: dict[str, Any] = {}
    reason_errors: dict[str, Any] = {}
    report_errors: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        reasons = formrender.parse(reason_form["fields"], request.form, "reopen.")
        report = formrender.parse(report_form["fields"], request.form, "report.")
        for name, data, sink in (("reopen", reasons, reason_errors), ("mau_01", report, report_errors)):
            try:
                forms.validate(name, data, locale=loc)
            except forms.FormError as exc:
                sink.update(exc.errors)
        if reason_errors or report_errors:
            status = 422
        else:
            try:
                new = web.engine().reopen_case(db.session, actor, case.id, reasons, report, locale=loc)
            except forms.FormError as exc:
                (reason_errors if exc.form == "reopen" else report_errors).update(exc.errors)
                status = 422
            except EngineError as exc:
                return refuse(exc)
            else:
                flash(_("Đã mở hồ sơ mới %(number)s, liên kết với hồ sơ %(old)s.", number=new.number,
                        old=case.number), "success")
                return redirect(url_for(".show", case_id=new.id))
    else:
        report = formrender.to_inputs(report_form["fields"], report_prefill())
    items = (formrender.summary(reason_form["fields"], reason_errors, "reopen.")
             + formrender.summary(report_form["fields"], report_errors, "report."))
    return render_template("cases/reopen.html", case=case, reason_form=reason_form, report_form=report_form,
                           reasons=reasons, report=report, reason_errors=reason_errors,
                           report_errors=report_errors, error_items=items), status
