"""Case list, case page, transfer and reopening through the web, and the new-report page (Mẫu 01)."""

from __future__ import annotations

import html
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from engine import clock
from engine.models import Case, Task
from tests.web.casework_kit import (
    audits,
    case_of,
    client_for,
    flatten,
    open_case,
    post_form,
    ready_task,
    token,
    version_on,
)
from web import demo
from web.extensions import db


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def count_cases(app) -> int:
    with app.app_context():
        number = db.session.scalar(select(func.count()).select_from(Case))
        db.session.remove()
        return number


# -- the case list -------------------------------------------------------------------------------------

def test_case_list_is_scoped_filtered_and_paged(app):
    mine = open_case(app)
    closed = open_case(app, choices={"verification": {"has_basis": False, "reason_no_basis": "Không có sự việc."}})
    other = open_case(app, commune="T01-X02")
    numbers = {c: case_of(app, c).number for c in (mine, closed, other)}

    officer = text(client_for(app, "canbo").get("/cases"))
    assert numbers[mine] in officer and numbers[closed] in officer and numbers[other] not in officer
    supervisor = client_for(app, "giamsat")
    assert all(n in text(supervisor.get("/cases")) for n in numbers.values())
    by_status = text(supervisor.get("/cases?status=no_basis"))
    assert numbers[closed] in by_status and numbers[mine] not in by_status
    by_number = text(supervisor.get(f"/cases?number={numbers[other][4:].lower()}"))
    assert numbers[other] in by_number and numbers[mine] not in by_number
    assert "Kết thúc: thông tin không có cơ sở" in by_status
    app.config["CASE56_PAGE_SIZE"] = 2
    first, second = text(supervisor.get("/cases")), text(supervisor.get("/cases?page=2"))
    assert "Trang 1 / 2" in first and sum(n in first + second for n in numbers.values()) == 3
    assert supervisor.get("/cases?page=x&commune=&number=%25_").status_code == 200
    assert supervisor.get("/cases?commune=%00").status_code == 400  # NUL is refused app-wide (web.security)
    # The intake point sees the reports it recorded; partners and administrators have no case list.
    assert numbers[other] in text(client_for(app, "tiepnhan").get("/cases"))
    for username in ("truonghoc", "quantri"):
        assert client_for(app, username).get("/cases").status_code == 403


# -- the case page -------------------------------------------------------------------------------------

