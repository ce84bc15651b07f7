"""Regression tests for problems found in review: huge numbers, deep JSON, foreign references, scope exits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.models import FollowUp
from tests.factories import changes, enrollment, follow_up, valid_nik, visit


def test_out_of_range_numbers_are_sanitised_not_500(api, world):
    """Numbers beyond 2^53 (or overflowing floats) are dropped and reported on the record, never a 500."""
    f = follow_up(due_at=9223372036854775808, completed_at=2**64)
    e = enrollment(captured_at=2**64, monthly_income=10**400, full_name=10**30)
    v = visit(accuracy_m=1e300)
    response = api.push(
        world.agent_a, changes(follow_ups={"created": [f]}, enrollments={"created": [e]}, visits={"created": [v]}), 1
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    results = response.json["results"]
    assert "due_at" in results["follow_ups"][f["id"]]["errors"]
    assert "monthly_income" in results["enrollments"][e["id"]]["errors"]
    assert "accuracy_m" in results["visits"][v["id"]]["errors"]


def test_huge_last_pulled_at_is_422(api, world):
    for value in ("10000000000000000000000000", str(2**53)):
        assert api.pull(world.agent_a, value).status_code == 422
        assert api.push(world.agent_a, changes(), value).status_code == 422


def test_deeply_nested_json_is_400(api, world):
    body = b"[" * 200_000 + b"]" * 200_000
    headers = api.headers(world.agent_a, **{"Content-Type": "application/json"})
    assert api.client.post("/api/v1/sync/push?last_pulled_at=1", data=body, headers=headers).status_code == 400
    login = api.client.post("/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"})
    assert login.status_code == 400 and login.mimetype == "application/problem+json"


def test_follow_up_cannot_pull_a_foreign_worker(api, world):
    """An agent naming another branch's worker in a follow-up does not get that person in its replica."""
    e = enrollment()
    pushed = api.push(world.agent_a, changes(enrollments={"created": [e]}), 1)
    foreign_worker = pushed.json["results"]["enrollments"][e["id"]]["worker_id"]
    f = follow_up(worker_id=foreign_worker, enrollment_id=e["id"])
    response = api.push(world.agent_c, changes(follow_ups={"created": [f]}), 1)
    assert response.status_code == 200
    errors = response.json["results"]["follow_ups"][f["id"]]["errors"]
    assert set(errors) >= {"worker_id", "enrollment_id"}
    pulled = api.pull(world.agent_c, device="c2").json["changes"]
    assert pulled["workers"]["created"] == []
    assert pulled["follow_ups"]["created"][0]["worker_id"] is None


def test_visit_cannot_cancel_another_agents_revisits(api, world, engine):
    """A visit naming another agent's enrolment as `enrolled` leaves that agent's revisits scheduled."""
    e = enrollment()
    api.push(world.agent_a, changes(enrollments={"created": [e]}), 1)
    revisit = follow_up(enrollment_id=e["id"], kind="revisit")
    api.push(world.agent_a, changes(follow_ups={"created": [revisit]}), 1)
    attack = visit(outcome="enrolled", enrollment_id=e["id"])
    assert api.push(world.agent_b, changes(visits={"created": [attack]}), 1).status_code == 200
    with Session(engine) as session:
        status = session.execute(select(FollowUp.status).where(FollowUp.id == revisit["id"])).scalar_one()
    assert status == "scheduled"


def test_relinked_enrolment_sends_old_worker_as_deleted(api, world):
    """When an enrolment's person changes, the old person leaves the agent's replica (a pulled deletion)."""
    budi = enrollment(nik=valid_nik())
    siti = enrollment(
        nik=valid_nik(sex="F", birth=dt.date(1990, 7, 1)),
        full_name="Siti Rahayu",
        birth_date="1990-07-01",
        sex="F",
        phone="0813-1111-2222",
        village="Tempuran",
    )
    pulled, pushed = api.sync(world.agent_a, changes(enrollments={"created": [budi, siti]}))
    results = pushed.json["results"]["enrollments"]
    old_worker, siti_worker = results[budi["id"]]["worker_id"], results[siti["id"]]["worker_id"]
    mid = api.pull(world.agent_a, pulled.json["timestamp"])
    # the agent overwrites Budi's record with Siti's identity, with an invalid programme list
    changed = dict(siti, id=budi["id"], programs="JHT", _status="updated", _changed="nik,full_name")
    response = api.push(world.agent_a, changes(enrollments={"updated": [changed]}), mid.json["timestamp"])
    result = response.json["results"]["enrollments"][budi["id"]]
    assert result["status"] == "needs_correction" and result.get("worker_id") == siti_worker
    after = api.pull(world.agent_a, mid.json["timestamp"]).json["changes"]["workers"]
    assert after["deleted"] == [old_worker]
