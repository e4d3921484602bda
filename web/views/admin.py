"""Administration (Quản trị): users and roles, provinces and communes, process versions, the working-day calendar.

Administrators manage the system but never read case files. Every change is validated first (field errors in
Vietnamese, status 422, nothing saved) and written together with its audit row in one commit.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from typing import Any

import holidays
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import generate_password_hash

from engine import access, audit, case_migration, clock, lint, rescheduling, versions
from engine.authorities import AUTHORITIES_FILE, Authorities
from engine.calendar import CALENDAR_FILE, missing_years
from engine.errors import Conflict, InvalidState, NotFound
from engine.models import CalendarDay, Case, DataRequest, OrgUnit, ProcessVersion, User
from web import auth, engine, labels
from web.extensions import db
from web.gate import blueprint_gate
from web.pages import locale
from web.views.inspector import parse_vn_date

bp = Blueprint("admin", __name__, url_prefix="/admin")

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")
UNIT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")
EMAIL = re.compile(r"^[^@\s]{1,100}@[^@\s]{1,100}\.[^@\s]{2,60}$")
MIN_PASSWORD = 8
CALENDAR_AHEAD = 60
# A legal act named by its number: "12/2026/QH15", "Luật số 12/2026/QH15", "TB 9441/TB-BNV" (digits, then
# "/"-separated parts, somewhere in at most 100 characters).
LEGAL_ACT = re.compile(r"(?<![0-9A-Za-z])[0-9][0-9A-Za-zĐđ.-]*(/[0-9A-Za-zĐđ.-]+)+")
UNIT_RULE = access.UNIT_RULE  # which kind of unit each role must, may or must not belong to

bp.before_request(blueprint_gate(access.can_administer))


def _commit_with_audit(action: str, details: dict[str, Any]) -> None:
    audit.append(db.session, current_user.username, action, None, details)
    db.session.commit()


def _text(name: str, limit: int = 200) -> str:
    return (request.form.get(name) or "").strip()[: limit + 1]


def _no_control(value: str) -> bool:
    return not any(ord(ch) < 32 for ch in value)


def _legal_act(value: str) -> bool:
    return len(value) <= 100 and _no_control(value) and LEGAL_ACT.search(value) is not None


# -- overview ----------------------------------------------------------------------------------------
@bp.route("")
def index() -> str:
    counts = {
        "users": db.session.scalar(select(func.count()).select_from(User)) or 0,
        "locked": db.session.scalar(select(func.count()).select_from(User)
                                    .where(User.locked_until > clock.now())) or 0,
        "provinces": db.session.scalar(select(func.count()).select_from(OrgUnit)
                                       .where(OrgUnit.kind == "province")) or 0,
        "communes": db.session.scalar(select(func.count()).select_from(OrgUnit)
                                      .where(OrgUnit.kind == "commune")) or 0,
        "versions": db.session.scalar(select(func.count()).select_from(ProcessVersion)) or 0,
        "days": db.session.scalar(select(func.count()).select_from(CalendarDay)) or 0,
    }
    today = clock.local(clock.now()).date()
    return render_template("admin/index.html", counts=counts, today=today, privacy=_privacy_counts(),
                           authority_warnings_list=engine_authorities().warnings(today))


def _privacy_counts() -> dict[str, int]:
    """What waits for the data-protection staff (issue 18), shown on the administration's home page."""
    from engine import breaches, data_requests

    now = clock.now()
    return {"breaches_late": sum(1 for b in breaches.attention(db.session, now) if b.notify_due_at < now),
            "requests_late": len(data_requests.overdue(db.session, now)),
            "requests_open": db.session.scalar(select(func.count()).select_from(DataRequest)
                                               .where(DataRequest.status.in_(data_requests.OPEN))) or 0}


# -- users -------------------------------------------------------------------------------------------
def _units() -> list[OrgUnit]:
    return list(db.session.scalars(select(OrgUnit).order_by(OrgUnit.code)))


def _roles() -> list[tuple[str, str]]:
    return [(key, labels.role_label(key)) for key in access.ROLE_LABELS]


