"""Linking enrolments to canonical workers during a push, with the duplicate-matching engine.

For each enrolment the candidate pool (``sync.enrollments.duplicates.matcher``) gives the workers it resembles. The
best one decides: **link** (the same person: ``duplicate`` of the person's first valid enrolment, whose
agent keeps the credit), **review** (a new person for now, with an open candidate for the supervisor;
the enrolment stays ``verified``), or **new person**. Invalid enrolments only point at a person they
clearly match and never create one; one that matches nobody waits without a person until a valid
enrolment of its person claims it (at a later push, or the sweep's). Every pushed enrolment's blocking
keys go to the candidate store (``match_keys``) with it. NIKs already in the BPJS registry make the
enrolment ``duplicate`` ("already a BPU member"). Credits are recomputed for every person touched
(``sync.enrollments.duplicates.merge``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from sync.enrollments.duplicates import store
from sync.enrollments.duplicates.compare import Person
from sync.enrollments.duplicates.identity import worker_identity
from sync.enrollments.duplicates.matcher import CandidatePool, Known, Probe, make_probe, person_of
from sync.enrollments.duplicates.merge import recompute_people
from sync.enrollments.duplicates.model import LINK, DedupConfig
from sync.models import Enrollment, ScopeExit, Worker, new_id
from sync.models.dedup import DedupDecision, DuplicateCandidate, RegistryEntry, WorkerMerge
from sync.protocol.context import PushContext
from sync.protocol.statuses import (
    DUPLICATE_REASON,
    GRANTING,
    REGISTRY_REASON,
    VERIFIED_REASON,
    EnrollmentStatus,
    correction_reason,
    duplicate_reason,
)
from sync.writes import chunked, in_ids, save_rows

VERIFIED, DUPLICATE, NEEDS_CORRECTION = (
    EnrollmentStatus.VERIFIED,
    EnrollmentStatus.DUPLICATE,
    EnrollmentStatus.NEEDS_CORRECTION,
)
IDENTITY = ("nik_index", "full_name", "birth_date", "sex", "phone_index", "village")  # what a worker row copies
MAX_REVIEW_CANDIDATES = 3
SAME_NIK_REASON = "same NIK: credited once until a supervisor decides"


@dataclass
class PushPeople:
    """Everything duplicate resolution writes for one push, saved in ``finish``."""

    workers: list[dict] = field(default_factory=list)
    worker_updates: list[dict] = field(default_factory=list)
    candidates: list[dict] = field(default_factory=list)
    merges: list[dict] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)
    keys: dict[str, set[str]] = field(default_factory=dict)  # enrolment id → its blocking keys
    touched: set[str] = field(default_factory=set)


def new_worker_row(ctx: PushContext, row: dict, nik: str, phone_e164: str | None, registry_status: str | None) -> dict:
    """A worker made from its first enrolment; PII encrypted under the worker's own id."""
    wid = new_id()
    return {
        "id": wid,
        "server_created_at": ctx.stamp,
        "last_modified": ctx.stamp,
        "deleted_at": None,
        "created_by_device": None,
        "occupation": row["occupation"],
        "membership_status": registry_status or "registered",
        "registry_status": registry_status,
        "enrolled_by_agent_id": ctx.principal.user_id,
        "enrolled_at": ctx.stamp,
        **worker_identity(ctx.pii, wid, row, nik=nik, phone_e164=phone_e164),
    }


@dataclass
class PendingEnrollment:
    """A pushed enrolment on its way to the database: its row (identity and device columns filled, link
    columns not yet), the stored row before this push, and what validation found. ``nik`` is the NIK as
    matching reads what was typed (``normalize.nik_digits``): the 16 digits whenever the enrolment is valid."""

    row: dict
    prev: dict | None
    errors: dict[str, list[str]]
    nik: str
    phone_e164: str | None

    @property
    def valid(self) -> bool:
        return not self.errors


def link_and_save(session: Session, ctx: PushContext, pending: list[PendingEnrollment]) -> None:
    """The one way a push writes its enrolments, in the only order that works:

    probe and load candidates → resolve each (status, person, credit) and stamp its link → let valid ones
    claim waiting invalid ones → save new and refreshed workers → save the enrolments and their keys →
    write candidates, merges and decisions and recompute every touched person's credit. The rows end as
    stored.
    """
    people = People(session, ctx)
    probes = [people._probe(p) for p in pending]
    people._load(probes, {p.row["id"] for p in pending})
    for item, probe in zip(pending, probes, strict=True):
        people._resolve(item, probe)
        _stamp_link(session, ctx, item)
    rows = {item.row["id"]: item.row for item in pending}
    people._settle_orphans(rows)
    people._save_workers()
    save_rows(session, Enrollment, list(rows.values()), {item.row["id"] for item in pending if item.prev is not None})
    store.save_keys(session, people.out.keys, new={item.row["id"] for item in pending if item.prev is None})
    for rid, values in people._finish().items():  # credits recomputed for every person touched
        if rid in rows:
            rows[rid].update(values)


