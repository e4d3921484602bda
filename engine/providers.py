"""The registry of child-protection service providers (Decree 56 Art. 28.3.c) and the plan's check against it.

Administrators keep the registry per province or commune (`ServiceProvider.unit`): a provincial provider serves
every commune of its province, a commune's provider its commune. A plan (Mẫu 04, version 3) names the provider
each activity mobilises by the provider's code; on completion `check_plan_providers` refuses a code that is not
an active provider of the case's province or commune, with a message on that activity's field, and takes the
provider's name from the registry (never from the client). A deactivated provider stays in the registry, so a
plan that named it still shows who it was.

`save` validates an administrator's input (field errors in Vietnamese or English, nothing saved) and writes the
row with its audit entry; the web pages and tests call it alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import forms
from engine import audit, clock
from engine.models import Case, OrgUnit, ServiceProvider
from forms.kit import messages
from forms.kit.choices import ServiceType

PLAN_FORM = "mau_04"
CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")
LIMITS = {"name": 200, "address": 500, "contact": 200}
MESSAGES = {
    "unknown": ("Không có cơ sở cung cấp dịch vụ nào với mã này trong danh mục; hãy chọn trong danh sách.",
                "No service provider has this code in the registry; choose one from the list."),
    "inactive": ("Cơ sở cung cấp dịch vụ này đã ngừng hoạt động trong danh mục; hãy chọn cơ sở khác.",
                 "This service provider is deactivated in the registry; choose another one."),
    "out_of_scope": ("Cơ sở cung cấp dịch vụ này không thuộc danh mục của tỉnh hoặc xã/phường của hồ sơ.",
                     "This service provider is not in the registry of the case's province or commune."),
    # the administrator's input
    "code": ("Mã 2–32 ký tự: chữ in hoa không dấu, số, gạch ngang (ví dụ T01-DV-01).",
             "A code of 2–32 characters: capital letters without accents, digits, hyphens (e.g. T01-DV-01)."),
    "code_taken": ("Mã này đã được dùng cho một cơ sở khác.", "This code is already used by another provider."),
    "code_fixed": ("Không đổi được mã của cơ sở: kế hoạch đã lưu dẫn chiếu theo mã này.",
                   "A provider's code cannot change: stored plans refer to it."),
    "required": ("Trường này là bắt buộc.", "This field is required."),
    "too_long": ("Tối đa {max} ký tự, không xuống dòng, không có ký tự điều khiển.",
                 "At most {max} characters, on one line, without control characters."),
    "service_type": ("Loại dịch vụ không hợp lệ.", "Invalid type of service."),
    "unit": ("Chọn một tỉnh hoặc một xã/phường.", "Choose a province or a commune."),
}


def message(key: str, locale: str = "vi", **params: Any) -> str:
    vi, en = MESSAGES[key]
    return (en if messages.normalize_locale(locale) == "en" else vi).format(**params)


@dataclass(frozen=True)
class Offer:
    """A provider a plan of one case may choose, as the pick list shows it."""

    code: str
    name: str
    service_type: str
    unit_name: str

    def type_label(self, locale: str = "vi") -> str:
        return next((t.label(locale) for t in ServiceType if t.value == self.service_type), self.service_type)

    def label(self, locale: str = "vi") -> str:
        return f"{self.name} — {self.type_label(locale)} ({self.unit_name})"


def available(session: Session, case: Case) -> list[Offer]:
    """The active providers of the case's commune and province: the commune's first, then by name."""
    rows = session.execute(
        select(ServiceProvider.code, ServiceProvider.name, ServiceProvider.service_type, OrgUnit.name, OrgUnit.kind)
        .join(OrgUnit, OrgUnit.id == ServiceProvider.unit_id)
        .where(ServiceProvider.active.is_(True),
               or_(ServiceProvider.unit_id == case.commune_id, ServiceProvider.unit_id == case.province_id))
    ).all()
    from engine.assignees import sort_key  # Vietnamese alphabetical order, the same on every database

    rows = sorted(rows, key=lambda r: (r[4] != "commune", sort_key(r[1]), r[0]))
    return [Offer(code, name, kind, unit) for code, name, kind, unit, _k in rows]


def _refusal(session: Session, case: Case, code: str) -> str | None:
    provider = session.scalar(select(ServiceProvider).where(ServiceProvider.code == code))
    if provider is None:
        return "unknown"
    if provider.unit_id not in (case.commune_id, case.province_id):
        return "out_of_scope"
    if not provider.active:
        return "inactive"
    return None


def check_plan_providers(session: Session, case: Case, data: dict[str, Any], locale: str = "vi") -> dict[str, Any]:
    """The validated plan with each named provider's `provider_name` taken from the registry; raises
    `forms.FormError` on `activities.<i>.provider` for a code that is not an active provider of the case's
    province or commune. An activity without a provider (nothing mobilised) has no provider name."""
    names = {offer.code: offer.name for offer in available(session, case)}
    errors: dict[str, Any] = {}
    codes: dict[str, Any] = {}
    activities = []
    for index, activity in enumerate(data.get("activities") or []):
        if "provider" not in activity:  # a plan version without providers
            activities.append(activity)
            continue
        code = activity.get("provider")
        if not code:
            activities.append({**activity, "provider_name": None})
            continue
        if code in names:
            activities.append({**activity, "provider_name": names[code]})
            continue
        why = _refusal(session, case, code) or "unknown"
        errors[str(index)] = {"provider": [message(why, locale)]}
        codes[str(index)] = {"provider": [f"provider_{why}"]}
        activities.append(activity)
    if errors:
        raise forms.FormError({"activities": errors}, codes={"activities": codes}, form=PLAN_FORM,
                              version=forms.get(PLAN_FORM).version, locale=messages.normalize_locale(locale))
    return {**data, "activities": activities}


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        out[key] = _merge(out[key], value) if isinstance(out.get(key), dict) and isinstance(value, dict) else value
    return out


def check_plan(session: Session, case: Case, data: dict[str, Any], locale: str = "vi") -> dict[str, Any]:
    """A plan's activities against the database: who carries each out (engine.assignees) and the provider it
    mobilises; every refusal of both at once, in one `forms.FormError`."""
    from engine import assignees

    refused: list[forms.FormError] = []
    try:
        data = assignees.check_plan_assignees(session, case, data, locale)
    except forms.FormError as error:
        refused.append(error)
    try:
        data = check_plan_providers(session, case, data, locale)
    except forms.FormError as error:
        refused.append(error)
    if len(refused) == 1:
        raise refused[0]
    if refused:
        first, second = refused
        raise forms.FormError(_merge(first.errors, second.errors), codes=_merge(first.codes, second.codes),
                              form=first.form, version=first.version, locale=first.locale)
    return data


# -- the administrators' registry ------------------------------------------------------------------------------

class Invalid(Exception):
    """The administrator's input has field errors (`errors`: field -> message); nothing was saved."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def _clean_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _check(session: Session, raw: dict[str, Any], provider: ServiceProvider | None,
           locale: str) -> tuple[dict[str, Any], OrgUnit | None]:
    errors: dict[str, str] = {}
    data = {key: _clean_text(raw.get(key)) for key in ("code", "name", "service_type", "address", "contact", "unit")}
    data["code"] = data["code"].upper()
    if provider is None:
        if not CODE.match(data["code"]):
            errors["code"] = message("code", locale)
        elif session.scalar(select(ServiceProvider.id).where(ServiceProvider.code == data["code"])) is not None:
            errors["code"] = message("code_taken", locale)
    elif data["code"] and data["code"] != provider.code:
        errors["code"] = message("code_fixed", locale)
    for key, limit in LIMITS.items():
        value = data[key]
        if key == "name" and not value:
            errors[key] = message("required", locale)
        elif len(value) > limit or any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in value):
            errors[key] = message("too_long", locale, max=limit)
    if data["service_type"] not in ServiceType.codes():
        errors["service_type"] = message("service_type", locale)
    unit = session.get(OrgUnit, int(data["unit"])) if data["unit"].isdigit() and len(data["unit"]) < 10 else None
    if unit is None or unit.kind not in ("province", "commune"):
        errors["unit"] = message("unit", locale)
    if errors:
        raise Invalid(errors)
    return data, unit


