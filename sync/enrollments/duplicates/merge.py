"""Merges, distinct decisions and unmerges, and the credit rule they all restore.

Credit rule: the first valid enrolment of a person (earliest ``valid_since``, then id) is
``verified`` and credited to its agent; every later one is ``duplicate`` of it with the same credit. A
person already in the BPJS registry credits nobody. Every decision takes a sync-clock stamp, sets
``last_modified`` on each row it changes (so phones pull the outcome) and is recorded with who, when and why.
"""

from __future__ import annotations

import json

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from sync import audit
from sync.accounts.principal import Principal
from sync.contest.credit import refresh_credits
from sync.enrollments.duplicates.identity import worker_identity
from sync.enrollments.duplicates.matcher import stored_person
from sync.errors import Conflict, InvalidRequest, NotFound
from sync.models import Enrollment, ScopeExit, Worker, new_id
from sync.models.dedup import DedupDecision, DuplicateCandidate, WorkerMerge
from sync.models.records import VALID_SINCE
from sync.pii import PiiProtector
from sync.protocol.clock import next_stamp, now_ms
from sync.protocol.statuses import GRANTING, REGISTRY_REASON, VERIFIED_REASON, EnrollmentStatus, duplicate_reason
from sync.writes import chunked

LINK_COLUMNS = ("status", "status_reason", "worker_id", "duplicate_of", "credited_agent_id")


def recompute_people(session: Session, worker_ids, stamp: int) -> dict[str, dict]:
    """Re-apply the credit rule to these people; returns ``{enrolment id: new link columns}`` for changes."""
    ids = sorted(set(worker_ids))
    changed: dict[str, dict] = {}
    for part in chunked(ids):
        registry = dict(session.execute(select(Worker.id, Worker.registry_status).where(Worker.id.in_(part))).all())
        rows = session.execute(
            select(
                Enrollment.id,
                Enrollment.worker_id,
                Enrollment.agent_id,
                VALID_SINCE.label("valid_since"),
                *(getattr(Enrollment, c) for c in LINK_COLUMNS if c != "worker_id"),
            )
            .where(
                Enrollment.worker_id.in_(part),
                Enrollment.deleted_at.is_(None),
                Enrollment.status.in_(GRANTING),
            )
            # Same stamp (one push): the one already verified stays first, so push order is kept.
            .order_by(VALID_SINCE, (Enrollment.status != EnrollmentStatus.VERIFIED), Enrollment.id)
        ).mappings()
        by_worker: dict[str, list] = {}
        for row in rows:
            by_worker.setdefault(row["worker_id"], []).append(row)
        for wid, enrolments in by_worker.items():
            first = enrolments[0]
            for row in enrolments:
                if registry.get(wid):
                    target = {"status": EnrollmentStatus.DUPLICATE, "duplicate_of": None, "credited_agent_id": None}
                    reason = REGISTRY_REASON
                elif row is first:
                    target = {
                        "status": EnrollmentStatus.VERIFIED,
                        "duplicate_of": None,
                        "credited_agent_id": first["agent_id"],
                    }
                    reason = VERIFIED_REASON
                else:
                    target = {
                        "status": EnrollmentStatus.DUPLICATE,
                        "duplicate_of": first["id"],
                        "credited_agent_id": first["agent_id"],
                    }
                    reason = duplicate_reason(first["id"])
                if all(row[k] == v for k, v in target.items()):
                    continue
                changed[row["id"]] = target | {"status_reason": reason}
            if not registry.get(wid):
                session.execute(
                    update(Worker)
                    .where(Worker.id == wid, Worker.enrolled_by_agent_id != first["agent_id"])
                    .values(
                        enrolled_by_agent_id=first["agent_id"],
                        enrolled_at=first["valid_since"],
                        last_modified=stamp,
                    )
                )
    for eid, values in changed.items():
        session.execute(update(Enrollment).where(Enrollment.id == eid).values(**values, last_modified=stamp))
    refresh_credits(session, ids)  # the contest's credit rows follow (sync.contest.credit)
    return changed


def _snapshot(session: Session, where) -> dict[str, dict]:
    cols = (Enrollment.id, Enrollment.agent_id, *(getattr(Enrollment, c) for c in LINK_COLUMNS))
    return {r["id"]: dict(r) for r in session.execute(select(*cols).where(where)).mappings()}


def _record(
    session: Session, *, action: str, user_id: str | None, stamp: int, candidate_id=None, merge_id=None, note=None
):
    session.add(
        DedupDecision(
            candidate_id=candidate_id,
            merge_id=merge_id,
            action=action,
            user_id=user_id,
            at=now_ms(),
            stamp=stamp,
            note=note,
        )
    )


def _open_candidate(session: Session, candidate_id: str) -> DuplicateCandidate:
    cand = session.get(DuplicateCandidate, candidate_id, with_for_update=True, populate_existing=True)
    if cand is None:
        raise NotFound("no such duplicate candidate")
    if cand.status != "open":
        raise Conflict(f"candidate already decided ({cand.status})", errors={"decision": [f"already {cand.status}"]})
    return cand


