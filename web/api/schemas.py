"""marshmallow schemas of the API's requests and responses (they are also its OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from engine import clock, stamp
from forms.kit import sensitivity

MAU_01_REF = "#/components/schemas/Mau01"
SEPARATION_REQUEST_REF = "#/components/schemas/SeparationRequest"


class LocalDateTime(fields.DateTime):
    """An instant written in Vietnam's time (ISO 8601 with its +07:00 offset)."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else clock.local(value).isoformat()


def _id(**kw: Any) -> fields.Integer:
    return fields.Integer(validate=validate.Range(min=1), **kw)


# -- errors -----------------------------------------------------------------------------------------
class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "Mã lỗi ổn định / stable error code",
                                                  "example": "validation_error"})
    message = fields.String(required=True, metadata={"description": "Thông báo / message (vi or en)"})
    errors = fields.Dict(required=True, metadata={
        "description": "Lỗi theo trường / field errors: {field: [messages]} (nested for form groups)",
    })


# -- common pieces ----------------------------------------------------------------------------------
class DeadlineSchema(Schema):
    rule = fields.String(required=True)
    label = fields.String(required=True, metadata={"description": "Thời hạn và mốc tính / the limit and its anchor; "
                                                                  "'[cần xác nhận]' marks a default to confirm"})
    article = fields.String(required=True, metadata={"description": "Căn cứ pháp lý / legal basis"})
    to_confirm = fields.Boolean(required=True)
    policy = fields.String(required=True, allow_none=True, metadata={
        "description": "Thời hạn không do pháp luật quy định: căn cứ của case56 / a limit the law does not set: "
                       "case56's basis for it; null: a limit set by law"})


class DueStatusSchema(Schema):
    state = fields.String(required=True, metadata={
        "enum": ["ok", "soon", "overdue", "none", "done", "late", "cancelled"],
        "description": "Đang chờ / open: ok, soon (< 24 h), overdue, none (no limit); "
                       "đã xong / finished: done (on time), late, cancelled"})
    text = fields.String(required=True, metadata={
        "description": "Như trang web hiển thị / as the pages show it: time left, or when it was finished"})
    estimated_year = fields.Integer(required=True, allow_none=True, metadata={
        "description": "Năm chưa có lịch nghỉ chính thức khiến thời hạn là ước tính / the year without announced "
                       "calendar data that makes this working-day limit an estimate; null: not an estimate"})
    note = fields.String(required=True, allow_none=True)
    legal = fields.String(required=True, allow_none=True, metadata={
        "description": "Hạn theo luật (24:00 ngày cuối, Điều 148 Bộ luật Dân sự) bên cạnh hạn nội bộ / the legal "
                       "expiry of a working-day limit set by law, beside the internal target; null otherwise"})


