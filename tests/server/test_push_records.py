"""Idempotency keys, the push archive and replays (docs/sync.md "Idempotency-Key", §3.8)."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync.models import PushArchive, Visit
from sync.protocol.archive import read_archived
from tests.factories import changes, enrollment, visit


def count_visits(engine):
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(Visit)).scalar_one()


def test_idempotency_key_replays_stored_response(api, world, engine):
    """The same key and body returns the first response and writes nothing more."""
    body = changes(visits={"created": [visit(), visit()]}, enrollments={"created": [enrollment()]})
    first = api.push(world.agent_a, body, 1, **{"Idempotency-Key": "k-1"})
    second = api.push(world.agent_a, body, 1, **{"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 200
    assert first.json == second.json
    assert count_visits(engine) == 2


def test_idempotency_key_with_other_body_is_422(api, world):
    api.push(world.agent_a, changes(visits={"created": [visit()]}), 1, **{"Idempotency-Key": "k-2"})
    other = api.push(world.agent_a, changes(visits={"created": [visit()]}), 1, **{"Idempotency-Key": "k-2"})
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json["errors"]


def test_exact_replay_without_key_never_duplicates(api, world, engine):
    """Replaying a push (same body, same last_pulled_at) is 2xx or 409, never 5xx, never a second copy."""
    pulled = api.pull(world.agent_a)
    body = changes(visits={"created": [visit()]}, enrollments={"created": [enrollment()]})
    first = api.push(world.agent_a, body, pulled.json["timestamp"])
    replay = api.push(world.agent_a, body, pulled.json["timestamp"])
    assert first.status_code == 200
    assert replay.status_code in (200, 409)
    assert count_visits(engine) == 1
    full = api.pull(world.agent_a, device="z").json["changes"]
    assert len(full["enrollments"]["created"]) == 1 and len(full["workers"]["created"]) == 1


def test_every_push_is_archived_with_outcome(api, world, engine, pii):
    """Accepted and refused pushes are kept compressed and sealed with user, device and outcome."""
    good = changes(visits={"created": [visit()]})
    api.push(world.agent_a, good, 1)
    api.push(world.agent_a, {"nope": {}}, 1)
    api.client.post(
        "/api/v1/sync/push?last_pulled_at=1",
        data=b"{broken",
        headers=api.headers(world.agent_a, **{"Content-Type": "application/json"}),
    )
    with Session(engine) as session:
        rows = session.execute(select(PushArchive).order_by(PushArchive.id)).scalars().all()
    assert [r.status for r in rows] == [200, 422, 400]
    assert all(r.user_id == world.agent_a.id and r.device_id for r in rows)
    with Session(engine) as session:
        bodies = [read_archived(session, pii, row.id).body for row in rows]
    assert json.loads(bodies[0])["changes"] == good
    assert bodies[2] == b"{broken"
    assert all(not bytes(row.body_sealed).startswith(b"\x1f\x8b") for row in rows)  # not plain gzip
    assert rows[0].stamp and rows[1].outcome.startswith("invalid_request")


def test_conflict_is_archived_and_leaves_nothing(api, world, engine):
    e = enrollment()
    api.push(world.agent_a, changes(enrollments={"created": [e]}), 1)
    response = api.push(world.agent_a, changes(enrollments={"updated": [e]}, visits={"created": [visit()]}), 1)
    assert response.status_code == 409
    assert count_visits(engine) == 0
    with Session(engine) as session:
        statuses = session.execute(select(PushArchive.status).order_by(PushArchive.id)).scalars().all()
    assert statuses == [200, 409]


def test_deleted_on_server_then_updated_by_phone_is_409(api, world):
    """An `updated` for a record deleted after the phone's pull is a conflict: the phone pulls the deletion."""
    v = visit()
    pulled, _ = api.sync(world.agent_a, changes(visits={"created": [v]}))
    mid = api.pull(world.agent_a, pulled.json["timestamp"], device="p2")
    api.push(world.agent_a, changes(visits={"deleted": [v["id"]]}), mid.json["timestamp"], device="p2")
    stale = api.push(world.agent_a, changes(visits={"updated": [dict(v, notes="x")]}), pulled.json["timestamp"])
    assert stale.status_code == 409


def test_updated_unknown_record_is_created(api, world):
    """Push rule 3: an `updated` record the server never saw is created."""
    v = visit(_status="updated", _changed="notes")
    response = api.push(world.agent_a, changes(visits={"updated": [v]}), 1)
    assert response.status_code == 200
    assert [r["id"] for r in api.pull(world.agent_a, device="q").json["changes"]["visits"]["created"]] == [v["id"]]
