"""Errors the engine reports to its callers (web, API, CLI), each with a Vietnamese and English message."""

from __future__ import annotations


class EngineError(Exception):
    code = "error"
    status = 400

    def __init__(self, message_vi: str, message_en: str | None = None) -> None:
        super().__init__(message_vi)
        self.message_vi = message_vi
        self.message_en = message_en or message_vi

    def message(self, locale: str = "vi") -> str:
        return self.message_en if locale == "en" else self.message_vi


class NotFound(EngineError):
    code, status = "not_found", 404


class Forbidden(EngineError):
    code, status = "forbidden", 403


class Conflict(EngineError):
    """The case changed since the caller saw it, or the step was already done: nothing was changed."""

    code, status = "conflict", 409


class InvalidState(EngineError):
    code, status = "invalid_state", 409


class FieldErrors(EngineError):
    """Input refused field by field: `errors` maps a field name to its (Vietnamese, English) message."""

    code, status = "validation_error", 400

    def __init__(self, errors: dict[str, tuple[str, str]]) -> None:
        super().__init__("Dữ liệu chưa hợp lệ: " + "; ".join(vi for vi, _en in errors.values()),
                         "Invalid input: " + "; ".join(en for _vi, en in errors.values()))
        self.errors = errors

    def by_field(self, locale: str = "vi") -> dict[str, str]:
        return {name: (en if locale == "en" else vi) for name, (vi, en) in self.errors.items()}
