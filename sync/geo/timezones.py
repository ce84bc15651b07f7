"""The visit's time zone: one of the four Indonesian zones, never anything else (docs/sync.md (tables)).

``timezonefinder`` answers offline from the point. At sea it answers ``Etc/GMT-7`` and the like (the
sign is inverted: UTC+7), and near the borders a neighbour's zone (``Asia/Kuching``, ``Asia/Dili``); those
are mapped back: first through the province the point was matched to (docs/domain.md (time zones)), then by
UTC offset (+7 Jakarta, +8 Makassar, +9 Jayapura). Anything else stores no zone.

timezonefinder instances must not be used by two threads at once (its documentation): the process keeps
one, created on first use, and lookups take a lock (a push's batch takes milliseconds). Its data stays
memory-mapped (shared between worker processes by the OS) and is released at exit.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import re
import threading
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from timezonefinder import TimezoneFinder

JAKARTA, PONTIANAK, MAKASSAR, JAYAPURA = "Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura"
ZONES = (JAKARTA, PONTIANAK, MAKASSAR, JAYAPURA)
UTC_OFFSET_HOURS = {JAKARTA: 7, PONTIANAK: 7, MAKASSAR: 8, JAYAPURA: 9}  # no daylight saving
_BY_OFFSET: dict[float | None, str] = {7: JAKARTA, 8: MAKASSAR, 9: JAYAPURA}  # by UTC hours


def _provinces(zone: str, *codes: int | range) -> dict[str, str]:
    out = {}
    for code in codes:
        for c in code if isinstance(code, range) else (code,):
            out[str(c)] = zone
    return out


# docs/domain.md (time zones): Kemendagri province code → zone.
PROVINCE_ZONES: dict[str, str] = {
    **_provinces(JAKARTA, range(11, 20), 21, range(31, 37)),
    **_provinces(PONTIANAK, 61, 62),
    **_provinces(MAKASSAR, range(51, 54), range(63, 66), range(71, 77)),
    **_provinces(JAYAPURA, 81, 82, range(91, 97)),
}

_ETC = re.compile(r"^Etc/GMT([+-])(\d{1,2})$")
_lock = threading.Lock()
_finder: TimezoneFinder | None = None


def _raw_zones_locked(lat: np.ndarray, lon: np.ndarray) -> list[str | None]:
    global _finder
    if _finder is None:
        _finder = TimezoneFinder()
        atexit.register(_finder.cleanup)
    finder = _finder
    if hasattr(finder, "timezone_ids_at"):  # timezonefinder >= 8: one vectorised call
        ids = finder.timezone_ids_at(lngs=np.asarray(lon, dtype=float), lats=np.asarray(lat, dtype=float))
        names = {int(i): finder.zone_name_from_id(int(i)) for i in np.unique(ids) if i >= 0}
        return [names.get(int(i)) for i in ids]
    return [finder.timezone_at(lng=float(x), lat=float(y)) for y, x in zip(lat, lon, strict=True)]


@functools.lru_cache(maxsize=512)
def _utc_hours(zone: str) -> float | None:
    """UTC offset of an IANA zone in hours (``Etc/GMT-7`` → 7); None when unknown."""
    etc = _ETC.match(zone)
    if etc:
        return -int(etc.group(2)) if etc.group(1) == "+" else int(etc.group(2))
    try:
        offset = dt.datetime(2025, 1, 1, tzinfo=ZoneInfo(zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return offset.total_seconds() / 3600 if offset is not None else None


def choose_zone(found: str | None, province_code: str | None) -> str | None:
    """One of ``ZONES`` from timezonefinder's answer and the matched province (either may be None)."""
    if found in ZONES:
        return found
    if province_code in PROVINCE_ZONES:
        return PROVINCE_ZONES[province_code]
    return _BY_OFFSET.get(_utc_hours(found)) if found else None


def raw_zones(lat: np.ndarray, lon: np.ndarray) -> list[str | None]:
    """timezonefinder's answer for each (valid) point, unmapped."""
    if not len(lat):
        return []
    with _lock:
        return _raw_zones_locked(lat, lon)


def zones_at(lat: np.ndarray, lon: np.ndarray, province_codes: list[str | None]) -> list[str | None]:
    """The stored zone for each point, given the province each was matched to."""
    return [choose_zone(found, code) for found, code in zip(raw_zones(lat, lon), province_codes, strict=True)]


def offset_ms(zone: str | None, default: str = JAKARTA) -> int:
    """UTC offset of a stored zone in milliseconds (for local dates); WIB when the zone is unknown."""
    return UTC_OFFSET_HOURS.get(zone or default, UTC_OFFSET_HOURS[default]) * 3_600_000
