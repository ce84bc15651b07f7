"""What each agent pulls (docs/sync.md "Push"): own records, linked workers, scope changes, migrations."""

from __future__ import annotations

import json
import logging

from sqlalchemy import update
from sqlalchemy.orm import Session

from sync.models import Visit
from tests.factories import changes, enrollment, valid_nik, visit


def ids(pulled, table, kind):
    return [r["id"] if isinstance(r, dict) else r for r in pulled.json["changes"][table][kind]]


def test_second_enrolment_of_same_nik_is_duplicate_and_links_worker(api, world):
    """Agent B enrols the person agent A enrolled first: B's is `duplicate`, credited to A, B pulls the worker."""
    nik = valid_nik()
    first, second = enrollment(nik=nik), enrollment(nik=nik, full_name="BUDI SANTOSO")
    a = api.push(world.agent_a, changes(enrollments={"created": [first]}), 1).json["results"]["enrollments"]
    b = api.push(world.agent_b, changes(enrollments={"created": [second]}), 1).json["results"]["enrollments"]
    assert a[first["id"]]["status"] == "verified"
    assert b[second["id"]] == {
        "status": "duplicate",
        "worker_id": a[first["id"]]["worker_id"],
        "duplicate_of": first["id"],
    }
    pulled = api.pull(world.agent_b, device="b2").json["changes"]
    record = pulled["enrollments"]["created"][0]
    assert record["credited_agent_id"] == world.agent_a.id and record["status"] == "duplicate"
    assert "duplicate" in record["status_reason"].lower()
    assert [w["id"] for w in pulled["workers"]["created"]] == [a[first["id"]]["worker_id"]]


def test_same_person_twice_in_one_push(api, world):
    nik = valid_nik()
    one, two = enrollment(nik=nik), enrollment(nik=nik)
    results = api.push(world.agent_a, changes(enrollments={"created": [one, two]}), 1).json["results"]["enrollments"]
    assert [results[one["id"]]["status"], results[two["id"]]["status"]] == ["verified", "duplicate"]


def test_correction_revalidates(api, world):
    """A needs_correction enrolment fixed by a pushed update becomes verified with a worker."""
    bad = enrollment(nik="12345")
    pulled, pushed = api.sync(world.agent_a, changes(enrollments={"created": [bad]}))
    assert pushed.json["results"]["enrollments"][bad["id"]]["status"] == "needs_correction"
    stored = api.pull(world.agent_a, pulled.json["timestamp"]).json
    errors = json.loads(stored["changes"]["enrollments"]["updated"][0]["validation_errors"])
    assert "nik" in errors
    fixed = dict(bad, nik=valid_nik(), _status="updated", _changed="nik")
    result = api.push(world.agent_a, changes(enrollments={"updated": [fixed]}), stored["timestamp"])
    assert result.json["results"]["enrollments"][bad["id"]]["status"] == "verified"
    after = api.pull(world.agent_a, stored["timestamp"]).json["changes"]
    assert after["enrollments"]["updated"][0]["validation_errors"] is None
    assert len(after["workers"]["created"]) == 1


def test_deleted_enrolment_takes_worker_out_of_scope(api, world):
    """When an agent's only link to a worker is deleted, the worker is a deletion on the next pull."""
    e = enrollment()
    pulled, pushed = api.sync(world.agent_a, changes(enrollments={"created": [e]}))
    worker_id = pushed.json["results"]["enrollments"][e["id"]]["worker_id"]
    mid = api.pull(world.agent_a, pulled.json["timestamp"])
    api.push(world.agent_a, changes(enrollments={"deleted": [e["id"]]}), mid.json["timestamp"])
    after = api.pull(world.agent_a, mid.json["timestamp"])
    assert ids(after, "enrollments", "deleted") == [e["id"]]
    assert ids(after, "workers", "deleted") == [worker_id]


def test_each_id_at_most_once_per_table(api, world):
    """Shape rule 2: no id appears twice in one table's arrays, whatever happened since the last pull."""
    v = visit()
    pulled, _ = api.sync(world.agent_a, changes(visits={"created": [v]}))
    api.push(world.agent_a, changes(visits={"updated": [dict(v, notes="x")]}), pulled.json["timestamp"])
    after = api.pull(world.agent_a, pulled.json["timestamp"], device="other").json["changes"]
    for table, parts in after.items():
        all_ids = [r["id"] if isinstance(r, dict) else r for kind in parts.values() for r in kind]
        assert len(all_ids) == len(set(all_ids)), table


def test_first_sync_brings_only_recent_visits(api, world, engine):
    """A first sync brings the last 90 days of visits; an old one stays on the server."""
    old, recent = visit(visited_at=1_600_000_000_000), visit()
    api.push(world.agent_a, changes(visits={"created": [old, recent]}), 1)
    with Session(engine) as session, session.begin():
        session.execute(update(Visit).where(Visit.id == old["id"]).values(server_created_at=1_600_000_000_000))
    first = api.pull(world.agent_a, device="new-phone")
    assert ids(first, "visits", "created") == [recent["id"]]


def test_migration_sync_returns_whole_table(api, world):
    """A migration naming a table returns every record of it, whatever last_pulled_at says."""
    v = visit()
    pulled, _ = api.sync(world.agent_a, changes(visits={"created": [v]}))
    later = api.pull(world.agent_a, pulled.json["timestamp"])
    migration = json.dumps({"from": 1, "tables": ["visits", "unknown_table"], "columns": []})
    again = api.pull(world.agent_a, later.json["timestamp"], migration=migration)
    assert again.status_code == 200
    assert ids(again, "visits", "created") + ids(again, "visits", "updated") == [v["id"]]
    assert ids(again, "enrollments", "created") == []
    assert "unknown_table" not in again.json["changes"]


def test_nik_and_phone_never_logged(api, world, caplog):
    caplog.set_level(logging.DEBUG)
    e = enrollment(nik="3215011203859999", phone="081299998888")
    api.push(world.agent_a, changes(enrollments={"created": [e, dict(e, id="second")]}), 1)
    api.pull(world.agent_a)
    text = caplog.text
    assert "3215011203859999" not in text and "81299998888" not in text
