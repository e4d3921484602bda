"""Who holds a step on the pages and in the API (issue 17), on both databases: "Nhận việc" and "Trả việc" on the step
page, the holder shown to the others (read-only), "Việc của tôi" / "Việc của xã", the chairman's and supervisor's
"Giao bước" with field errors, reminders in the inbox, the next step one click away after "Hoàn thành", and
POST /api/v1/tasks/{id}/claim, /release, /assign, /remind with the completion naming the next tasks."""

from __future__ import annotations

import html

from sqlalchemy import select

from engine import clock
from engine.models import TaskReminder, User
from tests.security import kit
from tests.web.casework_kit import (
    audits,
    case_of,
    client_for,
    flatten,
    open_case,
    ready_task,
    task_of,
    token,
    version_on,
)
from web import demo
from web.extensions import db


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def add_officer(app, username: str = "canbo_b") -> None:
    with app.app_context():
        canbo = db.session.scalar(select(User).where(User.username == "canbo"))
        db.session.add(User(username=username, full_name="Bùi Thị Cán Bộ B", role="officer",
                            org_unit_id=canbo.org_unit_id, password_hash=canbo.password_hash,
                            created_at=clock.now(), locale="vi"))
        db.session.commit()
        db.session.remove()


def post(client, path: str, page_path: str, data: dict | None = None):
    return client.post(path, data={**(data or {}), "csrf_token": token(text(client.get(page_path)))})


def test_claim_release_and_the_holder_seen_by_others(app):
    add_officer(app)
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    me, other = client_for(app, "canbo"), client_for(app, "canbo_b")
    page = text(me.get(f"/tasks/{task_id}"))
    assert "Nhận việc" in page and "Chưa ai nhận bước này" in page
    # The role's name inside the sentence starts in lower case (labels.role_label(mid_sentence=True)).
    assert "mọi người làm công tác bảo vệ trẻ em cấp xã của địa bàn" in page and "mọi Người" not in page

    response = post(me, f"/tasks/{task_id}/claim", f"/tasks/{task_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task_id}")
    assert task_of(app, task_id).assignee == "canbo"
    page = text(me.get(f"/tasks/{task_id}"))
    assert "Bạn đã nhận bước này" in page and "Trả việc" in page and 'id="step-form"' in page
    # A claimed step of a role has an assignee, but it is no plan activity: no "Giao lại hoạt động" card (issue 17),
    # and the plan activity's reassign form refuses it; its holder changes by "Giao bước cho người khác".
    assert 'id="reassign"' not in page and "Giao lại hoạt động" not in page
    chairman = client_for(app, "chutich")
    held = text(chairman.get(f"/tasks/{task_id}"))
    assert 'id="reassign"' not in held and "Giao bước cho người khác" in held
    refused_form = chairman.get(f"/tasks/{task_id}/reassign")
    assert refused_form.status_code == 409 and "Giao bước cho người khác" in text(refused_form)
    assert task_of(app, task_id).assignee == "canbo"

    # The colleague sees who holds it, gets no form and no claim button; a forced post is refused.
    seen = text(other.get(f"/tasks/{task_id}"))
    assert "Trần Văn Cán Bộ" in seen and "đang đảm nhận bước này" in seen
    assert 'id="step-form"' not in seen and "Nhận việc</button>" not in seen
    refused = other.post(f"/tasks/{task_id}", data={**flatten(demo.sample("verification", clock.now())),
                                                     "_action": "complete", "csrf_token": token(seen),
                                                     "_version": str(case_of(app, case_id).version)})
    assert refused.status_code == 403
    assert post(other, f"/tasks/{task_id}/claim", f"/tasks/{task_id}").status_code == 403
    assert task_of(app, task_id).state == "ready"

    # "Việc của tôi" / "Việc của xã".
    mine, theirs = text(me.get("/?mine=1")), text(other.get("/?mine=1"))
    assert f'href="/tasks/{task_id}"' in mine and "Bạn đã nhận" in mine
    assert f'href="/tasks/{task_id}"' not in theirs and "Bạn chưa nhận bước nào" in theirs
    commune = text(other.get("/"))
    assert f'href="/tasks/{task_id}"' in commune and "Đang do Trần Văn Cán Bộ đảm nhận" in commune

    assert post(me, f"/tasks/{task_id}/release", f"/tasks/{task_id}").status_code == 302
    assert task_of(app, task_id).assignee is None
    assert [a.action for a in audits(app, "task_claimed", case_id) + audits(app, "task_released", case_id)] == [
        "task_claimed", "task_released"]


