"""The inbox ("Việc cần làm"): the signed-in person's open steps, most urgent first, from the task table.

Each row says how much time is left (or how late it is) and the legal basis of the limit: the rule's label
("12 giờ kể từ khi tiếp nhận thông tin") and the article it comes from, marked "[cần xác nhận]" where the
decree's number was not confirmed (processes/deadlines.toml).
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from engine import access, ownership, worklists
from engine.models import Case
from web import formrender
from web.extensions import db
from web.labels import offered_steps, rule_label, step_title, title_of
from web.pages import communes_in_scope, int_arg, person_names, unit_names

bp = Blueprint("inbox", __name__)
bp.record_once(lambda state: formrender.install(state.app))
HOME = {access.Area.INSPECTION: "inspector.search", access.Area.ADMINISTRATION: "admin.index"}  # no steps there


@bp.route("/")
@login_required
def index():
    actor: access.Actor = current_user.actor
    home = HOME.get(access.home(actor))
    if home and home in current_app.view_functions:
        return redirect(url_for(home))
    steps = {key: title_of(s) for key, s in offered_steps().items() if s.role == actor.role}
    step = request.args.get("step") if request.args.get("step") in steps else None
    communes = communes_in_scope(actor) if access.has_worklist(actor) else []
    commune_id = int_arg(request.args.get("commune"))
    if commune_id not in {c.id for c in communes}:
        commune_id = None
    overdue_only = request.args.get("overdue") == "1"
    mine = request.args.get("mine") == "1"  # "Việc của tôi": the steps this person holds (engine.ownership)
    page = int_arg(request.args.get("page"), 1, high=100_000)
    size = int(current_app.config.get("CASE56_PAGE_SIZE") or worklists.PAGE_SIZE)
    result = worklists.inbox(db.session, actor, step=step, commune_id=commune_id, overdue_only=overdue_only,
                             mine=mine, page=page, size=size)
    holders = person_names({task.assignee for task, _case in result.rows if task.assignee})
    names = unit_names({task.commune_id for task, _case in result.rows})
    rows = [{"task": task, "case": case, "title": step_title(task, case), "commune": names.get(task.commune_id, ""),
             "basis": rule_label(task.rule), "holder": holders.get(task.assignee or "", task.assignee)}
            for task, case in result.rows]
    reports = []
    if access.lists_own_reports(actor):
        reports = list(db.session.scalars(select(Case).where(access.case_filter(actor))
                                          .order_by(Case.opened_at.desc(), Case.id.desc()).limit(10)))
    args = {k: v for k, v in (("step", step), ("commune", commune_id), ("overdue", "1" if overdue_only else None),
                              ("mine", "1" if mine else None)) if v}
    reminders = [(r, t, step_title(t, c), c) for r, t, c in ownership.unread_reminders(db.session, actor.username)]
    return render_template("inbox/index.html", rows=rows, result=result, steps=steps, step=step,
                           communes=communes if len(communes) > 1 else [], commune_id=commune_id,
                           overdue_only=overdue_only, args=args, reports=reports, mine=mine, reminders=reminders,
                           tabs=access.has_worklist(actor), senders=person_names({r.sent_by for r, *_ in reminders}),
                           report_units=unit_names({c.commune_id for c in reports}))
