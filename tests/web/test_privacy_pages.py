"""The privacy pages on both databases: the administrator receives and drives a data subject's request and a
breach through the admin area; field errors come back in Vietnamese with 422 and save nothing; the case's officer
records the child's representatives (alleged-abuser flag); other roles are refused."""

from __future__ import annotations

import re

import time_machine
from sqlalchemy import select

from engine import data_requests
from engine.models import Breach, DataRequest, LegalRepresentative
from tests.privacy.privacy_kit import open_case, vn
from web import demo
from web.extensions import db

NOW = vn(2026, 6, 10, 10, 0)


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_request_and_breach_pages(app, client, login, case_engine):
    with time_machine.travel(NOW, tick=True):
        with app.app_context():
            case = open_case(case_engine, db.session, demo.cast(db.session), vn(2026, 6, 1, 9, 0))
            number, case_id = case.number, case.id
            db.session.remove()

        # The officer records the representatives; the father is flagged.
        login(client, "canbo")
        assert f"/cases/{case_id}/representatives" in client.get(f"/cases/{case_id}").get_data(as_text=True)
        page = client.get(f"/cases/{case_id}/representatives")
        assert page.status_code == 200 and "Người đại diện theo pháp luật" in page.get_data(as_text=True)
        token = _token(page.get_data(as_text=True))
        bad = client.post(f"/cases/{case_id}/representatives", data={"csrf_token": token, "full_name": ""})
        assert bad.status_code == 422 and "Trường này là bắt buộc." in bad.get_data(as_text=True)
        done = client.post(f"/cases/{case_id}/representatives", data={
            "csrf_token": token, "full_name": "Lê Văn Cường", "relation": "father", "alleged_abuser": "true"})
        assert done.status_code == 302
        listed = client.get(f"/cases/{case_id}/representatives").get_data(as_text=True)
        assert "Lê Văn Cường" in listed and "người bị nghi xâm hại trẻ em" in listed
        assert client.get("/admin/privacy").status_code == 403
        client.post("/logout", data={"csrf_token": token})

        login(client, "quantri")
        assert client.get(f"/cases/{case_id}/representatives").status_code == 404
        overview = client.get("/admin/privacy")
        assert overview.status_code == 200 and "Yêu cầu của chủ thể dữ liệu" in overview.get_data(as_text=True)
        form = client.get(f"/admin/privacy/requests/new?case_number={number}").get_data(as_text=True)
        assert "Lê Văn Cường" in form  # the case's representatives to pick from
        token = _token(form)
        base = {"csrf_token": token, "case_number": number, "received_at": "2026-06-10T09:00",
                "requester_kind": "child", "requester_name": "Lê Thị Em", "request_type": "copy",
                "identity_document": "Giấy khai sinh", "details": "Xin bản sao dữ liệu."}
        missing = client.post("/admin/privacy/requests/new", data={**base, "case_number": "KHONG-CO"})
        assert missing.status_code == 422 and "Không có hồ sơ số KHONG-CO" in missing.get_data(as_text=True)
        with app.app_context():
            assert db.session.scalars(select(DataRequest)).all() == []
        created = client.post("/admin/privacy/requests/new", data=base)
        assert created.status_code == 302
        page = client.get(created.headers["Location"]).get_data(as_text=True)
        assert "Xác nhận đã nhận yêu cầu" in page and "17:00 12/06/2026" in page  # 2 working days: Friday
        assert "17:00 22/06/2026" in page  # 10 days end on Saturday 20/06, moved to Monday
        with app.app_context():
            request = db.session.scalars(select(DataRequest)).one()
            step_id = data_requests.of(case_engine).open_step(db.session, request.id).id
            request_id, version = request.id, request.version
            db.session.remove()
        url = f"/admin/privacy/requests/{request_id}/steps/{step_id}"
        refused = client.post(url, data={"csrf_token": token, "version": version, "identity_verified": "false",
                                         "decision": "accept", "reply": "Đã nhận."})
        assert refused.status_code == 422 and "Chưa xác minh nhân thân" in refused.get_data(as_text=True)
        ok = client.post(url, data={"csrf_token": token, "version": version, "identity_verified": "true",
                                    "decision": "accept", "reply": "Đã nhận."})
        assert ok.status_code == 302
        page = client.get(f"/admin/privacy/requests/{request_id}").get_data(as_text=True)
        assert "Giải quyết yêu cầu" in page and "Đang giải quyết" in page
        assert "<svg" in page and 'id="request' in page and "Quản trị" in page  # the process with its lane

        # A breach: recorded, prefilled notice, closing refused before the A05 notice, then notified and closed.
        form = client.get("/admin/privacy/breaches/new").get_data(as_text=True)
        bad = client.post("/admin/privacy/breaches/new", data={"csrf_token": token, "subjects_count": "nhiều"})
        assert bad.status_code == 422
        created = client.post("/admin/privacy/breaches/new", data={
            "csrf_token": token, "discovered_at": "2026-06-10T08:00", "discovered_by": "Cán bộ xã",
            "description": "Máy tính bị mất.", "data_categories": ["identity", "crime"], "subjects_count": "3",
            "risks": ["dignity", "life"]})
        assert created.status_code == 302, created.get_data(as_text=True)
        page = client.get(created.headers["Location"]).get_data(as_text=True)
        assert "THÔNG BÁO VI PHẠM QUY ĐỊNH VỀ BẢO VỆ DỮ LIỆU CÁ NHÂN" in page and "08:00 13/06/2026" in page
        with app.app_context():
            breach = db.session.scalars(select(Breach)).one()
            breach_id = breach.id
            db.session.remove()
        early = client.post(f"/admin/privacy/breaches/{breach_id}/close", data={
            "csrf_token": token, "outcome": "Xong.", "subjects_informed": "true"})
        assert early.status_code == 422 and "A05" in early.get_data(as_text=True)
        sent = client.post(f"/admin/privacy/breaches/{breach_id}/notify", data={
            "csrf_token": token, "recipient": "a05", "sent_at": "2026-06-10T09:30", "reference": "Công văn 5/UBND",
            "content": "Nội dung thông báo."})
        assert sent.status_code == 302
        closed = client.post(f"/admin/privacy/breaches/{breach_id}/close", data={
            "csrf_token": token, "outcome": "Đã khôi phục.", "subjects_informed": "true"})
        assert closed.status_code == 302
        page = client.get(f"/admin/privacy/breaches/{breach_id}").get_data(as_text=True)
        assert "Đã kết thúc" in page and "Ghi nhận thông báo" in page
        with app.app_context():
            assert db.session.scalars(select(LegalRepresentative)).one().alleged_abuser is True
        # English second: the same pages through the .po catalogue.
        assert client.post("/language", data={"csrf_token": token, "locale": "en", "next": "/"}).status_code == 302
        page = client.get(f"/admin/privacy/requests/{request_id}").get_data(as_text=True)
        assert "Handle the request" in page and "Being handled" in page and "Right exercised" in page
        page = client.get(f"/admin/privacy/breaches/{breach_id}").get_data(as_text=True)
        assert "Breach " in page and "Closed" in page and "Notice recorded" in page
        assert "Personal data protection" in client.get("/admin/privacy").get_data(as_text=True)


