"""The header (issue 17): the badge says in words what it counts — the person's own open steps overdue and due
within 24 hours (engine.worklists.attention_counts) — and the menu is one <details> that opens without
JavaScript, with every menu link and the log-out button inside it."""

from __future__ import annotations

import re

from engine import worklists
from web import demo
from web.extensions import db

BADGE = re.compile(r'<a class="badge badge-(late|soon)" href="/">(\d+) quá hạn, (\d+) sắp đến hạn</a>')


def test_badge_counts_in_words_and_menu_in_details(demo_app, login):
    with demo_app.app_context():
        late, soon = worklists.attention_counts(db.session, demo.cast(db.session).actors["canbo"])
        db.session.remove()
    assert late + soon > 0  # the demo has steps overdue or due soon, so the badge is shown
    client = demo_app.test_client()
    login(client, "canbo")
    html = client.get("/").get_data(as_text=True)
    badge = BADGE.search(html)
    assert badge is not None, html[:2000]
    assert (int(badge.group(2)), int(badge.group(3))) == (late, soon)
    assert badge.group(1) == ("late" if late else "soon")
    header = html[html.index('<header class="top">'):html.index("</header>")]
    menu = header[header.index('<details class="menu">'):]
    assert "<summary>Danh mục</summary>" in menu
    for link in ('href="/cases"', 'href="/statistics"', 'href="/account/sessions"', ">Đăng xuất</button>"):
        assert link in menu, link


def test_no_badge_without_open_steps(demo_app, login):
    client = demo_app.test_client()
    login(client, "thanhtra")  # the inspector has no steps of their own
    html = client.get("/inspector").get_data(as_text=True)
    assert BADGE.search(html) is None and 'class="badge' not in html.split("</header>")[0]
    assert '<details class="menu">' in html