def _check_profile(data: dict[str, str], errors: dict[str, str]) -> tuple[str, OrgUnit | None]:
    """Validate full name, role, unit, e-mail and language; returns (role, unit)."""
    if not data["full_name"]:
        errors["full_name"] = _("Họ tên là bắt buộc.")
    elif len(data["full_name"]) > 200 or not _no_control(data["full_name"]):
        errors["full_name"] = _("Họ tên tối đa 200 ký tự, không có ký tự điều khiển.")
    role = data["role"]
    if role not in access.ROLE_LABELS:
        errors["role"] = _("Vai trò không hợp lệ.")
    unit: OrgUnit | None = None
    if data["unit"]:
        unit = db.session.get(OrgUnit, int(data["unit"])) if data["unit"].isdigit() else None
        if unit is None:
            errors["unit"] = _("Đơn vị không tồn tại.")
    if role in UNIT_RULE and "unit" not in errors:
        rule = UNIT_RULE[role]
        if rule == "commune" and (unit is None or unit.kind != "commune"):
            errors["unit"] = _("Vai trò này phải thuộc một xã/phường (phạm vi làm việc của họ).")
        elif rule == "any" and unit is None:
            errors["unit"] = _("Nơi tiếp nhận phải thuộc một tỉnh hoặc xã/phường.")
        elif rule == "province_or_none" and unit is not None and unit.kind != "province":
            errors["unit"] = _("Vai trò này thuộc một tỉnh (hoặc để trống để xem toàn quốc).")
        elif rule == "none" and unit is not None:
            errors["unit"] = _("Quản trị viên không thuộc đơn vị nào.")
    if data["email"] and (len(data["email"]) > 200 or not EMAIL.match(data["email"]) or not _no_control(data["email"])):
        errors["email"] = _("Địa chỉ e-mail không hợp lệ.")
    if data["locale"] not in ("vi", "en"):
        errors["locale"] = _("Ngôn ngữ không hợp lệ.")
    return role, unit


def _check_password(password: str, errors: dict[str, str], key: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        errors[key] = _("Mật khẩu phải có ít nhất %(n)s ký tự.", n=MIN_PASSWORD)
    elif len(password) > 200:
        errors[key] = _("Mật khẩu tối đa 200 ký tự.")


def _profile_input() -> dict[str, str]:
    return {"full_name": _text("full_name"), "role": _text("role", 16), "unit": _text("unit", 12),
            "email": _text("email"), "locale": _text("locale", 8) or "vi"}


@bp.route("/users")
def users() -> str:
    rows = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=rows, roles=dict(_roles()), now=clock.now())


