"""Time windows the pages count over: whole local days, as ``[start, end)`` epoch milliseconds.

Indonesia's zones have no daylight saving, but the arithmetic goes through ``zoneinfo`` anyway
(``sync.calendar.workdays``), so a window is exactly the local days it names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sync.calendar import workdays


@dataclass(frozen=True)
class Window:
    """``[start, end)`` in epoch milliseconds, and the local days it covers (``first``..``last``)."""

    start: int
    end: int
    first: dt.date
    last: dt.date

    def contains(self, ms: int) -> bool:
        return self.start <= ms < self.end

    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def local_day(ms: int, tz: str) -> dt.date:
    return workdays.to_local(ms, tz).date()


def days(first: dt.date, last: dt.date, tz: str) -> Window:
    """The local days ``first`` to ``last``, both included."""
    if last < first:
        raise ValueError("a window's last day comes before its first")
    start = workdays.local_ms(first, dt.time(0), tz)
    end = workdays.local_ms(last + dt.timedelta(days=1), dt.time(0), tz)
    return Window(start, end, first, last)


def today(now: int, tz: str) -> Window:
    day = local_day(now, tz)
    return days(day, day, tz)


def last_days(now: int, tz: str, count: int) -> Window:
    """The ``count`` local days ending with today."""
    day = local_day(now, tz)
    return days(day - dt.timedelta(days=count - 1), day, tz)


def month(now: int, tz: str) -> Window:
    """The local calendar month holding ``now``, whole (its end may lie in the future)."""
    day = local_day(now, tz)
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return days(first, following - dt.timedelta(days=1), tz)
