"""The case dossier: the whole file of one case as one PDF (ReportLab), as the paper dossier of Decree 56 reads.

`build(session, case_id, options, locale)` returns the PDF bytes. It takes no request object, so the web
route, the CLI and the benchmark share it; callers check permission and write the audit row. It reads only
the case, task, user, audit (and attachment) tables and the process definition of the case's version —
never the workflow JSON.

Who sees what: every form value goes through engine.casefile.task_data, i.e. the sensitivity class of its field
(forms/kit/sensitivity.py) against the classes the copy's reader may see (engine.access.visible_classes); a
redacted copy keeps the basic class and the texts an officer marked releasable (shown with their mark). Every page
carries the copy's confidentiality stamp (engine.stamp, Decree 56 Art. 24.3) in its footer.

Contents: a cover page in the Vietnamese administrative style, a table of contents, every filled form and
decision in the order it was done (labels from the form version it was stored under, signature block of the
person who completed it), the timeline of every step against its legal time limit, the process diagram
drawn from the BPMN DI with the path taken, the attachments, and the case's audit trail. Every page carries
"Trang x/y" and a confidentiality line.

Speed (a typical dossier in well under 300 ms): the document is laid out once. The headings are all known
before layout, so the table of contents is planned in advance on a fixed number of pages and its page
numbers are written when the canvas saves, together with "x/y" (ReportLab's TableOfContents would need
`multiBuild`, a second full layout). Table cells are pre-wrapped plain lines (`toolkit.Text`) rather than
Paragraphs, whose markup parser dominates the cost of large tables.

Fonts, text hygiene (NFC, escaping), cells, tables and the page machinery are in web/pdf/toolkit.py. The
English dossier is the same document with the strings translated (flask_babel, `dossier.po`).
"""

from __future__ import annotations

import dataclasses
import functools
import io
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

import forms
from engine import access, casefile, clock, path, releases, stamp
from engine import models as engine_models
from engine.models import AuditEntry, Task, User
from engine.registry import Definition
from engine.runtime import Engine
from forms.kit import sensitivity
from forms.kit.choices import Channel, OfficialChannel
from forms.kit.choices import label as choice_label
from forms.mau_01 import official_channel
from web import labels
from web.filters import duration, time_left, vn_date, vn_datetime
from web.pdf import annex, diagram
from web.pdf.diagram import DONE_STROKE
from web.pdf.toolkit import (
    FONT,
    FONT_BOLD,
    INK,
    LANDSCAPE,
    LATE,
    LATE_BG,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MUTED,
    PAD,
    RULE,
    SHADE,
    WIDTH,
    Doc,
    Outline,
    Text,
    TocPage,
    TocPlan,
    cell,
    clean,
    flow_table,
    grid,
    header_row,
    markup,
    national_header,
    numbered_canvas,
    para,
    para_marked,
    register_fonts,
)

REDACTED = sensitivity.WITHHELD  # what a withheld value reads (engine.casefile.task_data writes it)


@dataclass(frozen=True)
class Options:
    """How to make the dossier.

    `actor`: whose copy it is; the classes of data they may see decide what is shown (engine.casefile.task_data).
    `redact`: the copy shared outside the commune: basic data and texts marked releasable only.
    `generated_by`: the name printed on the cover as the person who produced this copy.
    `stamp`: the confidentiality stamp printed on every page (default: engine.stamp's for this kind of copy).
    """

    redact: bool = False
    actor: access.Actor | None = None
    generated_by: str = ""
    stamp: stamp.Stamp | None = None


# ------------------------------------------------------------------------------------------------------------
# Reading the case


@dataclass
class _Case:
    file: casefile.CaseFile
    definition: Definition
    rules: Any
    users: dict[str, User]
    audit: list[AuditEntry]
    attachments: list[Any]
    locale: str
    options: Options

    @property
    def case(self) -> Any:
        return self.file.case

    @property
    def commune_name(self) -> str:
        return self.file.commune.name if self.file.commune is not None else ""

    def person(self, username: str | None) -> str:
        if not username:
            return ""
        if username == "system":
            return _("Hệ thống")
        user = self.users.get(username)
        return f"{user.full_name} ({username})" if user is not None else username

    def role(self, role: str | None) -> str:
        return labels.role_label(role, self.locale)

    def step_title(self, task: Task) -> str:
        return labels.step_label(task.step, task.title, self.definition, self.locale)

    def rule_text(self, rule_name: str | None) -> str:
        basis = labels.rule_label(rule_name, self.locale, self.rules)
        return basis.text if basis is not None else ""