def test_chairman_assigns_with_a_field_error_and_supervisor_reminds(app):
    add_officer(app)
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    chairman, supervisor = client_for(app, "chutich"), client_for(app, "giamsat")
    assert "Giao bước cho người khác" in text(chairman.get(f"/tasks/{task_id}"))
    page = text(chairman.get(f"/tasks/{task_id}/assign"))
    assert "Bùi Thị Cán Bộ B (canbo_b)" in page and "Trần Văn Cán Bộ (canbo)" in page and "chutich" not in page

    bad = chairman.post(f"/tasks/{task_id}/assign", data={"assignee": "canbo2", "reason": "",
                                                          "csrf_token": token(page)})
    assert bad.status_code == 422 and "không được làm bước này" in text(bad)
    assert task_of(app, task_id).assignee is None
    good = chairman.post(f"/tasks/{task_id}/assign", data={"assignee": "canbo_b", "reason": "Phụ trách tổ 5",
                                                           "csrf_token": token(page)})
    assert good.status_code == 302 and task_of(app, task_id).assignee == "canbo_b"
    assert audits(app, "task_assigned", case_id)[-1].details["reason"] == "Phụ trách tổ 5"
    # An officer may not assign; another commune's chairman does not even see the step.
    assert client_for(app, "canbo").get(f"/tasks/{task_id}/assign").status_code == 403
    assert client_for(app, "chutich2").get(f"/tasks/{task_id}/assign").status_code == 404

    step_page = text(supervisor.get(f"/tasks/{task_id}"))
    assert "Nhắc việc" in step_page
    sent = supervisor.post(f"/tasks/{task_id}/remind", data={"note": "Sắp hết hạn, chị xem giúp.",
                                                              "csrf_token": token(step_page)})
    assert sent.status_code == 302
    inbox = text(client_for(app, "canbo_b").get("/"))
    assert "Lời nhắc việc" in inbox and "Sắp hết hạn, chị xem giúp." in inbox and "Đỗ Thị Giám Sát" in inbox
    client_for(app, "canbo_b").get(f"/tasks/{task_id}")  # opening the step reads the reminder
    with app.app_context():
        assert db.session.scalar(select(TaskReminder.read_at).where(TaskReminder.recipient == "canbo_b"))
        db.session.remove()
    assert "Lời nhắc việc" not in text(client_for(app, "canbo_b").get("/"))


def test_a_refused_reminder_note_is_summarised_at_the_top_and_nothing_is_sent(app):
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    supervisor = client_for(app, "giamsat")
    step_page = text(supervisor.get(f"/tasks/{task_id}"))
    assert 'id="error-summary"' not in step_page
    too_long = "Nhắc " + "x" * 1000  # the engine takes 1,000 characters; the page's maxlength is only a hint
    refused = supervisor.post(f"/tasks/{task_id}/remind", data={"note": too_long, "csrf_token": token(step_page)})
    body = text(refused)
    assert refused.status_code == 422
    summary = body.split('id="error-summary"')[1].split("</div>")[0]
    assert f'<a href="#remind-note-{task_id}">Lời nhắc (không bắt buộc): ' in summary
    # The field the link names is on the page, below the summary, marked and keeping the note as typed.
    field = body.split(f'<textarea id="remind-note-{task_id}"')[1].split("</textarea>")[0]
    assert 'aria-invalid="true"' in field and field.endswith(too_long)
    assert body.index('id="error-summary"') < body.index(f'id="remind-note-{task_id}"')
    assert f'id="remind-note-{task_id}-err"' in body
    # Nothing sent: no reminder, no audit line.
    with app.app_context():
        assert db.session.scalars(select(TaskReminder)).all() == []
        db.session.remove()
    assert audits(app, "task_reminded", case_id) == []
    # A person the step page offers no note field gets the refusal, not a field error without its field.
    officer = client_for(app, "canbo")
    crafted = officer.post(f"/tasks/{task_id}/remind",
                           data={"note": too_long, "csrf_token": token(text(officer.get(f"/tasks/{task_id}")))})
    assert crafted.status_code == 403 and 'id="error-summary"' not in text(crafted)


