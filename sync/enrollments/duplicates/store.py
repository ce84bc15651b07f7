"""The candidate store: ``match_keys``, one row per blocking key per live enrolment.

Written set-based with the enrolments of a push (``save_keys``: new enrolments inserted, updated ones
rewritten only when their keys changed), looked up by key with a cap per key (``hits``), rebuilt for
every enrolment when the key recipe changes (``sync.enrollments.duplicates.rekey``), and filled in for
enrolments that have none (``backfill``: data older than the store) by the sweep.

Rows of deleted enrolments are not removed by the push that deletes them: every lookup joins the live
enrolment, so they are ignored, and ``purge`` (run by the sweep and by ``rekey``) removes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import String, delete, exists, func, insert, literal, select, true, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from sync.enrollments.duplicates.keys import key_cap
from sync.models import Enrollment
from sync.models.dedup import MatchKey
from sync.writes import chunked, in_ids

KEYS_PER_QUERY = 5000  # PostgreSQL: one array parameter; SQLite: chunks of sync.writes.CHUNK


@dataclass(frozen=True, slots=True)
class Hit:
    """A live enrolment sharing a key: its id, its person (None while it waits to be claimed) and status."""

    enrollment_id: str
    worker_id: str | None
    status: str


@dataclass
class Hits:
    """Live enrolments by key, for the keys whose block is within the cap; the crowded keys apart."""

    by_key: dict[str, list[Hit]] = field(default_factory=dict)
    crowded: set[str] = field(default_factory=set)


def key_rows(keys_by_enrollment: Mapping[str, Iterable[str]]) -> list[dict]:
    """``match_keys`` rows for these enrolments (benchmarks seed with these too)."""
    return [{"key": key, "enrollment_id": eid} for eid, keys in keys_by_enrollment.items() for key in sorted(keys)]


def stored_keys(session: Session, enrollment_ids: Sequence[str]) -> dict[str, set[str]]:
    """The keys stored for these enrolments (an enrolment without any is absent)."""
    found: dict[str, set[str]] = {}
    for part in chunked(enrollment_ids):
        rows = session.execute(
            select(MatchKey.enrollment_id, MatchKey.key).where(in_ids(session, MatchKey.enrollment_id, part))
        )
        for eid, key in rows:
            found.setdefault(eid, set()).add(key)
    return found


def save_keys(session: Session, keys_by_enrollment: Mapping[str, set[str]], *, new: Iterable[str] = ()) -> int:
    """Store the keys of these enrolments; ``new`` ones have none yet. Returns how many enrolments were written.

    For the others the stored keys are read (one query per chunk) and only enrolments whose key set
    changed are rewritten: one DELETE and one INSERT for all of them.
    """
    new = set(new) & set(keys_by_enrollment)
    known = sorted(set(keys_by_enrollment) - new)
    stored = stored_keys(session, known)
    changed = [eid for eid in known if stored.get(eid, set()) != keys_by_enrollment[eid]]
    for part in chunked(changed):
        session.execute(delete(MatchKey).where(in_ids(session, MatchKey.enrollment_id, part)))
    insert_rows(session, key_rows({eid: keys_by_enrollment[eid] for eid in sorted(new) + changed}))
    return len(new) + len(changed)


def insert_rows(session: Session, rows: list[dict]) -> None:
    """Insert ``match_keys`` rows; on PostgreSQL as one statement over two arrays (thousands per push)."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(MatchKey), rows)
        return
    for part in chunked(rows, 20_000):
        keys = literal([r["key"] for r in part], ARRAY(String))
        ids = literal([r["enrollment_id"] for r in part], ARRAY(String))
        pairs = select(func.unnest(keys), func.unnest(ids))
        session.execute(insert(MatchKey).from_select(["key", "enrollment_id"], pairs))


def replace_keys(session: Session, keys_by_enrollment: Mapping[str, set[str]]) -> None:
    """Delete whatever these enrolments had and insert their keys (``rekey``, ``backfill``)."""
    ids = sorted(keys_by_enrollment)
    for part in chunked(ids):
        session.execute(delete(MatchKey).where(in_ids(session, MatchKey.enrollment_id, part)))
    insert_rows(session, key_rows(keys_by_enrollment))


