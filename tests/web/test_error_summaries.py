"""The error summary at the top of the forms that sit in a list row or stand alone (issue 17), both databases: a
unit's rename, a restriction's lift, a legal hold's release and a destruction's withdrawal on the admin pages,
and the log-in form. Each refusal is listed at the top of the page, linking to the id of the field it is about
(which is on the page, below the summary), and nothing changes."""

from __future__ import annotations

import html

from sqlalchemy import select, update

from engine import clock, restriction, retention
from engine.models import AuditEntry, Case, CaseRestriction, Destruction, LegalHold, OrgUnit, User
from tests.web.casework_kit import client_for, open_case, token
from web import demo
from web.extensions import db


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def summary_of(body: str) -> str:
    """The error summary's own markup (there is one per page)."""
    assert body.count('id="error-summary"') == 1
    return body.split('id="error-summary"')[1].split("</div>")[0]


def assert_links_to_field(body: str, field_id: str, item: str) -> None:
    """The summary lists `item`, linked to `#field_id`, and that field is on the page below the summary."""
    assert f'<a href="#{field_id}">{item}</a>' in summary_of(body)
    assert body.index('id="error-summary"') < body.index(f'id="{field_id}"')


def audit_count(app, action: str) -> int:
    with app.app_context():
        count = len(db.session.scalars(select(AuditEntry.id).where(AuditEntry.action == action)).all())
        db.session.remove()
        return count


def test_a_refused_unit_rename_is_summarised_at_the_top(app):
    admin = client_for(app, "quantri")
    page = text(admin.get("/admin/units"))
    assert 'id="error-summary"' not in page
    with app.app_context():
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.kind == "commune").order_by(OrgUnit.code))
        unit_id, code, name = unit.id, unit.code, unit.name
        db.session.remove()
    for typed, message in (("   ", "Tên đơn vị là bắt buộc."),
                           ("Xã " + "x" * 200, "Tên tối đa 200 ký tự, không có ký tự điều khiển.")):
        refused = admin.post(f"/admin/units/{unit_id}/rename", data={"csrf_token": token(page), "name": typed})
        body = text(refused)
        assert refused.status_code == 422
        assert_links_to_field(body, f"rename-{unit_id}", f"Tên của {code}: {message}")
        # Above the list of units and its own form, the field marked, the message next to it.
        first_unit = body.index('<section class="card">')
        assert body.index('id="error-summary"') < first_unit < body.index(f'id="rename-{unit_id}"')
        field = body.split(f'id="rename-{unit_id}"')[1].split(">")[0]
        assert 'aria-invalid="true"' in field and f'aria-describedby="rename-{unit_id}-err"' in field
        assert f'id="rename-{unit_id}-err"' in body and message in body.split(f'id="rename-{unit_id}-err"')[1]
    with app.app_context():
        assert db.session.get(OrgUnit, unit_id).name == name
        db.session.remove()
    assert audit_count(app, "unit_renamed") == 0


def test_a_refused_lift_of_a_restriction_is_summarised_at_the_top(app):
    case_id = open_case(app)
    with app.app_context():
        row = restriction.restrict(db.session, demo.cast(db.session).actors["quantri"], case_id, {
            "authority": "Công an tỉnh (PA05)", "document_number": "123/CV-PA05", "document_date": "01/12/2026",
            "reason": "Đề nghị tạm dừng xử lý."})
        restriction_id, number = row.id, db.session.get(Case, case_id).number
        db.session.remove()
    admin = client_for(app, "quantri")
    page = text(admin.get("/admin/restrictions"))
    assert 'id="error-summary"' not in page
    refused = admin.post(f"/admin/restrictions/{restriction_id}/lift",
                         data={"csrf_token": token(page), "reason": "  "})
    body = text(refused)
    assert refused.status_code == 400
    assert_links_to_field(body, f"lift-{restriction_id}", f"{number} — Lý do gỡ hạn chế: Hãy nhập lý do gỡ hạn chế.")
    assert body.index('id="error-summary"') < body.index('id="h-new"')  # above the new-restriction form
    field = body.split(f'id="lift-{restriction_id}"')[1].split(">")[0]
    assert 'aria-invalid="true"' in field
    with app.app_context():
        assert db.session.get(CaseRestriction, restriction_id).lifted_at is None
        db.session.remove()
    assert audit_count(app, "restriction_lifted") == 0


