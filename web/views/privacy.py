"""Personal data protection pages (issue 18).

In the administration area (/admin/privacy, the administrator as the controller's data-protection staff, Law 91
Art. 33.2): data subjects' requests — a list with their limits and status, a page per request with its steps and
the open step's form — and the breach register — record, the 72-hour clock, the notice to A05 prefilled from the
record, the processor's notice to the controller, closure. The administrator sees who asks and the case number,
never the file's content.

On a case (/cases/<id>/representatives): the child's legal representatives, recorded by the case's officer or
chairman, with the alleged-abuser flag.

Engine work is engine.data_requests, engine.breaches and engine.representatives; every refusal comes back as
field messages (422) or an engine error page, nothing saved halfway.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select

import forms
import web
from engine import access, breaches, clock, data_requests, representatives
from engine.errors import Conflict, EngineError, NotFound
from engine.models import AuditEntry, Breach, Case, DataRequest, LegalRepresentative, OrgUnit
from web import formrender, labels
from web.diagram import render_svg
from web.extensions import db
from web.gate import blueprint_gate
from web.pages import choice_label, int_arg, locale, refuse

bp = Blueprint("privacy", __name__, url_prefix="/admin/privacy")
bp.before_request(blueprint_gate(access.can_handle_privacy))
bp.record_once(lambda state: formrender.install(state.app))
bp.record_once(lambda state: state.app.add_template_global(choice_label, "form_choice_label"))
cases_bp = Blueprint("representatives", __name__)
cases_bp.record_once(lambda state: formrender.install(state.app))
cases_bp.record_once(lambda state: state.app.add_template_global(choice_label, "form_choice_label"))
PAGE = 50


def _actor() -> access.Actor:
    return current_user.actor


def _form_page(name: str, values: dict[str, Any] | None = None, errors: dict[str, Any] | None = None,
               choices: dict[str, list[tuple[str, str]]] | None = None) -> dict[str, Any]:
    description = formrender.describe(name, locale=locale(), choices=choices)
    fields = description["fields"]
    return {"form": description, "errors": errors or {},
            "values": values if values is not None else formrender.to_inputs(fields, formrender.defaults(fields)),
            "error_items": formrender.summary(fields, errors or {})}


def _posted(name: str, choices: dict[str, list[tuple[str, str]]] | None = None) -> dict[str, Any]:
    return formrender.parse(formrender.describe(name, locale=locale(), choices=choices)["fields"], request.form)


def _version() -> int | None:
    return int_arg(request.form.get("version"))


# -- overview ------------------------------------------------------------------------------------------------
@bp.route("")
def index() -> str:
    status = request.args.get("status") or "open"
    query = select(DataRequest, Case.number).join(Case, Case.id == DataRequest.case_id)
    if status == "open":
        query = query.where(DataRequest.status.in_(data_requests.OPEN))
    elif status in ("completed", "refused"):
        query = query.where(DataRequest.status == status)
    page = int_arg(request.args.get("page"), 1) or 1
    rows = db.session.execute(query.order_by(DataRequest.due_at, DataRequest.id)
                              .offset((page - 1) * PAGE).limit(PAGE + 1)).all()
    steps = {r.id: data_requests.of(web.engine()).open_step(db.session, r.id) for r, _n in rows[:PAGE]}
    breach_rows = list(db.session.scalars(select(Breach).where(Breach.status != "closed")
                                          .order_by(Breach.notify_due_at, Breach.id)))
    closed_breaches = db.session.scalar(select(func.count()).select_from(Breach)
                                        .where(Breach.status == "closed")) or 0
    return render_template("privacy/index.html", rows=rows[:PAGE], steps=steps, status=status, page=page,
                           has_next=len(rows) > PAGE, breaches=breach_rows, closed_breaches=closed_breaches,
                           overdue=data_requests.overdue(db.session), now=clock.now())


# -- data subjects' requests ----------------------------------------------------------------------------------
def _representative_choices(case_number: str) -> dict[str, list[tuple[str, str]]] | None:
    case = db.session.scalar(select(Case).where(Case.number == case_number)) if case_number else None
    if case is None:
        return None
    options = []
    for rep in representatives.of_case(db.session, case.id):
        text = f"{rep.full_name} — {choice_label('legal_representative', 'relation', rep.relation)}"
        if rep.alleged_abuser:
            text += f" ({_('người bị nghi xâm hại trẻ em')})"
        options.append((str(rep.id), text))
    return {"representative_id": options}


@bp.route("/requests/new", methods=["GET", "POST"])
def new_request():
    case_number = (request.values.get("case_number") or "").strip()[:40]
    choices = _representative_choices(case_number)
    if request.method == "GET":
        page = _form_page("data_request", choices=choices)
        page["values"]["case_number"] = case_number
        page["values"]["received_at"] = formrender.input_datetime(clock.now())
        return render_template("privacy/request_new.html", **page, case_number=case_number)
    values = _posted("data_request", choices)
    try:
        created = data_requests.of(web.engine()).receive(db.session, _actor(), values, locale())
    except forms.FormError as exc:
        return render_template("privacy/request_new.html", **_form_page("data_request", values, exc.errors, choices),
                               case_number=case_number), 422
    except EngineError as exc:
        return refuse(exc)
    return redirect(url_for(".request_page", request_id=created.id))


@bp.route("/requests/<int:request_id>")
def request_page(request_id: int, step_errors: dict[str, Any] | None = None, step_values: dict[str, Any] | None = None,
                 conflict: str | None = None):
    row = db.session.get(DataRequest, request_id)
    if row is None:
        return refuse(NotFound("Không tìm thấy yêu cầu.", "No such request."))
    process = data_requests.of(web.engine())
    steps = process.steps(db.session, row.id)
    open_step = next((s for s in steps if s.state == "ready"), None)
    step_form = None
    if open_step is not None and open_step.form:
        step_form = _form_page(open_step.form, step_values, step_errors)
    case = db.session.get(Case, row.case_id)
    representative = db.session.get(LegalRepresentative, row.representative_id) if row.representative_id else None
    unit = db.session.get(OrgUnit, row.commune_id)
    status = 422 if step_errors else (409 if conflict else 200)
    return render_template("privacy/request.html", row=row, steps=steps, open_step=open_step, step_form=step_form,
                           case=case, representative=representative, unit=unit, conflict=conflict,
                           limits=process.limits, rules=process.rules, diagram=_diagram(process, row)), status


def _diagram(process: data_requests.DataRequests, row: DataRequest) -> Markup:
    """The request's process drawn with the path taken (green) and the step waiting (orange), as on a case page."""
    definition = process.definition(db.session, row.process_id)
    workflow = process.load_workflow(db.session, row)
    done = {t.task_spec.name for t in workflow.get_tasks(state=TaskState.COMPLETED)}
    current = {t.task_spec.name for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    # render_svg escapes every text it draws and emits no script or style: safe to inline.
    return Markup(render_svg(definition.xml, done=done, current=current, labels=labels.diagram_labels(definition),
                             id_prefix=f"request{row.id}"))


@bp.route("/requests/<int:request_id>/steps/<int:step_id>", methods=["POST"])
def complete_step(request_id: int, step_id: int):
    process = data_requests.of(web.engine())
    step = next((s for s in process.steps(db.session, request_id) if s.id == step_id), None)
    if step is None or step.form is None:
        return refuse(NotFound("Không tìm thấy bước này.", "No such step."))
    values = _posted(step.form)
    try:
        process.complete(db.session, _actor(), step_id, values, _version(), locale())
    except forms.FormError as exc:
        return request_page(request_id, exc.errors, values)
    except Conflict as exc:
        return request_page(request_id, conflict=exc.message(locale()))
    except EngineError as exc:
        return refuse(exc)
    return redirect(url_for(".request_page", request_id=request_id))


# -- breaches -------------------------------------------------------------------------------------------------
@bp.route("/breaches/new", methods=["GET", "POST"])
def new_breach():
    if request.method == "GET":
        page = _form_page("breach_report")
        page["values"]["discovered_at"] = formrender.input_datetime(clock.now())
        return render_template("privacy/breach_new.html", **page)
    values = _posted("breach_report")
    try:
        created = breaches.record(web.engine(), db.session, _actor(), values, locale())
    except forms.FormError as exc:
        return render_template("privacy/breach_new.html", **_form_page("breach_report", values, exc.errors)), 422
    except EngineError as exc:
        return refuse(exc)
    return redirect(url_for(".breach_page", breach_id=created.id))


def _unit_name() -> str:
    return _("UBND cấp xã (bên kiểm soát dữ liệu)")


@bp.route("/breaches/<int:breach_id>")
def breach_page(breach_id: int, errors: dict[str, Any] | None = None, values: dict[str, Any] | None = None,
                which: str | None = None, conflict: str | None = None):
    breach = db.session.get(Breach, breach_id)
    if breach is None:
        return refuse(NotFound("Không tìm thấy vụ vi phạm.", "No such breach."))
    notice = _form_page("breach_notification", values if which == "notify" else None,
                        errors if which == "notify" else None)
    if which != "notify":
        recipient = "a05" if breach.notified_at is None else "controller"
        notice["values"].update(recipient=recipient, content=breaches.notice_template(breach, _unit_name(), locale()),
                                sent_at=formrender.input_datetime(clock.now()))
    closure = _form_page("breach_closure", values if which == "close" else None, errors if which == "close" else None)
    trail = _breach_trail(breach.id)
    status = 422 if errors else (409 if conflict else 200)
    return render_template("privacy/breach.html", breach=breach, notice=notice, closure=closure, trail=trail,
                           names=labels.privacy_actions(locale()), conflict=conflict, now=clock.now(),
                           settings=breaches.SETTINGS), status


def _breach_trail(breach_id: int) -> list[AuditEntry]:
    rows = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id.is_(None),
                                                       AuditEntry.action.like("breach\\_%", escape="\\"))
                              .order_by(AuditEntry.id))
    return [r for r in rows if r.details.get("breach") == breach_id]


