"""Helpers for duplicate-resolution tests: push enrolments as an agent (``tests.factories.push_as``), and one
person as matching sees it (``comparable``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.enrollments.duplicates.compare import Person
from sync.enrollments.duplicates.normalize import name_tokens, nik_digits, parse_date, village_key
from sync.models import Enrollment, Worker
from sync.models.dedup import DuplicateCandidate
from tests.factories import enrollment, push_as

TODAY = dt.date(2025, 6, 1)
# One fisherman as matching compares him: every field present, the same as ``person()`` pushes.
COMPARABLE = {
    "nik": "3215011203850007",
    "name": "Muhammad Yusuf",
    "birth": "1985-03-12",
    "sex": "M",
    "phone": "phone-a",
    "village": "Cilamaya",
    "address": "Jl. Pelabuhan No. 3 RT 02/RW 05",
    "occupation": "nelayan",
}


def push_enrollments(session: Session, user, pii, *records) -> dict:
    """Push ``records`` as created by ``user``, on ``TODAY``, and commit; returns the enrolments' results."""
    outcome = push_as(session, pii, user, {"enrollments": {"created": list(records)}}, today=TODAY)
    return outcome.results["enrollments"]


def update_enrollments(session: Session, user, pii, *records) -> dict:
    """Push ``records`` as updated by ``user`` (a phone that has pulled everything), on ``TODAY``; committed."""
    outcome = push_as(
        session, pii, user, {"enrollments": {"updated": list(records)}}, last_pulled_at=10**13, today=TODAY
    )
    return outcome.results["enrollments"]


def comparable(**changes) -> Person:
    """``COMPARABLE`` with ``changes`` (raw values), normalised as matching normalises a stored record."""
    values = COMPARABLE | changes
    return Person.build(
        nik=nik_digits(values["nik"]),
        tokens=name_tokens(values["name"]),
        birth=parse_date(values["birth"]),
        sex=values["sex"],
        phone_index=values["phone"],
        village=village_key(values["village"]),
        address=values["address"],
        occupation=values["occupation"],
    )


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
