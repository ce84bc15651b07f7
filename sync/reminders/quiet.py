"""Quiet hours in the recipient's local time: nothing is sent between 21:00 and 07:00 by default."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sync.calendar.workdays import local_ms, to_local

_SPEC = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class QuietHours:
    start: dt.time
    end: dt.time

    def contains(self, clock: dt.time) -> bool:
        if self.start <= self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end  # wraps midnight


def parse_quiet_hours(spec: str | None) -> QuietHours | None:
    """``"21:00-07:00"`` → QuietHours; ``"off"`` (or empty) → None. Raises ValueError otherwise."""
    if spec is None or spec.strip().lower() in ("", "off", "none", "0"):
        return None
    match = _SPEC.match(spec)
    if not match:
        raise ValueError(f"JANGKAU_QUIET_HOURS must look like 21:00-07:00 or off, got {spec!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"JANGKAU_QUIET_HOURS has an impossible time: {spec!r}")
    return QuietHours(dt.time(h1, m1), dt.time(h2, m2))


def next_sendable(ms: int, tz: str | None, quiet: QuietHours | None) -> int:
    """``ms`` itself when it is outside quiet hours in ``tz``, else the moment quiet hours end."""
    if quiet is None:
        return ms
    local = to_local(ms, tz)
    clock = local.time().replace(tzinfo=None)
    if not quiet.contains(clock):
        return ms
    day = local.date()
    if quiet.start > quiet.end and clock >= quiet.start:
        day += dt.timedelta(days=1)
    return local_ms(day, quiet.end, tz)