class PagingArgs(Schema):
    """Read with unknown=RAISE (webargs would drop unknown query parameters): a typo such as `comune` is
    refused rather than silently ignored."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


# -- reports ----------------------------------------------------------------------------------------
class ReportCreateSchema(Schema):
    commune = fields.String(validate=validate.Length(min=1, max=32), metadata={
        "description": "Mã xã/phường nơi xảy ra vụ việc, nơi mở hồ sơ (Điều 26.1); để trống thì lấy "
                       "report.incident_commune / the incident commune, where the case opens; defaults to "
                       "report.incident_commune", "example": "T01-X01"})
    report = fields.Dict(required=True, metadata={
        "description": "Mẫu số 01 (Điều 25 NĐ 56/2017/NĐ-CP); received_at is the legal anchor of every limit",
        "allOf": [{"$ref": MAU_01_REF}],
    })
    same_child_of = fields.Integer(validate=validate.Range(min=1, max=2_147_483_647), metadata={
        "description": "Số hiệu (id) hồ sơ đã có về cùng trẻ, chọn trong POST /reports/candidates: hồ sơ mới nhận "
                       "cùng mã trẻ để thống kê đếm trẻ một lần / the id of an existing case about the same child, "
                       "one of POST /reports/candidates: the new case counts as that child in statistics"})


class IdempotencyHeaderSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    idempotency_key = fields.String(data_key="Idempotency-Key", validate=validate.Length(min=1, max=200), metadata={
        "description": "Khoá chống gửi lặp / a retry with the same key returns the first case (200) "
                       "instead of opening another; the same key with another body is refused (422)"})


class IfMatchHeaderSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    if_match = fields.String(data_key="If-Match", validate=validate.Length(min=1, max=64), metadata={
        "description": "Phiên bản hồ sơ đã xem / the case version seen (task's case_version or ETag); "
                       "a stale version is refused with 409 and nothing is saved"})


class ChildSchema(Schema):
    """The child of a case as a list shows it (engine.children): private items (Decree 56 Art. 33)."""

    name = fields.String(required=True, metadata={"description": "Họ tên như ghi trên Mẫu 01 / as written on Form 01"})
    age = fields.Integer(required=True, allow_none=True, metadata={
        "description": "Tuổi hôm nay / age today (from the date of birth, or the estimate at receipt carried on)"})
    age_estimated = fields.Boolean(required=True, metadata={"description": "Tuổi ước tính / an estimated age"})


CHILD_FIELD_DOC = ("Trẻ em (tên, tuổi): chỉ cho vai trò được xem thông tin riêng tư của trẻ, null nếu không (đối tác "
                   "không bao giờ thấy) / the child's name and age for roles that may see the child's private items; "
                   "null otherwise (never for partners)")


class CaseSummarySchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    commune = fields.String(required=True, allow_none=True)
    commune_name = fields.String(required=True, allow_none=True)
    category = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["open", "closed", "no_basis"]})
    stage = fields.String(required=True)
    received_at = LocalDateTime(required=True)
    opened_at = LocalDateTime(required=True)
    closed_at = LocalDateTime(required=True, allow_none=True)
    child_sex = fields.String(required=True, allow_none=True)
    child_age = fields.Integer(required=True, allow_none=True)
    abuse_forms = fields.List(fields.String(), required=True)
    environment = fields.String(required=True, allow_none=True)
    linked_case_id = fields.Integer(required=True, allow_none=True)
    version = fields.Integer(required=True, metadata={"description": "Phiên bản / version, for If-Match"})
    href = fields.String(required=True)


class StrandedProblemSchema(Schema):
    code = fields.String(required=True, metadata={"enum": ["unworkable_step", "nothing_waits", "open_after_close"]})
    message = fields.String(required=True)
    task_id = fields.Integer(required=True, allow_none=True)


class StrandedCaseSchema(Schema):
    case = fields.Nested(CaseSummarySchema, required=True)
    problems = fields.List(fields.Nested(StrandedProblemSchema), required=True)


# -- tasks ------------------------------------------------------------------------------------------
class TaskListArgs(PagingArgs):
    step = fields.String(validate=validate.Length(min=1, max=60), metadata={"description": "Bước / step key"})
    commune = fields.String(validate=validate.Length(min=1, max=32), metadata={"description": "Mã xã / commune"})
    overdue = fields.Boolean(load_default=False, metadata={"description": "Chỉ việc quá hạn / only overdue"})
    mine = fields.Boolean(load_default=False, metadata={
        "description": "Chỉ việc tôi đã nhận / only the steps I hold (claimed or assigned to me)"})


class TaskSummarySchema(Schema):
    id = fields.Integer(required=True)
    case_id = fields.Integer(required=True)
    case_number = fields.String(required=True)
    step = fields.String(required=True)
    title = fields.String(required=True)
    role = fields.String(required=True)
    commune = fields.String(required=True, allow_none=True)
    commune_name = fields.String(required=True, allow_none=True)
    assignee = fields.String(required=True, allow_none=True)
    state = fields.String(required=True, metadata={"enum": ["ready", "completed", "cancelled"]})
    created_at = LocalDateTime(required=True)
    due_at = LocalDateTime(required=True, allow_none=True)
    overdue = fields.Boolean(required=True)
    overdue_seconds = fields.Float(required=True, allow_none=True, metadata={
        "description": "Quá hạn bao nhiêu giây / seconds past the limit; null when not overdue"})
    due_status = fields.Nested(DueStatusSchema, required=True)
    deadline = fields.Nested(DeadlineSchema, required=True, allow_none=True)
    form = fields.String(required=True, allow_none=True)
    href = fields.String(required=True)
    child = fields.Nested(ChildSchema, required=True, allow_none=True, metadata={"description": CHILD_FIELD_DOC})


class CaseListArgs(PagingArgs):
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={
        "description": "Tìm: tên trẻ (không cần dấu, một phần của tên; ít nhất 2 chữ cái), số định danh (12 chữ số), "
                       "số điện thoại người báo tin, hoặc số hồ sơ; mỗi lượt tìm được ghi nhật ký (không ghi nội dung "
                       "tìm) / search: the child's name (diacritics optional, part of it; 2 letters at least), "
                       "personal ID (12 digits), the informant's phone or the case number; every search is audited "
                       "(not its text)"})
    status = fields.String(validate=validate.OneOf(["open", "closed", "no_basis"]))
    commune = fields.String(validate=validate.Length(min=1, max=32), metadata={"description": "Mã xã / commune"})


class CaseListItemSchema(CaseSummarySchema):
    child = fields.Nested(ChildSchema, required=True, allow_none=True, metadata={"description": CHILD_FIELD_DOC})


class CandidateSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["open", "closed", "no_basis"]})
    commune = fields.String(required=True, allow_none=True)
    commune_name = fields.String(required=True, allow_none=True)
    received_at = LocalDateTime(required=True)
    matches = fields.List(fields.String(metadata={"enum": ["name", "birth", "parent", "commune"]}), required=True,
                          metadata={"description": "Điều khớp ngoài tên / what matches: the name, and the birth year "
                                                   "(±1), a parent's name or the commune"})
    may_reopen = fields.Boolean(required=True, metadata={
        "description": "Bạn có thể mở lại hồ sơ đã đóng này / you may reopen this closed case"})


class CandidatesSchema(Schema):
    candidates = fields.List(fields.Nested(CandidateSchema), required=True, metadata={
        "description": "Hồ sơ có thể cùng trẻ, mới nhất trước (tối đa 10) / cases possibly about the same child, "
                       "newest first (10 at most)"})


class ReleaseSchema(Schema):
    """A free text an officer marked releasable (engine.releases): shown to readers without the right to
    sensitive data and in redacted copies, with this mark."""

    task_id = fields.Integer(required=True)
    field = fields.String(required=True, metadata={"description": "Đường dẫn trường / field path, e.g. "
                                                                  "\"findings\", \"activities.0.content\""})
    released_by = fields.String(required=True)
    released_at = LocalDateTime(required=True)
    reason = fields.String(required=True, allow_none=True)


WITHHELD_DOC = {"description": "Các trường bị ẩn (\"[đã ẩn]\") theo mức độ nhạy cảm / fields withheld by "
                               "sensitivity class"}
RELEASES_DOC = {"description": "Nội dung được đánh dấu được phép cung cấp / texts shown because marked releasable"}


class PlanReturnSchema(Schema):
    by = fields.String(required=True, metadata={"description": "Tài khoản chủ tịch / the chairman's username"})
    at = LocalDateTime(required=True)
    comments = fields.String(required=True, allow_none=True, metadata={
        "description": "Ý kiến khi trả lại (null nếu bạn không được xem) / the reasons (null if withheld from you)"})


class TaskDetailSchema(TaskSummarySchema):
    article = fields.String(required=True, metadata={"description": "Căn cứ pháp lý của bước / the step's article"})
    instructions = fields.String(required=True)
    form_version = fields.Integer(required=True, allow_none=True)
    form_schema = fields.Dict(required=True, allow_none=True, metadata={
        "description": "JSON Schema (draft 2020-12) của biểu mẫu / of the step's form"})
    draft = fields.Dict(required=True, allow_none=True)
    draft_saved_at = LocalDateTime(required=True, allow_none=True)
    data = fields.Dict(required=True, allow_none=True, metadata={"description": "Dữ liệu đã nộp / submitted data"})
    withheld = fields.List(fields.String(), required=True, metadata=WITHHELD_DOC)
    releases = fields.List(fields.Nested(ReleaseSchema), required=True, metadata=RELEASES_DOC)
    completed_at = LocalDateTime(required=True, allow_none=True)
    completed_by = fields.String(required=True, allow_none=True)
    case_version = fields.Integer(required=True, metadata={"description": "Gửi lại trong If-Match / send as If-Match"})
    may_act = fields.Boolean(required=True)
    returned = fields.Nested(PlanReturnSchema, required=True, allow_none=True, metadata={
        "description": "Kế hoạch bị chủ tịch trả lại trước khi mở bước Mẫu 04/05 này / the chairman's return this "
                       "Mẫu 04/05 step follows; null otherwise"})
    prefill = fields.Dict(required=True, allow_none=True, metadata={
        "description": "Dữ liệu của bản bị trả lại để tiếp tục (khi chưa có bản nháp) / the returned version's data "
                       "to continue from when there is no draft; null otherwise"})


class NoBodySchema(Schema):
    """An action that takes no input: the body is an empty JSON object (the API reads JSON only)."""

    class Meta:
        unknown = RAISE


class SeparationRequestBodySchema(Schema):
    data = fields.Dict(required=True, metadata={
        "description": "Biểu mẫu đề nghị cách ly (separation_request) / the separation request form",
        "allOf": [{"$ref": SEPARATION_REQUEST_REF}]})


class TaskDataSchema(Schema):
    data = fields.Dict(required=True, metadata={"description": "Dữ liệu biểu mẫu của bước / the step's form data "
                                                              "(see the task's form_schema)"})


class DraftSavedSchema(Schema):
    task_id = fields.Integer(required=True)
    draft_saved_at = LocalDateTime(required=True)


class CaseRefSchema(Schema):
    id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True)


class CompletedSchema(Schema):
    task = fields.Nested(TaskSummarySchema, required=True)
    case = fields.Nested(CaseRefSchema, required=True)


class CompletionSchema(CompletedSchema):
    next_tasks = fields.List(fields.Integer(), required=True, metadata={
        "description": "Bước tiếp theo của hồ sơ mà bạn làm được ngay, gấp nhất trước / the case's open steps the "
                       "caller may do now, most urgent first (GET /tasks/{id})"})


class OverdueArgs(PagingArgs):
    step = fields.String(validate=validate.Length(min=1, max=60))
    commune = fields.String(validate=validate.Length(min=1, max=32))
    due_within_hours = fields.Integer(load_default=0, validate=validate.Range(min=0, max=24 * 60), metadata={
        "description": "Kể cả việc sắp đến hạn trong số giờ này / include steps due within this many hours"})


# -- cases ------------------------------------------------------------------------------------------
class TimelineEntrySchema(Schema):
    task_id = fields.Integer(required=True)
    step = fields.String(required=True)
    title = fields.String(required=True)
    role = fields.String(required=True)
    assignee = fields.String(required=True, allow_none=True)
    state = fields.String(required=True)
    status = fields.String(required=True, metadata={
        "enum": ["done_on_time", "done_late", "open", "overdue", "cancelled"]})
    status_label = fields.String(required=True)
    created_at = LocalDateTime(required=True)
    due_at = LocalDateTime(required=True, allow_none=True)
    completed_at = LocalDateTime(required=True, allow_none=True)
    completed_by = fields.String(required=True, allow_none=True)
    late_by_seconds = fields.Float(required=True, allow_none=True, metadata={
        "description": "> 0 trễ / late, <= 0 đúng hạn / on time, null không có hạn / no limit"})
    due_status = fields.Nested(DueStatusSchema, required=True)
    deadline = fields.Nested(DeadlineSchema, required=True, allow_none=True)
    form = fields.String(required=True, allow_none=True)
    form_version = fields.Integer(required=True, allow_none=True)
    data = fields.Dict(required=True, allow_none=True, metadata={
        "description": "Dữ liệu biểu mẫu; giá trị thuộc mức độ nhạy cảm mà vai trò không được xem ghi \"[đã ẩn]\" "
                       "/ form data, values of sensitivity classes the role may not see read \"[đã ẩn]\""})
    withheld = fields.List(fields.String(), required=True, metadata=WITHHELD_DOC)
    releases = fields.List(fields.Nested(ReleaseSchema), required=True, metadata=RELEASES_DOC)


class LinkedCaseSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True)


class PathTakenSchema(Schema):
    """Element and sequence-flow ids of the case's process version (engine.path), as the case page draws them."""

    done = fields.List(fields.String(), required=True)
    current = fields.List(fields.String(), required=True)
    flows = fields.List(fields.String(), required=True)


