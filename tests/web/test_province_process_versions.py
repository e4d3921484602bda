"""Province variants on the admin processes pages and `case56 process activate V --province CODE | national`:
activation for one province (field error 422 for a scope that is not a province, nothing saved), the listing
shows where each version is active, going back to the national version; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from engine import clock
from engine.models import AuditEntry, OrgUnit, ProvinceProcessVersion, User
from tests.processes import variants
from web import demo
from web.extensions import db


def _admin(app, login):
    client = app.test_client()
    login(client, "quantri")
    page = client.get("/admin/processes").get_data(as_text=True)
    return client, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _second_province(app) -> None:
    with app.app_context():
        province = OrgUnit(code="T02", name="Tỉnh Thử Hai", kind="province")
        db.session.add(province)
        db.session.flush()
        commune = OrgUnit(code="T02-X01", name="Xã Thử", kind="commune", parent_id=province.id)
        db.session.add(commune)
        db.session.flush()
        # The people a case there needs, so that `check` (liveness) holds for it.
        for username, role, unit in (("tiepnhan_t2", "intake", province), ("canbo_t2", "officer", commune),
                                     ("chutich_t2", "chairman", commune), ("giamsat_t2", "supervisor", province)):
            db.session.add(User(username=username, full_name=username, role=role, locale="vi", org_unit_id=unit.id,
                                created_at=clock.now(), password_hash="x"))
        db.session.commit()


def _open(app, commune: str) -> int:
    with app.app_context():
        people = demo.cast(db.session)
        engine = app.config["CASE56_ENGINE"]
        intake = people.actors["tiepnhan" if commune.startswith("T01") else "tiepnhan_t2"]
        return engine.open_case(db.session, intake, commune, demo.sample("mau_01", clock.now())).process_version_id


def _pinned(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ProvinceProcessVersion))


def test_activate_for_one_province_on_the_page(app, login):
    _second_province(app)
    client, token = _admin(app, login)
    response = client.post("/admin/processes/upload", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(variants.renamed_and_extended().encode()), "t01.bpmn")})
    version = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/admin/processes/{version}").get_data(as_text=True)
    assert '<option value="T01">Chỉ Tỉnh Thái Nguyên (demo) (T01)</option>' in page
    assert '<option value="T02">' in page and '<option value="">Toàn quốc' in page

    for bad in ("T01-X01", "T99", "<script>", "x" * 40):  # a commune, an unknown code, hostile text
        refused = client.post(f"/admin/processes/{version}/activate", data={"csrf_token": token, "scope": bad})
        body = refused.get_data(as_text=True)
        assert refused.status_code == 422 and 'id="err-scope"' in body and "<script>" not in body
    assert client.post("/admin/processes/999999/activate", data={"csrf_token": token, "scope": "T01"}) \
        .status_code == 404
    assert client.post(f"/admin/processes/{version}/activate", data={"scope": "T01"}).status_code == 400  # CSRF
    assert _pinned(app) == 0

    done = client.post(f"/admin/processes/{version}/activate", data={"csrf_token": token, "scope": "T01"})
    assert done.status_code == 303
    assert "đã được kích hoạt cho Tỉnh Thái Nguyên (demo)" in client.get("/admin/processes").get_data(as_text=True)
    again = client.post(f"/admin/processes/{version}/activate", data={"csrf_token": token, "scope": "T01"})
    assert again.status_code == 303 and _pinned(app) == 1
    assert "đã được dùng cho hồ sơ mới của Tỉnh Thái Nguyên (demo)" in client.get(
        f"/admin/processes/{version}").get_data(as_text=True)
    listing = client.get("/admin/processes").get_data(as_text=True)
    row = listing.split(f'<td data-label="#"><a href="/admin/processes/{version}">')[1].split("</tr>")[0]
    assert '<td data-label="Dùng cho hồ sơ mới ở" class="active-where">Tỉnh Thái Nguyên (demo)</td>' in row
    assert "Dùng lại phiên bản toàn quốc" in listing

    assert _open(app, "T01-X01") == version
    national = _open(app, "T02-X01")
    assert national != version
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "process_activated")
                                   .order_by(AuditEntry.id.desc()).limit(1)).one()
        assert entry.actor == "quantri" and entry.details["province"] == "T01"
    assert app.test_cli_runner().invoke(args=["check"]).exit_code == 0

    assert client.post("/admin/processes/provinces/T99/national", data={"csrf_token": token}).status_code == 404
    back = client.post("/admin/processes/provinces/T01/national", data={"csrf_token": token})
    assert back.status_code == 303 and _pinned(app) == 0
    assert "dùng lại phiên bản toàn quốc" in client.get("/admin/processes").get_data(as_text=True)
    assert _open(app, "T01-X01") == national
    twice = client.post("/admin/processes/provinces/T01/national", data={"csrf_token": token})
    assert twice.status_code == 303 and "đang dùng phiên bản toàn quốc" in client.get(
        "/admin/processes").get_data(as_text=True)


def test_activate_for_a_province_from_the_command_line(app, tmp_path):
    _second_province(app)
    runner = app.test_cli_runner()
    variant = tmp_path / "t01.bpmn"
    variant.write_text(variants.renamed_and_extended(), encoding="utf-8")
    deployed = runner.invoke(args=["process", "deploy", str(variant), "--by", "quantri"])
    version = int(deployed.output.split()[1])
    unknown = runner.invoke(args=["process", "activate", str(version), "--province", "T99"])
    assert unknown.exit_code == 1 and "No province with code 'T99'" in unknown.output
    done = runner.invoke(args=["process", "activate", str(version), "--province", "t01", "--by", "quantri"])
    assert done.exit_code == 0 and f"version {version} is active in province T01" in done.output
    assert runner.invoke(args=["process", "activate", str(version), "--province", "T01"]).exit_code == 1
    listed = runner.invoke(args=["process", "versions"]).output
    assert re.search(rf"  {version}  decree56_case  t01\.bpmn .* active in T01$", listed, re.M), listed
    assert re.search(r"^\* .* active in national$", listed, re.M), listed
    assert _open(app, "T01-X01") == version and _open(app, "T02-X01") != version
    back = runner.invoke(args=["process", "national", "--province", "T01"])
    assert back.exit_code == 0 and "province T01 follows the national version" in back.output
    assert runner.invoke(args=["process", "national", "--province", "T01"]).exit_code == 1
    assert _open(app, "T01-X01") != version
    assert runner.invoke(args=["check"]).exit_code == 0
