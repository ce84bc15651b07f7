"""One push's visits, in memory: the server columns of docs/sync.md (tables) and the flags that need only the visit.

Everything is computed as arrays over the whole push (one STRtree query, one timezonefinder batch, one
vectorised distance) so a 5,000-visit push costs milliseconds, not seconds. Visits whose coordinates are
missing or out of range (a validation error, see ``sync.visits.validation``) are not enriched at all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sync.geo.boundaries import NO_MATCH, boundaries
from sync.geo.distance import geodesic_km, in_world_range
from sync.geo.timezones import zones_at
from sync.visits.flags import Reasons, point_reasons
from sync.visits.settings import GeoSettings

SERVER_COLUMNS = (
    "province_code",
    "regency_code",
    "province",
    "regency",
    "timezone",
    "distance_from_branch_km",
    "location_match",
    "location_match_km",
)


def _floats(rows: Sequence[dict], name: str) -> np.ndarray:
    """One column as floats, NaN for missing values."""
    return np.fromiter((np.nan if (v := r.get(name)) is None else v for r in rows), dtype=float, count=len(rows))


def _rounded(values: np.ndarray, digits: int = 3) -> list[float | None]:
    """Plain floats rounded to metres (for km), None where missing."""
    out = np.round(values, digits).astype(object)
    out[~np.isfinite(values)] = None
    return out.tolist()


def enrich_visits(
    rows: Sequence[dict],
    *,
    branch_location: tuple[float, float] | None,
    received_at: Sequence[int | None],
    now: int,
    settings: GeoSettings,
) -> tuple[list[dict], list[Reasons]]:
    """Server columns and point-only flag reasons for each row (rows hold the device columns).

    ``received_at`` is when the server first stored each visit (its ``server_created_at``), ``now`` the
    server clock of this push: a visit ahead of ``now`` or far older than its arrival has ``clock_skew``.
    """
    s = settings
    n = len(rows)
    lat, lon = _floats(rows, "latitude"), _floats(rows, "longitude")
    valid = in_world_range(lat, lon)
    with np.errstate(invalid="ignore"):
        in_box = valid & (lat >= s.south) & (lat <= s.north) & (lon >= s.west) & (lon <= s.east)

    regency = np.full(n, NO_MATCH, dtype=np.int64)
    nearest = np.zeros(n, dtype=bool)
    gap_km = np.full(n, np.nan)
    box_rows = np.flatnonzero(in_box)
    bounds = boundaries() if box_rows.size else None
    if bounds is not None:
        hits = bounds.lookup(lat[box_rows], lon[box_rows], s.fallback_km)
        regency[box_rows], nearest[box_rows], gap_km[box_rows] = hits.index, hits.nearest, hits.distance_km
    matched = regency != NO_MATCH

    # Region attributes per row (plain Python values, None where no regency matched).
    region = [[None] * n for _ in range(4)]
    if bounds is not None:
        for k, values in enumerate((bounds.province_codes, bounds.codes, bounds.province_names, bounds.names)):
            column = np.full(n, None, dtype=object)
            column[matched] = values[regency[matched]]
            region[k] = column.tolist()
    province_codes = region[0]

    zones: list[str | None] = [None] * n
    valid_rows = np.flatnonzero(valid).tolist()
    found = zones_at(lat[valid_rows], lon[valid_rows], [province_codes[i] for i in valid_rows])
    for i, zone in zip(valid_rows, found, strict=True):
        zones[i] = zone

    branch_km = np.full(n, np.nan)
    if branch_location is not None and valid_rows:
        origin = np.array(branch_location, dtype=float)
        if in_world_range(origin[:1], origin[1:])[0]:
            branch_km[valid_rows] = geodesic_km(lat[valid_rows], lon[valid_rows], (origin[0], origin[1]))

    match = np.where(nearest, "nearest", "inside").astype(object)
    match[~matched] = None
    columns = [
        dict(zip(SERVER_COLUMNS, values, strict=True))
        for values in zip(*region, zones, _rounded(branch_km), match.tolist(), _rounded(gap_km), strict=True)
    ]
    reasons = point_reasons(
        valid=valid,
        in_box=in_box,
        matched=matched,
        accuracy=_floats(rows, "accuracy_m"),
        mock=np.array([r.get("is_mock_location") is True for r in rows], dtype=bool),
        visited_at=_floats(rows, "visited_at"),
        received_at=np.array([np.nan if v is None else float(v) for v in received_at], dtype=float),
        now=now,
        branch_km=branch_km,
        settings=s,
    )
    return columns, reasons
