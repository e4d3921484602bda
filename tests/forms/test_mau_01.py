"""Mẫu 01 as the law in force has it (issue 16): the personal identification number, the official three
channels, the fields case56 adds marked as such, the commune's receipt beside the intake point's."""

from __future__ import annotations

import pytest

import forms
from forms.kit.choices import Channel, Ethnicity, OfficialChannel, PerpetratorRelationship
from forms.mau_01 import OFFICIAL_CHANNEL, official_channel
from tests.forms.forms_samples import FULL, MINIMAL, NOW


def errors_of(data, locale="vi"):
    with pytest.raises(forms.FormError) as caught:
        forms.validate("mau_01", data, now=NOW, locale=locale)
    return caught.value.errors


def with_child(**child):
    return {**FULL["mau_01"], "child": {**FULL["mau_01"]["child"], **child}}


def test_full_sample_keeps_the_new_fields():
    clean = forms.validate("mau_01", FULL["mau_01"], now=NOW)
    assert clean["child"]["personal_id"] == "079316001234" and clean["child"]["ethnicity"] == "01"
    assert (clean["incident_commune"], clean["residence_commune"]) == ("26734", "26737")
    assert clean["commune_received_at"] == "2026-03-09T15:10:00+07:00"
    assert clean["perpetrator_relationships"] == ["cha_me"]
    assert forms.validate("mau_01", MINIMAL["mau_01"], now=NOW)["perpetrator_relationships"] == []


@pytest.mark.parametrize(("number", "child", "message"), [
    ("07931600123", {}, "Số định danh cá nhân gồm đúng 12 chữ số."),
    ("0793160012345", {}, "Tối đa 12 ký tự."),
    ("07931600123x", {}, "Số định danh cá nhân gồm đúng 12 chữ số."),
    ("003316001234", {}, "Ba chữ số đầu của số định danh cá nhân phải là mã tỉnh"),
    ("079216001234", {}, "Chữ số thứ 4 của số định danh cá nhân (giới tính)"),  # 2 = male, the child is a girl
    ("079116001234", {}, "Chữ số thứ 4 đến 6 của số định danh cá nhân (thế kỷ, năm sinh)"),  # born 1916?
    ("079317001234", {}, "Chữ số thứ 4 đến 6"),  # year 2017, born 2016
])
def test_personal_identification_number_is_checked(number, child, message):
    errors = errors_of(with_child(personal_id=number, **child))
    assert any(message in m for m in errors["child"]["personal_id"]), errors


def test_identification_number_without_birth_date_or_sex_checks_shape_and_province_only():
    data = with_child(personal_id="001208001234", date_of_birth=None, estimated_age=10, sex=None)
    assert forms.validate("mau_01", data, now=NOW)["child"]["personal_id"] == "001208001234"
    assert errors_of(with_child(personal_id="12", date_of_birth=None, sex=None), locale="en")["child"][
        "personal_id"] == ["A personal identification number has exactly 12 digits."]


def test_coded_statistics_fields_refuse_unknown_codes():
    assert len(Ethnicity) == 55 and Ethnicity.e01 == "01" and Ethnicity.e54.vi == "Rơ-măm"
    assert "ethnicity" in errors_of(with_child(ethnicity="Kinh"))["child"]
    assert "perpetrator_relationships" in errors_of({**FULL["mau_01"], "perpetrator_relationships": ["bo"]})
    assert {r.value for r in PerpetratorRelationship} >= {"cha_me", "cha_me_ke", "nguoi_la", "chua_ro"}


def test_every_channel_prints_as_one_of_the_official_three():
    assert set(OFFICIAL_CHANNEL) == set(Channel)
    assert official_channel("hotline_111") is OfficialChannel.phone
    assert official_channel("police") is OfficialChannel.reported_by_other
    assert official_channel("in_person") is OfficialChannel.in_person
    assert official_channel(None) is None
    assert [c.vi for c in OfficialChannel] == ["Qua điện thoại", "Trực tiếp", "Do người khác báo tin"]


def test_fields_not_on_the_official_form_are_marked():
    fields = {f["name"]: f for f in forms.describe("mau_01")["fields"]}
    child = {f["name"]: f for f in fields["child"]["fields"]}
    marked = {name for name, f in fields.items() if f.get("unofficial")}
    assert marked == {"abuse_forms", "environment", "perpetrator_relationships", "crime_suspected",
                      "incident_commune", "residence_commune", "commune_received_at", "commune_code"}
    assert {n for n, f in child.items() if f.get("unofficial")} == {"personal_id", "ethnicity", "address"}
    assert fields["environment"]["label"].endswith("[ngoài mẫu chính thức]")
    english = {f["name"]: f for f in forms.describe("mau_01", locale="en")["fields"]}
    assert english["environment"]["label"].endswith("[not on the official form]")
    assert not fields["received_at"].get("unofficial") and not fields["channel"].get("unofficial")


def test_child_age_is_taken_at_the_earlier_receipt():
    # Born 10/03/2010: 15 at the commune's receipt on 09/03/2026 even if the helpline wrote it down a day later.
    data = {**MINIMAL["mau_01"], "received_at": "2026-03-10T09:00:00+07:00",
            "commune_received_at": "2026-03-09T09:00:00+07:00", "child": {"date_of_birth": "2010-03-10"}}
    assert forms.validate("mau_01", data, now=NOW)["child"]["date_of_birth"] == "2010-03-10"
    later = {**data, "commune_received_at": None}
    assert "Trẻ em là người dưới 16 tuổi" in errors_of(later)["child"]["date_of_birth"][0]
