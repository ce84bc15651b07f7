"""Files the pages load besides their own static ones: the npm libraries and the shipped boundaries.

The libraries are served from ``node_modules`` as npm installed them (``npm ci`` in server/web; nothing
from npm is committed), only from the allow-listed ``dist`` folders. The province and regency
boundaries (``sync/data``, MIT, see BOUNDARIES.md) are the map's base layer where tiles cannot load;
they are gzipped once per process (2.0 and 2.6 MB become about 0.5 and 0.7 MB).
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from flask import Response, abort, request, send_from_directory

from ..unit_of_work import reads
from . import WEB_DIR, bp

# Only these folders of node_modules are served: the built files of the map and chart libraries.
VENDOR_DIRS = ("leaflet/dist/", "leaflet.markercluster/dist/", "chart.js/dist/")
DATA_DIR = Path(__file__).resolve().parents[2] / "sync" / "data"
BOUNDARY_FILES = {"provinces": "id-provinces.geojson", "regencies": "id-regencies.geojson"}
MAX_AGE_S = 3600


@bp.route("/web/vendor/<path:filename>")
def vendor(filename: str):
    """Leaflet, Leaflet.markercluster and Chart.js as npm installed them."""
    if not filename.startswith(VENDOR_DIRS) or ".." in filename.split("/"):
        abort(404)
    return send_from_directory(WEB_DIR / "node_modules", filename, max_age=MAX_AGE_S)


@lru_cache(maxsize=len(BOUNDARY_FILES))
def _compressed(name: str) -> bytes:
    return gzip.compress((DATA_DIR / BOUNDARY_FILES[name]).read_bytes(), compresslevel=9, mtime=0)


@bp.route("/web/boundaries/<name>.geojson")
@reads  # no database: declared so every route says what it does (tests/server/test_unit_of_work.py)
def boundaries(name: str):
    """Indonesia's province or regency boundaries as GeoJSON, gzipped for browsers that accept it."""
    if name not in BOUNDARY_FILES:
        abort(404)
    if "gzip" in request.accept_encodings:
        response = Response(_compressed(name), mimetype="application/geo+json")
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response((DATA_DIR / BOUNDARY_FILES[name]).read_bytes(), mimetype="application/geo+json")
    response.headers["Vary"] = "Accept-Encoding"
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE_S
    return response
