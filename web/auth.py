"""Log-in, log-out and the signed-in user (Flask-Login), with a lock-out after repeated failures."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from engine import access, audit, clock, worklists
from engine.models import UnknownLogin, User
from web import labels
from web.extensions import db, login_manager

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
# Compared against when the user name is unknown, so both paths cost the same time.
_DUMMY_HASH = generate_password_hash("case56-no-such-user")

bp = Blueprint("auth", __name__)


@dataclass
class SignedIn(UserMixin):
    """The signed-in person as the web layer sees them; `actor` is what the engine checks."""

    id: int
    username: str
    full_name: str
    role: str
    locale: str
    unit_name: str
    actor: access.Actor

    def get_id(self) -> str:
        return str(self.id)

    @property
    def role_label(self) -> str:
        return labels.role_label(self.role, "en" if self.locale == "en" else "vi")


def signed_in(user: User) -> SignedIn:
    return SignedIn(user.id, user.username, user.full_name, user.role, user.locale,
                    user.org_unit.name if user.org_unit else "",
                    access.Actor.of(user.username, user.role, user.org_unit, user.id))


@login_manager.user_loader
def _load(user_id: str) -> SignedIn | None:
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return signed_in(user) if user is not None and user.active else None


def _safe_next(target: str | None) -> str:
    # A path on this site only. Control characters would end up in the Location header (CR/LF: a 500, or
    # header injection) and urlsplit drops tabs and newlines before looking for a host; a backslash is a slash
    # to browsers ("/\\evil.example"). Any of them: back to the inbox.
    if (target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc
            and "\\" not in target and not any(ord(ch) < 32 or ord(ch) == 127 for ch in target)):
        return target
    return url_for("inbox.index")


def _unknown(username: str, now: datetime) -> UnknownLogin | None:
    """The failure counter of a name no account has (None for a name no account could have)."""
    name = username.lower()
    if not name or len(name) > 80 or "\x00" in name:
        return None
    row = db.session.get(UnknownLogin, name)
    if row is None:
        # Forget names not tried for a day, so guessing many names cannot grow the table without end.
        db.session.execute(delete(UnknownLogin).where(UnknownLogin.last_failed_at < now - timedelta(days=1)))
        row = UnknownLogin(name=name, failed_logins=0)
        db.session.add(row)
    row.last_failed_at = now
    return row


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    error = None
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        # A NUL cannot be in a user name, and PostgreSQL refuses it in a query: no such user.
        user = (db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
                if "\x00" not in username else None)
        now = clock.now()
        # Failures are counted per name, whether an account has it or not (UnknownLogin), so a lock-out
        # reads the same for both and does not tell which names exist.
        counter = user if user is not None else _unknown(username, now)
        if counter is not None and counter.locked_until and counter.locked_until > now:
            check_password_hash(_DUMMY_HASH, password)
            # Minutes left, rounded up: "15" right after the lock, "1" in its last minute.
            error = _("Tài khoản tạm khoá do đăng nhập sai nhiều lần. Hãy thử lại sau %(m)s phút.",
                      m=max(1, math.ceil((counter.locked_until - now).total_seconds() / 60)))
        elif user is None or not user.active or not check_password_hash(user.password_hash, password):
            if user is None:
                check_password_hash(_DUMMY_HASH, password)
            if counter is not None:
                counter.failed_logins += 1
                if counter.failed_logins >= MAX_FAILURES:
                    counter.locked_until, counter.failed_logins = now + LOCK_FOR, 0
                    if user is not None:
                        audit.append(db.session, user.username, "login_locked", None, {"ip": request.remote_addr})
                try:
                    db.session.commit()
                except IntegrityError:  # two first failures under one unknown name at once: one is counted
                    db.session.rollback()
            error = _("Tên đăng nhập hoặc mật khẩu không đúng.")
        else:
            user.failed_logins, user.locked_until = 0, None
            audit.append(db.session, user.username, "login", None, {"ip": request.remote_addr})
            db.session.commit()
            session.clear()
            session.permanent = True
            login_user(signed_in(user))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language():
    locale = request.form.get("locale")
    if locale in {"vi", "en"}:
        session["locale"] = locale
        if current_user.is_authenticated:
            user = db.session.get(User, current_user.id)
            user.locale = locale
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")))


def init_app(app: Flask) -> None:
    @app.context_processor
    def _navigation() -> dict[str, object]:
        def nav_items() -> list[tuple[str, str]]:
            if not current_user.is_authenticated:
                return []
            english = g.get("locale") == "en"
            return [(endpoint, en if english else vi) for endpoint, vi, en in NAV.get(current_user.role, [])
                    if endpoint in app.view_functions]

        def attention() -> tuple[int, int]:
            """The header badge: (overdue, due within 24 h) among the user's own tasks; one indexed query."""
            if not current_user.is_authenticated:
                return 0, 0
            if "attention" not in g:
                g.attention = worklists.attention_counts(db.session, current_user.actor)
            return g.attention

        return {"nav_items": nav_items, "attention": attention}

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.login_message_category = "info"
    app.register_blueprint(bp)


NAV = {
    # role: [(endpoint, vi, en)]; pages a role cannot open are not offered.
    "intake": [("inbox.index", "Việc cần làm", "My tasks"), ("reports.new", "Báo cáo mới (Mẫu 01)", "New report")],
    "officer": [("inbox.index", "Việc cần làm", "My tasks"), ("reports.new", "Báo cáo mới (Mẫu 01)", "New report"),
                ("cases.index", "Hồ sơ", "Cases"), ("statistics.index", "Thống kê", "Statistics")],
    "chairman": [("inbox.index", "Việc cần làm", "My tasks"), ("cases.index", "Hồ sơ", "Cases"),
                 ("statistics.index", "Thống kê", "Statistics")],
    "partner": [("inbox.index", "Việc cần làm", "My tasks")],
    "supervisor": [("inbox.index", "Việc cần làm", "My tasks"), ("supervisor.dashboard", "Giám sát", "Oversight"),
                   ("cases.index", "Hồ sơ", "Cases"), ("statistics.index", "Thống kê", "Statistics")],
    "inspector": [("inspector.search", "Thanh tra hồ sơ", "Case review"),
                  ("statistics.index", "Thống kê", "Statistics")],
    "admin": [("admin.index", "Quản trị", "Administration")],
}
