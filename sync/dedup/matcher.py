"""Candidate search for a whole push: one query per blocking key (IN lists), then scoring in memory.

Workers made earlier in the same push join the pool, so two records of one person in one push find
each other. Pairs a supervisor declared distinct are never proposed again. Invalid enrolments that no
person matched yet (``unlinked_enrollments``) are looked up by the same keys, so the person's valid
enrolments can claim them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..models import Enrollment, Worker
from ..models.dedup import DuplicateCandidate, UnlinkedEnrollment
from ..models.records import VALID_SINCE
from ..pii import PiiProtector
from ..writes import chunked, in_ids
from .compare import Person, compare
from .keys import KEY_KINDS, blocking_keys
from .model import LINK, NEW, DedupConfig, Verdict, decide
from .normalize import name_tokens, nik_digits, parse_date, village_key

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


@dataclass
class Probe:
    """One enrolment as matching sees it."""

    person: Person
    keys: dict[str, str | None]


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


def make_probe(person: Person, pii: PiiProtector) -> Probe:
    return Probe(person, blocking_keys(person, pii))


class CandidatePool:
    """Workers that share a blocking key with any enrolment of the push, loaded once."""

    def __init__(self, session: Session, pii: PiiProtector, config: DedupConfig):
        self.session, self.pii, self.config = session, pii, config
        self.known: dict[str, Known] = {}
        self.by_key: dict[tuple[str, str], set[str]] = {}
        self.distinct: set[frozenset[str]] = set()
        self.orphans: dict[str, Orphan] = {}
        self.orphans_by_key: dict[tuple[str, str], set[str]] = {}

    def load(self, probes: list[Probe], *, pushed_ids: set[str] = frozenset()) -> None:
        """One query per key kind over all probes, then the workers' data and first enrolments.

        Unlinked enrolments being pushed again now (``pushed_ids``) are left out: their new version counts.
        """
        found = self._lookup(probes, KEY_COLUMNS, Worker.id, Worker.deleted_at.is_(None), self.by_key)
        self._load_workers(sorted(found))
        found = self._lookup(probes, UNLINKED_COLUMNS, UnlinkedEnrollment.enrollment_id, None, self.orphans_by_key)
        self._load_orphans(sorted(found - set(pushed_ids)))

    def _lookup(self, probes, columns, id_column, live, index) -> set[str]:
        found: set[str] = set()
        for kind in KEY_KINDS:
            values = sorted({p.keys[kind] for p in probes if p.keys.get(kind)})
            column = columns[kind]
            for part in chunked(values):
                query = select(id_column, column).where(in_ids(self.session, column, part))
                for rid, value in self.session.execute(query if live is None else query.where(live)):
                    index.setdefault((kind, value), set()).add(rid)
                    found.add(rid)
        return found

    def _load_orphans(self, ids: list[str]) -> None:
        cols = (
            Enrollment.id,
            Enrollment.nik_encrypted,
            Enrollment.full_name,
            Enrollment.birth_date,
            Enrollment.sex,
            Enrollment.phone_index,
            Enrollment.village,
        )
        for part in chunked(ids):
            rows = self.session.execute(
                select(*cols).where(
                    in_ids(self.session, Enrollment.id, part),
                    Enrollment.worker_id.is_(None),
                    Enrollment.status == "needs_correction",
                    Enrollment.deleted_at.is_(None),
                )
            )
            for row in rows:
                nik = nik_digits(self.pii.decrypt(row.nik_encrypted, row_id=row.id))
                person = person_of(
                    nik=nik,
                    full_name=row.full_name,
                    birth_date=row.birth_date,
                    sex=row.sex,
                    phone_index=row.phone_index,
                    village=row.village,
                )
                self.orphans[row.id] = Orphan(row.id, person)

    def _load_workers(self, ids: list[str]) -> None:
        cols = (
            Worker.id,
            Worker.nik_encrypted,
            Worker.full_name,
            Worker.birth_date,
            Worker.sex,
            Worker.phone_index,
            Worker.village,
            Worker.registry_status,
        )
        for part in chunked(ids):
            for row in self.session.execute(select(*cols).where(in_ids(self.session, Worker.id, part))):
                nik = self.pii.decrypt(row.nik_encrypted, row_id=row.id) or ""
                person = person_of(
                    nik=nik,
                    full_name=row.full_name,
                    birth_date=row.birth_date,
                    sex=row.sex,
                    phone_index=row.phone_index,
                    village=row.village,
                )
                self.known[row.id] = Known(row.id, person, None, row.registry_status)
            firsts = self.session.execute(
                select(Enrollment.worker_id, Enrollment.id, Enrollment.agent_id, Enrollment.branch_id)
                .where(
                    in_ids(self.session, Enrollment.worker_id, part),
                    Enrollment.status == "verified",
                    Enrollment.deleted_at.is_(None),
                )
                .order_by(VALID_SINCE, Enrollment.id)
            )
            for wid, eid, agent, branch in firsts:
                if self.known[wid].first is None:
                    self.known[wid].first = (eid, agent, branch)
            pairs = self.session.execute(
                select(DuplicateCandidate.worker_id, DuplicateCandidate.other_worker_id).where(
                    DuplicateCandidate.status == "distinct",
                    or_(
                        in_ids(self.session, DuplicateCandidate.worker_id, part),
                        in_ids(self.session, DuplicateCandidate.other_worker_id, part),
                    ),
                )
            )
            self.distinct.update(frozenset(p) for p in pairs if p[0])

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

    def rank(self, probe: Probe, *, own_worker: str | None = None) -> list[Scored]:
        """Candidates sharing a key with ``probe``, scored, best first (the ``new`` band left out)."""
        ids: set[str] = set()
        for kind, value in probe.keys.items():
            if value:
                ids |= self.by_key.get((kind, value), set())
        scored = []
        for wid in ids:
            if wid == own_worker or (own_worker and frozenset((own_worker, wid)) in self.distinct):
                continue
            verdict = decide(compare(probe.person, self.known[wid].person), self.config)
            if verdict.outcome != NEW:
                scored.append(Scored(self.known[wid], verdict))
        scored.sort(key=lambda s: (-s.verdict.probability, s.worker.id))
        return scored
