"""The WatermelonDB sync protocol over HTTP (docs/sync.md "Pull", §3.4, §3.7.4)."""

from __future__ import annotations

import gzip
import json

from tests.factories import changes, enrollment, follow_up, visit

TABLES = {"enrollments", "visits", "follow_ups", "workers"}


def ids(pulled, table, kind):
    return [r["id"] if isinstance(r, dict) else r for r in pulled.json["changes"][table][kind]]


def test_first_pull_is_complete_and_typed(api, world):
    """A first sync answers every table with all three arrays and an integer ms timestamp."""
    for first in ("null", "", "0", None):
        response = api.client.get(
            "/api/v1/sync/pull",
            query_string={} if first is None else {"last_pulled_at": first},
            headers=api.headers(world.agent_a),
        )
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        body = response.json
        assert set(body) == {"changes", "timestamp"}
        assert isinstance(body["timestamp"], int) and body["timestamp"] >= 0
        for table in TABLES:
            assert set(body["changes"][table]) == {"created", "updated", "deleted"}


def test_push_then_pull_round_trip_complete_records(api, world):
    """Pushed records come back complete, with every column, JSON-typed, without _status/_changed."""
    e = enrollment(monthly_income="1500000")
    v = visit(latitude="-6.3227")
    f = follow_up()
    pulled, pushed = api.sync(
        world.agent_a, changes(enrollments={"created": [e]}, visits={"created": [v]}, follow_ups={"created": [f]})
    )
    assert pushed.status_code == 200, pushed.json
    assert pushed.json["results"]["enrollments"][e["id"]]["status"] == "verified"
    second = api.pull(world.agent_a, pulled.json["timestamp"], device="phone-2")
    record = second.json["changes"]["enrollments"]["created"][0]
    assert record["id"] == e["id"]
    assert "_status" not in record and "_changed" not in record
    assert record["monthly_income"] == 1500000 and isinstance(record["monthly_income"], int)
    assert record["nik"] == e["nik"] and record["status"] == "verified" and record["worker_id"]
    assert record["updated_at"] <= second.json["timestamp"]
    vrec = second.json["changes"]["visits"]["created"][0]
    assert vrec["latitude"] == -6.3227
    assert set(vrec) >= {"province_code", "flags", "distance_from_branch_km"}
    worker = second.json["changes"]["workers"]["created"][0]
    assert worker["nik_masked"] == e["nik"][:6] + "********" + e["nik"][-2:]
    assert "nik" not in worker


def test_own_device_gets_its_pushes_back_as_updated(api, world):
    """§3.7.2: the pushing device sees its own creations under `updated`, other devices under `created`."""
    e = enrollment()
    pulled, pushed = api.sync(world.agent_a, changes(enrollments={"created": [e]}))
    same = api.pull(world.agent_a, pulled.json["timestamp"])
    assert ids(same, "enrollments", "updated") == [e["id"]]
    assert ids(same, "enrollments", "created") == []
    other = api.pull(world.agent_a, pulled.json["timestamp"], device="phone-2")
    assert ids(other, "enrollments", "created") == [e["id"]]


def test_strict_greater_than_no_resend(api, world):
    """A pull with the last timestamp returns nothing again (no boundary record re-sent)."""
    api.sync(world.agent_a, changes(enrollments={"created": [enrollment()]}))
    latest = api.pull(world.agent_a)
    again = api.pull(world.agent_a, latest.json["timestamp"])
    for table in TABLES:
        assert all(not again.json["changes"][table][k] for k in ("created", "updated", "deleted"))
    assert again.json["timestamp"] == latest.json["timestamp"]


def test_created_is_upsert_after_lost_response(api, world):
    """A push applied whose response was lost is re-pushed: updated in place, never a second copy or error."""
    e = enrollment()
    pulled, pushed = api.sync(world.agent_a, changes(enrollments={"created": [e]}))
    assert pushed.status_code == 200
    again = api.pull(world.agent_a, pulled.json["timestamp"])
    e2 = dict(e, full_name="Budi Santoso Edited")
    repushed = api.push(world.agent_a, changes(enrollments={"created": [e2]}), again.json["timestamp"])
    assert repushed.status_code == 200, repushed.json
    full = api.pull(world.agent_a, device="phone-9")
    records = full.json["changes"]["enrollments"]["created"]
    assert [r["full_name"] for r in records] == ["Budi Santoso Edited"]
    assert len(full.json["changes"]["workers"]["created"]) == 1


