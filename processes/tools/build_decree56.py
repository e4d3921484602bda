#!/usr/bin/env python3
"""Generate ``processes/decree56.bpmn`` — the Decree 56/2017/NĐ-CP case procedure — from compact tables.

The committed ``decree56.bpmn`` is the output of this script: edit the tables below and re-run

    .venv/bin/python processes/tools/build_decree56.py          # write processes/decree56.bpmn
    .venv/bin/python processes/tools/build_decree56.py --check  # exit 1 if the file is out of date

The script writes both the semantic model (lanes = role keys, user tasks with spiffworkflow properties,
non-interrupting boundary timers naming the rules of ``processes/deadlines.toml``, escalation tasks in the
supervisor lane) and a complete BPMN DI laid out on a grid: one column per step, lanes as horizontal
swimlanes inside one participant, every timed task in its own column so that its escalation drops straight
down into the supervisor lane.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

OUT = Path(__file__).resolve().parents[1] / "decree56.bpmn"

PROCESS_ID = "decree56_case"
PROCESS_NAME = "Quy trình bảo vệ trẻ em theo NĐ 56/2017/NĐ-CP"
ND = "NĐ 56/2017/NĐ-CP"
LAW = "Luật Trẻ em 2016"

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}

# --------------------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------------------
PART_X, PART_Y = 100, 60  # participant origin; its header is 30 px wide, lanes start at PART_X + 30
LANE_HEADER = 30
COL0 = PART_X + 30 + LANE_HEADER + 30  # left edge of column 0
COLW = 170  # column pitch
TASK_W, TASK_H = 130, 90
GW = 50  # gateway size
EV = 36  # event size
TIMER_DX = 108  # boundary timer centre, measured from the task's left edge

# lane key -> (row heights, bottom padding); lanes are stacked top to bottom in this order
LANES: list[tuple[str, list[int], int]] = [
    ("intake", [120], 10),
    ("officer", [130, 150], 10),
    ("chairman", [160, 160], 30),
    ("partner", [330], 10),
    ("supervisor", [120, 90], 10),
]
LANE_PAD_TOP = 10

# --------------------------------------------------------------------------------------------------------
# The procedure
# --------------------------------------------------------------------------------------------------------


@dataclass
class Step:
    """A user task (and, with ``rule``, its boundary timer and supervisor escalation)."""

    key: str
    name: str
    lane: str
    form: str
    article: str
    title_en: str
    instructions: str
    rule: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


STEPS: dict[str, Step] = {
    s.key: s
    for s in [
        Step(
            "police_referral", "Chuyển thông tin cho cơ quan công an", "officer", "police_referral",
            f"Điều 25 khoản 3 {ND}", "Refer the report to the police",
            "Thông tin có dấu hiệu tội phạm: chuyển ngay thông tin và hồ sơ ban đầu cho cơ quan công an có "
            "thẩm quyền để giải quyết theo pháp luật tố tụng hình sự. Ghi rõ thời điểm chuyển, cơ quan và "
            "người nhận. Việc bảo vệ trẻ em vẫn tiếp tục song song.",
            rule="police_referral", extra={"track": "police"},
        ),
        Step(
            "police_outcome", "Ghi nhận kết quả xử lý của công an", "officer", "police_outcome",
            f"Điều 25 khoản 3 {ND}", "Record the police outcome",
            "Theo dõi và ghi nhận kết quả giải quyết của cơ quan công an (khởi tố, không khởi tố, chuyển cơ "
            "quan khác…). Bước này không làm gián đoạn việc hỗ trợ, can thiệp cho trẻ em.",
            extra={"track": "police"},
        ),
        Step(
            "verify", "Xác minh thông tin", "officer", "verification",
            f"Điều 25 khoản 2, Điều 26 khoản 1 {ND}", "Verify the report",
            "Kiểm tra tính xác thực của thông tin, tình trạng an toàn và mức độ nguy cơ đối với trẻ em. Có "
            "thể đề nghị nhà trường, cơ sở y tế và cá nhân, tổ chức liên quan cung cấp thông tin. Kết luận "
            "thông tin có cơ sở hay không và nêu rõ lý do.",
            rule="verify",
        ),
        Step(
            "no_basis_signoff", "Xác nhận thông tin không có cơ sở", "chairman", "no_basis_signoff",
            f"Điều 26 {ND}", "Sign off: the report has no basis",
            "Xem xét kết quả xác minh và lý do thông tin không có cơ sở. Nếu đồng ý, Chủ tịch UBND cấp xã "
            "ký xác nhận để kết thúc hồ sơ; nếu chưa đủ căn cứ, yêu cầu xác minh lại.",
            rule="no_basis_signoff",
        ),
        Step(
            "initial_assessment", "Đánh giá nguy cơ ban đầu (Mẫu số 02)", "officer", "mau_02",
            f"Điều 26 khoản 2, khoản 3 {ND}", "Initial risk assessment (Form 02)",
            "Theo chỉ đạo của Chủ tịch UBND cấp xã, đánh giá nguy cơ ban đầu và mức độ tổn hại đối với trẻ "
            "em, lập báo cáo theo Mẫu số 02. Nêu rõ trẻ em có đang bị hoặc có nguy cơ bị tổn hại nghiêm trọng "
            "đến tính mạng, sức khỏe, nhân phẩm hay không và lý do.",
            rule="initial_assessment",
        ),
        Step(
            "emergency_decision", "Quyết định biện pháp khẩn cấp, cách ly tạm thời", "chairman",
            "emergency_decision", f"Điều 26 khoản 3, Điều 31, Điều 32 {ND}",
            "Emergency measures / temporary separation decision",
            "Trong vòng 12 giờ kể từ khi nhận được thông tin, Chủ tịch UBND cấp xã quyết định áp dụng biện "
            "pháp can thiệp khẩn cấp (nơi tạm trú an toàn, chăm sóc y tế, chăm sóc thay thế…) hoặc tách trẻ em "
            "khỏi môi trường, người gây tổn hại. Nếu cách ly tạm thời, ghi rõ ngày bắt đầu và ngày kết thúc "
            "(không quá 15 ngày, trừ khi cơ quan có thẩm quyền yêu cầu).",
            rule="emergency",
        ),
        Step(
            "separation_review", "Xem xét gia hạn hoặc chấm dứt cách ly", "chairman", "separation_review",
            f"Điều 32 {ND}", "Extend or end the temporary separation",
            "Trước khi hết thời hạn cách ly tạm thời, xem xét tình trạng của trẻ em và khả năng bảo đảm an "
            "toàn của cha mẹ, người chăm sóc. Quyết định gia hạn (ghi ngày kết thúc mới) hoặc chấm dứt cách ly "
            "khi cha mẹ, người chăm sóc có khả năng bảo đảm an toàn cho trẻ em.",
            rule="separation",
        ),
        Step(
            "detailed_assessment", "Thu thập thông tin, đánh giá nguy cơ cụ thể (Mẫu số 03)", "officer",
            "mau_03", f"Điều 27 {ND}", "Information collection and detailed risk assessment (Form 03)",
            "Thu thập thông tin và đánh giá nguy cơ cụ thể theo Mẫu số 03: tình trạng thể chất, tâm lý, tình "
            "cảm của trẻ em; hoàn cảnh gia đình, các mối quan hệ và khả năng bảo vệ của cha mẹ, gia đình. Có "
            "thể đề nghị Tổng đài 111 và cơ sở cung cấp dịch vụ hỗ trợ.",
            rule="plan",
        ),
        Step(
            "needs_meeting", "Họp xác định nhu cầu hỗ trợ, can thiệp", "officer", "needs_meeting",
            f"Điều 27 {ND}", "Needs-determination meeting",
            "Tổ chức cuộc họp xác định nhu cầu hỗ trợ, can thiệp với các cơ quan, tổ chức có trách nhiệm, đại "
            "diện khu dân cư và cha mẹ, người chăm sóc trẻ em. Lập biên bản cuộc họp.",
            rule="plan",
        ),
        Step(
            "draft_plan", "Xây dựng kế hoạch hỗ trợ, can thiệp (Mẫu số 04)", "officer", "mau_04",
            f"Điều 28 {ND}", "Draft the support and intervention plan (Form 04)",
            "Trong 05 ngày làm việc (trừ trường hợp khẩn cấp), xây dựng kế hoạch hỗ trợ, can thiệp theo Mẫu "
            "số 04. Mỗi hoạt động ghi rõ biện pháp, người hoặc tổ chức thực hiện, thời gian bắt đầu và kết "
            "thúc, nguồn lực và kết quả mong đợi.",
            rule="plan",
        ),
        Step(
            "draft_decision", "Dự thảo quyết định phê duyệt kế hoạch (Mẫu số 05)", "officer", "mau_05",
            f"Điều 28 {ND}", "Draft the approval decision (Form 05) and submit the dossier",
            "Dự thảo quyết định phê duyệt kế hoạch theo Mẫu số 05 và trình Chủ tịch UBND cấp xã kèm hồ sơ: "
            "báo cáo tiếp nhận và đánh giá nguy cơ ban đầu, báo cáo đánh giá nguy cơ cụ thể kèm biên bản "
            "họp, dự thảo quyết định kèm kế hoạch.",
            rule="plan",
        ),
        Step(
            "approve_plan", "Phê duyệt kế hoạch hỗ trợ, can thiệp", "chairman", "plan_approval",
            f"Điều 52 {LAW}; Điều 28 {ND}", "Approve the plan",
            "Chủ tịch UBND cấp xã xem xét hồ sơ và ký quyết định phê duyệt kế hoạch hỗ trợ, can thiệp, hoặc "
            "trả lại để hoàn thiện, nêu rõ nội dung cần sửa.",
            rule="approval",
        ),
        Step(
            "carry_out_activity", "Thực hiện hoạt động trong kế hoạch", "partner", "activity_report",
            f"Điều 29 {ND}; Điều 52 khoản 2 {LAW}", "Carry out a plan activity",
            "Cơ quan, tổ chức, cá nhân được phân công thực hiện hoạt động hỗ trợ, can thiệp theo kế hoạch đã "
            "được phê duyệt, trong thời hạn ghi trong kế hoạch. Báo cáo kết quả cho người làm công tác bảo vệ "
            "trẻ em cấp xã.",
            rule="activity",
            extra={"assignee_expr": 'activity["assignee"]'},
        ),
        Step(
            "review", "Rà soát, đánh giá (Mẫu số 06)", "officer", "mau_06",
            f"Điều 30 {ND}", "Review (Form 06)",
            "Chủ trì rà soát, đánh giá việc thực hiện kế hoạch cùng các bên tham gia và lập báo cáo theo Mẫu "
            "số 06. Kết luận trẻ em còn nguy cơ hay không: đề xuất kết thúc kế hoạch hoặc xây dựng kế hoạch "
            "mới.",
            rule="review",
        ),
        Step(
            "end_plan", "Quyết định kết thúc kế hoạch, đóng hồ sơ", "chairman", "plan_end",
            f"Điều 30 khoản 1 {ND}", "End the plan and close the case",
            "Khi trẻ em không còn nguy cơ và tình trạng thể chất, tâm lý, nhận thức, tình cảm đã ổn định, Chủ "
            "tịch UBND cấp xã quyết định kết thúc kế hoạch và đóng hồ sơ. Nếu chưa đủ điều kiện, yêu cầu xây "
            "dựng kế hoạch mới.",
            rule="plan_end",
        ),
    ]
}

START = {
    "id": "Start_receive",
    "name": "Tiếp nhận thông tin (Mẫu số 01)",
    "props": {"form": "mau_01", "step": "receive", "article": f"Điều 25 {ND}",
              "title_en": "Receive the report (Form 01)"},
    "instructions": "Ghi nhận ngay thông tin về trẻ em bị xâm hại hoặc có nguy cơ bị bạo lực, bóc lột, bỏ rơi "
                    "vào Mẫu số 01, ghi rõ giờ, ngày tiếp nhận. Chuyển ngay thông tin đến UBND cấp xã nơi xảy ra "
                    "sự việc.",
}

# Nodes other than user tasks: id -> (kind, name, lane, row, col)
#   kinds: start, end, xor (exclusive gateway), and (parallel gateway), script, task:<step key>, sub
NODES: dict[str, tuple[str, str, str, int, float]] = {
    "Start_receive": ("start", START["name"], "intake", 0, 0),
    "Gateway_tracks": ("and", "", "intake", 0, 1),
    "Gateway_crime": ("xor", "Có dấu hiệu tội phạm?", "intake", 0, 2),
    "End_no_crime": ("end", "Không có dấu hiệu tội phạm", "intake", 0, 3),
    "Task_police_referral": ("task:police_referral", "", "officer", 0, 4),
    "Task_police_outcome": ("task:police_outcome", "", "officer", 0, 5),
    "End_police": ("end", "Kết thúc luồng tố tụng", "officer", 0, 6),
    "Gateway_merge_verify": ("xor", "", "officer", 1, 2),
    "Task_verify": ("task:verify", "", "officer", 1, 3),
    "Gateway_has_basis": ("xor", "Thông tin có cơ sở?", "officer", 1, 4),
    "Task_no_basis_signoff": ("task:no_basis_signoff", "", "chairman", 0, 5),
    "Gateway_no_basis_confirm": ("xor", "Xác nhận kết thúc?", "chairman", 0, 6),
    "End_no_basis": ("end", "Kết thúc: thông tin không có cơ sở", "chairman", 0, 7),
    "Task_initial_assessment": ("task:initial_assessment", "", "officer", 1, 7),
    "Gateway_emergency": ("xor", "Nguy cơ tổn hại nghiêm trọng?", "officer", 1, 8),
    "Task_emergency_decision": ("task:emergency_decision", "", "chairman", 0, 9),
    "Gateway_separate": ("xor", "Cách ly tạm thời?", "chairman", 0, 10),
    "Script_separation": ("script", "Ghi nhận thời hạn cách ly", "chairman", 0, 11),
    "Gateway_separation_fork": ("and", "", "chairman", 0, 12),
    "Gateway_merge_separation_review": ("xor", "", "chairman", 1, 12),
    "Task_separation_review": ("task:separation_review", "", "chairman", 1, 13),
    "Gateway_separation_action": ("xor", "Gia hạn cách ly?", "chairman", 1, 14),
    "End_separation": ("end", "Chấm dứt cách ly tạm thời", "chairman", 0, 14),
    "Script_extend_separation": ("script", "Cập nhật thời hạn cách ly", "chairman", 1, 15),
    "Gateway_merge_detailed": ("xor", "", "officer", 1, 15),
    "Task_detailed_assessment": ("task:detailed_assessment", "", "officer", 1, 16),
    "Task_needs_meeting": ("task:needs_meeting", "", "officer", 1, 17),
    "Gateway_merge_replan": ("xor", "", "officer", 0, 18),
    "Gateway_merge_plan": ("xor", "", "officer", 1, 18),
    "Task_draft_plan": ("task:draft_plan", "", "officer", 1, 19),
    "Task_draft_decision": ("task:draft_decision", "", "officer", 1, 20),
    "Task_approve_plan": ("task:approve_plan", "", "chairman", 0, 21),
    "Gateway_approval": ("xor", "Phê duyệt?", "chairman", 0, 22),
    "Script_assign": ("script", "Giao hoạt động", "chairman", 0, 23),
    "Sub_intervention": ("sub", "Tổ chức thực hiện kế hoạch (mỗi hoạt động một nhánh)", "partner", 0, 24),
    "Task_review": ("task:review", "", "officer", 1, 27),
    "Gateway_review": ("xor", "Đề xuất kết thúc kế hoạch?", "officer", 1, 28),
    "Task_end_plan": ("task:end_plan", "", "chairman", 0, 29),
    "Gateway_plan_end": ("xor", "Kết thúc kế hoạch?", "chairman", 0, 30),
    "End_closed": ("end", "Kết thúc kế hoạch, đóng hồ sơ", "chairman", 0, 31),
}
SUB_COLS = 3  # Sub_intervention spans this many columns

SCRIPTS = {
    "Script_separation": 'separation = {"start": emergency_decision["separation_start"], '
                         '"end": emergency_decision["separation_end"]}',
    "Script_extend_separation": 'separation = {"start": separation["start"], "end": separation_review["new_end"]}',
    # activity_results collects one {"activity", "report"} per plan activity (the MI loop output); it is reset
    # here because SpiffWorkflow refuses to start a multi-instance whose output list is already non-empty.
    "Script_assign": 'activities = mau_04["activities"]\nactivity_results = []',
    "Script_record_activity": 'activity_result = {"activity": activity, "report": activity_report}',
}

# Inside Sub_intervention (coordinates relative to the subprocess's top-left corner)
SUB_NODES: dict[str, tuple[str, str, float, float]] = {
    "Sub_start": ("start", "", 45, 100),
    "Task_carry_out_activity": ("task:carry_out_activity", "", 150, 100),
    "Script_record_activity": ("script", "Ghi nhận kết quả hoạt động", 310, 100),
    "Sub_end": ("end", "", 425, 100),
}
# An activity's branch ends when its report is recorded, even while the supervisor's acknowledgement of its
# late deadline is still open: that oversight step must not hold up the review (it is cancelled, with its reason).
TERMINATE = {"Sub_end"}
SUB_ESC_Y = 230  # centre of the escalation row inside the subprocess
SUB_W, SUB_H = 3 * COLW - (COLW - TASK_W), 300

# Sequence flows: (source, target, name, condition, default?, route)
#   routes: "auto" (straight or Z through the gutter right of the source), "vh" (leave by the top/bottom,
#   enter from the side), "hv" (leave by the side, enter top/bottom), "v" (straight vertical),
#   ("via", channel): leave and enter by top/bottom, run horizontally along a channel (see Layout.channel),
#   "up_left": leave by the top, enter the target's right side.
C = "auto"
FLOWS: list[tuple[str, str, str, str | None, bool, object]] = [
    ("Start_receive", "Gateway_tracks", "", None, False, C),
    ("Gateway_tracks", "Gateway_crime", "Luồng tố tụng", None, False, C),
    ("Gateway_tracks", "Gateway_merge_verify", "Luồng bảo vệ", None, False, "vh"),
    ("Gateway_crime", "Task_police_referral", "Có", 'mau_01["crime_suspected"] == True', False, "vh"),
    ("Gateway_crime", "End_no_crime", "Không", None, True, C),
    ("Task_police_referral", "Task_police_outcome", "", None, False, C),
    ("Task_police_outcome", "End_police", "", None, False, C),
    ("Gateway_merge_verify", "Task_verify", "", None, True, C),
    ("Task_verify", "Gateway_has_basis", "", None, False, C),
    ("Gateway_has_basis", "Task_initial_assessment", "Có", 'verification["has_basis"] == True', False, C),
    ("Gateway_has_basis", "Task_no_basis_signoff", "Không", None, True, "vh"),
    ("Task_no_basis_signoff", "Gateway_no_basis_confirm", "", None, False, C),
    ("Gateway_no_basis_confirm", "End_no_basis", "Đồng ý", 'no_basis_signoff["confirm"] == True', False, C),
    ("Gateway_no_basis_confirm", "Gateway_merge_verify", "Xác minh lại", None, True, ("via", "chairman.0")),
    ("Task_initial_assessment", "Gateway_emergency", "", None, False, C),
    ("Gateway_emergency", "Task_emergency_decision", "Có", 'mau_02["emergency"] == True', False, "vh"),
    ("Gateway_emergency", "Gateway_merge_detailed", "Không", None, True, C),
    ("Task_emergency_decision", "Gateway_separate", "", None, False, C),
    ("Gateway_separate", "Script_separation", "Có", 'emergency_decision["separate"] == True', False, C),
    ("Gateway_separate", "Gateway_merge_detailed", "Không", None, True, ("via", "officer.1")),
    ("Script_separation", "Gateway_separation_fork", "", None, False, C),
    ("Gateway_separation_fork", "Gateway_merge_separation_review", "", None, False, "v"),
    ("Gateway_separation_fork", "Gateway_merge_detailed", "", None, False, ("via", "chairman.top")),
    ("Gateway_merge_separation_review", "Task_separation_review", "", None, True, C),
    ("Task_separation_review", "Gateway_separation_action", "", None, False, C),
    ("Gateway_separation_action", "Script_extend_separation", "Gia hạn",
     'separation_review["action"] == "extend"', False, C),
    ("Gateway_separation_action", "End_separation", "Chấm dứt", None, True, "v"),
    ("Script_extend_separation", "Gateway_merge_separation_review", "", None, False, ("via", "chairman.1")),
    ("Gateway_merge_detailed", "Task_detailed_assessment", "", None, True, C),
    ("Task_detailed_assessment", "Task_needs_meeting", "", None, False, C),
    ("Task_needs_meeting", "Gateway_merge_plan", "", None, False, C),
    ("Gateway_merge_replan", "Gateway_merge_plan", "", None, True, "v"),
    ("Gateway_merge_plan", "Task_draft_plan", "", None, True, C),
    ("Task_draft_plan", "Task_draft_decision", "", None, False, C),
    ("Task_draft_decision", "Task_approve_plan", "", None, False, C),
    ("Task_approve_plan", "Gateway_approval", "", None, False, C),
    ("Gateway_approval", "Script_assign", "Phê duyệt", 'plan_approval["decision"] == "approve"', False, C),
    ("Gateway_approval", "Gateway_merge_plan", "Trả lại", None, True, ("via", "chairman.0")),
    ("Script_assign", "Sub_intervention", "", None, False, C),
    ("Sub_intervention", "Task_review", "", None, False, C),
    ("Task_review", "Gateway_review", "", None, False, C),
    ("Gateway_review", "Task_end_plan", "Có", 'mau_06["conclusion"] == "close"', False, C),
    ("Gateway_review", "Gateway_merge_replan", "Kế hoạch mới", None, True, "up_left"),
    ("Task_end_plan", "Gateway_plan_end", "", None, False, C),
    ("Gateway_plan_end", "End_closed", "Kết thúc", 'plan_end["decision"] == "end"', False, C),
    ("Gateway_plan_end", "Gateway_merge_replan", "Kế hoạch mới", None, True, ("via", "intake.0")),
]
SUB_FLOWS: list[tuple[str, str]] = [
    ("Sub_start", "Task_carry_out_activity"),
    ("Task_carry_out_activity", "Script_record_activity"),
    ("Script_record_activity", "Sub_end"),
]

# --------------------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------------------


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def side(self, which: str) -> tuple[float, float]:
        return {
            "left": (self.x, self.cy),
            "right": (self.right, self.cy),
            "top": (self.cx, self.y),
            "bottom": (self.cx, self.bottom),
        }[which]


def kind_size(kind: str) -> tuple[float, float]:
    if kind in ("start", "end", "timer"):
        return EV, EV
    if kind in ("xor", "and"):
        return GW, GW
    return TASK_W, TASK_H


class Layout:
    def __init__(self) -> None:
        self.lanes: dict[str, Box] = {}
        self.row_cy: dict[tuple[str, int], float] = {}
        self.channel: dict[str, float] = {}
        y = PART_Y
        self.max_col = max(c for *_, c in NODES.values()) + 1
        width = COL0 - PART_X + self.max_col * COLW + 40
        for lane, rows, pad_bottom in LANES:
            top = y
            ry = top + LANE_PAD_TOP
            for i, h in enumerate(rows):
                self.row_cy[(lane, i)] = ry + h / 2
                ry += h
            height = LANE_PAD_TOP + sum(rows) + pad_bottom
            self.lanes[lane] = Box(PART_X + 30, top, width - 30, height)
            y += height
        self.participant = Box(PART_X, PART_Y, width, y - PART_Y)
        # horizontal channels used by loop-back flows
        self.channel["chairman.top"] = self.lanes["chairman"].y + 22
        for lane, rows, _ in LANES:
            for i in range(len(rows)):
                cy = self.row_cy[(lane, i)]
                if lane == "intake":
                    self.channel[f"{lane}.{i}"] = cy
                elif lane == "officer":
                    # the channel above an officer row, clear of the row above and its timers
                    self.channel[f"{lane}.{i}"] = cy - TASK_H / 2 - 25
                else:
                    # the channel below a row, clear of its tasks' boundary timers
                    self.channel[f"{lane}.{i}"] = cy + TASK_H / 2 + EV / 2 + 12
        self.boxes: dict[str, Box] = {}
        self.kinds: dict[str, str] = {}
        for nid, (kind, _name, lane, row, col) in NODES.items():
            self.kinds[nid] = kind
            cx = COL0 + col * COLW + TASK_W / 2
            cy = self.row_cy[(lane, row)]
            if kind == "sub":
                x = COL0 + col * COLW
                top = self.lanes[lane].y + 20
                self.boxes[nid] = Box(x, top, SUB_W, SUB_H)
            else:
                w, h = kind_size(kind)
                self.boxes[nid] = Box(cx - w / 2, cy - h / 2, w, h)
        sub = self.boxes["Sub_intervention"]
        for nid, (kind, _name, rx, ry) in SUB_NODES.items():
            self.kinds[nid] = kind
            w, h = kind_size(kind)
            self.boxes[nid] = Box(sub.x + rx - w / 2, sub.y + ry - h / 2, w, h)
        # boundary timers and escalations
        self.escalations: list[tuple[str, str]] = []  # (step key, container: "" or sub id)
        for nid, kind in list(self.kinds.items()):
            if not kind.startswith("task:"):
                continue
            step = STEPS[kind[5:]]
            if not step.rule:
                continue
            host = self.boxes[nid]
            tx = host.x + TIMER_DX
            self.boxes[f"Timer_{step.key}"] = Box(tx - EV / 2, host.bottom - EV / 2, EV, EV)
            self.kinds[f"Timer_{step.key}"] = "timer"
            if nid in SUB_NODES:
                ecx, ecy = tx, sub.y + SUB_ESC_Y
                end_c = (ecx + TASK_W / 2 + 55, ecy)
                self.escalations.append((step.key, "Sub_intervention"))
            else:
                ecx, ecy = tx, self.row_cy[("supervisor", 0)]
                end_c = (tx, self.row_cy[("supervisor", 1)])
                self.escalations.append((step.key, ""))
            self.boxes[f"Task_escalate_{step.key}"] = Box(ecx - TASK_W / 2, ecy - TASK_H / 2, TASK_W, TASK_H)
            self.kinds[f"Task_escalate_{step.key}"] = f"escalate:{step.key}"
            self.boxes[f"End_escalate_{step.key}"] = Box(end_c[0] - EV / 2, end_c[1] - EV / 2, EV, EV)
            self.kinds[f"End_escalate_{step.key}"] = "end"

    def route(self, src: str, tgt: str, how: object) -> list[tuple[float, float]]:
        s, t = self.boxes[src], self.boxes[tgt]
        if how == "auto":
            if abs(s.cy - t.cy) < 0.5:
                return [s.side("right"), t.side("left")]
            col = int((s.x - COL0) // COLW) if src != "Sub_intervention" else int((s.right - COL0) // COLW)
            gx = COL0 + col * COLW + TASK_W + (COLW - TASK_W) / 2
            return [s.side("right"), (gx, s.cy), (gx, t.cy), t.side("left")]
        if how == "vh":
            p = s.side("bottom") if t.cy > s.cy else s.side("top")
            return [p, (s.cx, t.cy), t.side("left")]
        if how == "hv":
            q = t.side("top") if t.cy > s.cy else t.side("bottom")
            return [s.side("right"), (t.cx, s.cy), q]
        if how == "v":
            if t.cy > s.cy:
                return [s.side("bottom"), t.side("top")]
            return [s.side("top"), t.side("bottom")]
        if how == "up_left":
            return [s.side("top"), (s.cx, t.cy), t.side("right")]
        if isinstance(how, tuple):
            _via, channel = how
            y = self.channel[channel]
            leave = s.side("top") if y < s.cy else s.side("bottom")
            enter = t.side("top") if y < t.cy else t.side("bottom")
            return [leave, (s.cx, y), (t.cx, y), enter]
        raise ValueError(how)


def flow_id(src: str, tgt: str) -> str:
    def short(n: str) -> str:
        for p in ("Task_", "Gateway_", "Script_", "End_", "Start_", "Timer_", "Sub_"):
            if n.startswith(p):
                return n[len(p):]
        return n

    return f"Flow_{short(src)}__{short(tgt)}"


# --------------------------------------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------------------------------------


def q(prefix: str, tag: str) -> str:
    return f"{{{NS[prefix]}}}{tag}"


def fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


class Builder:
    def __init__(self) -> None:
        self.lay = Layout()
        self.flows: list[dict] = []  # id, src, tgt, name, cond, default, points, container
        self.names: dict[str, str] = {}
        self.incoming: dict[str, list[str]] = {}
        self.outgoing: dict[str, list[str]] = {}

    # ---- semantic ---------------------------------------------------------------------------------------
    def add_flow(self, src, tgt, name="", cond=None, default=False, how="auto", container=""):
        fid = flow_id(src, tgt)
        assert fid not in self.incoming.get(tgt, []) and all(f["id"] != fid for f in self.flows), fid
        pts = self.lay.route(src, tgt, how)
        self.flows.append(dict(id=fid, src=src, tgt=tgt, name=name, cond=cond, default=default,
                               points=pts, container=container))
        self.outgoing.setdefault(src, []).append(fid)
        self.incoming.setdefault(tgt, []).append(fid)

    def collect_flows(self) -> None:
        for src, tgt, name, cond, default, how in FLOWS:
            self.add_flow(src, tgt, name, cond, default, how)
        for src, tgt in SUB_FLOWS:
            self.add_flow(src, tgt, container="Sub_intervention")
        for key, container in self.lay.escalations:
            t = self.lay.boxes[f"Timer_{key}"]
            e = self.lay.boxes[f"Task_escalate_{key}"]
            self.add_flow(f"Timer_{key}", f"Task_escalate_{key}", how="v", container=container)
            # a timer's flow leaves from the bottom of the boundary event
            self.flows[-1]["points"] = [t.side("bottom"), e.side("top")]
            self.add_flow(f"Task_escalate_{key}", f"End_escalate_{key}",
                          how="v" if not container else "auto", container=container)

    def extension(self, parent, props: dict[str, str], instructions: str | None) -> None:
        ext = etree.SubElement(parent, q("bpmn", "extensionElements"))
        if instructions:
            etree.SubElement(ext, q("spiffworkflow", "instructionsForEndUser")).text = instructions
        pe = etree.SubElement(ext, q("spiffworkflow", "properties"))
        for k, v in props.items():
            etree.SubElement(pe, q("spiffworkflow", "property"), name=k, value=v)

    def io(self, el, nid: str) -> None:
        for f in self.incoming.get(nid, []):
            etree.SubElement(el, q("bpmn", "incoming")).text = f
        for f in self.outgoing.get(nid, []):
            etree.SubElement(el, q("bpmn", "outgoing")).text = f

    def user_task(self, parent, step: Step) -> None:
        nid = f"Task_{step.key}"
        el = etree.SubElement(parent, q("bpmn", "userTask"), id=nid, name=step.name)
        props = {"form": step.form, "step": step.key, "article": step.article, "title_en": step.title_en}
        props.update(step.extra)
        self.extension(el, props, step.instructions)
        self.io(el, nid)
        self.names[nid] = step.name

    def escalation(self, parent, step: Step) -> None:
        nid = f"Task_escalate_{step.key}"
        name = f"Xử lý quá hạn: {step.name}"
        el = etree.SubElement(parent, q("bpmn", "userTask"), id=nid, name=name)
        props = {
            "form": "escalation_ack",
            "step": f"escalate_{step.key}",
            "escalates": step.key,
            "article": step.article,
            "title_en": f"Overdue: {step.title_en}",
            "role": "supervisor",
        }
        if "track" in step.extra:  # a late police step's escalation belongs to the police track too
            props["track"] = step.extra["track"]
        instr = (f"Bước “{step.name}” đã quá thời hạn ({step.article}). Cấp tỉnh xem xét nguyên nhân, đôn đốc "
                 "cấp xã thực hiện và ghi nhận chỉ đạo; không sửa các biểu mẫu pháp lý của hồ sơ.")
        self.extension(el, props, instr)
        self.io(el, nid)
        self.names[nid] = name
        tid = f"Timer_{step.key}"
        host = f"Task_{step.key}"
        be = etree.SubElement(parent, q("bpmn", "boundaryEvent"), id=tid, cancelActivity="false",
                              attachedToRef=host)
        self.io(be, tid)
        td = etree.SubElement(be, q("bpmn", "timerEventDefinition"), id=f"TimerDef_{step.key}")
        expr = etree.SubElement(td, q("bpmn", "timeDate"))
        expr.set(q("xsi", "type"), "bpmn:tFormalExpression")
        expr.text = f'deadline("{step.rule}")'
        eid = f"End_escalate_{step.key}"
        end = etree.SubElement(parent, q("bpmn", "endEvent"), id=eid, name="Đã xử lý quá hạn")
        self.io(end, eid)
        self.names[eid] = "Đã xử lý quá hạn"

    def node(self, parent, nid: str, kind: str, name: str) -> None:
        if kind.startswith("task:"):
            self.user_task(parent, STEPS[kind[5:]])
            return
        attrs = {"id": nid}
        if name:
            attrs["name"] = name
            self.names[nid] = name
        if kind == "start":
            el = etree.SubElement(parent, q("bpmn", "startEvent"), **attrs)
            if nid == "Start_receive":
                self.extension(el, START["props"], START["instructions"])
        elif kind == "end":
            el = etree.SubElement(parent, q("bpmn", "endEvent"), **attrs)
        elif kind == "xor":
            outs = [f for f in self.flows if f["src"] == nid]
            defaults = [f["id"] for f in outs if f["default"]]
            if len(outs) == 1 and not defaults:
                defaults = [outs[0]["id"]]
            el = etree.SubElement(parent, q("bpmn", "exclusiveGateway"), default=defaults[0], **attrs)
        elif kind == "and":
            el = etree.SubElement(parent, q("bpmn", "parallelGateway"), **attrs)
        elif kind == "script":
            el = etree.SubElement(parent, q("bpmn", "scriptTask"), scriptFormat="python", **attrs)
        else:
            raise ValueError(kind)
        self.io(el, nid)
        if kind == "script":
            etree.SubElement(el, q("bpmn", "script")).text = SCRIPTS[nid]
        if nid in TERMINATE:
            etree.SubElement(el, q("bpmn", "terminateEventDefinition"), id=f"{nid}_terminate")

    def flow_elements(self, parent, container: str) -> None:
        for f in self.flows:
            if f["container"] != container:
                continue
            attrs = {"id": f["id"], "sourceRef": f["src"], "targetRef": f["tgt"]}
            if f["name"]:
                attrs["name"] = f["name"]
                self.names[f["id"]] = f["name"]
            el = etree.SubElement(parent, q("bpmn", "sequenceFlow"), **attrs)
            if f["cond"]:
                ce = etree.SubElement(el, q("bpmn", "conditionExpression"))
                ce.set(q("xsi", "type"), "bpmn:tFormalExpression")
                ce.text = f["cond"]

    def subprocess(self, parent, nid: str, name: str) -> None:
        el = etree.SubElement(parent, q("bpmn", "subProcess"), id=nid, name=name)
        self.names[nid] = name
        self.io(el, nid)
        mi = etree.SubElement(el, q("bpmn", "multiInstanceLoopCharacteristics"))
        etree.SubElement(mi, q("bpmn", "loopDataInputRef")).text = "activities"
        etree.SubElement(mi, q("bpmn", "loopDataOutputRef")).text = "activity_results"
        etree.SubElement(mi, q("bpmn", "inputDataItem"), id="activity", name="activity")
        etree.SubElement(mi, q("bpmn", "outputDataItem"), id="activity_result", name="activity_result")
        for sid, (kind, sname, _x, _y) in SUB_NODES.items():
            self.node(el, sid, kind, sname)
        for key, container in self.lay.escalations:
            if container == nid:
                self.escalation(el, STEPS[key])
        self.flow_elements(el, nid)

    def build(self) -> bytes:
        self.collect_flows()
        root = etree.Element(q("bpmn", "definitions"), nsmap=NS, id="Definitions_decree56",
                             targetNamespace="https://case56.example/bpmn/decree56",
                             exporter="case56 processes/tools/build_decree56.py", exporterVersion="1")
        collab = etree.SubElement(root, q("bpmn", "collaboration"), id="Collaboration_decree56")
        etree.SubElement(collab, q("bpmn", "participant"), id="Participant_decree56", name=PROCESS_NAME,
                         processRef=PROCESS_ID)
        proc = etree.SubElement(root, q("bpmn", "process"), id=PROCESS_ID, name=PROCESS_NAME,
                                isExecutable="true")
        lane_set = etree.SubElement(proc, q("bpmn", "laneSet"), id="LaneSet_roles")
        members: dict[str, list[str]] = {lane: [] for lane, *_ in LANES}
        for nid in NODES:
            members[NODES[nid][2]].append(nid)
        for key, container in self.lay.escalations:
            if not container:
                members[NODES[f"Task_{key}"][2]].append(f"Timer_{key}")
                members["supervisor"] += [f"Task_escalate_{key}", f"End_escalate_{key}"]
        for lane, *_ in LANES:
            le = etree.SubElement(lane_set, q("bpmn", "lane"), id=f"Lane_{lane}", name=lane)
            for nid in members[lane]:
                etree.SubElement(le, q("bpmn", "flowNodeRef")).text = nid
        for nid, (kind, name, *_rest) in NODES.items():
            if kind == "sub":
                self.subprocess(proc, nid, name)
            else:
                self.node(proc, nid, kind, name)
        for key, container in self.lay.escalations:
            if not container:
                self.escalation(proc, STEPS[key])
        self.flow_elements(proc, "")
        self.diagram(root)
        etree.indent(root, space="  ")
        body = etree.tostring(root, encoding="unicode")
        header = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            "<!-- GENERATED FILE: written by processes/tools/build_decree56.py from its tables (semantic model "
            "and BPMN DI).\n"
            "     Do not edit by hand: change the script and run `.venv/bin/python "
            "processes/tools/build_decree56.py`. -->\n"
        )
        return (header + body + "\n").encode("utf-8")

    # ---- diagram interchange ------------------------------------------------------------------------------
    def shape(self, plane, element: str, box: Box, *, label: Box | None = None, **attrs) -> None:
        sh = etree.SubElement(plane, q("bpmndi", "BPMNShape"), id=f"{element}_di", bpmnElement=element, **attrs)
        etree.SubElement(sh, q("dc", "Bounds"), x=fmt(box.x), y=fmt(box.y), width=fmt(box.w),
                         height=fmt(box.h))
        if label is not None:
            lab = etree.SubElement(sh, q("bpmndi", "BPMNLabel"))
            etree.SubElement(lab, q("dc", "Bounds"), x=fmt(label.x), y=fmt(label.y), width=fmt(label.w),
                             height=fmt(label.h))

    def node_label(self, nid: str) -> Box | None:
        name = self.names.get(nid)
        kind = self.lay.kinds[nid]
        if not name or kind.startswith(("task:", "escalate:")) or kind in ("script", "sub"):
            return None
        b = self.lay.boxes[nid]
        w = 110 if kind in ("xor", "and") else 100
        lines = max(1, -(-len(name) * 6 // w))
        h = 14 * lines
        # put the label on the side no flow touches (below by default)
        uses_bottom = any(
            (f["src"] == nid and abs(f["points"][0][1] - b.bottom) < 0.5)
            or (f["tgt"] == nid and abs(f["points"][-1][1] - b.bottom) < 0.5)
            for f in self.flows
        )
        uses_top = any(
            (f["src"] == nid and abs(f["points"][0][1] - b.y) < 0.5)
            or (f["tgt"] == nid and abs(f["points"][-1][1] - b.y) < 0.5)
            for f in self.flows
        )
        if uses_bottom and not uses_top:
            # above, shifted left: clear of the escalation drop of a timed task higher up in the column
            return Box(b.cx - w + 25, b.y - h - 6, w, h)
        if uses_bottom and uses_top:  # both taken: to the left, above the incoming side
            return Box(b.x - w - 4, b.y - h - 2, w, h)
        return Box(b.cx - w / 2, b.bottom + 6, w, h)

    def flow_label(self, f: dict) -> Box | None:
        if not f["name"]:
            return None
        (x0, y0), (x1, y1) = f["points"][0], f["points"][1]
        w, h = max(24, 6.5 * len(f["name"])), 14
        if abs(x0 - x1) < 0.5:  # vertical first segment: to the right of it
            y = y0 + 6 if y1 > y0 else y0 - h - 6
            return Box(x0 + 5, y, w, h)
        return Box(x0 + 6, y0 - h - 3, w, h)

    def diagram(self, root) -> None:
        lay = self.lay
        dia = etree.SubElement(root, q("bpmndi", "BPMNDiagram"), id="Diagram_decree56")
        plane = etree.SubElement(dia, q("bpmndi", "BPMNPlane"), id="Plane_decree56",
                                 bpmnElement="Collaboration_decree56")
        self.shape(plane, "Participant_decree56", lay.participant, isHorizontal="true")
        for lane, *_ in LANES:
            self.shape(plane, f"Lane_{lane}", lay.lanes[lane], isHorizontal="true")
        order = list(NODES) + list(SUB_NODES)
        order += [n for key, _ in lay.escalations for n in
                  (f"Task_escalate_{key}", f"Timer_{key}", f"End_escalate_{key}")]
        for nid in order:
            extra = {"isExpanded": "true"} if lay.kinds[nid] == "sub" else {}
            self.shape(plane, nid, lay.boxes[nid], label=self.node_label(nid), **extra)
        for f in self.flows:
            ed = etree.SubElement(plane, q("bpmndi", "BPMNEdge"), id=f"{f['id']}_di", bpmnElement=f["id"])
            for x, y in f["points"]:
                etree.SubElement(ed, q("di", "waypoint"), x=fmt(x), y=fmt(y))
            lb = self.flow_label(f)
            if lb is not None:
                lab = etree.SubElement(ed, q("bpmndi", "BPMNLabel"))
                etree.SubElement(lab, q("dc", "Bounds"), x=fmt(lb.x), y=fmt(lb.y), width=fmt(lb.w),
                                 height=fmt(lb.h))


def build() -> bytes:
    return Builder().build()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if the committed file differs from the output")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    data = build()
    if args.check:
        if not args.out.exists() or args.out.read_bytes() != data:
            print(f"{args.out} is out of date; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
