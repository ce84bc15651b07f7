"""The sweep: re-score people that blocking puts together, so that the order records arrived in stops mattering.

A push links each record to the best person it meets at that moment, so records of one person pushed in
another order may end up as two people: the noisy record arrived before the one that bridges it to the
clean ones. The sweep closes those gaps with the rule ``batch_clusters`` applies to a whole set at once:

- **valid records** form people. Two groups of them are one person when a record of one shares a
  blocking key with a record of the other (a key held by no more records than its cap, ``keys.key_cap``)
  and a record of one links with a record of the other (``model.decide``: ``link``), unless a fact stands
  between a record of one and a record of the other that share a key (twins' NIKs, different sexes:
  ``model.blockers_of``); applied until nothing changes, strongest links first. Without facts the least
  grouping closed under this rule is unique; with them (a third record resembling both twins) the
  strongest link decides, so arrival order matters only where two links tie;
- **invalid records** are no evidence (a nameless record would link anyone resembling what it has
  left): each belongs to the person, among those with a valid record sharing a key with it, whose valid
  records give the strongest link (ties: the person whose earliest record id is smallest), or to nobody.

So pushes in any order followed by a full sweep give exactly ``batch_clusters``.

``sweep`` looks at people changed since the last sweep (``full``: everybody), with their neighbours in
the candidate store, and:

- merges people that are one, each merge stamped, snapshotted and recorded like a supervisor's
  (``merge.apply_merge``, action ``auto_link``, no user), so ``unmerge`` undoes it;
- points invalid enrolments at their person (claims waiting ones, moves or releases others), stamped;
- queues pairs of people in the review band as open candidates (at most ``REVIEW_PER_PERSON`` per
  person), never one already open, never a pair a supervisor called distinct (nor one undone by
  ``unmerge``), and never merges such a pair either.

First it gives keys to enrolments that have none (data older than ``match_keys``) and drops the keys of
deleted ones. Each run is logged in ``dedup_sweeps``; the next one starts from its stamp less
``OVERLAP_MS`` (a push still open when the sweep read the clock commits rows with earlier stamps).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from sync.enrollments.duplicates import store
from sync.enrollments.duplicates.compare import Person
from sync.enrollments.duplicates.keys import key_cap
from sync.enrollments.duplicates.matcher import (
    better,
    core_identity,
    identity,
    judge,
    person_columns,
    raw_identity,
    stored_person,
)
from sync.enrollments.duplicates.merge import apply_merge
from sync.enrollments.duplicates.model import LINK, REVIEW, DedupConfig, Verdict
from sync.enrollments.duplicates.rekey import backfill
from sync.errors import Conflict
from sync.models import Enrollment, Worker, new_id
from sync.models.dedup import DedupSweep, DuplicateCandidate
from sync.pii import PiiProtector
from sync.protocol.clock import current_stamp, next_stamp, now_ms
from sync.protocol.statuses import GRANTING, EnrollmentStatus
from sync.writes import chunked, in_ids

OVERLAP_MS = 10 * 60_000
REVIEW_PER_PERSON = 3
CHUNK = 500  # people whose neighbourhoods are loaded, scored and settled together
WORKER_ROW = "worker:"  # record id of a worker row compared as a record (when it differs from all of them)


@dataclass
class Unit:
    """A person as the sweep found it: its valid records (enrolment id → person) and when it was made."""

    id: str
    records: dict[str, Person] = field(default_factory=dict)
    order: tuple = ()  # the earliest person survives a merge
    branches: dict[str, str | None] = field(default_factory=dict)  # enrolment id → branch


@dataclass
class Evidence:
    """The best verdict between two units and the records that gave it; ``fact`` when some pair of their
    records has a fact against being one person (``model.blockers_of``): the units never join."""

    verdict: Verdict
    mine: str  # record id in the first unit of the pair as asked
    theirs: str
    fact: bool = False


@dataclass
class Edge:
    """A union: ``child`` joined ``parent``'s group on this evidence (``mine`` is in ``parent``)."""

    parent: str
    child: str
    evidence: Evidence


