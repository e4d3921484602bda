"""Who holds a step, on the pages (engine.ownership): "Nhận việc", "Trả việc", "Giao bước", "Nhắc việc", and the
confirmation after "Hoàn thành" that offers the next step when the same person may do it.

The step page shows a card with the holder and the buttons the person may use (`card`); assigning has its own
small page (pick list of the accounts that may hold the step, optional reason) where a refusal comes back next to
its field with the input kept. Reminders come back from the supervisor's dashboard or the step page; a refused
note comes back on the step page (status 422, nothing sent), at its field and in the summary at the top.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

import forms
import web
from engine import access, ownership
from engine.errors import Conflict, EngineError, Forbidden, InvalidState, NotFound
from engine.models import Case, Task
from web import formrender
from web.extensions import db
from web.labels import role_label, sentence, step_title
from web.pages import locale, person_names, refuse

bp = Blueprint("ownership", __name__)
TEXT_MAX = 2000  # what is read from a posted text before the engine's own limit (1,000) refuses it
BACKS = ("task", "case", "supervisor", "inbox")


def _load(actor: access.Actor, task_id: int) -> tuple[Task, Case]:
    task = db.session.get(Task, task_id)
    case = db.session.get(Case, task.case_id) if task is not None else None
    if task is None or case is None or not access.can_view_task(actor, task, case):
        raise NotFound("Không tìm thấy bước này.", "No such step.")  # out of scope looks like missing
    return task, case


def _back(task: Task) -> Any:
    where = request.form.get("_next", request.args.get("next"))
    if where == "case":
        return redirect(url_for("cases.show", case_id=task.case_id) + "#steps")
    if where == "supervisor":
        return redirect(url_for("supervisor.dashboard"))
    if where == "inbox":
        return redirect(url_for("inbox.index"))
    return redirect(url_for("steps.task", task_id=task.id))


def card(actor: access.Actor, task: Task, remind: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the step page shows about who holds the step, and which ownership buttons this person gets. Opening
    the step marks the reminders about it to this person as read. `remind`: a refused reminder's note as typed
    and its messages, shown at its field and (`error_items`) in the page's error summary."""
    if ownership.mark_read(db.session, actor.username, task.id):
        db.session.commit()
    names = person_names({task.assignee}) if task.assignee else {}
    role_step = access.is_role_step(task)
    return {
        "role_step": role_step,
        "holder": names.get(task.assignee, task.assignee) if task.assignee else None,
        "mine": bool(task.assignee) and task.assignee == actor.username,
        "can_claim": access.can_claim(actor, task),
        "can_release": role_step and access.can_release(actor, task),
        "can_assign": access.can_assign(actor, task),
        "can_remind": access.can_remind(actor, task),
        "held_by_other": (role_step and bool(task.assignee) and task.assignee != actor.username
                          and access.may_hold(actor, task)),
        "role": role_label(task.role, mid_sentence=True),  # read inside a sentence on the card
        "remind_note": remind["note"] if remind else "",
        "remind_errors": remind["errors"] if remind else [],
        "error_items": [(f"remind-note-{task.id}", _("Lời nhắc (không bắt buộc)"), message)
                        for message in (remind["errors"] if remind else [])],
    }


def _command(task_id: int, run: Any, done: str) -> Any:
    actor: access.Actor = current_user.actor
    try:
        task, case = _load(actor, task_id)
        changed = run(actor, task)
    except EngineError as exc:
        return refuse(exc)
    flash(sentence(done, step=step_title(changed, case), number=case.number), "success")
    return _back(changed)


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: int):
    return _command(task_id, lambda actor, task: web.engine().claim_task(db.session, actor, task.id),
                    _("Bạn đã nhận bước “%(step)s” của hồ sơ %(number)s: chỉ bạn hoàn thành được bước này cho đến khi "
                      "trả lại."))


@bp.route("/tasks/<int:task_id>/release", methods=["POST"])
@login_required
def release(task_id: int):
    return _command(task_id, lambda actor, task: web.engine().release_task(db.session, actor, task.id),
                    _("Đã trả bước “%(step)s” của hồ sơ %(number)s: mọi người cùng vai trò của xã/phường đều thấy và "
                      "nhận được."))


