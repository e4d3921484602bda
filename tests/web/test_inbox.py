"""The inbox ("Việc cần làm"): each role's own open steps, most urgent first, with the deadline's legal basis."""

from __future__ import annotations

import html
import re

from tests.web.casework_kit import case_of, client_for, open_case, ready_task


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def order_of(page: str, task_ids: list[int]) -> list[int]:
    found = [int(t) for t in re.findall(r'href="/tasks/(\d+)"', page)]
    return [t for t in found if t in task_ids]


def test_each_role_sees_its_own_steps_most_urgent_first(app):
    fresh = open_case(app, hours_ago=1)
    late = open_case(app, hours_ago=30, child={"full_name": "Lê Thị Hoa", "estimated_age": 9})
    elsewhere = open_case(app, commune="T01-X02")
    crime = open_case(app, hours_ago=1, crime_suspected=True)  # its police referral's limit is still open
    fresh_task, late_task = ready_task(app, fresh, "verify"), ready_task(app, late, "verify")
    police = ready_task(app, crime, "police_referral")
    other_task = ready_task(app, elsewhere, "verify")

    officer = client_for(app, "canbo")
    response = officer.get("/")
    assert response.status_code == 200
    page = text(response)
    assert order_of(page, [fresh_task, late_task, other_task]) == [late_task, fresh_task]  # overdue first
    assert case_of(app, late).number in page and case_of(app, elsewhere).number not in page
    # Time left or overdue, and what the limit is counted from, with its article (unconfirmed: marked).
    assert "Quá hạn 18 giờ" in page and "Còn 10 giờ" in page
    # Verification's 12 hours are case56's policy, not the law's (f460c66): the article says the law sets no limit.
    assert "12 giờ kể từ khi tiếp nhận thông tin" in page and "Xác minh thông tin" in page
    assert "Điều 25 khoản 2 NĐ 56/2017/NĐ-CP (không quy định thời hạn)" in page
    assert "không do pháp luật quy định" in page
    assert police in order_of(page, [police]) and page.count("[cần xác nhận]") == 1  # the open limit, noted once
    # The child's name and age (an estimate marked) beside the case number, for a role that may see them (b601f36,
    # issue 17: find a child) — only for the cases in the caller's scope.
    assert "Lê Thị Hoa, khoảng 9 tuổi" in page

    page2 = text(client_for(app, "canbo2").get("/"))
    assert order_of(page2, [fresh_task, late_task, other_task]) == [other_task]
    assert "Lê Thị Hoa" not in page2

    # The chairman has no step yet; the supervisor has the escalation of the overdue verification.
    chairman = text(client_for(app, "chutich").get("/"))
    assert "Bạn không có việc nào đang chờ." in chairman and "/tasks/" not in chairman
    supervisor = text(client_for(app, "giamsat").get("/"))
    escalation = ready_task(app, late, "escalate_verify")
    assert order_of(supervisor, [escalation, fresh_task, late_task]) == [escalation]
    assert "Xử lý quá hạn: Xác minh thông tin" in supervisor
    assert "Không có thời hạn" in supervisor  # an escalation has no limit of its own
    partner = text(client_for(app, "truonghoc").get("/"))
    assert "/tasks/" not in partner and "Lê Thị Hoa" not in partner


def test_filters_and_paging(app):
    app.config["CASE56_PAGE_SIZE"] = 2
    late = ready_task(app, open_case(app, hours_ago=30), "verify")
    soon = [ready_task(app, open_case(app, hours_ago=h), "verify") for h in (3, 2, 1)]
    crime = open_case(app, crime_suspected=True)  # verification and the police referral, in parallel
    police, crime_verify = ready_task(app, crime, "police_referral"), ready_task(app, crime, "verify")
    officer = client_for(app, "canbo")
    everything = [late, *soon, police, crime_verify]

    first = text(officer.get("/"))
    assert "6 việc" in first and "Trang 1 / 3" in first and len(order_of(first, everything)) == 2
    second = text(officer.get("/?page=2"))
    seen = order_of(first, everything) + order_of(second, everything) + order_of(text(officer.get("/?page=3")),
                                                                                 everything)
    assert sorted(seen) == sorted(everything)  # every task once across the pages

    overdue = text(officer.get("/?overdue=1"))
    assert order_of(overdue, everything) == [late]
    by_step = text(officer.get("/?step=police_referral"))
    assert order_of(by_step, everything) == [police]
    assert 'value="police_referral" selected' in by_step
    # Nonsense filters are ignored, never an error.
    assert officer.get("/?page=-4&commune=abc&step=<x>").status_code == 200
    assert officer.get("/?page=99999999999999999999").status_code == 200
    # A commune filter for those who span communes (the supervisor), matching nothing outside it.
    app.config["CASE56_PAGE_SIZE"] = 25
    supervisor = client_for(app, "giamsat")
    page = supervisor.get("/").get_data(as_text=True)
    assert 'name="commune"' in page
    ids = dict(re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', page))
    x02 = next(k for k, v in ids.items() if "Đại Từ" in v)
    assert "/tasks/" not in supervisor.get(f"/?commune={x02}").get_data(as_text=True)


def test_long_lists_count_up_to_a_limit_and_still_page_to_the_end(app, monkeypatch):
    """Past COUNT_LIMIT open tasks the page says "more than" instead of counting them all (a count that
    would grow with the case load) and keeps offering the next page until the last one."""
    from engine import worklists

    monkeypatch.setattr(worklists, "COUNT_LIMIT", 3)
    app.config["CASE56_PAGE_SIZE"] = 2
    tasks = [ready_task(app, open_case(app, hours_ago=h), "verify") for h in (6, 5, 4, 3, 2, 1)]
    officer = client_for(app, "canbo")
    first = text(officer.get("/"))
    assert "Hơn 3 việc" in first and "Trang 1 / hơn 2" in first and 'href="/?page=2"' in first
    second = text(officer.get("/?page=2"))
    assert "Hơn 4 việc" in second and "Trang 2 / hơn 2" in second and 'href="/?page=3"' in second
    third = text(officer.get("/?page=3"))
    assert "6 việc" in third and "Trang 3 / 3" in third and "page=4" not in third
    assert order_of(first, tasks) + order_of(second, tasks) + order_of(third, tasks) == tasks
    with app.app_context():
        from engine.models import User
        from web.extensions import db

        db.session.scalar(db.select(User).where(User.username == "canbo")).locale = "en"
        db.session.commit()
    english = text(officer.get("/"))
    assert "More than 3 tasks" in english and "Page 1 of more than 2" in english
    app.config["CASE56_PAGE_SIZE"] = 25


def test_roles_without_steps_go_home(app):
    assert client_for(app, "thanhtra").get("/").headers["Location"].endswith("/inspector")
    assert client_for(app, "quantri").get("/").headers["Location"].endswith("/admin")
    # The intake point has no steps: the way to a new report and the reports it recorded.
    case_id = open_case(app)
    intake = text(client_for(app, "tiepnhan").get("/"))
    assert 'href="/reports/new"' in intake and case_of(app, case_id).number in intake
    assert f'href="/cases/{case_id}"' in intake
    assert app.test_client().get("/").status_code == 302  # signed out: to the log-in page
