"""GET /tasks, GET /tasks/{id}, PUT /tasks/{id}/draft, POST /tasks/{id}/complete — per role and scope."""

from __future__ import annotations

from engine import clock
from engine.models import AuditEntry, Case, OrgUnit, Task
from engine.sqlcount import count_statements
from tests.api.apikit import assert_error
from web import demo
from web.extensions import db


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [t["case_id"] for t in response.get_json()]


def test_my_tasks_are_my_communes_most_urgent_first_with_filters_and_paging(client, auth, world):
    late = world.open(hours_ago=72)  # the 12-hour verification limit passed long ago
    fresh = [world.open(hours_ago=h) for h in (3, 2)]
    other = world.open("T01-X02")
    headers = auth("canbo")

    response = client.get("/api/v1/tasks", headers=headers)
    assert _ids(response) == [late, *fresh]  # earliest limit first
    assert response.headers["X-Total"] == "3" and response.headers["X-Page"] == "1"
    first = response.get_json()[0]
    assert first["step"] == "verify" and first["role"] == "officer" and first["commune"] == "T01-X01"
    assert first["overdue"] is True and first["overdue_seconds"] > 50 * 3600
    assert first["due_at"].endswith("+07:00")
    # verification's 12 hours are case56 policy (not law), so not flagged as unknown law
    assert first["deadline"]["rule"] == "verify" and first["deadline"]["policy"] and not first["deadline"]["to_confirm"]
    assert first["deadline"]["article"].startswith("Điều 25")
    assert response.get_json()[1]["overdue"] is False and response.get_json()[1]["overdue_seconds"] is None

    page1 = client.get("/api/v1/tasks?per_page=2", headers=headers)
    assert _ids(page1) == [late, fresh[0]] and page1.headers["X-Total"] == "3"
    assert 'rel="next"' in page1.headers["Link"] and "page=2" in page1.headers["Link"]
    page2 = client.get("/api/v1/tasks?per_page=2&page=2", headers=headers)
    assert _ids(page2) == [fresh[1]]
    assert 'rel="prev"' in page2.headers["Link"] and 'rel="next"' not in page2.headers["Link"]
    assert _ids(client.get("/api/v1/tasks?page=9", headers=headers)) == []
    assert page1.headers["X-Total-Exact"] == "true" and 'rel="last"' in page1.headers["Link"]
    assert _ids(client.get("/api/v1/tasks?overdue=true", headers=headers)) == [late]
    assert _ids(client.get("/api/v1/tasks?step=verify&commune=T01-X01", headers=headers)) == [late, *fresh]
    assert _ids(client.get("/api/v1/tasks?step=review", headers=headers)) == []
    assert _ids(client.get("/api/v1/tasks?commune=T01-X02", headers=headers)) == []  # not in my scope
    # An unknown commune is refused, as the document's enum of this installation's communes says.
    unknown = client.get("/api/v1/tasks?commune=NOPE", headers=headers)
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"] == {"commune": ["Không có xã/phường với mã này."]}
    assert _ids(client.get("/api/v1/tasks", headers=auth("canbo2"))) == [other]
    # The overdue step was escalated: the province supervisor has the acknowledgement in their list.
    supervisor = client.get("/api/v1/tasks", headers=auth("giamsat")).get_json()
    assert [(t["case_id"], t["step"]) for t in supervisor] == [(late, "escalate_verify")]


def test_past_the_count_limit_the_total_is_a_lower_bound_and_next_links_lead_on(client, auth, world, monkeypatch):
    from engine import worklists

    monkeypatch.setattr(worklists, "COUNT_LIMIT", 2)  # as past 1,000 open tasks, with five
    opened = [world.open(hours_ago=h) for h in (5, 4, 3, 2, 1)]
    headers = auth("canbo")
    first = client.get("/api/v1/tasks?per_page=1", headers=headers)
    assert first.headers["X-Total"] == "2" and first.headers["X-Total-Exact"] == "false"
    assert 'rel="last"' not in first.headers["Link"] and 'rel="next"' in first.headers["Link"]
    seen, url = [], "/api/v1/tasks?per_page=1"
    while url:  # a client walks the "next" links to the end
        response = client.get(url, headers=headers)
        seen += _ids(response)
        link = next((p for p in response.headers["Link"].split(", ") if 'rel="next"' in p), None)
        url = link[1:link.index(">")] if link else None
    assert seen == opened and response.headers["X-Total-Exact"] == "true" and response.headers["X-Total"] == "5"


def test_roles_without_steps_of_their_own_get_an_empty_list(client, auth, world):
    world.open()
    for username in ("tiepnhan", "chutich", "thanhtra", "quantri", "truonghoc"):
        response = client.get("/api/v1/tasks", headers=auth(username))
        assert _ids(response) == [] and response.headers["X-Total"] == "0", username


