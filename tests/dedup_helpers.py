"""Helpers for duplicate-resolution tests: push enrolments as an agent straight through ``sync.protocol.push``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.models import Enrollment, Worker
from sync.models.dedup import DuplicateCandidate
from sync.protocol.push import push
from tests.factories import changes, enrollment, principal_of

TODAY = dt.date(2025, 6, 1)


def push_enrollments(session: Session, user, pii, *records, last_pulled_at: int = 10**13) -> dict:
    """Push ``records`` as ``user`` in one transaction and commit; returns the per-record results."""
    outcome = push(
        session,
        principal=principal_of(user),
        changes=changes(enrollments={"created": list(records)}),
        last_pulled_at=last_pulled_at,
        pii=pii,
        today=TODAY,
    )
    session.commit()
    return outcome.results["enrollments"]


def person(**overrides) -> dict:
    """A fisherman's enrolment; overrides make the variants."""
    base = {
        "nik": "3215011203850007",
        "full_name": "Muhammad Yusuf",
        "birth_date": "1985-03-12",
        "sex": "M",
        "phone": "081234567890",
        "village": "Cilamaya",
        "address": "Jl. Pelabuhan 3",
    }
    return enrollment(**(base | overrides))


def row(session: Session, eid: str) -> Enrollment:
    session.expire_all()
    return session.get(Enrollment, eid)


def candidates(session: Session, status: str | None = None) -> list[DuplicateCandidate]:
    query = select(DuplicateCandidate).order_by(DuplicateCandidate.created_at, DuplicateCandidate.id)
    if status:
        query = query.where(DuplicateCandidate.status == status)
    return list(session.execute(query).scalars())


def live_workers(session: Session) -> list[Worker]:
    return list(session.execute(select(Worker).where(Worker.deleted_at.is_(None))).scalars())
