"""Hostile input, fuzzed: every web form that posts, and the search and filter forms, with hypothesis.

Each form gets ~25 generated submissions (junk keys and values, hostile strings, lists where one value is
expected, and valid data with a few fields spoiled), posted with a valid CSRF token by someone who may use
the form. None may fail (5xx), none may show a traceback (the checked client of conftest.py also checks the
headers and that no page carries inline script). Forms fuzzed elsewhere: the new report (Mẫu 01) and the
plan (Mẫu 04) step in tests/web (test_cases.py, test_steps.py), the API by schemathesis in tests/api.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import select

import forms
from engine import clock
from engine.models import OrgUnit, Task, User
from tests.security.conftest import STATS
from tests.web.casework_kit import case_of, client_for, flatten, open_case, ready_task, token
from web import demo
from web.extensions import db

EXAMPLES = 13  # per database: with a seed per database, 26 different inputs per form in all
FILTER_EXAMPLES = 10  # GET filters: 20 generated + 4 explicit per form in all
STEP_EXAMPLES = 5  # a step page is heavy (the whole case so far): 10 generated + 4 explicit per form in all
SEED = {"value": 0}
HOSTILE = ["", " ", "\x00", "a\x00b", "\r\n", "true", "false", "on", "0", "-1", "1e309", "NaN", "9" * 30, "2026-02-30",
           "31/12/1899", "29/02/2025", "2026-01-01T10:00", "01/01/2026", "24:61", "<script>alert(1)</script>",
           "\"><img src=x onerror=alert(1)>", "javascript:alert(1)", "' OR 1=1 --", "1; DROP TABLE task",
           "../../etc/passwd", "%00", "/\\evil.example", "//evil.example", "https://evil.example", "/\r\nX: y",
           "T01-X01", "T01-X02", "T01", "vi", "en", "officer", "admin", "A" * 3000, "ạ" * 300, "\u202e\u200b",
           "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀"]
JUNK = st.one_of(st.text(max_size=40), st.sampled_from(HOSTILE))
VALUE = st.one_of(JUNK, JUNK, st.lists(JUNK, max_size=3))


@pytest.fixture(autouse=True)
def _seed_per_database(db_kind: str) -> None:
    SEED["value"] = {"sqlite": 1, "postgresql": 2}[db_kind]


def field_names(page: str) -> list[str]:
    """The input names of a page's forms (the CSRF token aside)."""
    return sorted(set(re.findall(r'name="([^"]+)"', page)) - {"csrf_token"})


def form_data(names: list[str], base: dict[str, Any] | None = None, max_size: int = 10) -> st.SearchStrategy:
    """Junk for the form's own names and made-up ones; with `base` (valid data), also valid data with one to
    three fields spoiled, so validation gets past its first error."""
    keys = st.one_of(st.sampled_from(names), st.sampled_from(names), st.text(max_size=12)) if names \
        else st.text(max_size=12)
    junk = st.dictionaries(keys, VALUE, max_size=max_size)
    if not base:
        return junk
    spoiled = st.dictionaries(st.sampled_from(sorted(base)), VALUE, min_size=1, max_size=3).map(
        lambda over: {**base, **over})
    return st.one_of(junk, spoiled)


def fuzz(label: str, strategy: st.SearchStrategy, send: Callable[[Any], Any], examples: int = EXAMPLES,
         explicit: Sequence[Any] = ()) -> int:
    """Run `send` on generated inputs (and the `explicit` ones); every answer must be below 500 (and pass the
    checked client). Each database gets its own seed, so the two runs together try twice as many inputs."""
    tried = 0

    def one(data: Any) -> None:
        nonlocal tried
        tried += 1
        response = send(data)
        assert response.status_code < 500, (label, data, response.status_code)

    run = given(strategy)(one)
    for value in explicit:
        run = example(value)(run)
    run = settings(max_examples=examples, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))(run)
    seed(SEED["value"])(run)()
    STATS[f"fuzz:{label}"] += tried
    return tried


