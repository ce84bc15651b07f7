"""Candidate search for a whole push: indexed lookups by blocking key (IN lists), then scoring in memory.

Workers made earlier in the same push join the pool, so two records of one person in one push find
each other. Candidates are only ever proposed for a person made by this push, so a pair a supervisor
called distinct never comes back. Invalid enrolments that no person matched yet
(``unlinked_enrollments``) are looked up by the same keys, so the person's valid enrolments can claim
them.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import literal, select, text, union_all
from sqlalchemy.orm import Session

from sync.enrollments.duplicates.compare import Person, compare
from sync.enrollments.duplicates.keys import KEY_KINDS, blocking_keys
from sync.enrollments.duplicates.model import LINK, NEW, DedupConfig, Verdict, decide
from sync.enrollments.duplicates.normalize import name_tokens, nik_digits, parse_date, village_key
from sync.models import Enrollment, Worker
from sync.models.dedup import UnlinkedEnrollment
from sync.models.records import VALID_SINCE
from sync.pii import PiiProtector
from sync.writes import chunked, in_ids

KEY_COLUMNS = {
    "nik": Worker.nik_index,
    "nik_head": Worker.nik_head_index,
    "nik_tail": Worker.nik_tail_index,
    "phone": Worker.phone_index,
    "name": Worker.name_key,
    "name_dob": Worker.name_dob_key,
    "dob_village": Worker.dob_village_key,
}
UNLINKED_COLUMNS = {kind: getattr(UnlinkedEnrollment, column.key) for kind, column in KEY_COLUMNS.items()}
PROBES_PER_QUERY = 1000  # 7 key lists per query: stays within SQLite's bound-parameter limit
PERSON_FIELDS = ("nik_encrypted", "full_name", "birth_date", "sex", "phone_index", "village")


def person_columns(model) -> tuple:
    """The columns matching compares, on ``workers`` and ``enrollments`` alike."""
    return tuple(getattr(model, f) for f in PERSON_FIELDS)


@dataclass
class Probe:
    """One enrolment as matching sees it, and its verdicts against the workers loaded for the push."""

    person: Person
    keys: dict[str, str | None]
    verdicts: dict[str, Verdict] = field(default_factory=dict)


@dataclass
class Known:
    """A worker in the pool: the person, and its first valid enrolment (id, agent) if any."""

    id: str
    person: Person
    first: tuple[str, str, str | None] | None  # (enrolment id, agent id, branch id)
    registry_status: str | None = None


@dataclass
class Orphan:
    """An invalid enrolment without a person, and the best claim on it so far (probability, worker id)."""

    id: str
    person: Person
    claim: tuple[float, str] | None = None


@dataclass
class Scored:
    worker: Known
    verdict: Verdict


def person_of(*, nik: str, full_name, birth_date, sex, phone_index, village) -> Person:
    """Normalise one side's raw fields."""
    return Person.build(
        nik=nik or "",
        tokens=name_tokens(full_name),
        birth=parse_date(birth_date),
        sex=sex or None,
        phone_index=phone_index,
        village=village_key(village),
    )


def stored_person(row, pii: PiiProtector) -> Person:
    """A stored worker or enrolment (``PERSON_FIELDS`` and ``id``) as matching sees it.

    The NIK is decrypted under the row's id; an enrolment keeps it as typed, so only its digits count.
    """
    return person_of(
        nik=nik_digits(pii.decrypt(row.nik_encrypted, row_id=row.id)),
        full_name=row.full_name,
        birth_date=row.birth_date,
        sex=row.sex,
        phone_index=row.phone_index,
        village=row.village,
    )


def make_probe(person: Person, pii: PiiProtector) -> Probe:
    return Probe(person, blocking_keys(person, pii))


