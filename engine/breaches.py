"""The breach register (Law 91/2025/QH15 Art. 23): a personal data breach is recorded with its moment of
discovery; the notice to the Ministry of Public Security (A05) is due 72 hours later (processes/privacy/breach.toml).
`tick` escalates a breach whose notice is late (once, audited; the administrators see it on the admin pages and in
their e-mail digest). The notice's content starts from `notice_template` and is completed by the administrator;
a processor's notice to the controller is recorded the same way; a breach closes with its outcome, and not before
the A05 notice when the record names a risk to life, health, dignity, property or order.
"""

from __future__ import annotations

import tomllib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import forms
from engine import access, audit, clock
from engine.errors import Conflict, Forbidden, InvalidState, NotFound
from engine.models import Breach
from engine.registry import PROCESS_DIR
from engine.runtime import Engine
from forms.breach_report import BreachData, BreachRisk
from forms.kit.choices import label

SETTINGS_FILE = PROCESS_DIR / "privacy" / "breach.toml"


@dataclass(frozen=True)
class Settings:
    notify_within: timedelta
    article: str

    @classmethod
    def load(cls, path: Path = SETTINGS_FILE) -> Settings:
        raw = tomllib.loads(path.read_text(encoding="utf-8")).get("breach", {})
        hours = raw.get("notify_within_hours")
        if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
            raise ValueError(f"{path.name}: [breach].notify_within_hours must be a positive number")
        return cls(timedelta(hours=hours), str(raw.get("article", "")))


SETTINGS = Settings.load()


def _allowed(actor: access.Actor) -> None:
    if not access.can_handle_privacy(actor):
        raise Forbidden("Bạn không được quản lý sổ vi phạm dữ liệu cá nhân.",
                        "You may not manage the breach register.")


def _field_error(field: str, vi: str, en: str, locale: str) -> forms.FormError:
    return forms.FormError({field: [en if locale == "en" else vi]}, codes={field: ["invalid"]}, locale=locale)


def _locked(session: Session, breach_id: int) -> Breach:
    breach = session.get(Breach, breach_id, with_for_update=session.get_bind().dialect.name == "postgresql")
    if breach is None:
        raise NotFound("Không tìm thấy vụ vi phạm.", "No such breach.")
    return breach


def record(engine: Engine, session: Session, actor: access.Actor, data: dict[str, Any],
           locale: str = "vi") -> Breach:
    """Record a breach; its 72-hour clock runs from the discovery written on the record, not from now."""
    _allowed(actor)
    clean = forms.validate("breach_report", data, locale=locale)
    with engine.transaction(session):
        now = clock.now()
        discovered = clock.parse_moment(clean["discovered_at"])
        breach = Breach(number=f"tmp-{uuid.uuid4().hex}", status="open", discovered_at=discovered,
                        notify_due_at=discovered + SETTINGS.notify_within, recorded_by=actor.username,
                        recorded_at=now, report=clean, updated_at=now)
        session.add(breach)
        session.flush()
        breach.number = f"VPDL-{clock.local(discovered).year}-{breach.id:04d}"
        audit.append(session, actor.username, "breach_recorded", None,
                     {"breach": breach.id, "number": breach.number, "notify_due_at": breach.notify_due_at,
                      "data": clean}, now)
        return breach


def notify(engine: Engine, session: Session, actor: access.Actor, breach_id: int, data: dict[str, Any],
           expected_version: int | None = None, locale: str = "vi") -> Breach:
    """Record a notice as sent: to A05 (Art. 23.1) or, for a processor, to the controller."""
    _allowed(actor)
    clean = forms.validate("breach_notification", data, locale=locale)
    with engine.transaction(session):
        breach = _locked(session, breach_id)
        _current(breach, expected_version)
        if breach.status == "closed":
            raise InvalidState("Vụ vi phạm đã kết thúc.", "The breach is closed.")
        sent = clock.parse_moment(clean["sent_at"])
        if sent < breach.discovered_at:
            raise _field_error("sent_at", "Thời điểm gửi trước thời điểm phát hiện.",
                               "Sent before the breach was discovered.", locale)
        now = clock.now()
        if clean["recipient"] == "a05":
            if breach.notified_at is not None:
                raise _field_error("recipient", "Đã ghi nhận thông báo gửi Bộ Công an cho vụ này.",
                                   "The notice to the Ministry was already recorded.", locale)
            if sent > breach.notify_due_at and not clean.get("late_reason"):
                raise _field_error("late_reason", "Thông báo gửi sau 72 giờ kể từ khi phát hiện: hãy nêu lý do.",
                                   "Sent after 72 hours from discovery: give the reason.", locale)
            breach.notified_at, breach.notification, breach.status = sent, clean, "notified"
        else:
            if breach.controller_notified_at is not None:
                raise _field_error("recipient", "Đã ghi nhận thông báo cho bên kiểm soát dữ liệu.",
                                   "The notice to the controller was already recorded.", locale)
            breach.controller_notified_at, breach.controller_notice = sent, clean
        breach.updated_at = now
        audit.append(session, actor.username, "breach_notified", None,
                     {"breach": breach.id, "recipient": clean["recipient"], "sent_at": sent,
                      "late": sent > breach.notify_due_at, "data": clean}, now)
        session.flush()
        return breach


