"""Who carries out a plan activity, on the pages: the pick list on the plan (Mẫu 04) and "Giao lại".

The plan's "carried out by" is chosen from the accounts `engine.assignees.assignable` gives for the case, never
typed; the server checks it again when the plan is completed. The commune's officer and chairman reassign an open
activity from the case page or the step page (a small form posting here); a refusal comes back on this page with
the message next to its field and the input kept, nothing saved.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

import forms
import web
from engine import access, assignees, providers
from engine.errors import Conflict, EngineError, InvalidState, NotFound
from engine.models import Case, Task, User
from web import formrender
from web.extensions import db
from web.labels import sentence, step_title
from web.pages import int_arg, locale, person_names, refuse

bp = Blueprint("assign", __name__)
REASON_MAX = 1000


def choices(case: Case) -> list[tuple[str, str]]:
    """The accounts a plan activity of `case` may go to, as (username, "full name — unit") pairs."""
    return [(a.username, a.label) for a in assignees.assignable(db.session, case)]


def plan_pick_list(description: dict[str, Any], case: Case) -> None:
    """Make the plan form's "carried out by" a pick list of the assignable accounts; drop the typed name
    (`assignee_name` is filled from the chosen account on completion, never trusted from the page)."""
    for field in description["fields"]:
        if field["name"] != "activities":
            continue
        field["fields"] = [sub for sub in field["fields"] if sub["name"] != "assignee_name"]
        for sub in field["fields"]:
            if sub["name"] == "assignee":
                sub["choices"], sub["widget"] = choices(case), "select"
                sub["help"] = _("Chọn tài khoản của cơ sở, đơn vị phối hợp thuộc xã/phường hoặc tỉnh của hồ sơ; "
                                "bước thực hiện hoạt động sẽ nằm trong danh sách việc của tài khoản đó.")


def plan_provider_list(description: dict[str, Any], case: Case) -> None:
    """Make the plan form's "service provider mobilised" (Mẫu 04 v3, Art. 28.3.c) a pick list of the active providers
    of the case's province and commune; drop the provider's name (filled from the registry on completion)."""
    offers = [(o.code, o.label(locale())) for o in providers.available(db.session, case)]
    for field in description["fields"]:
        if field["name"] != "activities" or not any(sub["name"] == "provider" for sub in field["fields"]):
            continue
        field["fields"] = [sub for sub in field["fields"] if sub["name"] != "provider_name"]
        for sub in field["fields"]:
            if sub["name"] == "provider":
                sub["choices"], sub["widget"] = offers, "select"
                sub["help"] = _("Chọn trong danh mục cơ sở cung cấp dịch vụ bảo vệ trẻ em của tỉnh, xã/phường của hồ "
                                "sơ (Điều 28.3.c NĐ 56/2017); để trống nếu không huy động cơ sở nào. Quản trị viên "
                                "cập nhật danh mục.")


def inactive(usernames: set[str]) -> set[str]:
    """Which of these accounts are deactivated: their open steps wait for a reassignment."""
    names = {u for u in usernames if u}
    if not names:
        return set()
    return set(db.session.scalars(select(User.username).where(User.username.in_(names), User.active.is_(False))))


def offers(actor: access.Actor, case: Case, tasks: list[Task]) -> list[dict[str, Any]]:
    """The open, assigned steps of `case` this actor may reassign, each with its pick list (the current
    assignee left out) and whether the current account is deactivated."""
    mine = [t for t in tasks if access.can_reassign(actor, t, case)]
    if not mine:
        return []
    listed = choices(case)
    names = person_names({t.assignee for t in mine})
    gone = inactive({t.assignee for t in mine})
    return [{"task": t, "title": step_title(t), "current": names.get(t.assignee, t.assignee),
             "inactive": t.assignee in gone, "choices": [c for c in listed if c[0] != t.assignee]}
            for t in mine]


def _load(actor: access.Actor, task_id: int) -> tuple[Task, Case]:
    task = db.session.get(Task, task_id)
    case = db.session.get(Case, task.case_id) if task is not None else None
    if task is None or case is None or not access.can_view_task(actor, task, case):
        raise NotFound("Không tìm thấy bước này.", "No such step.")  # out of scope looks like missing
    return task, case


@bp.route("/tasks/<int:task_id>/reassign", methods=["GET", "POST"])
@login_required
def reassign(task_id: int):
    actor: access.Actor = current_user.actor
    loc = locale()
    try:
        task, case = _load(actor, task_id)
        refused = assignees.refusal(actor, task, case)
        if refused is not None and request.method == "GET":
            raise refused
    except EngineError as exc:
        return refuse(exc)
    back = "case" if request.form.get("_next", request.args.get("next")) == "case" else "task"
    values = {"assignee": "", "reason": ""}
    errors: dict[str, Any] = {}
    conflict = None
    status = 200
    if request.method == "POST":
        values = {name: (request.form.get(name) or "")[:REASON_MAX * 2] for name in values}
        try:
            done = web.engine().reassign_task(db.session, actor, task.id, values["assignee"], values["reason"],
                                              expected_version=int_arg(request.form.get("_version"), -1, low=0),
                                              locale=loc)
        except forms.FormError as exc:
            errors, status = exc.errors, 422
        except (Conflict, InvalidState) as exc:
            conflict, status = exc.message(loc), 409
        except EngineError as exc:
            return refuse(exc)
        else:
            who = person_names({done.assignee}).get(done.assignee, done.assignee)
            flash(sentence(_("Đã giao lại bước “%(step)s” của hồ sơ %(number)s cho %(who)s (tài khoản %(user)s)."),
                           step=step_title(done), number=case.number, who=who, user=done.assignee), "success")
            return redirect(url_for("cases.show", case_id=case.id) if back == "case"
                            else url_for("steps.task", task_id=task.id))
        task, case = db.session.get(Task, task.id), db.session.get(Case, case.id)
    offer = offers(actor, case, [task])
    labels = (("assignee", _("Giao cho")), ("reason", _("Lý do giao lại")))
    items = [(f"ra-{task.id}-{name}", label, message) for name, label in labels
             for message in formrender.messages(errors.get(name))]
    return render_template("steps/reassign.html", task=task, case=case, title=step_title(task),
                           offer=offer[0] if offer else None, values=values, errors=errors, conflict=conflict,
                           error_items=items,
                           back=back, current=person_names({task.assignee}).get(task.assignee, task.assignee),
                           inactive=task.assignee in inactive({task.assignee})), status
