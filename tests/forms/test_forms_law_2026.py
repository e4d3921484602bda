"""Issue 16, the forms as the law in force reads (law-2026.md §4): Mẫu 03 Art. 27.1 a–h, the needs meeting chaired
by the commune chairman (27.2), Mẫu 04 per Art. 28.3 with the plan total, Mẫu 05's distribution to the parents
(28.5), Mẫu 06's official section 1a and provisional 1b. Each rule in both languages where it speaks; data stored
under the versions before still validates and renders under them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import forms
from tests.forms.forms_samples import FULL, MINIMAL, NOW


def errors(name: str, data: dict[str, Any], locale: str = "vi", version: int | None = None) -> dict[str, Any]:
    with pytest.raises(forms.FormError) as caught:
        forms.validate(name, data, locale=locale, now=NOW, version=version)
    return caught.value.errors


def by_name(fields: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {field["name"]: field for field in fields}


# --- Mẫu 03 --------------------------------------------------------------------------------------------------

def test_mau_03_has_every_item_of_article_27_1() -> None:
    fields = by_name(forms.describe("mau_03")["fields"])
    letters = {name: field["label"].split(")")[0] for name, field in fields.items() if ")" in field["label"][:3]}
    assert set(letters.values()) == {"a", "b", "c", "d", "đ", "e", "g", "h"}
    needs = by_name(fields["needs"]["fields"])
    assert list(needs) == ["medical", "social_assistance", "education", "legal_aid", "counselling", "other"]
    assert all([f["name"] for f in need["fields"]] == ["needed", "detail"] for need in needs.values())
    clean = forms.validate("mau_03", FULL["mau_03"], now=NOW)
    assert clean["needs"]["legal_aid"] == {"needed": True, "detail": "Trợ giúp pháp lý khi khởi tố."}
    assert clean["needs"]["other"] == {"needed": None, "detail": None}
    assert [p["relation"] for p in clean["parents_views"]] == ["father", "mother"]


def test_parents_who_caused_the_harm_are_not_heard() -> None:
    """Art. 27.1.h: a parent recorded as the cause of the harm gives no views, and why is recorded; the other
    parent's views are still taken."""
    data = copy.deepcopy(FULL["mau_03"])
    data["parents_views"][0]["views"] = "Tôi chỉ dạy con thôi."
    assert errors("mau_03", data) == {"parents_views": {"0": {"views": [
        "Người này là người gây tổn hại cho trẻ: không lấy ý kiến, nguyện vọng của họ (Điều 27.1.h NĐ 56/2017). "
        "Hãy xoá nội dung ý kiến và ghi lý do không lấy ý kiến."]}}}
    assert "Art. 27.1.h" in errors("mau_03", data, "en")["parents_views"]["0"]["views"][0]
    data["parents_views"][0].pop("views")
    data["parents_views"][0].pop("not_taken_reason")
    assert errors("mau_03", data) == {"parents_views": {"0": {"not_taken_reason": [
        "Phải ghi lý do không lấy ý kiến khi cha, mẹ, người chăm sóc là người gây tổn hại cho trẻ "
        "(Điều 27.1.h NĐ 56/2017)."]}}}
    # Not the cause of the harm: views are taken, and a reason for not taking them stays optional.
    heard = {"parents_views": [{"relation": "caregiver", "caused_harm": False, "views": "Đồng ý hợp tác."}]}
    assert forms.validate("mau_03", heard, now=NOW)["parents_views"][0]["views"] == "Đồng ý hợp tác."


def test_a_need_ticked_is_described() -> None:
    assert errors("mau_03", {"needs": {"counselling": {"needed": True}}}) == {"needs": {"counselling": {"detail": [
        "Phải mô tả cụ thể nhu cầu này (Điều 27.1.e NĐ 56/2017)."]}}}
    assert forms.validate("mau_03", {"needs": {"counselling": {"needed": False}}}, now=NOW)


def test_mau_03_version_1_data_still_validates_and_renders() -> None:
    old = {"physical_state": {"description": "Vết bầm.", "rating": "cao"}, "other_items": "Không",
           "child_views": "Muốn ở với mẹ."}
    assert forms.validate("mau_03", old, version=1, now=NOW)["other_items"] == "Không"
    rendered = forms.render("mau_03", old, version=1)
    assert rendered["version"] == 1 and rendered["extra"] == {}
    assert by_name(rendered["fields"])["child_views"]["label"] == "Ý kiến, nguyện vọng của trẻ"


def test_mau_03_is_one_importable_class_for_the_reassessment() -> None:
    from forms.mau_03 import Mau03

    assert forms.get("mau_03").schema is Mau03


# --- the needs meeting -------------------------------------------------------------------------------------