@bp.route("/users/new", methods=["GET", "POST"])
def user_new() -> Any:
    errors: dict[str, str] = {}
    data = {"full_name": "", "role": access.NEW_USER_ROLE, "unit": "", "email": "", "locale": "vi", "username": ""}
    if request.method == "POST":
        data = {**_profile_input(), "username": _text("username", 80).lower()}
        password = request.form.get("password") or ""
        if not USERNAME.match(data["username"]):
            errors["username"] = _("Tên đăng nhập 3–80 ký tự: chữ thường không dấu, số, dấu chấm, gạch ngang, "
                                   "gạch dưới.")
        elif db.session.scalar(select(User.id).where(func.lower(User.username) == data["username"])):
            errors["username"] = _("Tên đăng nhập này đã có người dùng.")
        role, unit = _check_profile(data, errors)
        _check_password(password, errors)
        if not errors:
            user = User(username=data["username"], full_name=data["full_name"], role=role,
                        org_unit_id=unit.id if unit else None, email=data["email"] or None,
                        locale=data["locale"], active=True, failed_logins=0, created_at=clock.now(),
                        password_hash=generate_password_hash(password))
            db.session.add(user)
            try:
                db.session.flush()
                _commit_with_audit("user_created", {"username": user.username, "role": role,
                                                    "unit": unit.code if unit else None})
            except IntegrityError:
                db.session.rollback()
                errors["username"] = _("Tên đăng nhập này đã có người dùng.")
            else:
                flash(_("Đã tạo người dùng %(u)s.", u=user.username), "success")
                return redirect(url_for(".user_edit", user_id=user.id), code=303)
    return render_template("admin/user_form.html", user=None, data=data, errors=errors, units=_units(),
                           roles=_roles()), 422 if errors else 200


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _edit_page(user: User, data: dict[str, str], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    return render_template("admin/user_form.html", user=user, data=data, errors=errors, units=_units(),
                           roles=_roles(), now=clock.now(), open_sessions=len(auth.open_sessions(user.id))), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int) -> Any:
    user = _user_or_404(user_id)
    data = {"full_name": user.full_name, "role": user.role, "unit": str(user.org_unit_id or ""),
            "email": user.email or "", "locale": user.locale, "active": "1" if user.active else ""}
    if request.method == "GET":
        return _edit_page(user, data, {})
    errors: dict[str, str] = {}
    data = {**_profile_input(), "active": "1" if request.form.get("active") else ""}
    role, unit = _check_profile(data, errors)
    if user.id == current_user.id and (role != user.role or not data["active"]):
        # An administrator who demoted or disabled themselves could lock everyone out of this page.
        errors["role" if role != user.role else "active"] = _(
            "Bạn không thể tự đổi vai trò hoặc tự khoá tài khoản của chính mình.")
    if errors:
        return _edit_page(user, data, errors, 422)
    new = {"full_name": data["full_name"], "role": role, "org_unit_id": unit.id if unit else None,
           "email": data["email"] or None, "locale": data["locale"], "active": bool(data["active"])}
    changes = {k: [getattr(user, k), v] for k, v in new.items() if getattr(user, k) != v}
    if changes:
        for key, value in new.items():
            setattr(user, key, value)
        _commit_with_audit("user_updated", {"username": user.username, "changes": changes})
        flash(_("Đã lưu thay đổi của %(u)s.", u=user.username), "success")
    else:
        flash(_("Không có thay đổi nào."), "info")
    return redirect(url_for(".user_edit", user_id=user.id), code=303)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def user_password(user_id: int) -> Any:
    user = _user_or_404(user_id)
    password = request.form.get("new_password") or ""
    errors: dict[str, str] = {}
    _check_password(password, errors, "new_password")
    if password and password != (request.form.get("confirm_password") or ""):
        errors.setdefault("confirm_password", _("Hai lần nhập mật khẩu không khớp."))
    if errors:
        data = {"full_name": user.full_name, "role": user.role, "unit": str(user.org_unit_id or ""),
                "email": user.email or "", "locale": user.locale, "active": "1" if user.active else ""}
        return _edit_page(user, data, errors, 422)
    user.password_hash = generate_password_hash(password)
    user.failed_logins, user.locked_until = 0, None
    # Whoever was signed in with the old password is signed out (a reset often answers a suspected leak).
    ended = auth.end_sessions(user.id, current_user.username, "password")
    _commit_with_audit("password_reset", {"username": user.username, "sessions_ended": ended})
    flash(_("Đã đặt lại mật khẩu cho %(u)s.", u=user.username), "success")
    return redirect(url_for(".user_edit", user_id=user.id), code=303)


@bp.route("/users/<int:user_id>/sessions/end", methods=["POST"])
def user_sessions_end(user_id: int) -> Any:
    """Log a user out everywhere (a lost phone, a shared computer, someone leaving): every session ends."""
    user = _user_or_404(user_id)
    ended = auth.end_sessions(user.id, current_user.username, "admin")
    _commit_with_audit("sessions_ended", {"user": user.username, "sessions": ended, "reason": "admin"})
    flash(_("Đã đăng xuất %(u)s khỏi mọi thiết bị (%(n)s phiên).", u=user.username, n=ended), "success")
    return redirect(url_for(".user_edit", user_id=user.id), code=303)


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
def user_unlock(user_id: int) -> Any:
    user = _user_or_404(user_id)
    user.failed_logins, user.locked_until = 0, None
    _commit_with_audit("user_unlocked", {"username": user.username})
    flash(_("Đã mở khoá tài khoản %(u)s.", u=user.username), "success")
    return redirect(url_for(".user_edit", user_id=user.id), code=303)


# -- provinces and communes --------------------------------------------------------------------------
def _units_page(errors: dict[str, str] | None = None, data: dict[str, str] | None = None,
                rename_errors: dict[int, str] | None = None, rename_typed: dict[int, str] | None = None,
                status: int = 200) -> tuple[str, int]:
    units = _units()
    provinces = [u for u in units if u.kind == "province"]
    tree = [(p, [c for c in units if c.parent_id == p.id]) for p in provinces]
    orphans = [u for u in units if u.kind == "commune" and u.parent_id not in {p.id for p in provinces}]
    return render_template("admin/units.html", tree=tree, orphans=orphans, provinces=provinces,
                           errors=errors or {}, data=data or {"kind": "commune"},
                           rename_errors=rename_errors or {}, rename_typed=rename_typed or {}), status


