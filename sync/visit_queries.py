"""Reading visits for supervisors and the map (docs/api.md): scoped lists, grid clusters, coverage.

Scoping (``sync.scope.visits``) is part of every query, never applied after loading. The map never
receives more than ``MAX_POINTS`` points: beyond that, or when zoomed out, the database groups visits
into grid cells (``GROUP BY floor(lat / cell), floor(lon / cell)``) and only the cells travel. Zoomed
out (zoom <= 10) and without a ``flag`` filter, the cells are summed from the rollup ``visit_cells``
(``sync.visit_rollup``, kept by pushes) instead of every visit; the visits a bbox edge or a partial day
cuts off from whole fine cells and days are read directly. Plain SQLAlchemy on a ``Session``; the same
functions serve the API, the pages and the bench.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from sqlalchemy import BigInteger, and_, cast, func, literal, or_, select, text, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from . import scope
from .errors import InvalidRequest, NotFound
from .geo.flags import FLAGS
from .models import User, Visit
from .models.visit_cells import VisitCell
from .models.visit_reviews import VisitFlagReview
from .pagination import Page, decode_cursor, encode_cursor
from .principal import Principal
from .validation.visit import OUTCOMES
from .visit_rollup import DAY_MS, FINE_CELL, FINE_ZOOM, fine_cx, fine_cy
from .visit_rollup import cell_index as _cell_index
from .writes import chunked

# What each flag means, shown when the engine stored no reason of its own for a visit.
FLAG_DESCRIPTIONS = {
    "outside_indonesia": "Lokasi di luar wilayah Indonesia / location outside Indonesia",
    "low_accuracy": "Akurasi GPS buruk / poor GPS accuracy",
    "mock_location": "Lokasi palsu (mock) dilaporkan ponsel / the phone reported a mock location",
    "impossible_travel": "Perpindahan terlalu cepat / impossible speed since the agent's previous visit",
    "clock_skew": "Jam ponsel jauh dari jam server / phone clock far from server time",
    "far_from_branch": "Jauh dari kantor cabang / far from the branch office",
    "stacked_location": "Banyak kunjungan di titik yang sama / many visits stacked on one spot",
}
MAX_POINTS = 2000  # more matching points than this are always clustered
CLUSTER_BELOW_ZOOM = 11  # below this zoom the map shows grid clusters, whatever the count
DEFAULT_ZOOM = 5  # cell size when the caller gives no zoom (a whole-country view)
CELL_KEY_BASE = 1 << 25  # more columns than any zoom's grid has (360° / cell at zoom 22 is 2**24)


@dataclass(frozen=True)
class VisitFilters:
    """The filters of ``GET /visits``; ``None`` means "any". ``bbox`` is (west, south, east, north)."""

    branch_id: str | None = None
    agent_id: str | None = None
    date_from: int | None = None
    date_to: int | None = None
    outcome: str | None = None
    flag: str | None = None
    bbox: tuple[float, float, float, float] | None = None


def split_flags(flags: str | None) -> list[str]:
    """The stored comma list as a list (empty entries dropped)."""
    return [f for f in (flags or "").split(",") if f]


def flag_reasons(visit: Visit) -> dict[str, str]:
    """Why each flag was raised: the engine's own reasons when it stored some, else the flag's meaning."""
    stored: dict = {}
    raw = getattr(visit, "flag_reasons", None)  # optional column written by the geo enrichment
    if isinstance(raw, dict):
        stored = raw
    elif isinstance(raw, str) and raw:
        try:
            loaded = json.loads(raw)
            stored = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            stored = {}
    return {flag: str(stored.get(flag) or FLAG_DESCRIPTIONS.get(flag, flag)) for flag in split_flags(visit.flags)}


def has_flag(flag: str) -> ColumnElement[bool]:
    """``flags`` (a comma list) contains ``flag`` as a whole entry."""
    return (literal(",") + Visit.flags + literal(",")).like(f"%,{flag},%")


def filter_conditions(filters: VisitFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.branch_id is not None:
        conditions.append(Visit.branch_id == filters.branch_id)
    if filters.agent_id is not None:
        conditions.append(Visit.agent_id == filters.agent_id)
    if filters.date_from is not None:
        conditions.append(Visit.visited_at >= filters.date_from)
    if filters.date_to is not None:
        conditions.append(Visit.visited_at <= filters.date_to)
    if filters.outcome is not None:
        conditions.append(Visit.outcome == filters.outcome)
    if filters.flag is not None:
        conditions.append(has_flag(filters.flag))
    if filters.bbox is not None:
        west, south, east, north = filters.bbox
        conditions += [
            Visit.longitude >= west,
            Visit.longitude <= east,
            Visit.latitude >= south,
            Visit.latitude <= north,
        ]
    return conditions


def visible(principal: Principal, filters: VisitFilters | None = None) -> list[ColumnElement[bool]]:
    """All WHERE conditions for the caller's live visits matching ``filters`` (scope: ``sync.scope.visits``)."""
    return [scope.visits(principal), *filter_conditions(filters or VisitFilters())]