def merge(session: Session, *, candidate: DuplicateCandidate, principal: Principal, note: str | None) -> WorkerMerge:
    """A supervisor's merge: the later person joins the earlier one (enrolments move, the later worker is
    tombstoned), written to the audit trail in the same transaction."""
    made = apply_merge(session, candidate=candidate, user_id=principal.user_id, action="merge", note=note)
    audit.record(session, principal, audit.DUPLICATE_MERGE, table="duplicate_candidates", subject_id=candidate.id)
    return made


def apply_merge(
    session: Session, *, candidate: DuplicateCandidate, user_id: str | None, action: str, note: str | None
) -> WorkerMerge:
    """``merge`` by a supervisor (``user_id``, action ``merge``) or by the sweep (None, ``auto_link``).

    Either way the merge is stamped, snapshotted for ``unmerge`` and recorded in ``dedup_decisions``.
    """
    stamp = next_stamp(session)
    cand = _open_candidate(session, candidate.id)
    survivor, absorbed = cand.other_worker_id, cand.worker_id
    live = dict(session.execute(select(Worker.id, Worker.deleted_at).where(Worker.id.in_([survivor, absorbed]))).all())
    if absorbed is None or survivor not in live or absorbed not in live or live[survivor] or live[absorbed]:
        raise Conflict("one side of this pair no longer exists", errors={"decision": ["a side was merged or deleted"]})
    moved = _snapshot(session, Enrollment.worker_id == absorbed)
    kept = _snapshot(session, Enrollment.worker_id == survivor)
    repointed = {
        c.id: {"worker_id": c.worker_id, "other_worker_id": c.other_worker_id, "status": c.status}
        for c in session.execute(
            select(DuplicateCandidate).where(
                DuplicateCandidate.id != cand.id,
                DuplicateCandidate.status == "open",
                or_(DuplicateCandidate.worker_id == absorbed, DuplicateCandidate.other_worker_id == absorbed),
            )
        ).scalars()
    }
    merge_row = WorkerMerge(
        id=new_id(),
        survivor_worker_id=survivor,
        absorbed_worker_id=absorbed,
        candidate_id=cand.id,
        snapshot=json.dumps({"enrollments": moved, "survivor_enrollments": kept, "candidates": repointed}),
        created_at=now_ms(),
        created_by=user_id,
    )
    session.add(merge_row)
    session.execute(
        update(Enrollment)
        .where(Enrollment.worker_id == absorbed)
        .values(worker_id=survivor, last_modified=stamp, worker_linked_at=stamp)
    )
    session.execute(update(Worker).where(Worker.id == absorbed).values(deleted_at=stamp, last_modified=stamp))
    for agent in sorted({r["agent_id"] for r in moved.values()}):
        session.add(ScopeExit(agent_id=agent, table_name="workers", record_id=absorbed, stamp=stamp))
    for cid, old in repointed.items():
        w = survivor if old["worker_id"] == absorbed else old["worker_id"]
        o = survivor if old["other_worker_id"] == absorbed else old["other_worker_id"]
        values: dict[str, object] = {"worker_id": w, "other_worker_id": o}
        if w == o:
            values |= {"status": "merged", "decided_at": now_ms(), "note": f"closed by merge {merge_row.id}"}
        session.execute(update(DuplicateCandidate).where(DuplicateCandidate.id == cid).values(**values))
    recompute_people(session, [survivor], stamp)
    cand.status, cand.decided_at, cand.decided_by = "merged", now_ms(), user_id
    cand.note, cand.merge_id = note, merge_row.id
    _record(
        session,
        action=action,
        user_id=user_id,
        stamp=stamp,
        candidate_id=cand.id,
        merge_id=merge_row.id,
        note=note,
    )
    session.flush()
    return merge_row


def mark_distinct(session: Session, *, candidate: DuplicateCandidate, principal: Principal, note: str | None) -> None:
    """Two different people: the pair is closed and never proposed again."""
    stamp = next_stamp(session)
    cand = _open_candidate(session, candidate.id)
    cand.status, cand.decided_at, cand.decided_by, cand.note = "distinct", now_ms(), principal.user_id, note
    session.execute(update(Enrollment).where(Enrollment.id == cand.enrollment_id).values(last_modified=stamp))
    _record(session, action="distinct", user_id=principal.user_id, stamp=stamp, candidate_id=cand.id, note=note)
    audit.record(session, principal, audit.DUPLICATE_DISTINCT, table="duplicate_candidates", subject_id=cand.id)
    session.flush()
    refresh_credits(session, [cand.worker_id, cand.other_worker_id])  # a same-NIK pair may now earn credit