def _check_name(name: str) -> str | None:
    if not name:
        return _("Tên đơn vị là bắt buộc.")
    if len(name) > 200 or not _no_control(name):
        return _("Tên tối đa 200 ký tự, không có ký tự điều khiển.")
    return None


@bp.route("/units", methods=["GET", "POST"])
def units() -> Any:
    if request.method == "GET":
        return _units_page()
    data = {"code": _text("code", 32).upper(), "name": _text("name"), "kind": _text("kind", 16),
            "parent": _text("parent", 12)}
    errors: dict[str, str] = {}
    if not UNIT_CODE.match(data["code"]):
        errors["code"] = _("Mã đơn vị 2–32 ký tự: chữ in hoa không dấu, số, gạch ngang (ví dụ T01-X03).")
    elif db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == data["code"])):
        errors["code"] = _("Mã đơn vị này đã tồn tại.")
    if message := _check_name(data["name"]):
        errors["name"] = message
    parent: OrgUnit | None = None
    if data["kind"] not in ("province", "commune"):
        errors["kind"] = _("Loại đơn vị không hợp lệ.")
    elif data["kind"] == "commune":
        parent = db.session.get(OrgUnit, int(data["parent"])) if data["parent"].isdigit() else None
        if parent is None or parent.kind != "province":
            errors["parent"] = _("Xã/phường phải thuộc một tỉnh.")
    if errors:
        return _units_page(errors, data, status=422)
    unit = OrgUnit(code=data["code"], name=data["name"], kind=data["kind"], parent_id=parent.id if parent else None)
    db.session.add(unit)
    try:
        db.session.flush()
        _commit_with_audit("unit_created", {"code": unit.code, "name": unit.name, "kind": unit.kind,
                                            "parent": parent.code if parent else None})
    except IntegrityError:
        db.session.rollback()
        return _units_page({"code": _("Mã đơn vị này đã tồn tại.")}, data, status=422)
    flash(_("Đã tạo đơn vị %(c)s.", c=unit.code), "success")
    return redirect(url_for(".units"), code=303)


@bp.route("/units/<int:unit_id>/rename", methods=["POST"])
def unit_rename(unit_id: int) -> Any:
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None:
        abort(404)
    name = _text("name")
    if message := _check_name(name):
        return _units_page(rename_errors={unit.id: message}, rename_typed={unit.id: name}, status=422)
    if name != unit.name:
        old, unit.name = unit.name, name
        _commit_with_audit("unit_renamed", {"code": unit.code, "old": old, "new": name})
        flash(_("Đã đổi tên đơn vị %(c)s.", c=unit.code), "success")
    return redirect(url_for(".units"), code=303)


# -- process versions --------------------------------------------------------------------------------
@bp.route("/processes")
def processes() -> str:
    return _processes_page()