def close(engine: Engine, session: Session, actor: access.Actor, breach_id: int, data: dict[str, Any],
          expected_version: int | None = None, locale: str = "vi") -> Breach:
    _allowed(actor)
    clean = forms.validate("breach_closure", data, locale=locale)
    with engine.transaction(session):
        breach = _locked(session, breach_id)
        _current(breach, expected_version)
        if breach.status == "closed":
            raise InvalidState("Vụ vi phạm đã kết thúc.", "The breach is already closed.")
        if breach.report.get("risks") and breach.notified_at is None:
            raise _field_error("outcome", "Vụ vi phạm có nguy cơ gây tổn hại: phải ghi nhận thông báo gửi Bộ Công an "
                               "(A05) trước khi kết thúc (Điều 23 khoản 1 Luật 91/2025/QH15).",
                               "The breach puts people at risk: record the notice to A05 before closing.", locale)
        now = clock.now()
        breach.closed_at, breach.closure, breach.status, breach.updated_at = now, clean, "closed", now
        audit.append(session, actor.username, "breach_closed", None, {"breach": breach.id, "data": clean}, now)
        session.flush()
        return breach


def _current(breach: Breach, expected_version: int | None) -> None:
    if expected_version is not None and breach.version != expected_version:
        raise Conflict("Vụ vi phạm đã thay đổi kể từ khi bạn mở trang; không có thay đổi nào được lưu.",
                       "The breach changed since you opened the page; nothing was saved.")


def tick(engine: Engine, session: Session, batch: int = 100) -> int:
    """Escalate each breach whose A05 notice is past its 72 hours and not recorded; returns how many."""
    now = clock.now()
    due = list(session.scalars(select(Breach.id).where(Breach.status == "open", Breach.escalated_at.is_(None),
                                                       Breach.notify_due_at < now).limit(batch)))
    escalated = 0
    for breach_id in due:
        try:
            with engine.transaction(session):
                breach = _locked(session, breach_id)
                if breach.status != "open" or breach.escalated_at is not None:
                    continue
                breach.escalated_at = breach.updated_at = clock.now()
                audit.append(session, "system", "breach_escalated", None,
                             {"breach": breach.id, "number": breach.number, "notify_due_at": breach.notify_due_at})
                session.flush()
                escalated += 1
        except Conflict:
            continue
    return escalated


def attention(session: Session, now: datetime | None = None) -> list[Breach]:
    """Open breaches whose A05 notice is late or due within 24 hours, the most urgent first."""
    now = now or clock.now()
    return list(session.scalars(select(Breach).where(Breach.status == "open",
                                                     Breach.notify_due_at < now + timedelta(hours=24))
                                .order_by(Breach.notify_due_at, Breach.id)))


def notice_template(breach: Breach, unit: str, locale: str = "vi") -> str:
    """The notice's content prefilled from the record, for the administrator to complete (the items Law 91
    Art. 23 expects: what happened and when, the data and people affected, the risk, what is done, a contact)."""
    report = breach.report
    when = clock.local(breach.discovered_at).strftime("%H:%M %d/%m/%Y")
    data = ", ".join(label(BreachData, c, locale) for c in report.get("data_categories") or [])
    risks = ", ".join(label(BreachRisk, c, locale) for c in report.get("risks") or []) or (
        "none identified" if locale == "en" else "chưa xác định")
    if locale == "en":
        return (f"NOTICE OF A PERSONAL DATA BREACH ({breach.number})\n"
                f"To: Ministry of Public Security (A05)\nFrom: {unit}\n"
                f"1. Discovered at {when} by {report.get('discovered_by', '')}.\n"
                f"2. What happened: {report.get('description', '')}\n"
                f"3. Data affected: {data}. Data subjects affected (estimate): {report.get('subjects_count')}.\n"
                f"4. Risk of harm to: {risks}.\n"
                f"5. Measures taken: {report.get('measures') or '[to complete]'}\n"
                f"6. Measures planned and advice to the persons affected: [to complete]\n"
                f"7. Contact person: [to complete]\n"
                f"Legal basis: Law 91/2025/QH15 Art. 23.1 (within 72 hours of discovery).")
    return (f"THÔNG BÁO VI PHẠM QUY ĐỊNH VỀ BẢO VỆ DỮ LIỆU CÁ NHÂN ({breach.number})\n"
            f"Kính gửi: Bộ Công an (Cục An ninh mạng và phòng, chống tội phạm sử dụng công nghệ cao – A05)\n"
            f"Đơn vị thông báo: {unit}\n"
            f"1. Thời điểm phát hiện: {when}; người phát hiện: {report.get('discovered_by', '')}.\n"
            f"2. Diễn biến vụ việc: {report.get('description', '')}\n"
            f"3. Loại dữ liệu bị ảnh hưởng: {data}. Số chủ thể dữ liệu bị ảnh hưởng (ước tính): "
            f"{report.get('subjects_count')}.\n"
            f"4. Nguy cơ gây tổn hại đến: {risks}.\n"
            f"5. Biện pháp đã áp dụng: {report.get('measures') or '[cần bổ sung]'}\n"
            f"6. Biện pháp dự kiến và khuyến nghị cho chủ thể dữ liệu: [cần bổ sung]\n"
            f"7. Người liên hệ: [cần bổ sung]\n"
            f"Căn cứ: Điều 23 khoản 1 Luật 91/2025/QH15 (thông báo trong 72 giờ kể từ khi phát hiện).")
