"""Field parsing and error messages: strict but helpful, Vietnamese first, never a traceback."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import forms
from tests.forms.forms_samples import MINIMAL, NOW


def errors_of(name: str, data: Any, locale: str = "vi", now: dt.datetime | None = NOW) -> dict[str, Any]:
    with pytest.raises(forms.FormError) as caught:
        forms.validate(name, data, locale=locale, now=now)
    return caught.value.errors


def report(**changes: Any) -> dict[str, Any]:
    return {**MINIMAL["mau_01"], **changes}


# --- messages ---------------------------------------------------------------------------------


def test_required_field_message_in_vietnamese_and_english() -> None:
    data = {"category": "xam_hai", "channel": "phone"}
    assert errors_of("mau_01", data) == {"received_at": ["Trường này là bắt buộc."]}
    assert errors_of("mau_01", data, locale="en") == {"received_at": ["This field is required."]}
    assert errors_of("mau_01", data, locale="en_US") == {"received_at": ["This field is required."]}


def test_every_problem_is_reported_at_once_keyed_by_field() -> None:
    errors = errors_of("mau_01", {"channel": "fax", "received_at": "hôm qua",
                                  "child": {"sex": "x", "father": {"age": "bốn mươi"}}})
    assert errors["category"] == ["Trường này là bắt buộc."]
    assert errors["channel"][0].startswith("Lựa chọn không hợp lệ.")
    assert "hotline_111" in errors["channel"][0]
    assert errors["received_at"] == ["Ngày giờ không hợp lệ (dd/mm/yyyy HH:MM)."]
    assert errors["child"]["sex"][0].startswith("Lựa chọn không hợp lệ.")
    assert errors["child"]["father"]["age"] == ["Phải là số nguyên."]


def test_form_error_carries_codes_and_a_summary_without_values() -> None:
    with pytest.raises(forms.FormError) as caught:
        forms.validate("mau_01", report(child={"full_name": "Trần Thị B\x00"}), now=NOW)
    error = caught.value
    assert error.codes == {"child": {"full_name": ["bad_characters"]}}
    assert error.form == "mau_01" and error.version == 1 and error.locale == "vi"
    assert "child.full_name" in str(error) and "Trần" not in str(error)


def test_unknown_fields_are_rejected_not_kept() -> None:
    errors = errors_of("mau_01", report(ten_tre="B", child={"nickname": "Bé"}))
    assert errors == {"ten_tre": ["Trường này không có trong biểu mẫu."],
                      "child": {"nickname": ["Trường này không có trong biểu mẫu."]}}
    assert errors_of("verification", {**MINIMAL["verification"], "x": 1}, locale="en") == {
        "x": ["This field is not part of the form."]}


@pytest.mark.parametrize("data", [None, [], "text", 3, [{"category": "xam_hai"}]])
def test_input_that_is_not_an_object(data: Any) -> None:
    assert errors_of("mau_01", data) == {"_schema": ["Phải là một nhóm trường (đối tượng)."]}


def test_list_item_errors_are_keyed_by_index_as_string() -> None:
    plan = {"activities": [MINIMAL["mau_04"]["activities"][0], {"measure": "x", "level": "support"}]}
    errors = errors_of("mau_04", plan)
    assert set(errors["activities"]) == {"1"}
    assert errors["activities"]["1"]["assignee"] == ["Trường này là bắt buộc."]


# --- strings ------------------------------------------------------------------------------------


def test_strings_are_stripped_and_empty_optional_means_none() -> None:
    clean = forms.validate("mau_01", report(receiving_officer="  Ngô Thị F  ", place="", issuing_body="   "),
                           now=NOW)
    assert clean["receiving_officer"] == "Ngô Thị F"
    assert clean["place"] is None and clean["issuing_body"] is None


def test_blank_required_string_is_missing() -> None:
    assert errors_of("escalation_ack", {"note": "   "}) == {"note": ["Trường này là bắt buộc."]}
    assert errors_of("escalation_ack", {"note": None}) == {"note": ["Trường này là bắt buộc."]}


def test_vietnamese_text_is_normalised_to_composed_form() -> None:
    decomposed = "Nguye\u0302\u0303n"  # "Nguyễn" typed with combining marks
    clean = forms.validate("mau_01", report(receiving_officer=decomposed), now=NOW)
    assert clean["receiving_officer"] == "Nguyễn"


def test_one_line_fields_refuse_line_breaks_and_texts_keep_them() -> None:
    assert errors_of("mau_01", report(receiving_officer="a\nb")) == {
        "receiving_officer": ["Trường này không được xuống dòng."]}
    clean = forms.validate("escalation_ack", {"note": "dòng 1\r\ndòng 2"}, now=NOW)
    assert clean["note"] == "dòng 1\ndòng 2"


def test_length_limit_and_type() -> None:
    assert errors_of("mau_01", report(receiving_officer="x" * 256)) == {
        "receiving_officer": ["Tối đa 255 ký tự."]}
    assert errors_of("mau_01", report(receiving_officer="x" * 256), locale="en") == {
        "receiving_officer": ["At most 255 characters."]}
    assert errors_of("mau_01", report(receiving_officer=12)) == {"receiving_officer": ["Phải là văn bản."]}


def test_phone_format() -> None:
    informant = {"consent": True, "phone": "+84 912-345-678"}
    assert forms.validate("mau_01", report(informant=informant), now=NOW)["informant"]["phone"] == "+84 912-345-678"
    assert errors_of("mau_01", report(informant={"consent": True, "phone": "gọi sau"})) == {
        "informant": {"phone": ["Số điện thoại không hợp lệ."]}}


# --- numbers, booleans, choices ------------------------------------------------------------------


def _activity(**changes: Any) -> dict[str, Any]:
    return {"activities": [{**MINIMAL["mau_04"]["activities"][0], **changes}]}


@pytest.mark.parametrize(("typed", "value"), [(1500000, 1500000), ("1500000", 1500000), ("1.500.000", 1500000),
                                              ("1,500,000", 1500000), ("1 500 000", 1500000), (2.0, 2), (0, 0)])
def test_amounts_in_dong(typed: Any, value: int) -> None:
    assert forms.validate("mau_04", _activity(cost=typed), now=NOW)["activities"][0]["cost"] == value


@pytest.mark.parametrize("typed", [True, 1.5, "1.5", "1.50.000", "mười", float("nan"), float("inf"), [1],
                                   "\u0661\u0662"])  # Arabic-Indic digits are not taken for ASCII ones
def test_not_an_amount(typed: Any) -> None:
    assert errors_of("mau_04", _activity(cost=typed)) == {"activities": {"0": {"cost": ["Phải là số nguyên."]}}}


def test_number_bounds() -> None:
    assert errors_of("mau_04", _activity(cost=-1)) == {"activities": {"0": {"cost": ["Giá trị nhỏ nhất là 0."]}}}
    assert errors_of("mau_01", report(child={"estimated_age": 16}), locale="en") == {
        "child": {"estimated_age": ["Must be at most 15."]}}


@pytest.mark.parametrize(("typed", "value"), [(True, True), ("true", True), ("có", True), ("1", True),
                                              (False, False), ("không", False), ("off", False), (0, False)])
def test_booleans(typed: Any, value: bool) -> None:
    assert forms.validate("verification", {"has_basis": typed, "findings": "x", "reason_no_basis": "y"},
                          now=NOW)["has_basis"] is value


def test_optional_boolean_default_and_bad_boolean() -> None:
    assert forms.validate("mau_01", report(), now=NOW)["crime_suspected"] is False
    assert forms.validate("mau_01", report(crime_suspected=""), now=NOW)["crime_suspected"] is False
    assert errors_of("mau_01", report(crime_suspected="maybe")) == {"crime_suspected": ["Phải là Có hoặc Không."]}
    assert errors_of("verification", {"has_basis": 2, "findings": "x"}, locale="en") == {
        "has_basis": ["Must be yes or no."]}


def test_multichoice_accepts_one_code_and_drops_duplicates() -> None:
    clean = forms.validate("mau_01", report(abuse_forms="bao_luc"), now=NOW)
    assert clean["abuse_forms"] == ["bao_luc"]
    clean = forms.validate("mau_01", report(abuse_forms=["bo_mac", "bao_luc", "bo_mac"]), now=NOW)
    assert clean["abuse_forms"] == ["bo_mac", "bao_luc"]
    assert forms.validate("mau_01", report(), now=NOW)["abuse_forms"] == []
    assert "abuse_forms" in errors_of("mau_01", report(abuse_forms=["danh_dap"]))
    assert errors_of("mau_01", report(abuse_forms={"bao_luc": True})) == {"abuse_forms": ["Phải là một danh sách."]}


# --- dates and datetimes ----------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["2015-02-01", "01/02/2015", "1/2/2015", " 01/02/2015 "])
def test_dates_iso_and_vietnamese(typed: str) -> None:
    clean = forms.validate("mau_01", report(child={"date_of_birth": typed}), now=NOW)
    assert clean["child"]["date_of_birth"] == "2015-02-01"


@pytest.mark.parametrize("typed", ["31/02/2015", "2015-2-1", "02/01/15", "2015/02/01", "20150201", 20150201,
                                   "2015-W05-7", "01-02-2015", "\u0660\u0661/02/2015"])
def test_invalid_dates(typed: Any) -> None:
    assert errors_of("mau_01", report(child={"date_of_birth": typed})) == {
        "child": {"date_of_birth": ["Ngày không hợp lệ (dd/mm/yyyy)."]}}
    assert errors_of("mau_01", report(child={"date_of_birth": typed}), locale="en") == {
        "child": {"date_of_birth": ["Invalid date (dd/mm/yyyy)."]}}


def test_year_out_of_range() -> None:
    assert errors_of("mau_01", report(child={"date_of_birth": "01/01/1850"})) == {
        "child": {"date_of_birth": ["Năm phải trong khoảng 1900–2100."]}}


@pytest.mark.parametrize(("typed", "clean"), [
    ("2026-03-09T14:30:00+07:00", "2026-03-09T14:30:00+07:00"),
    ("2026-03-09T14:30", "2026-03-09T14:30:00+07:00"),          # naive = Vietnam time
    ("2026-03-09 14:30:15", "2026-03-09T14:30:15+07:00"),
    ("2026-03-09T07:30:00Z", "2026-03-09T14:30:00+07:00"),      # converted to +07:00
    ("2026-03-09T09:30:00+02:00", "2026-03-09T14:30:00+07:00"),
    ("09/03/2026 14:30", "2026-03-09T14:30:00+07:00"),
    ("9/3/2026 14h30", "2026-03-09T14:30:00+07:00"),
    ("2026-03-09T14:30:00.250+07:00", "2026-03-09T14:30:00.250000+07:00"),
])
def test_datetimes_iso_and_vietnamese(typed: str, clean: str) -> None:
    assert forms.validate("mau_01", report(received_at=typed), now=NOW)["received_at"] == clean


@pytest.mark.parametrize("typed", ["09/03/2026", "2026-03-09", "2026-03-09T25:00", "09/03/2026 14:61", "hôm qua",
                                   "2026-03-09T14:30+25:00", 1741500000])
def test_invalid_datetimes(typed: Any) -> None:
    assert errors_of("mau_01", report(received_at=typed)) == {
        "received_at": ["Ngày giờ không hợp lệ (dd/mm/yyyy HH:MM)."]}


def test_python_dates_and_datetimes_are_accepted_too() -> None:
    moment = dt.datetime(2026, 3, 9, 14, 30)
    clean = forms.validate("mau_01", report(received_at=moment, child={"date_of_birth": dt.date(2015, 2, 1)}),
                           now=NOW)
    assert clean["received_at"] == "2026-03-09T14:30:00+07:00"
    assert clean["child"]["date_of_birth"] == "2015-02-01"
