"""The statistics page, its exports (CSV, XLSX, PDF) and `case56 report`, per role.

Expected figures are counted here from the cases this module creates (one child reported twice, a second
commune, a category other than abuse), never by calling engine.statistics.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import timedelta

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engine import clock
from engine.models import AuditEntry
from web import demo
from web.extensions import db

COMMUNE_NAMES = dict(demo.COMMUNES)
# (commune, category, child, hours before now)
CASES = [
    ("T01-X01", "xam_hai", {"full_name": "Nguyễn Văn Tí", "estimated_age": 8, "sex": "male"}, 3),
    ("T01-X01", "xam_hai", {"full_name": "Nguyễn Văn Tí", "estimated_age": 8, "sex": "male"}, 2),  # same child
    ("T01-X02", "xam_hai", {"full_name": "Lò Thị Mai", "estimated_age": 12, "sex": "female"}, 1),
    ("T01-X02", "nguy_co_bo_roi", {"full_name": "Hà Văn Sơn", "estimated_age": 3, "sex": "male"}, 1),
]


def expected(commune: str | None = None) -> dict[str, int]:
    mine = [c for c in CASES if commune in (None, c[0])]
    abused = {(c[0], c[2]["full_name"], c[2]["estimated_age"]) for c in mine if c[1] == "xam_hai"}
    return {"children": len(abused), "cases": len(mine),
            "abused_cases": sum(c[1] == "xam_hai" for c in mine)}


@pytest.fixture
def seeded(app, case_engine):
    """The cases, and query arguments for a span of dates that surely holds them (Vietnam dates)."""
    now = clock.now()
    with app.app_context():
        intake = demo.cast(db.session).actors["tiepnhan"]
        for commune, category, child, hours_ago in CASES:
            at = now - timedelta(hours=hours_ago)
            report = demo.sample("mau_01", at, category=category, child=child, received_at=at.isoformat())
            case_engine.open_case(db.session, intake, commune, report)
        db.session.remove()
    today = clock.local(now).date()
    return {"from": (today - timedelta(days=2)).isoformat(), "to": today.isoformat()}


def signed_in(app, login, username):
    client = app.test_client()
    login(client, username)
    return client


def headline(page: str) -> int:
    return int(re.search(r'<span class="big-number">(\d+)</span>', page).group(1))


def test_page_for_each_role(app, seeded, login):
    anonymous = app.test_client().get("/statistics")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    supervisor = signed_in(app, login, "giamsat")
    page = supervisor.get("/statistics", query_string=seeded).get_data(as_text=True)
    assert headline(page) == expected()["children"] == 2  # Tí counts once
    assert COMMUNE_NAMES["T01-X01"] in page and COMMUNE_NAMES["T01-X02"] in page
    assert "<svg" in page and 'role="img"' in page and "style=" not in page
    assert "Hồ sơ đã chuyển sang xã/phường khác được tính cho xã/phường hiện đang quản lý hồ sơ" in page
    # The supervisor narrows to one commune.
    narrowed = supervisor.get("/statistics", query_string={**seeded, "commune": "T01-X02"}).get_data(as_text=True)
    assert headline(narrowed) == expected("T01-X02")["children"] == 1
    # The default period (the current half-year) opens without any argument.
    default = supervisor.get("/statistics")
    assert default.status_code == 200 and "selected" in default.get_data(as_text=True)

    for username, commune in (("canbo", "T01-X01"), ("chutich2", "T01-X02")):
        client = signed_in(app, login, username)
        response = client.get("/statistics", query_string=seeded)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, username
        assert headline(page) == expected(commune)["children"]
        other = next(name for code, name in COMMUNE_NAMES.items() if code != commune)
        assert COMMUNE_NAMES[commune] in page and other not in page
        refused = client.get("/statistics", query_string={**seeded, "commune": "T01-X01" if commune == "T01-X02"
                                                          else "T01-X02"})
        assert refused.status_code == 403 and "đơn vị mình" in refused.get_data(as_text=True)

    inspector = signed_in(app, login, "thanhtra")
    assert headline(inspector.get("/statistics", query_string=seeded).get_data(as_text=True)) == 2

    for username in ("truonghoc", "tiepnhan", "quantri"):  # partner, intake point, administrator
        client = signed_in(app, login, username)
        for path in ("/statistics", "/statistics/export.csv"):
            response = client.get(path)
            assert response.status_code == 403, (username, path)
            assert "không có quyền xem số liệu thống kê" in response.get_data(as_text=True)


def test_bad_input_is_refused_on_its_field(app, seeded, login):
    client = signed_in(app, login, "giamsat")
    for args, field_text in (
        ({"period": "2026-H9"}, "Kỳ báo cáo '2026-H9' không hợp lệ"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, "Ngày kết thúc phải sau hoặc bằng ngày bắt đầu"),
        ({"from": "31/02/2026", "to": "2026-04-01"}, "không hợp lệ: dùng dạng dd/mm/yyyy"),
        ({"commune": "T99-X99"}, "Không có xã/phường mã"),
    ):
        response = client.get("/statistics", query_string=args)
        page = response.get_data(as_text=True)
        assert response.status_code == 400, args
        assert 'class="field-error" role="alert"' in page and field_text in unicodedata.normalize("NFC", page).replace(
            "&#39;", "'"), args
        assert client.get("/statistics/export.pdf", query_string=args).status_code == 400
    assert client.get("/statistics/export.doc").status_code == 404


def test_exports_carry_the_figures_and_are_audited(app, seeded, login):
    client = signed_in(app, login, "giamsat")
    totals = expected()

    response = client.get("/statistics/export.csv", query_string=seeded)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert ["Tổng số", "", str(totals["children"])] in rows
    assert ["Trẻ em bị xâm hại", str(totals["abused_cases"]), str(totals["children"]), "0"] in rows
    x02 = expected("T01-X02")
    assert [demo.PROVINCE[1], COMMUNE_NAMES["T01-X02"], str(x02["cases"]), str(x02["children"]), "0",
            str(x02["cases"])] in rows

    response = client.get("/statistics/export.xlsx", query_string=seeded)
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert "Chỉ tiêu 0101" in book.sheetnames
    sheet_rows = [tuple(c.value for c in row) for row in book["Chỉ tiêu 0101"].iter_rows()]
    assert ("Tổng số", None, totals["children"]) in sheet_rows
    assert ("Giới tính", "Nam", 1) in sheet_rows and ("Giới tính", "Nữ", 1) in sheet_rows
    units = [tuple(c.value for c in row) for row in book["Theo đơn vị"].iter_rows()]
    assert (demo.PROVINCE[1], "Toàn tỉnh", totals["cases"], totals["children"], 0, totals["cases"]) in units

    response = client.get("/statistics/export.pdf", query_string=seeded)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = unicodedata.normalize("NFC", "\n".join(page.extract_text() for page in PdfReader(
        io.BytesIO(response.data)).pages))
    for phrase in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                   "Chỉ tiêu 0101: Số trẻ em bị xâm hại", "Trẻ em có nguy cơ bị bỏ rơi", COMMUNE_NAMES["T01-X02"],
                   "Thực hiện thời hạn theo bước", "Từ khi tiếp nhận đến khi đóng hồ sơ"):
        assert phrase in text, phrase
    assert re.search(rf"Tổng số\s+{totals['children']}\b", text)

    # The confidentiality stamp (Decree 56 Art. 24.3): the default one heads every file and every PDF page.
    assert rows[0][0].startswith("Mức độ mật: Lưu hành nội bộ — Phạm vi cung cấp:")
    assert book.worksheets[0]["A1"].value.startswith("Mức độ mật: Lưu hành nội bộ")
    assert all("Mức độ mật" in sheet.oddHeader.center.text for sheet in book.worksheets)
    assert all("Mức độ mật: Lưu hành nội bộ" in page.extract_text()
               for page in PdfReader(io.BytesIO(response.data)).pages)
    # One chosen for this export, and a refused one.
    chosen = client.get("/statistics/export.csv", query_string={**seeded, "level": "cong_khai",
                                                                  "recipients": "Cổng thông tin điện tử tỉnh"})
    assert chosen.data.decode("utf-8-sig").startswith("Mức độ mật: Công khai — Phạm vi cung cấp: Cổng thông tin")
    assert client.get("/statistics/export.csv", query_string={**seeded, "level": "tuyet_mat"}).status_code == 400

    with app.app_context():
        exports = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "statistics_export")
                                     .order_by(AuditEntry.id)).all()
        assert [(e.actor, e.details["format"], e.details["province"]) for e in exports] == [
            ("giamsat", "csv", "T01"), ("giamsat", "xlsx", "T01"), ("giamsat", "pdf", "T01"), ("giamsat", "csv", "T01")]
        assert [e.details["stamp_level"] for e in exports] == ["noi_bo", "noi_bo", "noi_bo", "cong_khai"]
        assert exports[-1].details["stamp_recipients"] == "Cổng thông tin điện tử tỉnh"

    # English: the same figures, English labels.
    client.post("/language", data={"locale": "en", "csrf_token": _token(client)})
    page = client.get("/statistics", query_string=seeded).get_data(as_text=True)
    assert headline(page) == totals["children"] and "Child at risk of abandonment" in page
    assert "Indicator 0101: number of abused children" in page and "Chỉ tiêu 0101" not in page


def _token(client) -> str:
    page = client.get("/statistics").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_report_command(app, seeded, tmp_path):
    runner = app.test_cli_runner()
    args = ["report", "--from", seeded["from"], "--to", seeded["to"]]
    result = runner.invoke(args=[*args, "--province", "T01", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    assert ["Tổng số", "", str(expected()["children"])] in rows

    table = runner.invoke(args=[*args, "--user", "canbo"])
    assert table.exit_code == 0, table.output
    assert re.search(rf"^Tổng số\s+{expected('T01-X01')['children']}$", table.output, re.M)
    assert COMMUNE_NAMES["T01-X02"] not in table.output

    target = tmp_path / "report.xlsx"
    result = runner.invoke(args=[*args, "--commune", "T01-X02", "--format", "xlsx", "-o", str(target)])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(target)["Chỉ tiêu 0101"]
    assert ("Tổng số", None, expected("T01-X02")["children"]) in [tuple(c.value for c in r) for r in sheet.iter_rows()]

    refused = runner.invoke(args=[*args, "--user", "canbo", "--commune", "T01-X02"])
    assert refused.exit_code != 0 and "đơn vị mình" in refused.output
    bad = runner.invoke(args=["report", "--period", "2026-H7"])
    assert bad.exit_code != 0 and "không hợp lệ" in bad.output
    with app.app_context():
        channels = db.session.scalars(select(AuditEntry.details).where(AuditEntry.action == "statistics_export")).all()
        assert [d["channel"] for d in channels] == ["cli", "cli", "cli"]