def test_case_page_shows_status_timeline_diagram_forms_and_audit(app):
    case_id = open_case(app, hours_ago=30, stop_at="detailed_assessment")  # verification done 18 h late
    number = case_of(app, case_id).number
    officer = client_for(app, "canbo")
    response = officer.get(f"/cases/{case_id}")
    assert response.status_code == 200
    page = text(response)
    assert number in page and "Đang xử lý" in page
    assert "Thu thập thông tin, đánh giá nguy cơ cụ thể (Mẫu số 03)" in page  # the stage
    # The timeline: due, done, late by how much; the open step linked.
    assert "Trễ 18 giờ" in page and "Đúng hạn" in page and "Đang chờ" in page
    assert f'href="/tasks/{ready_task(app, case_id, "detailed_assessment")}"' in page
    # The diagram inline, drawn from the case's process version: path taken and the waiting step.
    svg = re.search(r'<div class="diagram"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert svg.lstrip().startswith("<svg") and "<script" not in svg
    assert "Đang thực hiện: Thu thập thông tin, đánh giá nguy cơ cụ thể (Mẫu số 03);" in svg
    assert "Xử lý quá hạn: Xác minh thông tin" in svg  # the supervisor's escalation of the late step
    assert "Đã hoàn thành 2 bước." in svg  # verification and Mẫu 02
    # Every form and decision with its data (the officer sees the informant).
    for title in ("Mẫu số 01", "Kết quả xác minh thông tin", "Mẫu số 02"):
        assert title in page
    assert "Trần Thị Bình" in page and "0912345678" in page
    # The audit trail (summaries only, never form data) for the roles that audit.
    assert "Nhật ký truy cập và thay đổi" in page and "Hoàn thành bước" in page and "Xem hồ sơ" in page
    assert [e.actor for e in audits(app, "case_view", case_id)] == ["canbo"]
    assert "Đính kèm tài liệu" in page and f'href="/cases/{case_id}/transfer"' in page


def test_informant_is_hidden_from_those_who_must_not_see_it(app):
    case_id = open_case(app, stop_at="initial_assessment")
    for username in ("canbo", "chutich", "thanhtra", "tiepnhan"):
        page = text(client_for(app, username).get(f"/cases/{case_id}"))
        assert "Trần Thị Bình" in page and "0912345678" in page, username
    supervisor = client_for(app, "giamsat").get(f"/cases/{case_id}")
    assert supervisor.status_code == 200
    page = text(supervisor)
    assert "Trần Thị Bình" not in page and "0912345678" not in page and "[đã ẩn]" in page
    assert "Nguyễn Văn An" in page  # the child's own data is part of the supervisor's review
    assert 'href="/cases/' + str(case_id) + '/transfer"' not in page  # the supervisor never changes a case
    # The step page hides it from the supervisor as well.
    step = text(client_for(app, "giamsat").get(f"/tasks/{ready_task(app, case_id, 'initial_assessment')}"))
    assert "Trần Thị Bình" not in step and "0912345678" not in step
    # Intake sees no audit trail; out of scope is the same answer as a missing case.
    assert "Nhật ký truy cập" not in text(client_for(app, "tiepnhan").get(f"/cases/{case_id}"))
    for username in ("canbo2", "chutich2", "truonghoc", "yte", "quantri"):
        response = client_for(app, username).get(f"/cases/{case_id}")
        assert response.status_code == 404 and "Trần Thị Bình" not in text(response), username
    officer = client_for(app, "canbo")
    for path in ("/cases/987654", "/cases/99999999999999999999", "/tasks/99999999999999999999",
                 "/attachments/99999999999999999999", "/reports/99999999999999999999"):
        assert officer.get(path).status_code == 404, path
    assert [e.actor for e in audits(app, "case_view", case_id)] == ["canbo", "chutich", "thanhtra", "tiepnhan",
                                                                     "giamsat", "tiepnhan"]


def test_english_case_page(app):
    case_id = open_case(app)
    client = client_for(app, "canbo")
    page = client.get("/").get_data(as_text=True)
    client.post("/language", data={"locale": "en", "csrf_token": token(page), "next": f"/cases/{case_id}"})
    english = text(client.get(f"/cases/{case_id}"))
    assert "Timeline" in english and "Process diagram" in english and "Forms and decisions" in english
    assert "Verify the report" in english and "Receive the report (Form 01)" in english  # step titles too
    steps = text(client.get(f"/tasks/{ready_task(app, case_id, 'verify')}"))
    assert "What the law requires" in steps and "Save draft" in steps and "Complete" in steps


# -- transfer and reopening ----------------------------------------------------------------------------

def test_transfer_through_the_web(app):
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    number = case_of(app, case_id).number
    officer = client_for(app, "canbo")
    path = f"/cases/{case_id}/transfer"
    form = officer.get(path)
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert '<option value="T01-X02"' in page and '<option value="T01-X01"' not in page  # not to itself
    # Invalid: a reason is required; shown inline, nothing moved.
    bad = officer.post(path, data={"csrf_token": token(page), "_version": version_on(page), "to_commune": "T01-X02"})
    assert bad.status_code == 422 and 'id="f-reason-err"' in bad.get_data(as_text=True)
    # Stale: the page's version is no longer the case's.
    stale = officer.post(path, data={**flatten(demo.sample("transfer", clock.now())), "csrf_token": token(page),
                                     "_version": "0"})
    assert stale.status_code == 409 and "Hồ sơ đã thay đổi" in text(stale)
    assert case_of(app, case_id).commune_id == case_of(app, case_id).commune_id
    # Others may not: another commune (404), the supervisor (403).
    assert client_for(app, "canbo2").get(path).status_code == 404
    assert client_for(app, "giamsat").get(path).status_code == 403
    done = officer.post(path, data={**flatten(demo.sample("transfer", clock.now())), "csrf_token": token(page),
                                    "_version": version_on(page)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/cases")  # no longer theirs
    assert f"Đã chuyển hồ sơ {number} đến Xã Đại Từ (demo)" in text(officer.get("/cases"))
    assert officer.get(f"/cases/{case_id}").status_code == 404
    receiving = client_for(app, "canbo2")
    assert f'href="/tasks/{task_id}"' in receiving.get("/").get_data(as_text=True)
    moved = text(receiving.get(f"/cases/{case_id}"))
    assert "Chuyển hồ sơ và mở lại" in moved and "Gia đình chuyển đến xã Đại Từ." in moved
    assert [e.details["to"] for e in audits(app, "case_transferred", case_id)] == ["T01-X02"]


def test_reopen_through_the_web(app):
    open_one = open_case(app)
    assert client_for(app, "canbo").get(f"/cases/{open_one}/reopen").status_code == 409  # still running
    closed = open_case(app, choices={"verification": {"has_basis": False, "reason_no_basis": "Không có sự việc."}})
    assert case_of(app, closed).status == "no_basis"
    officer = client_for(app, "canbo")
    path = f"/cases/{closed}/reopen"
    assert f'href="{path}"' in officer.get(f"/cases/{closed}").get_data(as_text=True)
    assert client_for(app, "chutich").get(path).status_code == 403  # the chairman does not record reports
    page = officer.get(path).get_data(as_text=True)
    assert 'name="reopen.reason"' in page and 'name="report.category"' in page
    cases = count_cases(app)
    bad = officer.post(path, data={"csrf_token": token(page), "report.channel": "phone"})
    assert bad.status_code == 422
    errors = bad.get_data(as_text=True)
    assert 'id="f-reopen-reason-err"' in errors and 'id="f-report-category-err"' in errors
    assert 'value="phone" id="f-report-channel-phone" checked' in errors or \
           '<option value="phone" selected>' in errors  # the choice is kept
    assert count_cases(app) == cases
    data = {**{f"reopen.{k}": v for k, v in flatten(demo.sample("reopen", clock.now())).items()},
            **{f"report.{k}": v for k, v in flatten(demo.sample("mau_01", clock.now())).items()}}
    done = officer.post(path, data={**data, "csrf_token": token(page)})
    assert done.status_code == 302
    new_id = int(done.headers["Location"].rsplit("/", 1)[1])
    assert case_of(app, new_id).linked_case_id == closed and count_cases(app) == cases + 1
    new_page = text(officer.get(f"/cases/{new_id}"))
    assert case_of(app, closed).number in new_page and "hồ sơ trước (đã mở lại)" in new_page
    assert "Có báo cáo mới về trẻ." in new_page
    assert case_of(app, new_id).number in text(officer.get(f"/cases/{closed}"))


# -- new report (Mẫu 01) -------------------------------------------------------------------------------

def test_new_report_opens_a_case(app):
    intake = client_for(app, "tiepnhan")
    response = intake.get("/reports/new")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # A province-level intake point picks among the province's communes; the form is Mẫu 01.
    assert '<option value="T01-X01"' in page and '<option value="T01-X02"' in page
    assert 'name="child.full_name"' in page and 'name="informant.consent"' in page
    assert 'name="child.father.name"' in page and 'name="abuse_forms"' in page
    assert 'name="commune_code"' not in page  # set from the picker
    report = demo.sample("mau_01", clock.now())
    done = intake.post("/reports/new", data={**flatten(report), "_commune": "T01-X02",
                                             "csrf_token": token(page)})
    assert done.status_code == 302
    case_id = int(done.headers["Location"].rsplit("/", 1)[1])
    case = case_of(app, case_id)
    assert case.number.startswith("T01-X02-") and case.created_by == "tiepnhan"
    shown = text(intake.get(done.headers["Location"]))
    assert case.number in shown and "Xã Đại Từ (demo)" in shown
    assert "Nguyễn Văn An" not in shown  # the confirmation carries no child data
    assert ready_task(app, case_id, "verify")
    assert f'href="/tasks/{ready_task(app, case_id, "verify")}"' in client_for(app, "canbo2").get("/").get_data(
        as_text=True)


def test_new_report_errors_inline_and_scope(app):
    officer = client_for(app, "canbo")
    page = officer.get("/reports/new").get_data(as_text=True)
    # A commune officer records reports for their own commune only (the incident commune, Art. 26.1); the
    # child's residence may be any commune (the plan goes there, Law on Children Art. 52.2).
    picker = page.split('name="_commune"', 1)[1].split("</select>", 1)[0]
    assert '<option value="T01-X01"' in picker and '<option value="T01-X02"' not in picker
    residence = page.split('name="residence_commune"', 1)[1].split("</select>", 1)[0]
    assert '<option value="T01-X01"' in residence and '<option value="T01-X02"' in residence
    cases = count_cases(app)
    typed = {"child": {"full_name": "Đỗ <Văn> Bé", "estimated_age": "200"}, "received_at": "hôm qua",
             "informant": {"consent": False, "name": "Người không đồng ý"}}
    response = officer.post("/reports/new", data={**flatten(typed), "_commune": "T01-X02",
                                                  "csrf_token": token(page)})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    for field in ("_commune", "category", "channel", "received_at", "child-estimated_age", "informant-name"):
        assert f'id="f-{field}-err"' in body, field
    assert 'value="Đỗ &lt;Văn&gt; Bé"' in body and 'value="hôm qua"' in body
    assert count_cases(app) == cases
    for username in ("chutich", "truonghoc", "giamsat", "thanhtra", "quantri"):
        client = client_for(app, username)
        assert client.get("/reports/new").status_code == 403, username
        assert client.post("/reports/new", data={"csrf_token": token(page)}).status_code in (400, 403), username
    assert client_for(app, "canbo2").get(f"/reports/{open_case(app)}").status_code == 404


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_reports_never_fail(app, data):
    client = getattr(app, "_fuzz_client", None)
    if client is None:  # one signed-in client for all examples of this database
        client = app._fuzz_client = client_for(app, "tiepnhan")
        app._fuzz_token = token(client.get("/reports/new").get_data(as_text=True))
    names = ["category", "channel", "received_at", "child.full_name", "child.date_of_birth", "child.estimated_age",
             "child.sex", "child.father.age", "informant.consent", "informant.name", "informant.phone",
             "abuse_forms", "environment", "crime_suspected", "_commune", "report_date", "child"]
    junk = st.one_of(st.text(max_size=30), st.sampled_from(["", "xam_hai", "hotline_111", "T01-X01", "true",
                                                             "2026-01-01T10:00", "29/02/2025", "9" * 25, "\x00"]))
    form = data.draw(st.dictionaries(st.one_of(st.sampled_from(names), st.text(max_size=10)),
                                     st.one_of(junk, st.lists(junk, max_size=3)), max_size=14))
    form["csrf_token"] = app._fuzz_token
    response = client.post("/reports/new", data=form)
    assert response.status_code < 500, (form, response.status_code)
    assert "Traceback" not in response.get_data(as_text=True)
    if response.status_code == 302:  # by chance a valid report: a case was really opened
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Task).where(Task.step == "receive"))
            db.session.remove()


def test_post_form_helper_round_trips(app):
    """The kit's flattening matches the page's input names (guards every other test here)."""
    case_id = open_case(app, stop_at="needs_meeting")
    task_id = ready_task(app, case_id, "needs_meeting")
    officer = client_for(app, "canbo")
    page = officer.get(f"/tasks/{task_id}").get_data(as_text=True)
    for name in flatten(demo.sample("needs_meeting", clock.now())):
        if not re.match(r"participants\.[1-9]", name):  # the page offers one empty row to start with
            assert f'name="{name}"' in page, name
    response = post_form(officer, f"/tasks/{task_id}", demo.sample("needs_meeting", clock.now()),
                         _action="complete", _version=version_on(page))
    assert response.status_code == 302


# -- the authorization matrix: each role × each case-work page × own / other commune --------------------

MATRIX = {
    # username: (inbox, case list, case page, step page, new report, transfer, attach) for a case of T01-X01
    "tiepnhan": (200, 200, 200, 200, 200, 403, 403),  # the intake point recorded it: reads, never changes
    "canbo": (200, 200, 200, 200, 200, 200, 200),
    "chutich": (200, 200, 200, 200, 403, 200, 200),
    "truonghoc": (200, 403, 404, 404, 403, 404, 404),  # no activity in this case
    "giamsat": (200, 200, 200, 200, 403, 403, 403),
    "thanhtra": (302, 200, 200, 200, 403, 403, 403),
    "quantri": (302, 403, 404, 404, 403, 404, 404),
    "canbo2": (200, 200, 404, 404, 200, 404, 404),  # another commune: the case does not exist for them
    "chutich2": (200, 200, 404, 404, 403, 404, 404),
}


def test_authorization_matrix(app):
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    pages = ("/", "/cases", f"/cases/{case_id}", f"/tasks/{task_id}", "/reports/new",
             f"/cases/{case_id}/transfer", f"/cases/{case_id}/attachments/new")
    for username, expected in MATRIX.items():
        client = client_for(app, username)
        got = tuple(client.get(path).status_code for path in pages)
        assert got == expected, (username, dict(zip(pages, got, strict=True)))
    anonymous = app.test_client()
    assert all(anonymous.get(path).status_code == 302 for path in pages)
