"""Inspector: search and filter the cases of the province, read a case file (audited), never change anything."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from engine import clock
from engine.models import AuditEntry, Case
from tests.web.casework_kit import add_other_province
from web.extensions import db
from web.views import inspector


def _numbers(page: str) -> set[str]:
    return set(re.findall(r'href="/inspector/cases/\d+">([^<]+)</a>', page))


def test_search_filters_and_read_only_case_file(demo_app, login, monkeypatch):
    client = demo_app.test_client()
    login(client, "thanhtra")
    with demo_app.app_context():
        cases = db.session.scalars(select(Case)).all()
        db.session.expunge_all()
    everything = {c.number for c in cases}
    page = client.get("/inspector")
    assert page.status_code == 200
    assert _numbers(page.get_data(as_text=True)) == everything

    def search(query: str) -> set[str]:
        response = client.get(f"/inspector?{query}")
        assert response.status_code == 200, query
        return _numbers(response.get_data(as_text=True))

    for status in ("open", "closed", "no_basis"):
        expected = {c.number for c in cases if c.status == status}
        assert expected and search(f"status={status}") == expected
    x02 = next(c.commune_id for c in cases if c.number.startswith("T01-X02"))
    assert search(f"commune={x02}") == {c.number for c in cases if c.commune_id == x02}
    assert search("category=nguy_co_boc_lot") == {c.number for c in cases if c.category == "nguy_co_boc_lot"}
    one = sorted(everything)[0]
    assert search(f"number={one[-4:]}") == {n for n in everything if one[-4:] in n}
    assert search("number=%25") == set()  # a LIKE wildcard is searched as text
    # The period is of the receipt moment, dd/mm/yyyy in Vietnam time, both ends included.
    today = clock.local(clock.now()).date()
    since = today - timedelta(days=2)
    expected = {c.number for c in cases if clock.local(c.received_at).date() >= since}
    assert expected and expected != everything
    assert search(f"from={since.strftime('%d/%m/%Y')}") == expected
    assert search(f"from={since.strftime('%d/%m/%Y')}&to={today.strftime('%d/%m/%Y')}") == expected
    older = {c.number for c in cases if clock.local(c.received_at).date() < since}
    assert search(f"to={(since - timedelta(days=1)).strftime('%d/%m/%Y')}") == older
    assert search("status=closed&category=xam_hai") == {
        c.number for c in cases if c.status == "closed" and c.category == "xam_hai"}
    # Bad input: a Vietnamese message on the field, 400, no results, never a 500.
    for query, message in (("from=31/02/2026", "Ngày không hợp lệ (dd/mm/yyyy)."),
                           ("to=2026-01-01", "Ngày không hợp lệ"),
                           ("from=02/01/2026&to=01/01/2026", "Ngày kết thúc phải bằng hoặc sau ngày bắt đầu."),
                           ("status=deleted", "Trạng thái không hợp lệ."), ("commune=abc", "Xã/phường không hợp lệ"),
                           ("category=<x>", "Loại thông tin không hợp lệ.")):
        response = client.get(f"/inspector?{query}")
        assert response.status_code == 400, query
        body = response.get_data(as_text=True)
        assert message in body and not _numbers(body)
    # Paging keeps the filters.
    monkeypatch.setattr(inspector, "PAGE_SIZE", 3)
    first = client.get("/inspector?status=open").get_data(as_text=True)
    next_link = next(h for h in re.findall(r'href="([^"]*)"', first) if "page=2" in h)
    assert "status=open" in next_link
    pages = [_numbers(client.get(f"/inspector?status=open&page={n}").get_data(as_text=True)) for n in (1, 2)]
    assert len(pages[0]) == 3 and not pages[0] & pages[1]
    monkeypatch.undo()
    # Nothing on the search page posts a change.
    actions = re.findall(r'<form method="post" action="([^"]+)"', first)
    assert set(actions) <= {"/logout", "/language"}
    assert client.post("/inspector").status_code in (400, 405)

    # The read-only case file of a closed case: timeline, forms, audit trail; the read is audited.
    closed = next(c for c in cases if c.status == "closed")
    response = client.get(f"/inspector/cases/{closed.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert closed.number in page
    assert "Xác minh thông tin" in page and "Đúng hạn" in page  # timeline with on-time status
    assert "Ngô Gia Huy" in page  # Mẫu 01 as recorded
    assert "Trần Thị Bình" in page  # inspectors review the informant too (Art. 25, engine.access)
    assert "Nhật ký kiểm tra" in page and "case_opened" not in page  # audit actions shown by their label
    assert "Mở hồ sơ" in page
    actions = re.findall(r'<form method="post" action="([^"]+)"', page)
    assert set(actions) <= {"/logout", "/language"}
    assert ("dossier.pdf" in page) == ("dossier.download" in demo_app.view_functions)
    with demo_app.app_context():
        reads = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == closed.id,
                                                            AuditEntry.action == "case_inspect")).all()
        assert [r.actor for r in reads] == ["thanhtra"]
    # An overdue open case shows how late its step is.
    late = client.get(f"/inspector/cases/{next(c.id for c in cases if c.number.startswith('T01-X02'))}")
    assert late.status_code == 200
    assert client.get("/inspector/cases/999999").status_code == 404


def test_case_outside_the_province_is_not_found(app, login, case_engine):
    from engine import access
    from web import demo

    with app.app_context():
        province, commune = add_other_province(db.session, "Tỉnh khác", "Xã khác")
        db.session.commit()
        intake = access.Actor("tiepnhan2", "intake", commune.id, province.id)
        other = case_engine.open_case(db.session, intake, "T02-X01", demo.sample("mau_01", clock.now()))
        other_id, other_number = other.id, other.number
    client = app.test_client()
    login(client, "thanhtra")
    assert other_number not in client.get("/inspector").get_data(as_text=True)
    assert _numbers(client.get(f"/inspector?number={other_number}").get_data(as_text=True)) == set()
    response = client.get(f"/inspector/cases/{other_id}")
    assert response.status_code == 404 and other_number not in response.get_data(as_text=True)
    with app.app_context():
        assert not db.session.scalar(select(AuditEntry).where(AuditEntry.case_id == other_id,
                                                              AuditEntry.action == "case_inspect"))


def test_other_roles_are_refused(app, login):
    anonymous = app.test_client()
    for path in ("/inspector", "/inspector/cases/1"):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    for username in ("tiepnhan", "canbo", "chutich", "truonghoc", "giamsat", "quantri"):
        client = app.test_client()
        login(client, username)
        assert client.get("/inspector").status_code == 403, username
        assert client.get("/inspector/cases/1").status_code == 403, username
