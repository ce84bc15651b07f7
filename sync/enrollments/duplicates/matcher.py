"""Candidate search for a whole push: key hits in the candidate store, then every record of each candidate.

A pushed enrolment's blocking keys (``keys``) are looked up in ``match_keys`` (``store.hits``: one
statement per chunk of keys, a key shared by more than ``keys.BLOCK_CAP`` live enrolments left out). The
workers of the valid enrolments found are the candidate people; every valid live enrolment of each of
them, and the worker row when it differs from all of them, is then loaded (one statement per chunk of
workers) and compared with the pushed record: the best evidence decides (a linking pair first, then the
highest probability). So a person whose first record was the noisy one still attracts the clean later ones.

Only valid records are evidence. An invalid enrolment may lack its name or carry a broken NIK; linked to a
person for matching, it would otherwise attract everybody who resembles what it has left (a nameless
record links a twin). Invalid enrolments that no person matched yet (without a worker) are found by the
same keys, so the person's valid enrolments can claim them.

Valid records linked or made earlier in the same push join their person in the pool, so two records of
one person in one push find each other. Candidates are only ever proposed for a person made by this push,
so a pair a supervisor called distinct never comes back.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass, field, replace

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from sync.enrollments.duplicates import store
from sync.enrollments.duplicates.compare import Person, compare
from sync.enrollments.duplicates.keys import blocking_keys, key_cap
from sync.enrollments.duplicates.model import LINK, NEW, REVIEW, DedupConfig, Verdict, decide
from sync.enrollments.duplicates.normalize import name_tokens, nik_digits, parse_date, village_key
from sync.models import Enrollment, Worker
from sync.models.records import VALID_SINCE
from sync.pii import PiiProtector
from sync.protocol.statuses import GRANTING, EnrollmentStatus
from sync.writes import chunked, in_ids

# The columns matching reads, on ``enrollments``; ``workers`` has them all but the address.
PERSON_FIELDS = ("nik_encrypted", "full_name", "birth_date", "sex", "phone_index", "village", "address", "occupation")


# What a worker row copies from the enrolment that made it, as stored: equal values need no decryption.
RAW_IDENTITY = ("nik_index", "full_name", "birth_date", "sex", "phone_index", "village")


def raw_identity(row) -> tuple:
    return tuple(getattr(row, f) for f in RAW_IDENTITY)


def person_columns(model) -> tuple:
    """The columns matching compares that ``model`` has (``workers`` keeps no address)."""
    return tuple(getattr(model, f) for f in PERSON_FIELDS if hasattr(model, f))


def person_of(*, nik: str, full_name, birth_date, sex, phone_index, village, address=None, occupation=None) -> Person:
    """Normalise one side's raw fields."""
    return Person.build(
        nik=nik or "",
        tokens=name_tokens(full_name),
        birth=parse_date(birth_date),
        sex=sex or None,
        phone_index=phone_index,
        village=village_key(village),
        address=address,
        occupation=occupation,
    )


def stored_person(row, pii: PiiProtector) -> Person:
    """A stored worker or enrolment (``PERSON_FIELDS`` it has, and ``id``) as matching sees it.

    The NIK is decrypted under the row's id; an enrolment keeps it as typed, so only its digits count.
    """
    return person_of(
        nik=nik_digits(pii.decrypt(row.nik_encrypted, row_id=row.id)),
        full_name=row.full_name,
        birth_date=row.birth_date,
        sex=row.sex,
        phone_index=row.phone_index,
        village=row.village,
        address=getattr(row, "address", None),
        occupation=getattr(row, "occupation", None),
    )


def identity(person: Person) -> tuple:
    """What tells two records of a person apart for matching: equal identities compare alike."""
    return (*core_identity(person), person.address, person.occupation)


def core_identity(person: Person) -> tuple:
    """The fields a worker row has too (no address)."""
    return (person.nik, tuple(person.tokens), person.birth, person.sex, person.phone_index, person.village)


def judge(config: DedupConfig, a: Person, b: Person) -> Verdict:
    """The verdict on two records, compared in an order set by their contents: a comparison need not be
    symmetric, and the push, the sweep and the batch must judge a pair alike whichever side is new."""
    if a.nik != b.nik:
        swap = b.nik < a.nik
    elif a.tokens != b.tokens:
        swap = b.tokens < a.tokens
    else:
        swap = repr(identity(b)) < repr(identity(a))
    return decide(compare(b, a) if swap else compare(a, b), config)