def test_after_completing_the_next_step_is_one_click_away(app):
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    officer = client_for(app, "canbo")
    page = text(officer.get(f"/tasks/{task_id}"))
    done = officer.post(f"/tasks/{task_id}", data={**flatten(demo.sample("verification", clock.now())),
                                                   "_action": "complete", "csrf_token": token(page),
                                                   "_version": version_on(page)})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/tasks/{task_id}/done")
    confirmation = text(officer.get(done.headers["Location"]))
    with app.app_context():
        from engine import ownership
        following = ownership.next_steps(db.session, demo.cast(db.session).actors["canbo"], case_id)
        db.session.remove()
    assert following
    assert "Đã hoàn thành" in confirmation and f'href="/tasks/{following[0].id}"' in confirmation
    assert "Làm tiếp:" in confirmation


def test_api_claim_release_assign_remind_and_next_tasks(app):
    add_officer(app)
    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    client = app.test_client()
    officer, colleague = kit.bearer(kit.api_token(app, "canbo")), kit.bearer(kit.api_token(app, "canbo_b"))
    chairman, supervisor = kit.bearer(kit.api_token(app, "chutich")), kit.bearer(kit.api_token(app, "giamsat"))

    spec = client.get("/api/v1/openapi.json", headers=officer).get_json()
    for action in ("claim", "release"):  # no input: an empty JSON object, anything else refused
        body = spec["paths"][f"/api/v1/tasks/{{task_id}}/{action}"]["post"]["requestBody"]
        assert body["required"] is True, body
        assert client.post(f"/api/v1/tasks/{task_id}/{action}", json={"x": 1}, headers=officer).status_code == 422
    claimed = client.post(f"/api/v1/tasks/{task_id}/claim", json={}, headers=officer)
    assert claimed.status_code == 200 and claimed.get_json()["task"]["assignee"] == "canbo"
    again = client.post(f"/api/v1/tasks/{task_id}/claim", json={}, headers=colleague)
    assert again.status_code == 403 and "Trần Văn Cán Bộ" in again.get_json()["message"]
    listed = client.get("/api/v1/tasks?mine=true", headers=colleague)
    assert listed.status_code == 200 and listed.get_json() == []
    assert [t["id"] for t in client.get("/api/v1/tasks?mine=true", headers=officer).get_json()] == [task_id]
    assert client.post(f"/api/v1/tasks/{task_id}/release", json={}, headers=colleague).status_code == 403
    assert client.post(f"/api/v1/tasks/{task_id}/release", json={}, headers=officer).get_json()["task"][
        "assignee"] is None

    holders = client.get(f"/api/v1/tasks/{task_id}/holders", headers=chairman)
    assert [h["username"] for h in holders.get_json()] == ["canbo_b", "canbo"]
    assert client.get(f"/api/v1/tasks/{task_id}/holders", headers=officer).status_code == 403
    wrong = client.post(f"/api/v1/tasks/{task_id}/assign", json={"assignee": "chutich"}, headers=chairman)
    assert wrong.status_code == 422 and set(wrong.get_json()["errors"]) == {"assignee"}
    assert client.post(f"/api/v1/tasks/{task_id}/assign", json={"assignee": 5}, headers=chairman).status_code == 422
    given = client.post(f"/api/v1/tasks/{task_id}/assign", json={"assignee": "canbo", "reason": "Quen gia đình"},
                        headers=supervisor)
    assert given.status_code == 200 and given.get_json()["task"]["assignee"] == "canbo"

    reminded = client.post(f"/api/v1/tasks/{task_id}/remind", json={"note": "Gấp"}, headers=chairman)
    assert reminded.status_code == 201 and reminded.get_json() == {"task_id": task_id, "recipients": ["canbo"]}
    assert client.post(f"/api/v1/tasks/{task_id}/remind", json={}, headers=officer).status_code == 403

    # The right is checked before the note: the officer (no right to remind) gets 403 whatever the note holds,
    # the chairman the field error on `note`; nothing sent either way.
    sent_before = len(audits(app, "task_reminded", case_id))
    for note in ("Gấp\x07", "Gấp\x1b[31m"):
        refused = client.post(f"/api/v1/tasks/{task_id}/remind", json={"note": note}, headers=officer)
        assert refused.status_code == 403, refused.get_json()
        invalid = client.post(f"/api/v1/tasks/{task_id}/remind", json={"note": note}, headers=chairman)
        assert invalid.status_code == 422 and set(invalid.get_json()["errors"]) == {"note"}, invalid.get_json()
    assert len(audits(app, "task_reminded", case_id)) == sent_before

    version = case_of(app, case_id).version
    completed = client.post(f"/api/v1/tasks/{task_id}/complete", headers={**officer, "If-Match": f'"{version}"'},
                            json={"data": demo.sample("verification", clock.now())})
    assert completed.status_code == 200, completed.get_json()
    following = completed.get_json()["next_tasks"]
    assert following and all(client.get(f"/api/v1/tasks/{t}", headers=officer).get_json()["may_act"]
                             for t in following)