def test_the_meeting_is_chaired_by_the_chairman_or_a_recorded_delegate() -> None:
    delegated = {**MINIMAL["needs_meeting"], "chaired_by": "delegate", "chair_position": "Phó Chủ tịch UBND phường"}
    assert errors("needs_meeting", delegated) == {"delegation_reason": [
        "Phải ghi lý do ủy quyền khi người chủ trì không phải là Chủ tịch UBND cấp xã (Điều 27.2 NĐ 56/2017)."]}
    assert forms.validate("needs_meeting", {**delegated, "delegation_reason": "Chủ tịch đi công tác."}, now=NOW)
    assert errors("needs_meeting", {**MINIMAL["needs_meeting"], "delegation_reason": "x"}) == {
        "delegation_reason": ["Chỉ ghi lý do ủy quyền khi người chủ trì là người được ủy quyền."]}
    missing = {k: v for k, v in MINIMAL["needs_meeting"].items() if k not in ("chaired_by", "chair_name")}
    assert set(errors("needs_meeting", missing)) == {"chaired_by", "chair_name"}


def test_participants_are_listed_by_category() -> None:
    fields = by_name(by_name(forms.describe("needs_meeting")["fields"])["participants"]["fields"])
    assert [code for code, _label in fields["category"]["choices"]] == [
        "responsible_body", "residential_area", "parent_caregiver", "child", "other"]
    assert errors("needs_meeting", {**MINIMAL["needs_meeting"], "participants": [{"name": "A"}]}) == {
        "participants": {"0": {"category": ["Trường này là bắt buộc."]}}}
    assert errors("needs_meeting", {**MINIMAL["needs_meeting"],
                                    "participants": [{"category": "mayor", "name": "A"}]})["participants"]


def test_the_chairman_signs_the_minute_or_returns_it() -> None:
    assert forms.validate("needs_meeting_signoff", FULL["needs_meeting_signoff"], now=NOW)["decision"] == "sign"
    assert errors("needs_meeting_signoff", {"decision": "return"}) == {"comments": [
        "Phải ghi ý kiến khi trả lại biên bản để sửa."]}
    assert errors("needs_meeting_signoff", {"decision": "sign"}) == {"signed_at": ["Trường này là bắt buộc."]}


def test_needs_meeting_version_1_still_renders() -> None:
    old = {"held_at": "2026-03-09T09:00:00+07:00", "chair": "Phó Chủ tịch", "participants": [{"name": "A"}],
           "parents_present": True}
    assert forms.validate("needs_meeting", old, version=1, now=NOW)["chair"] == "Phó Chủ tịch"
    rendered = by_name(forms.render("needs_meeting", old, version=1)["fields"])
    assert rendered["chair"]["display"] == "Phó Chủ tịch" and rendered["parents_present"]["display"] == "Có"


# --- Mẫu 04 -------------------------------------------------------------------------------------------------

def test_plan_activities_follow_article_28_3_and_the_total_is_computed() -> None:
    activity = by_name(by_name(forms.describe("mau_04")["fields"])["activities"]["fields"])
    assert activity["end"]["label"] == "Dự kiến kết thúc" and "28.3.a" in activity["end"]["help"]
    assert "28.3.b" in activity["responsible_body"]["help"] and "28.3.c" in activity["provider"]["help"]
    assert activity["cost"]["required"] and "28.3.d" in activity["cost"]["help"]
    english = by_name(by_name(forms.describe("mau_04", locale="en")["fields"])["activities"]["fields"])
    assert english["end"]["label"] == "Expected end"
    clean = forms.validate("mau_04", {**FULL["mau_04"], "total_cost": 999}, now=NOW)  # input ignored
    assert clean["total_cost"] == 1_500_000
    three = {"activities": [{**MINIMAL["mau_04"]["activities"][0], "cost": cost} for cost in ("200.000", 0, 50)]}
    assert forms.validate("mau_04", three, now=NOW)["total_cost"] == 200_050
    total = by_name(forms.render("mau_04", clean)["fields"])["total_cost"]
    assert total["computed"] and total["display"] == "1.500.000 đồng"
    assert forms.json_schema("mau_04")["properties"]["total_cost"]["readOnly"] is True


def test_plan_version_2_data_still_renders_with_its_labels() -> None:
    old = {"activities": [{"measure": "Tư vấn", "level": "support", "assignee": "yte", "start": "2026-03-11",
                           "end": "2026-03-31"}]}
    assert forms.validate("mau_04", old, version=2, now=NOW)
    rendered = forms.render("mau_04", old, version=2)
    item = by_name(by_name(rendered["fields"])["activities"]["items"][0])
    assert item["end"]["label"] == "Kết thúc" and item["end"]["display"] == "31/03/2026"
    assert "total_cost" not in by_name(rendered["fields"])


# --- Mẫu 05 -------------------------------------------------------------------------------------------------

