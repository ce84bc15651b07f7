"""Coverage per regency: how many visits (and flagged ones) each regency has, for the supervisor."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync.accounts.principal import Principal
from sync.models import Visit
from sync.visits.listing import VisitFilters, visible


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