def test_supervisor_sees_holders_in_the_overdue_list_the_workload_and_the_csv(app):
    late = open_case(app, hours_ago=30)
    task_id = ready_task(app, late, "verify")
    open_case(app)  # an open step nobody holds
    officer = client_for(app, "canbo")
    assert post(officer, f"/tasks/{task_id}/claim", f"/tasks/{task_id}").status_code == 302
    supervisor = client_for(app, "giamsat")
    page = text(supervisor.get("/supervisor"))
    assert "Bước đang mở theo người đảm nhận" in page and "Chưa ai nhận" in page
    assert "Trần Văn Cán Bộ (canbo)" in page
    assert f'action="/tasks/{task_id}/remind"' in page and f"/tasks/{task_id}/assign?next=supervisor" in page
    csv_text = supervisor.get("/supervisor/overdue.csv").get_data().decode("utf-8-sig")
    header, row = csv_text.splitlines()[1], next(line for line in csv_text.splitlines()
                                                 if case_of(app, late).number in line)
    assert "Người được giao" in header and "Trần Văn Cán Bộ (canbo)" in row
    reminded = supervisor.post(f"/tasks/{task_id}/remind", data={"_next": "supervisor", "csrf_token": token(page)})
    assert reminded.status_code == 302 and reminded.headers["Location"].endswith("/supervisor")
    assert audits(app, "task_reminded", late)[-1].details["to"] == ["canbo"]


def test_a_reminder_goes_into_the_digest_without_its_note(app):
    from web import notifications

    case_id = open_case(app)
    task_id = ready_task(app, case_id, "verify")
    chairman = client_for(app, "chutich")
    page = text(chairman.get(f"/tasks/{task_id}"))
    chairman.post(f"/tasks/{task_id}/remind", data={"note": "Bé Nguyễn Văn An cần gặp ngay", "csrf_token": token(page)})
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "canbo"))
        user.email = "canbo@example.vn"
        db.session.commit()
        digest = notifications.build_digest(db.session, user, clock.now())
        assert digest is not None and [r.task.id for r in digest.reminders] == [task_id]
        body = digest.message.get_content()
        assert "Lời nhắc việc" in body and "Lê Văn Chủ Tịch nhắc bạn bước" in body
        assert f"/tasks/{task_id}" in body and "Nguyễn Văn An" not in body  # the note stays in case56
        db.session.remove()
