"""A worker's identity columns taken from one enrolment: personal data encrypted under the worker's own id."""

from __future__ import annotations

from sync.enrollments.duplicates.keys import worker_key_columns
from sync.pii import PiiProtector, mask_nik, mask_phone


def worker_identity(
    pii: PiiProtector, worker_id: str, values: dict, *, nik: str, phone_e164: str | None, keys: dict
) -> dict:
    """Name, birth date, sex, village, the NIK and phone (encrypted and masked) and the blocking keys."""
    return {
        "full_name": values["full_name"],
        "nik_encrypted": pii.encrypt(nik or None, row_id=worker_id),
        "nik_masked": mask_nik(nik),
        "birth_date": values["birth_date"],
        "sex": values["sex"],
        "phone_encrypted": pii.encrypt(phone_e164, row_id=worker_id),
        "phone_masked": mask_phone(phone_e164),
        "village": values["village"],
        **worker_key_columns(keys),
    }
