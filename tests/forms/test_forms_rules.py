"""Cross-field rules users expect, one test (or more) per rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import forms
from tests.forms.forms_samples import FULL, MINIMAL, NOW


def ok(name: str, data: dict[str, Any], now: dt.datetime = NOW) -> dict[str, Any]:
    return forms.validate(name, data, now=now)


def errors_of(name: str, data: dict[str, Any], locale: str = "vi", now: dt.datetime | None = NOW) -> dict[str, Any]:
    with pytest.raises(forms.FormError) as caught:
        forms.validate(name, data, locale=locale, now=now)
    return caught.value.errors


# --- no date in the future ------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "field"), [
    ("mau_01", "received_at"), ("emergency_decision", "decided_at"), ("needs_meeting", "held_at"),
    ("police_referral", "referred_at"), ("plan_approval", "signed_at"), ("mau_06", "reviewed_at"),
])
def test_no_datetime_in_the_future(name: str, field: str) -> None:
    data = {**FULL[name], field: "2026-03-11T08:00:00+07:00"}
    assert errors_of(name, data)[field] == ["Ngày giờ không được ở tương lai."]
    assert errors_of(name, data, locale="en")[field] == ["The date and time cannot be in the future."]
    ok(name, {**FULL[name], field: "2026-03-10T10:00:00+07:00"})  # exactly now


def test_a_few_minutes_of_clock_skew_are_tolerated() -> None:
    ok("mau_01", {**MINIMAL["mau_01"], "received_at": "2026-03-10T10:04:00+07:00"})
    assert "received_at" in errors_of("mau_01", {**MINIMAL["mau_01"], "received_at": "2026-03-10T10:06:00+07:00"})


@pytest.mark.parametrize(("name", "path"), [
    ("activity_report", ("completed_on",)), ("police_outcome", ("outcome_date",)),
    ("mau_01", ("report_date",)), ("mau_01", ("child", "date_of_birth")),
])
def test_no_date_in_the_future(name: str, path: tuple[str, ...]) -> None:
    data = {**FULL[name]}
    if len(path) == 2:
        data[path[0]] = {**data[path[0]], path[1]: "11/03/2026"}
    else:
        data[path[0]] = "11/03/2026"
    errors = errors_of(name, data)
    for key in path:
        errors = errors[key]
    assert errors == ["Ngày không được ở tương lai."]


def test_today_is_not_the_future_in_vietnam_time() -> None:
    # 23:30 on 9 March UTC is already 10 March in Vietnam.
    late_utc = dt.datetime(2026, 3, 9, 23, 30, tzinfo=dt.UTC)
    assert ok("activity_report", {**MINIMAL["activity_report"], "completed_on": "2026-03-10"}, now=late_utc)


def test_now_defaults_to_the_real_clock() -> None:
    data = {**MINIMAL["mau_01"], "received_at": "2099-01-01T00:00:00+07:00"}
    assert "received_at" in errors_of("mau_01", data, now=None)
    past = {**MINIMAL["mau_01"], "received_at": "2020-01-01T08:00:00+07:00"}
    assert forms.validate("mau_01", past)["received_at"] == "2020-01-01T08:00:00+07:00"


def test_plans_and_separations_may_lie_in_the_future() -> None:
    assert ok("mau_04", {"activities": [{**MINIMAL["mau_04"]["activities"][0], "end": "2027-01-01"}]})
    assert ok("separation_review", {**FULL["separation_review"], "new_end": "2026-04-30"})


# --- the child is under 16 --------------------------------------------------------------------------


def _child(received_at: str = "2026-03-09T14:30:00+07:00", **child: Any) -> dict[str, Any]:
    return {**MINIMAL["mau_01"], "received_at": received_at, "child": child}


def test_child_turning_16_is_no_longer_a_child() -> None:
    errors = errors_of("mau_01", _child(date_of_birth="09/03/2010"))
    assert errors == {"child": {"date_of_birth": [
        "Trẻ em là người dưới 16 tuổi (Điều 1 Luật Trẻ em 2016): theo ngày sinh, trẻ đã 16 tuổi khi tiếp nhận "
        "thông tin."]}}
    assert "under 16" in errors_of("mau_01", _child(date_of_birth="2000-01-01"), locale="en")["child"][
        "date_of_birth"][0]


def test_age_counts_at_the_receipt_time_not_today() -> None:
    # Born 10/03/2010: 15 on 09/03/2026 when received, 16 on "now" (10/03/2026) — still a child here.
    assert ok("mau_01", _child(date_of_birth="10/03/2010"))["child"]["date_of_birth"] == "2010-03-10"


def test_estimated_age_is_at_most_15() -> None:
    assert ok("mau_01", _child(estimated_age=15))["child"]["estimated_age"] == 15
    assert errors_of("mau_01", _child(estimated_age=16)) == {"child": {"estimated_age": ["Giá trị lớn nhất là 15."]}}


def test_date_of_birth_or_estimated_age_may_both_be_missing_at_intake() -> None:
    clean = ok("mau_01", _child(full_name="B"))
    assert clean["child"]["date_of_birth"] is None and clean["child"]["estimated_age"] is None


def test_date_of_birth_and_estimated_age_must_agree() -> None:
    assert ok("mau_01", _child(date_of_birth="01/02/2016", estimated_age=10))
    errors = errors_of("mau_01", _child(date_of_birth="01/02/2016", estimated_age=7))
    assert errors == {"child": {"estimated_age": [
        "Tuổi ước tính không khớp với ngày sinh (theo ngày sinh: 10 tuổi). Chỉ cần ghi một trong hai."]}}


def test_born_after_the_report_was_received() -> None:
    errors = errors_of("mau_01", _child(received_at="2026-03-01T08:00", date_of_birth="05/03/2026"))
    assert errors == {"child": {"date_of_birth": ["Ngày sinh sau thời điểm tiếp nhận thông tin."]}}


# --- end after start ----------------------------------------------------------------------------------


def test_activity_end_on_or_after_start() -> None:
    activity = MINIMAL["mau_04"]["activities"][0]
    assert ok("mau_04", {"activities": [{**activity, "start": "2026-03-11", "end": "2026-03-11"}]})
    errors = errors_of("mau_04", {"activities": [activity, {**activity, "start": "2026-03-11", "end": "10/03/2026"}]})
    assert errors == {"activities": {"1": {"end": ["Ngày kết thúc phải bằng hoặc sau ngày bắt đầu."]}}}


def test_separation_end_on_or_after_start() -> None:
    data = {**FULL["emergency_decision"], "separation_start": "2026-03-09", "separation_end": "2026-03-08"}
    assert errors_of("emergency_decision", data, locale="en") == {
        "separation_end": ["The end date must be on or after the start date."]}


def test_extension_ends_after_the_start_and_after_the_current_end() -> None:
    base = {**FULL["separation_review"], "current_start": "2026-03-09", "current_end": "2026-03-20"}
    assert errors_of("separation_review", {**base, "new_end": "2026-03-20"}) == {
        "new_end": ["Ngày kết thúc mới phải sau ngày kết thúc hiện tại."]}
    no_current_end = {**base, "current_end": None, "new_end": "2026-03-01"}
    assert errors_of("separation_review", no_current_end) == {
        "new_end": ["Ngày kết thúc phải bằng hoặc sau ngày bắt đầu."]}


# --- a plan has at least one activity -------------------------------------------------------------------


def test_plan_needs_at_least_one_activity() -> None:
    assert errors_of("mau_04", {"activities": []}) == {"activities": ["Cần ít nhất 1 mục."]}
    assert errors_of("mau_04", {"activities": []}, locale="en") == {"activities": ["At least 1 item(s) required."]}
    assert errors_of("mau_04", {"objectives": "x"}) == {"activities": ["Trường này là bắt buộc."]}
    assert errors_of("mau_04", {"activities": "Tư vấn"}) == {"activities": ["Phải là một danh sách."]}


def test_activity_needs_measure_level_assignee_and_dates() -> None:
    errors = errors_of("mau_04", {"activities": [{}]})
    assert set(errors["activities"]["0"]) == {"measure", "level", "assignee", "responsible_body", "start", "end",
                                              "cost"}
    # Plans stored under version 2 (before Art. 28.3's responsibility and cost per item) keep validating.
    with pytest.raises(forms.FormError) as caught:
        forms.validate("mau_04", {"activities": [{}]}, version=2, now=NOW)
    assert set(caught.value.errors["activities"]["0"]) == {"measure", "level", "assignee", "start", "end"}


def test_meeting_needs_a_participant() -> None:
    data = {**MINIMAL["needs_meeting"], "participants": []}
    assert errors_of("needs_meeting", data) == {"participants": ["Cần ít nhất 1 mục."]}


# --- a separation beyond 15 days needs the authority's reference ------------------------------------------


def _separation(start: str, end: str, reference: str | None = None) -> dict[str, Any]:
    return {"decided_at": "2026-03-09T20:00:00+07:00", "separate": True, "separation_start": start,
            "separation_end": end, "authority_reference": reference}


def test_separation_of_15_days_needs_no_reference() -> None:
    clean = ok("emergency_decision", _separation("2026-03-09", "2026-03-24"))
    assert clean["separation_end"] == "2026-03-24"


def test_separation_beyond_15_days_needs_the_authority_reference() -> None:
    errors = errors_of("emergency_decision", _separation("2026-03-09", "2026-03-25"))
    assert errors == {"authority_reference": [
        "Thời hạn cách ly tối đa 15 ngày (Điều 32 NĐ 56/2017), ở đây là 16 ngày: phải ghi văn bản yêu cầu "
        "của cơ quan có thẩm quyền."]}
    assert ok("emergency_decision", _separation("2026-03-09", "2026-03-25", "CV 12/CA ngày 09/03/2026"))


def test_extension_beyond_15_days_in_total_needs_the_court_decision() -> None:
    # separation_review v2 (Mẫu 07 separations): beyond 15 days only on the court's decision (Art. 32.3, Law
    # Art. 52.3), which the engine fills in from the case (engine.separation.review_data), up to its date.
    data = {"action": "extend", "reason": "Chưa an toàn.", "current_start": "2026-03-09", "new_end": "2026-03-28"}
    assert errors_of("separation_review", data, locale="en") == {"new_end": [
        "Beyond 15 days the regional People's Court must have decided to continue the separation (Decree 56/2017 "
        "Art. 32.3; Law on Children Art. 52.3): choose “Ask the court” and record its decision."]}
    assert ok("separation_review", {**data, "new_end": "2026-03-24"})
    court = {"authority_reference": "Quyết định số 3/2026/QĐ-TA", "authority_until": "2026-04-10"}
    assert ok("separation_review", {**data, **court})
    assert errors_of("separation_review", {**data, **court, "new_end": "2026-04-11"}, locale="en") == {
        "new_end": ["The new end date is later than the court allowed the separation to continue."]}
    # Without the start (the engine fills it in) the bound cannot be checked here.
    assert ok("separation_review", {key: value for key, value in data.items() if key != "current_start"})


def test_cancelling_a_separation_needs_a_mau_03_reassessment() -> None:
    cancel = {"action": "cancel", "reason": "Cha mẹ bảo đảm an toàn."}
    assert errors_of("separation_review", cancel) == {"reassessment_task_id": [
        "Chỉ hủy bỏ quyết định cách ly khi cha, mẹ, người chăm sóc đã được đánh giá lại bảo đảm an toàn cho trẻ "
        "em theo Mẫu số 03 sau khi cách ly (Điều 32 khoản 3 NĐ 56/2017): chọn “Giao đánh giá lại (Mẫu số 03)” trước."]}
    assert ok("separation_review", {**cancel, "reassessment_task_id": 12})


def test_a_mau_07_separation_lasts_at_most_15_days() -> None:
    base = {**FULL["mau_07"], "start": "2026-03-09"}
    assert ok("mau_07", {**base, "end": "2026-03-24"})
    assert errors_of("mau_07", {**base, "end": "2026-03-25"}, locale="en") == {"end": [
        "A temporary separation lasts at most 15 days including extensions (Decree 56/2017 Art. 32.3); beyond that "
        "only on the court's decision."]}
    assert set(errors_of("mau_07", {"decision": "separate", "decided_at": "2026-03-09T20:00:00+07:00"})) == {
        "decision_number", "ground", "ground_detail", "deciding_commune", "deciding_commune_name", "start", "end",
        "care", "carer_name", "carer_address"}
    assert errors_of("mau_07", {"decision": "decline", "decided_at": "2026-03-09T20:00:00+07:00"}) == {
        "decline_reason": ["Trường này là bắt buộc."]}


def test_separation_dates_required_only_when_separating() -> None:
    errors = errors_of("emergency_decision", {"decided_at": "2026-03-09T20:00", "separate": True})
    assert errors == {"separation_start": ["Bắt buộc khi quyết định tạm thời cách ly trẻ (Điều 32 NĐ 56/2017)."],
                      "separation_end": ["Bắt buộc khi quyết định tạm thời cách ly trẻ (Điều 32 NĐ 56/2017)."]}
    errors = errors_of("emergency_decision", {**MINIMAL["emergency_decision"], "separation_end": "2026-03-20"})
    assert errors == {"separation_end": ["Chỉ điền khi quyết định tạm thời cách ly trẻ."]}


def test_emergency_decision_decides_something() -> None:
    data = {"decided_at": "2026-03-09T20:00", "separate": False}
    assert errors_of("emergency_decision", data, locale="en") == {"measures": [
        "Choose at least one emergency measure or decide a temporary separation (Decree 56/2017 Art. 31, 32)."]}


def test_extension_needs_a_new_end_and_cancellation_has_none() -> None:
    assert errors_of("separation_review", {"action": "extend", "reason": "x"}) == {
        "new_end": ["Bắt buộc khi gia hạn cách ly."]}
    assert errors_of("separation_review", {"action": "cancel", "reason": "x", "new_end": "2026-03-20",
                                           "reassessment_task_id": 3}) == {"new_end": ["Chỉ điền khi gia hạn cách ly."]}
    assert errors_of("separation_review", {"action": "cancel", "reassessment_task_id": 3}) == {
        "reason": ["Trường này là bắt buộc."]}


# --- an emergency conclusion on Mẫu 02 requires the danger described ---------------------------------------


def test_emergency_requires_the_danger_described() -> None:
    assert errors_of("mau_02", {"emergency": True}) == {"danger_description": [
        "Phải mô tả nguy hiểm nghiêm trọng khi kết luận cần biện pháp khẩn cấp (Điều 26.3 NĐ 56/2017)."]}
    assert errors_of("mau_02", {"emergency": True, "danger_description": "  "}, locale="en") == {
        "danger_description": ["Describe the serious danger when concluding that emergency measures are needed "
                               "(Decree 56/2017 Art. 26.3)."]}
    assert ok("mau_02", {"emergency": True, "danger_description": "Bị đánh hằng đêm."})["emergency"] is True


def test_emergency_is_a_judgement_not_a_score() -> None:
    all_high = {item: {"rating": "cao"} for item in ("harm_life", "harm_health", "harm_dignity")}
    clean = ok("mau_02", {**all_high, "emergency": False})
    assert clean["emergency"] is False
    assert clean["risk_total"] == {"cao": 3, "trung_binh": 0, "thap": 0, "rated": 3}
    assert ok("mau_02", {"harm_life": {"rating": "thap"}, "emergency": True, "danger_description": "x"})


def test_risk_total_is_computed_and_input_total_ignored() -> None:
    clean = ok("mau_02", {"emergency": False, "harm_life": {"rating": "thap"},
                          "risk_total": {"cao": 99, "trung_binh": 0, "thap": 0, "rated": 99}})
    assert clean["risk_total"] == {"cao": 0, "trung_binh": 0, "thap": 1, "rated": 1}


# --- informant's contact only with consent ------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [("name", "Phạm Văn E"), ("phone", "0912345678"),
                                              ("address", "14 Lê Lợi")])
def test_informant_details_only_with_consent(field: str, value: str) -> None:
    for informant in ({field: value}, {"consent": False, field: value}):
        errors = errors_of("mau_01", {**MINIMAL["mau_01"], "informant": informant})
        assert errors == {"informant": {field: [
            "Chỉ ghi thông tin người báo tin khi họ đồng ý (Mẫu số 01, Điều 25 NĐ 56/2017)."]}}
    clean = ok("mau_01", {**MINIMAL["mau_01"], "informant": {"consent": True, field: value}})
    assert clean["informant"][field] == value


def test_informant_notes_without_consent() -> None:
    clean = ok("mau_01", {**MINIMAL["mau_01"], "informant": {"notes": "Không muốn nêu tên."}})
    assert clean["informant"] == {"consent": False, "name": None, "phone": None, "address": None,
                                  "notes": "Không muốn nêu tên."}


# --- other conditions -----------------------------------------------------------------------------------------


def test_no_basis_needs_a_reason() -> None:
    assert errors_of("verification", {"has_basis": False, "findings": "x"}) == {"reason_no_basis": [
        "Phải ghi lý do khi thông tin không có căn cứ (Điều 26.1 NĐ 56/2017)."]}


def test_sending_back_for_verification_needs_a_note() -> None:
    assert set(errors_of("no_basis_signoff", {"confirm": False})) == {"note"}
    assert ok("no_basis_signoff", {"confirm": False, "note": "Xác minh thêm."})


def test_plan_approval() -> None:
    assert set(errors_of("plan_approval", {"decision": "return"})) == {"comments"}
    assert set(errors_of("plan_approval", {"decision": "approve"})) == {"decision_number", "signed_at"}
    assert ok("plan_approval", FULL["plan_approval"])["decision"] == "approve"


def test_closing_requires_no_risk_and_all_four_states_stable() -> None:
    assert ok("mau_06", FULL["mau_06"])["conclusion"] == "close"
    errors = errors_of("mau_06", {**FULL["mau_06"], "cognitive_stable": False, "no_longer_at_risk": None})
    assert errors == {
        "no_longer_at_risk": ["Chỉ kết thúc kế hoạch khi trẻ không còn nguy cơ (Điều 30.1 NĐ 56/2017)."],
        "cognitive_stable": ["Chỉ kết thúc kế hoạch khi tình trạng này của trẻ đã ổn định (Điều 30.1 NĐ 56/2017)."],
    }
    errors = errors_of("mau_06", {"conclusion": "close"})
    assert set(errors) == {"no_longer_at_risk", "physical_stable", "psychological_stable", "cognitive_stable",
                           "emotional_stable"}
    assert ok("mau_06", {**FULL["mau_06"], "conclusion": "replan", "emotional_stable": False})


def test_closing_is_refused_while_a_danger_is_still_rated_high() -> None:
    """Section 1 "Cao" is danger: it contradicts "no longer at risk". Section 2 "Cao" is strength: no effect."""
    still_reachable = {**FULL["mau_06"], "abuser_can_reach_child": {"rating": "cao", "note": "Vẫn ở cùng nhà."}}
    # A case56 policy, and the message says so (law-2026.md §4): Art. 30.1 asks "no longer at risk", not this.
    assert errors_of("mau_06", still_reachable) == {"abuser_can_reach_child": {"rating": [
        "Mục nguy cơ này còn ở mức Cao: chưa thể kết thúc kế hoạch (quy định của case56, không do pháp luật quy "
        "định; Điều 30.1 NĐ 56/2017 yêu cầu trẻ không còn nguy cơ)."]}}
    assert ok("mau_06", {**still_reachable, "conclusion": "replan"})["danger_total"]["cao"] == 1
    medium = {**FULL["mau_06"], "harm_still_serious": {"rating": "trung_binh"}}
    assert ok("mau_06", medium)["conclusion"] == "close"
    assert FULL["mau_06"]["self_protection"]["rating"] == "cao" and ok("mau_06", FULL["mau_06"])


def test_review_grids_are_totalled_separately() -> None:
    clean = ok("mau_06", FULL["mau_06"])
    # Section 1 all "thấp" (little danger), self-protection all "cao" (strong): never summed together.
    assert clean["danger_total"] == {"cao": 0, "trung_binh": 0, "thap": 3, "rated": 3}
    assert clean["strength_total"] == {"cao": 2, "trung_binh": 0, "thap": 0, "rated": 2}
    assert "total" not in clean


def test_mau_05_cites_the_legal_bases_by_default() -> None:
    clean = ok("mau_05", MINIMAL["mau_05"])
    assert "Điều 52" in clean["legal_bases"] and "56/2017/NĐ-CP" in clean["legal_bases"]
    assert ok("mau_05", {**MINIMAL["mau_05"], "legal_bases": ""})["legal_bases"] == clean["legal_bases"]
