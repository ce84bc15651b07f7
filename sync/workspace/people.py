"""A person's history for the duplicate pages: the person, their enrolments and every merge into or out
of them, with who decided it and why, and whether it was undone (``sync.enrollments.duplicates.merge``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.enrollments.duplicates.review import get_worker
from sync.models import Enrollment, User, Worker
from sync.models.dedup import DuplicateCandidate, WorkerMerge


@dataclass(frozen=True)
class MergeEntry:
    merge: WorkerMerge
    candidate: DuplicateCandidate | None
    other_worker_id: str | None  # the person on the other side of the merge
    created_by: str | None  # usernames
    undone_by: str | None


@dataclass(frozen=True)
class PersonHistory:
    worker: Worker
    enrollments: list[Enrollment]
    merges: list[MergeEntry]

    @property
    def can_unmerge(self) -> bool:
        return any(entry.merge.undone_at is None for entry in self.merges)


def history(session: Session, *, principal: Principal, worker_id: str) -> PersonHistory:
    """The person if the caller may see them (else ``NotFound``), enrolments and merges in scope, newest first."""
    worker = get_worker(session, principal, worker_id)
    enrollments = list(
        session.execute(
            select(Enrollment)
            .where(Enrollment.worker_id == worker_id, scope.enrollments(principal))
            .order_by(Enrollment.server_created_at, Enrollment.id)
        ).scalars()
    )
    merges = list(
        session.execute(
            select(WorkerMerge)
            .where(
                or_(WorkerMerge.survivor_worker_id == worker_id, WorkerMerge.absorbed_worker_id == worker_id),
                scope.merges(principal),
            )
            .order_by(WorkerMerge.created_at.desc(), WorkerMerge.id.desc())
        ).scalars()
    )
    candidate_ids = [m.candidate_id for m in merges if m.candidate_id]
    candidates = {
        c.id: c
        for c in session.execute(select(DuplicateCandidate).where(DuplicateCandidate.id.in_(candidate_ids))).scalars()
    }
    user_ids = {u for m in merges for u in (m.created_by, m.undone_by) if u}
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all())
    entries = [
        MergeEntry(
            merge=m,
            candidate=candidates.get(m.candidate_id) if m.candidate_id else None,
            other_worker_id=m.absorbed_worker_id if m.survivor_worker_id == worker_id else m.survivor_worker_id,
            created_by=names.get(m.created_by) if m.created_by else None,
            undone_by=names.get(m.undone_by) if m.undone_by else None,
        )
        for m in merges
    ]
    return PersonHistory(worker, enrollments, entries)
