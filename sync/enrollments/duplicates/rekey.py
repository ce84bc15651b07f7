"""Recompute the stored blocking keys (``match_keys``) from the enrolments themselves.

Keys are derived (``keys.blocking_keys``) from the encrypted NIK and the plain fields, so they can always
be rebuilt: ``rekey`` for every live enrolment (after a release changes the key recipe, or to fill the
store for data older than it), ``backfill`` only for live enrolments that have none (what the sweep does
first, so a server upgraded without ``jangkau rekey-dedup`` heals by itself). Enrolments are read in id
order, a page at a time; ``last_modified`` is left alone because the keys never leave the server.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.enrollments.duplicates import store
from sync.enrollments.duplicates.compare import Person
from sync.enrollments.duplicates.keys import key_set
from sync.enrollments.duplicates.matcher import person_columns, stored_person
from sync.models import Enrollment
from sync.pii import PiiProtector
from sync.writes import CHUNK, in_ids


def _keys(session: Session, pii: PiiProtector, ids: Sequence[str] | None, *, after: str, page: int):
    """Keys of live enrolments: these ``ids``, or the next ``page`` after ``after``."""
    query = select(Enrollment.id, *person_columns(Enrollment)).where(Enrollment.deleted_at.is_(None))
    if ids is not None:
        query = query.where(in_ids(session, Enrollment.id, ids))
    else:
        query = query.where(Enrollment.id > after).order_by(Enrollment.id).limit(page)
    return {row.id: key_set(stored_person(row, pii), pii) for row in session.execute(query)}


def live_persons(session: Session, pii: PiiProtector, page: int = 2000) -> Iterator[tuple[str, Person]]:
    """Every live enrolment as matching sees it, in id order, read a page at a time (``jangkau dedup-train``)."""
    last = ""
    while True:
        query = (
            select(Enrollment.id, *person_columns(Enrollment))
            .where(Enrollment.deleted_at.is_(None), Enrollment.id > last)
            .order_by(Enrollment.id)
            .limit(page)
        )
        rows = session.execute(query).all()
        if not rows:
            return
        for row in rows:
            yield row.id, stored_person(row, pii)
        last = rows[-1].id


def rekey(session: Session, pii: PiiProtector, page: int = 2000) -> dict[str, int]:
    """Rebuild the keys of every live enrolment and drop those of deleted ones; returns the counts."""
    counts = {"enrollments": 0, "keys": 0, "removed": store.purge(session)}
    last = ""
    while True:
        keys = _keys(session, pii, None, after=last, page=page)
        if not keys:
            return counts
        store.replace_keys(session, keys)
        counts["enrollments"] += len(keys)
        counts["keys"] += sum(len(k) for k in keys.values())
        last = max(keys)


def backfill(session: Session, pii: PiiProtector, page: int = CHUNK) -> int:
    """Give keys to live enrolments that have none (stored before ``match_keys`` existed); returns how many.

    An enrolment with no usable field at all gets no key and is read again next time: there are few.
    """
    done, last = 0, ""
    while ids := store.unkeyed(session, after=last, limit=page):
        keys = _keys(session, pii, ids, after="", page=page)
        store.replace_keys(session, keys)
        done += sum(1 for k in keys.values() if k)
        last = ids[-1]
    return done