@bp.route("/tasks/<int:task_id>/assign", methods=["GET", "POST"])
@login_required
def assign(task_id: int):
    actor: access.Actor = current_user.actor
    loc = locale()
    try:
        task, case = _load(actor, task_id)
        if not access.can_assign(actor, task):
            raise Forbidden("Bạn không giao được bước này (đã xong, là hoạt động của kế hoạch, hoặc ngoài địa bàn).",
                            "You cannot assign this step (done, a plan activity, or outside your area).")
    except EngineError as exc:
        return refuse(exc)
    values = {"assignee": "", "reason": ""}
    errors: dict[str, Any] = {}
    conflict = None
    status = 200
    if request.method == "POST":
        values = {name: (request.form.get(name) or "")[:TEXT_MAX] for name in values}
        try:
            done = web.engine().assign_task(db.session, actor, task.id, values, locale=loc)
        except forms.FormError as exc:
            errors, status = exc.errors, 422
        except (Conflict, InvalidState) as exc:
            conflict, status = exc.message(loc), 409
        except EngineError as exc:
            return refuse(exc)
        else:
            who = person_names({done.assignee}).get(done.assignee, done.assignee)
            flash(sentence(_("Đã giao bước “%(step)s” của hồ sơ %(number)s cho %(who)s."),
                           step=step_title(done, case), number=case.number, who=who), "success")
            return _back(done)
        task = db.session.get(Task, task.id)
    choices = [(h.username, h.label) for h in ownership.holders(db.session, task)]
    labels = (("assignee", _("Giao cho")), ("reason", _("Lý do")))
    items = [(f"as-{name}", label, message) for name, label in labels
             for message in formrender.messages(errors.get(name))]
    back = request.form.get("_next", request.args.get("next"))
    return render_template("steps/assign.html", task=task, case=case, title=step_title(task, case), choices=choices,
                           values=values, errors=errors, conflict=conflict, error_items=items,
                           back=back if back in BACKS else "task",
                           holder=person_names({task.assignee}).get(task.assignee, task.assignee)
                           if task.assignee else None), status


@bp.route("/tasks/<int:task_id>/remind", methods=["POST"])
@login_required
def remind(task_id: int):
    actor: access.Actor = current_user.actor
    loc = locale()
    note = (request.form.get("note") or "")[:TEXT_MAX]
    try:
        task, case = _load(actor, task_id)
        sent = ownership.remind(web.engine(), db.session, actor, task.id, {"note": note}, locale=loc)
    except forms.FormError as exc:
        # The engine reads the note only after its own checks; this guards a person the step page offers no note
        # field (step done, or not theirs to remind) anyway: the refusal, never a field error without its field.
        if task.state != "ready" or not access.can_remind(actor, task):
            return refuse(Forbidden("Bạn không nhắc được bước này (đã xong hoặc ngoài quyền của bạn).",
                                    "You cannot send a reminder about this step (done, or not yours to remind)."))
        # Nothing sent: the step page again, the note as typed at its field and in the summary at the top.
        from web.views import steps  # steps imports this module for its ownership card
        return steps.refused_reminder(actor, task, case, note, formrender.messages(exc.errors.get("note"))), 422
    except EngineError as exc:
        return refuse(exc)
    names = person_names({r.recipient for r in sent})
    flash(sentence(_("Đã nhắc %(who)s về bước “%(step)s” của hồ sơ %(number)s (hiện trong danh sách việc và thư "
                     "tổng hợp)."), who=", ".join(sorted(names.get(r.recipient, r.recipient) for r in sent)),
                   step=step_title(task, case), number=case.number), "success")
    return _back(task)


@bp.route("/tasks/<int:task_id>/done")
@login_required
def done(task_id: int):
    """After "Hoàn thành": what was done and, one click away, the case's next steps this person may do now."""
    actor: access.Actor = current_user.actor
    try:
        task, case = _load(actor, task_id)
    except EngineError as exc:
        return refuse(exc)
    if task.state != "completed":
        return redirect(url_for("steps.task", task_id=task.id))
    following = [(t, step_title(t, case)) for t in ownership.next_steps(db.session, actor, case.id)]
    return render_template("steps/done.html", task=task, case=case, title=step_title(task, case),
                           following=following)
