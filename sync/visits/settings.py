"""Every threshold of the visit checks in one frozen object, so a deployment tunes them in one place.

The defaults follow docs/domain.md (regions). The server reads ``JANGKAU_GEO_*`` once at start-up
(``GeoSettings.from_mapping``) and hands the result to the engine in ``sync.settings.EngineSettings.geo``;
the push reads it from ``PushContext.settings``. Tests pass their own.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sync.geo.distance import EARTH_RADIUS_KM

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# Two visits with the same local date lie at most 24 h + 2 h apart (WIB +7 to WIT +9).
SAME_DAY_SPAN_MS = 26 * HOUR_MS


@dataclass(frozen=True)
class GeoSettings:
    """Thresholds for enrichment and plausibility flags (docs/sync.md (tables) ``visits.flags``)."""

    # Where a visit may plausibly be: Indonesia's bounding box, and how far off the land polygons.
    south: float = -11.0
    north: float = 6.0
    west: float = 95.0
    east: float = 141.1
    fallback_km: float = 2.0  # nearest regency within this distance counts (marked approximate)
    # low_accuracy / mock_location
    low_accuracy_m: float = 100.0
    # impossible_travel: faster than this between consecutive visits, unless they are this close.
    max_speed_kmh: float = 120.0
    travel_allowance_km: float = 1.0
    # clock_skew: visited_at ahead of the server clock, or older than the push that brought it.
    future_tolerance_minutes: float = 15.0
    max_age_days: float = 30.0
    # far_from_branch
    far_from_branch_km: float = 150.0
    # stacked_location: at least this many visits within the radius on one local day.
    stack_radius_m: float = 30.0
    stack_min_visits: int = 5

    def __post_init__(self) -> None:
        if not (self.south < self.north and self.west < self.east):
            raise ValueError("the bounding box needs south < north and west < east")
        if self.max_speed_kmh <= 0 or self.stack_min_visits < 2 or self.fallback_km < 0:
            raise ValueError("max_speed_kmh must be positive, stack_min_visits at least 2, fallback_km >= 0")

    @property
    def box_span_km(self) -> float:
        """An upper bound on the distance between two points of the box (its great-circle diagonal)."""
        lat1, lat2 = math.radians(self.south), math.radians(self.north)
        dlon = math.radians(self.east - self.west)
        h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
        return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h))) * 1.01

    @property
    def travel_window_ms(self) -> int:
        """Legs longer than this in time can never exceed ``max_speed_kmh`` inside the box."""
        return math.ceil(self.box_span_km / self.max_speed_kmh * HOUR_MS)

    @property
    def reach_ms(self) -> int:
        """How far in time a changed visit can move other visits' flags.

        Travel blame looks two visits either side (a leg, and whether its end is a lone outlier), each
        leg at most ``travel_window_ms`` long; stacking looks at one local day.
        """
        return max(2 * self.travel_window_ms, SAME_DAY_SPAN_MS + 10 * HOUR_MS)

    @property
    def future_tolerance_ms(self) -> int:
        return round(self.future_tolerance_minutes * 60_000)

    @property
    def max_age_ms(self) -> int:
        return round(self.max_age_days * DAY_MS)

    @classmethod
    def from_mapping(cls, values: Mapping[str, object], prefix: str = "JANGKAU_GEO_") -> GeoSettings:
        """Read ``<prefix><FIELD>`` entries (e.g. ``JANGKAU_GEO_MAX_SPEED_KMH``); absent ones keep defaults."""
        changes: dict[str, Any] = {}  # int or float, as each field is typed
        for f in dataclasses.fields(cls):
            raw = values.get(prefix + f.name.upper())
            if raw not in (None, ""):
                kind: Callable[[Any], float] = int if f.type in ("int", int) else float
                try:
                    changes[f.name] = kind(raw)
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"{prefix}{f.name.upper()} must be a number, got {raw!r}") from exc
        return cls(**changes)
