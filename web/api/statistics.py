"""GET /statistics: the figures of engine.statistics (indicator 0101, categories, units, compliance, durations,
stages) for a period, within the caller's scope — the same report as the statistics page and the CLI."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import RAISE
from sqlalchemy import select

from engine import access, audit
from engine import statistics as st
from engine.models import OrgUnit
from web import engine
from web.api.common import ApiError, _, actor, locale
from web.api.schemas import StatisticsArgs, StatisticsSchema
from web.extensions import db
from web.gate import gate

bp = Blueprint("api_statistics", __name__, description="Thống kê (Thông tư 13/2021/TT-BLĐTBXH) / statistics")


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", _("Dữ liệu không hợp lệ; không có thay đổi nào được lưu."),
                    {field: [message]})


@bp.route("/statistics", methods=["GET"])
@bp.arguments(StatisticsArgs, location="query", unknown=RAISE)
@bp.response(200, StatisticsSchema)
@bp.alt_response(403, response="FORBIDDEN")
@gate(access.can_view_statistics)
def statistics(args: dict[str, Any]) -> Any:
    """Số liệu thống kê của kỳ / the period's figures (officers and chairmen: their commune; supervisors and
    inspectors: their province). Each request is audited like an export."""
    who = actor()
    for field, kind in (("province", "province"), ("commune", "commune")):
        code = args.get(field)
        if code and db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code, OrgUnit.kind == kind)) is None:
            raise _invalid(field, _("Không có đơn vị với mã này."))
    try:
        data = st.report_dict(db.session, who, args.get("period"), start=args.get("from_"), end=args.get("to"),
                              province=args.get("province"), commune=args.get("commune"),
                              steps=st.step_titles(engine().registry.current))
    except st.InvalidInput as error:
        raise _invalid(error.field, error.message(locale())) from None
    audit.append(db.session, who.username, "statistics_export", None, {
        "format": "json", "period": data["period"]["id"], "channel": "api",
        "province": (data["scope"]["province"] or {}).get("code"),
        "commune": (data["scope"]["commune"] or {}).get("code"),
    })
    db.session.commit()
    return data
