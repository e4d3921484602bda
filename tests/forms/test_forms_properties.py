"""Property-based tests on every registered form: any input gives a FormError or valid data, and
valid data is JSON-native, conforms to the published JSON Schema and round-trips unchanged."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forms
from tests.forms.forms_samples import FULL, MINIMAL, NOW
from tests.forms.forms_testkit import (
    assert_error_tree,
    assert_json_native,
    json_schema_errors,
    json_values,
    mutations_of,
    object_values,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=False)


@functools.cache
def field_names(name: str) -> list[str]:
    return [field["name"] for field in forms.describe(name)["fields"]]


@functools.cache
def published_schema(name: str) -> dict[str, Any]:
    return forms.json_schema(name)


@functools.cache
def strategy(name: str) -> st.SearchStrategy[Any]:
    fields = forms.describe(name)["fields"]
    return object_values(fields) | mutations_of(FULL[name], fields) | mutations_of(MINIMAL[name], fields)


def check(name: str, data: Any, locale: str = "vi") -> dict[str, Any] | None:
    """The invariant: FormError (well-formed, translated) or clean data that round-trips."""
    try:
        clean = forms.validate(name, data, locale=locale, now=NOW)
    except forms.FormError as error:
        assert_error_tree(error.errors, error.codes)
        assert error.form == name
        return None
    assert_json_native(clean)
    assert list(clean) == field_names(name)
    assert json_schema_errors(published_schema(name), clean) == []
    assert forms.validate(name, clean, now=NOW) == clean
    return clean


@pytest.mark.parametrize("name", forms.names())
@SETTINGS
@given(data=st.dictionaries(st.text(max_size=12), json_values, max_size=6) | json_values)
def test_arbitrary_input_never_crashes(name: str, data: Any) -> None:
    check(name, data)


@pytest.mark.parametrize("name", forms.names())
@SETTINGS
@given(data=st.data())
def test_fuzzed_fields_give_error_or_clean_data(name: str, data: st.DataObject) -> None:
    value = data.draw(strategy(name))
    check(name, value, locale=data.draw(st.sampled_from(["vi", "en"])))


@pytest.mark.parametrize("name", forms.names())
def test_samples_are_valid_and_round_trip(name: str) -> None:
    for sample in (MINIMAL[name], FULL[name]):
        assert check(name, sample) is not None