def everywhere(names: Sequence[str]) -> list[dict[str, str]]:
    """The same hostile value in every field at once: NUL (refused by PostgreSQL text), and a long line of
    markup, SQL and line breaks."""
    return [{name: value for name in names} for value in ("\x00", "\r\n<script>' OR 1=1 --" + "ạ" * 3000)]


def one_at_a_time(base: dict[str, Any], value: str = "a\x00b") -> list[dict[str, Any]]:
    """Valid data with one field made hostile, each field in turn: no other error hides what that field
    does (a NUL that passes validation reaches the database, which PostgreSQL refuses)."""
    return [{**base, name: value} for name in base]


def posting(client, path: str, csrf_value: str, **extra: Any) -> Callable[[dict[str, Any]], Any]:
    def send(form: dict[str, Any]):
        return client.post(path, data={**form, "csrf_token": csrf_value}, **extra)

    return send


def _id(app, model, **where: Any) -> int:
    with app.app_context():
        value = db.session.scalar(select(model.id).filter_by(**where))
        db.session.remove()
    return value


# -- every step form, on a case driven through the whole procedure --------------------------------------------

STEP_FORMS = {"verification", "no_basis_signoff", "police_referral", "police_outcome", "mau_02", "emergency_measures",
              "mau_07", "separation_review", "mau_03", "needs_meeting", "needs_meeting_signoff", "mau_05",
              "plan_approval", "activity_report", "mau_06", "plan_end"}
# (mau_04 is fuzzed by tests/web/test_steps.py, escalation_ack below)
USERS = {"officer": "canbo", "chairman": "chutich"}
EMERGENCY = {"emergency": True, "danger_description": "Trẻ bị đánh, có thương tích."}
# Issue 16: the emergency step (form emergency_measures) decides a separation, which runs as the event subprocess
# of Mẫu 07 (separation_decision, then separation_review).
SEPARATE = {"separate": True, "separation_reason": "Người cha gây tổn hại."}
# How the case is driven between fuzzing: the report without basis first (the chairman sends it back), then
# with basis, an emergency with separation; crime is suspected, so the police steps run alongside.
CHOICES: dict[str, Any] = {
    "verification": [{"has_basis": False, "reason_no_basis": "Chưa rõ."}, {"has_basis": True}],
    "no_basis_signoff": {"confirm": False, "note": "Cần xác minh lại."},
    "mau_02": EMERGENCY,
    "emergency_measures": SEPARATE,
    # Cancelling needs a Mẫu 03 reassessment of the parents since the decision (Art. 32.3): reassess, then cancel.
    "separation_review": [{"action": "reassess"}, {"action": "cancel"}],
}
# Where each form can be reached directly, if fuzzing happened to complete a step and the path went elsewhere.
REACH = {"no_basis_signoff": ("no_basis_signoff", {"verification": CHOICES["verification"][0]}),
         "emergency_measures": ("emergency_decision", {"mau_02": EMERGENCY}),
         "mau_07": ("separation_decision", {"mau_02": EMERGENCY, "emergency_measures": SEPARATE}),
         "separation_review": ("separation_review", {"mau_02": EMERGENCY, "emergency_measures": SEPARATE})}
STEP_OF_FORM = {"verification": "verify", "police_referral": "police_referral", "police_outcome": "police_outcome",
                "mau_02": "initial_assessment", "mau_03": "detailed_assessment", "needs_meeting": "needs_meeting",
                "needs_meeting_signoff": "needs_meeting_signoff",
                "mau_05": "draft_decision", "plan_approval": "approve_plan", "activity_report": "carry_out_activity",
                "mau_06": "review", "plan_end": "end_plan"}


def _open_steps(app, case_id: int) -> list[Task]:
    with app.app_context():
        rows = [t for t in demo.open_tasks(db.session, case_id) if t.escalates_task_id is None]
        db.session.expunge_all()
        db.session.remove()
    return rows


def poison(form: str) -> tuple[str, str]:
    """A field and a value that make any submission of `form` invalid, so that fuzzing never completes the
    step (every example then meets the validation, not "already completed"): a typed field given text, or
    else a required text left blank."""
    fields = forms.describe(form)["fields"]
    for field in fields:
        if field["type"] in ("date", "datetime", "choice", "integer", "boolean"):
            return field["name"], "không-hợp-lệ"
    return next(f["name"] for f in fields if f.get("required")), ""