def _attachments(session: Session, case_id: int) -> list[Any]:
    # The Attachment model comes with the attachments work; the dossier lists them once it exists.
    model = getattr(engine_models, "Attachment", None)
    if model is None or not hasattr(model, "case_id"):
        return []
    order = getattr(model, "uploaded_at", None) or model.id
    return list(session.scalars(select(model).where(model.case_id == case_id).order_by(order, model.id)))


def _load(session: Session, case_id: int, engine: Engine, options: Options, locale: str) -> _Case:
    file = casefile.load(session, case_id)
    definition = engine.registry.for_version(session, file.case.process_version_id)
    trail = casefile.audit_trail(session, case_id)
    attachments = _attachments(session, case_id)
    names = {e.task.completed_by for e in file.timeline} | {e.task.assignee for e in file.timeline}
    names |= {a.actor for a in trail} | {getattr(a, "uploaded_by", None) for a in attachments}
    names.discard(None)
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))} if names else {}
    return _Case(file, definition, engine.rules, users, trail, attachments, locale, options)


# ------------------------------------------------------------------------------------------------------------
# Small builders


def _date_words(moment: datetime | None, place: str, locale: str) -> str:
    if moment is None:
        return ""
    day = clock.local(moment)
    if locale == "en":
        return f"{place}, {day.strftime('%d/%m/%Y')}" if place else day.strftime("%d/%m/%Y")
    words = f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"
    return f"{place}, {words}" if place else words.capitalize()


def _choice_labels(form: str, version: int | None, path: tuple[str, ...], locale: str) -> dict[str, str]:
    fields = forms.describe(form, version=version, locale=locale)["fields"]
    for name in path:
        entry = next((f for f in fields if f["name"] == name), None)
        if entry is None:
            return {}
        if name == path[-1]:
            return dict(entry.get("choices") or [])
        fields = entry.get("fields") or []
    return {}


# ------------------------------------------------------------------------------------------------------------
# Sections, one function each, in the order of the dossier: cover, contents, I. forms and decisions, II. timeline,
# III. process diagram (drawn by web/pdf/diagram.py), IV. attachments, V. audit trail


def _cover_section(c: _Case) -> list[Flowable]:
    """The cover: national header, the case in a few lines, which copy this is, the confidentiality stamp."""
    case, locale = c.case, c.locale
    mark = c.options.stamp or stamp.choose("dossier", locale=locale)
    commune = c.file.commune
    province = commune.parent.name if commune is not None and commune.parent is not None else ""
    mau01 = next((t for t in c.file.forms() if t.form == "mau_01"), None)
    version = mau01.form_version if mau01 is not None else None
    category = _choice_labels("mau_01", version, ("category",), locale).get(case.category, case.category)
    abuse = _choice_labels("mau_01", version, ("abuse_forms",), locale)
    environment = _choice_labels("mau_01", version, ("environment",), locale)
    sex = _choice_labels("mau_01", version, ("child", "sex"), locale)
    child = [sex.get(case.child_sex or "", "")]
    if case.child_age is not None and access.can_see_class(c.options.actor, sensitivity.PRIVATE, c.options.redact):
        child.append(_("%(n)s tuổi", n=case.child_age))
    rows = [
        (_("Xã, phường"), c.commune_name),
        (_("Số hiệu hồ sơ"), case.number),
        (_("Loại vụ việc"), category),
        (_("Hình thức xâm hại"), "; ".join(abuse.get(a, a) for a in case.abuse_forms or [])),
        (_("Môi trường xảy ra"), environment.get(case.environment or "", case.environment or "")),
        (_("Trẻ em"), ", ".join(x for x in child if x)),
        *_receipt_rows(case),
        (_("Ngày mở hồ sơ"), vn_date(case.opened_at)),
        (_("Ngày đóng hồ sơ"), vn_date(case.closed_at) if case.closed_at else _("Chưa đóng")),
        (_("Tình trạng"), labels.status_label(case.status, locale)),
        (_("Phiên bản quy trình"), f"#{case.process_version_id} · {c.definition.file_name} · "
                                   f"{c.definition.content_hash[:12]}"),
    ]
    if case.status == "open" and case.stage:
        rows.append((_("Bước đang thực hiện"), case.stage))
    if c.file.linked:
        rows.append((_("Hồ sơ liên quan"), ", ".join(x.number for x in c.file.linked)))
    widths = [WIDTH * 0.34, WIDTH * 0.56]
    table = flow_table([[cell(k, widths[0] - 2 * PAD, 9, MUTED), cell(v, widths[1] - 2 * PAD, 9.5, bold=True)]
                    for k, v in rows], widths, align="CENTER")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
                               ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
    if c.options.redact:
        copy = _("Bản ẩn thông tin (để cung cấp ra ngoài xã, phường): chỉ giữ dữ liệu cơ bản; người báo tin, thông tin "
                 "riêng tư của trẻ (Điều 33 NĐ 56/2017/NĐ-CP) và văn bản tự do được ghi “[đã ẩn]”, trừ nội dung được "
                 "đánh dấu được phép cung cấp.")
    elif access.visible_classes(c.options.actor) >= set(sensitivity.CLASSES):
        copy = _("Bản đầy đủ.")
    else:
        copy = _("Bản theo quyền của người nhận: thông tin mà vai trò này không được xem được ghi “[đã ẩn]”.")
    made = _("Lập lúc %(t)s", t=vn_datetime(clock.now()))
    if c.options.generated_by:
        made += " — " + _("người lập: %(name)s", name=c.options.generated_by)
    return [
        national_header(_("Ủy ban nhân dân") + " " + c.commune_name, province, WIDTH),
        Spacer(1, 40 * mm),
        para_marked("<b>" + markup(_("HỒ SƠ VỤ VIỆC BẢO VỆ TRẺ EM")) + "</b>", "title"),
        para(_("Theo Nghị định số 56/2017/NĐ-CP ngày 09/5/2017 của Chính phủ quy định chi tiết một số điều của "
             "Luật Trẻ em"), "center"),
        Spacer(1, 14 * mm), table, Spacer(1, 16 * mm), para(copy, "center"), para(made, "center"), Spacer(1, 6 * mm),
        para_marked("<b>" + markup(_("MỨC ĐỘ MẬT: %(level)s", level=mark.level_label(locale).upper())) + "</b> — "
                    + markup(_("Phạm vi cung cấp: %(who)s", who=mark.recipients)), "center"),
        para(_("Tài liệu chứa thông tin cá nhân của trẻ em được pháp luật bảo vệ (Điều 24, 33 NĐ 56/2017/NĐ-CP). "
               "Không sao chép, chuyển cho người ngoài phạm vi cung cấp."), "center"),
        PageBreak(),
    ]


