"""Deadline rules: what a BPMN timer's `deadline("name")` means.

The rules live in `processes/deadlines.toml` beside the BPMN (numbers the decree leaves open are marked
`to_confirm` there and shown as such in the UI). A rule counts hours on the clock or working days on the
Vietnamese calendar from the latest of its named anchors (legal moments recorded in the case: the receipt
time on Mẫu 01, or the completion of a named step), or takes a date from the task data (an activity's end,
a separation's end).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

from engine.calendar import WorkingCalendar
from engine.clock import LOCAL_TZ, parse_moment

RULES_FILE = Path(__file__).resolve().parent.parent / "processes" / "deadlines.toml"


class DeadlineError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # hours | working_days | date
    amount: float = 0
    anchors: tuple[str, ...] = ()
    field: str = ""
    label_vi: str = ""
    label_en: str = ""
    article: str = ""
    to_confirm: bool = False
    reminder_before_hours: float | None = None


@dataclass(frozen=True)
class Rules:
    rules: dict[str, Rule]
    office_close: time
    reminder_share: float

    @classmethod
    def load(cls, path: Path = RULES_FILE) -> Rules:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        rules = {}
        for name, raw in data.get("rules", {}).items():
            kind = raw.get("kind")
            if kind not in {"hours", "working_days", "date"}:
                raise DeadlineError(f"{path.name}: rule {name!r} has unknown kind {kind!r}")
            anchors = raw.get("anchor", [])
            rule = Rule(
                name=name, kind=kind, amount=raw.get("amount", 0),
                anchors=tuple([anchors] if isinstance(anchors, str) else anchors),
                field=raw.get("field", ""), label_vi=raw.get("label_vi", ""), label_en=raw.get("label_en", ""),
                article=raw.get("article", ""), to_confirm=bool(raw.get("to_confirm", False)),
                reminder_before_hours=raw.get("reminder_before_hours"),
            )
            if kind == "date" and not rule.field:
                raise DeadlineError(f"{path.name}: rule {name!r} of kind date needs a field")
            if kind != "date" and (not rule.anchors or rule.amount <= 0):
                raise DeadlineError(f"{path.name}: rule {name!r} needs a positive amount and an anchor")
            rules[name] = rule
        close = time.fromisoformat(data.get("calendar", {}).get("office_close", "17:00"))
        share = float(data.get("reminders", {}).get("share", 0.75))
        return cls(rules, close, share)

    def __getitem__(self, name: str) -> Rule:
        try:
            return self.rules[name]
        except KeyError:
            raise DeadlineError(f"unknown deadline rule {name!r}") from None

    def due(self, name: str, data: dict[str, Any], calendar: WorkingCalendar) -> datetime:
        """The due moment (aware, UTC) of rule `name` for a task whose data is `data`."""
        rule = self[name]
        if rule.kind == "date":
            value: Any = data
            for part in rule.field.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if not value:
                raise DeadlineError(f"rule {name!r}: no date at {rule.field!r} in the task data")
            if "T" in str(value):
                return parse_moment(str(value))
            # A date limit ends at office closing time of that day.
            day = datetime.fromisoformat(str(value)).date()
            return parse_moment(datetime.combine(day, calendar.office_close, LOCAL_TZ))
        anchors = data.get("anchors") or {}
        present = [parse_moment(anchors[a]) for a in rule.anchors if anchors.get(a)]
        if not present:
            raise DeadlineError(f"rule {name!r}: none of the anchors {rule.anchors} is recorded")
        start = max(present)
        if rule.kind == "hours":
            return calendar.add_hours(start, rule.amount)
        return calendar.add_working_days(start, int(rule.amount))

    def reminder_at(self, name: str, created_at: datetime, due_at: datetime) -> datetime | None:
        """When to warn that the limit is near; None when the warning would come after the start."""
        from datetime import timedelta

        rule = self[name]
        if rule.reminder_before_hours is not None:
            at = due_at - timedelta(hours=rule.reminder_before_hours)
        else:
            at = created_at + (due_at - created_at) * self.reminder_share
        return at if created_at < at < due_at else None
