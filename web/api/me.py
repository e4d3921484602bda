"""GET /me: whose token this is, their role and unit (lets an integration check its set-up)."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_smorest import Blueprint

from web.api.common import locale, user
from web.api.schemas import MeSchema
from web.labels import role_label

bp = Blueprint("api_me", __name__, description="Người dùng của mã truy cập / the token's user")


@bp.route("/me", methods=["GET"])
@bp.response(200, MeSchema)
def me() -> Any:
    """Người dùng, vai trò và đơn vị của mã truy cập / the token's user, role and unit."""
    person = user()
    return {
        "username": person.username, "full_name": person.full_name, "role": person.role,
        "role_label": role_label(person.role, locale()),
        "unit": person.org_unit.code if person.org_unit else None,
        "unit_name": person.org_unit.name if person.org_unit else None,
        "locale": locale(), "token_prefix": g.api_token.prefix, "token_expires_at": g.api_token.expires_at,
    }
