"""``GET /export/visits.csv``: the visits ``GET /visits`` would list, with the same filters, as CSV.

Visits hold no NIK or phone column, so nothing is masked; the agent's username and the branch code are
added for people reading the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from sync import audit
from sync.accounts.principal import Principal
from sync.exports.cells import iso_utc
from sync.exports.stream import Export
from sync.models import Branch, User, Visit
from sync.visits import listing

COLUMNS = (
    ("id", Visit.id),
    ("visited_at", Visit.visited_at),
    ("agent_id", Visit.agent_id),
    ("agent_username", User.username),
    ("branch_id", Visit.branch_id),
    ("branch_code", Branch.code),
    ("outcome", Visit.outcome),
    ("occupation", Visit.occupation),
    ("latitude", Visit.latitude),
    ("longitude", Visit.longitude),
    ("accuracy_m", Visit.accuracy_m),
    ("is_mock_location", Visit.is_mock_location),
    ("province_code", Visit.province_code),
    ("province", Visit.province),
    ("regency_code", Visit.regency_code),
    ("regency", Visit.regency),
    ("distance_from_branch_km", Visit.distance_from_branch_km),
    ("flags", Visit.flags),
    ("notes", Visit.notes),
    ("enrollment_id", Visit.enrollment_id),
    ("worker_id", Visit.worker_id),
    ("server_created_at", Visit.server_created_at),
)
HEADER = (*(name for name, _ in COLUMNS[:2]), "visited_at_utc", *(name for name, _ in COLUMNS[2:]))


def _shape(session: Session, rows: Sequence[Row]) -> list[list]:
    return [[row[0], row[1], iso_utc(row[1]), *row[2:]] for row in rows]


def export(principal: Principal, filters: listing.VisitFilters) -> Export:
    """The caller's visits matching ``filters`` (``sync.visits.listing.visible``), in the list's order."""
    query = (
        select(*(column for _, column in COLUMNS))
        .outerjoin(User, User.id == Visit.agent_id)
        .outerjoin(Branch, Branch.id == Visit.branch_id)
        .where(*listing.visible(principal, filters))
        .order_by(Visit.visited_at.desc().nulls_first(), Visit.id.desc())
    )
    given = {name: value for name, value in dataclasses.asdict(filters).items() if value is not None}
    return Export(
        action=audit.EXPORT_VISITS,
        header=HEADER,
        query=query,
        shape=_shape,
        filters={name: list(value) if isinstance(value, tuple) else value for name, value in given.items()},
        masked=False,
    )