def test_conflict_aborts_whole_push(api, world):
    """A record changed after the phone's pull makes the whole push 409, leaving nothing behind."""
    e = enrollment()
    pulled, _ = api.sync(world.agent_a, changes(enrollments={"created": [e]}))
    stale = pulled.json["timestamp"]
    # the same agent's second phone edits it after the first phone's pull
    later = api.pull(world.agent_a, device="phone-2")
    assert (
        api.push(
            world.agent_a,
            changes(enrollments={"updated": [dict(e, village="Tempuran")]}),
            later.json["timestamp"],
            device="phone-2",
        ).status_code
        == 200
    )
    fresh = visit()
    response = api.push(
        world.agent_a, changes(enrollments={"updated": [dict(e, village="Stale")]}, visits={"created": [fresh]}), stale
    )
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert "changes.enrollments" in response.json["errors"]
    full = api.pull(world.agent_a, device="phone-3")
    assert full.json["changes"]["visits"]["created"] == []
    assert full.json["changes"]["enrollments"]["created"][0]["village"] == "Tempuran"


def test_deleted_records_reported_and_unknown_ignored(api, world):
    """Deletions are tombstones reported by id; unknown ids in `deleted` are ignored without error."""
    v = visit()
    f = follow_up(visit_id=v["id"])
    pulled, _ = api.sync(world.agent_a, changes(visits={"created": [v]}, follow_ups={"created": [f]}))
    after = api.pull(world.agent_a, pulled.json["timestamp"])
    response = api.push(world.agent_a, changes(visits={"deleted": [v["id"], "unknownId123"]}), after.json["timestamp"])
    assert response.status_code == 200, response.json
    later = api.pull(world.agent_a, after.json["timestamp"], device="phone-2")
    assert ids(later, "visits", "deleted") == [v["id"]]
    assert ids(later, "follow_ups", "deleted") == [f["id"]]  # descendants go with their parent
    first = api.pull(world.agent_a, device="phone-3")
    assert first.json["changes"]["visits"]["created"] == [] and first.json["changes"]["visits"]["deleted"] == []


def test_agents_see_only_their_own_records(api, world):
    """Agent B sees none of agent A's records; A's second device sees all of them."""
    e, v = enrollment(), visit()
    api.sync(world.agent_a, changes(enrollments={"created": [e]}, visits={"created": [v]}))
    other = api.pull(world.agent_b)
    for table in TABLES:
        assert other.json["changes"][table]["created"] == []
    second = api.pull(world.agent_a, device="tablet")
    assert ids(second, "enrollments", "created") == [e["id"]]
    assert ids(second, "visits", "created") == [v["id"]]


def test_foreign_id_is_rejected_not_overwritten(api, world):
    """Pushing another agent's id never touches their record; the item is rejected on its own."""
    e = enrollment()
    api.sync(world.agent_a, changes(enrollments={"created": [e]}))
    pulled = api.pull(world.agent_b)
    response = api.push(
        world.agent_b, changes(enrollments={"created": [dict(e, full_name="Hijack")]}), pulled.json["timestamp"]
    )
    assert response.status_code == 200
    assert response.json["results"]["enrollments"][e["id"]]["status"] == "rejected"
    assert response.json["experimentalRejectedIds"] == {"enrollments": [e["id"]]}
    mine = api.pull(world.agent_a, device="x")
    assert mine.json["changes"]["enrollments"]["created"][0]["full_name"] == "Budi Santoso"


def test_server_columns_and_workers_pushes_are_ignored(api, world):
    """Server-owned columns a phone sends are not stored; pushes to `workers` are ignored."""
    e = enrollment(status="verified", worker_id="forged", credited_agent_id="me", updated_at=1)
    body = changes(enrollments={"created": [e]}, workers={"created": [{"id": "w1", "full_name": "X"}]})
    pulled, pushed = api.sync(world.agent_a, body)
    assert pushed.status_code == 200
    record = api.pull(world.agent_a, device="y").json["changes"]["enrollments"]["created"][0]
    assert record["worker_id"] != "forged" and record["credited_agent_id"] == world.agent_a.id
    assert record["updated_at"] > 1
    assert "w1" not in ids(api.pull(world.agent_a, device="y"), "workers", "created")


def test_pull_is_gzip_compressed_when_accepted(api, world):
    """A large pull is gzip-compressed for a client that accepts it, and decodes to the same changes."""
    api.sync(world.agent_a, changes(visits={"created": [visit() for _ in range(20)]}))
    plain = api.pull(world.agent_a, device="d1")
    query = {"last_pulled_at": "null", "schema_version": 1, "migration": "null"}
    headers = api.headers(world.agent_a, "d1", **{"Accept-Encoding": "gzip"})
    packed = api.client.get("/api/v1/sync/pull", query_string=query, headers=headers)
    assert packed.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert json.loads(gzip.decompress(packed.get_data()))["changes"] == plain.json["changes"]
