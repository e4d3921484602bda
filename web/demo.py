"""Demo data: units, one user per role, and cases in every state — also the sample data tests and
benchmarks drive cases with (`sample`, `drive`).

Sample form data is valid for the current forms and written relative to a moment, so no date lies in the
future of the case's own clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from engine import access, breaches, clock, data_requests, representatives
from engine.models import Case, CaseChild, OrgUnit, ServiceProvider, Task, User
from engine.runtime import Engine

PROVINCE = ("T01", "Tỉnh Thái Nguyên (demo)")
COMMUNES = [("T01-X01", "Phường Phan Đình Phùng (demo)"), ("T01-X02", "Xã Đại Từ (demo)")]
USERS = [
    # username, full name, role, unit code
    ("tiepnhan", "Nguyễn Thị Tiếp Nhận", "intake", "T01"),
    ("canbo", "Trần Văn Cán Bộ", "officer", "T01-X01"),
    ("chutich", "Lê Văn Chủ Tịch", "chairman", "T01-X01"),
    ("truonghoc", "Trường THCS Phan Đình Phùng", "partner", "T01-X01"),
    ("yte", "Trạm Y tế phường", "partner", "T01-X01"),
    # A province service provider: plan activities may go to partners of the case's commune or province.
    ("ctxh", "Trung tâm Công tác xã hội tỉnh (demo)", "partner", "T01"),
    ("canbo2", "Phạm Thị Cán Bộ Hai", "officer", "T01-X02"),
    ("chutich2", "Hoàng Văn Chủ Tịch Hai", "chairman", "T01-X02"),
    ("giamsat", "Đỗ Thị Giám Sát", "supervisor", "T01"),
    ("thanhtra", "Vũ Văn Thanh Tra", "inspector", "T01"),
    ("quantri", "Quản Trị Hệ Thống", "admin", None),
]
DEMO_PASSWORD = "demo12345"
# The provider registry (Art. 28.3.c): code, name, type of service, address, contact, unit code (province or commune).
PROVIDERS = [
    ("T01-DV-01", "Trung tâm Công tác xã hội tỉnh (demo)", "counselling", "Số 1 đường Hoàng Văn Thụ",
     "0208 3855 111", "T01"),
    ("T01-DV-02", "Bệnh viện Đa khoa tỉnh (demo)", "medical", "Số 479 đường Lương Ngọc Quyến", "0208 3855 222", "T01"),
    ("T01-DV-03", "Trung tâm Trợ giúp pháp lý nhà nước tỉnh (demo)", "legal_aid", "Số 20 đường Nha Trang",
     "0208 3855 333", "T01"),
    ("T01-X01-DV-01", "Trạm Y tế phường Phan Đình Phùng (demo)", "medical", "Tổ 5, phường Phan Đình Phùng",
     "0208 3855 444", "T01-X01"),
]


def _iso(moment: datetime) -> str:
    return clock.local(moment).isoformat(timespec="minutes")


def _day(moment: datetime, days: int = 0) -> str:
    return (clock.local(moment) + timedelta(days=days)).date().isoformat()


def sample(form: str, at: datetime, **override: Any) -> dict[str, Any]:
    """Valid data for `form` as filled at moment `at`; `override` replaces top-level fields."""
    rating = {"rating": "trung_binh", "note": "Đã trao đổi với gia đình và nhà trường."}
    data: dict[str, Any] = {
        "mau_01": {
            "issuing_body": "UBND phường Phan Đình Phùng", "place": "Phan Đình Phùng",
            "category": "xam_hai", "channel": "hotline_111", "received_at": _iso(at - timedelta(minutes=30)),
            "child": {"full_name": "Nguyễn Văn An", "date_of_birth": "2016-05-04", "sex": "male",
                      "address": "Tổ 5, phường Phan Đình Phùng", "incident_place": "Tại nhà",
                      "current_condition": "Có vết bầm ở tay, sợ hãi, không muốn về nhà.",
                      "current_caregiver": "Bà ngoại"},
            "informant": {"consent": True, "name": "Trần Thị Bình", "phone": "0912345678",
                          "notes": "Hàng xóm, gọi Tổng đài 111."},
            "abuse_forms": ["bao_luc"], "environment": "gia_dinh", "crime_suspected": False,
            "receiving_officer": "Nguyễn Thị Tiếp Nhận",
        },
        "verification": {"has_basis": True, "findings": "Đã xác minh tại nhà và trường: thông tin có cơ sở.",
                         "sources": "Giáo viên chủ nhiệm, tổ trưởng tổ dân phố", "child_unsafe": True,
                         "verified_at": _iso(at)},
        "no_basis_signoff": {"confirm": True, "note": "Đồng ý kết thúc.", "signed_at": _iso(at)},
        "mau_02": {"assessed_at": _iso(at), "harm_life": rating, "harm_health": rating, "harm_dignity": rating,
                   "abuser_access": rating, "recurrence": rating, "caregiver_incapacity": rating,
                   "child_vulnerability": rating, "harm_by_caregiver": False, "emergency": False,
                   "proposal": "Tiếp tục thu thập thông tin, đánh giá cụ thể."},
        "emergency_decision": {"decided_at": _iso(at), "decision_number": "12/QĐ-UBND",
                               "measures": ["safe_residence", "medical_care"],
                               "measures_detail": "Đưa trẻ đến nhà bà ngoại; khám tại trạm y tế.",
                               "separate": True, "separation_start": _day(at),
                               "separation_end": _day(at, 14), "separation_place": "Nhà bà ngoại"},
        "separation_review": {"action": "cancel", "reason": "Cha mẹ đã cam kết và đủ khả năng bảo vệ trẻ.",
                              "decided_at": _iso(at)},
        "mau_03": {"assessed_at": _iso(at),
                   "physical_state": {"description": "Vết bầm đã mờ.", "rating": "thap"},
                   "psychological_state": {"description": "Còn lo âu.", "rating": "trung_binh"},
                   "family_situation": {"description": "Cha nghiện rượu.", "rating": "cao"},
                   "abuse_risk_factors": {"description": "Cha vẫn sống cùng nhà.", "rating": "cao"},
                   "schooling": {"description": "Đi học đều.", "rating": "thap"},
                   "community_support": {"description": "Hội phụ nữ phường sẵn sàng hỗ trợ.", "rating": "thap"},
                   "needs": {"counselling": {"needed": True, "detail": "Tư vấn tâm lý hằng tuần."},
                             "medical": {"needed": True, "detail": "Khám sức khoẻ định kỳ."}},
                   "child_views": "Muốn ở với mẹ và bà ngoại.",
                   "parents_views": [
                       {"relation": "father", "caused_harm": True,
                        "not_taken_reason": "Người cha là người gây tổn hại cho trẻ (Điều 27.1.h)."},
                       {"relation": "mother", "name": "Nguyễn Thị Mẹ", "caused_harm": False,
                        "views": "Mong con được hỗ trợ tâm lý, đồng ý hợp tác."}],
                   "summary": "Cần hỗ trợ tâm lý và can thiệp với người cha."},
        "needs_meeting": {"held_at": _iso(at), "place": "UBND phường", "chaired_by": "chairman",
                          "chair_name": "Lê Văn Chủ Tịch", "chair_position": "Chủ tịch UBND phường",
                          "participants": [
                              {"category": "responsible_body", "name": "Trần Văn Cán Bộ",
                               "organisation": "Cán bộ bảo vệ trẻ em"},
                              {"category": "residential_area", "name": "Đinh Văn Tổ Trưởng",
                               "organisation": "Tổ trưởng tổ dân phố"},
                              {"category": "parent_caregiver", "name": "Nguyễn Thị Mẹ", "organisation": "Mẹ của trẻ"}],
                          "needs": "Tư vấn tâm lý; giám sát gia đình.",
                          "conclusions": "Xây dựng kế hoạch hỗ trợ, can thiệp."},
        "needs_meeting_signoff": {"decision": "sign", "signed_at": _iso(at), "signer_name": "Lê Văn Chủ Tịch"},
        "mau_04": {"objectives": "Bảo đảm an toàn và phục hồi cho trẻ.", "drafted_at": _iso(at),
                   "activities": [
                       {"measure": "Tư vấn tâm lý hằng tuần", "level": "support", "assignee": "truonghoc",
                        "assignee_name": "Trường THCS Phan Đình Phùng", "responsible_body": "UBND xã, phường",
                        "provider": PROVIDERS[0][0], "start": _day(at), "end": _day(at, 30), "cost": 1200000,
                        "expected_result": "Trẻ ổn định tâm lý"},
                       {"measure": "Khám sức khoẻ định kỳ", "level": "intervention", "assignee": "yte",
                        "assignee_name": "Trạm Y tế phường", "responsible_body": "Trạm Y tế",
                        "start": _day(at), "end": _day(at, 20),
                        "cost": 500000, "expected_result": "Theo dõi sức khoẻ"},
                   ]},
        "mau_05": {"decision_number": "15/QĐ-UBND", "decision_date": _day(at),
                   "issuing_body": "UBND phường Phan Đình Phùng", "signer_name": "Lê Văn Chủ Tịch",
                   "distribution": [
                       {"kind": "responsible_body", "name": "Trường THCS Phan Đình Phùng", "sent_on": _day(at),
                        "means": "hand"},
                       {"kind": "responsible_body", "name": "Trạm Y tế phường", "sent_on": _day(at),
                        "means": "electronic"},
                       {"kind": "parents", "name": "Nguyễn Thị Mẹ", "sent_on": _day(at), "means": "hand"}]},
        "plan_approval": {"decision": "approve", "decision_number": "15/QĐ-UBND", "signed_at": _iso(at)},
        "activity_report": {"status": "done", "result": "Đã thực hiện đầy đủ.", "completed_on": _day(at)},
        "mau_06": {"reviewed_at": _iso(at), "participants": [{"name": "Trần Văn Cán Bộ", "role": "Chủ trì"}],
                   "harm_still_serious": {"rating": "thap"}, "abuser_can_reach_child": {"rating": "thap"},
                   "care_environment_obstacles": {"rating": "thap"}, "self_protection": {"rating": "cao"},
                   "recovery": {"rating": "cao"}, "physical_stable": True, "psychological_stable": True,
                   "cognitive_stable": True, "emotional_stable": True, "no_longer_at_risk": True,
                   "conclusion": "close"},
        "plan_end": {"decision": "end", "note": "Trẻ đã an toàn, ổn định.", "signed_at": _iso(at)},
        "police_referral": {"referred_at": _iso(at), "police_unit": "Công an phường", "reference": "CV 01"},
        "police_outcome": {"outcome": "prosecuted", "outcome_date": _day(at)},
        "escalation_ack": {"note": "Đã nhắc cán bộ xã hoàn thành.", "action_taken": "Gọi điện đôn đốc."},
        "transfer": {"to_commune": "T01-X02", "reason": "Gia đình chuyển đến xã Đại Từ."},
        "reopen": {"reason": "Có báo cáo mới về trẻ.", "new_report_summary": "Trẻ lại bị bạo lực."},
        # Art. 31 measures, the Mẫu 07 separation of Art. 32 and what follows it, the plan adjustment of Art. 29.1a
        "emergency_measures": {"decided_at": _iso(at), "measures": ["police_intervention", "medical_care"],
                               "measures_detail": "Công an phường ngăn chặn người cha; khám tại trạm y tế.",
                               "police_unit": "Công an phường Phan Đình Phùng", "separate": False},
        "separation_request": {"information_received_at": _iso(at - timedelta(minutes=20)),
                               "ground": "parents_refuse_plan",
                               "reason": "Cha mẹ từ chối thực hiện kế hoạch; trẻ tiếp tục bị đánh."},
        "mau_07": {"decision": "separate", "decided_at": _iso(at), "decision_number": "21/QĐ-UBND",
                   "ground": "risk_of_reabuse", "ground_detail": "Người cha tiếp tục đánh trẻ khi say rượu.",
                   "deciding_commune": "residence", "deciding_commune_name": "UBND phường Phan Đình Phùng",
                   "start": _day(at), "end": _day(at, 10), "care": "relative", "carer_name": "Nguyễn Thị Bà",
                   "carer_address": "Tổ 7, phường Phan Đình Phùng", "carer_contact": "0912000111",
                   "handed_over_at": _iso(at), "signer_name": "Lê Văn Chủ Tịch"},
        "court_request": {"court_name": "Tòa án nhân dân khu vực 1 - Thái Nguyên", "request_number": "05/ĐN-UBND",
                          "filed_at": _iso(at), "requests": ["continue_separation"], "proposed_until": _day(at, 30),
                          "grounds": "Đánh giá lại theo Mẫu số 03: người cha vẫn chưa bảo đảm an toàn cho trẻ."},
        "court_decision": {"court_name": "Tòa án nhân dân khu vực 1 - Thái Nguyên", "decision_number": "12/2026/QĐ-TA",
                           "decision_date": _day(at), "outcome": "granted", "until": _day(at, 30),
                           "content": "Tiếp tục tạm thời cách ly trẻ khỏi người cha."},
        "plan_adjustment": {"reason": "Trẻ chuyển sang ở với bà ngoại; cần thêm hỗ trợ học tập.",
                            "changes": "Thêm hoạt động hỗ trợ học tập; giữ tư vấn tâm lý.", "proposed_at": _iso(at),
                            "activities": [
                                {"measure": "Hỗ trợ học tập", "level": "support", "assignee": "truonghoc",
                                 "responsible_body": "Trường THCS Phan Đình Phùng", "start": _day(at),
                                 "end": _day(at, 25), "cost": 800000, "expected_result": "Trẻ theo kịp lớp"}]},
        "adjustment_approval": {"decision": "approve", "decision_number": "22/QĐ-UBND", "signed_at": _iso(at)},
    }[form]
    return {**data, **override}


@dataclass
class Cast:
    """The demo's actors by role (partners by username), as the engine sees them."""

    actors: dict[str, access.Actor]

    def for_task(self, task: Task) -> access.Actor:
        if task.role == "partner" or task.assignee in self.actors:  # a plan activity, or a step someone holds
            return self.actors[task.assignee]
        return next(a for a in self.actors.values()
                    if a.role == task.role and (a.commune_id in (None, task.commune_id))
                    and (a.province_id in (None, task.province_id)))


