"""Statistics page and periodic reports: indicator 0101 (Thông tư 13/2021/TT-BLĐTBXH), cases by category and
unit, procedure compliance, with server-side charts and CSV / XLSX / PDF downloads.

Figures come from `engine.statistics` (SQL aggregates over the case and task tables). Supervisors see their
province, officers and chairmen their commune, inspectors their scope; anyone else is refused. The tables and
the files are web/exports.py's, shared with the `case56 report` command (web/statistics_cli.py); every
download is audited. Charts use web/charts.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import false, select
from sqlalchemy.orm import Session

from engine import access, clock, stamp
from engine import statistics as st
from engine.errors import EngineError, Forbidden, NotFound
from engine.models import OrgUnit
from web import engine, labels
from web.charts import Series, stacked_bars
from web.exports import FORMATS, audit_export, export, file_name, meta, notes, sections
from web.extensions import db
from web.filters import duration, vn_date
from web.gate import blueprint_gate
from web.pages import locale

bp = Blueprint("statistics", __name__, url_prefix="/statistics")

YEARS_OFFERED = 3
COLOURS = {"count": "#0b5cad", "on_time": "#1e7b34", "late": "#d48a00", "overdue": "#b3261e", "pending": "#8a96a3"}


def _error(message: str, status: int) -> tuple[str, int]:
    return render_template("statistics/error.html", message=message, status=status), status


bp.before_request(blueprint_gate(access.can_view_statistics))


# -- the request ---------------------------------------------------------------------------------------------
@dataclass
class Choice:
    """What the user asked for, as typed, and the field errors found in it."""

    period: str = ""
    start: str = ""
    end: str = ""
    province: str = ""
    commune: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Any) -> Choice:
        values = {name: (args.get(key) or "").strip()[:40] for name, key in
                  (("period", "period"), ("start", "from"), ("end", "to"), ("province", "province"),
                   ("commune", "commune"))}
        return cls(**values)

    def args(self) -> dict[str, str]:
        values = {"period": self.period, "from": self.start, "to": self.end, "province": self.province,
                  "commune": self.commune}
        return {k: v for k, v in values.items() if v}


def build(session: Session, actor: access.Actor, choice: Choice, language: str,
          now: datetime | None = None) -> tuple[st.Report | None, st.Scope | None]:
    """The report for `choice`, or (None, scope) with `choice.errors` filled. Forbidden propagates."""
    try:
        scope = st.resolve_scope(session, actor, choice.province or None, choice.commune or None)
    except NotFound as exc:
        choice.errors["commune" if choice.commune else "province"] = exc.message(language)
        return None, None
    except st.InvalidInput as exc:
        choice.errors[exc.field] = exc.message(language)
        return None, None
    try:
        period = st.resolve_period(choice.period or None, choice.start or None, choice.end or None,
                                   scope.province.code if scope.province else None)
    except st.InvalidInput as exc:
        choice.errors[exc.field] = exc.message(language)
        return None, scope
    steps = st.step_titles(engine().registry.current)
    return st.report(session, actor, period, choice.province or None, choice.commune or None, now=now,
                     steps=steps), scope



# -- the page ------------------------------------------------------------------------------------------------
def _bars(title: str, items: Iterable[tuple[str, int]], empty: str) -> Markup:
    return stacked_bars(title, [(label, (n,)) for label, n in items], [Series(_("Số lượng"), COLOURS["count"])],
                        empty_text=empty)


def _step_label(title_vi: str, title_en: str, language: str) -> str:
    """A step on a chart: its English, else the catalogue's, else the Vietnamese original marked in words (an SVG
    label takes no markup), as the pages mark an administrator's own untranslated step."""
    return labels.plain_original(labels.localized(title_vi, language, title_en))