def test_the_administrators_digest_names_late_breaches_and_request_steps(app, client, login, case_engine):
    from engine import breaches, timers
    from engine.models import User
    from web import notifications

    with time_machine.travel(NOW, tick=False), app.app_context():
        people = demo.cast(db.session)
        admin_actor = people.actors["quantri"]
        case = open_case(case_engine, db.session, people, vn(2026, 6, 1, 9, 0))
        breach = breaches.record(case_engine, db.session, admin_actor, {
            "discovered_at": "2026-06-06T09:00:00+07:00", "discovered_by": "Cán bộ xã", "description": "Mất hồ sơ.",
            "data_categories": ["identity"], "subjects_count": 1, "risks": ["dignity"]})
        request = data_requests.of(case_engine).receive(db.session, admin_actor, {
            "case_number": case.number, "received_at": "2026-06-08T09:00:00+07:00", "requester_kind": "child",
            "requester_name": "Nguyễn Văn An", "request_type": "view", "identity_document": "CCCD",
            "details": "Xem dữ liệu."})
        timers.tick(case_engine, db.session)
        admin = db.session.scalar(select(User).where(User.username == "quantri"))
        admin.email = "quantri@example.vn"
        db.session.commit()
        digest = notifications.build_digest(db.session, admin, NOW)
        assert digest is not None and digest.items == [] and len(digest.privacy) == 2
        text = digest.message.get_content()
        assert f"Vi phạm {breach.number}: thông báo Bộ Công an (72 giờ)" in text and "QUÁ HẠN" in text
        assert f"Yêu cầu {request.number}: Xác nhận đã nhận yêu cầu" in text  # due today 17:00
        assert f"/admin/privacy/breaches/{breach.id}" in text and "Nguyễn Văn An" not in text
        officer = db.session.scalar(select(User).where(User.username == "canbo"))
        assert notifications.privacy_items(db.session, officer, NOW) == []
        db.session.refresh(breach)
        assert breach.escalated_at is not None
        db.session.remove()
    with time_machine.travel(NOW, tick=True):
        login(client, "quantri")
        home = client.get("/admin").get_data(as_text=True)
        assert "1 yêu cầu đang giải quyết" in home and "1 vi phạm quá 72 giờ chưa thông báo Bộ Công an" in home
        listed = client.get("/admin/privacy").get_data(as_text=True)
        assert f"Vi phạm {breach.number}: đã quá 72 giờ" in listed
