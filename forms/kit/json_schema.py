"""JSON Schema (draft 2020-12) of a form's clean data, for the API.

It describes what ``validate`` returns and accepts back unchanged (dates ISO, datetimes with an
offset, optional fields null). ``validate`` is more lenient on input (dd/mm/yyyy dates, "14h30",
grouped amounts) and enforces rules JSON Schema cannot express (no date in the future, the child
under 16, 15-day separations); those are named in ``description``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marshmallow import Schema
from marshmallow import fields as ma_fields

from forms.kit import sensitivity
from forms.kit.description import _pick, field_choices, instance, nested_schema
from forms.kit.fields import json_edge_pattern, json_pattern
from forms.kit.messages import normalize_locale

if TYPE_CHECKING:
    from forms.kit.registry import FormSpec

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return {**schema, "type": [*types, "null"]}
    if "oneOf" in schema:
        return {**schema, "oneOf": [*schema["oneOf"], {"type": "null"}]}
    return {"anyOf": [schema, {"type": "null"}]}


def field_schema(field: ma_fields.Field, locale: str) -> dict[str, Any]:
    meta = field.metadata
    kind = meta.get("type", "string")
    out: dict[str, Any]
    if kind in ("string", "text"):
        out = {"type": "string", "maxLength": meta.get("max_length", 255)}
        if field.required:
            out["minLength"] = 1
        # What String refuses (controls, hidden and format characters, a line break in a one-line field),
        # or the field's own pattern (which admits none of those), declared so clients know before sending.
        own = getattr(field, "pattern", None)
        out["pattern"] = (json_edge_pattern(own.pattern, optional=not field.required) if own is not None
                          else json_pattern(multiline=kind == "text", required=field.required))
    elif kind == "integer":
        out = {"type": "integer"}
        if "min" in meta:
            out["minimum"] = meta["min"]
        if "max" in meta:
            out["maximum"] = meta["max"]
    elif kind == "boolean":
        out = {"type": "boolean"}
    elif kind == "date":
        out = {"type": "string", "format": "date"}
    elif kind == "datetime":
        out = {"type": "string", "format": "date-time"}
    elif kind == "choice":
        out = {"oneOf": [{"const": code, "title": label} for code, label in field_choices(field, locale) or []]}
    elif kind == "multichoice":
        out = {
            "type": "array",
            "uniqueItems": True,
            "items": {"oneOf": [{"const": code, "title": label}
                                for code, label in field_choices(field, locale) or []]},
        }
        if field.required:
            out["minItems"] = 1
    elif kind == "object":
        out = object_schema(_nested(field), locale)
    elif kind == "list":
        out = {
            "type": "array",
            "items": object_schema(_nested(field), locale),
            "minItems": max(meta.get("min_items", 0), 1 if field.required else 0),
            "maxItems": meta.get("max_items", 100),
        }
    else:
        out = {}
    out["title"] = _pick(meta, "label", locale)
    help_text = _pick(meta, "help", locale)
    if help_text:
        out["description"] = help_text
    if meta.get("computed"):
        out["readOnly"] = True
    if meta.get("provisional"):  # content not from the official form (e.g. Mẫu 06 section 1b)
        out["x-provisional"] = True
    # Who may read the value (forms/kit/sensitivity.py); a group's classes apply to everything in it. A value the
    # reader may not see comes back as "[đã ẩn]" whatever its type.
    classes = sensitivity.own_classes(field)
    if classes or nested_schema(field) is None:
        out["x-sensitivity"] = sorted(classes) or [sensitivity.BASIC]
    if "default" in meta:
        out["default"] = meta["default"]
    # Optional values come back as null; lists come back as [] and stay arrays.
    if not field.required and kind not in ("multichoice", "list"):
        out = _nullable(out)
    return out


def _condition(condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "properties": {key: {"const": value} for key, value in condition.items()},
        "required": list(condition),
    }


def _nested(field: ma_fields.Field) -> type[Schema]:
    schema = nested_schema(field)
    if schema is None:  # only Object and ObjectList fields are of kind object / list, and both nest one
        raise TypeError(f"{field!r} nests no schema")
    return schema


def object_schema(schema: type[Schema], locale: str) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    rules: list[dict[str, Any]] = []
    for name, field in instance(schema).fields.items():
        properties[name] = field_schema(field, locale)
        if field.required:
            required.append(name)
        meta = field.metadata
        if meta.get("required_if"):
            rules.append({
                "if": _condition(meta["required_if"]),
                "then": {"required": [name], "properties": {name: {"not": {"type": "null"}}}},
            })
        if meta.get("only_if"):
            rules.append({
                "if": {"not": _condition(meta["only_if"])},
                "then": {"properties": {name: {"type": "null"}}},
            })
    out: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if rules:
        out["allOf"] = rules
    return out


def schema_to_json_schema(spec: FormSpec, locale: str = "vi") -> dict[str, Any]:
    locale = normalize_locale(locale)
    out = {
        "$schema": DRAFT,
        "$id": f"urn:case56:form:{spec.name}:v{spec.version}",
        "title": spec.title(locale),
        "description": spec.article,
        "x-form": spec.name,
        "x-version": spec.version,
        "x-provisional": spec.provisional,
        **object_schema(spec.schema, locale),
    }
    return out