def _contents_section(plan: TocPlan) -> list[Flowable]:
    """The table of contents: pages reserved now, filled in when the canvas saves (toolkit.TocPlan)."""
    story: list[Flowable] = []
    for index in range(len(plan.pages)):
        story += [TocPage(plan, index), PageBreak()]
    return story


def _is_empty(entry: dict[str, Any]) -> bool:
    if "items" in entry:
        return not entry["items"] and not any(entry.get("items_extra") or [])
    if "extra" in entry:
        return all(_is_empty(f) for f in entry.get("fields") or []) and not entry["extra"]
    return entry.get("display") in ("", None)


def _value_cell(entry: dict[str, Any], width: float, size: float = 8.5) -> Flowable:
    if "items" in entry:
        return _list_table(entry, width)
    if "extra" in entry:
        return _field_table(entry.get("fields") or [], entry["extra"], width, nested=True)[0]
    return cell(entry["display"], width, size)


def _receipt_rows(case: Any) -> list[tuple[str, str]]:
    """The cover's receipt and commune lines (issue 16): both receipts, the moment limits run from (the earlier,
    Art. 26.3, 31.2, 32.2), the incident and the residence commune (Art. 26.1; Law on Children Art. 52.2)."""
    rows = []
    if case.commune_received_at is not None:
        rows += [(_("Nơi tiếp nhận nhận thông tin"), vn_datetime(case.intake_received_at)),
                 (_("UBND xã, phường nhận thông tin"), vn_datetime(case.commune_received_at))]
    rows.append((_("Thời điểm tiếp nhận thông tin"), vn_datetime(case.received_at) + (
        " " + _("(thời điểm sớm hơn; mốc tính thời hạn)") if case.commune_received_at is not None else "")))
    session = object_session(case)
    if session is not None and case.incident_commune_id and case.residence_commune_id:
        for label, unit_id in ((_("Nơi xảy ra vụ việc"), case.incident_commune_id),
                               (_("Nơi trẻ em cư trú"), case.residence_commune_id)):
            unit = session.get(engine_models.OrgUnit, unit_id)
            rows.append((label, unit.name if unit is not None else ""))
    return rows


