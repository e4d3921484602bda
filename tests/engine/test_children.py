"""Finding a child (engine.children): folded name search, personal ID, phone, case number; scoped by access rules
and audited; the child's name and age on lists only for roles that may see them. Both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import children, clock, worklists
from engine.errors import FieldErrors
from engine.models import AuditEntry, CaseChild, CaseSearchKey
from web import demo

NHUNG = "Nguyễn Thị Hồng Nhung"


def report(**child):
    base = {"full_name": NHUNG, "date_of_birth": "2016-05-04", "sex": "female"}
    return demo.sample("mau_01", clock.now(), child={**base, **child})


def open_case(engine, session, people, commune="T01-X01", **child):
    return engine.open_case(session, people.actors["tiepnhan"], commune, report(**child))


def found(session, actor, query, **kw):
    _kind, page = children.search(session, actor, query, **kw)
    return {case.id for (case,) in page.rows}


def test_fold():
    assert children.fold(NHUNG) == "nguyen thi hong nhung"
    assert children.fold("ĐỖ  Thu-Trang") == "do thu trang"
    assert children.fold("Nguyễn Thị Hồng Nhung") == "nguyen thi hong nhung"  # NFD input
    assert children.phone_key("+84 912-345-678") == "0912345678" == children.phone_key("0912.345.678")
    assert children.kind_of("001216012345") == "personal_id"
    assert children.kind_of("0912 345 678") == "phone"
    assert children.kind_of("T01-X01-2026-0001") == "number"
    assert children.kind_of("2026-0001") == "number"
    assert children.kind_of("nhung") == "name"


def test_name_search_without_marks_or_case(case_engine, session, people):
    nhung = open_case(case_engine, session, people)
    other = open_case(case_engine, session, people, full_name="Trần Văn Hùng", date_of_birth="2012-01-01",
                      sex="male")
    officer = people.actors["canbo"]
    for query in ("nhung", "Nhung", "NHUNG", "Nhưng", "hong nhung", "nhung nguyen", "Nguyễn Thị", "ong nhu"):
        assert found(session, officer, query) == {nhung.id}, query
    assert found(session, officer, "hùng") == {nhung.id, other.id}  # part of a name: "hung" is in "nhung"
    assert found(session, officer, "Văn Hùng") == {other.id}
    assert found(session, officer, "thi") == {nhung.id}  # a whole short word, not "thi" inside another
    assert found(session, officer, "an") == set()  # two letters: whole words only ("Văn" is not "an")
    assert found(session, officer, "van") == {other.id}
    row = session.get(CaseChild, nhung.id)
    assert (row.full_name, row.name_search, row.birth_year) == (NHUNG, "nguyen thi hong nhung", 2016)


def test_search_by_personal_id_phone_and_number(case_engine, session, people):
    case = open_case(case_engine, session, people, personal_id="001316012345")
    officer, supervisor = people.actors["canbo"], people.actors["giamsat"]
    assert found(session, officer, "001316012345") == {case.id}
    assert found(session, officer, "001 316 012 345") == {case.id}
    assert found(session, officer, "+84 912 345 678") == {case.id}  # the informant's phone
    assert found(session, officer, case.number[-9:]) >= {case.id}
    # The informant's phone is the informant class: a supervisor may not search by it (finds nothing).
    assert found(session, supervisor, "0912345678") == set()
    assert found(session, supervisor, "nhung") == {case.id}
    keys = set(session.execute(select(CaseSearchKey.kind, CaseSearchKey.value)
                               .where(CaseSearchKey.case_id == case.id)).all())
    assert keys == {("personal_id", "001316012345"), ("informant_phone", "0912345678")}


def test_search_is_scoped_and_audited_without_the_query(case_engine, session, people):
    here = open_case(case_engine, session, people)
    there = open_case(case_engine, session, people, commune="T01-X02")
    assert found(session, people.actors["canbo"], "nhung") == {here.id}
    assert found(session, people.actors["canbo2"], "nhung") == {there.id}
    assert found(session, people.actors["giamsat"], "nhung") == {here.id, there.id}
    assert found(session, people.actors["tiepnhan"], "nhung") == {here.id, there.id}  # the reports it recorded
    assert found(session, people.actors["truonghoc"], "nhung") == set()  # a partner reads no case file
    entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "case_search")
                                   .order_by(AuditEntry.id)))
    assert [e.actor for e in entries] == ["canbo", "canbo2", "giamsat", "tiepnhan", "truonghoc"]
    assert entries[0].details == {"kind": "name", "found": 1, "more": False, "role": "officer", "via": "web"}
    assert all("nhung" not in str(e.details).lower() for e in entries)
    with pytest.raises(FieldErrors) as refused:
        children.search(session, people.actors["canbo"], " n ")
    assert "2 chữ cái" in refused.value.by_field()["q"]


def test_labels_on_work_lists_follow_the_private_class(case_engine, session, people):
    case = open_case(case_engine, session, people)
    unnamed = open_case(case_engine, session, people, full_name="", date_of_birth=None, estimated_age=9)
    rows = worklists.inbox(session, people.actors["canbo"]).rows
    cases = [c for _t, c in rows]
    labels = children.labels(session, people.actors["canbo"], cases)
    born_age = children.current_age(case, session.get(CaseChild, case.id).birth_date)[0]
    assert labels[case.id] == children.ChildLabel(NHUNG, born_age, False)
    assert labels[unnamed.id] == children.ChildLabel("", 9, True)
    assert children.labels(session, people.actors["truonghoc"], cases) == {}  # partners: never the child
    assert children.labels(session, people.actors["giamsat"], cases)[case.id].name == NHUNG


def test_possible_duplicates_and_linking_the_same_child(case_engine, session, people):
    from sqlalchemy import distinct, func

    from engine.models import Case

    father = {"name": "Nguyễn Văn Đức"}
    first = open_case(case_engine, session, people, father=father)
    age = clock.local(clock.now()).year - 2016  # an estimate that puts the birth in 2016
    estimated = open_case(case_engine, session, people, date_of_birth=None, estimated_age=age, father=None)
    older = open_case(case_engine, session, people, date_of_birth="2012-01-01", father=None)  # 4 years apart
    elsewhere = open_case(case_engine, session, people, commune="T01-X02", father=father)
    intake, officer2 = people.actors["tiepnhan"], people.actors["canbo2"]
    commune = session.get(Case, first.id).commune_id
    new = report(full_name="NGUYEN THI HONG NHUNG", date_of_birth="2015-12-30", father={"name": "nguyen van duc"})
    found = {c.case.id: c.reasons for c in children.candidates(session, intake, new, commune)}
    assert found[first.id] == ("birth", "parent", "commune")
    assert found[elsewhere.id] == ("birth", "parent")  # another commune: the intake point recorded it
    assert older.id not in found  # same name, born four years apart: another child
    assert found[estimated.id] == ("birth", "commune")  # born 2016 by the estimate: within a year of 2015
    # An officer sees candidates of its own scope and of the report's communes, no others.
    assert {c.case.id for c in children.candidates(session, officer2, new, commune)} == {
        first.id, elsewhere.id, estimated.id}
    x02 = session.get(Case, elsewhere.id).commune_id
    assert {c.case.id for c in children.candidates(session, people.actors["canbo"], new, x02)} == {
        first.id, elsewhere.id, estimated.id}
    assert children.candidates(session, intake, report(full_name="Lê Văn Khác"), commune) == []

    linked = case_engine.open_case(session, intake, "T01-X01", new, same_child_of=first.id)
    assert linked.child_key == first.child_key and linked.linked_case_id is None
    opened = session.scalar(select(AuditEntry).where(AuditEntry.case_id == linked.id,
                                                     AuditEntry.action == "case_opened"))
    assert opened.details["same_child"] == first.id
    keys = session.scalar(select(func.count(distinct(Case.child_key))).where(Case.id.in_([first.id, linked.id])))
    assert keys == 1  # statistics count that child once
    with pytest.raises(FieldErrors) as refused:
        case_engine.open_case(session, intake, "T01-X01", new, same_child_of=older.id)
    assert "same_child_of" in refused.value.errors


def test_destruction_past_retention_takes_the_search_rows(case_engine, session, people, tmp_path):
    from datetime import timedelta

    from sqlalchemy import update

    from engine import retention
    from engine.models import Case, User
    from tests.engine.test_restriction_retention import ADMIN, ADMIN2, POLICY_TEXT

    (tmp_path / "retention.toml").write_text(POLICY_TEXT)
    policy = retention.Policy.load(tmp_path / "retention.toml")
    session.add(User(username="quantri2", full_name="Quản Trị Hai", role="admin", password_hash="x",
                     created_at=clock.now(), locale="vi"))
    case = open_case(case_engine, session, people, personal_id="001316012345")
    demo.drive(case_engine, session, case, people, choices={"verification": {
        "has_basis": False, "reason_no_basis": "Không có sự việc."}})
    session.refresh(case)
    session.execute(update(Case).where(Case.id == case.id).values(closed_at=case.closed_at - timedelta(days=800)))
    session.commit()
    assert found(session, people.actors["canbo"], "nhung") == {case.id}
    request = retention.request(session, ADMIN, policy, {"reason": "Hết thời hạn lưu trữ."})
    retention.confirm(case_engine, session, ADMIN2, policy, request.id, {"note": "Đã kiểm tra."})
    assert session.get(CaseChild, case.id) is None
    assert session.scalars(select(CaseSearchKey).where(CaseSearchKey.case_id == case.id)).all() == []
    assert found(session, people.actors["canbo"], "nhung") == set()
    assert found(session, people.actors["canbo"], "001316012345") == set()