class CaseDetailSchema(CaseSummarySchema):
    timeline = fields.List(fields.Nested(TimelineEntrySchema), required=True)
    linked = fields.List(fields.Nested(LinkedCaseSchema), required=True)
    informant_visible = fields.Boolean(required=True)
    visible_classes = fields.List(fields.String(validate=validate.OneOf(sensitivity.CLASSES)), required=True, metadata={
        "description": "Mức độ nhạy cảm vai trò được xem / sensitivity classes the caller may see "
                       "(basic, private, sensitive, informant)"})
    path = fields.Nested(PathTakenSchema, required=True)
    intake_received_at = LocalDateTime(required=True, allow_none=True, metadata={
        "description": "Nơi tiếp nhận nhận thông tin / the intake point's receipt (Mẫu 01)"})
    commune_received_at = LocalDateTime(required=True, allow_none=True, metadata={
        "description": "UBND xã nhận thông tin / the commune's receipt; received_at is the earlier of the two "
                       "(Art. 26.3, 31.2, 32.2)"})
    incident_commune = fields.String(required=True, allow_none=True, metadata={
        "description": "Xã nơi xảy ra vụ việc: đánh giá ban đầu (Điều 26.1) / incident commune: initial assessment"})
    residence_commune = fields.String(required=True, allow_none=True, metadata={
        "description": "Xã nơi trẻ cư trú: kế hoạch (Điều 52.2 Luật Trẻ em) / residence commune: the plan"})