def list_visits(
    session: Session, *, principal: Principal, filters: VisitFilters, limit: int, cursor: str | None
) -> Page:
    """Newest visits first (visits without a time first of all), by keyset on (visited_at, id).

    The page's keys are found first from the covering indexes alone, then only those rows are loaded:
    PostgreSQL underestimates a bbox's share (latitude and longitude are correlated), and asked for whole
    rows at once it would fetch every visit of the area to sort them.
    """
    query = select(Visit.visited_at, Visit.id).where(*visible(principal, filters))
    after = decode_cursor(cursor)
    if after is not None:
        sort_value, last_id = after
        if not (sort_value is None or type(sort_value) is int) or not isinstance(last_id, str):
            raise InvalidRequest("cursor is not valid", errors={"cursor": ["not a cursor from this API"]})
        if sort_value is None:
            query = query.where(
                or_(and_(Visit.visited_at.is_(None), Visit.id < last_id), Visit.visited_at.is_not(None))
            )
        else:
            query = query.where(
                or_(Visit.visited_at < sort_value, and_(Visit.visited_at == sort_value, Visit.id < last_id))
            )
    query = query.order_by(Visit.visited_at.desc().nulls_first(), Visit.id.desc()).limit(limit + 1)
    keys = list(session.execute(query))
    next_cursor = None
    if len(keys) > limit:
        keys = keys[:limit]
        next_cursor = encode_cursor([keys[-1].visited_at, keys[-1].id])
    ids = [key.id for key in keys]
    rows = {v.id: v for v in session.execute(select(Visit).where(Visit.id.in_(ids))).scalars()} if ids else {}
    return Page([rows[i] for i in ids if i in rows], next_cursor)


def get_visit(session: Session, *, principal: Principal, visit_id: str) -> Visit:
    """One visit in the caller's scope, or ``NotFound`` (absent and out of scope look the same)."""
    visit = session.execute(select(Visit).where(Visit.id == visit_id, *visible(principal))).scalar_one_or_none()
    if visit is None:
        raise NotFound("visit not found")
    return visit


def open_flags(session: Session, flags_by_id: dict[str, str | None]) -> dict[str, list[str]]:
    """Flags not dismissed by their latest review, for the visits given as ``{id: stored flags}``."""
    latest: dict[tuple[str, str], str] = {}
    for part in chunked(list(flags_by_id)):
        rows = session.execute(
            select(VisitFlagReview.visit_id, VisitFlagReview.flag, VisitFlagReview.decision)
            .where(VisitFlagReview.visit_id.in_(part))
            .order_by(VisitFlagReview.reviewed_at, VisitFlagReview.id)
        )
        for visit_id, flag, decision in rows:
            latest[(visit_id, flag)] = decision
    return {
        visit_id: [f for f in split_flags(flags) if latest.get((visit_id, f)) != "dismissed"]
        for visit_id, flags in flags_by_id.items()
    }


def cell_size(zoom: int) -> float:
    """Grid cell in degrees: a quarter of a web-map tile's width at ``zoom`` (about 64 pixels)."""
    return 360.0 / (2**zoom) / 4


def _without_jit(session: Session) -> None:
    """PostgreSQL's JIT compiles for ~40 ms before a large aggregate and never wins it back here."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def _point_conditions(principal: Principal, filters: VisitFilters) -> list[ColumnElement[bool]]:
    return [*visible(principal, filters), Visit.latitude.is_not(None), Visit.longitude.is_not(None)]


def cluster_cells(
    session: Session, *, principal: Principal, filters: VisitFilters, zoom: int, use_rollup: bool = True
) -> list[dict]:
    """Matching visits grouped into grid cells: count, flagged count and mean position of each.

    One integer key per cell (row * CELL_KEY_BASE + column) and plain sums keep the aggregate cheap: it is
    the one step that reads every matching row (a million for a country view). Zoomed out (zoom <= 10)
    and without a ``flag`` filter the rollup answers instead (``cluster_cells_rollup``).
    """
    _without_jit(session)
    if use_rollup and rollup_can_answer(filters, zoom):
        return cluster_cells_rollup(session, principal=principal, filters=filters, zoom=zoom)
    cell = cell_size(zoom)
    key = (
        _cell_index(session, Visit.latitude, 90.0, cell) * CELL_KEY_BASE
        + _cell_index(session, Visit.longitude, 180.0, cell)
    ).label("cell")
    query = (
        select(
            key,
            func.count().label("n"),
            func.sum(Visit.latitude).label("lat"),
            func.sum(Visit.longitude).label("lon"),
            func.count().filter(Visit.flags != "").label("flagged"),
        )
        .where(*_point_conditions(principal, filters))
        .group_by(key)
    )
    return [
        {
            "row": r.cell // CELL_KEY_BASE,
            "col": r.cell % CELL_KEY_BASE,
            "count": r.n,
            "lat": float(r.lat) / r.n,
            "lon": float(r.lon) / r.n,
            "flagged": int(r.flagged or 0),
        }
        for r in session.execute(query)
    ]


def rollup_can_answer(filters: VisitFilters, zoom: int) -> bool:
    """Whether ``visit_cells`` can count these visits: its cells nest in the zoom's, no flag filter."""
    return 0 <= zoom <= FINE_ZOOM and filters.flag is None