def charts(report: st.Report, language: str) -> dict[str, Markup]:
    children = report.children
    none = _("Không có số liệu trong kỳ.")
    by_step: dict[str, list[int]] = {}
    for row in report.compliance:
        totals = by_step.setdefault(_step_label(row.title_vi, row.title_en, language), [0, 0, 0, 0])
        for index, value in enumerate((row.on_time, row.late, row.overdue, row.pending)):
            totals[index] += value
    compliance_series = [Series(_("Đúng hạn"), COLOURS["on_time"]), Series(_("Trễ hạn"), COLOURS["late"]),
                         Series(_("Đang quá hạn"), COLOURS["overdue"]), Series(_("Đang trong hạn"), COLOURS["pending"])]
    return {
        "sex": _bars(_("Trẻ em bị xâm hại theo giới tính"),
                     [(c.label(language), c.count) for c in children.by_sex], none),
        "age": _bars(_("Trẻ em bị xâm hại theo nhóm tuổi"),
                     [(c.label(language), c.count) for c in children.by_age], none),
        "environment": _bars(_("Trẻ em bị xâm hại theo môi trường"),
                             [(c.label(language), c.count) for c in children.by_environment], none),
        "form": _bars(_("Trẻ em bị xâm hại theo hình thức"),
                      [(c.label(language), c.count) for c in children.by_form], none),
        "ethnicity": _bars(_("Trẻ em bị xâm hại theo dân tộc"),
                           [(c.label(language), c.count) for c in children.by_ethnicity], none),
        "relationship": _bars(_("Trẻ em bị xâm hại theo quan hệ của người gây tổn hại"),
                              [(c.label(language), c.count) for c in children.by_relationship], none),
        "communes": _bars(_("Hồ sơ tiếp nhận theo xã/phường"),
                          [(r.commune_name or "", r.cases) for r in report.communes], none),
        "compliance": stacked_bars(_("Thực hiện thời hạn theo bước"), [(k, v) for k, v in by_step.items()],
                                   compliance_series, empty_text=none),
        "stages": _bars(_("Hồ sơ đang mở theo bước"),
                        [(_step_label(r.title_vi, r.title_en, language), r.cases) for r in report.stages],
                        _("Không có hồ sơ đang mở.")),
    }


def _options(actor: access.Actor, scope: st.Scope | None) -> dict[str, Any]:
    """Period, province and commune choices within the actor's scope."""
    province_code = scope.province.code if scope and scope.province else None
    year = clock.local(clock.now()).year
    periods = st.year_periods(range(year - YEARS_OFFERED + 1, year + 1), province_code)
    provinces: list[OrgUnit] = []
    if actor.province_id is None and actor.commune_id is None:
        provinces = list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "province").order_by(OrgUnit.name)))
    query = select(OrgUnit).where(OrgUnit.kind == "commune").order_by(OrgUnit.name)
    if actor.commune_id is not None:
        query = query.where(OrgUnit.id == actor.commune_id)
    elif actor.province_id is not None:
        query = query.where(OrgUnit.parent_id == actor.province_id)
    elif scope and scope.province:
        query = query.where(OrgUnit.parent_id == scope.province.id)
    else:
        query = query.where(false())  # a national reader picks a province first
    return {"periods": periods, "provinces": provinces, "communes": list(db.session.scalars(query))}


def period_option(period: st.Period, language: str) -> str:
    """A period in the dropdown: its name and due day, short enough for a phone's closed <select> (issue 17);
    the chosen period's dates head the report (exports.meta)."""
    text = period.label(language)
    if period.due:
        text += " · " + _("hạn %(d)s", d=vn_date(period.due))
    return text


@bp.route("")
def index() -> tuple[str, int]:
    actor = current_user.actor
    language = locale()
    choice = Choice.from_args(request.args)
    try:
        report, scope = build(db.session, actor, choice, language)
    except Forbidden as exc:
        return _error(exc.message(language), 403)
    status = 400 if choice.errors else 200
    context: dict[str, Any] = {"choice": choice, "report": report, "language": language,
                               "period_option": period_option, "fixed_commune": actor.commune_id is not None,
                               **_options(actor, scope)}
    if report is not None:
        if not choice.period and not choice.start and not choice.end:
            choice.period = report.period.id  # show the default period as chosen
        context.update(sections=sections(report, language), meta=meta(report, language),
                       notes=notes(report, language), charts=charts(report, language),
                       durations=[(d, duration(d.median_seconds) if d.median_seconds is not None else "—",
                                   duration(d.p90_seconds) if d.p90_seconds is not None else "—")
                                  for d in report.durations])
    return render_template("statistics/index.html", **context), status


@bp.route("/export.<fmt>")
def download(fmt: str) -> Any:
    if fmt not in FORMATS:
        return _error(_("Định dạng tải về không hợp lệ: chọn CSV, XLSX hoặc PDF."), 404)
    actor = current_user.actor
    language = locale()
    choice = Choice.from_args(request.args)
    try:
        report, _scope = build(db.session, actor, choice, language)
    except Forbidden as exc:
        return _error(exc.message(language), 403)
    except EngineError as exc:  # pragma: no cover - build reports input errors on the choice
        return _error(exc.message(language), exc.status)
    if report is None:
        return _error("; ".join(choice.errors.values()), 400)
    try:  # the confidentiality stamp of this file (Decree 56 Art. 24.3): ?level=&recipients=
        mark = stamp.choose("report", request.args.get("level"), request.args.get("recipients"), language)
    except EngineError as exc:
        return _error(exc.message(language), 400)
    body = export(report, fmt, language, made_by=current_user.full_name, mark=mark)
    audit_export(db.session, actor.username, report, fmt, "web", mark)
    return Response(body, headers={
        "Content-Type": FORMATS[fmt],
        "Content-Disposition": f'attachment; filename="{file_name(report, fmt)}"',
        "Cache-Control": "no-store",
    })

