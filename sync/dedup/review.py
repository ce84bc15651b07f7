"""Read side of duplicate review: scoped queries for enrolments, workers and candidates (API.md §5).

Scope is in the query itself: an agent sees its own enrolments, a supervisor those of its branch, an
admin everything. Anything outside the scope is ``NotFound``, like something that does not exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from ..clock import now_ms
from ..errors import NotFound
from ..models import AccessLog, Enrollment, Worker
from ..models.dedup import DuplicateCandidate, WorkerMerge
from ..pagination import Page, paginate
from ..pii import PiiProtector
from ..principal import Principal
from ..writes import load_by_ids

ENROLLMENT_FIELDS = (
    "id", "agent_id", "branch_id", "nik_masked", "full_name", "birth_date", "sex", "phone_masked", "occupation",
    "village", "status", "status_reason", "worker_id", "duplicate_of", "credited_agent_id", "server_created_at",
    "last_modified",
)  # fmt: skip
WORKER_FIELDS = (
    "id", "full_name", "nik_masked", "birth_date", "sex", "phone_masked", "occupation", "village",
    "membership_status", "enrolled_by_agent_id", "enrolled_at", "deleted_at",
)  # fmt: skip


def enrollment_scope(principal: Principal) -> list:
    if principal.is_admin:
        return []
    if principal.role == "supervisor":
        return [Enrollment.branch_id == principal.branch_id]
    return [Enrollment.agent_id == principal.user_id]


@dataclass
class EnrollmentFilters:
    status: str | None = None
    branch_id: str | None = None
    agent_id: str | None = None
    worker_id: str | None = None
    date_from: int | None = None
    date_to: int | None = None


def list_enrollments(session: Session, *, principal: Principal, filters: EnrollmentFilters, limit: int, cursor):
    """Enrolments in scope, newest first; a filter outside the scope simply matches nothing."""
    query = select(Enrollment).where(Enrollment.deleted_at.is_(None), *enrollment_scope(principal))
    for name in ("status", "branch_id", "agent_id", "worker_id"):
        if getattr(filters, name) is not None:
            query = query.where(getattr(Enrollment, name) == getattr(filters, name))
    if filters.date_from is not None:
        query = query.where(Enrollment.server_created_at >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(Enrollment.server_created_at <= filters.date_to)
    return paginate(
        session, query, sort_column=Enrollment.server_created_at, id_column=Enrollment.id, limit=limit, cursor=cursor
    )


def enrollment_json(e: Enrollment) -> dict:
    return {name: getattr(e, name) for name in ENROLLMENT_FIELDS}


def worker_in_scope(session: Session, principal: Principal, worker_id: str) -> Worker:
    """The worker if one of its enrolments (or an enrolment merged out of it) is in scope, else NotFound."""
    worker = session.get(Worker, worker_id)
    if worker is None:
        raise NotFound("no such worker")
    if principal.is_admin:
        return worker
    linked = exists().where(Enrollment.worker_id == worker_id, *enrollment_scope(principal))
    if session.execute(select(linked)).scalar():
        return worker
    merged = session.execute(
        select(WorkerMerge.snapshot).where(or_(WorkerMerge.absorbed_worker_id == worker_id))
    ).scalars()
    ids = {eid for snap in merged for eid in json.loads(snap)["enrollments"]}
    if (
        ids
        and session.execute(
            select(exists().where(Enrollment.id.in_(sorted(ids)), *enrollment_scope(principal)))
        ).scalar()
    ):
        return worker
    raise NotFound("no such worker")


def worker_detail(session: Session, *, principal: Principal, worker_id: str, pii: PiiProtector) -> dict:
    """The person with its enrolments; an admin also gets the full NIK, and that view is logged."""
    worker = worker_in_scope(session, principal, worker_id)
    body = {name: getattr(worker, name) for name in WORKER_FIELDS}
    scope = [] if principal.role != "agent" else enrollment_scope(principal)
    rows = session.execute(
        select(Enrollment)
        .where(Enrollment.worker_id == worker_id, Enrollment.deleted_at.is_(None), *scope)
        .order_by(Enrollment.server_created_at, Enrollment.id)
    ).scalars()
    body["enrollments"] = [enrollment_json(e) for e in rows]
    body["nik"] = None
    if principal.is_admin:
        body["nik"] = pii.decrypt(worker.nik_encrypted, row_id=worker.id)
        session.add(
            AccessLog(
                at=now_ms(),
                user_id=principal.user_id,
                action="view_nik",
                subject_table="workers",
                subject_id=worker.id,
                detail="GET /api/v1/workers/{id}",
            )
        )
    return body


def candidate_scope(principal: Principal) -> list:
    if principal.is_admin:
        return []
    if principal.role == "supervisor":
        return [
            or_(
                DuplicateCandidate.branch_id == principal.branch_id,
                DuplicateCandidate.other_branch_id == principal.branch_id,
            )
        ]
    return [DuplicateCandidate.id.is_(None)]  # agents review nothing


def get_candidate(session: Session, *, principal: Principal, candidate_id: str) -> DuplicateCandidate:
    cand = session.execute(
        select(DuplicateCandidate).where(DuplicateCandidate.id == candidate_id, *candidate_scope(principal))
    ).scalar_one_or_none()
    if cand is None:
        raise NotFound("no such duplicate candidate")
    return cand


def list_candidates(session: Session, *, principal: Principal, status: str, limit: int, cursor) -> Page:
    query = select(DuplicateCandidate).where(DuplicateCandidate.status == status, *candidate_scope(principal))
    return paginate(
        session,
        query,
        sort_column=DuplicateCandidate.created_at,
        id_column=DuplicateCandidate.id,
        limit=limit,
        cursor=cursor,
    )


def candidates_json(session: Session, candidates: list[DuplicateCandidate]) -> list[dict]:
    """Both sides of each candidate (masked), score and reasons; enrolments and workers loaded in two queries."""
    eids = {c.enrollment_id for c in candidates} | {c.other_enrollment_id for c in candidates if c.other_enrollment_id}
    wids = {c.worker_id for c in candidates if c.worker_id} | {c.other_worker_id for c in candidates}
    enrolments = load_by_ids(session, Enrollment, eids, *(getattr(Enrollment, n) for n in ENROLLMENT_FIELDS))
    workers = load_by_ids(session, Worker, wids, *(getattr(Worker, n) for n in WORKER_FIELDS))
    out = []
    for c in candidates:
        out.append({
            "id": c.id,
            "status": c.status,
            "score": c.score,
            "match_weight": c.match_weight,
            "reasons": json.loads(c.reasons),
            "created_at": c.created_at,
            "decided_at": c.decided_at,
            "decided_by": c.decided_by,
            "note": c.note,
            "enrollment": enrolments.get(c.enrollment_id),
            "worker": workers.get(c.worker_id) if c.worker_id else None,
            "other_enrollment": enrolments.get(c.other_enrollment_id) if c.other_enrollment_id else None,
            "other_worker": workers.get(c.other_worker_id),
        })  # fmt: skip
    return out
