"""What every step of one push needs to know: who pushes, the stamp, the keys, today's date, the settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sync.accounts.principal import Principal
from sync.pii import PiiProtector
from sync.settings import EngineSettings


@dataclass
class Applied:
    """What one push wrote, for the steps that run after the table handlers (``sync.protocol.pipeline``)."""

    enrollments: list[dict] = field(default_factory=list)  # rows as stored
    visits: list[dict] = field(default_factory=list)
    follow_ups: list[dict] = field(default_factory=list)
    deleted: dict[str, list[str]] = field(default_factory=dict)  # table → ids this push tombstoned
    # (agent, visited_at) that updated visits had before the push: the map's rollup rewrites those days too.
    visit_times_before: list[tuple[str, int]] = field(default_factory=list)
    # Visits whose outcome became "enrolled" in this push: only they make earlier revisits obsolete.
    visits_now_enrolled: set[str] = field(default_factory=set)

    def deleted_ids(self, table: str) -> list[str]:
        return self.deleted.get(table, [])


@dataclass
class PushContext:
    principal: Principal
    pii: PiiProtector
    stamp: int
    last_pulled_at: int
    today: dt.date = field(default_factory=dt.date.today)
    branch_location: tuple[float, float] | None = None
    # Geo thresholds, the matching model and the follow-up rules the server parsed at start-up.
    settings: EngineSettings = field(default_factory=EngineSettings)
    applied: Applied = field(default_factory=Applied)
    pushed: dict[str, set[str]] = field(default_factory=dict)  # table → ids this push creates or updates

    def base_row(self, record_id: str, existing: dict | None) -> dict:
        """Change-tracking columns: new rows (and resurrected ones) get a fresh ``server_created_at``."""
        row = {"id": record_id, "last_modified": self.stamp, "deleted_at": None}
        if existing is None or existing.get("deleted_at") is not None:
            row["server_created_at"] = self.stamp
            row["created_by_device"] = self.principal.device_id
        return row