def best_evidence(
    config: DedupConfig, mine: Mapping[str, Person], theirs: Mapping[str, Person]
) -> tuple[Evidence | None, int]:
    """Every record of one side against every record of the other (records alike compared once); the best
    evidence (ties: the smallest record ids) and the number of pairs compared."""
    best: Evidence | None = None
    pairs = 0
    fact = False
    ours, others = _distinct(mine), _distinct(theirs)
    for rid, person in ours:
        for other_id, other in others:
            pairs += 1
            verdict = judge(config, person, other)
            fact = fact or bool(verdict.blockers)
            if best is None or better(verdict, best.verdict):
                best = Evidence(verdict, rid, other_id)
    if best is not None:
        best.fact = fact
    return best, pairs


def _distinct(records: Mapping[str, Person]) -> list[tuple[str, Person]]:
    seen: dict[tuple, tuple[str, Person]] = {}
    for rid, person in sorted(records.items()):
        seen.setdefault(identity(person), (rid, person))
    return list(seen.values())


class Clusters:
    """Groups of units closed under the sweep's rule. The caller adds units and says which share a key
    (``block``); ``forbidden`` pairs of units (a supervisor's distinct) never end in one group."""

    def __init__(self, config: DedupConfig, forbidden: Iterable[tuple[str, str]] = ()):
        self.config = config
        self.units: dict[str, Unit] = {}
        self.blocked: dict[str, set[str]] = {}
        self.parent: dict[str, str] = {}
        self.members: dict[str, set[str]] = {}
        self.evidence: dict[tuple[str, str], Evidence | None] = {}
        self.edges: list[Edge] = []
        self.forbidden: dict[str, set[str]] = {}
        for a, b in forbidden:
            self.forbidden.setdefault(a, set()).add(b)
            self.forbidden.setdefault(b, set()).add(a)
        self.pairs = 0

    def add(self, unit: Unit) -> None:
        if unit.id not in self.units:
            self.units[unit.id] = unit
            self.parent[unit.id] = unit.id
            self.members[unit.id] = {unit.id}
            self.blocked.setdefault(unit.id, set())

    def block(self, ids: Iterable[str]) -> None:
        """These units share a key."""
        ids = [i for i in ids if i in self.units]
        for i in ids:
            self.blocked[i].update(j for j in ids if j != i)

    def find(self, unit: str) -> str:
        root = unit
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[unit] != root:
            self.parent[unit], unit = root, self.parent[unit]
        return root

    def between(self, a: str, b: str) -> Evidence | None:
        """The best evidence between two units (cached)."""
        key = (a, b) if a < b else (b, a)
        if key not in self.evidence:
            found, pairs = best_evidence(self.config, self.units[key[0]].records, self.units[key[1]].records)
            self.evidence[key] = found
            self.pairs += pairs
        found = self.evidence[key]
        if found is None or key[0] == a:
            return found
        return Evidence(found.verdict, found.theirs, found.mine, found.fact)

    def allowed(self, a: str, b: str) -> bool:
        """Neither a supervisor's distinct nor a fact (twins' NIKs, different sexes) stands between any unit
        of one group and any unit of the other that shares a key with it: a fact against one record of a
        person is against the person, so a third record resembling both twins joins only one of them."""
        for u in self.members[a]:
            if self.forbidden.get(u, set()) & self.members[b]:
                return False
            for v in self.blocked[u] & self.members[b]:
                found = self.between(u, v)
                if found is not None and found.fact:
                    return False
        return True

    def union(self, u: str, v: str, evidence: Evidence) -> str:
        a, b = self.find(u), self.find(v)
        keep, gone = (a, b) if (len(self.members[a]), b) >= (len(self.members[b]), a) else (b, a)
        self.parent[gone] = keep
        self.members[keep] |= self.members.pop(gone)
        self.edges.append(Edge(u, v, evidence))
        return keep

    def settle(self, roots: Iterable[str], expand: Callable[[set[str]], None] | None = None) -> None:
        """Merge groups until the rule holds around ``roots``; ``expand`` loads the neighbourhood of units
        before they are looked at (the sweep reads the database; a batch has everything).

        First the units linked to the roots, directly or through others, are found (the same set whatever
        the order they are reached in); then their links are applied strongest first, each unless a
        supervisor's distinct or a fact stands between the two groups it would join (Kruskal's order, so
        the result does not depend on which root came first either).
        """
        seen = {r for r in roots if r in self.units}
        frontier = sorted(seen)
        links: dict[tuple[str, str], Evidence] = {}
        while frontier:
            if expand is not None:  # a whole frontier at once: a few statements, not a few per unit
                expand(set(frontier))
            reached: set[str] = set()
            for u in frontier:
                for v in self.blocked[u]:
                    pair = (u, v) if u < v else (v, u)
                    if v not in self.units or pair in links:
                        continue
                    found = self.between(*pair)
                    if found is not None and found.verdict.outcome == LINK:
                        links[pair] = found
                        reached.add(v)
            frontier = sorted(reached - seen)
            seen.update(frontier)
        for (u, v), found in sorted(links.items(), key=lambda item: (-item[1].verdict.probability, item[0])):
            if self.find(u) != self.find(v) and self.allowed(self.find(u), self.find(v)):
                self.union(u, v, found)

    def records(self, root: str) -> dict[str, Person]:
        return {rid: p for u in self.members[root] for rid, p in self.units[u].records.items()}

    def groups(self) -> list[set[str]]:
        return [set(m) for m in self.members.values()]


