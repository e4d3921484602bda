"""Bilingual form fields.

Declare a field with one of the helpers (``string``, ``text``, ``integer``, ``boolean``, ``date``,
``datetime``, ``choice``, ``multichoice``, ``obj``, ``obj_list``). Each returns a marshmallow field whose
``metadata`` carries what the web renderer, the JSON Schema and the dossier need: ``type``,
``label_vi``/``label_en``, ``help_vi``/``help_en`` (cite the article when the law asks something
specific), ``choices`` (a :class:`forms.kit.choices.Choices` class), ``required_if``/``only_if``
conditions and ``past`` (no date in the future).

Input is parsed strictly but helpfully: strings are stripped and NFC-normalised, an empty value in an
optional field means "not given" (None), dates accept ``YYYY-MM-DD`` and ``dd/mm/yyyy``, datetimes
accept ISO 8601 and ``dd/mm/yyyy HH:MM`` (naive = Vietnam time). Loaded values are Python objects
(``date``, aware ``datetime``) so cross-field rules can compare them; dumping gives JSON-native
values (ISO strings, datetimes with the +07:00 offset).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextvars import ContextVar
from typing import Any, TypeVar

from marshmallow import Schema, ValidationError
from marshmallow import fields as ma_fields
from marshmallow.utils import missing as missing_

from forms.kit.choices import Choices
from forms.kit.messages import code

# Vietnam has kept UTC+7 without daylight saving since 1975. A fixed offset (rather than the
# tz database's pre-1975 history) gives every stored datetime the same "+07:00" form.
VN_TZ = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")

# A time typed "now" on a device whose clock runs a little ahead must not be refused as future.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)

MIN_YEAR, MAX_YEAR = 1900, 2100

_now: ContextVar[dt.datetime | None] = ContextVar("forms_validation_now", default=None)
# JSON input (the API): values must have the JSON type the published JSON Schema gives them — a boolean is
# true/false (not 0, "có"), a number a number, a date "YYYY-MM-DD", a moment RFC 3339 with its offset, and an
# empty string is no "not given" for anything but text. Web forms send strings and keep the lenient reading.
_json_input: ContextVar[bool] = ContextVar("forms_json_input", default=False)


def validation_now() -> dt.datetime:
    """The moment "no date in the future" compares with: the one given to ``validate``, else now."""
    now = _now.get()
    return now if now is not None else dt.datetime.now(VN_TZ)


@contextlib.contextmanager
def validating_at(now: dt.datetime | None) -> Iterator[None]:
    """Run validation as if it were ``now`` (aware; naive means Vietnam time)."""
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=VN_TZ)
    token = _now.set(now)
    try:
        yield
    finally:
        _now.reset(token)


@contextlib.contextmanager
def json_input() -> Iterator[None]:
    """Validate as JSON input: types exactly as the JSON Schema says (see ``_json_input``)."""
    token = _json_input.set(True)
    try:
        yield
    finally:
        _json_input.reset(token)


def set_json_input(on: bool) -> Any:
    """For a request hook: switch JSON input on; returns the token ``reset_json_input`` takes."""
    return _json_input.set(on)


def reset_json_input(token: Any) -> None:
    _json_input.reset(token)


def strict() -> bool:
    return _json_input.get()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class FormField(ma_fields.Field):
    """Common behaviour: empty input means "not given"; required errors use our codes."""

    kind = "string"
    default_error_messages = {
        "required": code("required"),
        "null": code("required"),
        "validator_failed": code("invalid"),
    }

    def deserialize(self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None,
                    **kwargs: Any) -> Any:
        if _blank(value):
            if self.required:
                raise ValidationError(code("required"))
            if value is not None and strict() and self.kind not in ("string", "text"):
                raise ValidationError(code("invalid"))  # JSON says "not given" with null, not ""
            if value is None and strict() and self.kind in ("multichoice", "list"):
                raise ValidationError(code("not_list"))  # the JSON Schema says array: none is [], not null
            value = missing_
        return super().deserialize(value, attr, data, **kwargs)


# What a person types never holds these; they hide or reorder text (U+202E shows "gpj.exe" as "exe.jpg"), split
# one name into two spellings (a BOM or a zero-width joiner in front of "Nguyễn" makes another child) or break
# lines where none may be. One-line fields (names, places, numbers): every control (Cc) and format (Cf)
# character, surrogates, private use, line and paragraph separators. Free text keeps the joiners emoji and some
# scripts need, and refuses the controls (tab and newline aside) and the characters that reorder or hide text.
_LINE_REFUSED = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_TEXT_HIDDEN = frozenset(
    "\u061c\u115f\u1160\u180e\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f"
    "\u3164\ufeff\uffa0\ufff9\ufffa\ufffb")
_TEXT_KEEP = frozenset("\t\n")
_SPACES = re.compile(r"[^\S\n]+")  # runs of spaces, tabs, no-break and other spaces; newlines are not spaces


def refused_in_line(ch: str) -> bool:
    return (unicodedata.category(ch) in _LINE_REFUSED and ch != "\t") or ch in _TEXT_HIDDEN


def refused_in_text(ch: str) -> bool:
    return ch in _TEXT_HIDDEN or (unicodedata.category(ch) in ("Cc", "Cs") and ch not in _TEXT_KEEP)


def _refusal(text: str, refused: Any) -> str | None:
    """The message code for the first refused character of `text`, or None."""
    for ch in text:
        if refused(ch):
            return "bad_characters" if unicodedata.category(ch) in ("Cc", "Cs") else "hidden_characters"
    return None


def clean_line(value: str) -> str:
    """A one-line text as stored: NFC, spaces of any kind folded into one, trimmed. Raises ValidationError
    (a coded message) for a line break or a control, format or other invisible character."""
    text = unicodedata.normalize("NFC", value)
    if any(ch in "\r\n\u2028\u2029\x85" for ch in text):
        raise ValidationError(code("no_newline"))
    problem = _refusal(text, refused_in_line)
    if problem:
        raise ValidationError(code(problem))
    return _SPACES.sub(" ", text).strip()


def name_key(value: str) -> str:
    """What tells two spellings of one name apart for matching (the child key): only visible letters count,
    so a name stored before these rules (with a BOM, a zero-width joiner, two spaces) matches its clean form."""
    text = "".join(ch for ch in unicodedata.normalize("NFC", value) if not refused_in_line(ch))
    return _SPACES.sub(" ", text).strip().lower()  # lower(), as keys were always made: old keys still match


def _char_class(refused: Any) -> str:
    """A regex character class body listing every code point `refused` says no to (surrogates aside: no JSON
    text carries a lone one), as ranges; BMP characters escaped, others literal (JSON escapes them anyway)."""
    ranges: list[tuple[int, int]] = []
    for point in range(0x110000):
        if 0xD800 <= point <= 0xDFFF or not refused(chr(point)):
            continue
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1] = (ranges[-1][0], point)
        else:
            ranges.append((point, point))

    def one(point: int) -> str:
        return f"\\u{point:04x}" if point <= 0xFFFF else chr(point)

    return "".join(one(a) if a == b else f"{one(a)}-{one(b)}" for a, b in ranges)


@functools.cache
def json_pattern(*, multiline: bool, required: bool) -> str:
    """The ECMA/Python regex JSON Schema declares for a text field: exactly what `String` accepts (before it
    trims and folds spaces), and, when required, at least one character that is not a space."""
    refused = _char_class(refused_in_line) if not multiline else _char_class(
        lambda ch: refused_in_text(ch) and ch != "\r")
    if not required:
        return f"^[^{refused}]*$"
    return f"^[^{refused}]*[^{refused}\\s][^{refused}]*$"


@functools.cache
def _edge_spaces() -> str:
    """The spaces `String` trims and accepts, as a class body: computed once (a pass over every code point, about
    a second, which every app start paid per patterned field)."""
    return _char_class(lambda ch: ch.isspace() and not refused_in_line(ch))


def json_edge_pattern(inner: str, optional: bool = False) -> str:
    """A field's own pattern (phone numbers…) as sent: spaces `String` trims may stand around it; an optional
    field also takes "" or spaces only (blank is "not given")."""
    space = _edge_spaces()
    return f"^[{space}]*(?:{inner}){'?' if optional else ''}[{space}]*$"


class String(FormField):
    kind = "string"

    def __init__(self, *, max_length: int = 255, multiline: bool = False,
                 pattern: str | None = None, pattern_message: str = "invalid", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.multiline = multiline
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_message = pattern_message
        if multiline:
            self.kind = "text"

    def deserialize(self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None,
                    **kwargs: Any) -> Any:
        # JSON: a blank string is "not given", but only one the JSON Schema allows (its length as sent, no
        # control or hidden character), so that the document and the server agree on what is refused.
        if strict() and isinstance(value, str) and _blank(value):
            if len(value) > self.max_length:
                raise ValidationError(code("too_long", max=self.max_length))
            if self.multiline:
                problem = _refusal(value.replace("\r", "").replace("\n", ""), refused_in_text)
                if problem:
                    raise ValidationError(code(problem))
            else:
                clean_line(value)
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        if not isinstance(value, str):
            raise ValidationError(code("not_string"))
        if self.multiline:
            text = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
            text = unicodedata.normalize("NFC", text).strip()
            problem = _refusal(text, refused_in_text)
            if problem:
                raise ValidationError(code(problem))
        else:
            text = clean_line(value)
        # The length as sent, which is what JSON Schema's maxLength and the page's maxlength count.
        if len(value) > self.max_length:
            raise ValidationError(code("too_long", max=self.max_length))
        if self.pattern and not self.pattern.fullmatch(text):
            raise ValidationError(code(self.pattern_message))
        return text

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


# Digits are ASCII only: Python's \d would also take other scripts' digits.
_INT = re.compile(r"[+-]?[0-9]{1,18}")
# "1.500.000" or "1,500,000" or "1 500 000": how amounts in đồng are usually typed.
_GROUPED_INT = re.compile(r"[0-9]{1,3}(?:([.,\s])[0-9]{3})(?:\1[0-9]{3})*")


class Integer(FormField):
    kind = "integer"

    def __init__(self, *, min_value: int | None = None, max_value: int | None = None,
                 grouping: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.min_value = min_value
        self.max_value = max_value
        self.grouping = grouping

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        number: int
        if isinstance(value, bool):  # bool is an int subclass: True is not 1 here
            raise ValidationError(code("not_integer"))
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and strict():
            raise ValidationError(code("not_integer"))
        elif isinstance(value, float):
            if not math.isfinite(value) or not value.is_integer():
                raise ValidationError(code("not_integer"))
            number = int(value)
        elif isinstance(value, str):
            text = value.strip()
            if _INT.fullmatch(text):
                number = int(text)
            elif self.grouping and _GROUPED_INT.fullmatch(text):
                number = int(re.sub(r"[^0-9]", "", text))
            else:
                raise ValidationError(code("not_integer"))
        else:
            raise ValidationError(code("not_integer"))
        if self.min_value is not None and number < self.min_value:
            raise ValidationError(code("min_value", min=self.min_value))
        if self.max_value is not None and number > self.max_value:
            raise ValidationError(code("max_value", max=self.max_value))
        return number

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


_TRUE = {"true", "1", "yes", "on", "có", "co", "x"}
_FALSE = {"false", "0", "no", "off", "không", "khong"}


class Boolean(FormField):
    kind = "boolean"

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        if strict():
            raise ValidationError(code("not_boolean"))
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            word = unicodedata.normalize("NFC", value.strip().lower())
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        raise ValidationError(code("not_boolean"))

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_VN_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?"
)
# JSON Schema's "date-time": RFC 3339 with its offset ("t" and "z" in either case); seconds may be left out,
# as clients writing minutes ("2026-12-05T07:12+07:00") always could.
_RFC3339 = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?"
                      r"([Zz]|[+-][0-9]{2}:[0-9]{2})")
# "14:30", "14h30" (common in Vietnamese) and optional seconds.
_VN_DATETIME = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})[ T]+([0-9]{1,2})[:hH]([0-9]{2})(?::([0-9]{2}))?")


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(code("year_range", min=MIN_YEAR, max=MAX_YEAR))


def parse_date(value: Any) -> dt.date:
    """A date from ``date``, ``YYYY-MM-DD`` or ``dd/mm/yyyy``; raises ValidationError."""
    if isinstance(value, dt.datetime):
        raise ValidationError(code("invalid_date"))
    if isinstance(value, dt.date):
        _check_year(value.year)
        return value
    if not isinstance(value, str):
        raise ValidationError(code("invalid_date"))
    text = value.strip() if not strict() else value
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := (_VN_DATE.fullmatch(text) if not strict() else None):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise ValidationError(code("invalid_date_json" if strict() else "invalid_date"))
    try:
        result = dt.date(year, month, day)
    except ValueError:
        raise ValidationError(code("invalid_date")) from None
    _check_year(result.year)
    return result


def _offset(text: str | None) -> dt.tzinfo:
    if text is None:
        return VN_TZ
    if text == "Z":
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValidationError(code("invalid_datetime"))
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def parse_datetime(value: Any) -> dt.datetime:
    """An aware datetime in Vietnam time from ISO 8601 or ``dd/mm/yyyy HH:MM``; raises ValidationError."""
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=VN_TZ)
    elif isinstance(value, str) and strict():
        match = _RFC3339.fullmatch(value)
        if not match:
            raise ValidationError(code("invalid_datetime_json"))
        try:
            year, month, day, hour, minute, second = (int(g or 0) for g in match.groups()[:6])
            micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
            moment = dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=_offset(match.group(8).upper()))
        except ValueError:
            raise ValidationError(code("invalid_datetime_json")) from None
    elif isinstance(value, str):
        text = value.strip()
        try:
            if match := _ISO_DATETIME.fullmatch(text):
                year, month, day, hour, minute = (int(g) for g in match.groups()[:5])
                second = int(match.group(6) or 0)
                micro = int((match.group(7) or "0").ljust(6, "0"))
                moment = dt.datetime(year, month, day, hour, minute, second, micro,
                                     tzinfo=_offset(match.group(8)))
            elif match := _VN_DATETIME.fullmatch(text):
                day, month, year, hour, minute = (int(g) for g in match.groups()[:5])
                second = int(match.group(6) or 0)
                moment = dt.datetime(year, month, day, hour, minute, second, tzinfo=VN_TZ)
            else:
                raise ValidationError(code("invalid_datetime"))
        except ValueError:
            raise ValidationError(code("invalid_datetime")) from None
    else:
        raise ValidationError(code("invalid_datetime"))
    _check_year(moment.year)
    return moment.astimezone(VN_TZ)


class Date(FormField):
    kind = "date"

    def __init__(self, *, past: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.past = past

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        day = parse_date(value)
        if self.past and day > validation_now().astimezone(VN_TZ).date():
            raise ValidationError(code("future_date"))
        return day

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date) else value


class DateTime(FormField):
    kind = "datetime"

    def __init__(self, *, past: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.past = past

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        moment = parse_datetime(value)
        if self.past and moment > validation_now() + FUTURE_TOLERANCE:
            raise ValidationError(code("future_datetime"))
        return moment

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value.astimezone(VN_TZ).isoformat() if isinstance(value, dt.datetime) else value


class Choice(FormField):
    kind = "choice"

    def __init__(self, enum: type[Choices], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.enum = enum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        codes = self.enum.codes()
        if isinstance(value, str) and (value if strict() else value.strip()) in codes:
            return codes[codes.index(value.strip())]
        raise ValidationError(code("invalid_choice", choices=", ".join(codes)))

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class MultiChoice(FormField):
    """A list of codes; a single code is taken as a one-item list (HTML forms send that), duplicates
    are dropped, order is kept."""

    kind = "multichoice"

    def __init__(self, enum: type[Choices], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.enum = enum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        items = [value] if isinstance(value, str) and not strict() else value
        if not isinstance(items, list | tuple):
            raise ValidationError(code("not_list"))
        codes = self.enum.codes()
        result: list[str] = []
        if strict() and all(isinstance(i, str) for i in items) and len(set(items)) != len(items):
            raise ValidationError(code("duplicate_items"))  # the JSON Schema says uniqueItems
        for item in items:
            if not isinstance(item, str) or (item if strict() else item.strip()) not in codes:
                raise ValidationError(code("invalid_choice", choices=", ".join(codes)))
            picked = codes[codes.index(item.strip())]
            if picked not in result:
                result.append(picked)
        if not result and self.required:
            raise ValidationError(code("required"))
        return result

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else list(value)


class Object(FormField, ma_fields.Nested):
    """A group of fields (a nested schema). ``fill_empty``: a missing group loads as an empty one, so
    stored data always has the same shape (only for groups whose fields are all optional)."""

    kind = "object"

    def __init__(self, nested: type[Schema], *, fill_empty: bool = False, **kwargs: Any) -> None:
        super().__init__(nested, **kwargs)
        self.fill_empty = fill_empty

    def deserialize(self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None,
                    **kwargs: Any) -> Any:
        if self.fill_empty and (value is missing_ or (_blank(value) and not (strict() and value is not None))):
            value = {}
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     partial: bool | Sequence[str] | AbstractSet[str] | None = None, **kwargs: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValidationError(code("not_object"))
        return super()._deserialize(value, attr, data, partial, **kwargs)


class ObjectList(FormField, ma_fields.List):
    """A list of groups of fields (e.g. the activities of a plan)."""

    kind = "list"

    def __init__(self, nested: type[Schema], *, min_items: int = 0, max_items: int = 100,
                 **kwargs: Any) -> None:
        super().__init__(Object(nested, required=True), **kwargs)
        self.nested_schema = nested
        self.min_items = min_items
        self.max_items = max_items

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise ValidationError(code("not_list"))
        minimum = max(self.min_items, 1 if self.required else 0)
        if len(value) < minimum:
            raise ValidationError(code("too_few_items", min=minimum))
        if len(value) > self.max_items:
            raise ValidationError(code("too_many_items", max=self.max_items))
        return super()._deserialize(list(value), attr, data, **kwargs)


# ---------------------------------------------------------------------------------------------
# Declaration helpers


def _sensitivity(value: str | Sequence[str]) -> Any:
    from forms.kit.sensitivity import check_declaration  # the classes live there; it imports this module

    return check_declaration(value)


F = TypeVar("F", bound=FormField)


def _declare(cls: type[F], label_vi: str, label_en: str, *, required: bool = False,
             default: Any = missing_, help_vi: str | None = None, help_en: str | None = None,
             required_if: Mapping[str, Any] | None = None, required_if_message: str = "required",
             only_if: Mapping[str, Any] | None = None, only_if_message: str = "invalid",
             sensitivity: str | Sequence[str] | None = None,
             empty: Any = None, extra: Mapping[str, Any] | None = None, unofficial: bool = False,
             **kwargs: Any) -> F:
    """Build a field. ``empty`` is what an optional field loads as when not given (None, or [] for
    lists); ``default`` overrides it and is published to the renderer. ``unofficial``: case56 asks it but the
    official form has no such item (marked so on screen and on paper)."""
    metadata: dict[str, Any] = {
        "type": cls.kind,
        "label_vi": label_vi,
        "label_en": label_en,
        "help_vi": help_vi,
        "help_en": help_en,
    }
    if default is not missing_:
        metadata["default"] = default
    if required_if:
        metadata["required_if"] = dict(required_if)
        metadata["required_if_message"] = required_if_message
    if only_if:
        metadata["only_if"] = dict(only_if)
        metadata["only_if_message"] = only_if_message
    if unofficial:
        metadata["unofficial"] = True
    if sensitivity is not None:  # forms.kit.sensitivity: who may see the value (default by kind)
        metadata["sensitivity"] = _sensitivity(sensitivity)
    metadata.update(extra or {})
    if required:
        if default is not missing_:
            raise ValueError("a required field has no default")
        field = cls(required=True, allow_none=False, metadata=metadata, **kwargs)
    else:
        load_default = default if default is not missing_ else empty
        if isinstance(load_default, list):
            load_default = list  # a fresh list each time, never a shared one
        field = cls(load_default=load_default, allow_none=True, metadata=metadata, **kwargs)
    if cls.kind != field.kind:  # String(multiline=True) is a "text"; the field keeps this very dict
        metadata["type"] = field.kind
    return field


def string(label_vi: str, label_en: str, *, max_length: int = 255, **opts: Any) -> String:
    """A one-line text (names, numbers, places)."""
    return _declare(String, label_vi, label_en, max_length=max_length,
                    extra={"max_length": max_length}, **opts)


def text(label_vi: str, label_en: str, *, max_length: int = 10_000, **opts: Any) -> String:
    """A free text that may span lines (descriptions, findings)."""
    return _declare(String, label_vi, label_en, max_length=max_length, multiline=True,
                    extra={"max_length": max_length}, **opts)


def phone(label_vi: str, label_en: str, **opts: Any) -> String:
    return _declare(String, label_vi, label_en, max_length=20, pattern=r"\+?[0-9][0-9 .()\-]{2,19}",
                    pattern_message="invalid_phone", extra={"max_length": 20, "format": "phone"}, **opts)


def integer(label_vi: str, label_en: str, *, min_value: int | None = None, max_value: int | None = None,
            grouping: bool = False, **opts: Any) -> Integer:
    extra = {key: value for key, value in (("min", min_value), ("max", max_value)) if value is not None}
    return _declare(Integer, label_vi, label_en, min_value=min_value, max_value=max_value,
                    grouping=grouping, extra=extra, **opts)


def boolean(label_vi: str, label_en: str, **opts: Any) -> Boolean:
    return _declare(Boolean, label_vi, label_en, **opts)


def date(label_vi: str, label_en: str, *, past: bool = False, **opts: Any) -> Date:
    """A calendar date. ``past``: records something that happened, so it cannot be in the future."""
    return _declare(Date, label_vi, label_en, past=past, extra={"past": past}, **opts)


def datetime(label_vi: str, label_en: str, *, past: bool = False, **opts: Any) -> DateTime:
    """A moment (Vietnam time). ``past``: records something that happened."""
    return _declare(DateTime, label_vi, label_en, past=past, extra={"past": past}, **opts)


def choice(enum: type[Choices], label_vi: str, label_en: str, *,
           labels: Mapping[str, tuple[str, str]] | None = None, **opts: Any) -> Choice:
    """One code of ``enum``. ``labels`` overrides some labels on this field only (e.g. Mẫu 06's
    self-protection grid, where "Cao" means strength)."""
    return _declare(Choice, label_vi, label_en, enum=enum,
                    extra={"choices": enum, "choice_labels": dict(labels or {})}, **opts)


def multichoice(enum: type[Choices], label_vi: str, label_en: str, **opts: Any) -> MultiChoice:
    return _declare(MultiChoice, label_vi, label_en, enum=enum, empty=[],
                    extra={"choices": enum, "choice_labels": {}}, **opts)


def obj(schema: type[Schema], label_vi: str, label_en: str, *, fill_empty: bool = False,
        computed: bool = False, **opts: Any) -> Object:
    """A group of fields. ``computed``: filled by the form on load, input ignored (e.g. totals)."""
    return _declare(Object, label_vi, label_en, nested=schema, fill_empty=fill_empty,
                    extra={"computed": computed}, **opts)


def obj_list(schema: type[Schema], label_vi: str, label_en: str, *, min_items: int = 0,
             max_items: int = 100, **opts: Any) -> ObjectList:
    return _declare(ObjectList, label_vi, label_en, nested=schema, min_items=min_items,
                    max_items=max_items, empty=[],
                    extra={"min_items": min_items, "max_items": max_items}, **opts)