def cast(session: Session) -> Cast:
    users = session.scalars(select(User)).all()
    return Cast({u.username: access.Actor.of(u.username, u.role, u.org_unit, u.id) for u in users})


def open_tasks(session: Session, case_id: int) -> list[Task]:
    return list(session.scalars(select(Task).where(Task.case_id == case_id, Task.state == "ready").order_by(Task.id)))


def open_tasks_all(session: Session) -> list[Task]:
    """Every open task, oldest first (crash tests and benchmarks work through them)."""
    return list(session.scalars(select(Task).where(Task.state == "ready").order_by(Task.id)))


def drive(engine: Engine, session: Session, case: Case, people: Cast, *, at: datetime | None = None,
          choices: dict[str, dict[str, Any]] | None = None, stop_at: str | None = None,
          skip: Callable[[Task], bool] = lambda t: t.escalates_task_id is not None, max_steps: int = 60) -> list[str]:
    """Complete the case's open steps in order with sample data until `stop_at` is open or nothing is left.

    `choices[form]` overrides the sample's fields (e.g. {"verification": {"has_basis": False}}); a list of
    dicts is used one per completion of that form. Returns the steps completed, in order.
    """
    choices = choices or {}
    used: dict[str, int] = {}
    done: list[str] = []
    for _ in range(max_steps):
        tasks = [t for t in open_tasks(session, case.id) if not skip(t)]
        if not tasks or (stop_at and any(t.step == stop_at for t in tasks)):
            break
        task = tasks[0]
        override = choices.get(task.form, {})
        if isinstance(override, list):
            override = override[min(used.get(task.form, 0), len(override) - 1)]
        used[task.form] = used.get(task.form, 0) + 1
        engine.complete_task(session, people.for_task(task), task.id,
                             sample(task.form, at or clock.now(), **override))
        done.append(task.step)
    return done


