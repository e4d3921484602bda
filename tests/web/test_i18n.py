"""The English catalogue: every message in the source has an English translation; compiling is atomic (several
compiles at once leave one whole catalogue); starting the app never writes it."""

from __future__ import annotations

import gettext
import shutil
import threading

from web.i18n import TRANSLATIONS, compile_catalogs


def test_concurrent_compiles_all_succeed_and_leave_a_whole_catalogue(tmp_path):
    root = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, root, ignore=shutil.ignore_patterns("*.mo"))
    start, errors = threading.Barrier(8), []

    def compile_once() -> None:
        start.wait()
        try:
            compile_catalogs(root)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=compile_once) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    folder = root / "en" / "LC_MESSAGES"
    assert [p.name for p in folder.iterdir()] == ["messages.mo"]  # no temporary file left behind
    with (folder / "messages.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    assert catalogue.gettext("Lỗi hệ thống") == "System error"
    assert catalogue.gettext("Hơn %(n)s hồ sơ") == "More than %(n)s cases"


def test_every_message_is_translated(tmp_path):
    from web.i18n import extract, untranslated

    pot = extract(tmp_path / "messages.pot")
    assert len(pot.read_text().split("msgid ")) > 500  # babel.cfg found the sources
    assert untranslated(pot) == []



# -- English mode: the process's own texts (issue 17) -----------------------------------------------------------

def _english(app, *usernames: str) -> None:
    from sqlalchemy import update

    from engine.models import User
    from web.extensions import db

    with app.app_context():
        db.session.execute(update(User).where(User.username.in_(usernames)).values(locale="en"))
        db.session.commit()
        db.session.remove()


def _options(page: str, select_id: str) -> list[str]:
    import re

    block = page.split(f'id="{select_id}"', 1)[1].split("</select>", 1)[0]
    return [text for value, text in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', block) if value]


def test_every_text_of_the_shipped_process_has_its_english(app):
    """Each step's title, law paragraph and legal basis, each limit's label, article and case56 basis: English
    exists for all of them (BPMN title_en or web/translations/en/process_texts.po), so nothing is marked."""
    from web import engine, labels

    with app.test_request_context():
        rules = engine().rules
        for step in engine().registry.current.steps.values():
            for text in (labels.title_of(step, "en"), labels.law_text(step.instructions, "en"),
                         labels.law_text(step.article, "en")):
                assert not isinstance(text, labels.Original), f"{step.step}: no English for {text!r}"
            assert labels.title_of(step, "en") != step.title_vi and labels.title_of(step, "vi") == step.title_vi
            assert labels.law_text(step.instructions, "vi") == step.instructions
        for name in rules.rules:
            basis = labels.rule_label(name, "en", rules)
            for text in (basis.label, basis.article, basis.policy):
                assert not isinstance(text, labels.Original), f"rule {name}: no English for {text!r}"


def test_english_mode_names_every_step_on_inbox_and_step_page(demo_app, login):
    """Every step of the shipped process, as each role's inbox offers it, and every open step's page: English
    title, English law paragraph and article, nothing left as a Vietnamese original."""
    import re

    from markupsafe import escape

    from web import engine, labels

    users = ("canbo", "chutich", "giamsat", "truonghoc")
    _english(demo_app, *users)
    with demo_app.test_request_context():
        steps = {s.step: s for s in engine().registry.current.steps.values()}
        english_law = {s.step: str(escape(labels.law_text(s.instructions, "en"))) for s in steps.values()}
    offered: set[str] = set()
    visited = 0
    for username in users:
        client = demo_app.test_client()
        login(client, username)
        page = client.get("/").get_data(as_text=True)
        assert page.startswith("<!doctype html>") and '<html lang="en">' in page, username
        assert "vi-original" not in page and "Vietnamese original" not in page
        titles = _options(page, "filter-step")
        assert titles and all(t.replace("&#39;", "'") in {s.title_en for s in steps.values()} for t in titles)
        offered |= {s.step for s in steps.values() if s.title_en.replace("'", "&#39;") in titles}
        for task_id in sorted(set(re.findall(r'href="/tasks/(\d+)"', page)))[:6]:
            step_page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
            heading = re.search(r"<h1>(.*?)</h1>", step_page, re.S).group(1).replace("&#39;", "'")
            step = next(s for s in steps.values() if s.title_en == heading)
            law = re.search(r'<div class="law">(.*?)</div>', step_page, re.S).group(1)
            assert law == english_law[step.step] and step.instructions not in step_page
            assert "Legal basis: Decree 56/2017/NĐ-CP" in step_page or "Legal basis: Law on Children" in step_page
            assert "Vietnamese original" not in step_page
            visited += 1
    assert visited >= 5
    # The steps somebody's inbox offers: every step of the process but intake's report (no inbox row there).
    assert offered >= set(steps) - {"receive"}, set(steps) - offered


def _custom_version(app) -> int:
    """A province's version whose verification step has its own Vietnamese title and law paragraph and no
    English for either (the analyst removed title_en), and a case opened on it."""
    from engine import clock, versions
    from tests.processes import variants
    from web import demo
    from web.extensions import db

    text = variants.shipped()
    old_name = '<bpmn:userTask id="Task_verify" name="Xác minh thông tin">'
    assert old_name in text and '<spiffworkflow:property name="title_en" value="Verify the report"/>' in text
    text = text.replace(old_name, f'<bpmn:userTask id="Task_verify" name="{CUSTOM_TITLE}">', 1)
    text = text.replace('<spiffworkflow:property name="title_en" value="Verify the report"/>', "", 1)
    law = ("Kiểm tra tính xác thực của thông tin, tình trạng an toàn và mức độ nguy cơ đối với trẻ em. Có thể đề nghị "
           "nhà trường, cơ sở y tế và cá nhân, tổ chức liên quan cung cấp thông tin. Kết luận thông tin có cơ sở hay "
           "không và nêu rõ lý do.")
    assert law in text
    text = text.replace(law, CUSTOM_LAW.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), 1)
    engine = app.config["CASE56_ENGINE"]
    with app.app_context():
        people = demo.cast(db.session)
        version = versions.upload(engine, db.session, "quantri", text.encode(), "t01.bpmn").version.id
        versions.activate(engine, db.session, "quantri", version, "T01")
        case = engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now()))
        db.session.commit()
        case_id = case.id
        db.session.remove()
    return case_id


