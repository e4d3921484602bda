"""The guided step: what the law asks, by when, the form, and the case so far.

"Lưu nháp" keeps the input as typed (`Engine.save_draft`, not validated); "Hoàn thành" validates and advances
the case (`Engine.complete_task`) against the case version the page was rendered with, so a page left open
while someone else changed the case gets a conflict message (409) and changes nothing. A partner sees only
the plan activity assigned to them and the case number, never the rest of the file.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

import forms
import web
from engine import access, casefile, ownership, returns
from engine.errors import Conflict, EngineError, Forbidden, InvalidState, NotFound
from engine.models import Case, OrgUnit, Task
from web import formdiff, formrender, labels
from web.extensions import db
from web.labels import role_label, rule_label, sentence, status_label, step_title
from web.pages import bad_request, int_arg, locale, person_names, refuse, rendered_form
from web.views import assign
from web.views import ownership as ownership_view

bp = Blueprint("steps", __name__)
bp.record_once(lambda state: formrender.install(state.app))
ACTIVITY_FIELDS = ("measure", "level", "start", "end", "expected_result")  # what a partner is shown


def _load(actor: access.Actor, task_id: int) -> tuple[Task, Case]:
    task = db.session.get(Task, task_id)
    case = db.session.get(Case, task.case_id) if task is not None else None
    if task is None or case is None or not access.can_view_task(actor, task, case):
        raise NotFound("Không tìm thấy bước này.", "No such step.")  # out of scope looks like missing
    return task, case


def partner_activity(task: Task) -> dict[str, Any] | None:
    """The plan activity behind a partner's step, as the workflow handed it to the step (`task.activity`),
    shown under the version of the plan (Mẫu 04) that named it."""
    if not task.activity:
        return None
    version = db.session.scalar(
        select(Task.form_version).where(Task.case_id == task.case_id, Task.step == "draft_plan",
                                        Task.state == "completed", Task.completed_at <= task.created_at)
        .order_by(Task.completed_at.desc(), Task.id.desc()).limit(1))
    return _shown_activity(task.activity, version)


def _shown_activity(activity: dict[str, Any], version: int | None) -> dict[str, Any] | None:
    shown = {key: activity.get(key) for key in ACTIVITY_FIELDS}
    rendered = forms.render("mau_04", {"activities": [shown]}, version=version, locale=locale())
    item = next(f for f in rendered["fields"] if f["name"] == "activities")["items"]
    return {"fields": [f for f in item[0] if f["name"] in ACTIVITY_FIELDS]} if item else None


def _plan_total(description: dict[str, Any] | None, values: dict[str, Any]) -> int | None:
    """The plan's total cost as typed so far (Mẫu 04 v3, Art. 28.3.d), for the line under the form; the stored
    total is computed again on completion. None for other forms; costs not yet valid count as nothing."""
    if not description or not any(f["name"] == "total_cost" for f in description["fields"]):
        return None
    total = 0
    for row in values.get("activities") or []:
        cost = row.get("cost") if isinstance(row, dict) else None
        digits = re.sub(r"[.,\s]", "", cost) if isinstance(cost, str) else ""
        total += int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 14 else 0
    return total


def _next_steps_message(task: Task, case: Case) -> Markup:
    """Who has the case now: the steps this completion opened and the person or office that has them."""
    opened = list(db.session.scalars(select(Task).where(Task.case_id == case.id, Task.state == "ready",
                                                        Task.created_at >= task.completed_at).order_by(Task.id)))
    # Markup: a step title nothing translates is marked as on the pages (labels.sentence); str parts are escaped.
    done = sentence(_("Đã hoàn thành bước “%(step)s” của hồ sơ %(number)s."), step=step_title(task),
                    number=case.number)
    if not opened:
        if case.status != "open":
            return done + " " + _("Hồ sơ đã kết thúc (%(status)s).", status=status_label(case.status))
        return done + " " + _("Không có bước mới: hồ sơ chờ các bước khác đang mở.")
    people = person_names({t.assignee for t in opened if t.assignee})
    units = dict(db.session.execute(select(OrgUnit.id, OrgUnit.name)
                                    .where(OrgUnit.id.in_({t.commune_id for t in opened}))).all())
    parts = []
    for t in opened:
        who = (people.get(t.assignee, t.assignee) if t.assignee
               else f"{role_label(t.role)} — {units.get(t.commune_id, '')}")
        parts.append(sentence(_("“%(step)s” giao cho %(who)s"), step=step_title(t), who=who))
    return done + " " + sentence(_("Bước tiếp theo: %(steps)s."), steps=Markup("; ").join(parts))


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def task(task_id: int):
    actor: access.Actor = current_user.actor
    loc = locale()
    try:
        task, case = _load(actor, task_id)
    except EngineError as exc:
        return refuse(exc)
    editable, description = _form_of(actor, task, case)
    values: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    conflict = None
    status = 200
    if request.method == "POST":
        if not editable and task.state == "ready":
            return refuse(Forbidden("Bạn chỉ được xem bước này, không được thực hiện.",
                                    "You may view this step but not perform it."))
        if not editable:
            return refuse(Conflict("Bước này đã được hoàn thành hoặc đã huỷ; không có thay đổi nào được lưu.",
                                   "This step was already completed or cancelled; nothing was saved."))
        fields = description["fields"]
        values = formrender.parse(fields, request.form, keep_blank_rows=True)
        if not formrender.row_action(values, request.form):
            values = formrender.parse(fields, request.form)
            action = request.form.get("_action")
            try:
                if action == "draft":
                    web.engine().save_draft(db.session, actor, task.id, formrender.storable(values))
                    flash(_("Đã lưu nháp. Bạn có thể quay lại hoàn thành sau."), "success")
                    return redirect(url_for(".task", task_id=task.id))
                if action != "complete":
                    return bad_request(_("Yêu cầu không hợp lệ: hãy chọn “Lưu nháp” hoặc “Hoàn thành”."))
                version = int_arg(request.form.get("_version"), -1, low=0)
                done = web.engine().complete_task(db.session, actor, task.id, values, expected_version=version,
                                                  locale=loc)
            except forms.FormError as exc:
                errors, status = exc.errors, 422
            except (Conflict, InvalidState) as exc:
                conflict, status = exc.message(loc), 409
            except EngineError as exc:
                return refuse(exc)
            else:
                flash(_next_steps_message(done, db.session.get(Case, done.case_id)), "success")
                if ownership.next_steps(db.session, actor, done.case_id):  # the next step one click away
                    return redirect(url_for("ownership.done", task_id=done.id))
                return redirect(url_for("inbox.index"))
        editable = task.state == "ready"  # a conflict may mean the step was done meanwhile
    elif editable:
        values = _start_values(task, description)
    return _page(actor, task, case, description, values, errors, conflict, editable), status


def _form_of(actor: access.Actor, task: Task, case: Case) -> tuple[bool, dict[str, Any] | None]:
    """Whether this person fills the step's form now, and the form described for the page."""
    editable = task.state == "ready" and bool(task.form) and access.can_act(actor, task)
    description = formrender.describe(task.form, locale=locale()) if editable else None
    if description and task.form == "mau_04":
        assign.plan_pick_list(description, case)
        assign.plan_provider_list(description, case)
    return editable, description


