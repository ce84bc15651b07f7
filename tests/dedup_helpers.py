"""Helpers for duplicate-resolution tests: push enrolments as an agent (``tests.factories.push_as``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.models import Enrollment, Worker
from sync.models.dedup import DuplicateCandidate
from tests.factories import enrollment, push_as

TODAY = dt.date(2025, 6, 1)


def push_enrollments(session: Session, user, pii, *records) -> dict:
    """Push ``records`` as created by ``user``, on ``TODAY``, and commit; returns the enrolments' results."""
    outcome = push_as(session, pii, user, {"enrollments": {"created": list(records)}}, today=TODAY)
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