def test_a_refused_release_or_withdrawal_on_the_retention_page_is_summarised_at_the_top(app):
    case_id = open_case(app)
    with app.app_context():
        people = demo.cast(db.session)
        hold = retention.place_hold(db.session, people.actors["quantri"], case_id, {"reason": "Đang thanh tra."})
        hold_id, number = hold.id, db.session.get(Case, case_id).number
        # A pending request by another administrator: this one may confirm it or withdraw it.
        pending = Destruction(reason="Hết hạn", status="requested", requested_by="quantri_khac",
                              requested_at=clock.now(), cases={"ids": [], "numbers": [], "records": {}})
        db.session.add(pending)
        db.session.commit()
        destruction_id = pending.id
        db.session.remove()
    admin = client_for(app, "quantri")
    page = text(admin.get("/admin/retention"))
    assert 'id="error-summary"' not in page
    refused = admin.post(f"/admin/retention/holds/{hold_id}/release", data={"csrf_token": token(page), "reason": ""})
    body = text(refused)
    assert refused.status_code == 400
    assert_links_to_field(body, f"release-{hold_id}", f"{number} — Lý do gỡ phong toả: Hãy nhập lý do gỡ phong toả.")
    assert body.index('id="error-summary"') < body.index('id="h-policy"')
    assert 'aria-invalid="true"' in body.split(f'id="release-{hold_id}"')[1].split(">")[0]
    for action, field, message in (("cancel", "Lý do huỷ bỏ đề nghị", "Hãy nhập lý do huỷ bỏ yêu cầu."),
                                   ("confirm", "Ghi chú xác nhận", "Hãy nhập ghi chú xác nhận.")):
        refused = admin.post(f"/admin/retention/destructions/{destruction_id}/{action}",
                             data={"csrf_token": token(page), "note": " "})
        body = text(refused)
        assert refused.status_code == 400, action
        assert_links_to_field(body, f"{action}-{destruction_id}",
                              f"Đề nghị huỷ số {destruction_id} — {field}: {message}")
    with app.app_context():
        assert db.session.get(LegalHold, hold_id).released_at is None
        assert db.session.get(Destruction, destruction_id).status == "requested"
        db.session.remove()
    assert audit_count(app, "legal_hold_released") == audit_count(app, "destruction_cancelled") == 0


