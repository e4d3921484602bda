"""Log-in, log-out and the signed-in user (Flask-Login), with a lock-out after repeated failures.

Sessions are held on the server (engine.models.LoginSession): the signed cookie carries a random session id,
and a request is signed in only while that session's row is open and younger than the session lifetime. So
logging out ends the session for good (a copy of the cookie taken before no longer works), and a user can end
all their sessions ("log out everywhere", also done by changing the password), as can an administrator for any
user (web/views/admin.py; audited).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from engine import access, audit, clock, worklists
from engine.models import LoginSession, UnknownLogin, User
from web import labels
from web.extensions import db, login_manager

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
# Compared against when the user name is unknown, so both paths cost the same time.
_DUMMY_HASH = generate_password_hash("case56-no-such-user")
SEEN_EVERY = timedelta(minutes=5)  # record a session's last request at most this often: reads stay reads
MIN_PASSWORD = 8  # the same minimum as accounts an administrator creates (web/views/admin.py)

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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(user: User) -> None:
    """A new server-side session for `user`, its id in the (cleared) cookie session; the caller commits."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(LoginSession(user_id=user.id, token_hash=_digest(token), created_at=now, last_seen_at=now,
                                ip=(request.remote_addr or "")[:64] or None,
                                user_agent=(request.user_agent.string or "")[:200] or None))
    session.clear()
    session.permanent = True
    session["sid"] = token


def end_sessions(user_id: int, by: str, reason: str, keep: int | None = None) -> int:
    """End every open session of a user (but `keep`); returns how many. The caller audits and commits."""
    query = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(LoginSession.id != keep)
    result = db.session.execute(query.values(ended_at=clock.now(), ended_by=by, end_reason=reason))
    return int(getattr(result, "rowcount", 0) or 0)


def open_sessions(user_id: int) -> list[LoginSession]:
    """A user's sessions still in use: not ended, and not idle longer than the session lifetime."""
    oldest = clock.now() - current_app.permanent_session_lifetime - SEEN_EVERY
    return list(db.session.scalars(select(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.ended_at.is_(None), LoginSession.last_seen_at > oldest)
        .order_by(LoginSession.last_seen_at.desc())))


@login_manager.user_loader
def _load(user_id: str) -> SignedIn | None:
    token = session.get("sid")
    if not user_id.isdigit() or not isinstance(token, str) or len(token) > 100:
        return None
    row = db.session.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token)))
    now = clock.now()
    if (row is None or row.user_id != int(user_id) or row.ended_at is not None
            or now - row.last_seen_at > current_app.permanent_session_lifetime + SEEN_EVERY):
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if now - row.last_seen_at > SEEN_EVERY:
        row.last_seen_at = now
        db.session.commit()
    g.login_session_id = row.id
    return signed_in(user)


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
            start_session(user)
            db.session.commit()
            login_user(signed_in(user))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    row = db.session.get(LoginSession, g.login_session_id) if g.get("login_session_id") else None
    if row is not None and row.ended_at is None:
        row.ended_at, row.ended_by, row.end_reason = clock.now(), current_user.username, "logout"
        audit.append(db.session, current_user.username, "logout", None, {"session": row.id})
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/sessions", methods=["GET"])
@login_required
def sessions() -> tuple[str, int]:
    return _sessions_page({})


def _sessions_page(errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    return render_template("auth/sessions.html", rows=open_sessions(current_user.id),
                           current=g.get("login_session_id"), errors=errors, min_password=MIN_PASSWORD), status


@bp.route("/account/sessions/end", methods=["POST"])
@login_required
def end_everywhere():
    """Log out everywhere: every session of this account ends, this one included."""
    count = end_sessions(current_user.id, current_user.username, "everywhere")
    audit.append(db.session, current_user.username, "sessions_ended", None,
                 {"user": current_user.username, "sessions": count, "reason": "everywhere"})
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Đã đăng xuất khỏi mọi thiết bị (%(n)s phiên).", n=count), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    """Change one's own password: the current one is asked again; every other session of the account ends."""
    user = db.session.get(User, current_user.id)
    current = request.form.get("current_password") or ""
    new = request.form.get("new_password") or ""
    errors: dict[str, str] = {}
    if not check_password_hash(user.password_hash, current):
        errors["current_password"] = _("Mật khẩu hiện tại không đúng.")
    if len(new) < MIN_PASSWORD:
        errors["new_password"] = _("Mật khẩu phải có ít nhất %(n)s ký tự.", n=MIN_PASSWORD)
    elif len(new) > 200:
        errors["new_password"] = _("Mật khẩu tối đa 200 ký tự.")
    elif new == current:
        errors["new_password"] = _("Mật khẩu mới phải khác mật khẩu hiện tại.")
    if new != (request.form.get("confirm_password") or ""):
        errors.setdefault("confirm_password", _("Hai lần nhập mật khẩu không khớp."))
    if errors:
        return _sessions_page(errors, 422)
    user.password_hash = generate_password_hash(new)
    count = end_sessions(user.id, user.username, "password", keep=g.get("login_session_id"))
    audit.append(db.session, user.username, "password_changed", None, {"user": user.username, "sessions_ended": count})
    db.session.commit()
    flash(_("Đã đổi mật khẩu; các phiên đăng nhập khác của bạn (%(n)s) đã kết thúc.", n=count), "success")
    return redirect(url_for("auth.sessions"), code=303)


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
                ("cases.index", "Hồ sơ", "Cases"), ("statistics.index", "Thống kê", "Statistics"),
                ("national_db.pending", "Nhập CSDL trẻ em", "Children database")],
    "chairman": [("inbox.index", "Việc cần làm", "My tasks"), ("cases.index", "Hồ sơ", "Cases"),
                 ("statistics.index", "Thống kê", "Statistics")],
    "partner": [("inbox.index", "Việc cần làm", "My tasks")],
    "supervisor": [("inbox.index", "Việc cần làm", "My tasks"), ("supervisor.dashboard", "Giám sát", "Oversight"),
                   ("cases.index", "Hồ sơ", "Cases"), ("statistics.index", "Thống kê", "Statistics"),
                   ("national_db.pending", "Nhập CSDL trẻ em", "Children database")],
    "inspector": [("inspector.search", "Thanh tra hồ sơ", "Case review"),
                  ("statistics.index", "Thống kê", "Statistics")],
    "admin": [("admin.index", "Quản trị", "Administration")],
}
