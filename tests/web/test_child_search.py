"""Finding a child through the web (issue 17): the name and age on the inbox and the case list for roles that may
see them, search by name without diacritics or case, by personal ID, phone and case number; audited. Both
databases."""

from __future__ import annotations

import html

from tests.web.casework_kit import audits, case_of, client_for, open_case

NHUNG = {"full_name": "Nguyễn Thị Hồng Nhung", "date_of_birth": "2016-05-04", "sex": "female",
         "personal_id": "001316012345"}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_case_list_finds_a_child_by_name_id_phone_and_number(app):
    nhung = open_case(app, child=NHUNG)
    other = open_case(app, child={"full_name": "Trần Văn Hùng", "estimated_age": 9, "sex": "male"},
                      informant={"consent": True, "name": "Lê Văn Cường", "phone": "0987 654 321"})
    elsewhere = open_case(app, commune="T01-X02", child=NHUNG)
    numbers = {c: case_of(app, c).number for c in (nhung, other, elsewhere)}
    officer = client_for(app, "canbo")
    listing = text(officer.get("/cases"))
    assert "Nguyễn Thị Hồng Nhung, " in listing and "Trần Văn Hùng, khoảng 9 tuổi" in listing
    for query in ("nhung", "Nhung", "NHUNG", "hồng nhung", "001316012345", "0912 345 678", numbers[nhung]):
        page = text(officer.get("/cases", query_string={"q": query}))
        assert numbers[nhung] in page and numbers[other] not in page, query
        assert numbers[elsewhere] not in page  # another commune's case: outside the officer's scope
    supervisor = text(client_for(app, "giamsat").get("/cases?q=nhung"))
    assert numbers[nhung] in supervisor and numbers[elsewhere] in supervisor and numbers[other] not in supervisor
    refused = officer.get("/cases?q=n")
    assert refused.status_code == 400 and "Nhập ít nhất 2 chữ cái" in text(refused)
    assert "Không tìm thấy hồ sơ nào khớp." in text(officer.get("/cases?q=xyzq"))
    searches = audits(app, "case_search")
    assert [(e.actor, e.details["kind"], e.details["found"]) for e in searches[:3]] == [
        ("canbo", "name", 1), ("canbo", "name", 1), ("canbo", "name", 1)]
    assert {e.details["kind"] for e in searches} == {"name", "personal_id", "phone", "number"}
    assert not any("nhung" in str(e.details).lower() or "0912" in str(e.details) for e in searches)


def test_inbox_rows_name_the_child_only_for_roles_that_may_see_it(app):
    open_case(app, child=NHUNG)  # the officer's first step
    open_case(app, child=NHUNG, stop_at="carry_out_activity")  # the school's activity
    officer = text(client_for(app, "canbo").get("/"))
    assert "Nguyễn Thị Hồng Nhung, " in officer
    partner = client_for(app, "truonghoc").get("/")
    assert "T01-X01-2026-0002" in text(partner) and "Nhung" not in text(partner)
    assert "Nhung" not in text(client_for(app, "truonghoc").get("/cases"))  # no case list either (403 page)
    intake = text(client_for(app, "tiepnhan").get("/"))
    assert "Nguyễn Thị Hồng Nhung" in intake  # the reports it recorded


def test_new_report_shows_possible_duplicates_and_links_the_same_child(app):
    import re

    from engine import clock
    from tests.web.casework_kit import flatten, token
    from web import demo

    first = open_case(app, child=NHUNG)
    closed = open_case(app, child=NHUNG, choices={"verification": {"has_basis": False,
                                                                   "reason_no_basis": "Không có sự việc."}})
    intake = client_for(app, "canbo")
    page = intake.get("/reports/new").get_data(as_text=True)
    report = demo.sample("mau_01", clock.now(), child={**NHUNG, "full_name": "nguyen thi hong NHUNG",
                                                       "personal_id": None})
    form = {**flatten(report), "_commune": "T01-X01", "csrf_token": token(page)}
    shown = intake.post("/reports/new", data=form)
    body = text(shown)
    assert shown.status_code == 200 and "Trẻ này có thể đã có hồ sơ" in body
    assert case_of(app, first).number in body and case_of(app, closed).number in body
    assert f'href="/cases/{closed}/reopen"' in body  # a closed case may be reopened instead
    checked = re.search(r'name="_duplicates_checked" value="([^"]*)"', body).group(1)
    # Sent again without an answer: asked for one; nothing is saved.
    again = intake.post("/reports/new", data={**form, "_duplicates_checked": checked})
    assert again.status_code == 422 and "Hãy chọn: cùng trẻ" in text(again)
    linked = intake.post("/reports/new", data={**form, "_duplicates_checked": checked, "_same_child": str(first)})
    assert linked.status_code == 302
    new_id = int(linked.headers["Location"].rsplit("/", 1)[1])
    assert case_of(app, new_id).child_key == case_of(app, first).child_key
    other = intake.post("/reports/new", data={**form, "_duplicates_checked": checked, "_same_child": "new"})
    assert other.status_code == 302
    assert case_of(app, int(other.headers["Location"].rsplit("/", 1)[1])).child_key != case_of(app, first).child_key


def test_supervisor_lists_name_the_child(app):
    open_case(app, child=NHUNG, hours_ago=24 * 30)  # its first steps long overdue
    page = text(client_for(app, "giamsat").get("/supervisor"))
    assert "Nguyễn Thị Hồng Nhung, " in page


def test_inspector_search_names_the_child(app):
    open_case(app, child=NHUNG)
    page = text(client_for(app, "thanhtra").get("/inspector"))
    assert "Nguyễn Thị Hồng Nhung, " in page