def _stamp_link(session: Session, ctx: PushContext, item: PendingEnrollment) -> None:
    """``valid_since``, ``worker_linked_at`` and, when the person may leave the agent's replica, a scope exit."""
    row, prev = item.row, item.prev
    before = prev or {}
    was_valid = prev is not None and before.get("deleted_at") is None and before["status"] in GRANTING
    row["valid_since"] = (before["valid_since"] if was_valid else ctx.stamp) if row["status"] in GRANTING else None
    relinked = prev is None or before.get("deleted_at") is not None or before.get("worker_id") != row["worker_id"]
    # Becoming valid is what opens the person to the agent (sync.accounts.scope): it counts as a new link.
    opened = row["status"] in GRANTING and not was_valid
    row["worker_linked_at"] = ctx.stamp if relinked or opened else before.get("worker_linked_at")
    left = before.get("worker_id") and (before["worker_id"] != row["worker_id"] or row["status"] not in GRANTING)
    if left and (relinked or was_valid):
        # The old person may leave this agent's replica: the pull sends a deletion unless still linked.
        session.add(
            ScopeExit(
                agent_id=ctx.principal.user_id, table_name="workers", record_id=before["worker_id"], stamp=ctx.stamp
            )
        )


class People:
    """Duplicate resolution for the enrolments of one push (set-based: a few queries per chunk of records).

    Its steps are private: only ``link_and_save`` drives them, in the one order that works.
    """

    def __init__(self, session: Session, ctx: PushContext, config: DedupConfig | None = None):
        self.session, self.ctx = session, ctx
        self.pool = CandidatePool(session, ctx.pii, config or ctx.settings.dedup)  # the push's model
        self.out = PushPeople()
        self.registry: dict[str, str] = {}

    def _probe(self, item: PendingEnrollment) -> Probe:
        row = item.row
        person: Person = person_of(
            nik=item.nik,
            full_name=row.get("full_name"),
            birth_date=row.get("birth_date"),
            sex=row.get("sex"),
            phone_index=self.ctx.pii.blind_index("phone", item.phone_e164),
            village=row.get("village"),
            address=row.get("address"),
            occupation=row.get("occupation"),
        )
        probe = make_probe(person, self.ctx.pii)
        self.out.keys[row["id"]] = probe.key_set
        return probe

    def _load(self, probes: list[Probe], pushed_ids: set[str]) -> None:
        """Candidate people and waiting enrolments for every probe, and which NIKs are BPJS members."""
        self.pool.load(probes, pushed_ids=pushed_ids)
        niks = sorted({index for p in probes if (index := self._registry_index(p))})
        for part in chunked(niks):
            rows = self.session.execute(
                select(RegistryEntry.nik_index, RegistryEntry.membership_status).where(
                    in_ids(self.session, RegistryEntry.nik_index, part)
                )
            )
            self.registry.update({nik: status for nik, status in rows})

    def _registry_index(self, probe: Probe) -> str | None:
        """The blind index the BPJS registry is keyed by (a complete NIK only)."""
        nik = probe.person.nik
        return self.ctx.pii.blind_index("nik", nik) if len(nik) == 16 else None

    def _resolve(self, item: PendingEnrollment, probe: Probe) -> None:
        """Set ``status``, ``status_reason``, ``worker_id``, ``duplicate_of``, ``credited_agent_id`` on the row."""
        self._decide(item.row, item.prev, valid=item.valid, probe=probe, nik=item.nik, phone_e164=item.phone_e164)
        row = item.row
        if row["status"] == NEEDS_CORRECTION:
            row["status_reason"] = correction_reason(item.errors)
        elif not row.get("status_reason"):
            row["status_reason"] = VERIFIED_REASON if row["status"] == VERIFIED else DUPLICATE_REASON

    def _decide(
        self, row: dict, prev: dict | None, *, valid: bool, probe: Probe, nik: str, phone_e164: str | None
    ) -> None:
        row.update(status_reason=None, worker_id=None, duplicate_of=None, credited_agent_id=None)
        linked = prev is not None and prev.get("deleted_at") is None and prev.get("worker_id")
        if prev is not None and linked and prev["status"] in GRANTING and valid:
            self._keep(row, prev, nik, phone_e164, probe)
            return
        if prev is not None and linked and prev["status"] in GRANTING:
            self.out.touched.add(prev["worker_id"])  # it may have been the person's first: recompute credit
        ranked = self.pool.rank(probe)
        top = ranked[0] if ranked else None
        if not valid:
            row["status"] = NEEDS_CORRECTION  # may point at a known person, never creates one
            if top and top.verdict.outcome == LINK:
                row["worker_id"] = top.worker.id
                self.pool.count(probe)  # no evidence for the records after it
            else:
                self.pool.add_orphan(row["id"], probe)
            return
        registry = self.registry.get(self._registry_index(probe) or "")
        if top and top.verdict.outcome == LINK:
            self._link(row, top, registry, probe)
        else:
            self._new_person(row, probe, nik, phone_e164, registry, ranked)
        self.pool.claim_orphans(probe, row["worker_id"])

    def _keep(self, row: dict, prev: dict, nik: str, phone_e164: str | None, probe: Probe) -> None:
        """An edit of a linked enrolment keeps its person; the person's source record refreshes it."""
        for name in ("status", "status_reason", "worker_id", "duplicate_of", "credited_agent_id"):
            row[name] = prev[name]
        if prev["status"] == VERIFIED and any(row.get(k) != prev.get(k) for k in IDENTITY):
            wid = prev["worker_id"]
            identity = worker_identity(self.ctx.pii, wid, row, nik=nik, phone_e164=phone_e164)
            self.out.worker_updates.append({"id": wid, "last_modified": self.ctx.stamp, **identity})
            if row.get("nik_index") != prev.get("nik_index"):
                self._same_nik(row, wid, probe, skip=self._paired(wid))
        known = self.pool.known.get(prev["worker_id"])
        if known is not None:
            self.pool.attach(known, probe)
        else:
            self.pool.count(probe)

    def _link(self, row: dict, top, registry: str | None, probe: Probe) -> None:
        worker: Known = top.worker
        me = self.ctx.principal
        row["worker_id"] = worker.id
        self.pool.attach(worker, probe)
        reasons = ", ".join(top.verdict.reasons)
        if registry or worker.registry_status:
            row.update(status=DUPLICATE, status_reason=REGISTRY_REASON)
        elif worker.first and worker.first[0] != row["id"]:
            row.update(
                status=DUPLICATE,
                duplicate_of=worker.first[0],
                credited_agent_id=worker.first[1],
                status_reason=duplicate_reason(worker.first[0], reasons),
            )
        else:
            row.update(status=VERIFIED, credited_agent_id=me.user_id)
            worker.first = (row["id"], me.user_id, me.branch_id)
        self.out.touched.add(worker.id)
        cid, mid = new_id(), new_id()
        self.out.candidates.append(
            self._candidate(cid, row, None, worker, top.verdict, status="merged") | {"merge_id": mid}
        )
        self.out.merges.append(
            {
                "id": mid,
                "survivor_worker_id": worker.id,
                "absorbed_worker_id": None,
                "candidate_id": cid,
                "snapshot": json.dumps({"enrollments": {row["id"]: None}}),
                "created_at": self.ctx.stamp,
                "created_by": None,
                "undone_at": None,
                "undone_by": None,
            }
        )
        self.out.decisions.append(
            {
                "candidate_id": cid,
                "merge_id": mid,
                "action": "auto_link",
                "user_id": None,
                "at": self.ctx.stamp,
                "stamp": self.ctx.stamp,
                "note": f"p={top.verdict.probability:.4f}: {reasons}",
            }
        )

    def _new_person(self, row, probe: Probe, nik: str, phone_e164, registry: str | None, ranked) -> None:
        me = self.ctx.principal
        worker = new_worker_row(self.ctx, row, nik, phone_e164, registry)
        self.out.workers.append(worker)
        row["worker_id"] = worker["id"]
        if registry:
            row.update(status=DUPLICATE, status_reason=REGISTRY_REASON)
            first = None
        else:
            row.update(status=VERIFIED, credited_agent_id=me.user_id)
            first = (row["id"], me.user_id, me.branch_id)
        self.pool.attach(Known(worker["id"], first=first, registry_status=registry), probe)
        if registry:
            return
        for scored in ranked[:MAX_REVIEW_CANDIDATES]:
            self.out.candidates.append(self._candidate(new_id(), row, worker["id"], scored.worker, scored.verdict))
        self._same_nik(row, worker["id"], probe, skip={s.worker.id for s in ranked[:MAX_REVIEW_CANDIDATES]})

    def _same_nik(self, row: dict, worker_id: str, probe: Probe, *, skip: set[str]) -> None:
        """People holding this very NIK get an open candidate whatever their score: one NIK earns contest
        credit once until a supervisor decides the pair (docs/api.md "Contest"), so the pair must reach
        the queue, even when everything else differs (a NIK typed for the wrong person)."""
        key = probe.keys.get("nik")
        if not key or len(probe.person.nik) != 16:
            return
        for other_id in sorted(self.pool.by_key.get(key, set()) - skip - {worker_id}):
            other = self.pool.known[other_id]
            verdict = self.pool.verdict(probe, other)
            verdict.reasons = [*verdict.reasons, SAME_NIK_REASON]
            self.out.candidates.append(self._candidate(new_id(), row, worker_id, other, verdict))

    def _paired(self, worker_id: str) -> set[str]:
        """The people this one already has a candidate with (open or decided), either side."""
        pairs = self.session.execute(
            select(DuplicateCandidate.worker_id, DuplicateCandidate.other_worker_id).where(
                (DuplicateCandidate.worker_id == worker_id) | (DuplicateCandidate.other_worker_id == worker_id)
            )
        )
        return {a if b == worker_id else b for a, b in pairs if a and b}

    def _candidate(self, cid: str, row: dict, worker_id, other: Known, verdict, status: str = "open") -> dict:
        return {
            "id": cid,
            "enrollment_id": row["id"],
            "worker_id": worker_id,
            "other_worker_id": other.id,
            "other_enrollment_id": other.first[0] if other.first else None,
            "branch_id": self.ctx.principal.branch_id,
            "other_branch_id": other.first[2] if other.first else None,
            "score": round(verdict.probability, 6),
            "match_weight": round(verdict.weight, 4),
            "reasons": json.dumps(verdict.reasons + [f"not linked: {b}" for b in verdict.blockers]),
            "levels": json.dumps(verdict.levels),
            "status": status,
            "created_at": self.ctx.stamp,
            "decided_at": self.ctx.stamp if status != "open" else None,
            "decided_by": None,
            "note": None,
            "merge_id": None,
        }

    def _settle_orphans(self, rows: dict[str, dict]) -> None:
        """Give claimed waiting enrolments their person: this push's rows in place, stored ones by UPDATE.

        The UPDATE only takes enrolments still without a person, so of two concurrent claims the first
        wins. Their own agents pull the change (``last_modified``) and the person (``worker_linked_at``).
        """
        stamp = self.ctx.stamp
        stored: dict[str, list[str]] = {}
        for orphan in self.pool.orphans.values():
            if orphan.claim is None:
                continue
            worker_id = orphan.claim[1]
            if orphan.id in rows:
                rows[orphan.id].update(worker_id=worker_id, worker_linked_at=stamp)
            else:
                stored.setdefault(worker_id, []).append(orphan.id)
        for worker_id, ids in stored.items():
            self.session.execute(
                update(Enrollment)
                .where(Enrollment.id.in_(ids), Enrollment.worker_id.is_(None))
                .values(worker_id=worker_id, worker_linked_at=stamp, last_modified=stamp)
            )

    def _save_workers(self) -> None:
        """New and refreshed workers; call before the enrolments are written."""
        save_rows(self.session, Worker, self.out.workers, set())
        save_rows(self.session, Worker, self.out.worker_updates, {w["id"] for w in self.out.worker_updates})

    def _finish(self) -> dict[str, dict]:
        """Write candidates, merges and decisions, recompute credits; returns changed enrolments' fates."""
        for model, rows in (
            (DuplicateCandidate, self.out.candidates),
            (WorkerMerge, self.out.merges),
            (DedupDecision, self.out.decisions),
        ):
            if rows:
                self.session.execute(insert(model), rows)
        return recompute_people(self.session, self.out.touched, self.ctx.stamp)


def relink_after_delete(session: Session, ctx: PushContext) -> None:
    """Pipeline step: a deleted enrolment may have been its person's first valid one, so the credit rule
    runs again for the people of every enrolment this push deleted (the next one becomes ``verified`` and
    credited, stamped for its agent's phone; a person left with none earns nothing)."""
    people: set[str] = set()
    for part in chunked(ctx.applied.deleted_ids("enrollments")):
        people.update(
            wid
            for wid in session.execute(
                select(Enrollment.worker_id).where(in_ids(session, Enrollment.id, part))
            ).scalars()
            if wid
        )
    if people:
        recompute_people(session, people, ctx.stamp)
