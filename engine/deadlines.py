"""Deadline rules: what a BPMN timer's `deadline("name")` means.

The rules live in `processes/deadlines.toml` beside the BPMN (numbers the decree leaves open are marked
`to_confirm` there and shown as such in the UI). A rule counts hours on the clock or working days on the
Vietnamese calendar from the latest of its named anchors (legal moments recorded in the case: the receipt
time on Mẫu 01, or the completion of a named step), takes a date from the task data (an activity's end,
a separation's end), or counts working days after the latest of several dates in the task data (the plan's
activity ends), unless a planned date is given there.

Every rule names its basis: the article, and for a limit the law does not set, the case56 policy behind it
(`Rule.policy`). A working-day limit with a legal basis has two ends: the internal target (office closing time of
the last working day, which escalation uses) and the legal expiry (`Rules.legal_expiry`: 24:00 of that day,
Civil Code Art. 148.6; a last day that is not a working day moves to the next working day, Art. 148.5).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from engine.calendar import WorkingCalendar
from engine.clock import LOCAL_TZ, local, parse_moment

RULES_FILE = Path(__file__).resolve().parent.parent / "processes" / "deadlines.toml"
KINDS = ("hours", "working_days", "date", "after_dates")
# Keys a rule may have; anything else is a typo that would silently change a legal limit.
RULE_KEYS = {"kind", "amount", "anchor", "field", "dates", "label_vi", "label_en", "article", "to_confirm",
             "reminder_before_hours", "policy", "anchor_choice", "anchor_options"}
OPTION_KEYS = {"anchor", "label_vi", "label_en"}
_PATH = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*")


class DeadlineError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # one of KINDS
    amount: float = 0
    anchors: tuple[str, ...] = ()
    field: str = ""  # date: the date; after_dates: the planned date that takes precedence (optional)
    dates: tuple[str, ...] = ()  # after_dates: paths of the dates whose latest is counted from
    label_vi: str = ""
    label_en: str = ""
    article: str = ""
    to_confirm: bool = False
    reminder_before_hours: float | None = None
    policy: str = ""  # why case56 sets a limit the law does not: "không do pháp luật quy định"
    anchor_choice: str = ""  # the chosen one of anchor_options ("" when the rule has none)
    anchor_options: tuple[str, ...] = ()

    @property
    def founded(self) -> bool:
        """Whether the rule names its basis: an article, or the policy for a limit the law does not set."""
        return bool(self.article.strip() or self.policy.strip())

    @property
    def legal(self) -> bool:
        """A limit the law itself sets (not case56 policy)."""
        return not self.policy

    @property
    def counts_working_days(self) -> bool:
        """Whether the due moment depends on the working-day calendar (a day off declared later moves it);
        an after_dates rule does unless the task's planned date applies."""
        return self.kind in ("working_days", "after_dates")


@dataclass(frozen=True)
class Rules:
    rules: dict[str, Rule]
    office_close: time
    reminder_share: float

    @classmethod
    def load(cls, path: Path = RULES_FILE) -> Rules:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        rules = {name: _rule(path.name, name, raw) for name, raw in data.get("rules", {}).items()}
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
            value = _first(data, rule.field)
            if value is None:
                raise DeadlineError(f"rule {name!r}: no date at {rule.field!r} in the task data")
            if "T" in str(value):
                return parse_moment(str(value))
            return _closing(_day(value), calendar)  # a date limit ends at office closing time of that day
        if rule.kind == "after_dates":
            planned = _first(data, rule.field) if rule.field else None
            if planned is not None:
                return _closing(_day(planned), calendar)
            days = [_day(v) for path in rule.dates for v in _values(data, path.split("."))]
            if not days:
                raise DeadlineError(f"rule {name!r}: no date at {list(rule.dates)} in the task data")
            return parse_moment(calendar.add_working_days(_closing(max(days), calendar), int(rule.amount)))
        anchors = data.get("anchors") or {}
        present = [parse_moment(anchors[a]) for a in rule.anchors if anchors.get(a)]
        if not present:
            raise DeadlineError(f"rule {name!r}: none of the anchors {rule.anchors} is recorded")
        start = max(present)
        if rule.kind == "hours":
            return calendar.add_hours(start, rule.amount)
        return calendar.add_working_days(start, int(rule.amount))

    def legal_expiry(self, name: str, due: datetime | None, calendar: WorkingCalendar) -> datetime | None:
        """The moment a working-day limit set by law expires (aware, UTC): 24:00 of the last day (Civil Code
        Art. 148.6), moved to the next working day when that day is off (148.5). None for a limit in hours or a
        date, or one that is case56 policy: those have one end, `due`."""
        rule = self.rules.get(name)
        if rule is None or due is None or rule.kind != "working_days" or not rule.legal:
            return None
        day = local(due).date()
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
        return parse_moment(datetime.combine(day + timedelta(days=1), time.min, LOCAL_TZ))

    def unfounded(self) -> list[str]:
        """Rules that name neither an article nor a policy."""
        return sorted(name for name, rule in self.rules.items() if not rule.founded)

    def reminder_at(self, name: str, created_at: datetime, due_at: datetime) -> datetime | None:
        """When to warn that the limit is near; None when the warning would come after the start."""
        rule = self[name]
        if rule.reminder_before_hours is not None:
            at = due_at - timedelta(hours=rule.reminder_before_hours)
        else:
            at = created_at + (due_at - created_at) * self.reminder_share
        return at if created_at < at < due_at else None


