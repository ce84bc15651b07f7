"""Map clusters: matching visits grouped into grid cells by the database, never loaded one by one.

Zoomed in, cells come from ``GROUP BY floor(lat / cell), floor(lon / cell)`` over the visits. Zoomed out
(zoom <= 10) and without a ``flag`` filter, they are summed from the rollup ``visit_cells``
(``sync.visits.rollup``, kept by pushes); the visits a bbox edge or a partial day cuts off from whole fine
cells and days are read directly.
"""

from __future__ import annotations

import math

from sqlalchemy import BigInteger, cast, func, select, text, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.models import Visit
from sync.models.visit_cells import VisitCell
from sync.visits.listing import VisitFilters, point_conditions
from sync.visits.rollup import DAY_MS, FINE_CELL, FINE_ZOOM, fine_cx, fine_cy
from sync.visits.rollup import cell_index as _cell_index

CELL_KEY_BASE = 1 << 25  # more columns than any zoom's grid has (360° / cell at zoom 22 is 2**24)


def cell_size(zoom: int) -> float:
    """Grid cell in degrees: a quarter of a web-map tile's width at ``zoom`` (about 64 pixels)."""
    return 360.0 / (2**zoom) / 4


def _without_jit(session: Session) -> None:
    """PostgreSQL's JIT compiles for ~40 ms before a large aggregate and never wins it back here."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


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
        .where(*point_conditions(principal, filters))
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
        base = point_conditions(principal, filters)
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
