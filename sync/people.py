"""Linking enrolments to canonical workers by the NIK's blind index.

The first valid enrolment of a person creates the worker and is credited; later ones become
``duplicate`` of it. The full matching engine (typos, name variants) replaces ``resolve`` later.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .context import PushContext
from .models import Enrollment, Worker, new_id
from .pii import mask_nik, mask_phone
from .writes import chunked

VERIFIED, DUPLICATE, NEEDS_CORRECTION = "verified", "duplicate", "needs_correction"


class PeopleIndex:
    """Workers and their first enrolments for a set of NIK indexes, loaded once per push."""

    def __init__(self, session: Session, nik_indexes: set[str]):
        self.session = session
        self.worker_by_nik: dict[str, str] = {}
        self.first_by_worker: dict[str, tuple[str, str]] = {}
        for part in chunked(sorted(nik_indexes)):
            rows = session.execute(
                select(Worker.id, Worker.nik_index).where(Worker.nik_index.in_(part), Worker.deleted_at.is_(None))
            )
            self.worker_by_nik.update({nik: wid for wid, nik in rows})
        worker_ids = sorted(set(self.worker_by_nik.values()))
        for part in chunked(worker_ids):
            rows = session.execute(
                select(Enrollment.worker_id, Enrollment.id, Enrollment.agent_id, Enrollment.server_created_at)
                .where(Enrollment.worker_id.in_(part), Enrollment.status == VERIFIED, Enrollment.deleted_at.is_(None))
                .order_by(Enrollment.server_created_at)
            )
            for wid, eid, agent, _ in rows:
                self.first_by_worker.setdefault(wid, (eid, agent))


def new_worker_row(ctx: PushContext, row: dict, nik: str, phone_e164: str | None) -> dict:
    """A worker made from its first valid enrolment; PII encrypted under the worker's own id."""
    wid = new_id()
    pii = ctx.pii
    return {
        "id": wid,
        "server_created_at": ctx.stamp,
        "last_modified": ctx.stamp,
        "deleted_at": None,
        "created_by_device": None,
        "full_name": row["full_name"],
        "nik_encrypted": pii.encrypt(nik, row_id=wid),
        "nik_index": row["nik_index"],
        "nik_head_index": pii.blind_index("nik_head", nik[:8]),
        "nik_tail_index": pii.blind_index("nik_tail", nik[8:]),
        "nik_masked": mask_nik(nik),
        "birth_date": row["birth_date"],
        "sex": row["sex"],
        "phone_encrypted": pii.encrypt(phone_e164, row_id=wid),
        "phone_index": pii.blind_index("phone", phone_e164),
        "phone_masked": mask_phone(phone_e164),
        "occupation": row["occupation"],
        "village": row["village"],
        "membership_status": "registered",
        "enrolled_by_agent_id": ctx.principal.user_id,
        "enrolled_at": ctx.stamp,
    }


def resolve(
    ctx: PushContext, index: PeopleIndex, row: dict, prev: dict | None, *, valid: bool, nik: str, phone_e164: str | None
) -> dict | None:
    """Set status and links on ``row``; return a new worker row when this is a new person."""
    nik_index = row["nik_index"]
    worker_id = index.worker_by_nik.get(nik_index) if nik_index else None
    row.update(worker_id=worker_id, duplicate_of=None, credited_agent_id=None)
    if not valid:
        row["status"] = NEEDS_CORRECTION  # may point at a known person, never creates one
        return None
    unchanged = prev and prev.get("worker_id") and prev.get("nik_index") == nik_index
    if unchanged and prev["status"] in (VERIFIED, DUPLICATE):
        row.update(
            status=prev["status"],
            worker_id=prev["worker_id"],
            duplicate_of=prev["duplicate_of"],
            credited_agent_id=prev["credited_agent_id"],
        )
        return None
    first = index.first_by_worker.get(worker_id) if worker_id else None
    if first and first[0] != row["id"]:
        row.update(status=DUPLICATE, duplicate_of=first[0], credited_agent_id=first[1])
        return None
    row.update(status=VERIFIED, credited_agent_id=ctx.principal.user_id)
    if worker_id:
        index.first_by_worker[worker_id] = (row["id"], ctx.principal.user_id)
        return None
    worker = new_worker_row(ctx, row, nik, phone_e164)
    row["worker_id"] = worker["id"]
    index.worker_by_nik[nik_index] = worker["id"]
    index.first_by_worker[worker["id"]] = (row["id"], ctx.principal.user_id)
    return worker