CUSTOM_TITLE = "Xác minh thông tin theo quy trình của tỉnh"
CUSTOM_LAW = "Kiểm tra thông tin theo hướng dẫn riêng của tỉnh & báo cáo <ngay>."
MARK = '<span class="muted vi-original">(Vietnamese original)</span>'


def test_a_step_without_english_shows_its_vietnamese_original_marked(app, login):
    import re

    from sqlalchemy import select

    from engine.models import User
    from tests.web.casework_kit import ready_task
    from web.api import tokens
    from web.extensions import db

    case_id = _custom_version(app)
    task_id = ready_task(app, case_id, "verify")
    _english(app, "canbo")
    client = app.test_client()
    login(client, "canbo")
    marked_title = f'<span lang="vi">{CUSTOM_TITLE}</span> {MARK}'
    inbox = client.get("/").get_data(as_text=True)
    assert f'href="/tasks/{task_id}">{marked_title}</a>' in inbox
    option = re.search(r'<option value="verify"[^>]*>[^<]*</option>', inbox).group(0)
    assert option.count("verify") == 1 and "Verify the report" in option  # the shipped version offers it too
    step_page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert f"<h1>{marked_title}</h1>" in step_page
    law = "Kiểm tra thông tin theo hướng dẫn riêng của tỉnh &amp; báo cáo &lt;ngay&gt;."  # escaped, not markup
    assert f'<div class="law"><span lang="vi">{law}</span> {MARK}</div>' in step_page
    assert "Legal basis: Decree 56/2017/NĐ-CP, Art. 25.2 and Art. 26.1" in step_page  # unchanged text: translated
    assert marked_title in client.get(f"/cases/{case_id}").get_data(as_text=True)
    # The API in English: the shipped article translated, this version's own paragraph as it is.
    with app.app_context():
        canbo = db.session.scalar(select(User).where(User.username == "canbo"))
        bearer = tokens.issue(db.session, canbo, "i18n test", 1, "canbo").token
        db.session.remove()
    detail = client.get(f"/api/v1/tasks/{task_id}",
                        headers={"Authorization": f"Bearer {bearer}", "Accept-Language": "en"}).get_json()
    assert detail["title"] == CUSTOM_TITLE and detail["instructions"] == CUSTOM_LAW
    assert detail["article"] == "Decree 56/2017/NĐ-CP, Art. 25.2 and Art. 26.1"
    _english(app, "chutich")
    chairman = app.test_client()
    login(chairman, "chutich")
    assign = chairman.get(f"/tasks/{task_id}/assign").get_data(as_text=True)
    assert f"<h1>Assign step: {marked_title}</h1>" in assign

    # In Vietnamese the same text is simply the page's language: no marker, html lang="vi".
    _vietnamese(app, "canbo")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert '<html lang="vi">' in page and f"<h1>{CUSTOM_TITLE}</h1>" in page
    assert "vi-original" not in page and "Vietnamese original" not in page


