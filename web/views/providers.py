"""Administration: the registry of child-protection service providers (Cơ sở cung cấp dịch vụ bảo vệ trẻ em).

A plan (Mẫu 04) names the providers it mobilises (Decree 56 Art. 28.3.c) from this registry, per province or
commune. Administrators list, add, edit, deactivate and reactivate providers (never delete: stored plans keep
naming them). Input is checked by `engine.providers.save` (field errors, status 422, nothing saved); each change
is written with its audit row in one commit.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine import access, providers
from engine.models import OrgUnit, ServiceProvider
from forms.kit.choices import ServiceType
from web.extensions import db
from web.gate import blueprint_gate
from web.pages import locale

bp = Blueprint("providers", __name__, url_prefix="/admin/providers")
bp.before_request(blueprint_gate(access.can_manage_providers))
FIELDS = ("code", "name", "service_type", "address", "contact", "unit")
SHOWN = ("all", "active", "inactive")


def _units() -> list[tuple[OrgUnit, list[OrgUnit]]]:
    """Provinces with their communes, for the scope select and the filter."""
    units = list(db.session.scalars(select(OrgUnit).order_by(OrgUnit.code)))
    return [(p, [c for c in units if c.parent_id == p.id]) for p in units if p.kind == "province"]


def _types() -> list[tuple[str, str]]:
    return ServiceType.items(locale())


def _input() -> dict[str, str]:
    return {key: (request.form.get(key) or "")[:1000] for key in FIELDS}


@bp.route("")
def index() -> str:
    province = request.args.get("province", "")
    shown = request.args.get("shown", "all")
    shown = shown if shown in SHOWN else "all"
    query = select(ServiceProvider).join(OrgUnit, OrgUnit.id == ServiceProvider.unit_id)
    tree = _units()
    chosen = next((p for p, _c in tree if str(p.id) == province), None)
    if chosen is not None:
        query = query.where((OrgUnit.id == chosen.id) | (OrgUnit.parent_id == chosen.id))
    if shown != "all":
        query = query.where(ServiceProvider.active.is_(shown == "active"))
    rows = db.session.scalars(query.order_by(ServiceProvider.code)).all()
    return render_template("admin/providers.html", providers=rows, tree=tree, province=chosen, shown=shown,
                           types=dict(_types()))


def _form_page(provider: ServiceProvider | None, data: dict[str, str], errors: dict[str, str],
               status: int = 200) -> tuple[str, int]:
    return render_template("admin/provider_form.html", provider=provider, data=data, errors=errors,
                           tree=_units(), types=_types()), status


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    if request.method == "GET":
        return _form_page(None, {key: "" for key in FIELDS} | {"service_type": "counselling"}, {})
    data = _input()
    try:
        provider = providers.save(db.session, current_user.username, data, locale=locale())
        db.session.commit()
    except providers.Invalid as invalid:
        db.session.rollback()
        return _form_page(None, data, invalid.errors, 422)
    except IntegrityError:  # the same code added at the same moment by another administrator
        db.session.rollback()
        return _form_page(None, data, {"code": providers.message("code_taken", locale())}, 422)
    flash(_("Đã thêm cơ sở cung cấp dịch vụ %(c)s.", c=provider.code), "success")
    return redirect(url_for(".index"), code=303)


def _provider_or_404(provider_id: int) -> ServiceProvider:
    provider = db.session.get(ServiceProvider, provider_id)
    if provider is None:
        abort(404)
    return provider


@bp.route("/<int:provider_id>", methods=["GET", "POST"])
def edit(provider_id: int) -> Any:
    provider = _provider_or_404(provider_id)
    if request.method == "GET":
        data = {"code": provider.code, "name": provider.name, "service_type": provider.service_type,
                "address": provider.address, "contact": provider.contact, "unit": str(provider.unit_id)}
        return _form_page(provider, data, {})
    data = {**_input(), "code": provider.code}
    try:
        providers.save(db.session, current_user.username, data, provider, locale=locale())
        db.session.commit()
    except providers.Invalid as invalid:
        db.session.rollback()
        return _form_page(db.session.get(ServiceProvider, provider_id), data, invalid.errors, 422)
    flash(_("Đã lưu cơ sở cung cấp dịch vụ %(c)s.", c=provider.code), "success")
    return redirect(url_for(".index"), code=303)


@bp.route("/<int:provider_id>/active", methods=["POST"])
def set_active(provider_id: int) -> Any:
    provider = _provider_or_404(provider_id)
    wanted = request.form.get("active")
    if wanted not in ("true", "false"):
        abort(400)
    if providers.set_active(db.session, current_user.username, provider, wanted == "true"):
        db.session.commit()
        flash(_("Đã cho cơ sở %(c)s hoạt động trở lại.", c=provider.code) if provider.active else
              _("Đã ngừng cơ sở %(c)s: kế hoạch mới không chọn được cơ sở này; kế hoạch đã lưu vẫn giữ tên.",
                c=provider.code), "success")
    return redirect(url_for(".index"), code=303)