def seed(session: Session, engine: Engine, password_method: str = "scrypt") -> bool:
    """Create the demo units, users and cases once; returns False when the database already has users."""
    if session.scalar(select(func.count()).select_from(User)):
        return False
    seed_people(session, password_method)
    seed_cases(session, engine)
    seed_privacy(session, engine)
    return True


def seed_people(session: Session, password_method: str = "scrypt") -> None:
    """The demo province, its two communes, one user per role (password DEMO_PASSWORD) and the service providers
    of the province and of the first commune."""
    now = clock.now()
    province = OrgUnit(code=PROVINCE[0], name=PROVINCE[1], kind="province")
    session.add(province)
    session.flush()
    units = {province.code: province}
    for code, name in COMMUNES:
        units[code] = OrgUnit(code=code, name=name, kind="commune", parent_id=province.id)
        session.add(units[code])
    session.flush()
    for username, full_name, role, unit in USERS:
        session.add(User(username=username, full_name=full_name, role=role,
                         org_unit_id=units[unit].id if unit else None, created_at=now,
                         password_hash=generate_password_hash(DEMO_PASSWORD, method=password_method),
                         locale="vi"))
    for code, name, kind, address, contact, unit in PROVIDERS:
        session.add(ServiceProvider(code=code, name=name, service_type=kind, address=address, contact=contact,
                                    unit_id=units[unit].id, active=True, created_at=now, created_by="demo"))
    session.commit()