def home(config: DedupConfig, person: Person, candidates: Mapping[str, Mapping[str, Person]]) -> tuple[str | None, int]:
    """Where an invalid record belongs: the candidate group (id → its valid records) it links with most
    strongly (ties: the group whose smallest record id is smallest), or None; and the pairs compared."""
    best: tuple[tuple, str] | None = None
    pairs = 0
    for gid, records in candidates.items():
        found, n = best_evidence(config, records, {"": person})
        pairs += n
        if found is None or found.verdict.outcome != LINK or found.fact:
            continue
        rank = (-found.verdict.probability, min(r for r in records if not r.startswith(WORKER_ROW)))
        if best is None or rank < best[0]:
            best = (rank, gid)
    return (best[1] if best else None), pairs


def batch_clusters(
    persons: Mapping[str, Person],
    config: DedupConfig,
    keys: Callable[[Person], Set[str]],
    *,
    valid: Set[str] | None = None,
    cap: int | None = None,
) -> list[frozenset[str]]:
    """The people a whole set of records makes, all at once: the reference the sweep must reproduce.

    ``persons`` by record id; ``keys`` gives a record's blocking keys (``keys.key_set`` with the index key);
    ``valid`` the ids of valid records (all when None). Returns the groups, each a set of record ids.
    """
    valid = set(persons) if valid is None else set(valid) & set(persons)
    clusters = Clusters(config)
    blocks: dict[str, list[str]] = {}
    record_keys = {rid: keys(p) for rid, p in persons.items()}
    for rid in sorted(persons):
        if rid in valid:
            clusters.add(Unit(rid, {rid: persons[rid]}))
        for key in record_keys[rid]:
            blocks.setdefault(key, []).append(rid)
    usable = {k: members for k, members in blocks.items() if len(members) <= (cap if cap is not None else key_cap(k))}
    for members in usable.values():
        clusters.block(members)
    clusters.settle(clusters.units)
    groups = {clusters.find(u): set(m) for u, m in ((r, clusters.members[r]) for r in clusters.members)}
    for rid in sorted(set(persons) - valid):
        near = {clusters.find(m) for key in record_keys[rid] for m in usable.get(key, ()) if m in valid}
        target, _ = home(config, persons[rid], {root: clusters.records(root) for root in near})
        groups.setdefault(target or rid, set()).add(rid)
    return sorted((frozenset(g) for g in groups.values()), key=min)


# ---------------------------------------------------------------- the sweep over the database


@dataclass
class SweepReport:
    full: bool
    since: int | None
    until: int
    keyed: int = 0  # enrolments given the keys they lacked
    workers: int = 0  # people re-scored
    pairs: int = 0  # record pairs compared
    linked: int = 0  # people merged into another
    claimed: int = 0  # invalid enrolments pointed at another person (or at none)
    queued: int = 0  # open review candidates added
    conflicts: int = 0  # merges refused because a side changed meanwhile


