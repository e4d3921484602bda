"""The confidentiality stamp — "Mức độ mật / phạm vi cung cấp" (Decree 56/2017 Art. 24.3: reports of the bodies
protecting children state their level of confidentiality and to whom they may be given).

Every report, export and dossier page carries one. It is chosen per export (a level and who may receive it),
printed on every page or at the head of the file, and written to the audit row of the export. A case's copy is
never public; statistics (figures only, no personal data) may be.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from engine.errors import FieldErrors

# code → (Vietnamese, English). Ordered from the strictest.
LEVELS: dict[str, tuple[str, str]] = {
    "mat": ("Mật", "Confidential"),
    "han_che": ("Hạn chế", "Restricted"),
    "noi_bo": ("Lưu hành nội bộ", "Internal"),
    "cong_khai": ("Công khai", "Public"),
}
CASE_LEVELS = ("mat", "han_che", "noi_bo")  # a case's copy holds personal data: never public
REPORT_LEVELS = tuple(LEVELS)
MAX_RECIPIENTS = 300

# Defaults when the person exporting chooses nothing: (level, recipients vi, recipients en).
_DEFAULTS = {
    "dossier": ("mat", "Người có thẩm quyền, chức năng bảo vệ trẻ em của địa phương thụ lý hồ sơ "
                       "(Điều 24 NĐ 56/2017/NĐ-CP)",
                "Those with authority and duty to protect children where the case is handled "
                "(Decree 56/2017 Art. 24)"),
    "dossier_redacted": ("han_che", "Cơ quan, tổ chức có thẩm quyền được cung cấp để bảo vệ trẻ em "
                                    "(Điều 24.2 NĐ 56/2017/NĐ-CP)",
                         "Bodies with authority to receive it for the child's protection (Decree 56/2017 Art. 24.2)"),
    "report": ("noi_bo", "Cơ quan quản lý nhà nước về trẻ em các cấp", "State bodies managing child affairs"),
}


@dataclass(frozen=True)
class Stamp:
    level: str
    recipients: str
    chosen: bool = False  # set by the person exporting (else the default for the kind of document)

    def level_label(self, locale: str = "vi") -> str:
        vi, en = LEVELS[self.level]
        return en if locale == "en" else vi

    def text(self, locale: str = "vi") -> str:
        """The line printed on every page."""
        if locale == "en":
            return f"Confidentiality: {self.level_label('en')} — may be given to: {self.recipients}"
        return f"Mức độ mật: {self.level_label('vi')} — Phạm vi cung cấp: {self.recipients}"

    def audit(self) -> dict[str, Any]:
        return {"stamp_level": self.level, "stamp_recipients": self.recipients, "stamp_chosen": self.chosen}


def _clean(value: Any) -> str:
    return unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else ""


def choose(kind: str, level: Any = None, recipients: Any = None, locale: str = "vi") -> Stamp:
    """The stamp of one export. `kind`: "dossier", "dossier_redacted" or "report". Raises FieldErrors (fields
    "level", "recipients") for a level not allowed for this kind of document or a malformed recipients line."""
    default_level, default_vi, default_en = _DEFAULTS[kind]
    allowed = REPORT_LEVELS if kind == "report" else CASE_LEVELS
    errors: dict[str, tuple[str, str]] = {}
    level_text, recipients_text = _clean(level), _clean(recipients)
    if level not in (None, "") and level_text not in allowed:
        names_vi = ", ".join(f"{code} ({LEVELS[code][0]})" for code in allowed)
        names_en = ", ".join(f"{code} ({LEVELS[code][1]})" for code in allowed)
        errors["level"] = (f"Mức độ mật phải là một trong: {names_vi}.", f"The level must be one of: {names_en}.")
    if recipients not in (None, "") and (
            not isinstance(recipients, str) or len(recipients_text) > MAX_RECIPIENTS
            or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in recipients_text)):
        errors["recipients"] = (
            f"Phạm vi cung cấp: tối đa {MAX_RECIPIENTS} ký tự trên một dòng, không chứa ký tự điều khiển.",
            f"Who may receive it: at most {MAX_RECIPIENTS} characters on one line, no control characters.")
    if errors:
        raise FieldErrors(errors)
    chosen = bool(level_text or recipients_text)
    return Stamp(level_text or default_level,
                 recipients_text or (default_en if locale == "en" else default_vi), chosen)