def _official_channel(form: str, data: dict[str, Any], locale: str) -> list[Flowable]:
    """Mẫu 01 prints three ways of receiving information (law-2026 §4); case56's finer channel ticks one."""
    if form != "mau_01" or not isinstance(data.get("channel"), str):
        return []
    ticked = official_channel(data["channel"])
    boxes = "   ".join(("[x] " if choice == ticked else "[  ] ") + choice.label(locale) for choice in OfficialChannel)
    recorded = choice_label(Channel, data["channel"], locale)
    return [para(_("Hình thức tiếp nhận (theo mẫu): %(boxes)s — ghi trên case56: %(c)s", boxes=boxes, c=recorded)),
            Spacer(1, 2 * mm)]


def _field_table(fields: list[dict[str, Any]], extra: dict[str, Any], width: float,
                 nested: bool = False) -> list[Flowable]:
    """Label | value rows, as on the paper form; groups become sub-tables. At the top level a list of objects
    (the plan's activities, the participants) is its own table between the rows, free to run over pages."""
    out: list[Flowable] = []
    rows: list[list[Any]] = []
    label_w = width * (0.34 if not nested else 0.38)
    value_w = width - label_w

    def flush() -> None:
        if rows:
            table = flow_table(rows[:], [label_w, value_w])
            style = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), PAD),
                     ("RIGHTPADDING", (0, 0), (-1, -1), PAD), ("TOPPADDING", (0, 0), (-1, -1), 2),
                     ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]
            style += [("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE)] if not nested else [
                ("BOX", (0, 0), (-1, -1), 0.3, RULE), ("BACKGROUND", (0, 0), (0, -1), SHADE)]
            table.setStyle(TableStyle(style))
            out.append(table)
            rows.clear()

    for entry in fields:
        if _is_empty(entry):
            continue
        if "items" in entry and not nested:
            flush()
            out += [Spacer(1, 3), cell(entry["label"], width - 2 * PAD, bold=True), Spacer(1, 2),
                    _list_table(entry, width), Spacer(1, 3)]
            continue
        rows.append([cell(entry["label"], label_w - 2 * PAD, colour=MUTED), _value_cell(entry, value_w - 2 * PAD)])
    for key, value in extra.items():  # data the form version does not know: shown as stored
        if value not in (None, "", [], {}):
            rows.append([cell(key, label_w - 2 * PAD, colour=MUTED), cell(_plain(value), value_w - 2 * PAD)])
    if not rows and not out:
        rows.append([cell("—", label_w - 2 * PAD), ""])
    flush()
    return out


_NARROW = {"date": 52.0, "datetime": 62.0, "integer": 50.0, "boolean": 40.0}


def _list_table(entry: dict[str, Any], width: float) -> Table:
    """A list of objects as a table: one row per item, one column per field that has a value somewhere;
    dates and numbers get narrow columns, text shares the rest."""
    items: list[list[dict[str, Any]]] = entry.get("items") or []
    names = [f["name"] for f in entry.get("fields") or []]
    filled = {x["name"] for item in items for x in item if not _is_empty(x)}
    columns = [f for f in entry.get("fields") or [] if f["name"] in filled]
    if not columns:
        return grid([[cell("—", width - 2 * PAD)]], [width], header=False)
    if len(columns) > MAX_COLUMNS:  # e.g. a plan's activities under Art. 28.3: one label | value block per item
        return _item_blocks(items, entry.get("items_extra") or [], width)
    fixed = sum(_NARROW.get(col["type"], 0.0) for col in columns)
    wide = [col for col in columns if col["type"] not in _NARROW]
    share = (width - 16 - fixed) / len(wide) if wide else 0.0
    if wide and share < 50:  # too many narrow columns: share evenly
        fixed, share = 0.0, (width - 16) / len(columns)
    col_w = [_NARROW.get(col["type"], share) if fixed else share for col in columns]
    if not wide:
        col_w = [w * (width - 16) / fixed for w in col_w]
    widths = [16.0, *col_w]
    rows: list[list[Any]] = [header_row(["#", *[col["label"] for col in columns]], widths)]
    for n, item in enumerate(items, start=1):
        by_name = {x["name"]: x for x in item}
        rows.append([str(n), *[_value_cell(by_name[col["name"]], w - 2 * PAD, 7.5) if col["name"] in by_name
                               else "" for col, w in zip(columns, col_w, strict=True)]])
    for n, extra in enumerate(entry.get("items_extra") or [], start=1):
        unknown = {k: v for k, v in (extra or {}).items() if k not in names}
        if unknown:
            rows.append([str(n), cell(_plain(unknown), width - 16 - 2 * PAD, 7.5)] + [""] * (len(columns) - 1))
    return grid(rows, widths)


# More columns than this and words break inside cells (codes, dates, amounts): the items are laid out one below the
# other instead, each as label | value rows.
MAX_COLUMNS = 7


def _item_blocks(items: list[list[dict[str, Any]]], extras: list[dict[str, Any]], width: float) -> Table:
    rows: list[list[Any]] = []
    inner = width - 16
    for n, item in enumerate(items, start=1):
        extra = extras[n - 1] if n - 1 < len(extras) else {}
        rows.append([str(n), _field_table(item, extra or {}, inner - 2 * PAD, nested=True)[0]])
    return grid(rows, [16.0, inner], header=False)


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items() if v not in (None, "", [], {}))
    if isinstance(value, list):
        return "; ".join(_plain(v) for v in value)
    return str(value)


