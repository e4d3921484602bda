"""Administration of personal-data obligations on case records (issue 18): restriction of processing on an
authority's request (engine.restriction), legal holds and the two-person destruction past retention
(engine.retention). Administrators know a case by its number only; they never read its file here.

Every form is validated first (field errors in Vietnamese, status 400, nothing saved); every change is one
commit with its audit row. A row another administrator handled meanwhile (lifted, released, decided) is no longer
where the form was: whatever the refusal, the page says so in its error summary (status 409, nothing changed).
The case page shows the restriction and what was destroyed (`case_privacy`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from engine import access, restriction, retention
from engine.errors import EngineError, FieldErrors, InvalidState
from engine.models import Case, CaseRestriction, Destruction, LegalHold
from web import attachments as storage
from web import engine
from web.extensions import db
from web.gate import gate
from web.pages import locale, refuse

bp = Blueprint("records", __name__, url_prefix="/admin")


def policy() -> retention.Policy:
    """The retention policy file (CASE56_RETENTION_FILE, else processes/retention.toml), read per request so
    an edit is seen without a restart."""
    return retention.Policy.load(current_app.config.get("CASE56_RETENTION_FILE") or None)


def _form() -> dict[str, str]:
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


def _case_id(errors: dict[str, str]) -> int | None:
    try:
        return restriction.find_case(db.session, request.form.get("case_number")).id
    except FieldErrors as exc:
        errors.update(exc.by_field(locale()))
        return None


# -- restriction of processing -------------------------------------------------------------------------------

def _restrictions_page(errors: dict[str, str] | None = None, data: dict[str, str] | None = None,
                       status: int = 200, handled: int | None = None) -> tuple[str, int]:
    """`handled`: the restriction a refused lift was about, lifted meanwhile (its message is errors["handled"])."""
    rows = restriction.history(db.session)
    return render_template("admin/restrictions.html", active=[r for r in rows if r[0].lifted_at is None],
                           lifted=[r for r in rows if r[0].lifted_at is not None][:50],
                           errors=errors or {}, data=data or {}, handled=handled), status


def _case_number(case_id: int) -> str:
    case = db.session.get(Case, case_id)
    return case.number if case is not None else str(case_id)


@bp.route("/restrictions")
@gate(access.can_restrict_processing)
def restrictions() -> tuple[str, int]:
    return _restrictions_page()


@bp.route("/restrictions", methods=["POST"])
@gate(access.can_restrict_processing)
def restrict() -> Any:
    data = _form()
    errors: dict[str, str] = {}
    case_id = _case_id(errors)
    try:
        if case_id is None:
            # The other fields are checked too, so every mistake is reported at once.
            restriction.restrict(db.session, current_user.actor, -1, data)
        else:
            row = restriction.restrict(db.session, current_user.actor, case_id, data)
    except FieldErrors as exc:
        errors.update(exc.by_field(locale()))
    except EngineError as exc:
        if not errors:
            errors["case_number"] = exc.message(locale())
    if errors:
        return _restrictions_page(errors, data, 400)
    flash(_("Đã ghi nhận yêu cầu hạn chế xử lý hồ sơ %(n)s.", n=data.get("case_number", "").strip()), "success")
    return redirect(url_for("records.restrictions") + f"#r{row.id}")


@bp.route("/restrictions/<int:restriction_id>/lift", methods=["POST"])
@gate(access.can_restrict_processing)
def lift(restriction_id: int) -> Any:
    try:
        restriction.lift(db.session, current_user.actor, restriction_id, _form())
    except (FieldErrors, InvalidState) as exc:
        row = db.session.get(CaseRestriction, restriction_id)
        if row is not None and row.lifted_at is not None:  # lifted meanwhile: its form is gone from the page
            message = _("Hạn chế xử lý hồ sơ %(n)s đã được gỡ (bởi %(who)s); không có thay đổi nào được lưu.",
                        n=_case_number(row.case_id), who=row.lifted_by)
            return _restrictions_page({"handled": message}, None, 409, handled=restriction_id)
        if not isinstance(exc, FieldErrors):
            return refuse(exc)
        # No data: the typed lift reason must not refill the new-restriction form's own "Lý do".
        return _restrictions_page({f"lift-{restriction_id}": exc.by_field(locale())["reason"]}, None, 400)
    except EngineError as exc:
        return refuse(exc)
    flash(_("Đã gỡ hạn chế xử lý."), "success")
    return redirect(url_for("records.restrictions"))


# -- retention, legal hold, destruction ----------------------------------------------------------------------

def _retention_page(errors: dict[str, str] | None = None, data: dict[str, str] | None = None,
                    status: int = 200, handled: str | None = None) -> tuple[str, int]:
    """`handled`: the id on the page a refused row action links to, its row handled meanwhile (errors["handled"])."""
    current = policy()
    holds = db.session.execute(select(LegalHold, Case.number).join(Case, Case.id == LegalHold.case_id)
                               .where(LegalHold.released_at.is_(None)).order_by(LegalHold.id.desc())).all()
    due = retention.eligible(db.session, current)
    return render_template("admin/retention.html", policy=current, record_types=retention.RECORD_TYPES,
                           holds=holds, eligible=due, destructions=retention.history(db.session),
                           me=current_user.username, errors=errors or {}, data=data or {}, handled=handled), status


def _decided(destruction_id: int) -> tuple[str, int] | None:
    """The retention page saying the destruction request was decided meanwhile, or None while it is pending."""
    row = db.session.get(Destruction, destruction_id)
    if row is None or row.status == "requested":
        return None
    message = (_("Đề nghị huỷ số %(n)s đã được %(who)s xác nhận; không có thay đổi nào được lưu.", n=row.id,
                 who=row.decided_by) if row.status == "done" else
               _("Đề nghị huỷ số %(n)s đã được %(who)s huỷ bỏ; không có thay đổi nào được lưu.", n=row.id,
                 who=row.decided_by))
    return _retention_page({"handled": message}, None, 409, handled=f"d{row.id}")


@bp.route("/retention")
@gate(access.can_manage_retention)
def retention_index() -> tuple[str, int]:
    return _retention_page()


@bp.route("/retention/holds", methods=["POST"])
@gate(access.can_manage_retention)
def hold() -> Any:
    data = _form()
    errors: dict[str, str] = {}
    case_id = _case_id(errors)
    try:
        retention.place_hold(db.session, current_user.actor, case_id if case_id is not None else -1, data)
    except FieldErrors as exc:
        errors.update(exc.by_field(locale()))
    except EngineError as exc:
        if not errors:
            errors["case_number"] = exc.message(locale())
    if errors:
        return _retention_page({f"hold_{k}": v for k, v in errors.items()}, data, 400)
    flash(_("Đã phong toả hồ sơ %(n)s: không được huỷ cho đến khi gỡ phong toả.",
            n=data.get("case_number", "").strip()), "success")
    return redirect(url_for("records.retention_index"))


@bp.route("/retention/holds/<int:hold_id>/release", methods=["POST"])
@gate(access.can_manage_retention)
def release(hold_id: int) -> Any:
    try:
        retention.release_hold(db.session, current_user.actor, hold_id, _form())
    except (FieldErrors, InvalidState) as exc:
        hold = db.session.get(LegalHold, hold_id)
        if hold is not None and hold.released_at is not None:  # released meanwhile: no longer listed
            message = _("Lệnh phong toả hồ sơ %(n)s đã được gỡ (bởi %(who)s); không có thay đổi nào được lưu.",
                        n=_case_number(hold.case_id), who=hold.released_by)
            return _retention_page({"handled": message}, None, 409, handled="h-holds")
        if not isinstance(exc, FieldErrors):
            return refuse(exc)
        return _retention_page({f"release-{hold_id}": exc.by_field(locale())["reason"]}, _form(), 400)
    except EngineError as exc:
        return refuse(exc)
    flash(_("Đã gỡ phong toả."), "success")
    return redirect(url_for("records.retention_index"))


@bp.route("/retention/destructions", methods=["POST"])
@gate(access.can_manage_retention)
def destruction_request() -> Any:
    try:
        row = retention.request(db.session, current_user.actor, policy(), _form())
    except FieldErrors as exc:
        return _retention_page({f"destroy_{k}": v for k, v in exc.by_field(locale()).items()}, _form(), 400)
    except EngineError as exc:
        return refuse(exc)
    flash(_("Đã đề nghị huỷ %(n)s hồ sơ; một quản trị viên khác phải xác nhận.", n=len(row.cases["ids"])), "success")
    return redirect(url_for("records.retention_index") + f"#d{row.id}")


@bp.route("/retention/destructions/<int:destruction_id>/confirm", methods=["POST"])
@gate(access.can_manage_retention)
def destruction_confirm(destruction_id: int) -> Any:
    try:
        row, files = retention.confirm(engine(), db.session, current_user.actor, policy(), destruction_id, _form())
    except (FieldErrors, InvalidState) as exc:
        if (decided := _decided(destruction_id)) is not None:
            return decided
        if not isinstance(exc, FieldErrors):
            return refuse(exc)
        return _retention_page({f"confirm-{destruction_id}": exc.by_field(locale())["note"]}, _form(), 400)
    except EngineError as exc:
        return refuse(exc)
    root = current_app.config["CASE56_ATTACHMENTS"]
    for sha256 in files:  # after the commit: a crash here leaves a sealed file nobody names, never a gap
        storage.remove(root, sha256)
    flash(_("Đã huỷ nội dung của %(n)s hồ sơ; số hồ sơ, ngày tháng và số liệu thống kê được giữ lại.",
            n=len(row.result["destroyed"]) if row.result else 0), "success")
    return redirect(url_for("records.retention_index") + f"#d{row.id}")


@bp.route("/retention/destructions/<int:destruction_id>/cancel", methods=["POST"])
@gate(access.can_manage_retention)
def destruction_cancel(destruction_id: int) -> Any:
    try:
        retention.cancel(db.session, current_user.actor, destruction_id, _form())
    except (FieldErrors, InvalidState) as exc:
        if (decided := _decided(destruction_id)) is not None:
            return decided
        if not isinstance(exc, FieldErrors):
            return refuse(exc)
        return _retention_page({f"cancel-{destruction_id}": exc.by_field(locale())["note"]}, _form(), 400)
    except EngineError as exc:
        return refuse(exc)
    flash(_("Đã huỷ bỏ yêu cầu huỷ hồ sơ; không có gì bị huỷ."), "success")
    return redirect(url_for("records.retention_index"))


# -- on the case page ----------------------------------------------------------------------------------------

@bp.app_context_processor
def _case_privacy() -> dict[str, Any]:
    def case_privacy(case: Case) -> dict[str, Any]:
        """The restriction in force and what was destroyed, for the banner on a case page."""
        return {"restriction": restriction.active(db.session, case.id),
                "destroyed": retention.tombstone_of(db.session, case.id)}

    return {"case_privacy": case_privacy}
