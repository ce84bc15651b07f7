"""Follow-ups in a push: agents create their own and report outcomes on those assigned to them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sync.follow_ups.validation import check_follow_up
from sync.models import FollowUp
from sync.protocol.changes import PushedRecord
from sync.protocol.context import PushContext
from sync.protocol.references import check_references
from sync.protocol.sanitize import add_messages, fit_to_columns
from sync.protocol.statuses import record_result
from sync.protocol.tables import device_columns
from sync.writes import save_rows

DEVICE_COLUMNS = tuple(c.name for c in device_columns("follow_ups"))


def apply_follow_ups(
    session: Session, ctx: PushContext, records: list[PushedRecord], existing: dict[str, dict]
) -> dict[str, dict]:
    rows: list[dict] = []
    results: dict[str, dict] = {}
    foreign = check_references(
        session, ctx.principal.user_id, "follow_ups", {r.id: r.values for r in records}, existing, ctx.pushed
    )
    for record in records:
        values = dict(record.values)
        errors = check_follow_up(values) | foreign.get(record.id, {})
        add_messages(errors, record.problems)
        fit_to_columns(FollowUp, values, errors)
        row = ctx.base_row(record.id, existing.get(record.id)) | {
            "assigned_agent_id": ctx.principal.user_id,
            "branch_id": ctx.principal.branch_id,
        }
        row.update({name: values.get(name) for name in DEVICE_COLUMNS})
        rows.append(row)
        results[record.id] = record_result(errors)
    save_rows(session, FollowUp, rows, set(existing))
    ctx.applied.follow_ups = rows
    return results
