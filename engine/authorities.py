"""Who decides what since 01/07/2025, as dated configuration (`processes/authorities.toml`).

The Decree 147/2025 reassignments (court requests, service providers, facility lists → commune or provincial
chairman) apply from 01/07/2025 to 01/03/2027 unless extended: an assignment carries its validity dates and
sources, and the administrator is warned `warn_days` before its end date and after it, so the configuration is
reviewed before the law behind it lapses.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

AUTHORITIES_FILE = Path(__file__).resolve().parent.parent / "processes" / "authorities.toml"
KEYS = {"decision_vi", "decision_en", "law", "body_vi", "body_en", "formerly_vi", "formerly_en", "valid_from",
        "valid_to", "basis", "sources", "confidence"}
REQUIRED = ("decision_vi", "decision_en", "law", "body_vi", "body_en", "valid_from", "basis", "sources")


class AuthorityError(ValueError):
    pass


@dataclass(frozen=True)
class Assignment:
    key: str
    decision_vi: str
    decision_en: str
    law: str
    body_vi: str
    body_en: str
    valid_from: date
    basis: str
    sources: tuple[str, ...]
    valid_to: date | None = None
    formerly_vi: str = ""
    formerly_en: str = ""
    confidence: str = ""

    def state(self, today: date, warn_days: int) -> str:
        """not_yet | active | ending (within `warn_days` of its end) | expired (from its end date on)."""
        if today < self.valid_from:
            return "not_yet"
        if self.valid_to is None:
            return "active"
        if today >= self.valid_to:
            return "expired"
        return "ending" if (self.valid_to - today).days <= warn_days else "active"

    def days_left(self, today: date) -> int | None:
        return (self.valid_to - today).days if self.valid_to is not None else None


@dataclass(frozen=True)
class Authorities:
    assignments: tuple[Assignment, ...]
    warn_days: int

    @classmethod
    def load(cls, path: Path = AUTHORITIES_FILE) -> Authorities:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        warn = data.get("warn_days", 60)
        if isinstance(warn, bool) or not isinstance(warn, int) or warn < 0:
            raise AuthorityError(f"{path.name}: warn_days must be a whole number of days")
        return cls(tuple(_assignment(path.name, k, v) for k, v in data.get("assignments", {}).items()), warn)

    def warnings(self, today: date) -> list[tuple[Assignment, str]]:
        """The assignments to review now: ending within warn_days, or already past their end date."""
        return [(a, s) for a in self.assignments if (s := a.state(today, self.warn_days)) in ("ending", "expired")]

    def current(self, key: str, today: date) -> Assignment | None:
        """The assignment `key` in force on `today` (None before it starts; still returned after its end date,
        flagged by `state`, since the law keeps applying it until a new act is recorded here)."""
        found = [a for a in self.assignments if a.key == key and a.valid_from <= today]
        return found[-1] if found else None


def _assignment(file_name: str, key: str, raw: dict[str, Any]) -> Assignment:
    unknown = sorted(set(raw) - KEYS)
    missing = [k for k in REQUIRED if not raw.get(k)]
    if unknown or missing:
        raise AuthorityError(f"{file_name}: assignment {key!r}: unknown keys {unknown}, missing {missing}")
    start, end = raw["valid_from"], raw.get("valid_to")
    if not isinstance(start, date) or (end is not None and not isinstance(end, date)):
        raise AuthorityError(f"{file_name}: assignment {key!r}: valid_from/valid_to must be dates (YYYY-MM-DD)")
    if end is not None and end <= start:
        raise AuthorityError(f"{file_name}: assignment {key!r}: valid_to must come after valid_from")
    sources = raw["sources"]
    return Assignment(
        key=key, decision_vi=raw["decision_vi"], decision_en=raw["decision_en"], law=raw["law"],
        body_vi=raw["body_vi"], body_en=raw["body_en"], valid_from=start, valid_to=end, basis=raw["basis"],
        sources=tuple([sources] if isinstance(sources, str) else sources),
        formerly_vi=raw.get("formerly_vi", ""), formerly_en=raw.get("formerly_en", ""),
        confidence=raw.get("confidence", ""))
