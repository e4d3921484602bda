"""Issue 16: the registry of service providers a plan mobilises (Decree 56 Art. 28.3.c) — administrators' pages
(list, add, edit, deactivate, reactivate; validated, audited, admin only) and the plan's check: a provider is
chosen from the active registry of the case's province or commune, its name comes from the registry, the plan total
is computed and shown on the step page and in the dossier. Both databases."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine import access, providers
from engine.models import AuditEntry, Case, OrgUnit, ServiceProvider, Task
from tests.web.casework_kit import add_other_province, client_for, open_case, post_form, ready_task, token
from web import demo
from web.extensions import db


def _provider(app, code: str) -> ServiceProvider | None:
    with app.app_context():
        row = db.session.scalar(select(ServiceProvider).where(ServiceProvider.code == code))
        db.session.expunge_all()
        db.session.remove()
        return row


def _unit_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code))


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        db.session.expunge_all()
        db.session.remove()
        return rows


def test_only_administrators_keep_the_registry(app):
    assert access.can_manage_providers(access.Actor("quantri", "admin"))
    for role in ("intake", "officer", "chairman", "partner", "supervisor", "inspector"):
        assert not access.can_manage_providers(access.Actor("x", role)), role
    for username in ("canbo", "chutich", "giamsat", "thanhtra", "yte"):
        client = client_for(app, username)
        assert client.get("/admin/providers").status_code == 403, username
        assert client.get("/admin/providers/new").status_code == 403, username
        with app.app_context():
            provider_id = db.session.scalar(select(ServiceProvider.id).where(ServiceProvider.code == "T01-DV-01"))
        page = client.get("/").get_data(as_text=True)
        csrf = token(page) if 'name="csrf_token"' in page else ""
        response = client.post(f"/admin/providers/{provider_id}/active", data={"active": "false", "csrf_token": csrf})
        assert response.status_code in (400, 403), username
    assert _provider(app, "T01-DV-01").active
    assert app.test_client().get("/admin/providers").status_code in (302, 401)


def test_administrator_lists_adds_edits_deactivates_and_reactivates(app):
    admin = client_for(app, "quantri")
    listing = admin.get("/admin/providers").get_data(as_text=True)
    assert all(code in listing for code, *_ in demo.PROVIDERS) and "Cơ sở cung cấp dịch vụ" in listing
    t01, x01 = _unit_id(app, "T01"), _unit_id(app, "T01-X01")
    good = {"code": "t01-dv-09", "name": "Văn phòng Luật sư Hoà Bình", "service_type": "legal_aid",
            "address": "12 Hoàng Văn Thụ", "contact": "0912 000 111", "unit": str(x01)}
    before = len(_audit(app, "provider_created"))
    for change, field, message in (
        ({"code": "T"}, "code", "Mã 2–32 ký tự"),
        ({"code": "T01-DV-01"}, "code", "Mã này đã được dùng cho một cơ sở khác."),
        ({"name": "  "}, "name", "Trường này là bắt buộc."),
        ({"name": "x" * 201}, "name", "Tối đa 200 ký tự"),
        ({"contact": "a\x07b"}, "contact", "không có ký tự điều khiển"),
        ({"service_type": "magic"}, "service_type", "Loại dịch vụ không hợp lệ."),
        ({"unit": "999999"}, "unit", "Chọn một tỉnh hoặc một xã/phường."),
        ({"unit": "abc"}, "unit", "Chọn một tỉnh hoặc một xã/phường."),
    ):
        response = post_form(admin, "/admin/providers/new", {**good, **change})
        page = response.get_data(as_text=True)
        assert response.status_code == 422, change
        assert f'id="err-{field}"' in page and message in page, (change, field)
    assert len(_audit(app, "provider_created")) == before and _provider(app, "T01-DV-09") is None

    response = post_form(admin, "/admin/providers/new", good)
    assert response.status_code == 303
    created = _provider(app, "T01-DV-09")
    assert (created.name, created.service_type, created.unit_id, created.active, created.created_by) == (
        "Văn phòng Luật sư Hoà Bình", "legal_aid", x01, True, "quantri")
    [entry] = _audit(app, "provider_created")[before:]
    assert entry.actor == "quantri" and entry.details["code"] == "T01-DV-09" and entry.details["unit"] == "T01-X01"

    edit = f"/admin/providers/{created.id}"
    assert "T01-DV-09" in admin.get(edit).get_data(as_text=True)
    response = post_form(admin, edit, {**good, "code": "OTHER", "name": "VP Luật sư Hoà Bình", "unit": str(t01)})
    assert response.status_code == 303  # the code of an existing provider is fixed: the posted one is ignored
    changed = _provider(app, "T01-DV-09")
    assert (changed.name, changed.unit_id, changed.updated_by) == ("VP Luật sư Hoà Bình", t01, "quantri")
    assert _audit(app, "provider_updated")[-1].details["changed"] == ["name", "unit"]
    assert post_form(admin, edit, {**good, "name": ""}).status_code == 422
    assert admin.get("/admin/providers/999999").status_code == 404

    page = admin.get("/admin/providers").get_data(as_text=True)
    response = admin.post(f"/admin/providers/{created.id}/active", data={"active": "false", "csrf_token": token(page)})
    assert response.status_code == 303 and not _provider(app, "T01-DV-09").active
    assert _audit(app, "provider_deactivated")[-1].details == {"code": "T01-DV-09", "name": "VP Luật sư Hoà Bình"}
    inactive = admin.get("/admin/providers?shown=inactive").get_data(as_text=True)
    assert "T01-DV-09" in inactive and "T01-DV-01" not in inactive
    assert admin.post(f"/admin/providers/{created.id}/active", data={"active": "false", "csrf_token": token(page)}
                      ).status_code == 303
    assert len(_audit(app, "provider_deactivated")) == 1  # already inactive: nothing written
    assert admin.post(f"/admin/providers/{created.id}/active", data={"active": "maybe", "csrf_token": token(page)}
                      ).status_code == 400
    admin.post(f"/admin/providers/{created.id}/active", data={"active": "true", "csrf_token": token(page)})
    assert _provider(app, "T01-DV-09").active and len(_audit(app, "provider_reactivated")) == 1
    assert admin.post(f"/admin/providers/{created.id}/active", data={"active": "false"}).status_code == 400  # no CSRF


def test_province_filter_lists_the_province_and_its_communes(app):
    with app.app_context():
        province, commune = add_other_province(db.session)
        providers.save(db.session, "quantri", {"code": "T02-DV-01", "name": "Trung tâm tỉnh hai",
                                               "service_type": "medical", "unit": str(commune.id)})
        db.session.commit()
        t01 = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "T01"))
    admin = client_for(app, "quantri")
    page = admin.get(f"/admin/providers?province={t01}").get_data(as_text=True)
    assert "T01-X01-DV-01" in page and "T01-DV-01" in page and "T02-DV-01" not in page


def _plan(activity_changes: list[dict], at=None) -> dict:
    from engine import clock

    sample = demo.sample("mau_04", at or clock.now())
    activities = [{**activity, **change} for activity, change in zip(sample["activities"], activity_changes,
                                                                        strict=False)]
    return {**sample, "activities": activities}


def test_a_plan_chooses_providers_from_the_active_registry_of_its_province_or_commune(app):
    case_id = open_case(app, stop_at="draft_plan")
    task_id = ready_task(app, case_id, "draft_plan")
    with app.app_context():
        province, commune = add_other_province(db.session)
        for code, unit in (("T02-DV-01", province.id), ("T01-X02-DV-01", None)):
            x02 = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "T01-X02"))
            providers.save(db.session, "quantri", {"code": code, "name": f"Cơ sở {code}", "service_type": "other",
                                                   "unit": str(unit or x02)})
        stopped = providers.save(db.session, "quantri", {"code": "T01-DV-08", "name": "Cơ sở đã ngừng",
                                                         "service_type": "other", "unit": str(
                                                             db.session.scalar(select(OrgUnit.id).where(
                                                                 OrgUnit.code == "T01")))})
        providers.set_active(db.session, "quantri", stopped, False)
        db.session.commit()
        case = db.session.get(Case, case_id)
        offered = [o.code for o in providers.available(db.session, case)]
        db.session.remove()
    # The case's commune first, then the province's; never another commune's, another province's or a stopped one.
    assert offered == ["T01-X01-DV-01", "T01-DV-02", "T01-DV-01", "T01-DV-03"]
    officer = client_for(app, "canbo")
    path = f"/tasks/{task_id}"
    page = officer.get(path).get_data(as_text=True)
    assert 'name="activities.0.provider"' in page and "T01-X01-DV-01" in page and "T02-DV-01" not in page
    assert 'name="activities.0.provider_name"' not in page  # filled from the registry, never typed
    assert "Dự kiến kết thúc" in page and "Tổng dự toán kinh phí của kế hoạch" in page

    for code, message in (("T02-DV-01", "không thuộc danh mục của tỉnh hoặc xã/phường của hồ sơ"),
                          ("T01-X02-DV-01", "không thuộc danh mục của tỉnh hoặc xã/phường của hồ sơ"),
                          ("T01-DV-08", "đã ngừng hoạt động trong danh mục"),
                          ("NOPE-01", "Không có cơ sở cung cấp dịch vụ nào với mã này")):
        response = post_form(officer, path, _plan([{"provider": code}]), _action="complete",
                             _version=re.search(r'name="_version" value="(\d+)"', page).group(1))
        text = response.get_data(as_text=True)
        assert response.status_code == 422 and message in text, code
        assert ready_task(app, case_id, "draft_plan") == task_id  # nothing saved

    # Refusals of the assignee and of the provider come back together.
    both = post_form(officer, path, _plan([{"provider": "NOPE-01", "assignee": "nobody"}]), _action="complete",
                     _version=re.search(r'name="_version" value="(\d+)"', page).group(1)).get_data(as_text=True)
    assert "Không có cơ sở cung cấp dịch vụ nào với mã này" in both and "Không có tài khoản nào với tên này" in both

    plan = _plan([{"provider": "T01-DV-02", "provider_name": "typed by the client", "cost": "2.000.000"},
                  {"provider": "", "cost": "350.000"}])
    response = post_form(officer, path, plan, _action="complete",
                         _version=re.search(r'name="_version" value="(\d+)"', page).group(1))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        stored = db.session.get(Task, task_id).form_data
        db.session.remove()
    assert [a["provider"] for a in stored["activities"]] == ["T01-DV-02", None]
    assert [a["provider_name"] for a in stored["activities"]] == ["Bệnh viện Đa khoa tỉnh (demo)", None]
    assert stored["total_cost"] == 2_350_000
    shown = officer.get(path).get_data(as_text=True)
    assert "2.350.000 đồng" in shown and "Bệnh viện Đa khoa tỉnh (demo)" in shown


def test_the_engine_refuses_an_out_of_scope_provider_with_a_json_ready_error(session, people, case_engine):
    from engine import clock
    from engine.models import Case as CaseRow

    case = case_engine.open_case(session, people.actors["tiepnhan"], "T01-X02", demo.sample("mau_01", clock.now()))
    demo.drive(case_engine, session, case, people, stop_at="draft_plan")
    task = session.scalar(select(Task).where(Task.case_id == case.id, Task.step == "draft_plan", Task.state == "ready"))
    plan = _plan([{"provider": "T01-X01-DV-01", "assignee": "ctxh"}, {"assignee": "ctxh"}])
    import forms

    with pytest.raises(forms.FormError) as caught:
        case_engine.complete_task(session, people.for_task(task), task.id, plan, locale="en")
    assert caught.value.codes == {"activities": {"0": {"provider": ["provider_out_of_scope"]}}}
    assert caught.value.errors["activities"]["0"]["provider"] == [
        "This service provider is not in the registry of the case's province or commune."]
    session.rollback()
    assert session.get(CaseRow, case.id).status == "open"
    done = case_engine.complete_task(session, people.for_task(task), task.id,
                                     _plan([{"provider": "T01-DV-01", "assignee": "ctxh"}, {"assignee": "ctxh"}]))
    assert done.form_data["activities"][0]["provider_name"] == "Trung tâm Công tác xã hội tỉnh (demo)"
    assert done.form_data["total_cost"] == 1_700_000


def test_the_dossier_shows_the_plan_total_and_the_provider(app):
    case_id = open_case(app, stop_at="approve_plan")
    from web.pdf import dossier

    with app.app_context():
        pdf = dossier.build(db.session, case_id)
        db.session.remove()
    import io

    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())  # table cells wrap
    assert "Tổng dự toán kinh phí của kế hoạch" in flat and "1.700.000 đồng" in flat
    # The provider mobilised is a service the child receives (Decree 56 Art. 33): the dossier hides its name unless
    # released, like the other free texts; the column is there.
    assert "Cơ sở cung cấp dịch vụ được huy động" in flat and "Dự kiến kết thúc" in flat
