"""The map's rollup (``visit_cells``): kept exact in the push's transaction, read by zoomed-out views.

``refresh`` rewrites the rollup rows of some (agent, day) pairs from ``visits``: one DELETE and one
``INSERT … SELECT … GROUP BY`` per chunk of day ranges, never a statement per visit. The ``after_apply``
step ``after_push`` refreshes, for each agent in a push, every day from 9 days (more than the geo
engine's reach, ``GeoSettings.reach_ms``) before the earliest to 9 days after the latest of: the pushed
visits' new times, their times before the push, and the times of visits the push deleted. That covers
the neighbours ``sync.visits.neighbours`` re-flags, which lie within its reach of those times.

``rebuild`` refills the whole table from ``visits`` (a database created before this table existed, the
bench's bulk loader). Plain SQLAlchemy, no Flask.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import BigInteger, and_, case, cast, delete, func, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from sync.models import Visit
from sync.models.visit_cells import VisitCell
from sync.protocol.context import PushContext
from sync.visits.settings import GeoSettings
from sync.writes import chunked, load_by_ids

DAY_MS = 86_400_000
FINE_ZOOM = 10  # the fine cell is the map's zoom-10 cell: every clustered zoom's cell is 2**k fine cells
FINE_CELL = 90.0 / 2**FINE_ZOOM  # == visit_queries.cell_size(FINE_ZOOM), exactly
MARGIN_DAYS = 9
RANGES_PER_STATEMENT = 200


def cell_index(session: Session, column, offset: float, cell: float) -> ColumnElement[int]:
    """``floor((column + offset) / cell)``; the offset keeps values positive so SQLite's CAST floors.

    The map's direct clustering uses this same expression, so a visit's fine cell, shifted right by
    ``FINE_ZOOM - zoom`` bits, is exactly its cell at ``zoom`` (``1 / cell`` differ by a power of two).
    """
    shifted = (column + offset) * (1.0 / cell)
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(shifted), BigInteger)
    return cast(shifted, BigInteger)


def fine_cx(session: Session) -> ColumnElement[int]:
    return cell_index(session, Visit.longitude, 180.0, FINE_CELL)


def fine_cy(session: Session) -> ColumnElement[int]:
    return cell_index(session, Visit.latitude, 90.0, FINE_CELL)


def day_of(column) -> ColumnElement[int]:
    """``floor(column / DAY_MS)`` in integers on both dialects (their ``%`` and ``/`` truncate)."""
    return (column - ((column % DAY_MS) + DAY_MS) % DAY_MS) // DAY_MS


def _rollup_select(session: Session, where: list[ColumnElement[bool]]):
    cx, cy, day = fine_cx(session).label("cx"), fine_cy(session).label("cy"), day_of(Visit.visited_at).label("day")
    flagged = case((Visit.flags != "", True), else_=False).label("flagged")
    return (
        select(
            cx,
            cy,
            Visit.branch_id,
            Visit.agent_id,
            day,
            Visit.outcome,
            flagged,
            func.count(),
            func.sum(Visit.latitude),
            func.sum(Visit.longitude),
        )
        .where(
            Visit.deleted_at.is_(None),
            Visit.latitude.is_not(None),
            Visit.longitude.is_not(None),
            Visit.visited_at.is_not(None),
            *where,
        )
        .group_by(cx, cy, Visit.branch_id, Visit.agent_id, day, Visit.outcome, flagged)
    )


_TARGET = ("cx", "cy", "branch_id", "agent_id", "day", "outcome", "flagged", "count", "sum_lat", "sum_lon")


def _day_ranges(days: Iterable[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for d in sorted(set(days)):
        if ranges and d == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], d)
        else:
            ranges.append((d, d))
    return ranges


def refresh_ranges(session: Session, ranges: Iterable[tuple[str, int, int]]) -> None:
    """Rewrite the rollup of each (agent, first day, last day) range from the live visits."""
    for part in chunked(list(ranges), RANGES_PER_STATEMENT):
        cells = or_(*(and_(VisitCell.agent_id == a, VisitCell.day.between(lo, hi)) for a, lo, hi in part))
        visits = or_(
            *(
                and_(Visit.agent_id == a, Visit.visited_at.between(lo * DAY_MS, (hi + 1) * DAY_MS - 1))
                for a, lo, hi in part
            )
        )
        session.execute(delete(VisitCell).where(cells))
        session.execute(insert(VisitCell).from_select(_TARGET, _rollup_select(session, [visits])))


def refresh(session: Session, agent_day_pairs: Iterable[tuple[str, int]]) -> None:
    """Rewrite the rollup rows of these (agent_id, UTC day number) pairs from ``visits``."""
    by_agent: dict[str, list[int]] = defaultdict(list)
    for agent_id, day in agent_day_pairs:
        by_agent[agent_id].append(day)
    refresh_ranges(session, [(a, lo, hi) for a, days in by_agent.items() for lo, hi in _day_ranges(days)])


def rebuild(session: Session) -> None:
    """Empty the rollup and fill it from every live visit (for databases whose visits predate it)."""
    session.execute(delete(VisitCell))
    session.execute(insert(VisitCell).from_select(_TARGET, _rollup_select(session, [])))


def _margin_ms(settings: GeoSettings) -> int:
    return max(MARGIN_DAYS * DAY_MS, settings.reach_ms + DAY_MS)


def after_push(session: Session, ctx: PushContext) -> None:
    """``after_apply`` step: refresh the days around every visit time this push wrote, moved or deleted.

    Runs after ``sync.geo.refresh_after_delete`` so the deleted visits' neighbours carry their new flags.
    """
    times: dict[str, list[int]] = defaultdict(list)
    applied = ctx.applied
    for row in applied.visits:
        if row.get("visited_at") is not None:
            times[row.get("agent_id") or ctx.principal.user_id].append(row["visited_at"])
    for agent_id, visited_at in applied.visit_times_before:
        times[agent_id].append(visited_at)
    deleted = applied.deleted_ids("visits")
    if deleted:
        for row in load_by_ids(session, Visit, deleted, Visit.id, Visit.agent_id, Visit.visited_at).values():
            if row["visited_at"] is not None:
                times[row["agent_id"]].append(row["visited_at"])
    if not times:
        return
    margin = _margin_ms(ctx.settings.geo)
    refresh_ranges(
        session,
        [(a, (min(ts) - margin) // DAY_MS, (max(ts) + margin) // DAY_MS) for a, ts in times.items()],
    )
