"""The registry API: names, specs, describe(), json_schema(), versions and rendering old data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import forms
from forms.kit import fields as f
from forms.kit.schema import FormSchema
from tests.forms.forms_samples import FULL, MINIMAL, NOW
from tests.forms.forms_testkit import json_schema_errors

CONTRACT_FORMS = {
    "mau_01", "verification", "no_basis_signoff", "mau_02", "emergency_decision", "separation_review", "mau_03",
    "needs_meeting", "needs_meeting_signoff", "mau_04", "mau_05", "plan_approval", "activity_report", "mau_06",
    "plan_end", "police_referral", "police_outcome", "escalation_ack", "transfer", "reopen",
    # personal data protection (issue 18): not official layouts, so provisional
    "legal_representative", "data_request", "data_request_ack", "data_request_handle", "breach_report",
    "breach_notification", "breach_closure",
    # issue 16 (law in force): the Art. 31 measures apart from the Mẫu 07 separation (Art. 32), the request that
    # starts it at any point of a case, the court request and decision (Art. 32.3, Law Art. 52.3), the plan
    # adjustment and its approval (Art. 29.1a)
    "emergency_measures", "mau_07", "separation_request", "court_request", "court_decision", "plan_adjustment",
    "adjustment_approval",
}
# Forms past their first version (older versions stay registered for the data stored under them).
# mau_04 v2: the planned review date sets the review limit, so it is checked; issue 16 (law in force): mau_03 v2
# Art. 27.1 a–h, needs_meeting v2 chaired by the chairman, mau_04 v3 Art. 28.3, mau_05 v2 distribution (28.5),
# mau_06 v2 official section 1a wording.
VERSIONS = {"mau_03": 2, "mau_04": 3, "mau_05": 2, "mau_06": 2, "needs_meeting": 2, "separation_review": 2}
PROVISIONAL = {"mau_02", "mau_03", "mau_04", "mau_05", "mau_06", "needs_meeting", "needs_meeting_signoff",
               "no_basis_signoff", "emergency_decision",
               "separation_review", "plan_approval", "plan_end",
               "legal_representative", "data_request", "data_request_ack", "data_request_handle", "breach_report",
               "breach_notification", "breach_closure",
               "emergency_measures", "mau_07", "separation_request", "court_request", "court_decision",
               "plan_adjustment", "adjustment_approval"}

# Fields the BPMN gateways, scripts and the engine read: (type, required).
ROUTING = {
    "mau_01": {"received_at": ("datetime", True), "crime_suspected": ("boolean", False),
               "category": ("choice", True), "commune_code": ("string", False),
               "abuse_forms": ("multichoice", False), "environment": ("choice", False)},
    "verification": {"has_basis": ("boolean", True)},
    "no_basis_signoff": {"confirm": ("boolean", True)},
    "mau_02": {"emergency": ("boolean", True), "danger_description": ("text", False)},
    "emergency_decision": {"separate": ("boolean", True), "separation_start": ("date", False),
                           "separation_end": ("date", False), "decided_at": ("datetime", True)},
    "separation_review": {"action": ("choice", True), "new_end": ("date", False), "current_start": ("date", False),
                          "reassessment_task_id": ("integer", False), "authority_reference": ("text", False)},
    "emergency_measures": {"separate": ("boolean", True), "decided_at": ("datetime", True)},
    "separation_request": {"information_received_at": ("datetime", True), "ground": ("choice", True)},
    "mau_07": {"decision": ("choice", True), "start": ("date", False), "end": ("date", False)},
    "court_decision": {"outcome": ("choice", True), "until": ("date", False), "decision_number": ("string", True),
                       "decision_date": ("date", True), "court_name": ("string", True)},
    "plan_adjustment": {"activities": ("list", True), "planned_review_on": ("date", False)},
    "adjustment_approval": {"decision": ("choice", True)},
    "mau_04": {"activities": ("list", True), "planned_review_on": ("date", False)},
    "plan_approval": {"decision": ("choice", True)},
    "activity_report": {"status": ("choice", True)},
    "mau_06": {"conclusion": ("choice", True)},
    "plan_end": {"decision": ("choice", True)},
    "police_outcome": {"outcome": ("choice", True)},
    "transfer": {"to_commune": ("string", True)},
}
TYPES = {"string", "text", "integer", "boolean", "date", "datetime", "choice", "multichoice", "object", "list"}


def by_name(described: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {field["name"]: field for field in described["fields"]}


# --- names and specs -----------------------------------------------------------------------------------


def test_names_are_the_contract_forms() -> None:
    assert set(forms.names()) == CONTRACT_FORMS
    assert forms.names() == sorted(forms.names())


def test_each_form_is_the_module_named_after_it() -> None:
    """README's promise: a step's form is forms/<name>.py (every version of it); the toolkit is forms/kit/."""
    for name in CONTRACT_FORMS:
        assert {forms.get(name, v).schema.__module__ for v in forms.versions(name)} == {f"forms.{name}"}
    modules = {path.stem for path in Path(forms.__file__).parent.glob("*.py")} - {"__init__"}
    assert modules == CONTRACT_FORMS


@pytest.mark.parametrize("name", sorted(CONTRACT_FORMS))
def test_spec_metadata(name: str) -> None:
    spec = forms.get(name)
    assert isinstance(spec, forms.FormSpec)
    assert spec.name == name and spec.version == VERSIONS.get(name, 1)
    assert spec.title_vi and spec.title_en and spec.title_vi != spec.title_en
    assert "Điều" in spec.article
    assert spec.provisional is (name in PROVISIONAL)
    assert issubclass(spec.schema, FormSchema)
    assert forms.get(name, spec.version) == spec and forms.versions(name)[0] == 1


def test_unknown_form_is_a_key_error() -> None:
    with pytest.raises(forms.UnknownForm) as caught:
        forms.get("mau_99")
    assert isinstance(caught.value, KeyError)
    assert "mau_99" in str(caught.value)
    with pytest.raises(KeyError):
        forms.get("mau_01", version=7)
    for call in (lambda: forms.validate("nope", {}), lambda: forms.describe("nope"),
                 lambda: forms.json_schema("nope"), lambda: forms.render("nope", {})):
        with pytest.raises(forms.UnknownForm):
            call()


def test_registering_the_same_version_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):
        forms.register(forms.get("mau_01").schema)


@pytest.mark.parametrize(("name", "routing"), sorted(ROUTING.items()))
def test_routing_fields_keep_their_names_and_types(name: str, routing: dict[str, tuple[str, bool]]) -> None:
    described = by_name(forms.describe(name))
    for field, (kind, required) in routing.items():
        assert (described[field]["type"], described[field]["required"]) == (kind, required), field


# --- describe() ------------------------------------------------------------------------------------------


def _check_described_fields(fields: list[dict[str, Any]]) -> None:
    assert fields and len({field["name"] for field in fields}) == len(fields)
    for field in fields:
        assert field["type"] in TYPES
        assert isinstance(field["label"], str) and field["label"]
        assert isinstance(field["required"], bool)
        if field["type"] in ("choice", "multichoice"):
            assert field["choices"] and all(isinstance(c, tuple) and len(c) == 2 for c in field["choices"])
        if field["type"] in ("object", "list"):
            _check_described_fields(field["fields"])


@pytest.mark.parametrize("name", sorted(CONTRACT_FORMS))
def test_describe_every_form(name: str) -> None:
    vi, en = forms.describe(name), forms.describe(name, locale="en")
    spec = forms.get(name)
    assert vi["name"] == name and vi["version"] == VERSIONS.get(name, 1) and vi["article"] == spec.article
    assert vi["title"] == spec.title_vi and en["title"] == spec.title_en
    assert vi["provisional"] is spec.provisional
    _check_described_fields(vi["fields"])
    assert [field["name"] for field in vi["fields"]] == list(spec.schema().fields)
    assert [field["name"] for field in en["fields"]] == [field["name"] for field in vi["fields"]]
    json.dumps(vi)


def test_describe_mau_01_in_detail() -> None:
    vi, en = by_name(forms.describe("mau_01")), by_name(forms.describe("mau_01", locale="en"))
    assert vi["received_at"]["label"] == "Giờ, ngày tiếp nhận thông tin"
    assert en["received_at"]["label"] == "Hour and date the information was received"
    assert "Điều 25" in vi["received_at"]["help"] and vi["received_at"]["past"] is True
    assert vi["category"]["choices"][0] == ("xam_hai", "Trẻ em bị xâm hại")
    assert en["category"]["choices"][0] == ("xam_hai", "Child abused")
    assert vi["crime_suspected"]["default"] is False and "25.3" in vi["crime_suspected"]["help"]
    child = by_name(vi["child"])
    assert child["sex"]["choices"] == [("male", "Nam"), ("female", "Nữ"), ("unknown", "Chưa xác định")]
    assert [field["name"] for field in child["father"]["fields"]] == ["name", "age", "occupation"]
    informant = by_name(vi["informant"])
    assert informant["phone"]["only_if"] == {"consent": True}


def test_describe_conditions_and_computed_fields() -> None:
    mau_02 = by_name(forms.describe("mau_02"))
    assert mau_02["danger_description"]["required_if"] == {"emergency": True}
    assert mau_02["risk_total"]["computed"] is True
    mau_06 = by_name(forms.describe("mau_06", locale="en"))
    assert mau_06["danger_total"]["computed"] and mau_06["strength_total"]["computed"]
    # "Cao" means danger in section 1 and strength in the self-protection section.
    assert by_name(mau_06["harm_still_serious"])["rating"]["choices"][0] == ("cao", "High")
    assert by_name(mau_06["self_protection"])["rating"]["choices"][0] == ("cao", "High (strong ability)")
    activities = by_name(forms.describe("mau_04"))["activities"]
    assert activities["type"] == "list" and activities["min_items"] == 1
    assert by_name(activities)["level"]["choices"] == [("support", "Hỗ trợ (Điều 49 Luật Trẻ em)"),
                                                       ("intervention", "Can thiệp (Điều 50 Luật Trẻ em)")]


# --- json_schema() -----------------------------------------------------------------------------------------


def _walk(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield schema
    for value in schema.values():
        if isinstance(value, dict):
            yield from _walk(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from _walk(item)


@pytest.mark.parametrize("name", sorted(CONTRACT_FORMS))
def test_json_schema_every_form(name: str) -> None:
    schema = forms.json_schema(name)
    described = forms.describe(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:case56:form:{name}:v{VERSIONS.get(name, 1)}"
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert list(schema["properties"]) == [field["name"] for field in described["fields"]]
    assert schema["required"] == [field["name"] for field in described["fields"] if field["required"]]
    assert schema["x-provisional"] is described["provisional"]
    json.dumps(schema)
    for sample in (MINIMAL[name], FULL[name]):
        assert json_schema_errors(schema, forms.validate(name, sample, now=NOW)) == []
    assert json_schema_errors(schema, {"unexpected": 1})  # the checker does check


def test_json_schema_details() -> None:
    schema = forms.json_schema("mau_02")
    assert schema["properties"]["emergency"] == {
        "type": "boolean", "title": schema["properties"]["emergency"]["title"],
        "description": schema["properties"]["emergency"]["description"], "x-sensitivity": ["basic"]}
    assert schema["properties"]["risk_total"]["readOnly"] is True
    clean = forms.validate("mau_02", {"emergency": True, "danger_description": "x"}, now=NOW)
    assert json_schema_errors(schema, {**clean, "danger_description": None})  # if/then rule published
    mau_01 = forms.json_schema("mau_01", locale="en")
    assert mau_01["properties"]["received_at"]["format"] == "date-time"
    assert mau_01["properties"]["category"]["oneOf"][0] == {"const": "xam_hai", "title": "Child abused"}
    informant = mau_01["properties"]["informant"]
    assert json_schema_errors(informant, {**forms.validate("mau_01", FULL["mau_01"], now=NOW)["informant"],
                                          "consent": False})  # contact only with consent
    assert all(s.get("type") != "number" for s in _walk(mau_01))
    # Who may read each value (forms/kit/sensitivity.py): groups carry theirs, free text is sensitive.
    assert informant["x-sensitivity"] == ["informant"] and mau_01["properties"]["child"]["x-sensitivity"] == ["private"]
    assert informant["properties"]["notes"]["x-sensitivity"] == ["sensitive"]
    assert mau_01["properties"]["received_at"]["x-sensitivity"] == ["basic"]


# --- versions: data stored under an older version still validates, describes and renders ----------------------


class VerificationV2(FormSchema):
    """A corrected layout: 'findings' renamed, a required field added."""

    class Meta:
        name = "verification"
        version = 2
        title_vi = "Kết quả xác minh thông tin (mẫu sửa đổi)"
        title_en = "Verification of the report (revised)"
        article = "Điều 26.1 NĐ 56/2017/NĐ-CP"
        provisional = False

    has_basis = f.boolean("Thông tin có căn cứ", "The report has a basis", required=True)
    result_summary = f.text("Tóm tắt kết quả xác minh", "Summary of the verification", required=True)
    method = f.string("Cách thức xác minh", "How it was verified", required=True)


@pytest.fixture
def verification_v2() -> Iterator[None]:
    forms.register(VerificationV2)
    try:
        yield
    finally:
        forms.unregister("verification", 2)


STORED_V1 = {"has_basis": True, "findings": "Nhà trường xác nhận.", "sources": None, "child_unsafe": True,
             "preliminary_risk": "cao", "reason_no_basis": None, "verified_at": "2026-03-09T18:00:00+07:00",
             "verifier_name": "Ngô Thị F"}


@pytest.mark.usefixtures("verification_v2")
def test_newest_version_by_default_older_still_registered() -> None:
    assert forms.get("verification").version == 2
    assert forms.versions("verification") == [1, 2]
    assert forms.get("verification", 1).schema is not VerificationV2
    assert "result_summary" in by_name(forms.describe("verification"))
    assert forms.json_schema("verification")["$id"] == "urn:case56:form:verification:v2"


@pytest.mark.usefixtures("verification_v2")
def test_data_stored_under_v1_still_validates_under_v1_only() -> None:
    assert forms.validate("verification", STORED_V1, version=1, now=NOW) == STORED_V1
    with pytest.raises(forms.FormError) as caught:
        forms.validate("verification", STORED_V1, now=NOW)
    assert caught.value.version == 2
    assert caught.value.errors["findings"] == ["Trường này không có trong biểu mẫu."]
    assert caught.value.errors["method"] == ["Trường này là bắt buộc."]


@pytest.mark.usefixtures("verification_v2")
def test_data_stored_under_v1_describes_and_renders_under_v1() -> None:
    described = forms.describe("verification", version=1)
    assert described["version"] == 1 and "findings" in by_name(described)
    rendered = forms.render("verification", STORED_V1, version=1)
    assert rendered["version"] == 1 and rendered["extra"] == {}
    fields = by_name(rendered)
    assert fields["findings"]["label"] == "Kết quả xác minh"
    assert fields["findings"]["display"] == "Nhà trường xác nhận."
    assert fields["has_basis"]["display"] == "Có"
    assert fields["preliminary_risk"]["display"] == "Cao"
    assert fields["verified_at"]["display"] == "09/03/2026 18:00"
    assert fields["sources"]["display"] == ""
    english = by_name(forms.render("verification", STORED_V1, version=1, locale="en"))
    assert english["has_basis"]["display"] == "Yes" and english["findings"]["label"] == "Findings"
    # Rendered under the newest version instead, the old keys are not lost: they come back as extra.
    newest = forms.render("verification", STORED_V1)
    assert newest["version"] == 2 and newest["extra"]["findings"] == "Nhà trường xác nhận."


def test_unregistering_restores_v1() -> None:
    assert forms.get("verification").version == 1
    assert forms.versions("verification") == [1]


# --- render() ------------------------------------------------------------------------------------------------


def test_render_nested_groups_lists_and_choices() -> None:
    stored = forms.validate("mau_01", FULL["mau_01"], now=NOW)
    rendered = forms.render("mau_01", stored)
    fields = by_name(rendered)
    assert fields["category"]["display"] == "Trẻ em bị xâm hại"
    assert fields["abuse_forms"]["display"] == "Bạo lực; Bỏ mặc"
    assert fields["received_at"]["display"] == "09/03/2026 14:30"
    child = by_name(fields["child"])
    assert child["date_of_birth"]["display"] == "01/02/2016"
    assert child["sex"]["display"] == "Nữ"
    assert by_name(child["father"])["occupation"]["display"] == "Lái xe"
    plan = by_name(forms.render("mau_04", forms.validate("mau_04", FULL["mau_04"], now=NOW), locale="en"))
    assert len(plan["activities"]["items"]) == 2
    first = by_name({"fields": plan["activities"]["items"][0]})
    assert first["level"]["display"] == "Support (Law on Children Art. 49)"
    assert first["cost"]["display"] == "1.500.000 VND"  # money in thousands groups (Mẫu 04 v3)


@pytest.mark.parametrize("stored", [None, {}, [], {"received_at": "garbage", "category": "retired_code",
                                                   "child": "not an object", "abuse_forms": ["bao_luc", 3]}])
def test_render_never_fails_on_odd_stored_data(stored: Any) -> None:
    rendered = forms.render("mau_01", stored)
    fields = by_name(rendered)
    if isinstance(stored, dict) and stored:
        assert fields["received_at"]["display"] == "garbage"
        assert fields["category"]["display"] == "retired_code"
        assert fields["abuse_forms"]["display"] == "Bạo lực; 3"
    json.dumps(rendered)
