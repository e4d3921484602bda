"""The engine's single source of "now".

Everything that compares with the present calls `now()`: SpiffWorkflow's timers read
`datetime.now(timezone.utc)` themselves, so tests move time for both with time-machine rather than by
patching this module, and the two clocks never disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def local(moment: datetime) -> datetime:
    """`moment` in Vietnam's time zone; a naive value is taken as already local."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(LOCAL_TZ)


def parse_moment(value: str | datetime) -> datetime:
    """An aware UTC datetime from an ISO string or datetime (naive means Vietnam time)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return local(moment).astimezone(UTC)
