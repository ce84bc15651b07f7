"""Candidate search for a whole push: one query per blocking key (IN lists), then scoring in memory.

Workers made earlier in the same push join the pool, so two records of one person in one push find
each other. Pairs a supervisor declared distinct are never proposed again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..models import Enrollment, Worker
from ..models.dedup import DuplicateCandidate
from ..pii import PiiProtector
from ..writes import chunked, in_ids
from .compare import Person, compare
from .keys import KEY_KINDS, blocking_keys
from .model import NEW, DedupConfig, Verdict, decide
from .normalize import name_tokens, parse_date, village_key

KEY_COLUMNS = {
    "nik": Worker.nik_index,
    "nik_head": Worker.nik_head_index,
    "nik_tail": Worker.nik_tail_index,
    "phone": Worker.phone_index,
    "name": Worker.name_key,
    "name_dob": Worker.name_dob_key,
    "dob_village": Worker.dob_village_key,
}
VALID = ("verified", "duplicate")


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

    def load(self, probes: list[Probe]) -> None:
        """One query per key kind over all probes, then the workers' data and first enrolments."""
        found: set[str] = set()
        for kind in KEY_KINDS:
            values = sorted({p.keys[kind] for p in probes if p.keys.get(kind)})
            column = KEY_COLUMNS[kind]
            for part in chunked(values):
                rows = self.session.execute(
                    select(Worker.id, column).where(in_ids(self.session, column, part), Worker.deleted_at.is_(None))
                )
                for wid, value in rows:
                    self.by_key.setdefault((kind, value), set()).add(wid)
                    found.add(wid)
        self._load_workers(sorted(found))

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
                .order_by(Enrollment.server_created_at, Enrollment.id)
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
