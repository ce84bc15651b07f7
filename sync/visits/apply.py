"""Visits in a push: validate coordinates and fields, enrich and flag them (``sync.geo``), store them.

Enrichment runs before ``save_rows`` so every row is written once, with its province, regency, zone,
branch distance and flags; the stored neighbours whose flags the push changes are updated in the same
transaction, with the same stamp. Each visit's result carries its ``flags`` (docs/sync.md "Push").
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from sync.models import Visit
from sync.protocol.changes import PushedRecord
from sync.protocol.context import PushContext
from sync.protocol.references import check_references
from sync.protocol.sanitize import add_messages, fit_to_columns
from sync.protocol.statuses import record_result
from sync.protocol.tables import device_columns
from sync.visits.neighbours import process_pushed_visits
from sync.visits.validation import check_visit
from sync.writes import save_rows

DEVICE_COLUMNS = tuple(c.name for c in device_columns("visits"))


def apply_visits(
    session: Session, ctx: PushContext, records: list[PushedRecord], existing: dict[str, dict]
) -> dict[str, dict]:
    rows: list[dict] = []
    results: dict[str, dict] = {}
    foreign = check_references(
        session, ctx.principal.user_id, "visits", {r.id: r.values for r in records}, existing, ctx.pushed
    )
    for record in records:
        values = dict(record.values)
        errors = check_visit(values) | foreign.get(record.id, {})
        add_messages(errors, record.problems)
        fit_to_columns(Visit, values, errors)
        row = ctx.base_row(record.id, existing.get(record.id)) | {
            "agent_id": ctx.principal.user_id,
            "branch_id": ctx.principal.branch_id,
            "validation_errors": json.dumps(errors, ensure_ascii=False) if errors else None,
        }
        row.update({name: values.get(name) for name in DEVICE_COLUMNS})
        rows.append(row)
        results[record.id] = record_result(errors)
    ctx.applied.visit_times_before = [
        (before["agent_id"], before["visited_at"])
        for before in existing.values()
        if before.get("deleted_at") is None and before.get("visited_at") is not None
    ]
    ctx.applied.visits_now_enrolled = {
        row["id"]
        for row in rows
        if row.get("outcome") == "enrolled" and (existing.get(row["id"]) or {}).get("outcome") != "enrolled"
    }
    process_pushed_visits(session, ctx, rows, existing)
    for row in rows:
        results[row["id"]]["flags"] = row["flags"] or ""
    save_rows(session, Visit, rows, set(existing))
    ctx.applied.visits = rows
    return results