class StampArgs(Schema):
    """The confidentiality stamp of an export (Decree 56 Art. 24.3; engine.stamp), printed and audited."""

    level = fields.String(validate=validate.OneOf(stamp.REPORT_LEVELS), metadata={
        "description": "Mức độ mật / confidentiality level (mat, han_che, noi_bo; cong_khai only for statistics)"})
    recipients = fields.String(validate=validate.Length(min=1, max=stamp.MAX_RECIPIENTS), metadata={
        "description": "Phạm vi cung cấp / who may receive it (one line)"})


class DossierArgs(StampArgs):
    redact = fields.Boolean(load_default=False, metadata={
        "description": "Bản ẩn thông tin để cung cấp ra ngoài xã: chỉ dữ liệu cơ bản và nội dung được đánh dấu được "
                       "phép cung cấp / the copy shared outside the commune: basic data and texts marked releasable "
                       "only"})
    level = fields.String(validate=validate.OneOf(stamp.CASE_LEVELS), metadata={
        "description": "Mức độ mật / confidentiality level (mat, han_che, noi_bo)"})


class ReleaseArgs(Schema):
    task_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    field = fields.String(required=True, validate=validate.Length(min=1, max=300), metadata={
        "description": "Đường dẫn trường văn bản tự do / path of a free-text field, e.g. \"findings\""})