def _start_values(task: Task, description: dict[str, Any] | None) -> dict[str, Any]:
    """The form's inputs as the page opens: a draft first, else a plan the chairman returned continues from
    the returned version (engine.returns), else the form's defaults."""
    if description is None:
        return {}
    fields = description["fields"]
    start = task.draft_data if task.draft_data is not None else returns.prefill(db.session, task)
    return formrender.to_inputs(fields, start if start is not None else formrender.defaults(fields))


def refused_reminder(actor: access.Actor, task: Task, case: Case, note: str, errors: list[str]) -> str:
    """The step page as it opens, with a refused reminder (web.views.ownership.remind) back in its note field
    and listed in the error summary at the top; the step's own form is as a GET shows it."""
    editable, description = _form_of(actor, task, case)
    values = _start_values(task, description) if editable else {}
    return _page(actor, task, case, description, values, {}, None, editable, remind={"note": note, "errors": errors})


def _page(actor: access.Actor, task: Task, case: Case, description: dict[str, Any] | None,
          values: dict[str, Any], errors: dict[str, Any], conflict: str | None, editable: bool,
          remind: dict[str, Any] | None = None) -> str:
    partner = access.reads_only_assigned(actor)
    history: list[tuple[Task, str, dict[str, Any] | None]] = []
    casefile.record_step_read(db.session, actor, task, case, via="web")  # the API records the same
    if partner:
        activity = partner_activity(task) if task.step == "carry_out_activity" else None
    else:
        file = casefile.load(db.session, case.id)
        history = [(t, step_title(t), rendered_form(t, actor)) for t in file.forms() if t.id != task.id]
        activity = None
    task = db.session.get(Task, task.id)
    case = db.session.get(Case, case.id)
    step = labels.steps_by_key(labels.definition(case.process_version_id)).get(task.step)
    english = locale() == "en"
    late = db.session.get(Task, task.escalates_task_id) if task.escalates_task_id else None
    stored = None
    if not editable and task.form_data is not None:
        stored = rendered_form(task, actor) if not partner or task.assignee == actor.username else None
    names = person_names({task.assignee, task.completed_by})
    return render_template(
        "steps/task.html", task=task, case=case, step=step, title=step_title(task),
        instructions=step.instructions if step else "", article=step.article if step else "",
        basis=rule_label(task.rule), form=description, values=values, errors=errors,
        error_items=formrender.summary(description["fields"], errors) if description else [],
        conflict=conflict, editable=editable and description is not None, history=history, activity=activity,
        plan_total=_plan_total(description, values),
        partner=partner, late_task=late, stored=stored, names=names, english=english,
        who=names.get(task.assignee, task.assignee) if task.assignee else role_label(task.role),
        can_attach=not partner and access.can_manage_case(actor, case),
        reassign_offers=assign.offers(actor, case, [task]), reassign_back="task",
        own=ownership_view.card(actor, task, remind),
        **_plan_return(actor, task),
    )


def _plan_return(actor: access.Actor, task: Task) -> dict[str, Any]:
    """A returned plan (engine.returns): on Mẫu 04/05 the chairman's return and its reasons, shown at the top;
    on the next approval what changed in each form since the returned version, field by field."""
    if task.state != "ready":
        return {"plan_return": None, "plan_changes": []}
    decision = returns.returned_for(db.session, task)
    shown = None
    if decision is not None:
        rendered = rendered_form(decision, actor) or {}
        comments = next((f.get("display") for f in rendered.get("fields", []) if f.get("name") == "comments"), "")
        shown = {"by": person_names({decision.completed_by}).get(decision.completed_by, decision.completed_by),
                 "at": decision.completed_at, "comments": comments,
                 "continued": task.draft_data is None and returns.returned_version(db.session, task) is not None}
    changes = []
    for found in returns.rounds(db.session, task):
        before, after = rendered_form(found.returned, actor), rendered_form(found.current, actor)
        changes.append({"title": (after or {}).get("title", found.step), "task": found.current,
                        "changes": formdiff.changes(before, after)})
    return {"plan_return": shown, "plan_changes": changes}
