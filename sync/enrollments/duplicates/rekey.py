"""Recompute every stored blocking key after the key recipe (``keys.blocking_keys``) changes.

Keys are derived (``keys.blocking_keys``), so they can always be rebuilt from the encrypted NIK and the
plain fields. Rows are read in id order, a page at a time, and updated in place; ``last_modified`` is
left alone because the keys never leave the server.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from sync.enrollments.duplicates.keys import KEY_KINDS, blocking_keys, worker_key_columns
from sync.enrollments.duplicates.matcher import person_columns, stored_person
from sync.models import Enrollment, Worker
from sync.models.dedup import UnlinkedEnrollment
from sync.pii import PiiProtector


def _keys(row, pii: PiiProtector) -> dict[str, str | None]:
    return worker_key_columns(blocking_keys(stored_person(row, pii), pii))


def _pages(session: Session, query, id_column, page: int):
    last = ""
    while True:
        rows = session.execute(query.where(id_column > last).order_by(id_column).limit(page)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def rekey(session: Session, pii: PiiProtector, page: int = 2000) -> dict[str, int]:
    """Rebuild the keys of all workers and waiting invalid enrolments; returns how many of each."""
    counts = {"workers": 0, "unlinked_enrollments": 0}
    columns = list(worker_key_columns(dict.fromkeys(KEY_KINDS)))
    workers = select(Worker.id, *person_columns(Worker))
    table = Worker.__table__
    set_worker = update(table).where(table.c.id == bindparam("row_id")).values({c: bindparam(c) for c in columns})
    for rows in _pages(session, workers, Worker.id, page):
        session.execute(set_worker, [{"row_id": r.id, **_keys(r, pii)} for r in rows])
        counts["workers"] += len(rows)
    waiting = select(Enrollment.id, *person_columns(Enrollment)).join(
        UnlinkedEnrollment, UnlinkedEnrollment.enrollment_id == Enrollment.id
    )
    table = UnlinkedEnrollment.__table__
    set_waiting = (
        update(table).where(table.c.enrollment_id == bindparam("row_id")).values({c: bindparam(c) for c in columns})
    )
    for rows in _pages(session, waiting, Enrollment.id, page):
        session.execute(set_waiting, [{"row_id": r.id, **_keys(r, pii)} for r in rows])
        counts["unlinked_enrollments"] += len(rows)
    return counts