def test_the_plan_goes_to_the_parents_unless_that_is_unsafe() -> None:
    to_bodies = {"distribution": [MINIMAL["mau_05"]["distribution"][0]]}
    assert errors("mau_05", to_bodies) == {"distribution": [
        "Quyết định và kế hoạch phải được gửi đến cha, mẹ hoặc người chăm sóc trẻ (Điều 28.5 NĐ 56/2017). "
        "Thêm một dòng gửi cha, mẹ hoặc người chăm sóc, hoặc ghi lý do không an toàn để gửi."]}
    assert "Art. 28.5" in errors("mau_05", to_bodies, "en")["distribution"][0]
    assert errors("mau_05", {**to_bodies, "parents_unsafe": True}) == {"parents_unsafe_reason": [
        "Phải ghi lý do khi không gửi cho cha, mẹ, người chăm sóc vì không an toàn cho trẻ."]}
    clean = forms.validate("mau_05", {**to_bodies, "parents_unsafe": True,
                                      "parents_unsafe_reason": "Cha là người gây tổn hại."}, now=NOW)
    assert clean["parents_unsafe"] is True
    caregiver = {"distribution": [*to_bodies["distribution"],
                                  {"kind": "caregiver", "name": "Bà ngoại", "means": "post", "sent_on": "12/03/2026"}]}
    assert forms.validate("mau_05", caregiver, now=NOW)["distribution"][1]["sent_on"] == "2026-03-12"
    assert errors("mau_05", {**caregiver, "parents_unsafe": True, "parents_unsafe_reason": "x"}) == {
        "parents_unsafe": ["Đã có dòng gửi cho cha, mẹ hoặc người chăm sóc: bỏ đánh dấu “không an toàn để gửi” "
                           "hoặc xoá dòng đó."]}


def test_the_plan_goes_to_a_responsible_body_and_each_line_is_complete() -> None:
    parents_only = {"distribution": [MINIMAL["mau_05"]["distribution"][1]]}
    assert errors("mau_05", parents_only) == {"distribution": [
        "Quyết định và kế hoạch phải được gửi đến ít nhất một cơ quan, tổ chức, cá nhân có trách nhiệm thực hiện "
        "(Điều 28.5 NĐ 56/2017)."]}
    assert errors("mau_05", {}) == {"distribution": ["Trường này là bắt buộc."]}
    bad = errors("mau_05", {"distribution": [{"kind": "responsible_body"}, *MINIMAL["mau_05"]["distribution"]]})
    assert set(bad["distribution"]["0"]) == {"name", "means"}


def test_free_text_recipients_of_version_1_stay_readable() -> None:
    old = {"decision_number": "09/QĐ-UBND", "recipients": "Như Điều 3;\nLưu VT."}
    assert forms.validate("mau_05", old, version=1, now=NOW)["recipients"] == "Như Điều 3;\nLưu VT."
    rendered = by_name(forms.render("mau_05", old, version=1)["fields"])
    assert rendered["recipients"]["display"] == "Như Điều 3;\nLưu VT."
    assert "recipients" not in by_name(forms.describe("mau_05")["fields"])
    # Stored under v1 but shown by the current version (e.g. a client that forgot the version): kept as extra.
    assert forms.render("mau_05", old)["extra"] == {"recipients": "Như Điều 3;\nLưu VT."}


# --- Mẫu 06 -------------------------------------------------------------------------------------------------

def test_mau_06_section_1a_has_the_official_wording_and_1b_is_provisional() -> None:
    fields = by_name(forms.describe("mau_06")["fields"])
    assert fields["harm_still_serious"]["label"] == "1a. Mức độ tổn hại của trẻ em có còn nghiêm trọng không"
    assert fields["abuser_can_reach_child"]["label"] == "1a. Khả năng tiếp cận trẻ em của đối tượng xâm hại"
    assert fields["care_environment_obstacles"]["label"] == (
        "1a. Những trở ngại trong môi trường chăm sóc trẻ em đối với việc bảo đảm an toàn cho trẻ em")
    assert fields["danger_total"]["label"] == "1a. Tổng số"
    assert [c for c, _ in by_name(fields["harm_still_serious"]["fields"])["rating"]["choices"]] == [
        "cao", "trung_binh", "thap"]
    for name in ("self_protection", "recovery"):
        assert fields[name]["provisional"] is True
        assert fields[name]["label"].endswith("(tạm thời — chưa đối chiếu mẫu chính thức)")
        assert forms.json_schema("mau_06")["properties"][name]["x-provisional"] is True
    assert not any(fields[name].get("provisional") for name in ("harm_still_serious", "danger_total"))
    en = by_name(forms.describe("mau_06", locale="en")["fields"])
    assert en["recovery"]["label"].endswith("(provisional — not checked against the official form)")
    rendered = by_name(forms.render("mau_06", forms.validate("mau_06", FULL["mau_06"], now=NOW))["fields"])
    assert "tạm thời" in rendered["recovery"]["label"]


def test_mau_06_version_1_keeps_its_labels() -> None:
    rendered = by_name(forms.render("mau_06", FULL["mau_06"], version=1)["fields"])
    assert rendered["harm_still_serious"]["label"] == "Mức độ tổn hại còn nghiêm trọng"
    assert not rendered["recovery"].get("provisional")
