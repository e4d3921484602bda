"""Issue 16: ethnicity and the perpetrator's relationship (Mẫu 01, optional, coded) as breakdowns of the abused
children beside indicator 0101 (kept as Circular 13/2021 has it): engine figures, the statistics page, CSV and PDF
(the API: tests/api/test_api_report_communes.py), on both databases."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from engine import clock
from engine import statistics as st
from web import demo
from web.extensions import db

# (child, ethnicity, relationships, category)
CASES = [
    ({"full_name": "Lò Văn Pá", "estimated_age": 9, "sex": "male"}, "03", ["cha_me", "hang_xom"], "xam_hai"),
    ({"full_name": "Lò Văn Pá", "estimated_age": 9, "sex": "male"}, "03", ["cha_me"], "xam_hai"),  # same child
    ({"full_name": "Giàng Thị Mỷ", "estimated_age": 12, "sex": "female"}, "08", ["cha_me_ke"], "xam_hai"),
    ({"full_name": "Nguyễn Văn Bình", "estimated_age": 7, "sex": "male"}, None, [], "xam_hai"),
    ({"full_name": "Đinh Thị Hoa", "estimated_age": 6, "sex": "female"}, "06", ["cha_me"], "nguy_co_bo_roi"),
]


@pytest.fixture
def seeded(app, case_engine):
    now = clock.now()
    with app.app_context():
        intake = demo.cast(db.session).actors["tiepnhan"]
        for index, (child, ethnicity, relationships, category) in enumerate(CASES):
            at = now - timedelta(hours=index + 1)
            report = demo.sample("mau_01", at, category=category, child={**child, "ethnicity": ethnicity},
                                 received_at=at.isoformat(), perpetrator_relationships=relationships)
            case_engine.open_case(db.session, intake, "T01-X01", report)
        db.session.remove()
    today = clock.local(now).date()
    return {"from": (today - timedelta(days=2)).isoformat(), "to": today.isoformat()}


def test_breakdowns_count_children(app, seeded):
    with app.app_context():
        supervisor = demo.cast(db.session).actors["giamsat"]
        result = st.report(db.session, supervisor, st.custom_period(seeded["from"], seeded["to"]))
        children = result.children
        db.session.remove()
    assert children.total == 3  # Pá (twice), Mỷ, Bình; Hoa's report is not an abuse (0101 unchanged)
    assert [(c.key, c.count) for c in children.by_ethnicity] == [("03", 1), ("08", 1), ("unknown", 1)]
    assert [c.label_vi for c in children.by_ethnicity] == ["Thái", "Hmông", "Chưa ghi nhận"]
    relationships = {c.key: c.count for c in children.by_relationship}
    assert relationships == {**{key: 0 for key in relationships}, "cha_me": 1, "hang_xom": 1, "cha_me_ke": 1,
                             "unknown": 1}
    assert [c.key for c in children.by_relationship][-1] == "unknown"


def test_page_csv_and_pdf_show_them(app, seeded, login):
    browser = app.test_client()
    login(browser, "giamsat")
    page = browser.get("/statistics", query_string=seeded).get_data(as_text=True)
    assert "theo dân tộc và quan hệ của người gây tổn hại" in page and "Hmông" in page
    assert "Cha dượng, mẹ kế" in page

    rows = list(csv.reader(io.StringIO(browser.get("/statistics/export.csv", query_string=seeded)
                                       .data.decode("utf-8-sig"))))
    assert ["Dân tộc", "Thái", "1"] in rows and ["Dân tộc", "Chưa ghi nhận", "1"] in rows
    assert ["Quan hệ của người gây tổn hại với trẻ", "Cha, mẹ đẻ", "1"] in rows
    assert ["Quan hệ của người gây tổn hại với trẻ", "Chưa ghi nhận", "1"] in rows

    pdf = browser.get("/statistics/export.pdf", query_string=seeded)
    assert pdf.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "dân tộc" in text and "Hmông" in text

