"""Which regency (and so which province) a GPS point lies in, offline (sync/data/BOUNDARIES.md).

The 514 Kemendagri regency polygons are loaded once per process, on first use, under a lock. A lookup
answers a whole push at once: one STRtree bounding-box query, one exact test against the prepared
polygons, then, for the points that missed, the nearest polygon within ``fallback_km``: fishing villages,
beaches and small islands sit just outside the simplified coastline, while a boat 4 km out matches
nothing. The province is the regency's ``province_code`` (the province layer is the exact union of the
regencies, so one lookup answers both).

Thread safety: GEOS builds a prepared polygon's point index lazily on first use, and that is not
thread-safe (libgeos/geos#825), while shapely releases the GIL. So the exact tests run under a lock; they
take milliseconds per push (prepared tests are about six times faster than an unprepared predicate
query, which more than pays for the lock). The tree is queried once while loading, so it is fully built
before any other thread sees it.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely import STRtree

from sync.geo.distance import haversine_km

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "id-regencies.geojson"
KM_PER_DEGREE = 111.32  # along the equator; a degree of longitude shrinks with cos(latitude)
NO_MATCH = -1


@dataclass(frozen=True)
class RegionHits:
    """One entry per looked-up point: the regency index (``NO_MATCH`` when none) and how it was found."""

    index: np.ndarray  # int64, into Boundaries.codes
    nearest: np.ndarray  # bool: found by the fallback, so approximate
    distance_km: np.ndarray  # 0 inside a polygon, the gap for a fallback match, NaN when none


class Boundaries:
    """The regency polygons with their codes and names, and an STRtree over them."""

    def __init__(self, features: list[dict]):
        features = sorted(features, key=lambda f: f["properties"]["code"])  # on a shared border the lower code wins
        props = [f["properties"] for f in features]
        self.codes = np.array([p["code"] for p in props], dtype=object)
        self.names = np.array([p["name"] for p in props], dtype=object)
        self.province_codes = np.array([p["province_code"] for p in props], dtype=object)
        self.province_names = np.array([p["province_name"] for p in props], dtype=object)
        self.geometries = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
        shapely.prepare(self.geometries)
        self.tree = STRtree(self.geometries)
        self.tree.query(shapely.points(0.0, 0.0))  # build the tree now, before it is shared
        self._geos_lock = threading.Lock()

    @classmethod
    def load(cls, path: Path = DATA_FILE) -> Boundaries:
        with open(path, encoding="utf-8") as handle:
            return cls(json.load(handle)["features"])

    def lookup(self, lat: np.ndarray, lon: np.ndarray, fallback_km: float) -> RegionHits:
        """Regency of each point (coordinates must be valid; callers skip the others)."""
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        n = lat.shape[0]
        index = np.full(n, NO_MATCH, dtype=np.int64)
        nearest = np.zeros(n, dtype=bool)
        distance = np.full(n, np.nan)
        if n == 0:
            return RegionHits(index, nearest, distance)
        points = shapely.points(lon, lat)
        inputs, hits = self.tree.query(points)  # bounding boxes only
        with self._geos_lock:
            inside = shapely.intersects_xy(self.geometries[hits], lon[inputs], lat[inputs])
            inputs, hits = inputs[inside], hits[inside]
            if inputs.size:
                best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
                np.minimum.at(best, inputs, hits)
                found = best != np.iinfo(np.int64).max
                index[found] = best[found]
                distance[found] = 0.0
            missed = np.flatnonzero(index == NO_MATCH)
            if missed.size and fallback_km > 0:
                self._nearest(points, lat, lon, missed, fallback_km, index, nearest, distance)
        return RegionHits(index, nearest, distance)

    def _nearest(self, points, lat, lon, missed, fallback_km, index, nearest, distance) -> None:
        """Nearest polygon within ``fallback_km`` (measured in km, not degrees) for the missed points."""
        # A degree of longitude is the shortest degree: searching this many degrees finds every polygon
        # within fallback_km at the points' latitudes; the km test below decides.
        widest = float(np.max(np.abs(lat[missed])))
        max_degrees = fallback_km / (KM_PER_DEGREE * max(math.cos(math.radians(widest)), 0.01)) * 1.05
        inputs, hits = self.tree.query_nearest(points[missed], max_distance=max_degrees, all_matches=False)
        if not inputs.size:
            return
        rows = missed[inputs]
        lines = shapely.shortest_line(points[rows], self.geometries[hits])
        ends = shapely.get_coordinates(shapely.get_point(lines, 1))
        km = haversine_km(lat[rows], lon[rows], ends[:, 1], ends[:, 0])
        close = km <= fallback_km
        index[rows[close]] = hits[close]
        nearest[rows[close]] = True
        distance[rows[close]] = km[close]


_lock = threading.Lock()
_loaded: Boundaries | None = None


def boundaries() -> Boundaries:
    """The process-wide boundaries, loaded on first use (about 0.3 s) by exactly one thread."""
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                _loaded = Boundaries.load()
    return _loaded
