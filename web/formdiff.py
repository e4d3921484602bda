"""What changed between two versions of a stored form, field by field, for the chairman deciding on a plan again
(engine.returns): both versions as rendered for the reader (`web.pages.rendered_form`, so withheld values stay
withheld), flattened to labelled paths ("Hoạt động 2 › Nội dung"), and compared by path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    label: str
    before: str  # "" when the field was empty or absent
    after: str
    kind: str  # added | removed | changed


def _flatten(fields: list[dict[str, Any]], path: str = "", label: str = "") -> dict[str, tuple[str, str]]:
    """path → (label, shown value) of every filled leaf field, in form order."""
    out: dict[str, tuple[str, str]] = {}
    for field in fields:
        name = f"{path}{field.get('name', '')}"
        title = f"{label}{field.get('label') or field.get('name', '')}"
        if "items" in field:
            for index, item in enumerate(field.get("items") or []):
                out.update(_flatten(item, f"{name}.{index}.", f"{title} {index + 1} › "))
        elif field.get("fields"):
            out.update(_flatten(field["fields"], f"{name}.", f"{title} › "))
        else:
            shown = field.get("display")
            if shown not in (None, ""):
                out[name] = (title, str(shown))
    return out


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """The fields whose shown value differs between two rendered versions, in the new version's order (then the
    fields only the old one had)."""
    old = _flatten((before or {}).get("fields") or [])
    new = _flatten((after or {}).get("fields") or [])
    found = []
    for path, (label, value) in new.items():
        if path not in old:
            found.append(Change(label, "", value, "added"))
        elif old[path][1] != value:
            found.append(Change(label, old[path][1], value, "changed"))
    found += [Change(label, value, "", "removed") for path, (label, value) in old.items() if path not in new]
    return found
