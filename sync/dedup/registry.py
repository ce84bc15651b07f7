"""Import of existing BPJS participants (``nik,name,birth_date,membership_status``), line by line.

Good lines are kept (an existing NIK is updated), bad lines are reported by 1-based line number (the
header is line 1). From then on, a new enrolment with one of these NIKs is ``duplicate``: "already a
BPU member"; people already enrolled with one of them are marked too, their enrolments turned
``duplicate`` with no credit, stamped so phones learn it. Only the NIK's blind index and mask are
stored, never the NIK itself.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..clock import next_stamp
from ..models import Worker
from ..models.dedup import RegistryEntry
from ..pii import PiiProtector, mask_nik
from ..validation.nik import check_nik
from ..writes import chunked
from .merge import recompute_people
from .normalize import parse_date

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


@dataclass
class RegistryReport:
    lines: int = 0
    imported: int = 0
    updated: int = 0
    members_found: int = 0  # workers already enrolled who turn out to be BPJS participants
    errors: list[dict] = field(default_factory=list)


def import_registry(
    session: Session, *, text: str, pii: PiiProtector, now: int, imported_by: str | None
) -> RegistryReport:
    """Store the good lines of a registry CSV; report each bad line with its fields' messages."""
    report = RegistryReport()
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        report.errors.append({"line": 1, "errors": {"file": ["berkas kosong / empty file"]}})
        return report
    columns = {ALIASES[c.strip().lower()]: i for i, c in enumerate(rows[0]) if c.strip().lower() in ALIASES}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        report.errors.append(
            {"line": 1, "errors": {"header": [f"kolom hilang / missing columns: {', '.join(missing)}"]}}
        )
        return report
    good: dict[str, dict] = {}
    for number, raw in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in raw):
            continue
        report.lines += 1
        cells = {k: (raw[i].strip() if i < len(raw) else "") for k, i in columns.items()}
        errors: dict[str, list[str]] = {}
        nik = check_nik(cells["nik"])
        if nik.errors:
            errors["nik"] = nik.errors
        if not cells["name"]:
            errors["name"] = ["wajib diisi / required"]
        if cells["birth_date"] and parse_date(cells["birth_date"]) is None:
            errors["birth_date"] = ["format harus YYYY-MM-DD / must be a date YYYY-MM-DD"]
        status = STATUSES.get(cells["membership_status"].lower())
        if status is None:
            errors["membership_status"] = [
                "harus registered, active atau lapsed / must be registered, active or lapsed"
            ]
        if errors:
            report.errors.append({"line": number, "errors": errors})
            continue
        index = pii.blind_index("nik", nik.nik)
        good[index] = {
            "nik_index": index,
            "nik_masked": mask_nik(nik.nik),
            "full_name": cells["name"][:200],
            "birth_date": cells["birth_date"] or None,
            "membership_status": status,
            "imported_at": now,
            "imported_by": imported_by,
        }
    known: dict[str, RegistryEntry] = {}
    for part in chunked(sorted(good)):
        for entry in session.execute(select(RegistryEntry).where(RegistryEntry.nik_index.in_(part))).scalars():
            known[entry.nik_index] = entry
    for index, values in good.items():
        if index in known:
            for name, value in values.items():
                setattr(known[index], name, value)
            report.updated += 1
        else:
            session.add(RegistryEntry(**values))
            report.imported += 1
    session.flush()
    report.members_found = _mark_enrolled_members(session, good)
    return report


def _mark_enrolled_members(session: Session, good: dict[str, dict]) -> int:
    """Workers whose NIK is in the registry take its status; their enrolments lose the credit."""
    workers: list[tuple[str, str, str | None]] = []
    for part in chunked(sorted(good)):
        workers += session.execute(
            select(Worker.id, Worker.nik_index, Worker.registry_status).where(
                Worker.nik_index.in_(part), Worker.deleted_at.is_(None)
            )
        ).all()
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
