"""New report (Mẫu số 01, Art. 25): intake points and commune officers record a report and open its case.

The commune picker offers only the communes the person may open cases for (`access.can_open_case`); the
case is opened by `Engine.open_case`, which validates the form again and numbers the case.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

import forms
import web
from engine import access, children, clock
from engine.errors import Conflict, EngineError, FieldErrors, Forbidden, NotFound
from engine.models import Case, OrgUnit
from web import formrender
from web.extensions import db
from web.gate import REFUSALS, gate
from web.pages import locale, refuse, report_prefill

bp = Blueprint("reports", __name__)
bp.record_once(lambda state: formrender.install(state.app))
HIDDEN = frozenset({"commune_code", "incident_commune"})  # both set from the commune picker (Art. 26.1)


def _communes(actor: access.Actor) -> list[OrgUnit]:
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "commune").order_by(OrgUnit.name))
    return [u for u in units if access.can_open_case(actor, u)]


def residence_choices() -> list[tuple[str, str]]:
    """Every commune, for the child's residence: it may lie outside the recorder's scope (Law Art. 52.2)."""
    rows = db.session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.kind == "commune")
                              .order_by(OrgUnit.name, OrgUnit.code)).all()
    return [(code, f"{name} ({code})") for code, name in rows]


@bp.route("/reports/new", methods=["GET", "POST"])
@login_required
@gate(access.can_record_reports)
def new():
    actor: access.Actor = current_user.actor
    communes = _communes(actor)
    if not communes:
        return refuse(Forbidden(*REFUSALS[access.can_record_reports]))
    loc = locale()
    description = formrender.describe("mau_01", locale=loc, hide=HIDDEN,
                                      choices={"residence_commune": residence_choices()})
    fields = description["fields"]
    errors: dict[str, Any] = {}
    commune = communes[0].code if len(communes) == 1 else ""
    conflict = None
    status = 200
    duplicates: list[children.Candidate] = []
    checked = ""
    if request.method == "POST":
        values = formrender.parse(fields, request.form)
        commune = (request.form.get("_commune") or "").strip()[:32]
        if commune not in {u.code for u in communes}:
            errors["_commune"] = [_("Hãy chọn xã/phường nơi xảy ra vụ việc.")]
        clean: dict[str, Any] = {}
        try:
            clean = forms.validate("mau_01", values, locale=loc)
        except forms.FormError as exc:
            errors.update(exc.errors)
        same_child_of, checked, duplicates, problem = _same_child(actor, clean, commune, communes)
        if problem:
            errors["_same_child"] = [problem]
        if errors:
            status = 422
        elif duplicates and same_child_of is None and checked != request.form.get("_duplicates_checked"):
            status = 200  # shown once for this child: intake says whether it is the same child
        else:
            try:
                case = web.engine().open_case(db.session, actor, commune,
                                              {**values, "commune_code": commune, "incident_commune": commune},
                                              locale=loc, same_child_of=same_child_of)
            except FieldErrors as exc:
                errors, status = {"_same_child": list(exc.by_field(loc).values())}, 422
            except forms.FormError as exc:
                errors, status = exc.errors, 422
            except Conflict as exc:
                conflict, status = exc.message(loc), 409
            except EngineError as exc:
                return refuse(exc)
            else:
                return redirect(url_for(".created", case_id=case.id))
    else:
        values = formrender.to_inputs(fields, report_prefill())
    items = formrender.summary(fields, {k: v for k, v in errors.items() if k != "_commune"})
    if errors.get("_commune"):
        items.insert(0, (formrender.field_id("_commune"), _("Xã/phường"), errors["_commune"][0]))
    if errors.get("_same_child"):
        items.insert(0, ("duplicates", _("Trẻ đã có hồ sơ?"), errors["_same_child"][0]))
    return render_template("reports/new.html", form=description, values=values, errors=errors,
                           error_items=items, communes=communes, commune=commune, conflict=conflict,
                           duplicates=duplicates, duplicates_checked=checked,
                           can_reopen=lambda case: access.can_manage_case(actor, case)), status


def _same_child(actor: access.Actor, clean: dict[str, Any], commune: str, communes: list[OrgUnit]
                ) -> tuple[int | None, str, list[children.Candidate], str | None]:
    """Possible earlier cases of the report's child (engine.children.candidates) and intake's answer:
    (the case chosen as the same child, the key of the child checked, the candidates, a problem with the answer).
    The key (folded name and birth year) shows the candidates again when the name or birth changed since."""
    unit = next((u for u in communes if u.code == commune), None)
    if unit is None or not clean:
        return None, "", [], None
    found = children.candidates(db.session, actor, {**clean, "incident_commune": commune}, unit.id)
    values = children.row_values(clean, clock.now())
    checked = f"{values['name_search']}|{values['birth_year'] or ''}"
    answer = (request.form.get("_same_child") or "").strip()
    if not found or answer in ("", "new"):
        if found and answer == "" and request.form.get("_duplicates_checked") == checked:
            return None, checked, found, _("Hãy chọn: cùng trẻ với một hồ sơ đã có, hoặc một trẻ khác.")
        return None, checked, found, None
    if answer.isdigit() and int(answer) in {c.case.id for c in found}:
        return int(answer), checked, found, None
    return None, checked, found, _("Hãy chọn một hồ sơ trong danh sách, hoặc một trẻ khác.")


@bp.route("/reports/<int:case_id>")
@login_required
def created(case_id: int):
    """The number given to a report just recorded (no child data on this page)."""
    actor: access.Actor = current_user.actor
    case = db.session.get(Case, case_id)
    if case is None or not access.can_read_case(actor, case):
        return refuse(NotFound("Không tìm thấy hồ sơ.", "No such case."))
    unit = db.session.get(OrgUnit, case.commune_id)
    return render_template("reports/created.html", case=case, unit=unit)
