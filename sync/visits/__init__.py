"""Geotagged visits: the push handler, their checks, the supervisor's lists, map and review.

* ``validation`` and ``apply`` — a pushed visit checked and written;
* ``enrich`` — one push's visits: region, zone, branch distance and per-visit flags, no database;
* ``flags`` — the flag names, their order and the rules that need only the visit itself;
* ``sequence`` — the rules that need the agent's other visits (travel speed, stacked visits);
* ``neighbours`` — the agent's surrounding visits in the database, re-flagged when a push changes them;
* ``settings`` — every threshold of the checks, in one object;
* ``listing``, ``clusters``, ``geojson``, ``coverage`` — what supervisors read: lists, map clusters,
  GeoJSON, coverage per regency;
* ``rollup`` — the per-cell daily counts the country-wide map reads, kept current inside each push;
* ``reviews`` — a supervisor dismissing or confirming a flag.
"""