def test_an_untranslated_step_is_marked_in_flash_messages_audit_lines_the_digest_and_charts(app, login):
    """Where a step's title is put into a sentence (a flash message, an audit line, the digest mail, a chart's
    label) an administrator's own title without English is marked as on the pages: lang="vi" and "(Vietnamese
    original)" in a flash, the words alone where no markup goes; Vietnamese pages and mails are unchanged."""
    import html
    import re

    from sqlalchemy import select

    from engine import clock
    from engine.models import User
    from tests.web.casework_kit import ready_task, token
    from web import notifications
    from web.extensions import db
    from web.views.statistics import _step_label

    case_id = _custom_version(app)
    task_id = ready_task(app, case_id, "verify")
    _english(app, "canbo", "chutich")
    officer, chairman = app.test_client(), app.test_client()
    login(officer, "canbo")
    login(chairman, "chutich")
    marked_title = f'<span lang="vi">{CUSTOM_TITLE}</span> {MARK}'
    plain = f"{CUSTOM_TITLE} (Vietnamese original)"

    def flash_of(response) -> str:
        page = response.get_data(as_text=True)
        return page.split('<p class="flash flash-success" role="status">')[1].split("</p>")[0]

    page = officer.get(f"/tasks/{task_id}").get_data(as_text=True)
    claimed = officer.post(f"/tasks/{task_id}/claim", data={"csrf_token": token(page)}, follow_redirects=True)
    assert f"“{marked_title}”" in flash_of(claimed)
    page = chairman.get(f"/tasks/{task_id}").get_data(as_text=True)
    reminded = chairman.post(f"/tasks/{task_id}/remind", data={"csrf_token": token(page)}, follow_redirects=True)
    assert f"“{marked_title}”" in flash_of(reminded)

    # The audit trail on the case page: one text per row, the title marked in words.
    trail = html.unescape(chairman.get(f"/cases/{case_id}").get_data(as_text=True).split('id="audit-title"')[1])
    assert re.search(rf"<td data-label=\"Details\">[^<]*: {re.escape(plain)}", trail), trail[:3000]

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "canbo"))
        user.email = "canbo@example.vn"
        db.session.commit()
        digest = notifications.build_digest(db.session, user, clock.now())
        assert digest is not None
        body = digest.message.get_content()
        assert f"- {plain} — case " in body  # the step due soon
        assert f"reminded you of step “{plain}”" in body  # the reminder (was the bare Vietnamese title)
        assert f"“{CUSTOM_TITLE}”" not in body
        db.session.remove()
    with app.test_request_context():
        assert _step_label(CUSTOM_TITLE, CUSTOM_TITLE, "en") == plain  # the registry's title_en is the name
        assert _step_label("Xác minh thông tin", "Verify the report", "en") == "Verify the report"
        assert _step_label(CUSTOM_TITLE, CUSTOM_TITLE, "vi") == CUSTOM_TITLE

    # In Vietnamese the same sentences carry the title as it is.
    _vietnamese(app, "chutich")
    page = chairman.get(f"/tasks/{task_id}").get_data(as_text=True)
    reminded = chairman.post(f"/tasks/{task_id}/remind", data={"csrf_token": token(page)}, follow_redirects=True)
    assert f"“{CUSTOM_TITLE}”" in flash_of(reminded) and "vi-original" not in flash_of(reminded)


def _vietnamese(app, username: str) -> None:
    from sqlalchemy import update

    from engine.models import User
    from web.extensions import db

    with app.app_context():
        db.session.execute(update(User).where(User.username == username).values(locale="vi"))
        db.session.commit()
        db.session.remove()


def test_the_deadline_column_is_deadline_and_a_token_is_valid_for(app, login):
    """'Thời hạn' (a step's time limit) and the API token's lifetime were one msgid translated 'Valid for'."""
    from tests.web.casework_kit import open_case

    open_case(app)
    _english(app, "canbo")
    client = app.test_client()
    login(client, "canbo")
    inbox = client.get("/").get_data(as_text=True)
    assert '<th scope="col">Deadline</th>' in inbox and 'data-label="Deadline"' in inbox
    assert "Valid for" not in inbox
    assert '<label for="token-days">Valid for</label>' in client.get("/account/tokens").get_data(as_text=True)