def _shown(value: Any) -> Any:
    """A heading value (issuer, number, place) only when the copy shows it."""
    return None if value == REDACTED else value


def _release_marks(c: _Case, task: Task, released: list[str]) -> list[Flowable]:
    """The mark of every text shown because an officer marked it releasable (engine.releases)."""
    marks = c.file.releases.get(task.id, {})
    lines: list[Flowable] = []
    for name in released:
        mark = marks.get(name)
        if mark is None:
            continue
        label = releases.label_of(task, name, c.locale)
        text = _("Nội dung “%(f)s” được đánh dấu được phép cung cấp bởi %(who)s lúc %(t)s", f=label,
                 who=c.person(mark.released_by), t=vn_datetime(mark.released_at))
        if mark.reason:
            text += " — " + _("lý do: %(r)s", r=mark.reason)
        lines.append(para(text, "small"))
    return lines


# Decisions the commune issues: laid out with the national header like the Mẫu forms.
_ISSUED_BY_COMMUNE = {"emergency_decision", "separation_review", "plan_approval", "plan_end", "no_basis_signoff"}


def _forms_section(c: _Case, outline: Outline) -> list[Flowable]:
    """I. Every filled form and decision in the order done, as on paper, each with its signature block."""
    locale = c.locale
    story: list[Flowable] = [outline.heading(_("I. CÁC BIỂU MẪU VÀ QUYẾT ĐỊNH"), 0,
                                             _("I. Các biểu mẫu và quyết định"))]
    tasks = c.file.forms()
    if not tasks:
        story.append(para(_("Chưa có biểu mẫu nào được hoàn thành.")))
    seen: dict[str, int] = {}
    counts = Counter(t.form for t in tasks)
    for index, task in enumerate(tasks):
        view = casefile.task_data(task, c.options.actor, c.options.redact, marks=c.file.releases.get(task.id))
        data = view.data if view is not None else {}
        try:
            rendered = forms.render(task.form, data, version=task.form_version, locale=locale)
        except forms.UnknownForm:  # a form no longer registered: its data is still shown, as stored
            rendered = {"title": task.form, "article": "", "version": task.form_version, "fields": [],
                        "extra": data}
        seen[task.form] = seen.get(task.form, 0) + 1
        title = rendered["title"]
        repeat = " (" + _("lần %(n)s", n=seen[task.form]) + ")" if counts[task.form] > 1 else ""
        done_on = _("hoàn thành %(d)s", d=vn_date(task.completed_at))
        toc_text = f"{title}{repeat} — {done_on}"
        legal = task.form.startswith("mau_") or task.form in _ISSUED_BY_COMMUNE
        if index:
            story.append(PageBreak() if legal else CondPageBreak(70 * mm))
        if legal:
            issuer = _shown(data.get("issuing_body")) or (_("Ủy ban nhân dân") + " " + c.commune_name)
            number = _shown(data.get("report_number")) or _shown(data.get("decision_number")) or "……"
            quiet = f"{index + 1}/{len(tasks)} · {title}{repeat} — {done_on}"
            story.append(outline.heading(quiet, 1, toc_text, quiet=True))
            if task.form.startswith("mau_"):
                story.append(para(_("Mẫu số %(n)s", n=task.form.split("_")[1]), "right"))
            story += [national_header(issuer, _("Số: %(n)s", n=number), WIDTH),
                      para(_date_words(task.completed_at, _shown(data.get("place")) or c.commune_name, locale),
                           "right"),
                      para_marked(f"<b>{markup(title.upper())}</b>", "form_title")]
        else:
            story.append(outline.heading(f"{index + 1}. {title}{repeat} — {done_on}", 1, toc_text))
        meta = _("Căn cứ: %(a)s — phiên bản biểu mẫu %(v)s", a=rendered["article"], v=rendered["version"])
        # A provisional layout is listed on the annex page (web/pdf/annex.py), not flagged on the form itself.
        story += [para(meta, "center") if legal else para(meta, "small"), Spacer(1, 3 * mm),
                  *_official_channel(task.form, data, locale),
                  *_field_table(rendered["fields"], rendered.get("extra") or {}, WIDTH),
                  *_release_marks(c, task, view.released if view is not None else []),
                  Spacer(1, 4 * mm), _signature(c, task)]
    return story