def _processes_page(errors: dict[str, str] | None = None, findings: list[Any] | None = None,
                    status: int = 200) -> tuple[str, int]:
    active = versions.active_version(engine(), db.session)
    db.session.commit()  # the shipped file is recorded (and active) the first time anyone looks
    counts = dict(db.session.execute(
        select(Case.process_version_id, func.count()).group_by(Case.process_version_id)).all())
    open_counts = dict(db.session.execute(
        select(Case.process_version_id, func.count()).where(Case.status == "open")
        .group_by(Case.process_version_id)).all())
    rows = db.session.execute(
        select(ProcessVersion.id, ProcessVersion.process_id, ProcessVersion.content_hash, ProcessVersion.file_name,
               ProcessVersion.loaded_at, ProcessVersion.source, ProcessVersion.uploaded_by,
               ProcessVersion.activated_at, ProcessVersion.activated_by)
        .order_by(ProcessVersion.loaded_at.desc(), ProcessVersion.id.desc())
    ).all()
    current = engine().registry.for_version(db.session, active.id)
    scopes = versions.scopes(engine(), db.session)
    where: dict[int, list[str]] = {}  # version id → where new cases open on it
    for scope in scopes:
        where.setdefault(scope.version_id, []).append(scope.province.name if scope.province else _("toàn quốc"))
    return render_template("admin/processes.html", versions=rows, counts=counts, open_counts=open_counts,
                           current=current, active_id=active.id, errors=errors or {}, findings=findings or [],
                           max_kb=versions.MAX_BYTES // 1024, lang=locale(), scopes=scopes[1:], where=where), status


@bp.route("/processes/upload", methods=["POST"])
def process_upload() -> Any:
    upload = request.files.get("file")
    raw = upload.read(versions.MAX_BYTES + 1) if upload else b""
    try:
        result = versions.upload(engine(), db.session, current_user.username, raw,
                                 upload.filename if upload else "")
    except versions.UploadRefused as exc:
        db.session.rollback()
        return _processes_page(errors={exc.field: exc.message_en if locale() == "en" else exc.message_vi},
                               findings=exc.findings, status=422)
    if result.existed:
        flash(_("Tệp này đã được ghi nhận là phiên bản %(n)s.", n=result.version.id), "info")
    else:
        flash(_("Đã tải lên phiên bản %(n)s; kiểm tra không có lỗi. Xem khác biệt rồi kích hoạt.",
                n=result.version.id), "success")
    return redirect(url_for(".process_version", version_id=result.version.id), code=303)


def _version_page(version_id: int, migrate_errors: dict[str, str] | None = None,
                  outcomes: list[case_migration.Outcome] | None = None, data: dict[str, Any] | None = None,
                  status: int = 200, activate_errors: dict[str, str] | None = None,
                  scope: str = "") -> tuple[str, int]:
    row = db.session.get(ProcessVersion, version_id)
    if row is None:
        abort(404)
    active = versions.active_version(engine(), db.session)
    change = versions.diff_against_active(engine(), db.session, row.id)
    findings = lint.lint(row.bpmn.encode("utf-8"), row.file_name, engine().rules)
    db.session.commit()
    candidates = db.session.execute(
        select(Case.id, Case.number, Case.stage, Case.process_version_id)
        .where(Case.status == "open", Case.process_version_id != row.id).order_by(Case.id).limit(500)).all()
    where = [s.province.name if s.province else _("toàn quốc")
             for s in versions.scopes(engine(), db.session) if s.version_id == row.id]
    return render_template("admin/process_version.html", version=row, active_id=active.id, change=change,
                           findings=findings, candidates=candidates, errors=migrate_errors or {},
                           outcomes=outcomes, data=data or {"case_ids": [], "mapping": ""}, lang=locale(),
                           provinces=versions.provinces(db.session), where=where,
                           activate_errors=activate_errors or {}, scope=scope), status


@bp.route("/processes/<int:version_id>")
def process_version(version_id: int) -> tuple[str, int]:
    return _version_page(version_id)


@bp.route("/processes/<int:version_id>/activate", methods=["POST"])
def process_activate(version_id: int) -> Any:
    if db.session.get(ProcessVersion, version_id) is None:
        abort(404)
    scope = _text("scope", 32).upper()  # empty: the whole country; else a province's code
    province = db.session.scalar(select(OrgUnit).where(OrgUnit.code == scope, OrgUnit.kind == "province")) \
        if scope else None
    if scope and province is None:
        return _version_page(version_id, activate_errors={"scope": _("Hãy chọn toàn quốc hoặc một tỉnh có trong "
                                                                     "danh sách.")}, scope=scope, status=422)
    try:
        versions.activate(engine(), db.session, current_user.username, version_id, scope or None)
    except NotFound:
        abort(404)
    except InvalidState as exc:
        flash(exc.message(locale()), "error")
        return redirect(url_for(".process_version", version_id=version_id), code=303)
    if province is not None:
        flash(_("Phiên bản %(n)s đã được kích hoạt cho %(p)s: hồ sơ mới của tỉnh dùng phiên bản này; các tỉnh khác "
                "và hồ sơ đang xử lý không đổi.", n=version_id, p=province.name), "success")
    else:
        flash(_("Phiên bản %(n)s đã được kích hoạt: hồ sơ mới dùng phiên bản này; hồ sơ đang xử lý giữ phiên bản "
                "cũ.", n=version_id), "success")
    return redirect(url_for(".processes"), code=303)


@bp.route("/processes/provinces/<code>/national", methods=["POST"])
def process_follow_national(code: str) -> Any:
    """A province stops running its own version: its new cases open on the national version again."""
    try:
        province = versions.follow_national(engine(), db.session, current_user.username, code[:32])
    except NotFound:
        abort(404)
    except InvalidState as exc:
        flash(exc.message(locale()), "error")
        return redirect(url_for(".processes"), code=303)
    flash(_("%(p)s dùng lại phiên bản toàn quốc cho hồ sơ mới.", p=province.name), "success")
    return redirect(url_for(".processes"), code=303)


@bp.route("/processes/<int:version_id>/migrate", methods=["POST"])
def process_migrate(version_id: int) -> tuple[str, int]:
    if db.session.get(ProcessVersion, version_id) is None:
        abort(404)
    raw_ids = request.form.getlist("case_ids")
    mapping_text = request.form.get("mapping", "")[:5000]
    data = {"case_ids": raw_ids, "mapping": mapping_text}
    errors: dict[str, str] = {}
    if not raw_ids:
        errors["case_ids"] = _("Hãy chọn ít nhất một hồ sơ.")
    elif not all(i.isdigit() and len(i) < 12 for i in raw_ids):
        errors["case_ids"] = _("Danh sách hồ sơ không hợp lệ.")
    try:
        mapping = case_migration.parse_mapping(mapping_text)
    except ValueError as exc:
        errors["mapping"] = _("Mỗi dòng phải có dạng MÃ_CŨ=MÃ_MỚI: %(l)s", l=str(exc))
        mapping = {}
    if errors:
        return _version_page(version_id, migrate_errors=errors, data=data, status=422)
    actor = current_user.actor
    outcomes = case_migration.migrate(engine(), db.session, actor, sorted({int(i) for i in raw_ids}), version_id,
                                      mapping)
    return _version_page(version_id, outcomes=outcomes, data=data)


# -- authorities (who decides what, dated) -----------------------------------------------------------
def engine_authorities() -> Authorities:
    """The dated assignments, read from the data file each time (a few lines; an edit shows at once)."""
    return Authorities.load()


@bp.route("/authorities")
def authorities() -> str:
    today = clock.local(clock.now()).date()
    config = engine_authorities()
    rows = [(a, a.state(today, config.warn_days)) for a in config.assignments]
    return render_template("admin/authorities.html", rows=rows, today=today, warn_days=config.warn_days,
                           authority_warnings_list=config.warnings(today),
                           data_file=AUTHORITIES_FILE.relative_to(AUTHORITIES_FILE.parents[1]))


# -- working-day calendar ----------------------------------------------------------------------------
def _calendar_page(errors: dict[str, str] | None = None, data: dict[str, str] | None = None,
                   status: int = 200, confirm: dict[str, Any] | None = None,
                   problem: str | None = None) -> tuple[str, int]:
    calendar = engine().calendar
    today = clock.local(clock.now()).date()
    # The engine's calendar names holidays in English; the page shows them in its own language.
    names = holidays.country_holidays("VN", language="en_US" if locale() == "en" else "vi")
    rows = db.session.scalars(select(CalendarDay).order_by(CalendarDay.day)).all()
    recorded = {r.day: r for r in rows}
    ahead = []
    for offset in range(CALENDAR_AHEAD):
        day = today + timedelta(days=offset)
        holiday = calendar.holiday_name(day)
        if holiday and day not in calendar.days_off:
            holiday = names.get(day) or holiday
        ahead.append({"day": day, "working": calendar.is_working_day(day), "holiday": holiday,
                      "weekend": day.weekday() >= 5, "recorded": recorded.get(day)})
    # Listed by the package but not enacted: working days until the act is recorded (processes/calendar/vn.toml).
    culture = [(date(y, 11, 24), calendar.is_working_day(date(y, 11, 24)), recorded.get(date(y, 11, 24)))
               for y in (today.year, today.year + 1) if y >= 2026]
    return render_template("admin/calendar.html", rows=rows, ahead=ahead, culture=culture, errors=errors or {},
                           data=data or {"working": "off"}, confirm=confirm, problem=problem,
                           missing=missing_years([today.year, today.year + 1]),
                           data_file=CALENDAR_FILE.relative_to(CALENDAR_FILE.parents[2])), status


def _confirmation(moves: list[rescheduling.Move], **form: Any) -> dict[str, Any]:
    """What the administrator confirms: the change and how many open steps' limits it moves, by step."""
    titles = {key: labels.title_of(s) for key, s in labels.offered_steps().items()}
    by_step = Counter(titles.get(m.step, m.title) for m in moves)
    return {"count": len(moves), "by_step": sorted(by_step.items()), **form}


def _changed(day: date, moves: list[rescheduling.Move], saved: str) -> Any:
    flash(saved, "success")
    if moves:
        flash(_("%(n)s bước đang mở đã đổi thời hạn theo ngày %(d)s.", n=len(moves), d=day.strftime("%d/%m/%Y")),
              "success")
    return redirect(url_for(".calendar"), code=303)


@bp.route("/calendar", methods=["GET", "POST"])
def calendar() -> Any:
    if request.method == "GET":
        return _calendar_page()
    data = {"day": _text("day", 10), "working": _text("working", 8), "note": _text("note"), "act": _text("act", 100)}
    errors: dict[str, str] = {}
    day = parse_vn_date(data["day"])
    if day is None or not 2000 <= day.year <= 2100:
        errors["day"] = _("Ngày không hợp lệ (dd/mm/yyyy).")
    elif data["working"] == "off" and engine().calendar.unenacted_holiday(day) and not _legal_act(data["act"]):
        # 24/11 is a working day until the legal act that makes it a holiday is recorded, with its number.
        errors["act"] = _("Ngày %(d)s chỉ là ngày nghỉ khi có văn bản quy định: hãy ghi số hiệu văn bản "
                          "(ví dụ 12/2026/QH15).", d=day.strftime("%d/%m/%Y"))
    if data["act"] and "act" not in errors and not _legal_act(data["act"]):
        errors["act"] = _("Số hiệu văn bản không hợp lệ (ví dụ 12/2026/QH15, 9441/TB-BNV).")
    elif db.session.get(CalendarDay, day) is not None:
        errors["day"] = _("Ngày này đã có trong danh sách; hãy xoá dòng cũ trước khi khai báo lại.")
    if data["working"] not in ("off", "working"):
        errors["working"] = _("Hãy chọn ngày nghỉ hoặc ngày làm việc.")
    if not data["note"]:
        errors["note"] = _("Ghi chú (căn cứ, văn bản thông báo) là bắt buộc.")
    elif len(data["note"]) > 200 or not _no_control(data["note"]):
        errors["note"] = _("Ghi chú tối đa 200 ký tự, không có ký tự điều khiển.")
    if errors or day is None:
        return _calendar_page(errors, data, 422)
    working = data["working"] == "working"
    # Open steps whose limit the day changes are shown first; the change is made only once confirmed.
    if request.form.get("confirm") != "1":
        moves = rescheduling.preview(engine(), db.session, day, working)
        if moves:
            return _calendar_page(data=data, confirm=_confirmation(moves, action="add", day=day, working=working,
                                                                   form=data))
    try:
        moves = rescheduling.change_day(engine(), db.session, current_user.username, day, working, data["note"],
                                        act=data["act"] or None)
    except (InvalidState, IntegrityError):  # declared meanwhile by another administrator
        return _calendar_page({"day": _("Ngày này đã có trong danh sách; hãy xoá dòng cũ trước khi khai báo lại.")},
                              data, 422)
    except Conflict:
        return _calendar_page(data=data, status=409, problem=_(
            "Một hồ sơ vừa được cập nhật trong lúc đổi thời hạn; chưa có gì được lưu. Hãy gửi lại."))
    return _changed(day, moves, _("Đã lưu ngày %(d)s.", d=day.strftime("%d/%m/%Y")))


@bp.route("/calendar/<day>/delete", methods=["POST"])
def calendar_delete(day: str) -> Any:
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        abort(404)
    row = db.session.get(CalendarDay, parsed)
    if row is None:
        abort(404)
    if request.form.get("confirm") != "1":
        moves = rescheduling.preview(engine(), db.session, parsed, None)
        if moves:
            return _calendar_page(confirm=_confirmation(moves, action="delete", day=parsed, working=row.working))
    try:
        moves = rescheduling.change_day(engine(), db.session, current_user.username, parsed, None)
    except NotFound:  # deleted meanwhile by another administrator
        abort(404)
    except Conflict:
        return _calendar_page(status=409, problem=_(
            "Một hồ sơ vừa được cập nhật trong lúc đổi thời hạn; chưa có gì được lưu. Hãy gửi lại."))
    return _changed(parsed, moves, _("Đã xoá ngày %(d)s khỏi danh sách.", d=parsed.strftime("%d/%m/%Y")))
