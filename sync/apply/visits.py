"""Visits in a push: validate coordinates and fields, store with the problems found."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from ..changes import PushedRecord
from ..context import PushContext
from ..models import Visit
from ..tables import device_columns
from ..validation.visit import check_visit
from ..writes import save_rows

DEVICE_COLUMNS = tuple(c.name for c in device_columns("visits"))


def apply_visits(
    session: Session, ctx: PushContext, records: list[PushedRecord], existing: dict[str, dict]
) -> dict[str, dict]:
    rows, results = [], {}
    for record in records:
        values = dict(record.values)
        errors = check_visit(values)
        for name, messages in record.problems.items():
            errors.setdefault(name, []).extend(messages)
        row = ctx.base_row(record.id, existing.get(record.id)) | {
            "agent_id": ctx.principal.user_id,
            "branch_id": ctx.principal.branch_id,
            "validation_errors": json.dumps(errors, ensure_ascii=False) if errors else None,
        }
        row.update({name: values.get(name) for name in DEVICE_COLUMNS})
        rows.append(row)
        results[record.id] = {"status": "needs_correction", "errors": errors} if errors else {"status": "accepted"}
    save_rows(session, Visit, rows, set(existing))
    ctx.applied["visits"] = rows
    return results
