"""Enrolments in a push: validate, protect personal data, link to a worker, store (even when invalid)."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from .. import scope
from ..changes import PushedRecord
from ..context import PushContext
from ..models import Enrollment, ScopeExit
from ..people import NEEDS_CORRECTION, VALID, People
from ..pii import mask_nik, mask_phone
from ..references import check_references
from ..sanitize import fit_to_columns
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
    # A visit of someone else's is cleared with a warning: it must not block the enrolment or its credit.
    foreign = check_references(
        session, ctx.principal.user_id, "enrollments", {r.id: r.values for r in records}, existing, ctx.pushed
    )
    for record in records:
        check = check_enrollment(record.values, today=ctx.today)
        for name, messages in foreign.get(record.id, {}).items():
            check.warnings.setdefault(name, []).extend(messages)
        for name, messages in record.problems.items():
            check.errors.setdefault(name, []).extend(messages)
        fit_to_columns(Enrollment, check.values, check.errors)
        checks.append(check)
    people = People(session, ctx)
    probes = [
        people.probe(nik=c.nik_digits, values=c.values, phone_index=pii.blind_index("phone", c.phone_e164))
        for c in checks
    ]
    people.load(probes, {record.id for record in records})
    rows, results = [], {}
    for record, check, probe in zip(records, checks, probes, strict=True):
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
        row["status_reason"] = None
        people.resolve(
            row, prev, valid=not check.errors, probe=probe, nik=check.nik_digits, phone_e164=check.phone_e164
        )
        was_valid = prev is not None and prev.get("deleted_at") is None and prev["status"] in VALID
        row["valid_since"] = (prev["valid_since"] if was_valid else ctx.stamp) if row["status"] in VALID else None
        relinked = prev is None or prev.get("deleted_at") is not None or prev.get("worker_id") != row["worker_id"]
        # Becoming valid is what opens the person to the agent (sync.references): it counts as a new link.
        opened = row["status"] in VALID and not was_valid
        row["worker_linked_at"] = ctx.stamp if relinked or opened else prev.get("worker_linked_at")
        left = prev and prev.get("worker_id") and (prev["worker_id"] != row["worker_id"] or row["status"] not in VALID)
        if left and (relinked or was_valid):
            # The old person may leave this agent's replica: the pull sends a deletion unless still linked.
            session.add(
                ScopeExit(
                    agent_id=ctx.principal.user_id, table_name="workers", record_id=prev["worker_id"], stamp=ctx.stamp
                )
            )
        if not row["status_reason"] or row["status"] == NEEDS_CORRECTION:
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
    by_id = {row["id"]: row for row in rows}
    people.settle_orphans(by_id)
    for rid, row in by_id.items():
        if row["worker_id"] and "worker_id" not in results[rid]:
            results[rid]["worker_id"] = row["worker_id"]  # claimed by a later enrolment of this push
    people.save_workers()
    save_rows(session, Enrollment, rows, set(existing))
    for rid, values in people.finish().items():  # credits recomputed for every person touched
        if rid in by_id:
            by_id[rid].update(values)
        if rid in results:
            results[rid].update(status=values["status"])
            results[rid].pop("duplicate_of", None)
            if values["duplicate_of"]:
                results[rid]["duplicate_of"] = values["duplicate_of"]
    _hide_foreign_people(session, ctx, results)
    ctx.applied["enrollments"] = rows
    return results


def _hide_foreign_people(session: Session, ctx: PushContext, results: dict[str, dict]) -> None:
    """An invalid enrolment may be linked to a person for matching, but its agent learns nothing of a
    person outside their scope: no ``worker_id`` or ``duplicate_of`` in the answer (docs/security.md)."""
    linked = {rid: r["worker_id"] for rid, r in results.items() if r.get("worker_id") and r["status"] not in VALID}
    if not linked:
        return
    visible = scope.reachable_worker_ids(session, ctx.principal.user_id, set(linked.values()))
    for rid, worker_id in linked.items():
        if worker_id not in visible:
            results[rid].pop("worker_id", None)
            results[rid].pop("duplicate_of", None)
