"""The map's GeoJSON: single visits, or grid clusters when zoomed out or over ``MAX_POINTS`` points."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.accounts.principal import Principal
from sync.models import Visit
from sync.visits.clusters import cell_size, cluster_cells
from sync.visits.listing import VisitFilters, open_flags, point_conditions, split_flags

MAX_POINTS = 2000  # more matching points than this are always clustered
CLUSTER_BELOW_ZOOM = 11  # below this zoom the map shows grid clusters, whatever the count
DEFAULT_ZOOM = 5  # cell size when the caller gives no zoom (a whole-country view)


POINT_COLUMNS = (
    Visit.id,
    Visit.latitude,
    Visit.longitude,
    Visit.outcome,
    Visit.flags,
    Visit.visited_at,
    Visit.agent_id,
)


def _point_feature(row, open_flags: dict[str, list[str]]) -> dict:
    flags = split_flags(row.flags)
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": {"type": "Point", "coordinates": [row.longitude, row.latitude]},
        "properties": {
            "id": row.id,
            "outcome": row.outcome,
            "flags": flags,
            "open_flags": open_flags.get(row.id, flags),
            "visited_at": row.visited_at,
            "agent_id": row.agent_id,
        },
    }


def _cluster_feature(cell: dict, size: float) -> dict:
    return {
        "type": "Feature",
        "id": f"cell-{size:g}-{cell['row']}-{cell['col']}",
        "geometry": {"type": "Point", "coordinates": [round(cell["lon"], 6), round(cell["lat"], 6)]},
        "properties": {"cluster": True, "count": cell["count"], "flagged": cell["flagged"]},
    }


def visits_geojson(
    session: Session,
    *,
    principal: Principal,
    filters: VisitFilters,
    zoom: int | None,
    max_points: int | None = None,
) -> dict:
    """A FeatureCollection of single visits, or of grid clusters when zoomed out or over ``max_points``.

    Foreign members ``clustered``, ``total`` and ``cell_size_deg`` tell the client what it got.
    """
    max_points = MAX_POINTS if max_points is None else max_points
    clustered = zoom is not None and zoom < CLUSTER_BELOW_ZOOM
    features: list[dict] = []
    if not clustered:
        rows = list(
            session.execute(
                # No ORDER BY: the map needs no order, and without one the scan stops at max_points + 1.
                select(*POINT_COLUMNS).where(*point_conditions(principal, filters)).limit(max_points + 1)
            )
        )
        if len(rows) > max_points:
            clustered = True
        else:
            flagged = {r.id: r.flags for r in rows if r.flags}
            states = open_flags(session, flagged) if flagged else {}
            features = [_point_feature(r, states) for r in rows]
    size = None
    if clustered:
        size = cell_size(zoom if zoom is not None else DEFAULT_ZOOM)
        features = [
            _cluster_feature(c, size)
            for c in cluster_cells(
                session, principal=principal, filters=filters, zoom=zoom if zoom is not None else DEFAULT_ZOOM
            )
        ]
    total = sum(f["properties"]["count"] for f in features) if clustered else len(features)
    return {
        "type": "FeatureCollection",
        "clustered": clustered,
        "total": total,
        "cell_size_deg": size,
        "features": features,
    }