def seed_cases(session: Session, engine: Engine) -> None:
    """Cases in every state: fresh, overdue, emergency with separation, awaiting approval, in intervention,
    ended without basis, closed."""
    now = clock.now()
    people = cast(session)
    intake = people.actors["tiepnhan"]

    def new_case(hours_ago: float, commune: str = "T01-X01", **mau01: Any) -> Case:
        at = now - timedelta(hours=hours_ago)
        report = sample("mau_01", at + timedelta(minutes=30), **mau01)
        return engine.open_case(session, intake, commune, report)

    # Fresh report, waiting for verification.
    new_case(1)
    # Overdue: received 3 days ago, never verified (the 12-hour limit has passed: escalated).
    new_case(72, child={"full_name": "Lê Thị Hoa", "estimated_age": 9, "sex": "female"})
    # Overdue in the second commune: plan not drafted 9 days after receipt.
    c = new_case(9 * 24, commune="T01-X02", child={"full_name": "Bùi Văn Tâm", "estimated_age": 14, "sex": "male"},
                 category="nguy_co_boc_lot", abuse_forms=["boc_lot"], environment="cong_dong")
    drive(engine, session, c, people, stop_at="draft_plan")
    # Emergency with temporary separation, then in detailed assessment.
    c = new_case(5, abuse_forms=["bao_luc", "xam_hai_tinh_duc"], crime_suspected=True,
                 child={"full_name": "Phạm Minh Khang", "date_of_birth": "2013-02-10", "sex": "male"})
    drive(engine, session, c, people, choices={"mau_02": {"emergency": True,
          "danger_description": "Trẻ bị cha đánh nhiều lần, có thương tích; nguy cơ bị đánh tiếp."},
          "emergency_measures": {"separate": True, "separation_reason": "Người cha là người gây tổn hại."}},
          stop_at="detailed_assessment")
    # ... and the chairman's Mẫu 07 decision that the emergency measures asked for (Art. 32): the child is with
    # her grandmother, the separation's review is open.
    decision = next(t for t in open_tasks(session, c.id) if t.step == "separation_decision")
    engine.complete_task(session, people.for_task(decision), decision.id, sample("mau_07", now))
    # Plan waiting for the chairman's approval.
    c = new_case(2, commune="T01-X02", child={"full_name": "Đỗ Thu Trang", "estimated_age": 12, "sex": "female"},
                 category="nguy_co_bo_roi", abuse_forms=["bo_mac"])
    # Its commune has no partner account of its own: the plan's activities go to the province's centre.
    activities = [{**a, "assignee": "ctxh", "assignee_name": "Trung tâm Công tác xã hội tỉnh (demo)"}
                  for a in sample("mau_04", now)["activities"]]
    drive(engine, session, c, people, stop_at="approve_plan", choices={"mau_04": {"activities": activities}})
    # Intervention under way: partners have activities.
    c = new_case(6, child={"full_name": "Vũ Đức Bảo", "estimated_age": 7, "sex": "male"})
    drive(engine, session, c, people, stop_at="carry_out_activity")
    # The incident in one commune, the child living in the other (issue 16): 111 heard first, the commune an hour
    # later; assessed where it happened (Art. 26.1), then routed to the residence commune for the plan (Law Art. 52.2).
    c = new_case(8, child={"full_name": "Lò Thị Mai", "estimated_age": 10, "sex": "female", "ethnicity": "03",
                           "current_caregiver": "Bà nội"},
                 residence_commune="T01-X02", commune_received_at=_iso(now - timedelta(hours=7)),
                 perpetrator_relationships=["cha_me_ke"], environment="gia_dinh", abuse_forms=["bao_luc"])
    drive(engine, session, c, people, stop_at="needs_meeting")
    # A report without basis, ended with the chairman's sign-off.
    c = new_case(3, child={"full_name": "Hoàng An Nhiên", "estimated_age": 5, "sex": "female"})
    drive(engine, session, c, people, choices={"verification": {
        "has_basis": False, "reason_no_basis": "Gia đình và nhà trường xác nhận không có sự việc."}})
    # A closed case, plan done and ended.
    c = new_case(4, child={"full_name": "Ngô Gia Huy", "estimated_age": 11, "sex": "male"})
    drive(engine, session, c, people)