class _Loader:
    """The database side of one chunk: people, their keys, and who shares them."""

    def __init__(self, session: Session, pii: PiiProtector, clusters: Clusters, cap: int | None):
        self.session, self.pii, self.clusters, self.cap = session, pii, clusters, cap
        self.expanded: set[str] = set()
        self.invalid: set[str] = set()  # invalid enrolments seen sharing a key with the people expanded

    def load(self, worker_ids: Iterable[str]) -> None:
        """People not loaded yet: their valid live records, and the worker row when it differs from all."""
        wanted = sorted(set(worker_ids) - self.clusters.units.keys())
        units: dict[str, Unit] = {}
        raw: dict[str, set[tuple]] = {}
        columns = (
            Enrollment.id,
            Enrollment.worker_id,
            Enrollment.branch_id,
            Enrollment.nik_index,
            *person_columns(Enrollment),
        )
        for part in chunked(wanted):
            rows = self.session.execute(
                select(*columns).where(
                    in_ids(self.session, Enrollment.worker_id, part),
                    Enrollment.deleted_at.is_(None),
                    Enrollment.status.in_(GRANTING),
                )
            )
            for row in rows:
                unit = units.setdefault(row.worker_id, Unit(row.worker_id))
                unit.records[row.id] = stored_person(row, self.pii)
                unit.branches[row.id] = row.branch_id
                raw.setdefault(row.worker_id, set()).add(raw_identity(row))
        for part in chunked(sorted(units)):
            rows = self.session.execute(
                select(Worker.id, Worker.server_created_at, Worker.nik_index, *person_columns(Worker)).where(
                    in_ids(self.session, Worker.id, part), Worker.deleted_at.is_(None)
                )
            )
            for row in rows:
                unit = units[row.id]
                unit.order = (row.server_created_at, row.id)
                if raw_identity(row) in raw[row.id]:
                    continue
                person = stored_person(row, self.pii)
                if core_identity(person) not in {core_identity(p) for p in unit.records.values()}:
                    unit.records[WORKER_ROW + row.id] = person  # the row itself, unlike any of its records
        for unit in units.values():
            if unit.order:  # a worker merged away meanwhile has no row left
                self.clusters.add(unit)

    def holders(self, keys: Iterable[str]) -> dict[str, set[str]]:
        """Workers with a valid record holding each usable key; invalid holders noted in ``invalid``."""
        found = store.hits(self.session, keys, cap=self.cap)
        out: dict[str, set[str]] = {}
        for key, hits in found.by_key.items():
            for hit in hits:
                if hit.worker_id and hit.status in GRANTING:
                    out.setdefault(key, set()).add(hit.worker_id)
                elif hit.status == EnrollmentStatus.NEEDS_CORRECTION:
                    self.invalid.add(hit.enrollment_id)
        self.load({w for ws in out.values() for w in ws})
        return out

    def expand(self, unit_ids: Iterable[str]) -> None:
        """Load who shares a key with these people's records, and note that they share it."""
        todo = sorted(u for u in set(unit_ids) - self.expanded if u in self.clusters.units)
        if not todo:
            return
        self.expanded.update(todo)
        records = [r for u in todo for r in self.clusters.units[u].records if not r.startswith(WORKER_ROW)]
        keys = store.stored_keys(self.session, records)
        for workers in self.holders({k for ks in keys.values() for k in ks}).values():
            self.clusters.block(workers)


def _forbidden(session: Session) -> list[tuple[str, str]]:
    """Pairs of current workers a supervisor called distinct (or whose merge was undone)."""
    rows = session.execute(
        select(
            DuplicateCandidate.enrollment_id,
            DuplicateCandidate.worker_id,
            DuplicateCandidate.other_enrollment_id,
            DuplicateCandidate.other_worker_id,
        ).where(DuplicateCandidate.status == "distinct")
    ).all()
    eids = sorted({e for r in rows for e in (r.enrollment_id, r.other_enrollment_id) if e})
    current: dict[str, str | None] = {}
    for part in chunked(eids):
        now = session.execute(select(Enrollment.id, Enrollment.worker_id).where(in_ids(session, Enrollment.id, part)))
        current.update({eid: wid for eid, wid in now})
    pairs: list[tuple[str, str]] = []
    for r in rows:
        mine = {current.get(r.enrollment_id), r.worker_id} - {None}
        theirs = {current.get(r.other_enrollment_id or ""), r.other_worker_id} - {None}
        pairs.extend((a, b) for a in mine for b in theirs if a and b and a != b)
    return pairs


