"""Stranded cases are visible where someone can act on them: the supervisor dashboard, the API list, and
the readiness endpoint's count (engine.liveness); a closed case shows what goes on and why steps ended."""

from __future__ import annotations

from sqlalchemy import text

from engine import clock, monitoring
from web import demo
from web.extensions import db


def _strand_one(app, case_engine) -> str:
    """A case in intervention whose assignee's account is then deactivated."""
    with app.app_context():
        people = demo.cast(db.session)
        case = case_engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01",
                                     demo.sample("mau_01", clock.now()))
        demo.drive(case_engine, db.session, case, people, stop_at="carry_out_activity")
        db.session.execute(text("UPDATE user_account SET active = false WHERE username = 'yte'"))
        db.session.commit()
        number = case.number
        db.session.remove()
    return number


def test_readiness_counts_stranded_cases_without_login(app, case_engine):
    client = app.test_client()
    with app.app_context():  # a tick worker has run: readiness then depends on the database alone
        monitoring.beat(db.session, "test:1", 0, 0, 0)
    body = client.get("/readyz").get_json()
    assert body["status"] == "ready" and body["stranded_cases"] == 0 and body["timer_incidents"] == 0
    _strand_one(app, case_engine)
    response = client.get("/readyz")
    assert response.status_code == 200 and response.get_json()["stranded_cases"] == 1
    assert "T01-X01" not in response.get_data(as_text=True)  # counts only, no case data


def test_supervisor_dashboard_lists_the_stranded_case_with_its_reason(app, case_engine, login):
    number = _strand_one(app, case_engine)
    client = app.test_client()
    login(client, "giamsat")
    page = client.get("/supervisor").get_data(as_text=True)
    assert "Hồ sơ bị bỏ lửng" in page and number in page
    assert "tài khoản được giao “yte” đã bị khoá" in page


def test_closed_case_page_shows_what_goes_on_and_why_steps_were_cancelled(app, case_engine, login):
    with app.app_context():
        people = demo.cast(db.session)
        case = case_engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01",
                                     demo.sample("mau_01", clock.now(), crime_suspected=True))
        emergency = {"emergency": True, "danger_description": "Trẻ bị đánh nhiều lần, nguy cơ tái diễn."}
        # Issue 16: the emergency measures ask for Mẫu 07; the chairman's decision opens the separation's review.
        separate = {"separate": True, "separation_reason": "Người cha gây tổn hại."}
        demo.drive(case_engine, db.session, case, people, choices={"mau_02": emergency, "emergency_measures": separate},
                   skip=lambda t: t.escalates_task_id is not None or t.step in ("separation_review", "police_outcome"))
        case_id = case.id
        db.session.remove()
    client = app.test_client()
    login(client, "canbo")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Đang ở bước" not in page
    assert "Luồng tố tụng (công an) — vẫn tiếp tục sau khi đóng hồ sơ" in page
    assert "Đã huỷ — hồ sơ đã đóng, bước không còn cần thiết" in page
    inbox = client.get("/").get_data(as_text=True)
    assert "Ghi nhận kết quả xử lý của công an" in inbox and "vẫn tiếp tục sau khi đóng hồ sơ" in inbox