def test_unsettled_law_is_flagged_once_on_the_supervisor_and_inspector_pages(app, login):
    """'[cần xác nhận]' once per page (issue 17): each row whose limit the law leaves open links to one note."""
    from tests.web.casework_kit import open_case

    cases = [open_case(app, hours_ago=24 * 12, stop_at="draft_plan", crime_suspected=True) for _ in range(3)]
    supervisor = app.test_client()
    login(supervisor, "giamsat")
    page = supervisor.get("/supervisor").get_data(as_text=True)
    assert page.count('class="to-confirm-ref"') >= 3  # the plan's start (Art. 28.1), the police referral's days
    assert page.count("[cần xác nhận]") == 1 and page.count('id="to-confirm"') == 1
    note = page.split('id="to-confirm"', 1)[1]
    assert "Điều 28 khoản 1 NĐ 56/2017/NĐ-CP" in note and "Điều 25 khoản 3 NĐ 56/2017/NĐ-CP" in note

    inspector = app.test_client()
    login(inspector, "thanhtra")
    page = inspector.get(f"/inspector/cases/{cases[0]}").get_data(as_text=True)
    assert page.count('class="to-confirm-ref"') >= 2
    assert page.count("[cần xác nhận]") == 1 and page.count('id="to-confirm"') == 1


def test_one_vietnamese_text_with_two_meanings_is_translated_by_its_context(app, login):
    """Issue 17: the step page's link "Tải hồ sơ PDF" is "Download dossier PDF", while the audit trail's row of
    the same words reads "Dossier PDF downloaded" (pgettext "audit"); "Lưu nháp" is the button "Save draft" and the
    trail's "Draft saved"; the form's legal basis under its title is English; the statistics' count column is
    "Cases" (pgettext "count"), not "Case number"."""
    import re

    from tests.web.casework_kit import open_case
    from web import labels

    case_id = open_case(app)  # its verification step open for the commune's officer
    _english(app, "canbo")
    client = app.test_client()
    login(client, "canbo")
    inbox = client.get("/").get_data(as_text=True)
    task_id = re.findall(r'href="/tasks/(\d+)"', inbox)[0]
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    link = re.search(r'<a class="dossier-link" href="([^"]+)">([^<]*)</a>', page)
    assert link and link.group(2) == "Download dossier PDF" and "Dossier PDF downloaded" not in page
    basis = re.search(r'<h2 id="form-title">.*?</h2>\s*<p class="muted">(.*?)</p>', page, re.S).group(1)
    assert basis.startswith("Decree 56/2017/NĐ-CP, Art.") and "Điều" not in basis and "Vietnamese original" not in basis
    assert ">Save draft</button>" in page and "Lưu nháp" not in page
    assert client.get(link.group(1)).status_code == 200
    with app.test_request_context():
        actions = labels.audit_actions("en")
        assert actions["dossier_downloaded"] == "Dossier PDF downloaded" and actions["draft_saved"] == "Draft saved"
        assert labels.audit_actions("vi")["dossier_downloaded"] == "Tải hồ sơ PDF"
        # Every form's legal basis has its English (process_texts.po), so none is shown as a Vietnamese original.
        import forms.kit.registry as form_registry

        for versions_ in form_registry._forms.values():
            for spec in versions_.values():
                assert not isinstance(labels.law_text(spec.article, "en"), labels.Original), spec.article
    case_page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Dossier PDF downloaded" in case_page
    stats = client.get("/statistics").get_data(as_text=True)
    assert '<th scope="col" class="num">Cases</th>' in stats and "Case number</th>" not in stats
    assert '<h2 id="h-notes">How the figures are counted</h2>' in stats  # a step's "Counted as" elsewhere



def test_a_role_named_inside_a_sentence_starts_in_lower_case_but_an_office_keeps_its_capital(app):
    from web import labels

    with app.test_request_context():
        assert labels.role_label("officer", "vi", mid_sentence=True) == "người làm công tác bảo vệ trẻ em cấp xã"
        assert labels.role_label("chairman", "en", mid_sentence=True) == "commune chairman"
        assert labels.role_label("officer", "vi") == "Người làm công tác bảo vệ trẻ em cấp xã"  # at a line's start
        assert labels.role_label("supervisor", "vi", mid_sentence=True).startswith("Sở Y tế")
        assert labels.role_label("supervisor", "en", mid_sentence=True).startswith("Provincial Department")
