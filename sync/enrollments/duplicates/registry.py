"""Import of existing BPJS participants (``nik,name,birth_date,membership_status``), in batches of lines.

Good lines are kept (an existing NIK is updated), bad lines are reported by 1-based line number (the
header is line 1). From then on, a new enrolment with one of these NIKs is ``duplicate``: "already a
BPU member"; people already enrolled with one of them are marked too, their enrolments turned
``duplicate`` with no credit, stamped so phones learn it. Only the NIK's blind index and mask are
stored, never the NIK itself. NIKs typed in full-width or other Unicode digits are read as ASCII digits.
"""

from __future__ import annotations

import unicodedata
from typing import cast

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from sync.accounts.principal import Principal
from sync.csv_header import column_positions, missing_columns
from sync.enrollments.duplicates.merge import recompute_people
from sync.enrollments.duplicates.normalize import parse_date
from sync.identifiers.digits import ascii_digits, digit_string
from sync.identifiers.nik import check_nik
from sync.models import Worker
from sync.models.dedup import RegistryEntry
from sync.pii import PiiProtector, mask_nik
from sync.protocol.clock import next_stamp
from sync.writes import chunked

STATUSES = {
    "registered": "registered",
    "active": "active",
    "aktif": "active",
    "lapsed": "lapsed",
    "nonaktif": "lapsed",
    "non-aktif": "lapsed",
    "inactive": "lapsed",
}
ALIASES = {
    "nik": "nik",
    "name": "name",
    "full_name": "name",
    "nama": "name",
    "birth_date": "birth_date",
    "tanggal_lahir": "birth_date",
    "membership_status": "membership_status",
    "status": "membership_status",
}
REQUIRED = ("nik", "name", "birth_date", "membership_status")
MAX_CELL = 64  # characters of a birth date cell; a longer one is refused unread
NAME_LENGTH: int = RegistryEntry.__table__.c.full_name.type.length  # type: ignore[attr-defined]  # a String(n)
NIK_DIGITS = "NIK harus 16 digit / NIK must have 16 digits"


class RegistryImport:
    """A registry CSV, fed in batches by the server's upload runner (``server/uploads.py``).

    Each batch: one lookup of its NIKs' entries, one INSERT of the new ones, one UPDATE of the known ones,
    then the people already enrolled with those NIKs are marked. A NIK repeated later in the file updates
    the entry again (the later line wins) but is counted once.
    """

    def __init__(self, session: Session, *, pii: PiiProtector, now: int, principal: Principal) -> None:
        self.session, self.pii, self.now, self.imported_by = session, pii, now, principal.user_id
        self.columns: dict[str, int] = {}
        self.imported = self.updated = self.members_found = 0

    def header(self, names: list[str]) -> dict[str, list[str]]:
        self.columns = column_positions(names, ALIASES)
        return missing_columns(self.columns, REQUIRED)

    def add(self, batch: list[tuple[int, list[str]]]) -> list[tuple[int, dict]]:
        errors: list[tuple[int, dict]] = []
        good: dict[str, dict] = {}
        for number, raw in batch:
            cells = {k: (raw[i].strip() if i < len(raw) else "") for k, i in self.columns.items()}
            line_errors, values = self._line(cells)
            if line_errors:
                errors.append((number, line_errors))
            else:
                good[values["nik_index"]] = values
        known: dict[str, tuple[int, int]] = {}
        for part in chunked(sorted(good)):
            for index, entry_id, imported_at in self.session.execute(
                select(RegistryEntry.nik_index, RegistryEntry.id, RegistryEntry.imported_at).where(
                    RegistryEntry.nik_index.in_(part)
                )
            ):
                known[index] = (entry_id, imported_at)
        new = [values for index, values in good.items() if index not in known]
        if new:
            self.session.execute(insert(RegistryEntry), new)
        if changed := [values | {"id": known[index][0]} for index, values in good.items() if index in known]:
            self.session.execute(update(RegistryEntry), changed)  # ORM bulk UPDATE by primary key
        self.imported += len(new)
        self.updated += sum(1 for index in good if index in known and known[index][1] != self.now)
        self.members_found += _mark_enrolled_members(self.session, good)
        return errors

    def finish(self) -> dict:
        return {"imported": self.imported, "updated": self.updated, "members_found": self.members_found}

    def _line(self, cells: dict[str, str]) -> tuple[dict[str, list[str]], dict]:
        errors: dict[str, list[str]] = {}
        digits = digit_string(cells["nik"], length=16)
        nik = check_nik(digits) if digits else None
        if nik is None:
            errors["nik"] = [NIK_DIGITS]
        elif nik.errors:
            errors["nik"] = nik.errors
        name = cells["name"]
        if not name:
            errors["name"] = ["wajib diisi / required"]
        elif any(unicodedata.category(ch) == "Cc" for ch in name):
            errors["name"] = ["karakter kontrol tidak boleh / must not contain control characters"]
        birth_date = cells["birth_date"]
        birth = parse_date(ascii_digits(birth_date)) if birth_date and len(birth_date) <= MAX_CELL else None
        if birth_date and birth is None:
            errors["birth_date"] = ["format harus YYYY-MM-DD / must be a date YYYY-MM-DD"]
        status = STATUSES.get(cells["membership_status"].lower())
        if status is None:
            errors["membership_status"] = [
                "harus registered, active atau lapsed / must be registered, active or lapsed"
            ]
        if errors:
            return errors, {}
        assert nik is not None  # a missing NIK is an error above
        index = self.pii.blind_index("nik", nik.nik)
        return {}, {
            "nik_index": index,
            "nik_masked": mask_nik(nik.nik),
            "full_name": name[:NAME_LENGTH],
            "birth_date": birth.isoformat() if birth else None,
            "membership_status": status,
            "imported_at": self.now,
            "imported_by": self.imported_by,
        }


def _mark_enrolled_members(session: Session, good: dict[str, dict]) -> int:
    """Workers whose NIK is in the registry take its status; their enrolments lose the credit."""
    workers: list[tuple[str, str, str | None]] = []
    for part in chunked(sorted(good)):
        rows = session.execute(
            select(Worker.id, Worker.nik_index, Worker.registry_status).where(
                Worker.nik_index.in_(part), Worker.deleted_at.is_(None)
            )
        ).all()
        workers += cast(list[tuple[str, str, str | None]], rows)  # nik_index IN part: never NULL
    changed = [(wid, index) for wid, index, status in workers if status != good[index]["membership_status"]]
    if not changed:
        return 0
    stamp = next_stamp(session)
    for wid, index in changed:
        status = good[index]["membership_status"]
        session.execute(
            update(Worker)
            .where(Worker.id == wid)
            .values(registry_status=status, membership_status=status, last_modified=stamp)
        )
    recompute_people(session, [wid for wid, _ in changed], stamp)
    return len(changed)
