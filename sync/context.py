"""What every step of one push needs to know: who pushes, the stamp, the keys, today's date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .pii import PiiProtector
from .principal import Principal


@dataclass
class PushContext:
    principal: Principal
    pii: PiiProtector
    stamp: int
    last_pulled_at: int
    today: dt.date = field(default_factory=dt.date.today)
    branch_location: tuple[float, float] | None = None
    applied: dict[str, list] = field(default_factory=dict)  # table → row dicts written by this push
    pushed: dict[str, set[str]] = field(default_factory=dict)  # table → ids this push creates or updates

    def base_row(self, record_id: str, existing: dict | None) -> dict:
        """Change-tracking columns: new rows (and resurrected ones) get a fresh ``server_created_at``."""
        row = {"id": record_id, "last_modified": self.stamp, "deleted_at": None}
        if existing is None or existing.get("deleted_at") is not None:
            row["server_created_at"] = self.stamp
            row["created_by_device"] = self.principal.device_id
        return row
