"""Inspector (Thanh tra): search the cases in scope and read a case file, read-only.

Nothing here changes anything: there is no form that posts. Reading a case file goes through
`engine.casefile.open_file`, which refuses a case outside the inspector's province (404, the same answer as a
missing case) and writes the read to the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from engine import access, casefile, clock, worklists
from engine.errors import EngineError
from engine.models import Case, OrgUnit
from forms.kit.choices import ReportCategory
from web import formrender, labels
from web.extensions import db
from web.filters import duration
from web.gate import blueprint_gate
from web.labels import role_label, rule_label, status_label
from web.pages import communes_in_scope, locale, rendered_form
from web.views.dossier import dossier_url, dossier_urls

bp = Blueprint("inspector", __name__, url_prefix="/inspector")
bp.record_once(lambda state: formrender.install(state.app))  # the read-only form macros

PAGE_SIZE = 25
STATUSES = ("open", "closed", "no_basis")


bp.before_request(blueprint_gate(access.can_inspect))


@dataclass
class Search:
    status: str = ""
    commune_id: int | None = None
    category: str = ""
    number: str = ""
    received_from: date | None = None
    received_to: date | None = None
    page: int = 1
    raw: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def args(self, **extra: Any) -> dict[str, Any]:
        return {**{k: v for k, v in self.raw.items() if v}, **extra}


def parse_vn_date(text: str) -> date | None:
    """dd/mm/yyyy (also d/m/yyyy); None when it is not a real date."""
    parts = text.split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return None
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return None


def read_search(communes: list[OrgUnit]) -> Search:
    names = ("status", "commune", "category", "number", "from", "to")
    # NUL is dropped: it is in no case number or date, and PostgreSQL refuses it in a query.
    raw = {n: (request.args.get(n) or "").replace("\x00", "").strip()[:100] for n in names}
    search = Search(raw=raw)
    if raw["status"]:
        if raw["status"] in STATUSES:
            search.status = raw["status"]
        else:
            search.errors["status"] = _("Trạng thái không hợp lệ.")
    if raw["commune"]:
        if raw["commune"].isdigit() and int(raw["commune"]) in {c.id for c in communes}:
            search.commune_id = int(raw["commune"])
        else:
            search.errors["commune"] = _("Xã/phường không hợp lệ hoặc không thuộc phạm vi của bạn.")
    if raw["category"]:
        if raw["category"] in ReportCategory.codes():
            search.category = raw["category"]
        else:
            search.errors["category"] = _("Loại thông tin không hợp lệ.")
    search.number = raw["number"]
    for key, attr in (("from", "received_from"), ("to", "received_to")):
        if raw[key]:
            value = parse_vn_date(raw[key])
            if value is None or not 2000 <= value.year <= 2100:
                search.errors[key] = _("Ngày không hợp lệ (dd/mm/yyyy).")
            else:
                setattr(search, attr, value)
    if search.received_from and search.received_to and search.received_from > search.received_to:
        search.errors["to"] = _("Ngày kết thúc phải bằng hoặc sau ngày bắt đầu.")
    raw_page = (request.args.get("page") or "1").strip()
    search.page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 100000 else 1
    return search


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time.min, clock.LOCAL_TZ)


@bp.route("")
def search() -> tuple[str, int]:
    actor = current_user.actor
    lang = locale()
    communes = communes_in_scope(actor)
    criteria = read_search(communes)
    query = select(Case).where(access.case_filter(actor))
    if not criteria.errors:
        if criteria.status:
            query = query.where(Case.status == criteria.status)
        if criteria.commune_id:
            query = query.where(Case.commune_id == criteria.commune_id)
        if criteria.category:
            query = query.where(Case.category == criteria.category)
        if criteria.number:
            escaped = criteria.number.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(func.lower(Case.number).like(f"%{escaped}%", escape="\\"))
        # The period is of the legal receipt moment (Mẫu 01), in Vietnam time, both ends included.
        if criteria.received_from:
            query = query.where(Case.received_at >= _local_start(criteria.received_from))
        if criteria.received_to:
            query = query.where(Case.received_at < _local_start(criteria.received_to + timedelta(days=1)))
    # Newest first along the (scope, received_at, id) indexes; counted up to worklists.COUNT_LIMIT.
    result = worklists.paged(db.session, query.order_by(Case.received_at.desc(), Case.id.desc()),
                             query.with_only_columns(Case.id), criteria.page, PAGE_SIZE) \
        if not criteria.errors else worklists.Page([], 1, PAGE_SIZE, 0)
    cases = [row[0] for row in result.rows]
    names = {c.id: c.name for c in communes}
    pdfs = dossier_urls(cases)
    rows = [{"case": c, "commune": names.get(c.commune_id, ""), "status": status_label(c.status),
             "category": _category(c.category, lang), "dossier_url": pdfs.get(c.id)} for c in cases]
    return render_template(
        "inspector/search.html", criteria=criteria, rows=rows, result=result,
        pager_args={k: v for k, v in criteria.args().items() if k != "page"}, communes=communes,
        statuses=[(s, status_label(s)) for s in STATUSES],
        categories=ReportCategory.items(lang),
    ), 400 if criteria.errors else 200


def _category(code: str, lang: str) -> str:
    try:
        return ReportCategory(code).label(lang)
    except ValueError:
        return code


@bp.route("/cases/<int:case_id>")
def case_file(case_id: int) -> str:
    actor = current_user.actor
    try:
        file = casefile.open_file(db.session, actor, case_id, purpose="inspect")
    except EngineError as exc:
        abort(exc.status)
    titles = labels.step_titles(labels.definition(file.case.process_version_id), [e.task for e in file.timeline])
    timeline = [{
        "entry": e, "title": titles[e.task.step], "role": role_label(e.task.role), "rule": rule_label(e.task.rule),
        "late": duration(e.late_by_seconds) if e.late_by_seconds and e.late_by_seconds > 0 else "",
    } for e in file.timeline]
    documents = [{"task": t, "title": titles[t.step], "form": rendered_form(t, actor)} for t in file.forms()]
    actions, summary = labels.audit_actions(), labels.AuditSummary(titles)
    trail = [{"entry": a, "summary": summary(a.details), "action": actions.get(a.action, a.action)}
             for a in casefile.audit_trail(db.session, case_id)]
    return render_template(
        "inspector/case.html", file=file, case=file.case, timeline=timeline, documents=documents, trail=trail,
        status=status_label(file.case.status), category=_category(file.case.category, locale()),
        dossier_url=dossier_url(file.case),
        linked=[{"case": c, "readable": access.can_read_case(actor, c)} for c in file.linked],
    )
