"""Indonesian geography, offline: regions by point, time zones, distances.

* ``boundaries`` — regency and province by point-in-polygon over the offline Kemendagri boundaries,
  with a nearest-polygon fallback for points just off the simplified coastline;
* ``timezones`` — a point's zone, one of the four Indonesian zones;
* ``distance`` — geodesic distances (branch office) and spherical ones (speeds, stacking).

The visit checks that use them live in ``sync.visits``.
"""
