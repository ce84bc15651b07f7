"""Every status a pushed record can have, and the bilingual reasons phones show for an enrolment's.

One enumeration per kind, so a status is never spelled twice: enrolments (docs/sync.md (tables), the ``status``
column and ``status_reason``), and the per-record results a push answers for every table.
"""

from __future__ import annotations

from enum import StrEnum


class EnrollmentStatus(StrEnum):
    RECEIVED = "received"
    VERIFIED = "verified"
    NEEDS_CORRECTION = "needs_correction"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


# Valid enrolments: they count in the contest rules and open their person to their agent (sync.accounts.scope).
GRANTING = (EnrollmentStatus.VERIFIED, EnrollmentStatus.DUPLICATE)


class RecordStatus(StrEnum):
    """A visit's or follow-up's fate in a push result (enrolments answer their ``EnrollmentStatus``)."""

    ACCEPTED = "accepted"
    NEEDS_CORRECTION = "needs_correction"
    DELETED = "deleted"
    REJECTED = "rejected"


def record_result(errors: dict[str, list[str]]) -> dict:
    """A visit's or follow-up's push result: stored either way, ``needs_correction`` with its errors."""
    if errors:
        return {"status": RecordStatus.NEEDS_CORRECTION, "errors": errors}
    return {"status": RecordStatus.ACCEPTED}


VERIFIED_REASON = "Terverifikasi / Verified"
REGISTRY_REASON = "Sudah menjadi peserta BPU / already a BPU member"
DUPLICATE_REASON = "Sudah terdaftar sebelumnya / Already enrolled before (duplicate)"


def duplicate_reason(first_id: str, reasons: str = "") -> str:
    text = f"Sudah terdaftar sebelumnya / Already enrolled before (duplicate of {first_id})"
    return f"{text}: {reasons}" if reasons else text


def correction_reason(errors: dict[str, list[str]]) -> str:
    fields = ", ".join(sorted(errors))
    return f"Perlu perbaikan: {fields} / Needs correction: {fields}"