def _signature(c: _Case, task: Task) -> Flowable:
    """Who completed the step, in which role and when: the signature block of the paper form."""
    user = c.users.get(task.completed_by or "")
    name = user.full_name if user is not None else (task.completed_by or "")
    half = WIDTH / 2
    block = Text([
        (c.role(task.role).upper(), FONT_BOLD, 8.5, INK),
        (_("(đã hoàn thành trên hệ thống case56)"), FONT, 7, MUTED),
        (" ", FONT, 8, INK),
        (name, FONT_BOLD, 9.5, INK),
        (_("Tài khoản: %(u)s", u=task.completed_by or ""), FONT, 8, MUTED),
        (_("Hoàn thành lúc %(t)s", t=vn_datetime(task.completed_at)), FONT, 8, INK),
    ], half - 2 * PAD, align="center")
    table = Table([["", block]], colWidths=[half, half])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return KeepTogether([table])


def _timeline_section(c: _Case, outline: Outline) -> list[Flowable]:
    """II. Every step against its legal time limit; late ones marked red."""
    late_count = sum(1 for e in c.file.timeline if e.status in ("done_late", "overdue"))
    story: list[Flowable] = [
        PageBreak(), outline.heading(_("II. DIỄN BIẾN VÀ THỜI HẠN CÁC BƯỚC"), 0,
                                     _("II. Diễn biến và thời hạn các bước")),
        para(_("%(n)s bước; %(l)s bước trễ hạn (đánh dấu đỏ).", n=len(c.file.timeline), l=late_count)),
        Spacer(1, 2 * mm)]
    widths = [18, WIDTH * 0.21, WIDTH * 0.28, WIDTH * 0.11, WIDTH * 0.2]
    widths.append(WIDTH - sum(widths))
    w = [x - 2 * PAD for x in widths]
    rows: list[list[Any]] = [header_row(
        ["#", _("Bước"), _("Thời hạn và căn cứ tính"), _("Hoàn thành"), _("Người thực hiện"), _("Kết quả")], widths)]
    extra: list[tuple] = []
    for n, entry in enumerate(c.file.timeline, start=1):
        task, status = entry.task, entry.status
        late = status in ("done_late", "overdue")
        colour = LATE if late else INK
        if status == "done_late":
            result = [(_("TRỄ"), FONT_BOLD, 8, LATE), (duration(entry.late_by_seconds or 0), FONT, 7.5, LATE)]
        elif status == "overdue":
            result = [(_("QUÁ HẠN"), FONT_BOLD, 8, LATE), (duration(entry.late_by_seconds or 0), FONT, 7.5, LATE)]
        elif status == "done_on_time" and task.due_at:
            result = [(_("Đúng hạn"), FONT_BOLD, 7.5, DONE_STROKE),
                      (_("sớm %(t)s", t=duration(entry.late_by_seconds or 0)), FONT, 7, MUTED)]
        elif status == "done_on_time":
            result = [(_("Đã hoàn thành"), FONT, 7.5, INK)]
        elif status == "cancelled":
            result = [(_("Đã hủy"), FONT, 7.5, MUTED)]
        else:
            result = [(_("Đang thực hiện"), FONT, 7.5, INK)]
        who = c.person(task.completed_by or task.assignee)
        left = time_left(task, rules=c.rules)
        estimate = [(f"{left['label']}: {left['note']}", FONT, 7, INK)] if left["estimated"] else []
        if left["legal"]:  # a working-day limit set by law: its 24:00 legal expiry beside the 17:00 target
            estimate.append((left["legal"], FONT, 7, INK))
        rows.append([
            str(n),
            Text([(c.step_title(task), FONT, 7.5, colour)], w[1]),
            Text([(vn_datetime(task.due_at) if task.due_at else _("Không có thời hạn"), FONT_BOLD, 7.5, colour),
                   *estimate, (c.rule_text(task.rule), FONT, 7, MUTED)], w[2]),
            Text([(vn_datetime(task.completed_at) if task.completed_at else "—", FONT, 7.5, INK)], w[3]),
            Text([(who, FONT, 7.5, INK), (c.role(task.role), FONT, 7, MUTED)], w[4]),
            Text(result, w[5]),
        ])
        if late:
            extra += [("BACKGROUND", (0, n), (-1, n), LATE_BG), ("LINEBEFORE", (0, n), (0, n), 2.5, LATE),
                      ("TEXTCOLOR", (0, n), (0, n), LATE)]
    story.append(grid(rows, widths, extra=extra))
    return story


