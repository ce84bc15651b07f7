"""Working days and hours in the worker's own time zone (docs/domain.md (time zones)).

Follow-ups fall between 08:00 and 17:00 local time on a working day: not a Sunday and not an Indonesian
public holiday or cuti bersama (``holidays``' ``government`` category). Times are epoch milliseconds in
and out; only the calendar arithmetic happens in local time.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

DEFAULT_ZONE = "Asia/Jakarta"
ZONES = ("Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura")
WORK_START = dt.time(8, 0)
WORK_END = dt.time(17, 0)
_WITA = ("51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76")
_WIT = ("81", "82", "91", "92", "93", "94", "95", "96")


def zone_for_province(code: str | None) -> str | None:
    """Kemendagri province code (``32`` or ``32.15``) → IANA zone; None when unknown."""
    if not code:
        return None
    prefix = code.split(".")[0][:2]
    if prefix in ("61", "62"):
        return "Asia/Pontianak"
    if prefix in _WITA:
        return "Asia/Makassar"
    if prefix in _WIT:
        return "Asia/Jayapura"
    if prefix.isdigit() and (11 <= int(prefix) <= 36):
        return "Asia/Jakarta"
    return None


@lru_cache(maxsize=256)
def zone_for_point(lat: float | None, lon: float | None) -> str:
    """The zone of a point (a branch office) through geo enrichment's zone finder; Asia/Jakarta if unknown."""
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return DEFAULT_ZONE
    import numpy as np

    from sync.geo.timezones import zones_at

    found = zones_at(np.array([lat]), np.array([lon]), [None])[0]
    return found if found in ZONES else DEFAULT_ZONE


def zone(name: str | None) -> ZoneInfo:
    """A ZoneInfo for ``name``, or Asia/Jakarta when it is empty or unknown."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


@lru_cache(maxsize=32)
def holiday_dates(year: int) -> frozenset[dt.date]:
    """Public holidays and cuti bersama of ``year``."""
    return frozenset(holidays.country_holidays("ID", years=year, categories=("public", "government")))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() != 6 and day not in holiday_dates(day.year)


def next_working_day(day: dt.date) -> dt.date:
    """The first working day strictly after ``day``."""
    day += dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def previous_working_day(day: dt.date) -> dt.date:
    """The last working day strictly before ``day``."""
    day -= dt.timedelta(days=1)
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def to_local(ms: int, tz: str | None) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=zone(tz))


def to_ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def local_ms(day: dt.date, at: dt.time, tz: str | None) -> int:
    """``day`` at wall-clock ``at`` in ``tz`` as epoch ms (Indonesia has no daylight saving)."""
    return to_ms(dt.datetime.combine(day, at, tzinfo=zone(tz)))


def within_working_hours(ms: int, tz: str | None) -> int:
    """The earliest instant at or after ``ms`` that is inside working hours on a working day."""
    local = to_local(ms, tz)
    day, clock = local.date(), local.timetz().replace(tzinfo=None)
    if is_working_day(day) and WORK_START <= clock < WORK_END:
        return ms
    if is_working_day(day) and clock < WORK_START:
        return local_ms(day, WORK_START, tz)
    return local_ms(next_working_day(day), WORK_START, tz)


def after_days(ms: int, days: int, tz: str | None) -> int:
    """``days`` calendar days after ``ms`` (same wall-clock time), then into working hours."""
    local = to_local(ms, tz) + dt.timedelta(days=days)
    return within_working_hours(to_ms(local), tz)


def next_working_day_same_time(ms: int, tz: str | None) -> int:
    """The next working day after ``ms``'s local date, at the same wall-clock time clamped to working hours."""
    local = to_local(ms, tz)
    clock = min(max(local.time().replace(microsecond=0), WORK_START), dt.time(16, 0))
    return local_ms(next_working_day(local.date()), clock, tz)


def payment_deadline(month: str) -> dt.date:
    """The 15th of contribution month ``YYYY-MM``, or the next working day when the 15th is not one."""
    year, mon = int(month[:4]), int(month[5:7])
    day = dt.date(year, mon, 15)
    return day if is_working_day(day) else next_working_day(day)


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def add_months(month: str, n: int) -> str:
    year, mon = int(month[:4]), int(month[5:7]) - 1 + n
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"