def save(session: Session, actor: str, raw: dict[str, Any], provider: ServiceProvider | None = None,
         locale: str = "vi") -> ServiceProvider:
    """Add a provider (`provider` None) or change one, with its audit entry; the caller commits. Raises
    `Invalid` with every field error at once and changes nothing. The code of an existing provider is fixed."""
    data, unit = _check(session, raw, provider, locale)
    assert unit is not None  # _check raised otherwise
    now = clock.now()
    if provider is None:
        provider = ServiceProvider(code=data["code"], created_at=now, created_by=actor, active=True)
        session.add(provider)
        action = "provider_created"
    else:
        provider.updated_at, provider.updated_by = now, actor
        action = "provider_updated"
    before = {"name": provider.name, "service_type": provider.service_type, "address": provider.address,
              "contact": provider.contact, "unit": provider.unit.code if provider.unit_id else None}
    provider.name, provider.service_type = data["name"], data["service_type"]
    provider.address, provider.contact, provider.unit_id = data["address"], data["contact"], unit.id
    session.flush()
    after = {"name": provider.name, "service_type": provider.service_type, "address": provider.address,
             "contact": provider.contact, "unit": unit.code}
    details: dict[str, Any] = {"code": provider.code, **after}
    if action == "provider_updated":
        details["changed"] = sorted(key for key in after if before[key] != after[key])
    audit.append(session, actor, action, None, details, now)
    return provider


def set_active(session: Session, actor: str, provider: ServiceProvider, active: bool) -> bool:
    """Deactivate or reactivate a provider, audited; False when it already was so (nothing written). Plans that
    named a deactivated provider keep it; new plans can no longer choose it."""
    if provider.active is active:
        return False
    now = clock.now()
    provider.active, provider.updated_at, provider.updated_by = active, now, actor
    audit.append(session, actor, "provider_reactivated" if active else "provider_deactivated", None,
                 {"code": provider.code, "name": provider.name}, now)
    return True