def _seeds(session: Session, since: int | None) -> tuple[list[str], list[str]]:
    """People with a valid record changed since ``since`` (or whose row changed), and invalid enrolments
    changed since; everybody and every invalid enrolment when ``since`` is None."""
    changed = [Enrollment.last_modified > since] if since is not None else []
    live = Enrollment.deleted_at.is_(None)
    valid = select(Enrollment.worker_id).where(Enrollment.status.in_(GRANTING), live, *changed)
    workers: set[str] = {w for w in session.execute(valid).scalars() if w is not None}
    if since is not None:
        rows = select(Worker.id).where(Worker.last_modified > since, Worker.deleted_at.is_(None))
        workers |= set(session.execute(rows).scalars())
    invalid = select(Enrollment.id).where(Enrollment.status == EnrollmentStatus.NEEDS_CORRECTION, live, *changed)
    return sorted(workers), sorted(session.execute(invalid).scalars())


def sweep(
    session: Session,
    pii: PiiProtector,
    config: DedupConfig,
    *,
    full: bool = False,
    cap: int | None = None,
    chunk: int = CHUNK,
    after_chunk: Callable[[], None] | None = None,
) -> SweepReport:
    """Re-score, merge, re-point and queue, as the module says. The caller commits; ``after_chunk`` may, between
    chunks (the command line does, so a long ``--full`` run holds the clock's lock one chunk at a time)."""
    started = now_ms()
    last = session.execute(select(func.max(DedupSweep.until_stamp))).scalar()
    since = None if full or last is None else last - OVERLAP_MS
    report = SweepReport(full=since is None, since=since, until=current_stamp(session))
    store.purge(session)
    report.keyed = backfill(session, pii)
    forbidden = _forbidden(session)
    workers, invalid = _seeds(session, since)
    done: set[str] = set()
    seen: set[str] = set(invalid)  # invalid enrolments to place once the people are settled
    for part in chunked(workers, chunk):
        seeds = [w for w in part if w not in done]
        if not seeds:
            continue
        clusters = Clusters(config, forbidden)
        loader = _Loader(session, pii, clusters, cap)
        loader.load(seeds)
        roots = [w for w in seeds if w in clusters.units]
        clusters.settle(roots, loader.expand)
        done.update(u for group in clusters.groups() if len(group) > 1 for u in group)
        survivors = _merge_groups(session, clusters, report)
        report.workers += len(roots)
        report.pairs += clusters.pairs
        report.queued += _queue(session, clusters, survivors, set(roots))
        seen |= loader.invalid
        if after_chunk is not None:
            after_chunk()
    for part in chunked(sorted(seen), chunk):  # against the people as they now are
        loader = _Loader(session, pii, Clusters(config), cap)
        loader.invalid = set(part)
        _place_invalid(session, loader, report)
        report.pairs += loader.clusters.pairs
        if after_chunk is not None:
            after_chunk()
    session.add(
        DedupSweep(
            started_at=started,
            finished_at=now_ms(),
            full=report.full,
            since_stamp=report.since,
            until_stamp=report.until,
            keyed=report.keyed,
            workers=report.workers,
            pairs=report.pairs,
            linked=report.linked,
            claimed=report.claimed,
            queued=report.queued,
        )
    )
    session.flush()
    return report


def _merge_groups(session: Session, clusters: Clusters, report: SweepReport) -> dict[str, str]:
    """Merge each group into its earliest person; returns unit → the person it now is."""
    survivor_of: dict[str, str] = {}
    for group in clusters.groups():
        survivor = min(group, key=lambda u: clusters.units[u].order)
        for unit in group:
            survivor_of[unit] = survivor
        for edge in _tree(clusters, group, survivor):
            report.linked += _merge(session, clusters, edge, survivor, report)
    return survivor_of


