"""Who earns which person, when and for which branch: the contest's credit rules, kept in ``contest_credits``.

The rules (docs/api.md "Contest"), each written once here:

- A person counts once, through their **first valid enrolment**: the live ``verified`` one (the engine's
  credit rule, ``sync.enrollments.duplicates.merge.recompute_people``, keeps exactly one per person and
  makes every later one ``duplicate``); a deleted person, a BPJS registry member, or a person whose
  verified enrolment was deleted earns nothing.
- **Held**: a person sharing their NIK (blind index) with another live person earns nothing until a
  supervisor decided that pair, by merging it (the other person is then gone) or by marking it
  ``distinct`` with a non-blank note. One NIK is never credited twice by default.
- **Credit time** (``credit_time``): ``captured_at`` when it lies within the 7 days up to ``valid_since``
  (both ends included), else ``valid_since``: a phone clock moves credit back a week at most, never forward.
- **Branch**: the credited agent's branch at ``valid_since`` (``sync.contest.branches``).

``refresh_credits`` rewrites the rows of some people after any change; it runs in the writer's own
transaction from the push (``after_push``, through the pipeline step ``sync.contest.upkeep``; for deleted
enrolments through ``relink_after_delete``), from
``recompute_people`` (links, merges, unmerges, registry marking), from a distinct decision and an unmerge's
record of it, and from a branch move. ``rebuild_credits`` redoes
the whole table (data loaded by other means: benchmarks, repairs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from sync.contest.branches import BranchTimeline, load_timeline
from sync.models import Enrollment, Worker
from sync.models.contest import ContestCredit
from sync.models.dedup import DuplicateCandidate
from sync.models.records import VALID_SINCE
from sync.protocol.context import PushContext
from sync.protocol.statuses import EnrollmentStatus
from sync.writes import chunked, in_ids

WEEK_MS = 7 * 86_400_000
INSERT_BATCH = 5_000


def credit_time(captured_at: int | None, valid_since: int) -> int:
    """``captured_at`` if within the 7 days up to ``valid_since`` (inclusive), else ``valid_since``."""
    if captured_at is not None and valid_since - WEEK_MS <= captured_at <= valid_since:
        return captured_at
    return valid_since


def _decided(note: str | None) -> bool:
    return bool(note and note.strip())


@dataclass(frozen=True)
class First:
    """A person's first valid enrolment, with what the rules read."""

    worker_id: str
    enrollment_id: str
    agent_id: str
    captured_at: int | None
    valid_since: int
    nik_index: str | None


class NikGroups:
    """Live people sharing a NIK, and the pairs a supervisor decided are distinct (with a note)."""

    def __init__(self, members: Iterable[tuple[str, str]]) -> None:
        self.members: dict[str, set[str]] = {}  # nik_index → live worker ids
        for nik, worker_id in members:
            self.members.setdefault(nik, set()).add(worker_id)
        self.distinct: set[frozenset[str]] = set()

    def held(self, worker_id: str, nik_index: str | None) -> bool:
        others = self.members.get(nik_index or "", set()) - {worker_id}
        return any(frozenset((worker_id, other)) not in self.distinct for other in others)

    def load_decisions(self, session: Session) -> None:
        """The decided pairs among people who share a NIK (few: most NIKs belong to one live person).

        A candidate names its later side by ``worker_id``, or, for an automatic link undone by an unmerge,
        only by its enrolment (the person it now belongs to was made by the unmerge).
        """
        shared = sorted({w for ids in self.members.values() if len(ids) > 1 for w in ids})
        columns = (
            DuplicateCandidate.worker_id,
            DuplicateCandidate.enrollment_id,
            DuplicateCandidate.other_worker_id,
            DuplicateCandidate.note,
        )
        decided: list = []
        for side in (DuplicateCandidate.worker_id, DuplicateCandidate.other_worker_id):
            for part in chunked(shared):
                decided += session.execute(
                    select(*columns).where(
                        in_ids(session, side, part),
                        DuplicateCandidate.status == "distinct",
                        DuplicateCandidate.decided_by.is_not(None),
                    )
                ).all()
        unnamed = {eid for wid, eid, _, note in decided if wid is None and _decided(note)}
        person_of = dict(_lookup(session, Enrollment.id, unnamed, Enrollment.id, Enrollment.worker_id))
        for wid, eid, other, note in decided:
            later = wid or person_of.get(eid)
            if later and other and _decided(note):
                self.distinct.add(frozenset((later, other)))