def latest_merge(session: Session, worker_id: str, merge_id: str | None = None) -> WorkerMerge | None:
    """The most recent merge into or out of this worker that is not undone (or the one named)."""
    query = select(WorkerMerge).where(
        WorkerMerge.undone_at.is_(None),
        or_(WorkerMerge.survivor_worker_id == worker_id, WorkerMerge.absorbed_worker_id == worker_id),
    )
    if merge_id:
        query = query.where(WorkerMerge.id == merge_id)
    return session.execute(query.order_by(WorkerMerge.created_at.desc(), WorkerMerge.id.desc()).limit(1)).scalar()


def _worker_from_enrollment(session: Session, pii: PiiProtector, eid: str, stamp: int) -> str:
    """A new person made from an automatically linked enrolment (unmerging an automatic link)."""
    e = session.get(Enrollment, eid)
    if e is None:  # the merge snapshot names only enrolments that still exist (rows are never removed)
        raise LookupError(f"enrolment {eid} of the merge is gone")
    person = stored_person(e, pii)
    values = {"full_name": e.full_name, "birth_date": e.birth_date, "sex": e.sex, "village": e.village}
    phone = pii.decrypt(e.phone_e164, row_id=e.id)
    wid = new_id()
    identity = worker_identity(pii, wid, values, nik=person.nik, phone_e164=phone)
    session.add(
        Worker(
            id=wid,
            server_created_at=stamp,
            last_modified=stamp,
            occupation=e.occupation,
            membership_status="registered",
            enrolled_by_agent_id=e.agent_id,
            enrolled_at=stamp,
            **identity,
        )
    )
    session.flush()
    return wid


def unmerge(
    session: Session, *, merge_row: WorkerMerge, principal: Principal, pii: PiiProtector, note: str | None = None
):
    """Undo a merge: the moved enrolments, the absorbed worker and the survivor's credits as they were."""
    stamp = next_stamp(session)
    snap = json.loads(merge_row.snapshot)
    survivor = merge_row.survivor_worker_id
    moved_ids = list(snap["enrollments"])
    still = set(
        session.execute(
            select(Enrollment.id).where(Enrollment.id.in_(moved_ids), Enrollment.worker_id == survivor)
        ).scalars()
    )
    if merge_row.absorbed_worker_id:
        absorbed = merge_row.absorbed_worker_id
        session.execute(update(Worker).where(Worker.id == absorbed).values(deleted_at=None, last_modified=stamp))
        for eid, old in snap["enrollments"].items():
            if eid in still:
                values = {c: old[c] for c in LINK_COLUMNS}
                session.execute(
                    update(Enrollment)
                    .where(Enrollment.id == eid)
                    .values(**values, last_modified=stamp, worker_linked_at=stamp)
                )
        for eid, old in snap.get("survivor_enrollments", {}).items():
            values = {c: old[c] for c in LINK_COLUMNS}
            session.execute(
                update(Enrollment)
                .where(Enrollment.id == eid, Enrollment.worker_id == survivor)
                .where(
                    or_(
                        *(getattr(Enrollment, c) != v for c, v in values.items() if v is not None),
                        *(getattr(Enrollment, c).is_not(None) for c, v in values.items() if v is None),
                    )
                )
                .values(**values, last_modified=stamp)
            )
        for cid, old in snap.get("candidates", {}).items():
            session.execute(update(DuplicateCandidate).where(DuplicateCandidate.id == cid).values(**old))
        restored = [absorbed]
    else:
        restored = []
        for eid in sorted(still):
            wid = _worker_from_enrollment(session, pii, eid, stamp)
            session.execute(
                update(Enrollment)
                .where(Enrollment.id == eid)
                .values(worker_id=wid, last_modified=stamp, worker_linked_at=stamp)
            )
            restored.append(wid)
    agents = session.execute(select(Enrollment.agent_id).where(Enrollment.id.in_(sorted(still)))).scalars()
    for agent in sorted(set(agents)):
        session.add(ScopeExit(agent_id=agent, table_name="workers", record_id=survivor, stamp=stamp))
    recompute_people(session, [survivor, *restored], stamp)
    merge_row.undone_at, merge_row.undone_by = now_ms(), principal.user_id
    if merge_row.candidate_id:
        session.execute(
            update(DuplicateCandidate)
            .where(DuplicateCandidate.id == merge_row.candidate_id)
            .values(status="distinct", decided_at=now_ms(), decided_by=principal.user_id, note=note or "unmerged")
        )
        refresh_credits(session, [survivor, *restored])  # the pair is now decided: a shared NIK counts twice
    _record(
        session,
        action="unmerge",
        user_id=principal.user_id,
        stamp=stamp,
        candidate_id=merge_row.candidate_id,
        merge_id=merge_row.id,
        note=note,
    )
    audit.record(
        session, principal, audit.WORKER_UNMERGE, table="worker_merges", subject_id=merge_row.id,
        detail={"worker_id": survivor},
    )  # fmt: skip
    session.flush()
    return restored


def check_decision(decision: str) -> None:
    if decision not in ("merge", "distinct"):
        raise InvalidRequest("decision must be merge or distinct", errors={"decision": ["must be merge or distinct"]})
