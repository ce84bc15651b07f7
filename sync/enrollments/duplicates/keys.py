"""Blocking keys: the indexed ``workers`` columns a candidate must share with an enrolment.

A person is found again through any one of them, so each error type leaves at least one intact: the
NIK (exact); its first and last 8 digits, each with the part of the birth date it lacks (the tail also
with the sex: without the region it is shared across districts), so one wrong or dropped digit spoils
only one half; the name's sound with the birth year and month, or with the day and month in either
order; the phone; birth date with village. The NIK, phone and
date+village keys are keyed hashes (``PiiProtector.blind_index``); the name keys hold no more than the
plaintext name and birth date already on the row.
"""

from __future__ import annotations

from sync.enrollments.duplicates.compare import Person
from sync.enrollments.duplicates.normalize import phonetic, significant_tokens
from sync.pii import PiiProtector

KEY_KINDS = ("nik", "nik_head", "nik_tail", "phone", "name", "name_dob", "dob_village")


def blocking_keys(person: Person, pii: PiiProtector) -> dict[str, str | None]:
    """Every blocking key of a person (None where the fields it needs are missing)."""
    nik = person.nik
    birth = person.any_birth
    sig = significant_tokens(person.tokens)
    first = phonetic(sig[0]) if sig else ""
    last = phonetic(sig[-1]) if sig else ""
    return {
        "nik": pii.blind_index("nik", nik) if len(nik) == 16 else None,
        # Each half holds few distinct values (region + birth day; birth month, year + serial), so each also
        # takes the part of the entered birth date it lacks: blocks stay small as the table grows.
        "nik_head": pii.blind_index("nik_head", f"{nik[:8]}|{birth.year}-{birth.month}")
        if len(nik) >= 15 and birth
        else None,
        "nik_tail": pii.blind_index("nik_tail", f"{nik[-8:]}|{birth.day}|{person.any_sex}")
        if len(nik) >= 15 and birth
        else None,
        "phone": person.phone_index,
        "name": f"{first}.{last}:{birth.year}-{birth.month}" if first and birth else None,
        "name_dob": f"{first}:{birth.year}-{min(birth.day, birth.month)}-{max(birth.day, birth.month)}"
        if first and birth
        else None,
        "dob_village": pii.blind_index("dob_village", f"{birth.isoformat()}|{person.village}")
        if birth and person.village
        else None,
    }


def worker_key_columns(keys: dict[str, str | None]) -> dict[str, str | None]:
    """The keys as ``workers`` column values."""
    return {
        "nik_index": keys["nik"],
        "nik_head_index": keys["nik_head"],
        "nik_tail_index": keys["nik_tail"],
        "phone_index": keys["phone"],
        "name_key": keys["name"],
        "name_dob_key": keys["name_dob"],
        "dob_village_key": keys["dob_village"],
    }
