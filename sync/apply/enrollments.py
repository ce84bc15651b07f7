"""Enrolments in a push: validate, protect personal data, link to a worker, store (even when invalid)."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from ..changes import PushedRecord
from ..context import PushContext
from ..models import Enrollment, Worker
from ..people import NEEDS_CORRECTION, PeopleIndex, resolve
from ..pii import mask_nik, mask_phone
from ..validation.enrollment import check_enrollment
from ..writes import save_rows

REASONS = {
    "verified": "Terverifikasi / Verified",
    "duplicate": "Sudah terdaftar sebelumnya / Already enrolled before (duplicate)",
    NEEDS_CORRECTION: "Perlu perbaikan: {fields} / Needs correction: {fields}",
}


def _status_reason(status: str, errors: dict) -> str:
    return REASONS[status].format(fields=", ".join(sorted(errors)))


def apply_enrollments(
    session: Session, ctx: PushContext, records: list[PushedRecord], existing: dict[str, dict]
) -> dict[str, dict]:
    pii = ctx.pii
    checks = []
    for record in records:
        check = check_enrollment(record.values, today=ctx.today)
        for name, messages in record.problems.items():
            check.errors.setdefault(name, []).extend(messages)
        checks.append(check)
    nik_indexes = {pii.blind_index("nik", c.nik_digits) for c in checks if len(c.nik_digits) == 16}
    index = PeopleIndex(session, {n for n in nik_indexes if n})
    rows, workers, results = [], [], {}
    for record, check in zip(records, checks, strict=True):
        prev = existing.get(record.id)
        values = check.values
        nik = check.nik_digits if len(check.nik_digits) == 16 else None
        row = ctx.base_row(record.id, prev) | {
            "agent_id": ctx.principal.user_id,
            "branch_id": ctx.principal.branch_id,
            "nik_encrypted": pii.encrypt(values.get("nik"), row_id=record.id),
            "nik_index": pii.blind_index("nik", nik) if nik and "nik" not in check.errors else None,
            "nik_masked": mask_nik(nik or values.get("nik")),
            "phone_encrypted": pii.encrypt(values.get("phone"), row_id=record.id),
            "phone_e164": pii.encrypt(check.phone_e164, row_id=record.id),
            "phone_index": pii.blind_index("phone", check.phone_e164),
            "phone_masked": mask_phone(check.phone_e164),
            "validation_errors": json.dumps(check.errors, ensure_ascii=False) if check.errors else None,
            "validation_warnings": json.dumps(check.warnings, ensure_ascii=False) if check.warnings else None,
        }
        for name in (
            "full_name",
            "birth_date",
            "sex",
            "occupation",
            "address",
            "village",
            "programs",
            "monthly_income",
            "visit_id",
            "captured_at",
        ):
            row[name] = values.get(name)
        worker = resolve(ctx, index, row, prev, valid=not check.errors, nik=nik or "", phone_e164=check.phone_e164)
        if worker:
            workers.append(worker)
        row["status_reason"] = _status_reason(row["status"], check.errors)
        rows.append(row)
        result = {"status": row["status"]}
        if check.errors:
            result["errors"] = check.errors
        if check.warnings:
            result["warnings"] = check.warnings
        for name in ("worker_id", "duplicate_of"):
            if row[name]:
                result[name] = row[name]
        results[record.id] = result
    save_rows(session, Worker, workers, set())
    save_rows(session, Enrollment, rows, set(existing))
    ctx.applied["enrollments"] = rows
    return results
