"""What goes down the line (issue 20, web/assets.py): compressed pages when the browser asks, static files cached
for a year under a content-hashed URL, pages never cached, PDFs sent as they are."""

from __future__ import annotations

import gzip
import re

import brotli
from sqlalchemy import select

from engine.models import User
from web.api import tokens
from web.assets import static_version
from web.extensions import db

from .casework_kit import case_of, client_for, open_case

BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}


def _static_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_a_page_is_compressed_when_asked_and_never_cached(app):
    case_id = open_case(app)
    officer = client_for(app, "canbo")
    plain = officer.get(f"/cases/{case_id}")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers  # nothing asked, nothing encoded
    html = plain.get_data()
    packed = officer.get(f"/cases/{case_id}", headers=BROWSER)
    assert packed.status_code == 200 and packed.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(html) / 3
    # Same page (the CSRF token in it differs per render): the decoded text is the page.
    decoded = brotli.decompress(packed.data).decode()
    assert decoded.startswith("<!doctype html>") and "</html>" in decoded and len(decoded) > len(html) * 0.9
    gzipped = officer.get(f"/cases/{case_id}", headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gzipped.data).decode().startswith("<!doctype html>")
    # A child's case page is for the browser of the signed-in officer only.
    assert packed.headers["Cache-Control"] == "no-store" and plain.headers["Cache-Control"] == "no-store"
    assert "public" not in packed.headers["Cache-Control"]


def test_json_is_compressed_and_tiny_answers_are_not(app):
    anonymous = app.test_client()
    document = anonymous.get("/api/v1/openapi.json", headers=BROWSER)
    assert document.status_code == 200 and document.headers["Content-Encoding"] == "br"
    assert brotli.decompress(document.data).startswith(b"{")
    refusal = anonymous.get("/api/v1/tasks", headers=BROWSER)  # 401, a few dozen bytes of JSON
    assert refusal.status_code == 401 and "Content-Encoding" not in refusal.headers
    assert refusal.headers["Cache-Control"] == "no-store"


def test_the_api_etag_is_the_case_version_whatever_the_encoding(app):
    """The ETag an API client sends back in If-Match stays the case version when the answer is compressed."""
    case_id = open_case(app)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "canbo"))
        bearer = tokens.issue(db.session, user, "test delivery", 1, "canbo").token
        db.session.remove()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {bearer}"}
    plain = client.get(f"/api/v1/cases/{case_id}", headers=auth)
    packed = client.get(f"/api/v1/cases/{case_id}", headers={**auth, **BROWSER})
    assert plain.status_code == packed.status_code == 200 and packed.headers["Content-Encoding"] == "br"
    version = case_of(app, case_id).version
    assert plain.headers["ETag"] == packed.headers["ETag"] == f'"{version}"'
    # If-None-Match is not turned into a 304 by the compression layer: the API answers as its views decide.
    again = client.get(f"/api/v1/cases/{case_id}", headers={**auth, **BROWSER, "If-None-Match": f'"{version}"'})
    assert again.status_code == 200 and brotli.decompress(again.data).startswith(b"{")


def test_static_files_have_versioned_urls_and_a_year_of_cache(app):
    page = app.test_client().get("/login").get_data(as_text=True)
    urls = _static_urls(page)
    assert urls, "the log-in page links no static file"
    anonymous = app.test_client()
    for url in urls:
        path, version = re.fullmatch(r"/static/([^?]+)\?v=([0-9a-f]{12})", url).groups()
        assert version == static_version(app, path)
        answer = anonymous.get(url, headers=BROWSER)
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert answer.headers["Content-Encoding"] == "br" and "Accept-Encoding" in answer.headers["Vary"]
        # Revalidation with the compressed copy's ETag: 304, nothing sent again.
        again = anonymous.get(url, headers={**BROWSER, "If-None-Match": answer.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
        # Without the version, or with an old one, a browser must ask again: no year-long stale copy.
        for stale in (f"/static/{path}", f"/static/{path}?v=000000000000"):
            answer = anonymous.get(stale)
            assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-cache", stale


def test_the_case_page_diagram_script_is_versioned(app):
    case_id = open_case(app)
    page = client_for(app, "canbo").get(f"/cases/{case_id}").get_data(as_text=True)
    version = static_version(app, "case56-diagram.js")
    assert f'src="/static/case56-diagram.js?v={version}"' in page


def test_a_range_of_a_static_file_is_its_raw_bytes(app):
    url = _static_urls(app.test_client().get("/login").get_data(as_text=True))[0]
    part = app.test_client().get(url, headers={**BROWSER, "Range": "bytes=0-9"})
    assert part.status_code == 206 and "Content-Encoding" not in part.headers and len(part.data) == 10


def test_head_of_a_page_announces_the_compressed_length(app):
    anonymous = app.test_client()
    full = anonymous.get("/static/case56.css", headers=BROWSER)
    head = anonymous.head("/static/case56.css", headers=BROWSER)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Encoding"] == "br"
    assert head.headers["Content-Length"] == full.headers["Content-Length"]


def test_pdfs_are_not_compressed_again(app, login):
    case_id = open_case(app)
    inspector = app.test_client()
    login(inspector, "thanhtra")
    pdf = inspector.get(f"/cases/{case_id}/dossier.pdf", headers=BROWSER)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "Content-Encoding" not in pdf.headers and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Cache-Control"] == "no-store"


def test_csv_export_is_compressed_and_stays_a_download(app):
    open_case(app, hours_ago=24 * 30)
    supervisor = client_for(app, "giamsat")
    plain = supervisor.get("/supervisor/overdue.csv")
    packed = supervisor.get("/supervisor/overdue.csv", headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert packed.headers["Content-Disposition"].startswith('attachment; filename="qua-han-')
    assert len(plain.data) >= app.config["COMPRESS_MIN_SIZE"]  # the stamp, the heading and the late case
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