def _row(first: First, groups: NikGroups, timeline: BranchTimeline) -> dict:
    return {
        "worker_id": first.worker_id,
        "enrollment_id": first.enrollment_id,
        "agent_id": first.agent_id,
        "branch_id": timeline.branch_at(first.agent_id, first.valid_since),
        "nik_index": first.nik_index,
        "valid_since": first.valid_since,
        "credit_at": credit_time(first.captured_at, first.valid_since),
        "counted": not groups.held(first.worker_id, first.nik_index),
    }


def _lookup(session: Session, key, values: Iterable, *columns) -> list:
    """Rows of ``columns`` whose ``key`` is one of ``values``: index lookups in chunks, no joins."""
    found: list = []
    for part in chunked(sorted(set(values))):
        found.extend(session.execute(select(*columns).where(in_ids(session, key, part))).all())
    return found


ENROLMENT_COLUMNS = (
    Enrollment.worker_id,
    Enrollment.id,
    Enrollment.agent_id,
    Enrollment.captured_at,
    VALID_SINCE,
    Enrollment.status,
    Enrollment.deleted_at,
)


class _People:
    """What the rules read about some people, loaded by indexed lookups (no joins, so the planner never
    scans a table for a push's few hundred people)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.enrolments: dict[str, list] = {}  # worker id → its enrolments, any status
        self.workers: dict[str, tuple] = {}  # worker id → (nik_index, deleted_at, registry_status)
        self.stored: dict[str, dict] = {}  # worker id → its credit row as stored

    @property
    def ids(self) -> set[str]:
        return set(self.workers) | set(self.enrolments) | set(self.stored)

    def load(self, worker_ids: Iterable[str]) -> None:
        new = set(worker_ids) - self.ids
        for row in _lookup(self.session, Enrollment.worker_id, new, *ENROLMENT_COLUMNS):
            self.enrolments.setdefault(row[0], []).append(row)
        for wid, nik, deleted, registry in _lookup(
            self.session, Worker.id, new, Worker.id, Worker.nik_index, Worker.deleted_at, Worker.registry_status
        ):
            self.workers[wid] = (nik, deleted, registry)
        table = ContestCredit.__table__
        for row in _lookup(self.session, table.c.worker_id, new, *table.c):
            self.stored[row.worker_id] = dict(row._mapping)
        for wid in new:  # known from now on, even with nothing stored
            self.enrolments.setdefault(wid, [])

    def enrolment_ids(self) -> set[str]:
        return {row[1] for rows in self.enrolments.values() for row in rows}

    def niks(self) -> set[str]:
        current = {nik for nik, _, _ in self.workers.values() if nik}
        return current | {row["nik_index"] for row in self.stored.values() if row["nik_index"]}

    def firsts(self) -> list[First]:
        """Each live person's (not a registry member's) first live verified enrolment."""
        found = []
        for wid, rows in self.enrolments.items():
            if wid not in self.workers:
                continue
            nik, deleted, registry = self.workers[wid]
            valid = [r for r in rows if r[5] == EnrollmentStatus.VERIFIED and r[6] is None]
            if deleted is not None or registry or not valid:
                continue
            _, eid, agent, captured, since, _, _ = min(valid, key=lambda r: (r[4], r[1]))
            found.append(First(wid, eid, agent, captured, since, nik))
        return found


def refresh_credits(session: Session, worker_ids: Iterable[str | None]) -> None:
    """Rewrite the credit rows of these people and of everyone their change can affect: whoever holds a row
    for one of their enrolments (a merge moved it), and everyone sharing a NIK with any of them, by the
    current NIK or by the one their row was made with."""
    given = {w for w in worker_ids if w}
    if not given:
        return
    people = _People(session)
    people.load(given)
    credited = ContestCredit.worker_id, ContestCredit.enrollment_id
    people.load(wid for wid, _ in _lookup(session, ContestCredit.enrollment_id, people.enrolment_ids(), *credited))
    niks = people.niks()
    sharing = [
        (nik, wid)
        for nik, wid, deleted in _lookup(
            session, Worker.nik_index, niks, Worker.nik_index, Worker.id, Worker.deleted_at
        )
        if deleted is None
    ]
    stored = _lookup(session, ContestCredit.nik_index, niks, ContestCredit.worker_id)
    people.load([wid for _, wid in sharing] + [wid for (wid,) in stored])
    groups = NikGroups(sharing)
    groups.load_decisions(session)
    firsts = people.firsts()
    timeline = load_timeline(session, {f.agent_id for f in firsts})
    rows = {f.worker_id: _row(f, groups, timeline) for f in firsts}
    # Only rows that change are written: an edit that changes nobody's credit costs no write.
    gone = sorted(wid for wid, row in people.stored.items() if rows.get(wid) != row)
    for part in chunked(gone):
        session.execute(delete(ContestCredit.__table__).where(in_ids(session, ContestCredit.worker_id, part)))
    fresh = [row for wid, row in sorted(rows.items()) if people.stored.get(wid) != row]
    for batch in chunked(fresh, INSERT_BATCH):
        session.execute(insert(ContestCredit.__table__), list(batch))


def rebuild_credits(session: Session) -> int:
    """Recompute every credit row (after loading data by other means); returns the number of rows.

    One pass over the live verified enrolments joined with their people, in person order; the first of
    each person is credited by the same ``_row`` as ``refresh_credits``.
    """
    session.execute(delete(ContestCredit.__table__))
    shared = (
        select(Worker.nik_index)
        .where(Worker.deleted_at.is_(None), Worker.nik_index.is_not(None))
        .group_by(Worker.nik_index)
        .having(func.count() > 1)
    )
    niks = session.execute(shared).scalars().all()
    members = _lookup(session, Worker.nik_index, niks, Worker.nik_index, Worker.id, Worker.deleted_at)
    groups = NikGroups((nik, wid) for nik, wid, deleted in members if deleted is None)
    groups.load_decisions(session)
    timeline = load_timeline(session, session.execute(select(Enrollment.agent_id).distinct()).scalars().all())
    query = (
        select(
            Enrollment.worker_id,
            Enrollment.id,
            Enrollment.agent_id,
            Enrollment.captured_at,
            VALID_SINCE,
            Worker.nik_index,
        )
        .join(Worker, Worker.id == Enrollment.worker_id)
        .where(
            Enrollment.status == EnrollmentStatus.VERIFIED,
            Enrollment.deleted_at.is_(None),
            Worker.deleted_at.is_(None),
            Worker.registry_status.is_(None),
        )
        .order_by(Enrollment.worker_id, VALID_SINCE, Enrollment.id)
    )
    total, batch, last = 0, [], None
    for row in session.execute(query.execution_options(yield_per=INSERT_BATCH)):
        if row[0] == last:
            continue
        last = row[0]
        wid, eid, agent, captured, since, nik = row
        batch.append(_row(First(cast(str, wid), eid, agent, captured, since, nik), groups, timeline))
        if len(batch) >= INSERT_BATCH:
            session.execute(insert(ContestCredit.__table__), batch)
            total, batch = total + len(batch), []
    if batch:
        session.execute(insert(ContestCredit.__table__), batch)
        total += len(batch)
    return total


def refresh_agent_from(session: Session, agent_id: str, since: int) -> None:
    """Credits this agent earned from ``since`` on take the branch the history now gives them."""
    workers = session.execute(
        select(ContestCredit.worker_id).where(ContestCredit.agent_id == agent_id, ContestCredit.valid_since >= since)
    ).scalars()
    refresh_credits(session, list(workers))


def after_push(session: Session, ctx: PushContext) -> None:
    """Pipeline step: the people of every enrolment this push wrote get their credit refreshed. Those of the
    enrolments it deleted already have: the step before (``sync.enrollments.linking.relink_after_delete``)
    runs the engine's credit rule for them, which ends in ``refresh_credits``."""
    refresh_credits(session, {row.get("worker_id") for row in ctx.applied.enrollments})
