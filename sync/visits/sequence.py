"""Flags that need the agent's other visits: ``impossible_travel`` and ``stacked_location``.

Pure functions over a ``Track`` (one agent's visits, any order), so the database code only gathers the
track and writes what changed, and the rules are easy to test and reason about.

impossible_travel — visits are ordered by ``visited_at`` (then id). A leg between consecutive visits is
impossible when it is longer than the allowance and faster than the maximum speed (an instant jump of
more than the allowance counts as infinitely fast). Blame goes to both ends of the leg, except when one
end is a lone outlier: both its legs are impossible while the trip that skips it is plausible. Then only
the outlier is flagged, so one spoofed position does not also flag the honest visits around it.

stacked_location — a visit is flagged when at least ``stack_min_visits`` different visits of the agent
(itself included) lie within ``stack_radius_m`` of it on the same local day (the agent's house).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree

from sync.geo.distance import haversine_km
from sync.visits.flags import Reasons, duration_text
from sync.visits.settings import DAY_MS, GeoSettings

_QUERY_BLOCK = 256  # points per STRtree query, so a pile of visits on one spot cannot exhaust memory


@dataclass(frozen=True)
class Track:
    """One agent's visits with usable coordinates and time; ``day`` is the local date as a day number."""

    ids: list[str]
    t: np.ndarray  # int64 ms
    lat: np.ndarray
    lon: np.ndarray
    day: np.ndarray  # int64: (visited_at + zone offset) // DAY_MS

    def __len__(self) -> int:
        return len(self.ids)


def sequence_reasons(track: Track, settings: GeoSettings) -> list[Reasons]:
    """Both sequence flags, one reasons dict per track entry (same order as the track)."""
    out: list[Reasons] = [{} for _ in range(len(track))]
    for i, reason in travel_reasons(track, settings).items():
        out[i]["impossible_travel"] = reason
    for i, reason in stacked_reasons(track, settings).items():
        out[i]["stacked_location"] = reason
    return out


def _impossible(km: np.ndarray, ms: np.ndarray, settings: GeoSettings) -> np.ndarray:
    hours = ms / 3_600_000
    return (km > settings.travel_allowance_km) & (km > settings.max_speed_kmh * hours)


def travel_reasons(track: Track, settings: GeoSettings) -> dict[int, str]:
    """Track index → reason for every visit blamed for an impossible leg."""
    n = len(track)
    if n < 2:
        return {}
    order = np.lexsort((np.array(track.ids, dtype=str), track.t))
    t, lat, lon = track.t[order], track.lat[order], track.lon[order]
    km = haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])
    gap = (t[1:] - t[:-1]).astype(float)
    impossible = _impossible(km, gap, settings)
    if not impossible.any():
        return {}
    spike = np.zeros(n, dtype=bool)
    if n >= 3:
        bypass = _impossible(
            haversine_km(lat[:-2], lon[:-2], lat[2:], lon[2:]), (t[2:] - t[:-2]).astype(float), settings
        )
        spike[1:-1] = impossible[:-1] & impossible[1:] & ~bypass
    blame_start = impossible & (spike[:-1] | ~spike[1:])
    blame_end = impossible & (spike[1:] | ~spike[:-1])
    best: dict[np.integer, tuple[float, str]] = {}  # sorted position → (speed, reason); the fastest leg explains
    for leg in np.flatnonzero(impossible):
        speed = math.inf if gap[leg] <= 0 else km[leg] / (gap[leg] / 3_600_000)
        for position, other, blamed, word in (
            (leg, leg + 1, blame_start[leg], "to"),
            (leg + 1, leg, blame_end[leg], "from"),
        ):
            if blamed and speed >= best.get(position, (-1.0, ""))[0]:
                best[position] = (
                    speed,
                    _travel_reason(km[leg], gap[leg], speed, track.ids[order[other]], word, spike[position], settings),
                )
    return {int(order[position]): reason for position, (_, reason) in best.items()}


def _travel_reason(km: float, gap_ms: float, speed: float, other: str, word: str, outlier: bool, s: GeoSettings) -> str:
    idn_word = "ke" if word == "to" else "dari"
    if gap_ms <= 0:
        idn_time, en_time, idn_speed, en_speed = "pada waktu yang sama", "at the same time", "", ""
    else:
        idn, en = duration_text(gap_ms)
        idn_time, en_time = f"dalam {idn}", f"in {en}"
        idn_speed, en_speed = f" ({speed:.0f} km/jam)", f" ({speed:.0f} km/h)"
    text = (
        f"{km:.1f} km {idn_time} {idn_word} kunjungan {other}{idn_speed}, batas {s.max_speed_kmh:g} km/jam / "
        f"{km:.1f} km {en_time} {word} visit {other}{en_speed}, limit {s.max_speed_kmh:g} km/h"
    )
    if outlier:
        text += (
            "; kunjungan sebelum dan sesudahnya saling wajar / the visits before and after it are consistent"
            " with each other"
        )
    return text


def stacked_reasons(track: Track, settings: GeoSettings) -> dict[int, str]:
    """Track index → reason for every visit with too many same-day visits within the radius."""
    n = len(track)
    if n < settings.stack_min_visits:
        return {}
    radius_km = settings.stack_radius_m / 1000
    # Search in degrees with the widest degree radius any point needs (longitude degrees shrink with
    # latitude), then keep the pairs whose real distance is within the radius.
    widest = float(np.max(np.abs(track.lat)))
    degrees = radius_km / (111.32 * max(math.cos(math.radians(widest)), 0.01)) * 1.05
    points = shapely.points(track.lon, track.lat)
    tree = STRtree(points)
    counts = np.ones(n, dtype=np.int64)
    for start in range(0, n, _QUERY_BLOCK):
        inputs, hits = tree.query(points[start : start + _QUERY_BLOCK], predicate="dwithin", distance=degrees)
        inputs = inputs + start
        keep = (inputs != hits) & (track.day[inputs] == track.day[hits])
        inputs, hits = inputs[keep], hits[keep]
        close = haversine_km(track.lat[inputs], track.lon[inputs], track.lat[hits], track.lon[hits]) <= radius_km
        counts += np.bincount(inputs[close], minlength=n)
    out = {}
    for i in np.flatnonzero(counts >= settings.stack_min_visits):
        date = (dt.date(1970, 1, 1) + dt.timedelta(days=int(track.day[i]))).isoformat()
        out[int(i)] = (
            f"{counts[i]} kunjungan dalam {settings.stack_radius_m:g} m pada {date} (waktu setempat) / "
            f"{counts[i]} visits within {settings.stack_radius_m:g} m on {date} (local day; limit "
            f"{settings.stack_min_visits})"
        )
    return out


def day_numbers(t: np.ndarray, offsets_ms: np.ndarray) -> np.ndarray:
    """Local day number of each time, given each visit's UTC offset."""
    return (t + offsets_ms) // DAY_MS