def seed_privacy(session: Session, engine: Engine) -> None:
    """For the privacy pages (issue 18, /admin/privacy): the closed case's mother, recorded as its legal
    representative, asking for a copy of her son's file (received yesterday, waiting for its acknowledgement), and
    a breach discovered this morning, its 72-hour notice to A05 still to send. Not part of `seed_cases`, whose
    cases the web tests share."""
    now = clock.now()
    people = cast(session)
    case = session.scalar(select(Case).join(CaseChild, CaseChild.case_id == Case.id)
                          .where(CaseChild.full_name == "Ngô Gia Huy"))
    if case is None:
        raise LookupError("seed_cases first: the request is about the closed case of Ngô Gia Huy")
    mother = representatives.record(engine, session, people.actors["canbo"], case.id, {
        "full_name": "Đặng Thị Thu", "relation": "mother", "contact": "Tổ 7, phường Phan Đình Phùng; 0915 226 418",
        "id_number": "019186004512", "alleged_abuser": False})
    admin = people.actors["quantri"]
    data_requests.of(engine).receive(session, admin, {
        "case_number": case.number, "received_at": _iso(now - timedelta(days=1)),
        "requester_kind": "representative", "requester_name": "Đặng Thị Thu", "representative_id": mother.id,
        "request_type": "copy", "identity_document": "Căn cước công dân 019186004512", "channel": "Trực tiếp",
        "details": "Xin bản sao biên bản xác minh và kế hoạch hỗ trợ của con tôi để nộp cho nhà trường mới."})
    breaches.record(engine, session, admin, {
        "discovered_at": _iso(now - timedelta(hours=3)), "discovered_by": "Trần Văn Cán Bộ, công chức văn hóa – xã hội",
        "description": "Một bản in danh sách trẻ em đang được hỗ trợ để quên trên bàn tiếp dân của phường; người "
                       "dân chụp ảnh và gửi vào nhóm Zalo tổ dân phố trước khi cán bộ thu hồi.",
        "data_categories": ["identity", "location"], "subjects_count": 4, "risks": ["dignity"],
        "by_processor": False, "measures": "Đã thu hồi bản in, đề nghị người gửi gỡ ảnh khỏi nhóm Zalo."})


def banner(created: bool, url: str) -> str:
    lines = ["", "case56 — demo", f"  Mở / open: {url}",
             "  Dữ liệu mẫu đã tạo / demo data created" if created else "  Dữ liệu đã có / data already present",
             f"  Mật khẩu chung / password for every demo user: {DEMO_PASSWORD}", "  Người dùng / users:"]
    for username, full_name, role, _unit in USERS:
        lines.append(f"    {username:<10} {role:<10} {full_name}")
    return "\n".join(lines) + "\n"