def better(verdict: Verdict, than: Verdict | None) -> bool:
    """A linking verdict beats any other; then the higher probability."""
    return than is None or (verdict.outcome == LINK, verdict.probability) > (than.outcome == LINK, than.probability)


@dataclass
class MatchCounters:
    """Records matched and record pairs compared, for benchmarks (matching never reads these)."""

    records: int = 0
    pairs: int = 0

    def per_record(self) -> float:
        return self.pairs / self.records if self.records else 0.0

    def reset(self) -> None:
        self.records = self.pairs = 0


COUNTERS = MatchCounters()  # this process's tally: ``bench/`` resets it, pushes, and reads ``per_record()``


@dataclass
class Probe:
    """One enrolment as matching sees it, and its verdicts against the people in the pool."""

    person: Person
    keys: dict[str, str | None]

    @property
    def key_set(self) -> set[str]:
        return {key for key in self.keys.values() if key}


@dataclass
class Known:
    """A person in the pool: the distinct identities of its records, and its first valid enrolment."""

    id: str
    records: dict[tuple, Person] = field(default_factory=dict)  # distinct identities of its records
    first: tuple[str, str, str | None] | None = None  # (enrolment id, agent id, branch id)
    registry_status: str | None = None

    def add(self, person: Person) -> None:
        self.records.setdefault(identity(person), person)


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


def make_probe(person: Person, pii: PiiProtector) -> Probe:
    return Probe(person, blocking_keys(person, pii))