def _breach_action(breach_id: int, which: str):
    values = _posted("breach_notification" if which == "notify" else "breach_closure")
    command = breaches.notify if which == "notify" else breaches.close
    try:
        command(web.engine(), db.session, _actor(), breach_id, values, _version(), locale())
    except forms.FormError as exc:
        return breach_page(breach_id, exc.errors, values, which)
    except Conflict as exc:
        return breach_page(breach_id, conflict=exc.message(locale()))
    except EngineError as exc:
        return refuse(exc)
    return redirect(url_for(".breach_page", breach_id=breach_id))


@bp.route("/breaches/<int:breach_id>/notify", methods=["POST"])
def notify_breach(breach_id: int):
    return _breach_action(breach_id, "notify")


@bp.route("/breaches/<int:breach_id>/close", methods=["POST"])
def close_breach(breach_id: int):
    return _breach_action(breach_id, "close")


# -- the child's legal representatives on a case ----------------------------------------------------------------
def _case_for_representatives(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or not access.can_record_representative(_actor(), case):
        raise NotFound("Không tìm thấy hồ sơ.", "No such case.")
    return case


@cases_bp.route("/cases/<int:case_id>/representatives", methods=["GET", "POST"])
@login_required
def case_representatives(case_id: int):
    try:
        case = _case_for_representatives(case_id)
    except EngineError as exc:
        return refuse(exc)
    editing = int_arg(request.values.get("edit"))
    row = db.session.get(LegalRepresentative, editing) if editing else None
    if row is not None and row.case_id != case.id:
        row = None
    status, page = 200, _form_page("legal_representative")
    if row is not None:
        page["values"] = formrender.to_inputs(page["form"]["fields"], {
            "full_name": row.full_name, "relation": row.relation, "contact": row.contact, "id_number": row.id_number,
            "alleged_abuser": row.alleged_abuser, "note": row.note})
    if request.method == "POST":
        values = _posted("legal_representative")
        try:
            if row is not None:
                representatives.update(web.engine(), db.session, _actor(), row.id, values, locale())
            else:
                representatives.record(web.engine(), db.session, _actor(), case.id, values, locale())
        except forms.FormError as exc:
            status, page = 422, _form_page("legal_representative", values, exc.errors)
        except EngineError as exc:
            return refuse(exc)
        else:
            return redirect(url_for(".case_representatives", case_id=case.id))
    return render_template("privacy/representatives.html", case=case, rows=representatives.of_case(db.session, case.id),
                           editing=row, **page), status
