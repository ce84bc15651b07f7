"""Enrolments in a push: validate, protect personal data, link to a worker, store (even when invalid).

Linking and saving are one unit (``sync.enrollments.linking.link_and_save``): this handler only builds the rows
and reads the outcome back into per-record results.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from sync.accounts import scope
from sync.enrollments.duplicates.normalize import nik_digits
from sync.enrollments.linking import PendingEnrollment, link_and_save
from sync.enrollments.validation import EnrollmentCheck, check_enrollment
from sync.models import Enrollment
from sync.pii import mask_nik, mask_phone
from sync.protocol.changes import PushedRecord
from sync.protocol.context import PushContext
from sync.protocol.references import check_references
from sync.protocol.sanitize import add_messages, fit_to_columns
from sync.protocol.tables import device_columns

# Device columns stored as typed; NIK and phone are stored encrypted (``_row``).
DEVICE_VALUES = tuple(c.name for c in device_columns("enrollments") if c.name not in ("nik", "phone"))


def apply_enrollments(
    session: Session, ctx: PushContext, records: list[PushedRecord], existing: dict[str, dict]
) -> dict[str, dict]:
    # A visit of someone else's is cleared with a warning: it must not block the enrolment or its credit.
    foreign = check_references(
        session, ctx.principal.user_id, "enrollments", {r.id: r.values for r in records}, existing, ctx.pushed
    )
    checks = [_check(ctx, record, foreign.get(record.id, {})) for record in records]
    pending = [
        PendingEnrollment(
            row=_row(ctx, record, check, existing.get(record.id)),
            prev=existing.get(record.id),
            errors=check.errors,
            nik=nik_digits(record.values.get("nik")),  # as matching reads it (equal to the digits when valid)
            phone_e164=check.phone_e164,
        )
        for record, check in zip(records, checks, strict=True)
    ]
    link_and_save(session, ctx, pending)
    results = {item.row["id"]: _result(item.row, check) for item, check in zip(pending, checks, strict=True)}
    _hide_foreign_people(session, ctx, results)
    ctx.applied.enrollments = [item.row for item in pending]
    return results


def _check(ctx: PushContext, record: PushedRecord, foreign: dict[str, list[str]]) -> EnrollmentCheck:
    check = check_enrollment(record.values, today=ctx.today)
    add_messages(check.warnings, foreign)
    add_messages(check.errors, record.problems)
    fit_to_columns(Enrollment, check.values, check.errors)
    return check


def _row(ctx: PushContext, record: PushedRecord, check: EnrollmentCheck, prev: dict | None) -> dict:
    """The enrolment's columns except its link to a person; NIK and phones encrypted under its id."""
    pii, values = ctx.pii, check.values
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
    row.update({name: values.get(name) for name in DEVICE_VALUES})
    return row


def _result(row: dict, check: EnrollmentCheck) -> dict:
    result: dict = {"status": row["status"]}
    if check.errors:
        result["errors"] = check.errors
    if check.warnings:
        result["warnings"] = check.warnings
    for name in ("worker_id", "duplicate_of"):
        if row[name]:
            result[name] = row[name]
    return result


def _hide_foreign_people(session: Session, ctx: PushContext, results: dict[str, dict]) -> None:
    """An invalid enrolment may be linked to a person for matching, but its agent learns nothing of a
    person outside their scope: no ``worker_id`` or ``duplicate_of`` in the answer (docs/security.md)."""
    linked = {
        rid: r["worker_id"]
        for rid, r in results.items()
        if scope.link_shown_only_if_visible(r["status"], r.get("worker_id"))
    }
    if not linked:
        return
    visible = scope.reachable_worker_ids(session, ctx.principal.user_id, set(linked.values()))
    for rid, worker_id in linked.items():
        if worker_id not in visible:
            results[rid].pop("worker_id", None)
            results[rid].pop("duplicate_of", None)