def _rule(file_name: str, name: str, raw: dict[str, Any]) -> Rule:
    """One rule of the file, checked: a wrong rule must stop the start-up, not move a deadline."""

    def bad(problem: str) -> DeadlineError:
        return DeadlineError(f"{file_name}: rule {name!r} {problem}")

    unknown = sorted(set(raw) - RULE_KEYS)
    if unknown:
        raise bad(f"has unknown keys {unknown}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise bad(f"has unknown kind {kind!r}")
    anchors = raw.get("anchor", [])
    labels = {"label_vi": raw.get("label_vi", ""), "label_en": raw.get("label_en", "")}
    options = raw.get("anchor_options", {})
    choice = raw.get("anchor_choice", "")
    if not isinstance(options, dict) or not all(isinstance(o, dict) for o in options.values()):
        raise bad("has anchor_options that are not tables")
    if options or choice:
        if choice not in options:
            raise bad(f"has anchor_choice {choice!r}, not one of its anchor_options {sorted(options)}")
        for key, option in options.items():
            if set(option) - OPTION_KEYS or not option.get("anchor"):
                raise bad(f"has anchor option {key!r} without an anchor or with unknown keys")
        anchors = options[choice]["anchor"]
        labels = {k: options[choice].get(k) or v for k, v in labels.items()}
    policy = raw.get("policy", "")
    if not isinstance(policy, str):
        raise bad("needs a text as policy")
    dates = raw.get("dates", [])
    field = raw.get("field", "")
    amount = raw.get("amount", 0)
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise bad("needs a number as amount")
    rule = Rule(
        name=name, kind=kind, amount=amount,
        anchors=tuple([anchors] if isinstance(anchors, str) else anchors),
        field=field, dates=tuple([dates] if isinstance(dates, str) else dates),
        label_vi=labels["label_vi"], label_en=labels["label_en"],
        article=raw.get("article", ""), to_confirm=bool(raw.get("to_confirm", False)),
        reminder_before_hours=raw.get("reminder_before_hours"), policy=policy.strip(),
        anchor_choice=choice, anchor_options=tuple(sorted(options)),
    )
    if field and not (isinstance(field, str) and _PATH.fullmatch(field)):
        raise bad(f"has a field that is not a dotted path: {field!r}")
    if kind == "date":
        if not field:
            raise bad("of kind date needs a field")
        if rule.anchors or rule.dates or "amount" in raw:
            raise bad("of kind date takes only a field (no anchor, dates or amount)")
    elif kind == "after_dates":
        if not rule.dates or not all(isinstance(p, str) and _PATH.fullmatch(p) for p in rule.dates):
            raise bad("of kind after_dates needs dates: a list of dotted paths in the task data")
        if not isinstance(amount, int) or amount < 0:
            raise bad("of kind after_dates needs a whole number of working days (0 or more) as amount")
        if rule.anchors:
            raise bad("of kind after_dates counts from dates, not from an anchor")
    else:
        if not rule.anchors or amount <= 0:
            raise bad("needs a positive amount and an anchor")
        if field or rule.dates:
            raise bad(f"of kind {kind} counts from anchors, not from a field or dates")
    return rule


def _values(value: Any, path: list[str]) -> list[Any]:
    """Every non-empty value at a dotted path; a list on the way stands for each of its items
    (`mau_04.activities.end` is the end of every activity)."""
    if isinstance(value, list):
        return [v for item in value for v in _values(item, path)]
    if not path:
        return [value] if value else []
    return _values(value.get(path[0]), path[1:]) if isinstance(value, dict) else []


def _first(data: dict[str, Any], path: str) -> Any:
    found = _values(data, path.split("."))
    return found[0] if found else None


def _day(value: Any) -> date:
    """The local calendar day of an ISO date or moment."""
    text = str(value)
    return local(parse_moment(text)).date() if "T" in text else datetime.fromisoformat(text).date()


def _closing(day: date, calendar: WorkingCalendar) -> datetime:
    return parse_moment(datetime.combine(day, calendar.office_close, LOCAL_TZ))