def _diagram_section(c: _Case, outline: Outline) -> list[Flowable]:
    """III. The process diagram with the path taken, on landscape pages."""
    taken = path.path_taken(c.definition, [e.task for e in c.file.timeline])  # as the case page and the API
    frame_w = LANDSCAPE[0] - 2 * MARGIN_X
    frame_h = LANDSCAPE[1] - MARGIN_TOP - MARGIN_BOTTOM
    strips = diagram.tiles(c.definition, taken, c.locale, frame_w, frame_h - 62)  # 62: heading, legend, caption
    story: list[Flowable] = [NextPageTemplate("landscape"), PageBreak()]
    for i, tile in enumerate(strips):
        caption = cell(_("Phần %(i)s/%(n)s — phiên bản quy trình %(v)s", i=i + 1, n=len(strips),
                         v=c.definition.content_hash[:12]), frame_w, 7.5, MUTED)
        head: list[Flowable] = [caption]
        if i == 0:
            head = [outline.heading(_("III. SƠ ĐỒ QUY TRÌNH VÀ ĐƯỜNG ĐI CỦA HỒ SƠ"), 0,
                                    _("III. Sơ đồ quy trình và đường đi của hồ sơ")), diagram.legend(), Spacer(1, 3),
                    caption]
        story += [*head, Spacer(1, 2), tile, PageBreak()]
    story[-1:] = [NextPageTemplate("portrait"), PageBreak()]
    return story


def _attachments_section(c: _Case, outline: Outline) -> list[Flowable]:
    """IV. The attached files: name, type, size, SHA-256, who added them and when."""
    story: list[Flowable] = [outline.heading(_("IV. TÀI LIỆU ĐÍNH KÈM"), 0, _("IV. Tài liệu đính kèm"))]
    if not c.attachments:
        return [*story, para(_("Không có tài liệu đính kèm.")), Spacer(1, 6 * mm)]
    tasks = {e.task.id: e.task for e in c.file.timeline}
    widths = [18, WIDTH * 0.26, WIDTH * 0.13, WIDTH * 0.09, WIDTH * 0.25]
    widths.append(WIDTH - sum(widths))
    w = [x - 2 * PAD for x in widths]
    rows: list[list[Any]] = [header_row(
        ["#", _("Tên tệp"), _("Loại"), _("Dung lượng"), _("Mã kiểm tra SHA-256"), _("Người thêm, thời điểm")], widths)]
    # A file's name and description are typed free texts (sensitive): withheld wherever free texts are.
    texts = access.can_see_class(c.options.actor, sensitivity.SENSITIVE, c.options.redact)
    for n, item in enumerate(c.attachments, start=1):
        name = getattr(item, "file_name", None) or getattr(item, "name", None) or ""
        description = getattr(item, "description", None)
        if not texts:
            name, description = REDACTED, REDACTED if description else None
        task = tasks.get(getattr(item, "task_id", None))
        about = [(description, FONT, 7, MUTED),
                 (c.step_title(task) if task is not None else None, FONT, 7, MUTED)]
        size = getattr(item, "size", None)
        rows.append([
            str(n), Text([(name, FONT, 7.5, INK), *about], w[1]),
            cell(getattr(item, "content_type", "") or "", w[2], 7.5),
            cell(_size(size) if size is not None else "", w[3], 7.5),
            cell(getattr(item, "sha256", "") or "", w[4], 6.5),
            Text([(c.person(getattr(item, "uploaded_by", None)), FONT, 7.5, INK),
                   (vn_datetime(getattr(item, "uploaded_at", None)), FONT, 7, MUTED)], w[5]),
        ])
    return [*story, grid(rows, widths), Spacer(1, 6 * mm)]


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