class ReleaseBodySchema(ReleaseArgs):
    reason = fields.String(validate=validate.Length(max=500), load_default=None, allow_none=True, metadata={
        "description": "Lý do cho phép cung cấp / why it may be given"})


# -- me ---------------------------------------------------------------------------------------------
class MeSchema(Schema):
    username = fields.String(required=True)
    full_name = fields.String(required=True)
    role = fields.String(required=True)
    role_label = fields.String(required=True)
    unit = fields.String(required=True, allow_none=True)
    unit_name = fields.String(required=True, allow_none=True)
    locale = fields.String(required=True)
    token_prefix = fields.String(required=True)
    token_expires_at = LocalDateTime(required=True, allow_none=True)


# -- statistics (engine.statistics.report_dict) ------------------------------------------------------
class StatisticsArgs(Schema):
    period = fields.String(validate=validate.Length(min=1, max=20), metadata={
        "description": "Kỳ báo cáo / period: 2026-H1, 2026-H2, 2026-Y, 2026-Q1…; default the current half-year",
        "example": "2026-H1"})
    from_ = fields.String(data_key="from", validate=validate.Length(min=1, max=10), metadata={
        "description": "Từ ngày / from (yyyy-mm-dd or dd/mm/yyyy), with `to` instead of `period`"})
    to = fields.String(validate=validate.Length(min=1, max=10), metadata={"description": "Đến ngày / to (inclusive)"})
    province = fields.String(validate=validate.Length(min=1, max=32), metadata={"description": "Mã tỉnh / province"})
    commune = fields.String(validate=validate.Length(min=1, max=32), metadata={"description": "Mã xã / commune"})


class _Labelled(Schema):
    label_vi = fields.String(required=True)
    label_en = fields.String(required=True)


class StatPeriodSchema(_Labelled):
    id = fields.String(required=True)
    start = fields.String(required=True, metadata={"format": "date"})
    end = fields.String(required=True, metadata={"format": "date"})
    due = fields.String(required=True, allow_none=True, metadata={"format": "date"})
    to_confirm = fields.Boolean(required=True)
    report = fields.Boolean(required=True)


class StatUnitSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)


class StatScopeSchema(Schema):
    province = fields.Nested(StatUnitSchema, required=True, allow_none=True)
    commune = fields.Nested(StatUnitSchema, required=True, allow_none=True)


class StatCountSchema(_Labelled):
    key = fields.String(required=True)
    count = fields.Integer(required=True)


class StatChildrenSchema(Schema):
    total = fields.Integer(required=True, metadata={"description": "Chỉ tiêu 0101: số trẻ em (không phải số vụ)"})
    by_sex = fields.List(fields.Nested(StatCountSchema), required=True)
    by_age = fields.List(fields.Nested(StatCountSchema), required=True)
    by_environment = fields.List(fields.Nested(StatCountSchema), required=True)
    by_form = fields.List(fields.Nested(StatCountSchema), required=True)
    without_form = fields.Integer(required=True)
    by_ethnicity = fields.List(fields.Nested(StatCountSchema), required=True, metadata={
        "description": "Ngoài TT 13/2021: các dân tộc có số liệu (mã Tổng cục Thống kê), rồi 'unknown' / "
                       "beyond Circular 13/2021: ethnic groups that occur (GSO codes), then 'unknown'"})
    by_relationship = fields.List(fields.Nested(StatCountSchema), required=True, metadata={
        "description": "Quan hệ của người gây tổn hại với trẻ (mỗi trẻ một lần cho mỗi quan hệ), rồi 'unknown' / "
                       "perpetrator's relationship to the child (a child once per relationship), then 'unknown'"})


class StatCategorySchema(_Labelled):
    category = fields.String(required=True)
    cases = fields.Integer(required=True)
    children = fields.Integer(required=True)
    no_basis = fields.Integer(required=True)


class StatUnitRowSchema(Schema):
    province_code = fields.String(required=True)
    province_name = fields.String(required=True)
    commune_code = fields.String(required=True, allow_none=True)
    commune_name = fields.String(required=True, allow_none=True)
    cases = fields.Integer(required=True)
    abused_children = fields.Integer(required=True)
    closed = fields.Integer(required=True)
    open_at_end = fields.Integer(required=True)


class StatComplianceSchema(Schema):
    commune_code = fields.String(required=True)
    commune_name = fields.String(required=True)
    step = fields.String(required=True)
    title_vi = fields.String(required=True)
    title_en = fields.String(required=True)
    on_time = fields.Integer(required=True)
    late = fields.Integer(required=True)
    overdue = fields.Integer(required=True)
    pending = fields.Integer(required=True)
    done = fields.Integer(required=True)


class StatDurationSchema(_Labelled):
    measure = fields.String(required=True, metadata={"enum": ["emergency", "approved_plan", "closure"]})
    count = fields.Integer(required=True)
    median_seconds = fields.Float(required=True, allow_none=True)
    p90_seconds = fields.Float(required=True, allow_none=True)


class StatStageSchema(Schema):
    step = fields.String(required=True)
    title_vi = fields.String(required=True)
    title_en = fields.String(required=True)
    cases = fields.Integer(required=True)


class StatNoteSchema(Schema):
    vi = fields.String(required=True)
    en = fields.String(required=True)


class StatisticsSchema(Schema):
    period = fields.Nested(StatPeriodSchema, required=True)
    scope = fields.Nested(StatScopeSchema, required=True)
    generated_at = fields.String(required=True, metadata={"format": "date-time"})
    partial = fields.Boolean(required=True, metadata={"description": "Lập trước khi hết kỳ / made before the "
                                                                      "period ended: figures so far"})
    children = fields.Nested(StatChildrenSchema, required=True)
    categories = fields.List(fields.Nested(StatCategorySchema), required=True)
    communes = fields.List(fields.Nested(StatUnitRowSchema), required=True)
    provinces = fields.List(fields.Nested(StatUnitRowSchema), required=True)
    compliance = fields.List(fields.Nested(StatComplianceSchema), required=True)
    durations = fields.List(fields.Nested(StatDurationSchema), required=True)
    stages = fields.List(fields.Nested(StatStageSchema), required=True)
    open_cases = fields.Integer(required=True)
    age_groups_to_confirm = fields.Boolean(required=True)
    notes = fields.List(fields.Nested(StatNoteSchema), required=True)