def _tree(clusters: Clusters, group: set[str], root: str) -> list[Edge]:
    """The group's union edges, oriented away from ``root``, parents before children."""
    around: dict[str, list[tuple[str, Edge]]] = {}
    for edge in clusters.edges:
        if edge.parent in group:
            around.setdefault(edge.parent, []).append((edge.child, edge))
            around.setdefault(edge.child, []).append((edge.parent, edge))
    out, seen, queue = [], {root}, deque([root])
    while queue:
        unit = queue.popleft()
        for other, edge in sorted(around.get(unit, []), key=lambda item: item[0]):
            if other in seen:
                continue
            seen.add(other)
            queue.append(other)
            if edge.parent == unit:
                out.append(edge)
            else:  # the same evidence read from the other side
                ev = edge.evidence
                out.append(Edge(unit, other, Evidence(ev.verdict, ev.theirs, ev.mine)))
    return out


def _merge(session: Session, clusters: Clusters, edge: Edge, survivor: str, report: SweepReport) -> int:
    """``edge.child`` into ``survivor`` as a recorded ``auto_link``; 0 when a side changed since it was read."""
    verdict, child, parent = edge.evidence.verdict, clusters.units[edge.child], clusters.units[edge.parent]
    cid = new_id()
    row = _candidate_row(
        cid,
        enrollment=_record_id(child, edge.evidence.theirs),
        worker=child.id,
        other_worker=survivor,
        other_enrollment=_record_id(parent, edge.evidence.mine, fallback=False),
        branch=child.branches.get(edge.evidence.theirs),
        other_branch=parent.branches.get(edge.evidence.mine),
        verdict=verdict,
    )
    session.execute(insert(DuplicateCandidate), [row])
    candidate = session.get(DuplicateCandidate, cid)
    assert candidate is not None
    note = f"sweep: p={verdict.probability:.4f}: {', '.join(verdict.reasons)}"
    try:  # refused before it writes anything when a side was merged or deleted since it was read
        apply_merge(session, candidate=candidate, user_id=None, action="auto_link", note=note)
    except Conflict:
        report.conflicts += 1
        session.execute(
            update(DuplicateCandidate)
            .where(DuplicateCandidate.id == cid)
            .values(status="distinct", decided_at=now_ms(), note="sweep: a side was merged or deleted meanwhile")
        )
        return 0
    return 1


def _place_invalid(session: Session, loader: _Loader, report: SweepReport) -> None:
    """Point each of ``loader.invalid`` at its person (``home``), or at nobody: one UPDATE per target."""
    invalid: dict[str, tuple[Person, str | None]] = {}
    columns = (Enrollment.id, Enrollment.worker_id, *person_columns(Enrollment))
    for part in chunked(sorted(loader.invalid)):
        rows = session.execute(
            select(*columns).where(
                in_ids(session, Enrollment.id, part),
                Enrollment.deleted_at.is_(None),
                Enrollment.status == EnrollmentStatus.NEEDS_CORRECTION,
            )
        )
        invalid.update({row.id: (stored_person(row, loader.pii), row.worker_id) for row in rows})
    keys = store.stored_keys(session, sorted(invalid))
    holders = loader.holders({k for ks in keys.values() for k in ks})  # loads the people holding them
    people = loader.clusters.units
    moves: dict[str | None, list[str]] = {}
    for eid, (person, current) in sorted(invalid.items()):
        near = sorted({w for key in keys.get(eid, ()) for w in holders.get(key, ())} & people.keys())
        target, pairs = home(loader.clusters.config, person, {w: people[w].records for w in near})
        loader.clusters.pairs += pairs
        if target != current:
            moves.setdefault(target, []).append(eid)
    if not moves:
        return
    stamp = next_stamp(session)
    for target, eids in moves.items():
        for part in chunked(eids):
            result = session.execute(
                update(Enrollment)
                .where(in_ids(session, Enrollment.id, part), Enrollment.status == EnrollmentStatus.NEEDS_CORRECTION)
                .values(worker_id=target, worker_linked_at=stamp, last_modified=stamp)
            )
            report.claimed += result.rowcount or 0  # type: ignore[attr-defined]