def _fuzz_step(app, clients: dict[str, Any], task: Task) -> int:
    who = task.assignee if task.role == "partner" else USERS[task.role]
    if who not in clients:
        clients[who] = client_for(app, who)
    client, path = clients[who], f"/tasks/{task.id}"
    page = client.get(path).get_data(as_text=True)
    csrf_value = token(page)
    base = flatten(demo.sample(task.form, clock.now()))
    name, value = poison(task.form)
    controls = st.fixed_dictionaries({"_action": st.sampled_from(["complete", "complete", "draft", "x", ""]),
                                      "_version": st.sampled_from(["current", "current", "0", "x", ""])})
    names = field_names(page)
    strategy = st.tuples(form_data(names, base).map(lambda form: {**form, name: value}), controls)
    explicit = [({**form, name: value}, {"_action": "complete", "_version": "current"}) for form in everywhere(names)]

    def send(drawn: tuple[dict[str, Any], dict[str, str]]):
        form, control = drawn
        if control["_version"] == "current":
            control = {**control, "_version": str(case_of(app, task.case_id).version)}
        response = client.post(path, data={**form, **control, "csrf_token": csrf_value})
        if response.status_code == 302 and response.headers["Location"].endswith(path):
            again = client.get(path)  # a saved draft of junk must render again
            assert again.status_code == 200, (task.form, form)
        return response

    return fuzz(f"step {task.form}", strategy, send, examples=STEP_EXAMPLES, explicit=explicit)


def _complete_first(app, case_id: int, used: dict[str, int]) -> bool:
    with app.app_context():
        engine = app.extensions["case56_engine"]
        tasks = [t for t in demo.open_tasks(db.session, case_id) if t.escalates_task_id is None]
        if not tasks:
            db.session.remove()
            return False
        task = tasks[0]
        override = CHOICES.get(task.form, {})
        if isinstance(override, list):
            override = override[min(used.get(task.form, 0), len(override) - 1)]
        used[task.form] = used.get(task.form, 0) + 1
        engine.complete_task(db.session, demo.cast(db.session).for_task(task), task.id,
                             demo.sample(task.form, clock.now(), **override))
        db.session.remove()
    return True


def test_every_step_form_fuzzed_on_a_driven_case(app):
    case_id = open_case(app, crime_suspected=True)
    clients: dict[str, Any] = {}
    fuzzed: dict[str, int] = {}
    used: dict[str, int] = {}
    for _ in range(60):
        for task in _open_steps(app, case_id):
            if task.form in STEP_FORMS and task.form not in fuzzed:
                fuzzed[task.form] = _fuzz_step(app, clients, task)
        if not _complete_first(app, case_id, used):
            break
    for form in sorted(STEP_FORMS - set(fuzzed)):  # a fuzzed submission was valid and took another path
        stop_at, choices = REACH[form] if form in REACH else (STEP_OF_FORM[form], None)
        other = open_case(app, stop_at=stop_at, choices=choices, crime_suspected=True)
        task = next(t for t in _open_steps(app, other) if t.form == form)
        fuzzed[form] = _fuzz_step(app, clients, task)
    assert set(fuzzed) == STEP_FORMS
    assert all(count >= STEP_EXAMPLES for count in fuzzed.values()), fuzzed


# -- transfer, reopening, attachments -------------------------------------------------------------------------

