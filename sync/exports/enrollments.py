"""``GET /export/enrollments.csv``: the enrolments ``GET /enrollments`` would list, same filters, as CSV.

NIK and phone are masked (as stored beside the ciphertext) for everyone but admins, who get them in full,
decrypted here; an admin's export is therefore personal data leaving the system, which the audit entry
written for every export records. An invalid enrolment's link to a person the caller may not see is left
out, exactly as the list leaves it out (``sync.accounts.scope.link_shown_only_if_visible``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from sqlalchemy import ColumnElement, Row, null, select
from sqlalchemy.orm import Session

from sync import audit
from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.enrollments.duplicates.review import EnrollmentFilters, enrollment_conditions
from sync.exports.cells import iso_utc
from sync.exports.stream import Export
from sync.models import Branch, Enrollment, User
from sync.pii import PiiProtector

HEADER = (
    "id", "server_created_at", "server_created_at_utc", "captured_at", "agent_id", "agent_username", "branch_id",
    "branch_code", "status", "status_reason", "nik", "full_name", "birth_date", "sex", "phone", "occupation",
    "village", "programs", "worker_id", "duplicate_of", "credited_agent_id", "valid_since",
)  # fmt: skip
UNREADABLE = "(tidak terbaca / unreadable)"  # a ciphertext no configured key opens


def _reveal(pii: PiiProtector, token: str | None, row_id: str) -> str | None:
    try:
        return pii.decrypt(token, row_id=row_id)
    except (InvalidTag, KeyError, ValueError):
        return UNREADABLE


def export(principal: Principal, filters: EnrollmentFilters, pii: PiiProtector) -> Export:
    """The caller's enrolments matching ``filters``, newest first; full NIK and phone for admins only."""
    masked = not principal.is_admin
    stored = (
        (Enrollment.nik_masked, Enrollment.phone_masked, null())
        if masked
        else (Enrollment.nik_encrypted, Enrollment.phone_e164, Enrollment.phone_encrypted)
    )
    names = ("nik_cell", "phone_cell", "typed_phone_cell")
    identity: list[ColumnElement] = [column.label(name) for column, name in zip(stored, names, strict=True)]
    query = (
        select(
            Enrollment.id,
            Enrollment.server_created_at,
            Enrollment.captured_at,
            Enrollment.agent_id,
            User.username,
            Enrollment.branch_id,
            Branch.code,
            Enrollment.status,
            Enrollment.status_reason,
            Enrollment.full_name,
            Enrollment.birth_date,
            Enrollment.sex,
            Enrollment.occupation,
            Enrollment.village,
            Enrollment.programs,
            Enrollment.worker_id,
            Enrollment.duplicate_of,
            Enrollment.credited_agent_id,
            Enrollment.valid_since,
            *identity,
        )
        .outerjoin(User, User.id == Enrollment.agent_id)
        .outerjoin(Branch, Branch.id == Enrollment.branch_id)
        .where(*enrollment_conditions(principal, filters))
        .order_by(Enrollment.server_created_at.desc(), Enrollment.id.desc())
    )

    def shape(session: Session, rows: Sequence[Row]) -> list[list]:
        guarded = [r for r in rows if scope.link_shown_only_if_visible(r.status, r.worker_id)]
        linked = {r.worker_id for r in guarded}
        visible = scope.visible_worker_ids(session, principal, linked) if linked else set()
        hidden = {r.id for r in guarded if r.worker_id not in visible}
        out = []
        for r in rows:
            nik, phone = r.nik_cell, r.phone_cell
            if not masked:
                nik = _reveal(pii, nik, r.id)
                phone = _reveal(pii, phone or r.typed_phone_cell, r.id)
            worker_id, duplicate_of = (None, None) if r.id in hidden else (r.worker_id, r.duplicate_of)
            out.append([
                r.id, r.server_created_at, iso_utc(r.server_created_at), r.captured_at, r.agent_id, r.username,
                r.branch_id, r.code, r.status, r.status_reason, nik, r.full_name, r.birth_date, r.sex, phone,
                r.occupation, r.village, r.programs, worker_id, duplicate_of, r.credited_agent_id, r.valid_since,
            ])  # fmt: skip
        return out

    given = {name: value for name, value in dataclasses.asdict(filters).items() if value is not None}
    return Export(
        action=audit.EXPORT_ENROLLMENTS, header=HEADER, query=query, shape=shape, filters=given, masked=masked
    )