def _interior(filters: VisitFilters) -> dict:
    """The part of the filters made of whole UTC days and whole fine cells (bounds inclusive; None: open).

    Cells are taken one short of a bbox edge that falls within a rounding error of a cell boundary.
    """
    out: dict = {"d0": None, "d1": None, "cx0": None, "cx1": None, "cy0": None, "cy1": None}
    if filters.date_from is not None:
        out["d0"] = -(-filters.date_from // DAY_MS)
    if filters.date_to is not None:
        out["d1"] = (filters.date_to + 1) // DAY_MS - 1
    if filters.bbox is not None:
        west, south, east, north = filters.bbox
        for lo_key, hi_key, lo, hi, offset in (("cx0", "cx1", west, east, 180.0), ("cy0", "cy1", south, north, 90.0)):
            first = math.floor((lo + offset) / FINE_CELL) + 1
            if first * FINE_CELL - offset - lo < 1e-9:
                first += 1
            last = math.floor((hi + offset) / FINE_CELL) - 1
            if hi - ((last + 1) * FINE_CELL - offset) < 1e-9:
                last -= 1
            out[lo_key], out[hi_key] = first, last
    return out


def _remainder_strips(session: Session, filters: VisitFilters, box: dict) -> list[list[ColumnElement[bool]]]:
    """Disjoint extra conditions that, with the filters, select the matching visits outside the interior.

    Each strip keeps a plain range on an indexed column (``visited_at``, ``longitude`` or ``latitude``)
    and adds the exact fine-cell test, so the rollup and the strips never share or miss a visit.
    """
    strips: list[list[ColumnElement[bool]]] = []
    d0, d1 = box["d0"], box["d1"]
    if d0 is None and d1 is None:
        strips.append([Visit.visited_at.is_(None)])
        in_days: list[ColumnElement[bool]] = [Visit.visited_at.is_not(None)]
    else:
        in_days = []
        if d0 is not None:
            strips.append([Visit.visited_at < d0 * DAY_MS])
            in_days.append(Visit.visited_at >= d0 * DAY_MS)
        if d1 is not None:
            strips.append([Visit.visited_at >= (d1 + 1) * DAY_MS])
            in_days.append(Visit.visited_at < (d1 + 1) * DAY_MS)
    if filters.bbox is not None:
        west, south, east, north = filters.bbox
        cx, cy = fine_cx(session), fine_cy(session)
        cx0, cx1, cy0, cy1 = box["cx0"], box["cx1"], box["cy0"], box["cy1"]
        slack = 1e-6
        strips += [
            [*in_days, Visit.longitude < cx0 * FINE_CELL - 180.0 + slack, cx < cx0],
            [*in_days, Visit.longitude >= (cx1 + 1) * FINE_CELL - 180.0 - slack, cx > cx1],
            [*in_days, Visit.latitude < cy0 * FINE_CELL - 90.0 + slack, cy < cy0, cx.between(cx0, cx1)],
            [*in_days, Visit.latitude >= (cy1 + 1) * FINE_CELL - 90.0 - slack, cy > cy1, cx.between(cx0, cx1)],
        ]
    return strips


def cluster_cells_rollup(session: Session, *, principal: Principal, filters: VisitFilters, zoom: int) -> list[dict]:
    """``cluster_cells`` from ``visit_cells``: whole days and whole fine cells from the rollup, the rest
    (partial days at the ends of a date range, the fine cells a bbox edge cuts) from ``visits`` directly.

    A zoom's cell is ``2**(FINE_ZOOM - zoom)`` fine cells, so the coarse key is a shift of the fine one.
    """
    box = _interior(filters)
    shift = 2 ** (FINE_ZOOM - zoom)
    merged: dict[int, list] = {}
    empty = any(
        box[lo] is not None and box[hi] is not None and box[lo] > box[hi]
        for lo, hi in (("d0", "d1"), ("cx0", "cx1"), ("cy0", "cy1"))
    )
    if not empty:
        key = (cast(VisitCell.cy // shift, BigInteger) * CELL_KEY_BASE + VisitCell.cx // shift).label("cell")
        conditions: list[ColumnElement[bool]] = [scope.visit_cells(principal)]
        for column, name in (
            (VisitCell.branch_id, "branch_id"),
            (VisitCell.agent_id, "agent_id"),
            (VisitCell.outcome, "outcome"),
        ):
            if getattr(filters, name) is not None:
                conditions.append(column == getattr(filters, name))
        for axis, lo, hi in ((VisitCell.day, "d0", "d1"), (VisitCell.cx, "cx0", "cx1"), (VisitCell.cy, "cy0", "cy1")):
            if box[lo] is not None:
                conditions.append(axis >= box[lo])
            if box[hi] is not None:
                conditions.append(axis <= box[hi])
        query = (
            select(
                key,
                func.sum(VisitCell.count).label("n"),
                func.sum(VisitCell.sum_lat).label("lat"),
                func.sum(VisitCell.sum_lon).label("lon"),
                func.sum(VisitCell.count).filter(VisitCell.flagged).label("flagged"),
            )
            .where(*conditions)
            .group_by(key)
        )
        for r in session.execute(query):
            merged[r.cell] = [int(r.n), float(r.lat), float(r.lon), int(r.flagged or 0)]
        strips = _remainder_strips(session, filters, box)
    else:
        strips = [[]]  # nothing whole: every matching visit is a remainder
    if strips:
        cell = cell_size(zoom)
        base = _point_conditions(principal, filters)
        parts = [
            select(
                (
                    _cell_index(session, Visit.latitude, 90.0, cell) * CELL_KEY_BASE
                    + _cell_index(session, Visit.longitude, 180.0, cell)
                ).label("cell"),
                Visit.latitude.label("lat"),
                Visit.longitude.label("lon"),
                Visit.flags.label("flags"),
            ).where(*base, *strip)
            for strip in strips
        ]
        rest = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
        query = select(
            rest.c.cell,
            func.count().label("n"),
            func.sum(rest.c.lat).label("lat"),
            func.sum(rest.c.lon).label("lon"),
            func.count().filter(rest.c.flags != "").label("flagged"),
        ).group_by(rest.c.cell)
        for r in session.execute(query):
            acc = merged.setdefault(r.cell, [0, 0.0, 0.0, 0])
            acc[0] += int(r.n)
            acc[1] += float(r.lat)
            acc[2] += float(r.lon)
            acc[3] += int(r.flagged or 0)
    return [
        {"row": k // CELL_KEY_BASE, "col": k % CELL_KEY_BASE, "count": n, "lat": lat / n, "lon": lon / n, "flagged": f}
        for k, (n, lat, lon, f) in merged.items()
        if n
    ]


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
                select(*POINT_COLUMNS).where(*_point_conditions(principal, filters)).limit(max_points + 1)
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


def coverage(session: Session, *, principal: Principal, filters: VisitFilters) -> list[dict]:
    """Visit counts per regency (flagged ones too, and the latest visit), most visited first."""
    flagged = func.count().filter(Visit.flags != "")
    query = (
        select(
            Visit.province_code,
            func.max(Visit.province).label("province"),
            Visit.regency_code,
            func.max(Visit.regency).label("regency"),
            func.count().label("visits"),
            flagged.label("flagged"),
            func.max(Visit.visited_at).label("last_visited_at"),
        )
        .where(*visible(principal, filters))
        .group_by(Visit.province_code, Visit.regency_code)
        .order_by(func.count().desc(), Visit.regency_code)
    )
    return [
        {
            "province_code": r.province_code,
            "province": r.province,
            "regency_code": r.regency_code,
            "regency": r.regency,
            "visits": r.visits,
            "flagged": int(r.flagged or 0),
            "last_visited_at": r.last_visited_at,
        }
        for r in session.execute(query)
    ]


def agents_in_scope(session: Session, *, principal: Principal) -> list[User]:
    """The agents whose visits the caller may see (for the map's agent filter)."""
    return list(session.execute(select(User).where(scope.agents(principal)).order_by(User.username)).scalars())


__all__ = [
    "FLAGS",
    "FLAG_DESCRIPTIONS",
    "MAX_POINTS",
    "OUTCOMES",
    "VisitFilters",
    "agents_in_scope",
    "cluster_cells",
    "coverage",
    "flag_reasons",
    "get_visit",
    "list_visits",
    "visits_geojson",
]