def hits(session: Session, keys: Iterable[str], *, cap: int | None = None, skip: Iterable[str] = ()) -> Hits:
    """Live enrolments sharing each key; a key held by more enrolments than its cap (``keys.key_cap``, or
    ``cap`` for all) is only reported as crowded. ``skip``: enrolments to leave out (the ones being pushed
    again: their new version counts). A deleted enrolment's keys count towards the cap until ``purge``.

    Two steps. The blocks first, from ``match_keys`` alone (on PostgreSQL each key an index-only range scan
    that stops after its cap + 1 rows, a LATERAL subquery with LIMIT, one per cap), so a crowded key costs
    no more than a full block; then the person and status of each enrolment of the blocks within their
    cap, once per enrolment however many keys it shares.
    """
    result = Hits()
    limit = {key: cap if cap is not None else key_cap(key) for key in set(keys)}
    skip = set(skip)
    postgres = session.get_bind().dialect.name == "postgresql"
    blocks: dict[str, list[str]] = {}
    for part in chunked(sorted(limit), KEYS_PER_QUERY if postgres else 900):
        by_cap: dict[int, list[str]] = {}
        for key in part:
            by_cap.setdefault(limit[key], []).append(key)
        capped = _capped_postgres if postgres else _capped_sqlite
        query = union_all(*(capped(group, n) for n, group in sorted(by_cap.items())))
        for key, eid in session.execute(query).all():
            blocks.setdefault(key, []).append(eid)
    for key, ids in blocks.items():
        if len(ids) > limit[key]:
            result.crowded.add(key)
    wanted = sorted({eid for key, ids in blocks.items() if key not in result.crowded for eid in ids} - skip)
    live: dict[str, Hit] = {}
    for part in chunked(wanted):
        rows = session.execute(
            select(Enrollment.id, Enrollment.worker_id, Enrollment.status).where(
                in_ids(session, Enrollment.id, part), Enrollment.deleted_at.is_(None)
            )
        ).all()
        live.update({eid: Hit(eid, wid, status) for eid, wid, status in rows})
    for key, ids in blocks.items():
        if key not in result.crowded:
            kept = [live[eid] for eid in ids if eid in live]
            if kept:
                result.by_key[key] = kept
    return result


def _capped_postgres(keys: Sequence[str], cap: int):
    wanted = func.unnest(literal(list(keys), ARRAY(String))).table_valued("key").render_derived(name=f"wanted{cap}")
    block = select(MatchKey.enrollment_id).where(MatchKey.key == wanted.c.key).limit(cap + 1).lateral(f"block{cap}")
    return select(wanted.c.key, block.c.enrollment_id).select_from(wanted.join(block, true()))


def _capped_sqlite(keys: Sequence[str], cap: int):
    ranked = (
        select(
            MatchKey.key,
            MatchKey.enrollment_id,
            func.row_number().over(partition_by=MatchKey.key, order_by=MatchKey.enrollment_id).label("rank"),
        )
        .where(MatchKey.key.in_(keys))
        .subquery()
    )
    return select(ranked.c.key, ranked.c.enrollment_id).where(ranked.c.rank <= cap + 1)


def purge(session: Session) -> int:
    """Remove the keys of deleted (or vanished) enrolments; returns how many rows went."""
    live = exists().where(Enrollment.id == MatchKey.enrollment_id, Enrollment.deleted_at.is_(None))
    return session.execute(delete(MatchKey).where(~live)).rowcount or 0  # type: ignore[attr-defined]


def unkeyed(session: Session, *, after: str = "", limit: int = 2000) -> list[str]:
    """Live enrolments without any stored key, in id order after ``after`` (data older than the store)."""
    has_keys = exists().where(MatchKey.enrollment_id == Enrollment.id)
    return list(
        session.execute(
            select(Enrollment.id)
            .where(Enrollment.deleted_at.is_(None), Enrollment.id > after, ~has_keys)
            .order_by(Enrollment.id)
            .limit(limit)
        ).scalars()
    )