class CandidatePool:
    """Workers that share a blocking key with any enrolment of the push, loaded once."""

    def __init__(self, session: Session, pii: PiiProtector, config: DedupConfig):
        self.session, self.pii, self.config = session, pii, config
        self.known: dict[str, Known] = {}
        self.by_key: dict[tuple[str, str], set[str]] = {}
        self.orphans: dict[str, Orphan] = {}
        self.orphans_by_key: dict[tuple[str, str], set[str]] = {}

    def load(self, probes: list[Probe], *, pushed_ids: Set[str] = frozenset()) -> None:
        """Workers and unlinked enrolments sharing a key with any probe, then the workers' first enrolments.

        One statement per table and chunk of probes: a UNION ALL of one indexed lookup per key kind (an
        OR of the key columns tempts PostgreSQL into a scan of the whole table). Unlinked enrolments
        pushed again now (``pushed_ids``) are left out: their new version counts.
        """
        waiting_from = Enrollment.__table__.join(
            UnlinkedEnrollment.__table__, UnlinkedEnrollment.enrollment_id == Enrollment.id
        )
        for part in chunked(probes, PROBES_PER_QUERY):
            wanted = self._wanted(part)
            workers = self._matching(
                wanted,
                KEY_COLUMNS,
                (Worker.id, Worker.registry_status, *person_columns(Worker)),
                (Worker.deleted_at.is_(None),),
            )
            for row in workers:
                if row.id not in self.known:
                    self.known[row.id] = Known(row.id, stored_person(row, self.pii), None, row.registry_status)
                self.by_key.setdefault((row.kind, row.key), set()).add(row.id)
            waiting = self._matching(
                wanted,
                UNLINKED_COLUMNS,
                (Enrollment.id, *person_columns(Enrollment)),
                (
                    Enrollment.worker_id.is_(None),
                    Enrollment.status == "needs_correction",
                    Enrollment.deleted_at.is_(None),
                ),
                waiting_from,
            )
            for row in waiting:
                if row.id not in pushed_ids:
                    self.orphans.setdefault(row.id, Orphan(row.id, stored_person(row, self.pii)))
                    self.orphans_by_key.setdefault((row.kind, row.key), set()).add(row.id)
        resembling: set[str] = set()
        for probe in probes:  # scored once here; only workers some probe resembles need their first enrolment
            for wid in self._candidates(probe):
                probe.verdicts[wid] = verdict = decide(compare(probe.person, self.known[wid].person), self.config)
                if verdict.outcome != NEW:
                    resembling.add(wid)
        self._load_firsts(sorted(resembling))

    @staticmethod
    def _wanted(probes: Sequence[Probe]) -> dict[str, list[str]]:
        return {kind: sorted({key for p in probes if (key := p.keys.get(kind))}) for kind in KEY_KINDS}

    def _matching(self, wanted: dict[str, list[str]], keys: dict, columns: tuple, where: tuple, from_=None):
        """Rows whose key of some kind is wanted, as (kind, key, *columns); a row may come once per kind."""
        branches = []
        for kind, values in wanted.items():
            if values:
                branch = select(literal(kind).label("kind"), keys[kind].label("key"), *columns)
                if from_ is not None:
                    branch = branch.select_from(from_)
                branches.append(branch.where(in_ids(self.session, keys[kind], values), *where))
        if not branches:
            return []
        if self.session.get_bind().dialect.name != "postgresql":
            return self.session.execute(union_all(*branches)).all()
        # Parallel workers take longer to start than these index lookups take (measured: 2-3x slower).
        self.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        try:
            return self.session.execute(union_all(*branches)).all()
        finally:
            self.session.execute(text("SET LOCAL max_parallel_workers_per_gather TO DEFAULT"))

    def _load_firsts(self, ids: list[str]) -> None:
        """Each worker's first valid enrolment (its agent keeps the credit; a link points at it)."""
        for part in chunked(ids):
            firsts = self.session.execute(
                select(Enrollment.worker_id, Enrollment.id, Enrollment.agent_id, Enrollment.branch_id)
                .where(
                    in_ids(self.session, Enrollment.worker_id, part),
                    Enrollment.status == "verified",
                    Enrollment.deleted_at.is_(None),
                )
                .order_by(VALID_SINCE, Enrollment.id)
            )
            for worker_id, eid, agent, branch in firsts:
                wid = cast(str, worker_id)  # matched by in_ids, so never NULL
                if self.known[wid].first is None:
                    self.known[wid].first = (eid, agent, branch)

    def add(self, known: Known, keys: dict[str, str | None]) -> None:
        """A worker created during this push becomes a candidate for the records after it."""
        self.known[known.id] = known
        for kind, value in keys.items():
            if value:
                self.by_key.setdefault((kind, value), set()).add(known.id)

    def add_orphan(self, enrollment_id: str, probe: Probe) -> None:
        """An invalid enrolment of this push that matched nobody: a later valid one may still claim it."""
        self.orphans[enrollment_id] = Orphan(enrollment_id, probe.person)
        for kind, value in probe.keys.items():
            if value:
                self.orphans_by_key.setdefault((kind, value), set()).add(enrollment_id)

    def claim_orphans(self, probe: Probe, worker_id: str) -> None:
        """Unlinked enrolments sharing a key with this valid one, and matching it, become ``worker_id``'s."""
        ids: set[str] = set()
        for kind, value in probe.keys.items():
            if value:
                ids |= self.orphans_by_key.get((kind, value), set())
        for oid in ids:
            orphan = self.orphans.get(oid)
            if orphan is None:
                continue
            verdict = decide(compare(orphan.person, probe.person), self.config)
            if verdict.outcome == LINK and (orphan.claim is None or verdict.probability > orphan.claim[0]):
                orphan.claim = (verdict.probability, worker_id)

    def _candidates(self, probe: Probe) -> set[str]:
        ids: set[str] = set()
        for kind, value in probe.keys.items():
            if value:
                ids |= self.by_key.get((kind, value), set())
        return ids

    def rank(self, probe: Probe) -> list[Scored]:
        """Candidates sharing a key with ``probe``, scored, best first (the ``new`` band left out)."""
        scored = []
        for wid in self._candidates(probe):
            verdict = probe.verdicts.get(wid)
            if verdict is None:  # a worker made earlier in this push
                verdict = decide(compare(probe.person, self.known[wid].person), self.config)
            if verdict.outcome != NEW:
                scored.append(Scored(self.known[wid], verdict))
        scored.sort(key=lambda s: (-s.verdict.probability, s.worker.id))
        return scored