def test_transfer_reopen_and_attachment_forms_fuzzed(app):
    moving = open_case(app)
    closed = open_case(app, choices={"verification": {"has_basis": False, "reason_no_basis": "Không có sự việc."}})
    officer = client_for(app, "canbo")
    path = f"/cases/{moving}/transfer"
    page = officer.get(path).get_data(as_text=True)
    base = {**flatten(demo.sample("transfer", clock.now())), "_version": "0"}  # a stale version: stays put
    names = field_names(page)
    fuzz("transfer", form_data(names, base), posting(officer, path, token(page)),
         explicit=everywhere(names) + one_at_a_time(base))

    path = f"/cases/{closed}/reopen"
    page = officer.get(path).get_data(as_text=True)
    base = {**{f"reopen.{k}": v for k, v in flatten(demo.sample("reopen", clock.now())).items()},
            **{f"report.{k}": v for k, v in flatten(demo.sample("mau_01", clock.now())).items()}}
    names = field_names(page)
    fuzz("reopen", form_data(names, base, max_size=16), posting(officer, path, token(page)),
         explicit=everywhere(names))

    path = f"/cases/{moving}/attachments/new"
    page = officer.get(path).get_data(as_text=True)
    csrf_value = token(page)
    heads = st.sampled_from([b"", b"%PDF-1.4\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"MZ", b"<html>", b"GIF89a"])
    upload = st.tuples(heads, st.binary(max_size=300), JUNK, form_data(["description", "task"], max_size=4))

    def send(drawn: tuple[bytes, bytes, str, dict[str, Any]]):
        head, rest, name, form = drawn
        return officer.post(path, data={**form, "file": (io.BytesIO(head + rest), name), "csrf_token": csrf_value},
                            content_type="multipart/form-data")

    fuzz("attachment", upload, send, explicit=[(b"%PDF-1.4\n", b"\x00", name, form) for name, form in
                                               zip(("\x00.pdf", "../../x.pdf"), everywhere(["description", "task"]),
                                                   strict=True)])
    # The target pages still answer, whatever was accepted.
    assert officer.get(f"/cases/{moving}").status_code in (200, 404)
    assert officer.get(f"/cases/{closed}").status_code == 200


# -- the supervisor's acknowledgement -------------------------------------------------------------------------

def test_escalation_acknowledgement_fuzzed(app):
    escalations = []
    for _ in range(2):
        verify = ready_task(app, open_case(app, hours_ago=13), "verify")
        escalations.append(_id(app, Task, escalates_task_id=verify))
    supervisor = client_for(app, "giamsat")
    page = supervisor.get("/supervisor").get_data(as_text=True)
    csrf_value = token(page)
    query = st.dictionaries(st.sampled_from(["commune", "step", "window", "page", "_method", "_external",
                                             "_scheme", "_anchor", "next"]), JUNK, max_size=4)
    strategy = st.tuples(query, form_data(["note", "action_taken"], max_size=4))

    def send(drawn: tuple[dict[str, str], dict[str, Any]]):
        args, form = drawn
        path = f"/supervisor/escalations/{escalations[0]}/ack?" + "&".join(
            f"{quote(k)}={quote(v)}" for k, v in args.items())
        response = supervisor.post(path, data={**form, "csrf_token": csrf_value})
        if response.status_code in (302, 303):
            assert urlsplit(response.headers["Location"]).netloc in ("", "localhost"), response.headers["Location"]
        return response

    fuzz("escalation acknowledgement", strategy, send)
    # The same form on the step page (the supervisor's own escalation step).
    path = f"/tasks/{escalations[1]}"
    page = supervisor.get(path).get_data(as_text=True)
    controls = {"_action": "complete", "_version": str(case_of(app, _case_of_task(app, escalations[1])).version)}
    name, value = poison("escalation_ack")
    fuzz("step escalation_ack", form_data(field_names(page), dict(demo.sample("escalation_ack", clock.now())))
         .map(lambda form: {**form, name: value}),
         lambda form: supervisor.post(path, data={**form, **controls, "csrf_token": token(page)}))


def test_acknowledgement_goes_back_with_the_filters_only(app):
    """The query string of the form's address is not passed to url_for whole: "_method" there once made the
    redirect fail (500), "_external"/"_scheme" changed its form."""
    verify = ready_task(app, open_case(app, hours_ago=13), "verify")
    escalation = _id(app, Task, escalates_task_id=verify)
    supervisor = client_for(app, "giamsat")
    response = supervisor.post(
        f"/supervisor/escalations/{escalation}/ack?window=72&step=verify&_method=POST&_external=1"
        "&_scheme=javascript&_anchor=x", data={"note": "Đã đôn đốc.", "csrf_token": token(
            supervisor.get("/supervisor").get_data(as_text=True))})
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path, location.fragment) == ("", "", "/supervisor", "")
    assert sorted(location.query.split("&")) == ["step=verify", "window=72"]
    with app.app_context():
        assert db.session.get(Task, escalation).state == "completed"
        db.session.remove()


def _case_of_task(app, task_id: int) -> int:
    with app.app_context():
        value = db.session.get(Task, task_id).case_id
        db.session.remove()
    return value


# -- administration -------------------------------------------------------------------------------------------

def test_administration_forms_fuzzed(app):
    admin = client_for(app, "quantri")
    other = _id(app, User, username="canbo2")
    commune = _id(app, OrgUnit, code="T01-X02")
    csrf_value = token(admin.get("/admin/users/new").get_data(as_text=True))
    user = {"username": "nguoi-moi", "full_name": "Người Mới", "role": "officer", "unit": str(commune),
            "email": "a@b.vn", "locale": "vi", "password": "mat-khau-dai-1"}
    forms = [
        ("admin new user", "/admin/users/new", user),
        ("admin edit user", f"/admin/users/{other}", {**user, "active": "1"}),
        ("admin password", f"/admin/users/{other}/password",
         {"new_password": "mat-khau-dai-2", "confirm_password": "mat-khau-dai-2"}),
        ("admin unlock", f"/admin/users/{other}/unlock", {}),
        ("admin new unit", "/admin/units", {"code": "T01-X07", "name": "Xã Bảy", "kind": "commune",
                                            "parent": str(_id(app, OrgUnit, code="T01"))}),
        ("admin rename unit", f"/admin/units/{commune}/rename", {"name": "Xã Đại Từ (đổi tên)"}),
        ("admin calendar", "/admin/calendar", {"day": "05/01/2099", "working": "off", "note": "Nghỉ bù"}),
    ]
    for label, path, base in forms:
        names = sorted(base) or ["active"]
        fuzz(label, form_data(names, base or None), posting(admin, path, csrf_value),
             explicit=everywhere(names) + one_at_a_time(base))
    fuzz("admin calendar delete", JUNK.filter(lambda d: d.strip() not in ("", ".", "..")),
         lambda day: admin.post(f"/admin/calendar/{quote(day, safe='')}/delete", data={"csrf_token": csrf_value}))
    # The administrator can still use every page afterwards.
    for path in ("/admin", "/admin/users", "/admin/units", "/admin/calendar", f"/admin/users/{other}"):
        assert admin.get(path).status_code == 200, path


# -- signing in, the language switch, API tokens --------------------------------------------------------------

def test_log_in_language_and_token_forms_fuzzed(app, fast_dummy_hash):
    anonymous = app.test_client()
    page = anonymous.get("/login").get_data(as_text=True)
    names = field_names(page) + ["next"]
    login = st.tuples(form_data(names, {"username": "yte", "password": "sai-mat-khau"}), JUNK)

    def send_login(drawn: tuple[dict[str, Any], str]):
        form, next_page = drawn
        response = anonymous.post("/login?next=" + quote(next_page), data={**form, "csrf_token": token(page)})
        if response.status_code == 302:  # by chance signed in: sign out again for the next example
            anonymous.post("/logout", data={"csrf_token": token(anonymous.get("/").get_data(as_text=True))})
        return response

    fuzz("log-in", login, send_login, explicit=[(form, "/\r\n") for form in everywhere(names) + one_at_a_time(
        {"username": "yte", "password": "sai-mat-khau"})])
    officer = client_for(app, "canbo")
    csrf_value = token(officer.get("/account/tokens").get_data(as_text=True))

    def send_language(form: dict[str, Any]):
        response = officer.post("/language", data={**form, "csrf_token": csrf_value})
        if response.status_code != 302:  # refused outright (a NUL): nowhere to go
            assert 400 <= response.status_code < 500, response.status_code
            return response
        location = response.headers["Location"]
        # Back to a page of this site only: never to another host, whatever `next` says.
        assert location.startswith("/") and not location.startswith("//") and "\\" not in location, location
        assert not urlsplit(location.replace("\\", "/")).netloc, location
        return response

    fuzz("language", form_data(["locale", "next"], {"locale": "en", "next": "/cases"}), send_language,
         explicit=everywhere(["locale", "next"]) + one_at_a_time({"locale": "en", "next": "/cases"}))
    fuzz("API token", form_data(["name", "days"], {"name": "Máy chủ", "days": "30"}),
         posting(officer, "/account/tokens", csrf_value),
         explicit=everywhere(["name", "days"]) + one_at_a_time({"name": "Máy chủ", "days": "30"}))
    fuzz("API token revoke", st.one_of(st.integers(min_value=-5, max_value=2**40).map(str), JUNK),
         lambda ident: officer.post(f"/account/tokens/{quote(ident, safe='')}/revoke",
                                    data={"csrf_token": csrf_value}))


def test_log_in_and_language_never_redirect_off_site(app):
    """The targets the fuzzer may not hit: each known trick for leaving the site through `next`."""
    tricks = ["//evil.example", "/\\evil.example", "/\\/evil.example", "/\t/evil.example", "https://evil.example",
              "/\r\nSet-Cookie: a=b", "/%0d%0aSet-Cookie: a=b", "javascript:alert(1)", "\x00/", "/ok\x7f"]
    officer = client_for(app, "canbo")
    csrf_value = token(officer.get("/").get_data(as_text=True))
    for trick in tricks:
        browser = app.test_client()
        page = browser.get("/login").get_data(as_text=True)
        for response in (officer.post("/language", data={"locale": "vi", "next": trick, "csrf_token": csrf_value}),
                         browser.post("/login?next=" + quote(trick, safe=""), data={
                             "username": "chutich", "password": demo.DEMO_PASSWORD, "csrf_token": token(page)})):
            if "\x00" in trick:  # refused outright where the whole app refuses NUL; else like the others
                assert response.status_code in (302, 400), (trick, response.status_code)
                if response.status_code == 400:
                    continue
            assert response.status_code == 302, (trick, response.status_code)
            location = response.headers["Location"]
            assert location == "/" or (location.startswith("/") and "evil" not in location
                                       and "\n" not in location), (trick, location)


# -- search and filter forms (GET) ----------------------------------------------------------------------------

def test_search_and_filter_forms_fuzzed(app):
    open_case(app, hours_ago=30)
    open_case(app, commune="T01-X02", stop_at="initial_assessment")
    getters = [
        ("statistics", "giamsat", "/statistics", ["period", "from", "to", "province", "commune"], FILTER_EXAMPLES),
        ("statistics export", "canbo", "/statistics/export.csv", ["period", "from", "to", "province", "commune"],
         6),
        ("inspector search", "thanhtra", "/inspector", ["status", "commune", "category", "number", "from", "to",
                                                        "page"], FILTER_EXAMPLES),
        ("inbox filters", "canbo", "/", ["step", "commune", "overdue", "page"], FILTER_EXAMPLES),
        ("case list filters", "chutich", "/cases", ["status", "number", "commune", "page"], FILTER_EXAMPLES),
        ("supervisor filters", "giamsat", "/supervisor", ["commune", "step", "window", "page"], FILTER_EXAMPLES),
        ("overdue CSV filters", "giamsat", "/supervisor/overdue.csv", ["commune", "step", "window", "page"], 6),
    ]
    clients: dict[str, Any] = {}
    for label, who, path, names, examples in getters:
        client = clients.setdefault(who, client_for(app, who))
        args = st.dictionaries(st.one_of(st.sampled_from(names), st.text(max_size=8)), VALUE, max_size=6)
        fuzz(label, args, lambda query, client=client, path=path: client.get(path, query_string=query),
             examples=examples, explicit=everywhere(names))
    # And the export formats with a few fuzzed periods (a PDF and a spreadsheet are built each time).
    fmt = st.tuples(st.sampled_from(["pdf", "xlsx", "csv", "exe", "PDF", "../x"]),
                    st.dictionaries(st.sampled_from(["period", "from", "to"]), JUNK, max_size=2))
    fuzz("statistics export formats", fmt,
         lambda drawn: clients["giamsat"].get(f"/statistics/export.{quote(drawn[0], safe='')}",
                                              query_string=drawn[1]), examples=4)
