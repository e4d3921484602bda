"""The one presentation layer: what a step, a time-limit rule, a case or step status, a role and an audit row
are called in the reader's language. The pages, the API (web/api/present.py) and the dossier PDF
(web/pdf/dossier.py) all read their labels here, so the three never disagree.

A step's title comes from the process version the case runs on (`Case.process_version_id`), never from the
shipped file alone: a step that exists only in an uploaded or a province's version has its titles there.
Every function takes the language explicitly or falls back to the page's (`page_locale`); the API passes its
own (Accept-Language), the PDF the one it is built in. Nothing here needs a request except that fallback.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import g, has_app_context, has_request_context
from flask_babel import force_locale, get_locale, pgettext
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select

import forms
from engine import access, children, clock, transfers
from engine.deadlines import Rules
from engine.models import Case, ProvinceProcessVersion, Task
from engine.registry import Definition, Step
from forms.kit import sensitivity

TO_CONFIRM = "cần xác nhận"
NOT_LAW = ("không do pháp luật quy định", "not set by law")  # a case56 policy limit (processes/deadlines.toml)

# How a step stands against its limit (engine.casefile.TimelineEntry.status), as the API and pages name it.
TIMELINE_STATUS = {
    "done_on_time": ("Hoàn thành đúng hạn", "Done on time"),
    "done_late": ("Hoàn thành trễ hạn", "Done late"),
    "open": ("Đang chờ xử lý", "Open"),
    "overdue": ("Quá hạn", "Overdue"),
    "cancelled": ("Đã huỷ", "Cancelled"),
}


def page_locale() -> str:
    """The language of the page being rendered ("vi" outside a request, e.g. the CLI)."""
    if not has_request_context():
        return "vi"
    chosen = get_locale()
    return "en" if chosen is not None and chosen.language == "en" else "vi"


def _lang(locale: str | None) -> str:
    return locale if locale in ("vi", "en") else page_locale()


@contextmanager
def _speaking(locale: str) -> Iterator[None]:
    # gettext in `locale`; outside an application context flask_babel answers with the Vietnamese msgid.
    with force_locale(locale) if has_app_context() else nullcontext():
        yield


# -- texts that come from the process and rule files --------------------------------------------------------

class Original(str):
    """A Vietnamese text given to an English reader as it is, because nothing translates it (a step of an
    administrator's own process version, a provision added after the catalogue): still a plain string for CSV,
    JSON and sorting, and pages mark it with the `vi_original` filter (lang="vi" + "(Vietnamese original)")."""

    __slots__ = ()


def localized(text_vi: str, locale: str | None = None, english: str = "") -> str:
    """A step's title, the law paragraph of a step, a limit's article or basis, in `locale`: the file's own
    English (`english`, e.g. a step's title_en) when it differs from the Vietnamese, else the English catalogue's
    translation (web/translations/en/process_texts.po, keyed by the Vietnamese text, so a province's version that
    keeps a shipped wording keeps its translation), else the Vietnamese original as an `Original`."""
    if not text_vi or _lang(locale) != "en":
        return text_vi
    if english and english != text_vi:  # the registry gives title_en = the name when the file has none
        return english
    with nullcontext() if page_locale() == "en" else _speaking("en"):  # forcing per row costs on long lists
        translated = _(text_vi)
    return translated if translated != text_vi else Original(text_vi)


def mark_original(value: Any, plain: bool = False) -> Any:
    """Template filter `vi_original`: an `Original` as `<span lang="vi">…</span> (Vietnamese original)`, any
    other value as is (escaped by the template). `plain=True` where markup cannot go (an <option>, a title)."""
    if not isinstance(value, Original):
        return value
    with _speaking("en"):
        marker = _("nguyên văn tiếng Việt")
    if plain:
        return f"{value} ({marker})"
    return Markup('<span lang="vi">{}</span> <span class="muted vi-original">({})</span>').format(
        escape(str(value)), marker)


def sentence(message: str, **values: Any) -> Markup:
    """A translated sentence (gettext'ed without its values) filled with `values`, each escaped and an `Original`
    marked as the pages mark it: a flash message naming a step of an administrator's own version. Interpolating
    into the plain string would drop the marking (an `Original` becomes a plain str there)."""
    return escape(message) % {name: mark_original(value) for name, value in values.items()}


def plain_original(value: Any) -> Any:
    """An `Original` marked in words ("… (Vietnamese original)") where markup cannot go: an audit line, the
    digest mail, a chart's label; any other value as is."""
    return mark_original(value, plain=True)


def is_original(value: Any) -> bool:
    """Template test `vi_original`: the text is a Vietnamese original on an English page."""
    return isinstance(value, Original)


def law_text(text: str, locale: str | None = None) -> str:
    """A step's law paragraph or article reference (engine.registry.Step.instructions / .article) in `locale`."""
    return localized(text, locale)


# -- steps --------------------------------------------------------------------------------------------------

def definition(version_id: int) -> Definition:
    """The process version a case runs on, once per request (for_version checks the content hash in SQL)."""
    import web
    from web.extensions import db

    cache: dict[int, Definition] = g.setdefault("case56_definitions", {})
    if version_id not in cache:
        cache[version_id] = web.engine().registry.for_version(db.session, version_id)
    return cache[version_id]


_STEPS: dict[str, dict[str, Step]] = {}  # content hash → step key → step (a definition is immutable)


def steps_by_key(process: Definition) -> dict[str, Step]:
    if process.content_hash not in _STEPS:
        _STEPS[process.content_hash] = {s.step: s for s in process.steps.values()}
    return _STEPS[process.content_hash]


def step_label(step_key: str, fallback: str, process: Definition | None, locale: str | None = None) -> str:
    """A step's title in `locale` by the given process version; `fallback` is the Vietnamese title the task
    row kept when it opened (also what an unknown step shows)."""
    if _lang(locale) == "en":
        step = steps_by_key(process).get(step_key) if process is not None else None
        if step is not None:
            return localized(step.title_vi or fallback, "en", step.title_en)
        if step_key == "transfer":
            return transfers.TRANSFER_STEP[1]
        return localized(fallback, "en")
    return fallback


def step_title(task: Task, case: Case | None = None, locale: str | None = None) -> str:
    """The title of `task` by its case's own process version (the case is read through the session's identity
    map when not given: one lookup per case, not per row)."""
    if _lang(locale) != "en":
        return task.title
    if case is None:
        from web.extensions import db

        case = db.session.get(Case, task.case_id)
    return step_label(task.step, task.title, definition(case.process_version_id) if case else None, locale)


def step_titles(process: Definition, tasks: Iterable[Task] = (), locale: str | None = None) -> dict[str, str]:
    """Step key → title of a case: every step of its version (audit rows name steps by key), and the steps of
    its task rows as they were opened (a transfer, a reopening)."""
    lang = _lang(locale)
    out = {key: step_label(key, step.title_vi, process, lang) for key, step in steps_by_key(process).items()}
    for task in tasks:
        out.setdefault(task.step, step_label(task.step, task.title, process, lang))
        if lang == "vi":
            out[task.step] = task.title
    return out


def offered_steps(locale: str | None = None) -> dict[str, Step]:
    """The steps a filter offers (step key → step): those of the shipped file and of every version new cases
    open on (the national one and each province's), so a step that exists only in an upload is offered too."""
    import web
    from web.extensions import db

    registry = web.engine().registry
    ids = set(db.session.scalars(select(ProvinceProcessVersion.version_id)))
    out: dict[str, Step] = {}
    for process in [registry.current, registry.active(db.session), *(definition(v) for v in sorted(ids))]:
        for key, step in steps_by_key(process).items():
            out.setdefault(key, step)
    return out


def title_of(step: Step, locale: str | None = None) -> str:
    return localized(step.title_vi, locale, step.title_en)


def diagram_labels(process: Definition, locale: str | None = None) -> dict[str, str]:
    """What the process drawing writes on lanes (role labels) and, in English, on the user tasks."""
    lang = _lang(locale)
    out = {role: role_label(role, lang) for role in access.ROLE_LABELS}
    if lang == "en":  # an untranslated title stays Vietnamese there: a drawing has no room for the marker
        out.update({spec: str(title_of(step, lang)) for spec, step in process.steps.items()})
    return out


# -- rules, statuses, roles ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleLabel:
    """What a step's limit is counted from, and the article it comes from (processes/deadlines.toml)."""

    rule: str
    label: str
    article: str
    to_confirm: bool
    policy: str = ""  # the case56 basis of a limit the law does not set ("" for a legal limit)
    not_law: str = ""  # "không do pháp luật quy định" in the page's language, when `policy` is set

    @property
    def text(self) -> str:
        """One line: "label (article)", a policy limit saying it is not the law's and why. Whether the law is
        still unknown (`to_confirm`) is shown apart: on a page as a flag, in the dossier on its annex page."""
        text = f"{self.label} ({self.article})" if self.article else self.label
        return f"{text} — {self.not_law}: {self.policy}" if self.policy else text


def rule_label(rule_name: str | None, locale: str | None = None, rules: Rules | None = None) -> RuleLabel | None:
    """The legal basis of a limit; an unknown rule (removed from deadlines.toml) is shown by its name."""
    if not rule_name:
        return None
    if rules is None:
        import web

        rules = web.engine().rules
    rule = rules.rules.get(rule_name)
    if rule is None:
        return RuleLabel(rule_name, rule_name, "", False)
    lang = _lang(locale)
    return RuleLabel(rule.name, localized(rule.label_vi, lang, rule.label_en), localized(rule.article, lang),
                     rule.to_confirm, localized(rule.policy, lang),
                     (NOT_LAW[1] if lang == "en" else NOT_LAW[0]) if rule.policy else "")


def legal_expiry_day(moment: datetime | None) -> str:
    """The day (dd/mm/yyyy) at whose 24:00 a working-day limit expires in law (the moment is 00:00 of the next
    day; Civil Code Art. 148.6)."""
    if moment is None:
        return ""
    return (clock.local(moment) - timedelta(minutes=1)).strftime("%d/%m/%Y")


def national_db_occasion(kind: str, locale: str | None = None) -> str:
    """When a case is entered into the national children database (engine.national_db)."""
    from engine.national_db import OCCASION_LABELS

    vi, en = OCCASION_LABELS.get(kind, (kind, kind))
    return en if _lang(locale) == "en" else vi


# Roles whose label starts with a proper name ("Sở Y tế", "Provincial Department of Health"): capitalised anywhere.
_PROPER_ROLE_LABELS = frozenset({"supervisor"})


def role_label(role: str | None, locale: str | None = None, mid_sentence: bool = False) -> str:
    """A role's name; `mid_sentence=True` where it follows other words ("mọi người làm công tác…", "every
    commune child-protection officer…"): lower-cased first letter, except for an office's proper name."""
    if role == "system":  # what the engine does by itself (a routed transfer, a deadline's escalation)
        with _speaking(_lang(locale)):
            label = _("Hệ thống")
    else:
        vi, en = access.ROLE_LABELS.get(role or "", (role or "", role or ""))
        label = en if _lang(locale) == "en" else vi
    if mid_sentence and label and role not in _PROPER_ROLE_LABELS:
        return label[0].lower() + label[1:]
    return label


def routed_label(reason: str, locale: str | None = None) -> str:
    """Why the engine transferred a case by itself (engine.transfers.route)."""
    with _speaking(_lang(locale)):
        return {"residence": _("xã, phường nơi trẻ em cư trú xây dựng kế hoạch (Điều 52 khoản 2 Luật Trẻ em)")
                }.get(reason, reason)


def status_label(status: str, locale: str | None = None) -> str:
    """A case's status (open | closed | no_basis)."""
    with _speaking(_lang(locale)):
        return {"open": _("Đang xử lý"), "closed": _("Đã đóng"),
                "no_basis": _("Kết thúc: thông tin không có cơ sở")}.get(status, status)


def timeline_status_label(status: str, locale: str | None = None) -> str:
    """How one step stands against its limit (TIMELINE_STATUS)."""
    vi, en = TIMELINE_STATUS.get(status, (status, status))
    return en if _lang(locale) == "en" else vi


def track_label(track: str, case_closed: bool = False) -> str:
    """A track of steps that goes on by law after the case closes (engine.registry.Step.track)."""
    names = {"police": _("Luồng tố tụng (công an)")}
    name = names.get(track, track)
    return _("%(t)s — vẫn tiếp tục sau khi đóng hồ sơ", t=name) if case_closed else name


def cancel_reason_label(reason: str) -> str:
    """Why a step was cancelled (task.cancel_reason)."""
    return {"case_closed": _("hồ sơ đã đóng, bước không còn cần thiết"),
            "path_left": _("quy trình đã chuyển sang nhánh khác"),
            "late_step_done": _("bước quá hạn đã được hoàn thành")}.get(reason, reason)


# -- the audit trail ----------------------------------------------------------------------------------------

def audit_actions(locale: str | None = None) -> dict[str, str]:
    """What each audit action means: the case page, the inspector's file and the dossier read the trail through
    this one table (translated once per page, not once per row). In the context "audit": "Lưu nháp" is a button
    elsewhere and "draft saved" here, "Tải hồ sơ PDF" a link and "dossier downloaded" here (issue 17)."""
    with _speaking(_lang(locale)):
        return {
            "case_opened": pgettext("audit", "Mở hồ sơ"),
            "form_recorded": pgettext("audit", "Ghi nhận biểu mẫu"),
            "task_opened": pgettext("audit", "Giao bước"),
            "task_completed": pgettext("audit", "Hoàn thành bước"),
            "task_cancelled": pgettext("audit", "Hủy bước"),
            "task_reassigned": pgettext("audit", "Giao lại bước"),
            "task_claimed": pgettext("audit", "Nhận bước"),  # engine.ownership (issue 17)
            "task_released": pgettext("audit", "Trả bước"),
            "task_assigned": pgettext("audit", "Giao bước cho người đảm nhận"),
            "task_reminded": pgettext("audit", "Nhắc bước"),
            "draft_saved": pgettext("audit", "Lưu nháp"),
            "deadline_passed": pgettext("audit", "Quá thời hạn"),
            "deadline_rescheduled": pgettext("audit", "Đổi thời hạn theo lịch làm việc"),
            "reminder": pgettext("audit", "Nhắc thời hạn"),
            "timer_incident": pgettext("audit", "Sự cố hẹn giờ"),
            "case_closed": pgettext("audit", "Đóng hồ sơ"),
            "case_transferred": pgettext("audit", "Chuyển hồ sơ"),
            "separation_requested": pgettext("audit", "Đề nghị quyết định tạm thời cách ly trẻ em (Điều 32)"),
            "adjustment_requested": pgettext("audit", "Đề xuất điều chỉnh kế hoạch (Điều 29 khoản 1 điểm a)"),
            "case_reopened": pgettext("audit", "Mở lại hồ sơ"),
            "case_view": pgettext("audit", "Xem hồ sơ"),
            "case_search": pgettext("audit", "Tìm hồ sơ (tên trẻ, số định danh, điện thoại hoặc số hồ sơ)"),
            "case_inspect": pgettext("audit", "Thanh tra xem hồ sơ"),
            "dossier_downloaded": pgettext("audit", "Tải hồ sơ PDF"),
            "national_db_exported": pgettext("audit", "Xuất dữ liệu để nhập CSDL trẻ em (Điều 30 khoản 3)"),
            "national_db_entered": pgettext("audit", "Xác nhận đã nhập CSDL trẻ em"),
            "attachment_uploaded": pgettext("audit", "Thêm tài liệu đính kèm"),
            "attachment_missing": pgettext("audit", "Không tìm thấy tệp đính kèm"),
            "attachment_downloaded": pgettext("audit", "Tải tài liệu đính kèm"),
            "processing_restricted": pgettext("audit", "Hạn chế xử lý hồ sơ theo yêu cầu của cơ quan có thẩm quyền"),
            "restriction_lifted": pgettext("audit", "Gỡ hạn chế xử lý hồ sơ"),
            "legal_hold_placed": pgettext("audit", "Phong toả hồ sơ (không được huỷ)"),
            "legal_hold_released": pgettext("audit", "Gỡ phong toả hồ sơ"),
            "destruction_requested": pgettext("audit", "Đề nghị huỷ hồ sơ hết thời hạn lưu trữ"),
            "destruction_confirmed": pgettext("audit", "Xác nhận huỷ hồ sơ hết thời hạn lưu trữ"),
            "destruction_cancelled": pgettext("audit", "Huỷ bỏ đề nghị huỷ hồ sơ"),
            "records_destroyed": pgettext("audit", "Huỷ nội dung hồ sơ (giữ lại dấu vết)"),
            "attachments_encrypted": pgettext("audit", "Mã hoá các tệp đính kèm cũ"),
            "attachments_rotated": pgettext("audit", "Đổi khoá mã hoá tệp đính kèm"),
            "attachments_purged": pgettext("audit", "Xoá tệp đính kèm không còn hồ sơ nào dùng"),
            "case_step": pgettext("audit", "Xem bước"),
            "task_view": pgettext("audit", "Xem bước"),
            "task_viewed": pgettext("audit", "Xem bước"),
            "representative_recorded": pgettext("audit", "Ghi nhận người đại diện của trẻ em"),
            "representative_updated": pgettext("audit", "Sửa thông tin người đại diện"),
            "representative_barred": pgettext("audit", "Xác định người đại diện là người bị nghi xâm hại"),
            "representative_cleared": pgettext("audit", "Bỏ xác định người đại diện là người bị nghi xâm hại"),
            "data_request_received": pgettext("audit", "Tiếp nhận yêu cầu của chủ thể dữ liệu"),
            "data_request_step_opened": pgettext("audit", "Mở bước giải quyết yêu cầu dữ liệu"),
            "data_request_step_completed": pgettext("audit", "Hoàn thành bước giải quyết yêu cầu dữ liệu"),
            "data_request_step_cancelled": pgettext("audit", "Hủy bước giải quyết yêu cầu dữ liệu"),
            "data_request_deadline_passed": pgettext("audit", "Yêu cầu dữ liệu quá thời hạn"),
            "data_request_deadline_rescheduled": pgettext("audit", "Đổi thời hạn yêu cầu dữ liệu theo lịch làm việc"),
            "data_request_closed": pgettext("audit", "Kết thúc yêu cầu dữ liệu"),
            "text_released": pgettext("audit", "Đánh dấu nội dung được phép cung cấp"),
            "text_release_revoked": pgettext("audit", "Bỏ đánh dấu nội dung được phép cung cấp"),
        }


# The details an audit row is summarised by, in this order. Form contents are in the forms section, and nested
# values (which could carry data a redacted copy hides) are never printed in a summary.
AUDIT_DETAIL_KEYS = ("step", "form", "role", "assignee", "due_at", "status", "number", "commune", "from", "to",
                     "routed", "linked_case", "file_name", "redact", "lang", "via", "open_steps", "kind", "rows")
# Shown keys whose value is sensitive data (Decree 356/2025 Art. 4): an attached file's name says what it holds.
AUDIT_SENSITIVE_KEYS = frozenset({"file_name"})


def _detail_names() -> dict[str, str]:
    return {
        "step": _("bước"), "form": _("biểu mẫu"), "role": _("vai trò"), "assignee": _("giao cho"),
        "due_at": _("hạn"), "status": _("tình trạng"), "number": _("số hồ sơ"), "commune": _("xã, phường"),
        "from": _("từ"), "to": _("đến"), "linked_case": _("hồ sơ liên quan"), "redact": _("ẩn thông tin"),
        "lang": _("ngôn ngữ"), "open_steps": _("bước đang mở"), "kind": _("loại"), "file_name": _("tệp"),
        "via": _("qua"), "rows": _("số dòng"), "routed": _("chuyển theo"),
    }


def form_title(form: str, locale: str) -> str:
    try:
        return forms.get(form).title(locale)
    except forms.UnknownForm:
        return form


class AuditSummary:
    """Reads audit rows' details for one case in one language: `summary(details)` → "bước: …; hạn: …"."""

    def __init__(self, titles: Mapping[str, str], locale: str | None = None, *, sensitive: bool = True) -> None:
        """`sensitive`: the reader sees the sensitive class (engine.access.can_see_class); if not, the values of
        AUDIT_SENSITIVE_KEYS read "[đã ẩn]"."""
        self.titles, self.locale, self.sensitive = titles, _lang(locale), sensitive
        with _speaking(self.locale):
            self.names = _detail_names()
            self.yes, self.no = _("có"), _("không")

    def __call__(self, details: Mapping[str, Any] | None) -> str:
        from web.filters import vn_datetime

        parts: list[str] = []
        for name in AUDIT_DETAIL_KEYS:
            value = (details or {}).get(name)
            if value in (None, "", [], {}) or isinstance(value, dict | list):
                continue
            if name in AUDIT_SENSITIVE_KEYS and not self.sensitive:
                value = sensitivity.WITHHELD
            elif name == "step":  # joined into one text: an untranslated title is marked in words
                value = plain_original(self.titles.get(str(value), value))
            elif name == "role":
                value = role_label(str(value), self.locale)
            elif name == "due_at":
                with suppress(ValueError):
                    value = vn_datetime(datetime.fromisoformat(str(value)))
            elif name == "redact":
                value = self.yes if value else self.no
            elif name == "form":
                value = form_title(str(value), self.locale)
            elif name == "status":
                value = status_label(str(value), self.locale)
            elif name == "routed":  # engine.transfers.route: the plan stage goes to the residence commune
                value = routed_label(str(value), self.locale)
            parts.append(f"{self.names.get(name, name)}: {value}")
        return "; ".join(parts)


# -- personal data protection (issue 18) ---------------------------------------------------------------------

def data_request_status_label(status: str, locale: str | None = None) -> str:
    """A data subject's request's status (engine.data_requests)."""
    with _speaking(_lang(locale)):
        return {"received": _("Đã tiếp nhận, chờ xác nhận"), "acknowledged": _("Đang giải quyết"),
                "completed": _("Đã giải quyết"), "refused": _("Đã từ chối")}.get(status, status)


def breach_status_label(status: str, locale: str | None = None) -> str:
    """A breach's status (engine.breaches)."""
    with _speaking(_lang(locale)):
        return {"open": _("Chưa thông báo Bộ Công an"), "notified": _("Đã thông báo Bộ Công an"),
                "closed": _("Đã kết thúc")}.get(status, status)


def privacy_actions(locale: str | None = None) -> dict[str, str]:
    """The breach register's audit actions (rows with no case)."""
    with _speaking(_lang(locale)):
        return {"breach_recorded": _("Ghi nhận vi phạm dữ liệu"), "breach_escalated": _("Quá 72 giờ chưa thông báo"),
                "breach_notified": _("Ghi nhận thông báo"), "breach_closed": _("Kết thúc xử lý vi phạm")}


def data_request_step_title(step: str, fallback: str, locale: str | None = None) -> str:
    """A request step's title in the page's language, from the request process's own step table."""
    from engine import data_requests
    from web import engine

    for known in data_requests.of(engine()).current.steps.values():
        if known.step == step:
            return title_of(known, locale)
    return fallback


def child_labels(cases: Iterable[Case]) -> dict[int, children.ChildLabel]:
    """The child (name, age) of each listed case, for the signed-in person when their access rules let them see
    it (engine.children.labels): one read per page, called once by a list's template."""
    from flask_login import current_user

    from web.extensions import db

    if not has_request_context() or not current_user.is_authenticated:
        return {}
    return children.labels(db.session, current_user.actor, list(cases))


def child_label(label: children.ChildLabel | None) -> str:
    """"Nguyễn Thị Hồng Nhung, 9 tuổi" (an estimated age: "khoảng 9 tuổi")."""
    if label is None:
        return ""
    if label.age is None:
        return label.name
    age = _("khoảng %(n)s tuổi", n=label.age) if label.estimated else _("%(n)s tuổi", n=label.age)
    return f"{label.name}, {age}" if label.name else age


def duplicate_reason(code: str) -> str:
    """What besides the name matches an earlier case (engine.children.REASONS)."""
    return {"birth": _("năm sinh"), "parent": _("tên cha hoặc mẹ"), "commune": _("xã/phường")}.get(code, code)


def install(app: Any) -> None:
    """The labels templates call by name."""
    app.add_template_filter(mark_original, "vi_original")
    app.add_template_test(is_original, "vi_original")
    app.add_template_global(law_text, "law_text")
    app.add_template_global(step_title, "step_title")
    app.add_template_global(duplicate_reason, "duplicate_reason")
    app.add_template_global(child_labels, "child_labels")
    app.add_template_global(child_label, "child_label")
    app.add_template_global(data_request_status_label, "data_request_status_label")
    app.add_template_global(breach_status_label, "breach_status_label")
    app.add_template_global(data_request_step_title, "data_request_step_title")
    app.add_template_global(status_label, "case_status_label")
    app.add_template_global(role_label, "role_label")
    app.add_template_global(track_label, "track_label")
    app.add_template_global(cancel_reason_label, "cancel_reason_label")
