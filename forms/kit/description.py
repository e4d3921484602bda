"""Self-description of schemas for the web renderer, and display of stored data."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError
from marshmallow import fields as ma_fields

from forms.kit.choices import Choices
from forms.kit.fields import VN_TZ, Object, ObjectList, parse_date, parse_datetime
from forms.kit.messages import normalize_locale


@functools.cache
def instance(schema: type[Schema]) -> Schema:
    """One instance per schema class: loading and dumping keep no state on the instance, and
    building one (copying every field) costs more than a validation."""
    return schema()


# Appended to the label of a field whose content is not from the official form (e.g. Mẫu 06 section 1b).
PROVISIONAL_MARK = {"vi": " (tạm thời — chưa đối chiếu mẫu chính thức)",
                    "en": " (provisional — not checked against the official form)"}


# Appended to the label of a field the official form does not have (case56's own additions, e.g. on Mẫu 01).
UNOFFICIAL_MARK = {"vi": " [ngoài mẫu chính thức]", "en": " [not on the official form]"}


def _pick(meta: Mapping[str, Any], key: str, locale: str) -> str | None:
    return meta.get(f"{key}_{locale}") or meta.get(f"{key}_vi")


def field_choices(field: ma_fields.Field, locale: str) -> list[tuple[str, str]] | None:
    enum: type[Choices] | None = field.metadata.get("choices")
    if enum is None:
        return None
    overrides = field.metadata.get("choice_labels") or {}
    index = 1 if locale == "en" else 0
    return [(code, overrides[code][index] if code in overrides else label)
            for code, label in enum.items(locale)]


def nested_schema(field: ma_fields.Field) -> type[Schema] | None:
    if isinstance(field, ObjectList):
        return field.nested_schema
    if isinstance(field, Object):
        nested = field.nested
        return nested if isinstance(nested, type) else type(nested)
    return None


def describe_field(name: str, field: ma_fields.Field, locale: str) -> dict[str, Any]:
    meta = field.metadata
    entry: dict[str, Any] = {
        "name": name,
        "type": meta.get("type", "string"),
        "label": _pick(meta, "label", locale) or name,
        "help": _pick(meta, "help", locale),
        "required": bool(field.required),
    }
    choices = field_choices(field, locale)
    if choices is not None:
        entry["choices"] = choices
    nested = nested_schema(field)
    if nested is not None:
        entry["fields"] = describe_schema(nested, locale)
    if "default" in meta:
        entry["default"] = meta["default"]
    for key in ("required_if", "only_if", "max_length", "min", "max", "min_items",
                "max_items", "past", "computed", "format", "unofficial", "provisional"):
        if meta.get(key) not in (None, False, {}):
            entry[key] = meta[key]
    if meta.get("provisional"):  # an item not in the official text: said in the label, so every page shows it
        entry["label"] += PROVISIONAL_MARK[locale]
    if meta.get("unofficial"):  # said in the label, so the step page, the API and the dossier all show it
        entry["label"] += UNOFFICIAL_MARK[locale]
    return entry


def describe_schema(schema: type[Schema], locale: str = "vi") -> list[dict[str, Any]]:
    locale = normalize_locale(locale)
    return [describe_field(name, field, locale) for name, field in instance(schema).fields.items()]


# ---------------------------------------------------------------------------------------------
# Display of stored values (tolerant: stored data is shown even if a rule changed since)

_YES_NO = {"vi": ("Có", "Không"), "en": ("Yes", "No")}


def display_value(field: ma_fields.Field, value: Any, locale: str) -> str:
    kind = field.metadata.get("type")
    if value is None or value == []:
        return ""
    try:
        if kind == "boolean" and isinstance(value, bool):
            yes, no = _YES_NO[locale]
            return yes if value else no
        if kind == "date":
            return parse_date(value).strftime("%d/%m/%Y")
        if kind == "datetime":
            return parse_datetime(value).astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")
        if kind == "integer" and field.metadata.get("money") and isinstance(value, int):
            return f"{value:,}".replace(",", ".") + (" đồng" if locale == "vi" else " VND")
        if kind in ("choice", "multichoice"):
            labels = dict(field_choices(field, locale) or [])
            codes = value if isinstance(value, list) else [value]
            return "; ".join(labels.get(str(code), str(code)) for code in codes)
    except (ValidationError, ValueError, TypeError):  # odd stored value: show it as it is
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def render_data(schema: type[Schema], data: Any, locale: str = "vi") -> tuple[list[dict[str, Any]], dict]:
    """Fields of ``schema`` described, each with the stored ``value`` and its ``display`` text;
    groups get their own ``fields``, lists get ``items`` (one field list per item)."""
    locale = normalize_locale(locale)
    stored = data if isinstance(data, Mapping) else {}
    fields_out: list[dict[str, Any]] = []
    fields = instance(schema).fields
    for name, field in fields.items():
        entry = describe_field(name, field, locale)
        value = stored.get(name)
        entry["value"] = value
        nested = nested_schema(field)
        if isinstance(field, ObjectList) and nested is not None:
            items = value if isinstance(value, list) else []
            rendered = [render_data(nested, item, locale) for item in items]
            entry["items"] = [item_fields for item_fields, _ in rendered]
            entry["items_extra"] = [item_extra for _, item_extra in rendered]
            entry["display"] = ""
        elif nested is not None:
            entry["fields"], entry["extra"] = render_data(nested, value, locale)
            entry["display"] = ""
        else:
            entry["display"] = display_value(field, value, locale)
        fields_out.append(entry)
    extra = {str(key): value for key, value in stored.items() if key not in fields}
    return fields_out, extra