def test_a_row_another_administrator_handled_meanwhile_is_said_at_the_top(app):
    """Two administrators on one page: the second acts on a row the first one lifted, released, withdrew or confirmed
    since. With or without a reason, the answer is the page with the error summary saying who handled the row
    (its form is gone), linking to where the row is now; nothing changes; English through the catalogue."""
    case_id = open_case(app)
    with app.app_context():
        people = demo.cast(db.session)
        admin = people.actors["quantri"]
        row = restriction.restrict(db.session, admin, case_id, {
            "authority": "Công an tỉnh (PA05)", "document_number": "123/CV-PA05", "document_date": "01/12/2026",
            "reason": "Đề nghị tạm dừng xử lý."})
        hold = retention.place_hold(db.session, admin, case_id, {"reason": "Đang thanh tra."})
        asked = [Destruction(reason="Hết hạn", status="requested", requested_by="quantri_khac",
                             requested_at=clock.now(), cases={"ids": [], "numbers": [], "records": {}})
                 for _ in range(2)]
        db.session.add_all(asked)
        db.session.add(User(username="quantri2", full_name="Quản Trị Hai", role="admin", created_at=clock.now(),
                            password_hash=db.session.scalar(select(User.password_hash)
                                                            .where(User.username == "quantri")), locale="vi"))
        db.session.commit()
        restriction_id, hold_id, number = row.id, hold.id, db.session.get(Case, case_id).number
        withdrawn, confirmed = (d.id for d in asked)
        db.session.remove()
    first, second = client_for(app, "quantri"), client_for(app, "quantri2")
    restrictions, retention_page = text(first.get("/admin/restrictions")), text(first.get("/admin/retention"))
    assert f'id="lift-{restriction_id}"' in restrictions and f'id="release-{hold_id}"' in retention_page
    # Meanwhile the other administrator handles every row.
    other = text(second.get("/admin/retention"))
    for path, data in ((f"/admin/restrictions/{restriction_id}/lift", {"reason": "Cơ quan đã rút yêu cầu."}),
                       (f"/admin/retention/holds/{hold_id}/release", {"reason": "Thanh tra xong."}),
                       (f"/admin/retention/destructions/{withdrawn}/cancel", {"note": "Chưa đủ căn cứ."}),
                       (f"/admin/retention/destructions/{confirmed}/confirm", {"note": "Đã kiểm tra."})):
        assert second.post(path, data={**data, "csrf_token": token(other)}).status_code == 302, path
    audits = {action: audit_count(app, action) for action in (
        "restriction_lifted", "legal_hold_released", "destruction_cancelled", "destruction_confirmed")}

    late = {f"/admin/restrictions/{restriction_id}/lift": (
                "reason", f"r{restriction_id}",
                f"Hạn chế xử lý hồ sơ {number} đã được gỡ (bởi quantri2); không có thay đổi nào được lưu."),
            f"/admin/retention/holds/{hold_id}/release": (
                "reason", "h-holds",
                f"Lệnh phong toả hồ sơ {number} đã được gỡ (bởi quantri2); không có thay đổi nào được lưu."),
            f"/admin/retention/destructions/{withdrawn}/cancel": (
                "note", f"d{withdrawn}",
                f"Đề nghị huỷ số {withdrawn} đã được quantri2 huỷ bỏ; không có thay đổi nào được lưu."),
            f"/admin/retention/destructions/{withdrawn}/confirm": (
                "note", f"d{withdrawn}",
                f"Đề nghị huỷ số {withdrawn} đã được quantri2 huỷ bỏ; không có thay đổi nào được lưu."),
            f"/admin/retention/destructions/{confirmed}/confirm": (
                "note", f"d{confirmed}",
                f"Đề nghị huỷ số {confirmed} đã được quantri2 xác nhận; không có thay đổi nào được lưu."),
            f"/admin/retention/destructions/{confirmed}/cancel": (
                "note", f"d{confirmed}",
                f"Đề nghị huỷ số {confirmed} đã được quantri2 xác nhận; không có thay đổi nào được lưu.")}
    for path, (field, target, message) in late.items():
        for typed in ("", "Tôi cũng xử lý."):  # a blank field (was: 400 with no message) and a filled one
            refused = first.post(path, data={field: typed, "csrf_token": token(restrictions)})
            body = text(refused)
            assert refused.status_code == 409, (path, typed)
            assert_links_to_field(body, target, message)
            assert 'aria-invalid="true"' not in body  # no field of the page is wrong

    with app.app_context():
        lifted = db.session.get(CaseRestriction, restriction_id)
        assert (lifted.lifted_by, lifted.lift_reason) == ("quantri2", "Cơ quan đã rút yêu cầu.")
        released = db.session.get(LegalHold, hold_id)
        assert (released.released_by, released.release_reason) == ("quantri2", "Thanh tra xong.")
        assert [db.session.get(Destruction, i).status for i in (withdrawn, confirmed)] == ["cancelled", "done"]
        db.session.execute(update(User).where(User.username == "quantri").values(locale="en"))
        db.session.commit()
        db.session.remove()
    assert audits == {action: audit_count(app, action) for action in audits}

    english = first.post(f"/admin/restrictions/{restriction_id}/lift", data={"reason": "", "csrf_token": token(
        restrictions)})
    assert english.status_code == 409
    assert_links_to_field(text(english), f"r{restriction_id}",
                          f"The restriction of case {number} was already lifted (by quantri2); nothing was changed.")
    english = first.post(f"/admin/retention/destructions/{confirmed}/cancel", data={"note": "", "csrf_token": token(
        restrictions)})
    assert_links_to_field(text(english), f"d{confirmed}",
                          f"Destruction request {confirmed} was already confirmed by quantri2; nothing was changed.")


def test_a_refused_log_in_is_summarised_at_the_top_with_its_message(app):
    client = app.test_client()
    page = text(client.get("/login"))
    assert 'id="error-summary"' not in page and "autofocus" in page.split('id="username"')[1].split(">")[0]
    refused = client.post("/login", data={"csrf_token": token(page), "username": "canbo", "password": "sai-mat-khau"})
    body = text(refused)
    assert refused.status_code == 401
    assert_links_to_field(body, "username", "Tên đăng nhập hoặc mật khẩu không đúng.")
    assert "autofocus" in summary_of(body)  # the summary takes the focus, not the user name
    field = body.split('id="username"')[1].split(">")[0]
    assert "autofocus" not in field and 'value="canbo"' in field and 'aria-invalid="true"' in field
    assert client.get("/").status_code == 302  # still signed out
    assert audit_count(app, "login") == 0
