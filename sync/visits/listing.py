"""Visits as supervisors list them (docs/api.md "Visits"): filters, scoped lists, one visit, open flags.

Scoping (``sync.accounts.scope.visits``) is part of every query, never applied after loading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import and_, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.errors import InvalidRequest, NotFound
from sync.models import Visit
from sync.models.visit_reviews import VisitFlagReview
from sync.pagination import Page, decode_cursor, encode_cursor
from sync.writes import chunked

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
    """WHERE conditions for the caller's live visits matching ``filters`` (scope: ``sync.accounts.scope.visits``)."""
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


def point_conditions(principal: Principal, filters: VisitFilters) -> list[ColumnElement[bool]]:
    """Visible visits with a position: what the map may show."""
    return [*visible(principal, filters), Visit.latitude.is_not(None), Visit.longitude.is_not(None)]