class CandidatePool:
    """The people and waiting invalid enrolments that share a blocking key with any enrolment of a push."""

    def __init__(self, session: Session, pii: PiiProtector, config: DedupConfig, *, cap: int | None = None):
        self.session, self.pii, self.config, self.cap = session, pii, config, cap
        self.known: dict[str, Known] = {}
        self.by_key: dict[str, set[str]] = {}
        self.block: dict[str, int] = {}  # live records per key (stored and pushed), for the cap
        self.orphans: dict[str, Orphan] = {}
        self.orphans_by_key: dict[str, set[str]] = {}
        self.raw: dict[str, set[tuple]] = {}  # worker → its records' stored identities (``raw_identity``)
        self.pairs = 0

    def load(self, probes: list[Probe], *, pushed_ids: Set[str] = frozenset()) -> None:
        """Key hits for every probe, then every live record of the people found and the waiting enrolments.

        Enrolments pushed again now (``pushed_ids``) are left out: their new version counts.
        """
        found = store.hits(self.session, {k for p in probes for k in p.key_set}, cap=self.cap, skip=pushed_ids)
        for key in found.crowded:
            self.block[key] = self._cap(key) + 1
        waiting: dict[str, set[str]] = {}
        for key, hits in found.by_key.items():
            self.block[key] = len(hits)
            for hit in hits:
                if hit.worker_id and hit.status in GRANTING:
                    self.by_key.setdefault(key, set()).add(hit.worker_id)
                elif hit.worker_id is None and hit.status == EnrollmentStatus.NEEDS_CORRECTION:
                    waiting.setdefault(hit.enrollment_id, set()).add(key)
        workers = sorted({wid for ids in self.by_key.values() for wid in ids})
        self._load_records(workers, sorted(waiting), pushed_ids)
        for eid, keys in waiting.items():
            if eid in self.orphans:
                for key in keys:
                    self.orphans_by_key.setdefault(key, set()).add(eid)
        self._load_workers(workers)
        for key in list(self.by_key):  # a hit's worker gone (merged away meanwhile) is no candidate
            self.by_key[key] &= self.known.keys()

    def _load_records(self, workers: Sequence[str], waiting: Sequence[str], pushed_ids: Set[str]) -> None:
        """Every valid live enrolment of these workers, oldest first, and these waiting enrolments."""
        columns = (
            Enrollment.id,
            Enrollment.worker_id,
            Enrollment.agent_id,
            Enrollment.branch_id,
            Enrollment.status,
            Enrollment.nik_index,
            *person_columns(Enrollment),
        )
        valid = Enrollment.status.in_(GRANTING)
        for column, ids, which in ((Enrollment.worker_id, workers, valid), (Enrollment.id, waiting, true())):
            for part in chunked(ids):
                rows = self.session.execute(
                    select(*columns)
                    .where(in_ids(self.session, column, part), Enrollment.deleted_at.is_(None), which)
                    .order_by(VALID_SINCE, Enrollment.id)
                ).all()
                for row in rows:
                    if row.id in pushed_ids:
                        continue
                    person = stored_person(row, self.pii)
                    if row.worker_id is None:
                        self.orphans[row.id] = Orphan(row.id, person)
                        continue
                    known = self.known.setdefault(row.worker_id, Known(row.worker_id))
                    known.add(person)
                    self.raw.setdefault(row.worker_id, set()).add(raw_identity(row))
                    if known.first is None and row.status == EnrollmentStatus.VERIFIED:
                        known.first = (row.id, row.agent_id, row.branch_id)

    def _load_workers(self, workers: Sequence[str]) -> None:
        """The worker rows: registry status, and the row's identity when no record of it has the same."""
        for part in chunked(workers):
            rows = self.session.execute(
                select(Worker.id, Worker.registry_status, Worker.nik_index, *person_columns(Worker)).where(
                    in_ids(self.session, Worker.id, part), Worker.deleted_at.is_(None)
                )
            ).all()
            live = set()
            for row in rows:
                live.add(row.id)
                known = self.known.setdefault(row.id, Known(row.id))
                known.registry_status = row.registry_status
                if raw_identity(row) in self.raw.get(row.id, ()):
                    continue  # the row is one of its records, as they nearly always are
                person = stored_person(row, self.pii)
                if core_identity(person) not in {core_identity(p) for p in known.records.values()}:
                    known.add(person)
            for wid in set(part) - live:
                self.known.pop(wid, None)

    def _cap(self, key: str) -> int:
        return self.cap if self.cap is not None else key_cap(key)

    def _usable(self, key: str) -> bool:
        return self.block.get(key, 0) <= self._cap(key)

    def _candidates(self, probe: Probe) -> set[str]:
        ids: set[str] = set()
        for key in probe.key_set:
            if self._usable(key):
                ids |= self.by_key.get(key, set())
        return ids

    def verdict(self, probe: Probe, worker: Known) -> Verdict:
        """The best evidence among the person's records; a fact against any of them (twins' NIKs, different
        sexes) is against the person: never a link then, the pair goes to review with that fact."""
        best: Verdict | None = None
        facts: list[str] = []
        for person in worker.records.values():
            self.pairs += 1
            found = judge(self.config, probe.person, person)
            facts += [b for b in found.blockers if b not in facts]
            if better(found, best):
                best = found
        assert best is not None  # a person in the pool has at least one record
        if best.outcome == LINK and facts:
            return replace(best, outcome=REVIEW, blockers=facts)
        return best

    def rank(self, probe: Probe) -> list[Scored]:
        """Candidates sharing a key with ``probe``, best first (a link before any review; ``new`` left out)."""
        COUNTERS.records += 1
        before = self.pairs
        scored = []
        for wid in self._candidates(probe):
            verdict = self.verdict(probe, self.known[wid])
            if verdict.outcome != NEW:
                scored.append(Scored(self.known[wid], verdict))
        COUNTERS.pairs += self.pairs - before
        scored.sort(key=lambda s: (s.verdict.outcome != LINK, -s.verdict.probability, s.worker.id))
        return scored

    def attach(self, worker: Known, probe: Probe) -> None:
        """A valid record of this push joins its person: later records of the push compare with it too."""
        self.known.setdefault(worker.id, worker)
        worker.add(probe.person)
        for key in probe.key_set:
            self.by_key.setdefault(key, set()).add(worker.id)
        self.count(probe)

    def count(self, probe: Probe) -> None:
        """A record of this push that is no evidence (invalid) still fills the blocks of its keys."""
        for key in probe.key_set:
            self.block[key] = self.block.get(key, 0) + 1

    def add_orphan(self, enrollment_id: str, probe: Probe) -> None:
        """An invalid enrolment of this push that matched nobody: a later valid one may still claim it."""
        self.orphans[enrollment_id] = Orphan(enrollment_id, probe.person)
        for key in probe.key_set:
            self.orphans_by_key.setdefault(key, set()).add(enrollment_id)
        self.count(probe)

    def claim_orphans(self, probe: Probe, worker_id: str) -> None:
        """Waiting enrolments sharing a key with this valid one, and matching it, become ``worker_id``'s."""
        ids: set[str] = set()
        for key in probe.key_set:
            if self._usable(key):
                ids |= self.orphans_by_key.get(key, set())
        for oid in sorted(ids):
            orphan = self.orphans.get(oid)
            if orphan is None:
                continue
            self.pairs += 1
            verdict = judge(self.config, orphan.person, probe.person)
            if verdict.outcome == LINK and (orphan.claim is None or verdict.probability > orphan.claim[0]):
                orphan.claim = (verdict.probability, worker_id)