def _candidate_row(cid, *, enrollment, worker, other_worker, other_enrollment, branch, other_branch, verdict) -> dict:
    return {
        "id": cid,
        "enrollment_id": enrollment,
        "worker_id": worker,
        "other_worker_id": other_worker,
        "other_enrollment_id": other_enrollment,
        "branch_id": branch,
        "other_branch_id": other_branch,
        "score": round(verdict.probability, 6),
        "match_weight": round(verdict.weight, 4),
        "reasons": json.dumps(verdict.reasons + [f"not linked: {b}" for b in verdict.blockers]),
        "levels": json.dumps(verdict.levels),
        "status": "open",
        "created_at": now_ms(),
        "decided_at": None,
        "decided_by": None,
        "note": None,
        "merge_id": None,
    }


def _record_id(unit: Unit, record: str, *, fallback: bool = True) -> str | None:
    """An enrolment id for a candidate: the record itself, or (for the worker row) the unit's first record."""
    if not record.startswith(WORKER_ROW):
        return record
    return next((r for r in sorted(unit.records) if not r.startswith(WORKER_ROW)), None) if fallback else None


def _queue(session: Session, clusters: Clusters, survivor_of: dict[str, str], seeds: set[str]) -> int:
    """Open review candidates for review-band pairs around the seeds that are still two people."""
    best: dict[tuple[str, str], tuple[Verdict, str, str]] = {}  # (later, earlier) → verdict, their records
    for (a, b), found in clusters.evidence.items():
        if found is None or found.verdict.outcome != REVIEW or not ({a, b} & seeds):
            continue
        sa, sb = survivor_of[a], survivor_of[b]
        if sa == sb:
            continue
        # The later person is the one a supervisor's merge would absorb: the candidate's own side.
        if clusters.units[sa].order > clusters.units[sb].order:
            later, earlier, mine, theirs = sa, sb, found.mine, found.theirs
        else:
            later, earlier, mine, theirs = sb, sa, found.theirs, found.mine
        known = best.get((later, earlier))
        if known is None or better(found.verdict, known[0]):
            best[(later, earlier)] = (found.verdict, mine, theirs)
    if not best:
        return 0
    taken = _open_pairs(session, sorted({w for pair in best for w in pair}))
    taken |= {frozenset((a, b)) for a, others in clusters.forbidden.items() for b in others}
    per_person: dict[str, int] = {}
    rows = []
    for (later, earlier), (verdict, mine, theirs) in sorted(
        best.items(), key=lambda kv: (-kv[1][0].probability, kv[0])
    ):
        if frozenset((later, earlier)) in taken:
            continue
        if per_person.get(later, 0) >= REVIEW_PER_PERSON or per_person.get(earlier, 0) >= REVIEW_PER_PERSON:
            continue
        for w in (later, earlier):
            per_person[w] = per_person.get(w, 0) + 1
        own, other = clusters.units[later], clusters.units[earlier]
        rows.append(
            _candidate_row(
                new_id(),
                enrollment=_record_id(own, mine),
                worker=later,
                other_worker=earlier,
                other_enrollment=_record_id(other, theirs, fallback=False),
                branch=own.branches.get(mine),
                other_branch=other.branches.get(theirs),
                verdict=verdict,
            )
        )
    if rows:
        session.execute(insert(DuplicateCandidate), rows)
    return len(rows)


def _open_pairs(session: Session, workers: Sequence[str]) -> set[frozenset[str]]:
    """Worker pairs that already have an open candidate."""
    pairs: set[frozenset[str]] = set()
    for part in chunked(workers):
        rows = session.execute(
            select(DuplicateCandidate.worker_id, DuplicateCandidate.other_worker_id).where(
                DuplicateCandidate.status == "open",
                or_(
                    in_ids(session, DuplicateCandidate.worker_id, part),
                    in_ids(session, DuplicateCandidate.other_worker_id, part),
                ),
            )
        )
        pairs.update(frozenset((a, b)) for a, b in rows if a)
    return pairs
