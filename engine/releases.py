"""Free texts an officer marked releasable (issue 18).

Every free text is sensitive (forms/kit/sensitivity.py): it is withheld in a redacted copy and from roles
without the right to sensitive data. When one text must reach them (a finding the province supervisor has to
read, a measure a partner must know), the commune's officer or chairman marks that text of that step
releasable, with a reason. The mark is audited, shown wherever the text is shown, can be taken back, and holds
only for the text marked: it is bound to the text's SHA-256, so a changed text is withheld again. Only the
sensitive class is lifted: the informant and the child's private items (Art. 33) are never released this way.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import forms
from engine import access, audit, clock
from engine.errors import FieldErrors, Forbidden, NotFound
from engine.models import Case, Task, TextRelease
from forms.kit import sensitivity

MAX_REASON = 500


def for_case(session: Session, case_id: int) -> dict[int, dict[str, TextRelease]]:
    """The case's releases by step and field path."""
    out: dict[int, dict[str, TextRelease]] = {}
    for row in session.scalars(select(TextRelease).where(TextRelease.case_id == case_id).order_by(TextRelease.id)):
        out.setdefault(row.task_id, {})[row.path] = row
    return out


def for_task(session: Session, task_id: int) -> dict[str, TextRelease]:
    return {row.path: row for row in session.scalars(select(TextRelease).where(TextRelease.task_id == task_id))}


def checker(marks: Mapping[str, TextRelease]) -> Callable[[str, Any], bool]:
    """released(path, value) for sensitivity.filter_data: marked, and still the very text that was marked."""
    def released(path: str, value: Any) -> bool:
        mark = marks.get(path)
        return mark is not None and mark.value_sha256 == sensitivity.digest(value)
    return released


def candidates(task: Task) -> list[tuple[str, Any]]:
    """The texts of a completed step that may be marked: (path, field) of every free text with a value that is
    withheld from someone for being sensitive — never the informant's (list items by index)."""
    if task.state != "completed" or not task.form or not isinstance(task.form_data, Mapping):
        return []
    try:
        schema = forms.get(task.form, task.form_version).schema
    except forms.UnknownForm:
        return []
    out: list[tuple[str, Any]] = []
    for leaf in sensitivity.leaves(schema):
        if not leaf.free_text or sensitivity.INFORMANT in leaf.classes:
            continue
        for path, value in _values(task.form_data, list(leaf.path), ()):
            if isinstance(value, str) and value.strip():
                out.append((path, leaf.field))
    return out


def label_of(task: Task, path: str, locale: str = "vi") -> str:
    """The label of the field a mark names (its path when the form version no longer knows it)."""
    try:
        leaf = sensitivity.resolve(forms.get(task.form or "", task.form_version).schema, tuple(path.split(".")))
    except forms.UnknownForm:
        leaf = None
    if leaf is None:
        return path
    label = leaf.field.metadata.get(f"label_{locale}") or leaf.field.metadata.get("label_vi") or path
    index = next((part for part in path.split(".") if part.isdigit()), None)
    return f"{label} ({int(index) + 1})" if index is not None else label


def _values(data: Any, parts: list[str], prefix: tuple[str, ...]) -> list[tuple[str, Any]]:
    if not parts:
        return [(".".join(prefix), data)]
    head, rest = parts[0], parts[1:]
    if head == "*":
        items = data if isinstance(data, list) else []
        return [found for i, item in enumerate(items) for found in _values(item, rest, (*prefix, str(i)))]
    if isinstance(data, Mapping) and head in data:
        return _values(data[head], rest, (*prefix, head))
    return []


def _value_at(data: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, Mapping) and part in data:
            data = data[part]
        else:
            return None
    return data


def _field_error(vi: str, en: str) -> FieldErrors:
    return FieldErrors({"field": (vi, en)})


def _target(session: Session, actor: access.Actor, task_id: int, path: str) -> tuple[Task, Case, str]:
    task = session.get(Task, task_id)
    case = session.get(Case, task.case_id) if task is not None else None
    if task is None or case is None or not access.can_read_case(actor, case):
        raise NotFound("Không tìm thấy bước này.", "No such step.")
    if not access.can_release_text(actor, case):
        raise Forbidden("Chỉ người làm công tác bảo vệ trẻ em hoặc Chủ tịch UBND xã của hồ sơ được đánh dấu nội dung "
                        "được phép cung cấp.",
                        "Only the case's commune officer or chairman may mark a text releasable.")
    path = unicodedata.normalize("NFC", path or "").strip()
    if task.state != "completed" or not task.form or task.form_data is None:
        raise _field_error("Chỉ đánh dấu được nội dung của biểu mẫu đã hoàn thành.",
                           "Only a text of a completed form can be marked.")
    try:
        leaf = sensitivity.resolve(forms.get(task.form, task.form_version).schema, tuple(path.split(".")))
    except forms.UnknownForm:
        leaf = None
    if leaf is None or not leaf.free_text or sensitivity.SENSITIVE not in leaf.classes:
        raise _field_error(f"“{path[:80]}” không phải là một trường văn bản tự do của biểu mẫu này.",
                           f"“{path[:80]}” is not a free-text field of this form.")
    if sensitivity.INFORMANT in leaf.classes:  # Art. 24.1: kept secret for the informant's safety, always
        raise _field_error("Thông tin về người báo tin không được đánh dấu được phép cung cấp (Điều 24.1 NĐ 56/2017).",
                           "The informant's details are never marked releasable (Decree 56/2017 Art. 24.1).")
    return task, case, path


def mark(session: Session, actor: access.Actor, task_id: int, path: str, reason: str | None = None) -> TextRelease:
    """Mark the text at `path` of a completed step releasable (audited, committed). Marking again renews it."""
    task, case, path = _target(session, actor, task_id, path)
    value = _value_at(task.form_data, path.split("."))
    if not isinstance(value, str) or not value.strip():
        raise _field_error("Trường này chưa có nội dung để đánh dấu.", "This field holds no text to mark.")
    reason = unicodedata.normalize("NFC", reason or "").strip() or None
    if reason is not None and (len(reason) > MAX_REASON or any(unicodedata.category(ch) in ("Cc", "Cf")
                                                                for ch in reason)):
        raise FieldErrors({"reason": (f"Lý do tối đa {MAX_REASON} ký tự, một dòng, không chứa ký tự điều khiển.",
                                      f"The reason: at most {MAX_REASON} characters on one line, no control "
                                      "characters.")})
    row = for_task(session, task.id).get(path)
    if row is None:
        row = TextRelease(case_id=case.id, task_id=task.id, path=path)
        session.add(row)
    row.value_sha256 = sensitivity.digest(value)
    row.reason = reason
    row.released_by = actor.username
    row.released_at = clock.now()
    audit.append(session, actor.username, "text_released", case.id,
                 {"task": task.id, "step": task.step, "field": path, "role": actor.role})
    session.commit()
    return row


def unmark(session: Session, actor: access.Actor, task_id: int, path: str) -> None:
    """Take the mark back: the text is withheld again (audited, committed)."""
    task, case, path = _target(session, actor, task_id, path)
    row = for_task(session, task.id).get(path)
    if row is None:
        raise NotFound("Nội dung này chưa được đánh dấu được phép cung cấp.", "This text is not marked releasable.")
    session.delete(row)
    audit.append(session, actor.username, "text_release_revoked", case.id,
                 {"task": task.id, "step": task.step, "field": path, "role": actor.role})
    session.commit()