def _audit_section(c: _Case, outline: Outline) -> list[Flowable]:
    """V. The case's audit trail, row by row."""
    story: list[Flowable] = [
        CondPageBreak(50 * mm),
        outline.heading(_("V. NHẬT KÝ TRUY CẬP VÀ THAY ĐỔI"), 0, _("V. Nhật ký truy cập và thay đổi")),
        para(_("%(n)s dòng nhật ký của hồ sơ (chuỗi băm liên tục, kiểm tra bằng lệnh: case56 audit verify).",
             n=len(c.audit))), Spacer(1, 2 * mm)]
    widths = [30, 72, WIDTH * 0.24, WIDTH * 0.16]
    widths.append(WIDTH - sum(widths))
    w = [x - 2 * PAD for x in widths]
    rows: list[list[Any]] = [header_row([_("Số"), _("Thời điểm"), _("Người thực hiện"), _("Hành động"),
                                          _("Chi tiết")], widths)]
    people: dict[str, str] = {}
    actions = labels.audit_actions(c.locale)  # translated once, not once per row
    summary = labels.AuditSummary(labels.step_titles(c.definition, [e.task for e in c.file.timeline], c.locale),
                                  c.locale)
    for entry in c.audit:
        who = people.get(entry.actor) or people.setdefault(entry.actor, c.person(entry.actor))
        rows.append([str(entry.id), vn_datetime(entry.at), cell(who, w[2], 7),
                     cell(actions.get(entry.action, entry.action), w[3], 7),
                     cell(summary(entry.details), w[4], 7)])
    story.append(grid(rows, widths, extra=[("FONTSIZE", (0, 1), (1, -1), 7)]))
    return story


# ------------------------------------------------------------------------------------------------------------
# Entry point


@functools.cache
def _standalone_engine() -> Engine:
    return Engine()


def _default_engine() -> Engine:
    if has_app_context():
        from web import engine

        return engine()
    return _standalone_engine()


@contextmanager
def _locale(locale: str) -> Iterator[None]:
    # Outside an application context flask_babel answers with the msgid: the Vietnamese text.
    with force_locale(locale) if has_app_context() else nullcontext():
        yield


def build(session: Session, case_id: int, options: Options | None = None, locale: str = "vi",
          engine: Engine | None = None) -> bytes:
    """The dossier of case `case_id` as PDF bytes. Raises engine.errors.NotFound for a missing case.

    No permission check and no audit row here: the caller (web route, CLI) does both.
    """
    register_fonts()
    options = options or Options()
    locale = "en" if locale == "en" else "vi"
    mark = options.stamp or stamp.choose("dossier_redacted" if options.redact else "dossier", locale=locale)
    options = dataclasses.replace(options, stamp=mark)
    engine = engine or _default_engine()
    with _locale(locale):
        c = _load(session, case_id, engine, options, locale)
        outline = Outline()
        body = (_forms_section(c, outline) + _timeline_section(c, outline) + _diagram_section(c, outline)
                + _attachments_section(c, outline) + _audit_section(c, outline) + annex.annex_section(c, outline))
        plan = TocPlan(outline, clean(_("MỤC LỤC")))
        story = _cover_section(c) + _contents_section(plan) + body

        case = c.case
        running = clean(_("Hồ sơ %(n)s — %(c)s", n=case.number, c=c.commune_name))
        if options.redact:
            running += " — " + clean(_("BẢN ĐÃ ẨN THÔNG TIN"))
        secret = clean(mark.level_label(locale).upper())

        def decorate(canvas: Canvas, doc: BaseDocTemplate) -> None:
            if doc.page == 1:
                return
            width, height = canvas._pagesize
            canvas.saveState()
            canvas.setFont(FONT, 7)
            canvas.setFillColor(MUTED)
            canvas.drawString(MARGIN_X, height - 11 * mm, running)
            canvas.setFont(FONT_BOLD, 7.5)
            canvas.setFillColor(LATE)
            canvas.drawRightString(width - MARGIN_X, height - 11 * mm, secret)
            canvas.setStrokeColor(RULE)
            canvas.setLineWidth(0.4)
            canvas.line(MARGIN_X, height - 13.5 * mm, width - MARGIN_X, height - 13.5 * mm)
            canvas.restoreState()

        buffer = io.BytesIO()
        doc = Doc(buffer, outline, decorate,
                   title=clean(_("Hồ sơ vụ việc bảo vệ trẻ em %(n)s", n=case.number)),
                   author=clean(_("Ủy ban nhân dân") + " " + c.commune_name),
                   subject=clean(_("Hồ sơ vụ việc theo Nghị định 56/2017/NĐ-CP — tài liệu mật")),
                   creator="case56", keywords=clean(case.number), lang=locale)
        footer = clean(mark.text(locale) + "\n" + _(
            "Thông tin cá nhân của trẻ em được bảo vệ theo Luật Trẻ em 2016 và Luật Bảo vệ dữ liệu cá nhân 2025. "
            "Không sao chép, cung cấp ngoài phạm vi trên."))
        doc.build(story, canvasmaker=numbered_canvas(clean(_("Trang %(x)s/%(y)s")), footer, plan))
        return buffer.getvalue()
