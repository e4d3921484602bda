"""Supervisor dashboard: overdue and due-soon steps of the province, escalations, charts, CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import audit, clock, worklists
from engine.models import AuditEntry, OrgUnit, Task, User
from web import charts, demo
from web.charts import Series, stacked_bars
from web.extensions import db


def _supervisor(app):
    return demo.cast(db.session).actors["giamsat"]


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _overdue(app, **kwargs) -> list[tuple[Task, object]]:
    with app.app_context():
        page = worklists.overdue(db.session, _supervisor(app), size=1000, **kwargs)
        db.session.expunge_all()
        return page.rows


def test_chart_escapes_labels_and_shows_values():
    svg = str(stacked_bars('<script>alert("x")</script> & Co', [('<b>Xã "A"</b>', (3, 1)), ("Xã B", (0, 2))],
                           [Series("Quá hạn", "#b3261e"), Series("<i>soon</i>", "#d48a00")]))
    assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg
    assert "&lt;script&gt;" in svg and "&lt;b&gt;Xã &#34;A&#34;&lt;/b&gt;" in svg and "&amp; Co" in svg
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert ">3 / 1<" in svg and ">0 / 2<" in svg
    # The largest total takes the bars' full width, what the chart leaves beside the widest value text
    # (3 + 1 → three quarters and one quarter); a zero value draws no segment.
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="\d+" width="([\d.]+)" height="16"', svg)]
    full = charts.WIDTH - charts.PAD - (charts.text_width("3 / 1") + 6 + charts.PAD)
    assert widths == pytest.approx([full * 3 / 4, full / 4, full / 2], abs=0.1)
    empty = str(stacked_bars("t", [], [Series("a", "#000")], empty_text="<none>"))
    assert "&lt;none&gt;" in empty and "<svg" not in empty


def test_dashboard_lists_overdue_steps_with_basis_and_drill_down(demo_app, login):
    with demo_app.app_context():
        # A partner's activity past its end date: counted by assignee, named in full.
        activity = db.session.scalars(select(Task).where(Task.assignee == "truonghoc", Task.state == "ready")).first()
        activity.due_at = clock.now() - timedelta(hours=2)
        db.session.commit()
    client = demo_app.test_client()
    login(client, "giamsat")
    rows = _overdue(demo_app)
    assert rows, "the demo has overdue steps"
    response = client.get("/supervisor")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for task, case in rows:
        assert case.number in page
        assert f'href="/cases/{case.id}"' in page  # drill-down to the case page
        assert task.title in page
    # The legal basis of each late step: the rule's label and article, unconfirmed numbers marked.
    assert "12 giờ kể từ khi tiếp nhận thông tin" in page and "Điều 25 khoản 2" in page
    assert "[cần xác nhận]" in page
    assert "Quá hạn" in page
    # Charts by commune, by role and by step, drawn on the server.
    assert page.count('<svg class="chart"') == 3
    assert "Phường Phan Đình Phùng (demo)" in page and "Xã Đại Từ (demo)" in page
    assert "Trường THCS Phan Đình Phùng (truonghoc)" in page
    # Escalations to acknowledge, each with its note form (CSRF-protected).
    with demo_app.app_context():
        escalations = db.session.scalars(select(Task).where(Task.escalates_task_id.is_not(None),
                                                            Task.state == "ready")).all()
        assert escalations
        for escalation in escalations:
            assert f'action="/supervisor/escalations/{escalation.id}/ack' in page
    assert 'name="csrf_token"' in page and 'name="note"' in page
    # No form of the page edits a case: the only posts are acknowledgements, reminders about a step (issue 17),
    # log-out and language.
    actions = re.findall(r'<form method="post" action="([^"]+)"', page)
    assert actions and all(a.startswith("/supervisor/escalations/") or re.fullmatch(r"/tasks/\d+/remind", a)
                           or a in ("/logout", "/language") for a in actions)
    assert any(re.fullmatch(r"/tasks/\d+/remind", a) for a in actions)


    _filters(demo_app, client)
    _labels_escaped_and_english(demo_app, client, login)


def _filters(demo_app, client):
    with demo_app.app_context():
        x02 = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "T01-X02"))
        x02_id = x02.id
    all_rows = _overdue(demo_app, due_within=timedelta(hours=24))
    x02_rows = _overdue(demo_app, due_within=timedelta(hours=24), commune_id=x02_id)
    others = [c.number for _t, c in all_rows if c.commune_id != x02_id]
    assert x02_rows and others
    page = client.get(f"/supervisor?commune={x02_id}").get_data(as_text=True)
    listing = page.split('id="h-list"')[1]
    assert all(c.number in listing for _t, c in x02_rows)
    assert not any(number in listing for number in others)
    # By step.
    step = x02_rows[0][0].step
    listing = client.get(f"/supervisor?step={step}").get_data(as_text=True).split('id="h-list"')[1]
    assert all((t.step == step) == (c.number in listing) for t, c in all_rows if t.step == step)
    # Window 0: overdue only, nothing "due soon" is listed.
    overdue_only = _overdue(demo_app)
    listing = client.get("/supervisor?window=0").get_data(as_text=True).split('id="h-list"')[1]
    assert listing.count('class="late"') == len(overdue_only) and 'class="soon"' not in listing
    # Bad filter values: a Vietnamese message on the field, 400, never a 500.
    for query, message in (("commune=999999", "Xã/phường không hợp lệ"), ("commune=abc", "Xã/phường không hợp lệ"),
                           ("step=nope", "Bước không hợp lệ"), ("window=5", "Khoảng thời gian không hợp lệ")):
        response = client.get(f"/supervisor?{query}")
        assert response.status_code == 400, query
        assert message in response.get_data(as_text=True)
    assert client.get("/supervisor?page=abc").status_code == 200


def _acknowledge(demo_app, client):
    with demo_app.app_context():
        escalation = db.session.scalars(select(Task).where(Task.escalates_task_id.is_not(None),
                                                           Task.state == "ready").order_by(Task.id)).first()
        escalation_id, case_id = escalation.id, escalation.case_id
    page = client.get("/supervisor").get_data(as_text=True)
    token = _token(page)
    # The note is required: the error is shown inline, in Vietnamese, and nothing changes.
    response = client.post(f"/supervisor/escalations/{escalation_id}/ack",
                           data={"csrf_token": token, "note": "  ", "action_taken": "Gọi điện"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Trường này là bắt buộc." in body and 'aria-invalid="true"' in body
    assert "Gọi điện" in body  # the user's input is kept
    with demo_app.app_context():
        assert db.session.get(Task, escalation_id).state == "ready"
    # Without the CSRF token: refused.
    assert client.post(f"/supervisor/escalations/{escalation_id}/ack", data={"note": "x"}).status_code == 400
    # With a note: the escalation task is completed through the engine and audited.
    response = client.post(f"/supervisor/escalations/{escalation_id}/ack",
                           data={"csrf_token": token, "note": "Đã nhắc cán bộ xã.", "action_taken": "Gọi điện"})
    assert response.status_code == 303
    with demo_app.app_context():
        task = db.session.get(Task, escalation_id)
        assert task.state == "completed" and task.completed_by == "giamsat"
        assert task.form_data == {"note": "Đã nhắc cán bộ xã.", "action_taken": "Gọi điện"}
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.case_id == case_id,
                                                          AuditEntry.action == "task_completed",
                                                          AuditEntry.actor == "giamsat"))
        assert audit.verify(db.session) == []
    page = client.get("/supervisor").get_data(as_text=True)
    assert "Đã xác nhận xử lý bước quá hạn" in page
    assert f"/supervisor/escalations/{escalation_id}/ack" not in page
    # Acknowledging again is a conflict with a clear message, not an error page.
    response = client.post(f"/supervisor/escalations/{escalation_id}/ack",
                           data={"csrf_token": token, "note": "Lần hai"}, follow_redirects=True)
    assert response.status_code == 200
    assert "đã được hoàn thành" in response.get_data(as_text=True)
    # An ordinary step (not an escalation) cannot be completed from here.
    with demo_app.app_context():
        step_id = db.session.scalar(select(Task.id).where(Task.escalates_task_id.is_(None), Task.state == "ready"))
    assert client.post(f"/supervisor/escalations/{step_id}/ack",
                       data={"csrf_token": token, "note": "x"}).status_code == 404
    assert client.post("/supervisor/escalations/999999/ack", data={"csrf_token": token, "note": "x"}).status_code == 404


def test_csv_export_then_acknowledging_an_escalation(demo_app, login):
    client = demo_app.test_client()
    login(client, "giamsat")
    with demo_app.app_context():
        # A name that a spreadsheet would run as a formula must arrive as text.
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "T01-X02"))
        unit.name = "=HYPERLINK(\"http://x\")"
        x02 = unit.id
        db.session.commit()
    rows = _overdue(demo_app, due_within=timedelta(hours=24))
    response = client.get("/supervisor/overdue.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and "charset=utf-8" in response.headers["Content-Type"]
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Vietnamese as UTF-8
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][0].startswith("Mức độ mật: Lưu hành nội bộ — Phạm vi cung cấp:")  # the stamp (Art. 24.3)
    header, body = table[1], table[2:]
    assert header[:3] == ["Số hồ sơ", "Xã/phường", "Bước"] and "Hạn (ngày)" in header
    assert len(body) == len(rows)
    by_number = {r[0]: r for r in body}
    for task, case in rows:
        row = by_number[case.number]
        due = clock.local(task.due_at)
        assert row[header.index("Hạn (ngày)")] == due.strftime("%d/%m/%Y")
        assert row[header.index("Hạn (giờ)")] == due.strftime("%H:%M")
        assert row[header.index("Ngày tiếp nhận")] == clock.local(case.received_at).strftime("%d/%m/%Y")
        assert row[header.index("Bước")] == task.title
        late = task.due_at < clock.now()
        assert row[header.index("Tình trạng")] == ("Quá hạn" if late else "Sắp đến hạn")
        if late:
            hours = int((clock.now() - task.due_at).total_seconds() // 3600)
            assert abs(int(row[header.index("Số giờ quá hạn")]) - hours) <= 1
        if case.commune_id == x02:
            assert row[1] == "'=HYPERLINK(\"http://x\")"
    assert all(re.fullmatch(r"\d{2}/\d{2}/\d{4}", r[header.index("Hạn (ngày)")]) for r in body)
    # Filters apply to the export too; the download is audited.
    with demo_app.app_context():
        x01 = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "T01-X01"))
    filtered = client.get(f"/supervisor/overdue.csv?commune={x01}&window=0").get_data().decode("utf-8-sig")
    numbers = {r[0] for r in list(csv.reader(io.StringIO(filtered)))[2:]}
    assert numbers == {c.number for t, c in _overdue(demo_app, commune_id=x01)}
    assert client.get("/supervisor/overdue.csv?window=abc").status_code == 400
    with demo_app.app_context():
        exports = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "overdue_export")
                                     .order_by(AuditEntry.id)).all()  # PostgreSQL returns unordered rows in any order
        assert [(e.actor, e.details["rows"]) for e in exports] == [("giamsat", len(rows)), ("giamsat", len(numbers))]
        assert all(e.details["stamp_level"] == "noi_bo" for e in exports)
    assert client.get("/supervisor/overdue.csv?level=mat&recipients=S%E1%BB%9F%20Y%20t%E1%BA%BF").get_data().decode(
        "utf-8-sig").startswith("Mức độ mật: Mật — Phạm vi cung cấp: Sở Y tế")
    assert client.get("/supervisor/overdue.csv?level=bi_mat").status_code == 400
    _acknowledge(demo_app, client)


def _labels_escaped_and_english(demo_app, client, login):
    with demo_app.app_context():
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "T01-X01"))
        unit.name = '<img src=x onerror="alert(1)">'
        db.session.commit()
    page = client.get("/supervisor").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=" in page
    # English: step titles from the process definition, the rule's English label.
    with demo_app.app_context():
        db.session.scalar(select(User).where(User.username == "giamsat")).locale = "en"
        db.session.commit()
    page = client.get("/supervisor").get_data(as_text=True)
    assert "Verify the report" in page and "12 hours after the report was received" in page
    assert "Escalations to acknowledge" in page and "By commune" in page  # web/translations/en/oversight.po
    # The per-row texts the view translates once per page (overdue list, escalations), in English too.
    assert "Overdue by " in page and "Still not done, overdue by " in page and "Quá hạn" not in page


def test_other_roles_are_refused(app, login):
    anonymous = app.test_client()
    for path in ("/supervisor", "/supervisor/overdue.csv"):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert anonymous.post("/supervisor/escalations/1/ack").status_code in (302, 400)
    for username in ("tiepnhan", "canbo", "chutich", "truonghoc", "thanhtra", "quantri"):
        client = app.test_client()
        login(client, username)
        assert client.get("/supervisor").status_code == 403, username
        assert client.get("/supervisor/overdue.csv").status_code == 403, username
