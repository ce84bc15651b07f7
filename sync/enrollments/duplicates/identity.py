"""A worker's identity columns taken from one enrolment: personal data encrypted under the worker's own id."""

from __future__ import annotations

from sync.pii import PiiProtector, mask_nik, mask_phone


def worker_identity(pii: PiiProtector, worker_id: str, values: dict, *, nik: str, phone_e164: str | None) -> dict:
    """Name, birth date, sex, village, the NIK and phone (encrypted, masked and indexed).

    ``nik_index`` and ``phone_index`` are what the BPJS registry, payment imports and reminder opt-outs look
    a person up by; matching uses the enrolments' keys (``match_keys``), not the worker row's.
    """
    return {
        "full_name": values["full_name"],
        "nik_encrypted": pii.encrypt(nik or None, row_id=worker_id),
        "nik_index": pii.blind_index("nik", nik) if len(nik) == 16 else None,
        "nik_masked": mask_nik(nik),
        "birth_date": values["birth_date"],
        "sex": values["sex"],
        "phone_encrypted": pii.encrypt(phone_e164, row_id=worker_id),
        "phone_index": pii.blind_index("phone", phone_e164),
        "phone_masked": mask_phone(phone_e164),
        "village": values["village"],
    }
