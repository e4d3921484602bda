"""The one gate of the web UI and the API: a view (or a whole blueprint) runs only when a decision of
`engine.access` allows the person asking. Pages and API endpoints name the same decision, so they agree.

`@gate(access.can_list_cases)` on a view, `bp.before_request(blueprint_gate(access.can_oversee))` for a blueprint.
A refusal is raised as `Refused` (an engine `Forbidden`): the API's handlers answer it in JSON, the page
handler below as the error page, both with status 403 and the same words.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, render_template
from flask_babel import get_locale
from flask_login import current_user

from engine import access
from engine.errors import Forbidden

View = TypeVar("View", bound=Callable[..., Any])
Decision = Callable[[access.Actor], bool]
NOT_ALLOWED = ("Bạn không có quyền truy cập trang này.", "You may not open this page.")
# What a refusal says, per decision: the page and the API use the same words.
REFUSALS: dict[Decision, tuple[str, str]] = {
    access.can_list_cases: ("Bạn không có quyền xem danh sách hồ sơ.", "You may not list cases."),
    access.can_download_dossiers: ("Bạn không có quyền tải hồ sơ PDF.", "You may not download case dossiers."),
    access.can_list_overdue: ("Chỉ cán bộ giám sát cấp tỉnh xem được danh sách quá hạn.",
                              "Only province supervisors can list overdue steps."),
    access.can_view_statistics: ("Bạn không có quyền xem số liệu thống kê.", "You may not view statistics."),
    access.can_record_reports: ("Bạn không được ghi nhận báo cáo (Mẫu số 01).", "You may not record reports."),
}


class Refused(Forbidden):
    """A gate said no (403)."""


def current_actor() -> access.Actor | None:
    """The person asking: the API token's owner in an API request, else the signed-in user (None if nobody)."""
    api_actor = g.get("api_actor")
    if api_actor is not None:
        return api_actor
    return current_user.actor if current_user.is_authenticated else None


def gate(decision: Decision, message: tuple[str, str] | None = None) -> Callable[[View], View]:
    """Refuse unless `decision(actor)`. Signed out, a page sends to the log-in page (the API authenticates
    before any view)."""
    words = message or REFUSALS.get(decision, NOT_ALLOWED)

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if actor is None:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not decision(actor):
                raise Refused(*words)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def blueprint_gate(decision: Decision, message: tuple[str, str] | None = None) -> Callable[[], Any]:
    """The same gate as a blueprint's before_request hook: every view of the blueprint is behind it."""
    return gate(decision, message)(lambda: None)


def init_app(app: Flask) -> None:
    @app.errorhandler(Refused)
    def _refused(error: Refused) -> tuple[str, int]:
        chosen = get_locale()
        lang = "en" if chosen is not None and chosen.language == "en" else "vi"
        return render_template("error.html", message=error.message(lang), status=error.status), error.status
