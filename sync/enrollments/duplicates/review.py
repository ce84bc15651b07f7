"""Read side of duplicate review: scoped queries for enrolments, workers and candidates (docs/api.md).

Scope is in the query itself (``sync.accounts.scope``): an agent sees its own enrolments, a supervisor those of
its branch, an admin everything. Anything outside the scope is ``NotFound``, like something that does not
exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.enrollments.duplicates.merge import latest_merge
from sync.errors import NotFound
from sync.models import AccessLog, Enrollment, Worker
from sync.models.dedup import DuplicateCandidate, WorkerMerge
from sync.pagination import Page, paginate
from sync.pii import PiiProtector
from sync.protocol.clock import now_ms
from sync.writes import load_by_ids

ENROLLMENT_FIELDS = (
    "id", "agent_id", "branch_id", "nik_masked", "full_name", "birth_date", "sex", "phone_masked", "occupation",
    "village", "status", "status_reason", "worker_id", "duplicate_of", "credited_agent_id", "server_created_at",
    "last_modified",
)  # fmt: skip
WORKER_FIELDS = (
    "id", "full_name", "nik_masked", "birth_date", "sex", "phone_masked", "occupation", "village",
    "membership_status", "enrolled_by_agent_id", "enrolled_at", "deleted_at",
)  # fmt: skip


@dataclass
class EnrollmentFilters:
    status: str | None = None
    branch_id: str | None = None
    agent_id: str | None = None
    worker_id: str | None = None
    date_from: int | None = None
    date_to: int | None = None


def enrollment_conditions(principal: Principal, filters: EnrollmentFilters) -> list[ColumnElement[bool]]:
    """The WHERE of an enrolment list or export for these filters, scope first; a filter outside the scope
    simply matches nothing.

    ``worker_id`` matches only a worker the caller may see: an invalid enrolment linked to someone else's
    person must not confirm that the person exists.
    """
    where = [scope.enrollments(principal)]
    for name in ("status", "branch_id", "agent_id", "worker_id"):
        if getattr(filters, name) is not None:
            where.append(getattr(Enrollment, name) == getattr(filters, name))
    if filters.worker_id is not None:
        where.append(exists().where(Worker.id == filters.worker_id, scope.workers(principal)))
    if filters.date_from is not None:
        where.append(Enrollment.server_created_at >= filters.date_from)
    if filters.date_to is not None:
        where.append(Enrollment.server_created_at <= filters.date_to)
    return where


def list_enrollments(session: Session, *, principal: Principal, filters: EnrollmentFilters, limit: int, cursor):
    """Enrolments in scope matching ``filters`` (``enrollment_conditions``), newest first."""
    query = select(Enrollment).where(*enrollment_conditions(principal, filters))
    return paginate(
        session, query, sort_column=Enrollment.server_created_at, id_column=Enrollment.id, limit=limit, cursor=cursor
    )


def enrollment_json(e: Enrollment) -> dict:
    return {name: getattr(e, name) for name in ENROLLMENT_FIELDS}


def enrollments_json(session: Session, principal: Principal, rows: list[Enrollment]) -> list[dict]:
    """Enrolments as the caller may read them: an invalid enrolment's link to a person the caller may not
    see (a NIK typed alone matched someone else's) is left out, ``worker_id`` and ``duplicate_of`` both."""
    guarded = [e for e in rows if scope.link_shown_only_if_visible(e.status, e.worker_id)]
    linked = {e.worker_id for e in guarded if e.worker_id}
    visible = scope.visible_worker_ids(session, principal, linked) if linked else set()
    hidden = {e.id for e in guarded if e.worker_id not in visible}
    out = []
    for e in rows:
        body = enrollment_json(e)
        if e.id in hidden:
            body["worker_id"] = body["duplicate_of"] = None
        out.append(body)
    return out


def get_worker(session: Session, principal: Principal, worker_id: str) -> Worker:
    """The worker if the caller may see it (``sync.accounts.scope.workers``), else ``NotFound``."""
    worker = session.execute(
        select(Worker).where(Worker.id == worker_id, scope.workers(principal))
    ).scalar_one_or_none()
    if worker is None:
        raise NotFound("no such worker")
    return worker


def merge_to_undo(session: Session, principal: Principal, worker_id: str, merge_id: str | None) -> WorkerMerge:
    """The latest merge into or out of this worker (or ``merge_id``) if the caller reaches its survivor."""
    merge_row = latest_merge(session, worker_id, merge_id)
    if (
        merge_row is None
        or not session.execute(select(exists().where(WorkerMerge.id == merge_row.id, scope.merges(principal)))).scalar()
    ):
        raise NotFound("this worker has no merge to undo in your scope")
    return merge_row


def worker_detail(session: Session, *, principal: Principal, worker_id: str, pii: PiiProtector) -> dict:
    """The person with its enrolments in the caller's scope; an admin also gets the full NIK, and that view
    is logged."""
    worker = get_worker(session, principal, worker_id)
    body = {name: getattr(worker, name) for name in WORKER_FIELDS}
    rows = session.execute(
        select(Enrollment)
        .where(Enrollment.worker_id == worker_id, scope.enrollments(principal))
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


def get_candidate(session: Session, *, principal: Principal, candidate_id: str) -> DuplicateCandidate:
    cand = session.execute(
        select(DuplicateCandidate).where(DuplicateCandidate.id == candidate_id, scope.duplicate_candidates(principal))
    ).scalar_one_or_none()
    if cand is None:
        raise NotFound("no such duplicate candidate")
    return cand


def list_candidates(session: Session, *, principal: Principal, status: str, limit: int, cursor) -> Page:
    query = select(DuplicateCandidate).where(DuplicateCandidate.status == status, scope.duplicate_candidates(principal))
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
