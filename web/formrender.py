"""Legal forms in HTML: rendering from `forms.describe` and reading a submitted HTML form back.

One naming rule joins the two directions: a field's input is named by its dotted path in the form data
(`child.father.name`, `activities.0.end`), so the error tree of `forms.FormError` (nested the same way,
list indexes as strings) lands next to the input it is about, and the user's input is re-rendered as typed.
Names starting with "_" are the page's controls (`_action`, `_version`, `_add`, `_remove`), never data.

Lists of groups (plan activities, meeting participants) grow and shrink without JavaScript: the "thêm
dòng" / "xoá dòng" buttons submit the form and the page comes back with one row more or less, nothing saved.

Parsing walks the form's description, not the request: keys the form does not know are ignored, a group
left entirely blank is "not given", and list rows left blank are dropped, so an empty spare row never
produces "required" errors.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

import forms
from engine import clock

Fields = list[dict[str, Any]]
MAX_ROWS = 200  # also bounded by each list's own max_items
MAX_DRAFT_TEXT = 20_000  # a draft keeps what was typed, within reason
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def describe(name: str, version: int | None = None, locale: str = "vi", *, hide: frozenset[str] = frozenset(),
             choices: Mapping[str, list[tuple[str, str]]] | None = None) -> dict[str, Any]:
    """`forms.describe` ready for the template: hidden top-level fields removed, some fields offered as a
    pick list (`choices`: field name → [(code, label)]), and each condition spelled out as a hint."""
    description = forms.describe(name, version, locale)
    fields = [dict(f) for f in description["fields"] if f["name"] not in hide]
    for field in fields:
        if choices and field["name"] in choices:
            field["choices"], field["widget"] = choices[field["name"]], "select"
    description["fields"] = _prepare(fields, locale)
    return description


def _widget(field: dict[str, Any]) -> str:
    kind = field["type"]
    if kind == "choice":
        return "radio" if len(field.get("choices") or []) <= 4 else "select"
    if kind == "string" and field.get("format") == "phone":
        return "tel"
    return {"text": "textarea", "multichoice": "checkboxes"}.get(kind, kind)


def _condition_text(condition: Mapping[str, Any], siblings: Fields) -> str:
    parts = []
    by_name = {f["name"]: f for f in siblings}
    for key, wanted in condition.items():
        other = by_name.get(key, {"label": key})
        if isinstance(wanted, bool):
            shown = _("Có") if wanted else _("Không")
        else:
            shown = dict(other.get("choices") or []).get(str(wanted), str(wanted))
        parts.append(f"“{other['label']}” = “{shown}”")
    return "; ".join(parts)


def _prepare(fields: Fields, locale: str) -> Fields:
    out = []
    for field in fields:
        field = dict(field)
        field.setdefault("widget", _widget(field))
        hints = []
        if field.get("required_if"):
            hints.append(_("Bắt buộc khi %(c)s.", c=_condition_text(field["required_if"], fields)))
        if field.get("only_if"):
            hints.append(_("Chỉ điền khi %(c)s.", c=_condition_text(field["only_if"], fields)))
        field["hints"] = hints
        if "fields" in field:
            field["fields"] = _prepare(field["fields"], locale)
        out.append(field)
    return out


# -- reading a submitted form -------------------------------------------------------------------------

def _blank(value: Any) -> bool:
    if isinstance(value, Mapping):
        return all(_blank(v) for v in value.values())
    if isinstance(value, list):
        return all(_blank(v) for v in value)
    return value is None or (isinstance(value, str) and not value.strip())


def _row_count(formdata: MultiDict, path: str, field: dict[str, Any]) -> int:
    """How many rows of list `path` the page sent: the highest row index seen, plus one."""
    limit = min(int(field.get("max_items") or MAX_ROWS), MAX_ROWS)
    head = path + "."
    highest = -1
    for key in formdata:
        if key.startswith(head):
            index = key[len(head):].split(".", 1)[0]
            if index.isdigit() and len(index) <= 4:
                highest = max(highest, int(index))
    return min(highest + 1, limit)


def parse(fields: Fields, formdata: MultiDict, prefix: str = "", *, keep_blank_rows: bool = False) -> dict[str, Any]:
    """The form data as the form expects it (strings as typed; validation happens in `forms.validate`)."""
    out: dict[str, Any] = {}
    for field in fields:
        if field.get("computed"):
            continue  # computed on validation; input would be ignored anyway
        name = field["name"]
        path = prefix + name
        kind = field["type"]
        if kind == "object":
            group = parse(field["fields"], formdata, path + ".", keep_blank_rows=keep_blank_rows)
            if not _blank(group):
                out[name] = group
        elif kind == "list":
            rows = [parse(field["fields"], formdata, f"{path}.{i}.", keep_blank_rows=keep_blank_rows)
                    for i in range(_row_count(formdata, path, field))]
            out[name] = rows if keep_blank_rows else [row for row in rows if not _blank(row)]
        elif kind == "multichoice":
            out[name] = formdata.getlist(path)[:MAX_ROWS]
        elif path in formdata:
            out[name] = formdata.get(path)
    return out


def row_action(raw: dict[str, Any], formdata: MultiDict) -> bool:
    """Apply a "thêm dòng" (`_add=path`) or "xoá dòng" (`_remove=path.index`) button to `raw` in place;
    True when the request was such a button (the page is then shown again, nothing is saved)."""
    if formdata.get("_add"):
        rows = _at(raw, formdata["_add"], create=True)
        if isinstance(rows, list) and len(rows) < MAX_ROWS:
            rows.append({})
        return True
    if formdata.get("_remove"):
        path, _sep, index = formdata["_remove"].rpartition(".")
        rows = _at(raw, path)
        if isinstance(rows, list) and index.isdigit() and int(index) < len(rows):
            del rows[int(index)]
        return True
    return False


def _at(raw: dict[str, Any], path: str, create: bool = False) -> Any:
    node: Any = raw
    parts = path.split(".")
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return None
            node = node[int(part)]
        elif isinstance(node, dict):
            if part not in node and create:
                node[part] = [] if last else {}
            node = node.get(part)
        else:
            return None
    return node


def storable(value: Any) -> Any:
    """A draft as the database can keep it: NUL characters removed (PostgreSQL text cannot hold them)
    and each text cut to a sane length. Drafts are not validated; completion validates."""
    if isinstance(value, Mapping):
        return {str(k)[:200]: storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value[:MAX_ROWS]]
    if isinstance(value, str):
        return value.replace("\x00", "")[:MAX_DRAFT_TEXT]
    return value


# -- values for the inputs ----------------------------------------------------------------------------

def input_datetime(moment: datetime) -> str:
    """A moment as a date-time input shows it and `forms` parses it back: dd/mm/yyyy HH:MM, Vietnam time
    (a naive moment is Vietnam wall time already, as `forms` reads a zone-less ISO value)."""
    return clock.local(moment).strftime("%d/%m/%Y %H:%M")


def input_date(day: date) -> str:
    """A day as a date input shows it: dd/mm/yyyy."""
    return day.strftime("%d/%m/%Y")


def _input_text(field: dict[str, Any], value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if field["type"] == "datetime" and isinstance(value, datetime):
        return input_datetime(value)
    if field["type"] == "datetime" and isinstance(value, str) and _ISO_DATETIME.fullmatch(value):
        # Stored ISO (or a zone-less prefill, Vietnam wall time as `forms` reads it) shown as typed.
        return input_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))
    if field["type"] == "date" and isinstance(value, date) and not isinstance(value, datetime):
        return input_date(value)
    if field["type"] == "date" and isinstance(value, str) and _ISO_DAY.fullmatch(value):
        return input_date(date.fromisoformat(value))
    return str(value)


def to_inputs(fields: Fields, data: Any) -> dict[str, Any]:
    """Stored (clean) or drafted data as the inputs show it; raw input passes through unchanged."""
    if not isinstance(data, Mapping):
        return {}
    out: dict[str, Any] = {}
    for field in fields:
        name = field["name"]
        if name not in data:
            continue
        value = data[name]
        kind = field["type"]
        if kind == "object":
            out[name] = to_inputs(field["fields"], value)
        elif kind == "list":
            out[name] = [to_inputs(field["fields"], row) for row in value] if isinstance(value, list) else []
        elif kind == "multichoice":
            out[name] = [str(v) for v in value] if isinstance(value, list) else ([str(value)] if value else [])
        else:
            out[name] = _input_text(field, value)
    return out


def defaults(fields: Fields) -> dict[str, Any]:
    """The defaults the form publishes (e.g. the legal bases of Mẫu 05)."""
    return {f["name"]: f["default"] for f in fields if "default" in f and not f.get("computed")}


# -- errors -------------------------------------------------------------------------------------------

def error_at(tree: Any, key: str) -> Any:
    return tree.get(key) if isinstance(tree, Mapping) else None


def messages(node: Any) -> list[str]:
    """The messages about this field or group itself (a group's own are under "_schema")."""
    if isinstance(node, list):
        return [str(m) for m in node if not isinstance(m, dict | list)]
    if isinstance(node, Mapping):
        return messages(node.get("_schema"))
    if isinstance(node, str):
        return [node]
    return []


def field_id(path: str) -> str:
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", path)


def summary(fields: Fields, errors: Any, prefix: str = "", trail: str = "") -> list[tuple[str, str, str]]:
    """Every error as (input id, field label, message), in the order of the form, for the list at the top."""
    if not isinstance(errors, Mapping):
        return [(field_id(prefix.rstrip(".") or "form"), trail, m) for m in messages(errors)]
    out: list[tuple[str, str, str]] = []
    known = {f["name"]: f for f in fields}
    for message in messages(errors.get("_schema")):
        out.append((field_id(prefix.rstrip(".") or "form"), trail, message))
    for name, field in known.items():
        node = errors.get(name)
        if node is None:
            continue
        label = f"{trail} › {field['label']}" if trail else field["label"]
        path = prefix + name
        if field["type"] == "list" and isinstance(node, Mapping):
            out.extend((field_id(path), label, m) for m in messages(node))
            for index, row in sorted(((k, v) for k, v in node.items() if str(k).isdigit()), key=lambda kv: int(kv[0])):
                out.extend(summary(field["fields"], row, f"{path}.{index}.",
                                   f"{label} › {_('Dòng %(n)s', n=int(index) + 1)}"))
        elif field["type"] == "object" and isinstance(node, Mapping):
            out.extend(summary(field["fields"], node, path + ".", label))
        else:
            out.extend((field_id(path), label, m) for m in messages(node))
    for name, node in errors.items():
        if name != "_schema" and name not in known:  # an error about something not on the page
            out.extend((field_id("form"), f"{trail} › {name}" if trail else str(name), m) for m in messages(node))
    return out


def install(app: Flask) -> None:
    """Template helpers used by templates/forms/macros.html."""
    app.add_template_global(error_at, "form_error_at")
    app.add_template_global(messages, "form_messages")
    app.add_template_global(field_id, "form_field_id")
    app.add_template_global(has_value, "form_has_value")
    app.add_template_global(fold, "fold_text")


FOLD_AT = 300  # characters of a long free text shown before "xem thêm"
FOLD_SLACK = 100  # a text at most this much longer is shown whole: folding would hide a line or two
FOLD_LINES = 6  # nor more lines than this (a list typed one item a line is tall at few characters)


def fold(text: Any, limit: int = FOLD_AT) -> str | None:
    """The head a long free text (a note of thousands of characters) shows folded, or None to show it whole.

    The head is about `limit` characters of the NFC text, cut at the last space or line break in its second half
    (or after FOLD_LINES lines), never inside a word when it has spaces; a run without any is cut between two
    letters, never between a letter and its combining marks (a decomposed Vietnamese "ệ" stays whole)."""
    if not isinstance(text, str):
        return None
    value = unicodedata.normalize("NFC", text).strip()
    breaks = [m.start() for m in re.finditer("\n", value)]
    by_lines = breaks[FOLD_LINES - 1] if len(breaks) >= FOLD_LINES else None
    if len(value) <= limit + FOLD_SLACK and by_lines is None:
        return None
    if by_lines is not None and by_lines <= limit:
        cut = by_lines
    else:
        spaces = [m.start() for m in re.finditer(r"\s", value[:limit + 1]) if m.start() >= limit // 2]
        cut = spaces[-1] if spaces else limit
        while cut > 0 and unicodedata.category(value[cut])[0] == "M":  # combining marks go with their letter
            cut -= 1
    head = value[:cut].rstrip()
    return head if head and len(head) < len(value) else None


def has_value(rendered: Fields) -> bool:
    """Whether any field of a rendered (read-only) group holds something worth showing."""
    for field in rendered:
        if field.get("items") or (field.get("fields") and field["type"] == "object" and has_value(field["fields"])):
            return True
        if field.get("display") not in (None, ""):
            return True
    return False
