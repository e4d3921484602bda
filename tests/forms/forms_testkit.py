"""Helpers for the forms tests: a small JSON Schema checker and hypothesis strategies built from
``describe()`` (so the strategies follow every registered form, including future ones)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from hypothesis import strategies as st

from forms.kit import messages

JSON_SCALARS = (str, int, float, bool, type(None))


def assert_json_native(value: Any, path: str = "$") -> None:
    """Only str, int, float, bool, None, list and dict with str keys."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{path}: key {key!r} is not a str"
            assert_json_native(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_json_native(item, f"{path}[{index}]")
    else:
        assert type(value) in JSON_SCALARS, f"{path}: {type(value).__name__} is not JSON-native"
    assert json.loads(json.dumps(value)) == value


def assert_error_tree(errors: Any, codes: Any) -> None:
    """A FormError tree: str keys, leaves are non-empty lists of translated messages, and every
    code behind them is in the catalogue (no marshmallow English default slipped through)."""
    assert isinstance(errors, dict) and errors
    assert isinstance(codes, dict) and set(codes) == set(errors)
    for key, value in errors.items():
        assert isinstance(key, str)
        if isinstance(value, dict):
            assert_error_tree(value, codes[key])
        else:
            assert isinstance(value, list) and value
            for message, raw in zip(value, codes[key], strict=True):
                assert isinstance(message, str) and message
                assert messages.known(raw), f"untranslated message code {raw!r} at {key}"


# --- a checker for the subset of JSON Schema that forms.kit.json_schema emits ------------------------

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def json_schema_errors(schema: dict[str, Any], value: Any, path: str = "$") -> list[str]:
    errors: list[str] = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return [f"{path}: {value!r} is not {types}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: not {schema['const']!r}")
    if "oneOf" in schema:
        matching = [s for s in schema["oneOf"] if not json_schema_errors(s, value, path)]
        if len(matching) != 1:
            errors.append(f"{path}: {value!r} matches {len(matching)} of oneOf")
    if "anyOf" in schema and not any(not json_schema_errors(s, value, path) for s in schema["anyOf"]):
        errors.append(f"{path}: matches none of anyOf")
    if "not" in schema and not json_schema_errors(schema["not"], value, path):
        errors.append(f"{path}: matches 'not'")
    if isinstance(value, str):
        if len(value) > schema.get("maxLength", 10**9) or len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: length")
        if schema.get("format") == "date" and not _DATE.fullmatch(value):
            errors.append(f"{path}: not a date")
        if schema.get("format") == "date-time":
            try:
                assert dt.datetime.fromisoformat(value).tzinfo is not None
            except (ValueError, AssertionError):
                errors.append(f"{path}: not a date-time with offset")
    if isinstance(value, int) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: below minimum")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: above maximum")
    if isinstance(value, list):
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", 10**9):
            errors.append(f"{path}: item count")
        if schema.get("uniqueItems") and len({json.dumps(v) for v in value}) != len(value):
            errors.append(f"{path}: duplicate items")
        for index, item in enumerate(value):
            errors += json_schema_errors(schema.get("items", {}), item, f"{path}[{index}]")
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path}: missing {name}")
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                errors += json_schema_errors(properties[key], item, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: extra property {key}")
    for rule in schema.get("allOf", []):
        if "if" in rule:
            branch = rule.get("then") if not json_schema_errors(rule["if"], value, path) else rule.get("else")
            if branch:
                errors += json_schema_errors(branch, value, path)
        else:
            errors += json_schema_errors(rule, value, path)
    return errors


# --- hypothesis strategies -------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)

_dates = st.dates(min_value=dt.date(1895, 1, 1), max_value=dt.date(2030, 12, 31))
_datetimes = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2030, 12, 31),
                          timezones=st.none() | st.just(dt.UTC) | st.just(dt.timezone(dt.timedelta(hours=7))))


def _date_text(day: dt.date) -> st.SearchStrategy[str]:
    return st.sampled_from([day.isoformat(), day.strftime("%d/%m/%Y"), f"{day.day}/{day.month}/{day.year}"])


def _datetime_text(moment: dt.datetime) -> st.SearchStrategy[str]:
    return st.sampled_from([moment.isoformat(), moment.strftime("%d/%m/%Y %H:%M"),
                            moment.strftime("%d/%m/%Y %Hh%M")])


def plausible(field: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the right kind for a described field, valid or nearly so."""
    kind = field["type"]
    if kind == "string":
        return st.text(max_size=40) | st.sampled_from(["", "  Nguyễn Văn A ", "a\nb", "x" * 300])
    if kind == "text":
        return st.text(max_size=80) | st.sampled_from(["", "dòng 1\r\ndòng 2", "\x00"])
    if kind == "integer":
        low, high = field.get("min", -5), field.get("max", 10**6)
        return st.integers(low - 2, high + 2) | st.integers(low, high).map(str) | st.just("1.500.000")
    if kind == "boolean":
        return st.booleans() | st.sampled_from(["true", "false", "có", "không", "1", "", "maybe"])
    if kind == "date":
        return _dates.flatmap(_date_text) | st.sampled_from(["31/02/2026", "2026-13-01", ""])
    if kind == "datetime":
        return _datetimes.flatmap(_datetime_text) | st.sampled_from(["2026-03-09", "25:00 1/1/2026"])
    codes = [code for code, _ in field.get("choices", [])]
    if kind == "choice":
        return st.sampled_from([*codes, "khac_la", ""])
    if kind == "multichoice":
        return st.lists(st.sampled_from([*codes, "khac_la"]), max_size=4) | st.sampled_from(codes)
    if kind == "object":
        return object_values(field["fields"])
    if kind == "list":
        return st.lists(object_values(field["fields"]), max_size=3)
    return json_values


def fuzzed(field: dict[str, Any]) -> st.SearchStrategy[Any]:
    return st.one_of(plausible(field), plausible(field), json_values)


def object_values(fields: list[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={field["name"]: fuzzed(field) for field in fields})


def mutations_of(sample: dict[str, Any], fields: list[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid sample with some fields replaced by fuzzed values, some dropped, maybe one unknown."""
    by_name = {field["name"]: field for field in fields}

    def build(draw: st.DrawFn) -> dict[str, Any]:
        data = dict(sample)
        for name in draw(st.lists(st.sampled_from(sorted(by_name)), max_size=3, unique=True)):
            if draw(st.booleans()):
                data[name] = draw(fuzzed(by_name[name]))
            else:
                data.pop(name, None)
        if draw(st.integers(0, 9)) == 0:
            data[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
        return data

    return st.composite(build)()
