"""What every API view shares: the caller (from the token), the language of messages, the API error.

The API speaks the language the client asks for (`Accept-Language: vi|en`), else the token owner's
language, else Vietnamese. Messages are Vietnamese msgids translated with Flask-Babel under that locale,
so the web UI's locale selection (cookie session, signed-in user) never leaks into API answers.
"""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_babel import force_locale, gettext

from engine import access
from engine.models import User

LOCALES = ("vi", "en")
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL: a larger id names nothing


def locale() -> str:
    chosen = g.get("api_locale")
    if chosen:
        return chosen
    return request.accept_languages.best_match(LOCALES) or "vi"


def _(message: str, **variables: Any) -> str:
    """gettext in the API's locale (msgids are Vietnamese, English lives in web/translations/en/api.po)."""
    with force_locale(locale()):
        return gettext(message, **variables)


class ApiError(Exception):
    """An answer other than success, rendered as {"code", "message", "errors"} with `status`."""

    def __init__(self, status: int, code: str, message: str, errors: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or {}
        self.headers = headers or {}


def not_found() -> ApiError:
    # Out of scope and missing get the same answer: a guessed id tells nothing.
    return ApiError(404, "not_found", _("Không tìm thấy."))


def actor() -> access.Actor:
    return g.api_actor


def user() -> User:
    return g.api_user