def test_a_task_comes_with_its_form_as_json_schema_its_deadline_and_article(client, auth, world):
    case_id = world.open()
    task = world.open_task(case_id)
    response = client.get(f"/api/v1/tasks/{task.id}", headers=auth("canbo"))
    assert response.status_code == 200
    body = response.get_json()
    case = world.get(Case, case_id)
    assert response.headers["ETag"] == f'"{case.version}"' and body["case_version"] == case.version
    assert body["step"] == "verify" and body["title"] == "Xác minh thông tin" and body["may_act"] is True
    assert body["article"].startswith("Điều 25 khoản 2") and body["instructions"]
    assert body["deadline"]["to_confirm"] is False and "12 giờ" in body["deadline"]["label"]
    assert body["deadline"]["policy"].startswith("Quy định của case56")  # verification: not a legal limit
    schema = body["form_schema"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema" and schema["x-form"] == "verification"
    assert "has_basis" in schema["properties"] and "has_basis" in schema["required"]
    assert body["draft"] is None and body["data"] is None and body["form_version"] is None
    views = world.audit(AuditEntry.action == "case_step", AuditEntry.case_id == case_id)
    assert [(v.actor, v.details["task"]) for v in views] == [("canbo", task.id)]

    english = client.get(f"/api/v1/tasks/{task.id}", headers=auth("canbo", **{"Accept-Language": "en"})).get_json()
    assert english["title"] != body["title"] and "12 hours" in english["deadline"]["label"]
    assert english["form_schema"]["title"] != schema["title"]


def test_who_may_see_and_act_on_a_step(client, auth, world):
    """Officer of T01-X01 acts; the commune's chairman and the province's supervisor and inspector read
    (403 on changes); the creator of the report reads; the other commune, partners and the administrator
    get 404 on every task endpoint, and nothing changes."""
    case_id = world.open()
    task = world.open_task(case_id)
    version = world.get(Case, case_id).version
    data = {"data": demo.sample("verification", clock.now())}
    for username in ("chutich", "giamsat", "thanhtra", "tiepnhan"):
        body = client.get(f"/api/v1/tasks/{task.id}", headers=auth(username)).get_json()
        assert body["id"] == task.id and body["may_act"] is False, username
        assert_error(client.put(f"/api/v1/tasks/{task.id}/draft", json=data, headers=auth(username)), 403)
        assert_error(client.post(f"/api/v1/tasks/{task.id}/complete", json=data, headers=auth(username)), 403)
    for username in ("canbo2", "chutich2", "truonghoc", "yte", "quantri"):
        assert_error(client.get(f"/api/v1/tasks/{task.id}", headers=auth(username)), 404, "not_found")
        assert_error(client.put(f"/api/v1/tasks/{task.id}/draft", json=data, headers=auth(username)), 404)
        assert_error(client.post(f"/api/v1/tasks/{task.id}/complete", json=data, headers=auth(username)), 404)
    for missing in (999999, 2**31, 2**63 + 5):
        assert_error(client.get(f"/api/v1/tasks/{missing}", headers=auth("canbo")), 404)
    after = world.get(Task, task.id)
    assert after.state == "ready" and after.draft_data is None
    assert world.get(Case, case_id).version == version


def test_save_draft_keeps_input_without_touching_the_case(client, auth, world):
    case_id = world.open()
    task = world.open_task(case_id)
    version = world.get(Case, case_id).version
    draft = {"has_basis": True, "findings": "Đang xác minh…"}
    response = client.put(f"/api/v1/tasks/{task.id}/draft", json={"data": draft}, headers=auth("canbo"))
    assert response.status_code == 200
    assert response.get_json()["task_id"] == task.id and response.get_json()["draft_saved_at"].endswith("+07:00")
    assert world.get(Task, task.id).draft_data == draft and world.get(Task, task.id).state == "ready"
    assert world.get(Case, case_id).version == version
    assert client.get(f"/api/v1/tasks/{task.id}", headers=auth("canbo")).get_json()["draft"] == draft
    assert [e.actor for e in world.audit(AuditEntry.action == "draft_saved")] == ["canbo"]


def test_complete_with_the_current_version_advances_the_case(client, auth, world):
    case_id = world.open()
    task = world.open_task(case_id)
    etag = client.get(f"/api/v1/tasks/{task.id}", headers=auth("canbo")).headers["ETag"]
    response = client.post(f"/api/v1/tasks/{task.id}/complete", json={"data": demo.sample("verification", clock.now())},
                           headers=auth("canbo", **{"If-Match": etag}))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    case = world.get(Case, case_id)
    assert body["task"]["id"] == task.id and body["task"]["state"] == "completed"
    assert body["case"] == {"id": case_id, "version": case.version, "status": "open"}
    assert response.headers["ETag"] == f'"{case.version}"' != etag
    assert world.get(Task, task.id).completed_by == "canbo"
    nxt = client.get("/api/v1/tasks", headers=auth("canbo")).get_json()
    assert [t["step"] for t in nxt] == ["initial_assessment"]
    # The same step again: already done, nothing saved.
    again = client.post(f"/api/v1/tasks/{task.id}/complete", json={"data": demo.sample("verification", clock.now())},
                        headers=auth("canbo"))
    assert_error(again, 409, "conflict")


def test_completing_reads_only_what_the_answer_needs_and_answers_what_was_committed(
        app, client, auth, world, case_engine, monkeypatch):
    """Issue 20: besides the step's own statements, a completion reads the token with its owner and unit, the task
    with its case and commune, then the child's label and the next steps — four — and its answer is the database's."""
    case_id = world.open()
    task = world.open_task(case_id)
    headers = auth("canbo", **{"If-Match": f'"{world.get(Case, case_id).version}"'})
    client.get("/api/v1/me", headers=headers)  # the token's first use is stamped (a commit every few minutes)
    with app.app_context():
        bind = db.engine
    inside: list[int] = []
    real = case_engine.complete_task

    def counted(*args, **kwargs):
        with count_statements(bind) as step:
            try:
                return real(*args, **kwargs)
            finally:
                inside.append(step.count)

    monkeypatch.setattr(case_engine, "complete_task", counted)
    with count_statements(bind) as whole:
        response = client.post(f"/api/v1/tasks/{task.id}/complete",
                               json={"data": demo.sample("verification", clock.now())}, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert len(inside) == 1 and whole.count - inside[0] == 4, whole.statements
    body = response.get_json()
    case, unit = world.get(Case, case_id), world.get(OrgUnit, task.commune_id)
    assert body["case"] == {"id": case_id, "version": case.version, "status": case.status}
    assert response.headers["ETag"] == f'"{case.version}"'
    assert (body["task"]["state"], body["task"]["commune"], body["task"]["commune_name"]) == (
        "completed", unit.code, unit.name)
    assert body["next_tasks"] == [world.open_task(case_id, "initial_assessment").id]


def test_stale_version_and_invalid_data_change_nothing(client, auth, world):
    case_id = world.open()
    task = world.open_task(case_id)
    version = world.get(Case, case_id).version
    audit_rows = len(world.audit(AuditEntry.case_id == case_id))
    good = {"data": demo.sample("verification", clock.now())}

    stale = client.post(f"/api/v1/tasks/{task.id}/complete", json=good,
                        headers=auth("canbo", **{"If-Match": f'"{version - 1}"'}))
    assert "thay đổi" in assert_error(stale, 409, "conflict")["message"]

    bad = {"data": {**good["data"], "has_basis": "perhaps", "findings": ""}}
    body = assert_error(client.post(f"/api/v1/tasks/{task.id}/complete", json=bad,
                                    headers=auth("canbo", **{"If-Match": str(version)})), 422, "validation_error")
    assert set(body["errors"]) >= {"has_basis"}
    assert all(isinstance(m, list) and m for m in body["errors"].values())
    english = client.post(f"/api/v1/tasks/{task.id}/complete", json=bad,
                          headers=auth("canbo", **{"Accept-Language": "en"}))
    assert assert_error(english, 422)["errors"]["has_basis"] != body["errors"]["has_basis"]

    for if_match in ("abc", '"1", "2"', "v1"):
        assert_error(client.post(f"/api/v1/tasks/{task.id}/complete", json=good,
                                 headers=auth("canbo", **{"If-Match": if_match})), 400, "bad_request")
    assert world.get(Task, task.id).state == "ready"
    assert world.get(Case, case_id).version == version
    assert len(world.audit(AuditEntry.case_id == case_id)) == audit_rows  # not even a draft or an audit row
    # A weak validator of the current version is accepted.
    ok = client.post(f"/api/v1/tasks/{task.id}/complete", json=good,
                     headers=auth("canbo", **{"If-Match": f'W/"{version}"'}))
    assert ok.status_code == 200


def test_partners_see_and_complete_only_their_own_activities(client, auth, world):
    case_id = world.open()
    world.drive(case_id, stop_at="carry_out_activity")
    mine = client.get("/api/v1/tasks", headers=auth("truonghoc")).get_json()
    theirs = client.get("/api/v1/tasks", headers=auth("yte")).get_json()
    assert [t["assignee"] for t in mine] == ["truonghoc"] and [t["assignee"] for t in theirs] == ["yte"]
    assert all(t["step"] == "carry_out_activity" for t in mine + theirs)
    assert_error(client.get(f"/api/v1/tasks/{theirs[0]['id']}", headers=auth("truonghoc")), 404)
    assert_error(client.get(f"/api/v1/cases/{case_id}", headers=auth("truonghoc")), 404)  # no case file
    detail = client.get(f"/api/v1/tasks/{mine[0]['id']}", headers=auth("truonghoc")).get_json()
    assert detail["may_act"] is True and detail["form_schema"]["x-form"] == "activity_report"
    done = client.post(f"/api/v1/tasks/{mine[0]['id']}/complete",
                       json={"data": demo.sample("activity_report", clock.now())},
                       headers=auth("truonghoc", **{"If-Match": str(detail["case_version"])}))
    assert done.status_code == 200, done.get_json()
    assert set(done.get_json()["case"]) == {"id", "version", "status"}
    assert client.get("/api/v1/tasks", headers=auth("truonghoc")).get_json() == []
