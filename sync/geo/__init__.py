"""Geotagged visits: where a visit happened and whether its GPS story is plausible (docs/sync.md (tables) visits).

One module per job, all vectorised over a whole push:

* ``boundaries`` — regency and province by point-in-polygon over the offline Kemendagri boundaries,
  with a nearest-polygon fallback for points just off the simplified coastline;
* ``timezones`` — the visit's zone, one of the four Indonesian zones;
* ``distance`` — geodesic distances (branch office) and spherical ones (speeds, stacking);
* ``flags`` — the flag names, their order and the rules that need only the visit itself;
* ``sequence`` — the rules that need the agent's other visits (travel speed, stacked visits);
* ``enrich`` — one push's visits: server columns and per-visit flags, no database;
* ``neighbours`` — the agent's surrounding visits in the database, re-flagged when a push changes them;
* ``settings`` — every threshold, in one object.

``sync.apply.visits`` calls :func:`process_pushed_visits` before writing rows, so each row is written once.
"""

from .neighbours import process_pushed_visits, refresh_after_delete
from .settings import GeoSettings, configure, current_settings

__all__ = ["GeoSettings", "configure", "current_settings", "process_pushed_visits", "refresh_after_delete"]
