"""Supervisor dashboard (cấp tỉnh): overdue and due-soon steps in the province, escalations to acknowledge,
charts and a CSV export.

Everything here is read from the task table through `engine.worklists` (never a workflow). The only change a
supervisor makes is acknowledging an escalation, which completes their own escalation task through the
engine (`escalation_ack`): a supervisor never edits a case's legal forms.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from werkzeug.routing import BuildError

import forms
from engine import access, audit, clock, liveness, ownership, worklists
from engine import stamp as confidentiality
from engine.errors import Conflict, EngineError
from engine.models import Case, OrgUnit, Task
from web import engine
from web.charts import Series, stacked_bars
from web.exports import safe_cell
from web.extensions import db
from web.filters import duration, vn_date
from web.gate import blueprint_gate, gate
from web.labels import offered_steps, role_label, rule_label, step_title, title_of
from web.pages import bad_request, communes_in_scope, locale, person_names

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")

WINDOWS = (0, 24, 72, 168)  # due-soon windows offered, in hours (0: overdue only)
DEFAULT_WINDOW = 24
ESCALATIONS_SHOWN = 20  # oldest first; each comes with its form, so the page stays light on old computers
CSV_BATCH = 500
LATE_COLOUR, SOON_COLOUR = "#b3261e", "#d48a00"


def case_url(case_id: int) -> str:
    """The case page (`cases.show`); its path when that endpoint is not registered."""
    if "cases.show" in current_app.view_functions:
        try:
            return url_for("cases.show", case_id=case_id)
        except BuildError:
            pass
    return f"/cases/{case_id}"


bp.before_request(blueprint_gate(access.can_oversee))


# -- filters -----------------------------------------------------------------------------------------
@dataclass
class Filters:
    commune_id: int | None = None
    step: str | None = None
    window: int = DEFAULT_WINDOW
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    def args(self, **extra: Any) -> dict[str, Any]:
        values = {"commune": self.commune_id, "step": self.step, "window": self.window, **extra}
        return {k: v for k, v in values.items() if v not in (None, "")}


def step_choices(lang: str) -> list[tuple[str, str]]:
    """Steps that can run late (escalation tasks are listed apart)."""
    return [(key, title_of(step, lang)) for key, step in offered_steps().items() if step.rule and not step.escalates]


def read_filters(communes: list[OrgUnit]) -> Filters:
    """Parse the query string; an unknown value is reported on its field and ignored."""
    result = Filters()
    raw_commune = (request.args.get("commune") or "").strip()
    if raw_commune:
        if raw_commune.isdigit() and int(raw_commune) in {c.id for c in communes}:
            result.commune_id = int(raw_commune)
        else:
            result.errors["commune"] = _("Xã/phường không hợp lệ hoặc không thuộc phạm vi của bạn.")
    raw_step = (request.args.get("step") or "").strip()
    if raw_step:
        if raw_step in dict(step_choices("vi")):
            result.step = raw_step
        else:
            result.errors["step"] = _("Bước không hợp lệ.")
    raw_window = (request.args.get("window") or "").strip()
    if raw_window:
        if raw_window.isdigit() and int(raw_window) in WINDOWS:
            result.window = int(raw_window)
        else:
            result.errors["window"] = _("Khoảng thời gian không hợp lệ.")
    raw_page = (request.args.get("page") or "1").strip()
    result.page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 100000 else 1
    return result


def window_label(hours: int) -> str:
    if hours == 0:
        return _("Chỉ các bước đã quá hạn")
    if hours < 48:
        return _("Quá hạn và đến hạn trong %(h)s giờ tới", h=hours)
    return _("Quá hạn và đến hạn trong %(d)s ngày tới", d=hours // 24)


# -- rows --------------------------------------------------------------------------------------------
def overdue_row(task: Task, case: Case, commune_names: dict[int, str],
                people: dict[str, str] | None = None) -> dict[str, Any]:
    """One row of the overdue list; `people` names the holders (engine.ownership) by username."""
    now = clock.now()
    late_seconds = (now - task.due_at).total_seconds()
    holder = ""
    if task.assignee:
        name = (people or {}).get(task.assignee)
        holder = f"{name} ({task.assignee})" if name and name != task.assignee else task.assignee
    return {
        "task": task, "case": case, "case_url": case_url(case.id),
        "commune": commune_names.get(task.commune_id, ""),
        "title": step_title(task, case), "role": role_label(task.role), "assignee": holder,
        "can_assign": access.can_assign(current_user.actor, task),
        "can_remind": access.can_remind(current_user.actor, task),
        "late": late_seconds > 0, "late_text": duration(late_seconds),
        "rule": rule_label(task.rule), "escalated": task.escalated_at is not None,
    }


def _escalations(actor: access.Actor, names: dict[int, str]) -> tuple[list[dict[str, Any]], int]:
    """The supervisor's oldest open escalation tasks, each with the late step it was opened for, and how many
    there are (counted on the task table alone)."""
    late_step = aliased(Task)
    mine = (Task.state == "ready", Task.escalates_task_id.is_not(None), access.task_filter(actor))
    base = (
        select(Task, Case, late_step).join(Case, Case.id == Task.case_id)
        .join(late_step, late_step.id == Task.escalates_task_id).where(*mine)
    )
    rows = db.session.execute(base.order_by(Task.created_at, Task.id).limit(ESCALATIONS_SHOWN)).all()
    total = len(rows) if len(rows) < ESCALATIONS_SHOWN else db.session.scalar(
        select(func.count()).select_from(Task).where(*mine)) or 0
    still_open = _("Vẫn chưa hoàn thành, quá hạn %(t)s.")  # translated once for the page
    found = []
    for task, case, late in rows:
        late_by = _late_by(late)
        found.append({
            "task": task, "case": case, "case_url": case_url(case.id), "commune": names.get(case.commune_id, ""),
            "title": step_title(task, case), "step": late, "step_title": step_title(late, case),
            "step_role": role_label(late.role), "rule": rule_label(late.rule),
            "step_late": late_by, "still_open": still_open % {"t": late_by},
        })
    return found, total


def _stranded(actor: Any, names: dict[int, str], lang: str) -> tuple[list[dict[str, Any]], int]:
    """The oldest stranded cases in scope with their reasons, and how many there are (engine.liveness: the
    stranded set computed once for both, from the province's open steps and open cases)."""
    cases, total = liveness.stranded_page(db.session, actor, 1, ESCALATIONS_SHOWN)
    found = liveness.problems_of(db.session, cases)
    return [{"case": case, "commune": names.get(case.commune_id, ""),
             "problems": [p.en if lang == "en" else p.vi for p in found[case.id]]}
            for case in cases], total


def _with_state_text(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each overdue row's state ("Quá hạn 2 ngày" / "Còn 3 giờ"), both texts translated once for the page."""
    late, left = _("Quá hạn %(t)s"), _("Còn %(t)s")
    for row in rows:
        row["state_text"] = (late if row["late"] else left) % {"t": row["late_text"]}
    return rows


def _late_by(task: Task) -> str:
    """How late a step was finished, or is while still open."""
    if task.due_at is None:
        return ""
    end = task.completed_at if task.state != "ready" and task.completed_at else clock.now()
    return duration((end - task.due_at).total_seconds()) if end > task.due_at else ""


def _chart(title: str, rows: list[tuple[str, int, int]], window: int) -> Any:
    series = [Series(_("Quá hạn"), LATE_COLOUR)]
    if window:
        series.append(Series(_("Sắp đến hạn"), SOON_COLOUR))
    return stacked_bars(title, [(label, (late, soon)[: len(series)]) for label, late, soon in rows], series,
                        empty_text=_("Không có bước nào quá hạn hoặc sắp đến hạn."))


def _dashboard(filters: Filters, communes: list[OrgUnit], ack_errors: dict[int, dict[str, Any]] | None = None,
               ack_input: dict[int, dict[str, str]] | None = None, status: int = 200) -> tuple[str, int]:
    """The page; `communes`: those of the actor's scope, already read for the filters."""
    actor = current_user.actor
    lang = locale()
    names = {c.id: c.name for c in communes}
    window = timedelta(hours=filters.window)
    counts = worklists.overdue_counts(db.session, actor, window)
    by_commune, by_step = counts["commune"], counts["step"]
    by_role = [(role_label(label), late, soon) for label, late, soon in counts["role"]]
    assigned = [row for row in counts["assignee"] if row[0] != "—"]
    people = person_names({label for label, _late, _soon in assigned})
    by_assignee = [(f"{people[label]} ({label})" if label in people else label, late, soon)
                   for label, late, soon in assigned]
    if lang == "en":
        titles = {s.title_vi: s.title_en for s in offered_steps().values()}
        by_step = [(titles.get(label, label), late, soon) for label, late, soon in by_step]
    page = worklists.overdue(db.session, actor, due_within=window, commune_id=filters.commune_id,
                             step=filters.step, page=filters.page)
    holders = person_names({t.assignee for t, _c in page.rows if t.assignee})
    escalations, escalation_total = _escalations(actor, names)
    stranded, stranded_total = _stranded(actor, names, lang)
    context = {
        "filters": filters, "communes": communes, "steps": step_choices(lang),
        "windows": [(h, window_label(h)) for h in WINDOWS],
        "totals": (sum(r[1] for r in by_commune), sum(r[2] for r in by_commune)),
        "charts": {
            "commune": _chart(_("Theo xã/phường"), by_commune, filters.window),
            "role": _chart(_("Theo vai trò phụ trách"), by_role, filters.window),
            "step": _chart(_("Theo bước"), by_step, filters.window),
        },
        "by_assignee": by_assignee,
        "workload": ownership.workload(db.session, actor, filters.commune_id),
        "page": page, "rows": _with_state_text([overdue_row(t, c, names, holders) for t, c in page.rows]),
        "escalations": escalations, "escalation_total": escalation_total,
        "stranded": stranded, "stranded_total": stranded_total,
        "ack_form": forms.describe("escalation_ack", locale=lang),
        "ack_errors": ack_errors or {}, "ack_input": ack_input or {},
    }
    return render_template("supervisor/dashboard.html", **context), status


@bp.route("")
def dashboard() -> tuple[str, int]:
    communes = communes_in_scope(current_user.actor)
    filters = read_filters(communes)
    return _dashboard(filters, communes, status=400 if filters.errors else 200)


@bp.route("/escalations/<int:task_id>/ack", methods=["POST"])
def acknowledge(task_id: int) -> Any:
    """Complete the supervisor's escalation task with a note (Mẫu escalation_ack)."""
    actor = current_user.actor
    task = db.session.get(Task, task_id)
    # Anything that is not this supervisor's open escalation looks the same as a missing one.
    if task is None or task.escalates_task_id is None or not access.can_act(actor, task):
        abort(404)
    number = db.session.get(Case, task.case_id).number
    data = {name: (request.form.get(name) or "").strip() for name in ("note", "action_taken")}
    data = {k: v for k, v in data.items() if v}
    try:
        engine().complete_task(db.session, actor, task_id, data, locale=locale())
    except forms.FormError as exc:
        communes = communes_in_scope(actor)
        return _dashboard(read_filters(communes), communes, {task_id: exc.errors}, {task_id: data}, status=422)
    except Conflict as exc:
        flash(exc.message(locale()), "conflict")
        return _back_to_dashboard()
    except EngineError as exc:
        abort(exc.status)
    flash(_("Đã xác nhận xử lý bước quá hạn của hồ sơ %(n)s.", n=number),
          "success")
    return _back_to_dashboard()


def _back_to_dashboard() -> Response:
    """The dashboard under the filters it was posted from. Only the filters: url_for takes "_method",
    "_external", "_scheme"… from its keywords, so the raw query string could break the redirect (a 500)."""
    kept = {name: request.args[name] for name in ("commune", "step", "window", "page") if request.args.get(name)}
    return redirect(url_for(".dashboard", **kept), code=303)


@bp.route("/overdue.csv")
@gate(access.can_list_overdue)  # the same decision as GET /api/v1/overdue
def export_csv() -> Response:
    """The overdue list under the current filters, for Excel: UTF-8 with BOM, dates dd/mm/yyyy."""
    actor = current_user.actor
    communes = communes_in_scope(actor)
    filters = read_filters(communes)
    if filters.errors:
        abort(400)
    try:  # the file's confidentiality stamp (Decree 56 Art. 24.3), its first line: ?level=&recipients=
        mark = confidentiality.choose("report", request.args.get("level"), request.args.get("recipients"), locale())
    except EngineError as exc:
        return bad_request(exc.message(locale()))
    names = {c.id: c.name for c in communes}
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(mark.text(locale()))])
    writer.writerow([_("Số hồ sơ"), _("Xã/phường"), _("Bước"), _("Vai trò phụ trách"), _("Người được giao"),
                     _("Ngày tiếp nhận"), _("Hạn (ngày)"), _("Hạn (giờ)"), _("Tình trạng"),
                     _("Số giờ quá hạn"), _("Căn cứ thời hạn"), _("Điều khoản"), _("Cần xác nhận"),
                     _("Đã chuyển cấp tỉnh")])
    count, page_no = 0, 1
    while True:
        page = worklists.overdue(db.session, actor, due_within=timedelta(hours=filters.window),
                                 commune_id=filters.commune_id, step=filters.step, page=page_no, size=CSV_BATCH)
        holders = person_names({t.assignee for t, _c in page.rows if t.assignee})
        for task, case in page.rows:
            row = overdue_row(task, case, names, holders)
            rule = row["rule"]
            late_hours = int((clock.now() - task.due_at).total_seconds() // 3600)
            writer.writerow([safe_cell(v) for v in (
                case.number, row["commune"], row["title"], row["role"], row["assignee"],
                vn_date(case.received_at), vn_date(task.due_at), clock.local(task.due_at).strftime("%H:%M"),
                _("Quá hạn") if row["late"] else _("Sắp đến hạn"), max(late_hours, 0),
                rule.label if rule else "", rule.article if rule else "", _("Có") if rule and rule.to_confirm else "",
                _("Có") if row["escalated"] else "",
            )])
            count += 1
        if not page.has_next:
            break
        page_no += 1
    # A download of case data is audited like a view (who, what, how many rows).
    audit.append(db.session, actor.username, "overdue_export", None,
                 {"rows": count, **filters.args(), **mark.audit()})
    db.session.commit()
    stamp = clock.local(clock.now()).strftime("%Y%m%d-%H%M")
    return Response(out.getvalue().encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="qua-han-{stamp}.csv"',
                             "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store"})
