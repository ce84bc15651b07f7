"""Two agents push the same person at the same moment: exactly one enrolment becomes the first."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.models import Enrollment, Worker
from sync.protocol.push import push
from tests.dedup_helpers import TODAY, person
from tests.factories import changes, principal_of


def test_concurrent_pushes_of_one_person_make_one_first(engine, world, pii):
    """Each thread pushes the same fisherman in its own session; the clock's row lock serialises the pushes,
    so one enrolment is verified and credited, the other is its duplicate, and there is one worker."""
    if engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL row locks (set TEST_DATABASE_URL)")
    records = {world.agent_a.id: person(), world.agent_b.id: person(full_name="Muhamad Yusuf")}
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(user):
        try:
            with Session(engine) as session:
                barrier.wait()
                push(
                    session,
                    principal=principal_of(user),
                    changes=changes(enrollments={"created": [records[user.id]]}),
                    last_pulled_at=10**13,
                    pii=pii,
                    today=TODAY,
                )
                session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(u,)) for u in (world.agent_a, world.agent_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with Session(engine) as session:
        rows = session.execute(select(Enrollment).order_by(Enrollment.server_created_at)).scalars().all()
        assert [r.status for r in rows] == ["verified", "duplicate"]
        assert rows[1].duplicate_of == rows[0].id
        assert {r.credited_agent_id for r in rows} == {rows[0].agent_id}
        assert len(session.execute(select(Worker)).scalars().all()) == 1
