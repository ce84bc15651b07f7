"""The real WatermelonDB client (``@nozbe/watermelondb`` 0.28, ``synchronize()`` with LokiJS in Node) against
a live Jangkau server (docs/sync.md, §4). Each phone is an in-memory WatermelonDB database; see conftest.py.
"""

from __future__ import annotations

import datetime as dt
import json

from sync.protocol.clock import now_ms
from tests.factories import changes, enrollment, follow_up, valid_nik, visit

DEVICE_ENROLLMENT = (
    "nik",
    "full_name",
    "birth_date",
    "sex",
    "phone",
    "occupation",
    "address",
    "village",
    "programs",
    "monthly_income",
    "visit_id",
    "captured_at",
)
TABLES = ("enrollments", "visits", "follow_ups", "workers")
SITI_BIRTH = dt.date(1990, 7, 21)  # not the factories' Budi Santoso: no fuzzy match between the two


def new_enrollment(**overrides) -> dict:
    """Device columns of an enrolment as the app's form fills them."""
    values = {
        "nik": valid_nik(sex="F", birth=SITI_BIRTH),
        "full_name": "Siti Aminah",
        "birth_date": SITI_BIRTH.isoformat(),
        "sex": "F",
        "phone": "0857-2200-1144",
        "occupation": "nelayan",
        "address": "Jl. Pelabuhan 3",
        "village": "Cilamaya",
        "programs": "JKK,JKM",
        "monthly_income": 2_500_000,
        "captured_at": now_ms(),
    }
    return values | overrides


def new_visit(**overrides) -> dict:
    values = {
        "visited_at": now_ms() - 600_000,
        "latitude": -6.3227,
        "longitude": 107.3376,
        "accuracy_m": 8.5,
        "is_mock_location": False,
        "outcome": "enrolled",
        "occupation": "nelayan",
        "notes": "dekat TPI",
    }
    return values | overrides


def synced(result: dict) -> dict:
    """Assert that ``synchronize()`` resolved; show what went over the wire if it did not."""
    assert result["ok"], json.dumps({"error": result.get("error"), "exchanges": result.get("exchanges")}, indent=1)
    return result


def requests(result: dict) -> list[tuple[str, int]]:
    return [(e["method"], e["status"]) for e in result["exchanges"]]


def complaints(result: dict) -> list[str]:
    """What WatermelonDB logged as errors or warnings during the command."""
    return [entry["message"] for entry in result["logs"] if entry["level"] in ("error", "warn")]


def device_values(record: dict, names=DEVICE_ENROLLMENT) -> dict:
    return {name: record[name] for name in names}


def without_local_state(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("_status", "_changed")}


def test_first_sync_pulls_existing_records_typed(api, world, phones):
    """A fresh phone's first synchronize() sends `last_pulled_at=null` and stores everything the agent
    already has on the server (and nothing of other agents) as synced records with their JSON types:
    numbers stay numbers, booleans booleans, strings strings, null stays null."""
    e = enrollment(monthly_income=2_000_000, phone="+62 812-1111-2222", address=None)
    v = visit(enrollment_id=e["id"], latitude=-6.3227, longitude=107.3376, accuracy_m=12.5, is_mock_location=True)
    f = follow_up(enrollment_id=e["id"], visit_id=v["id"], kind="payment_reminder", due_at=1_900_000_000_123)
    _, pushed = api.sync(
        world.agent_a,
        changes(enrollments={"created": [e]}, visits={"created": [v]}, follow_ups={"created": [f]}),
        device="laptop",
    )
    assert pushed.status_code == 200, pushed.json
    other = enrollment()
    api.sync(world.agent_b, changes(enrollments={"created": [other]}))

    phone = phones.phone("A", api.token(world.agent_a, "phone-A"))
    result = synced(phone.sync())

    assert requests(result) == [("GET", 200)]  # nothing local: no push
    url = result["exchanges"][0]["url"]
    assert url == "/api/v1/sync/pull?last_pulled_at=null&schema_version=1&migration=null"
    timestamp = result["exchanges"][0]["response"]["timestamp"]
    assert complaints(result) == []

    state = phone.dump()
    assert state["unsynced"] is False
    assert state["lastPulledAt"] == timestamp
    local = {t: {r["id"]: r for r in state["tables"][t]} for t in TABLES}
    assert set(local["enrollments"]) == {e["id"]}  # agent B's enrolment is not on agent A's phone
    enrol = local["enrollments"][e["id"]]
    assert enrol["_status"] == "synced" and enrol["_changed"] == ""
    assert device_values(enrol) == device_values(e) | {"phone": "+62 812-1111-2222"}
    assert enrol["monthly_income"] == 2_000_000 and isinstance(enrol["monthly_income"], int)
    assert enrol["address"] is None
    assert enrol["status"] == "verified" and enrol["credited_agent_id"] == world.agent_a.id
    assert isinstance(enrol["updated_at"], int) and 0 < enrol["updated_at"] <= timestamp

    visit_row = local["visits"][v["id"]]
    assert visit_row["_status"] == "synced"
    assert visit_row["latitude"] == -6.3227 and visit_row["longitude"] == 107.3376
    assert visit_row["accuracy_m"] == 12.5
    assert visit_row["is_mock_location"] is True
    assert visit_row["visited_at"] == v["visited_at"] and visit_row["enrollment_id"] == e["id"]

    fu = local["follow_ups"][f["id"]]
    assert fu["due_at"] == 1_900_000_000_123 and fu["kind"] == "payment_reminder" and fu["status"] == "scheduled"
    assert fu["assigned_agent_id"] == world.agent_a.id and fu["completed_at"] is None

    assert list(local["workers"]) == [enrol["worker_id"]]
    worker = local["workers"][enrol["worker_id"]]
    assert worker["nik_masked"] == e["nik"][:6] + "********" + e["nik"][-2:]
    assert worker["full_name"] == "Budi Santoso" and worker["membership_status"] == "registered"
    assert isinstance(worker["enrolled_at"], int)

    again = synced(phone.sync())  # nothing changed since: an empty pull, no push, same timestamp
    assert requests(again) == [("GET", 200)]
    assert f"last_pulled_at={timestamp}&" in again["exchanges"][0]["url"]
    pulled = again["exchanges"][0]["response"]
    assert all(pulled["changes"][t][k] == [] for t in TABLES for k in ("created", "updated", "deleted"))


def test_records_created_on_phone_are_pushed_and_marked_synced(api, world, phones):
    """An enrolment, a visit and a follow-up created locally are pushed by synchronize() as WatermelonDB
    really sends them (every table, full records with `_status`/`_changed`, the phone's `updated_at`);
    the server stores them under the phone's ids, and the phone has no unsynced changes left."""
    phone = phones.phone("A", api.token(world.agent_a, "phone-A"))
    synced(phone.sync())
    visit_id = phone.create("visits", **new_visit())
    values = new_enrollment(visit_id=visit_id)
    enrol_id = phone.create("enrollments", **values)
    phone.update("visits", visit_id, enrollment_id=enrol_id)
    due = now_ms() + 3 * 86_400_000
    fu_id = phone.create(
        "follow_ups", enrollment_id=enrol_id, visit_id=visit_id, kind="document_collection", due_at=due
    )
    before = phone.dump()
    assert before["unsynced"] is True
    assert {r["_status"] for t in ("enrollments", "visits", "follow_ups") for r in before["tables"][t]} == {"created"}

    result = synced(phone.sync())

    assert requests(result) == [("GET", 200), ("POST", 200)]
    push = result["exchanges"][1]
    assert push["url"] == f"/api/v1/sync/push?last_pulled_at={result['exchanges'][0]['response']['timestamp']}"
    sent = push["request"]["changes"]
    assert set(sent) == set(TABLES)
    sent_enrol = sent["enrollments"]["created"][0]
    assert sent_enrol["_status"] == "created" and sent_enrol["_changed"] == ""
    assert sent_enrol["status"] is None and isinstance(sent_enrol["updated_at"], int)  # phone clock, ignored
    assert sent["visits"]["created"][0]["enrollment_id"] == enrol_id  # created then edited: still `created`
    results = push["response"]["results"]
    assert results["enrollments"][enrol_id]["status"] == "verified"
    assert results["visits"][visit_id]["status"] == "accepted"
    assert results["follow_ups"][fu_id]["status"] == "accepted"
    assert push["response"]["experimentalRejectedIds"] == {}

    after = phone.dump()
    assert after["unsynced"] is False
    assert {r["_status"] for t in ("enrollments", "visits", "follow_ups") for r in after["tables"][t]} == {"synced"}

    stored = api.pull(world.agent_a, device="tablet").json["changes"]
    [enrol] = stored["enrollments"]["created"]
    assert enrol["id"] == enrol_id and device_values(enrol) == device_values(values | {"visit_id": visit_id})
    assert enrol["status"] == "verified" and enrol["worker_id"]
    # updated_at is the server's change stamp, not the phone clock value the push carried
    assert enrol["updated_at"] >= push["response"]["timestamp"] > sent_enrol["updated_at"]
    [stored_visit] = stored["visits"]["created"]
    assert stored_visit["id"] == visit_id and stored_visit["enrollment_id"] == enrol_id
    assert stored_visit["is_mock_location"] is False and stored_visit["accuracy_m"] == 8.5
    stored_fu = next(r for r in stored["follow_ups"]["created"] if r["id"] == fu_id)
    assert stored_fu["due_at"] == due and stored_fu["kind"] == "document_collection"
    assert stored_fu["assigned_agent_id"] == world.agent_a.id


def test_server_side_statuses_reach_the_phone_on_next_sync(api, world, phones):
    """What the server decides during a push (enrolment status, status_reason, worker_id, duplicate_of,
    credited_agent_id; a follow-up's assigned_agent_id; a visit's region, zone, distance and flags) is
    pulled by the phone's next synchronize() as updates of its own records, without "already exists
    locally" noise; records the server made itself (`workers` rows, a revisit follow-up for an
    `interested` visit) arrive as new records. (The phone also declares migration syncs: accepted.)"""
    earlier = enrollment()  # agent B enrolled this person first
    _, pushed = api.sync(world.agent_b, changes(enrollments={"created": [earlier]}))
    first_worker = pushed.json["results"]["enrollments"][earlier["id"]]["worker_id"]

    phone = phones.phone("A", api.token(world.agent_a, "phone-A"), migrationsEnabledAtVersion=1)
    synced(phone.sync())
    new_id = phone.create("enrollments", **new_enrollment())
    dup_id = phone.create(
        "enrollments",
        **new_enrollment(
            nik=earlier["nik"], full_name="Budi Santoso", birth_date="1985-03-12", sex="M", phone=earlier["phone"]
        ),
    )
    fu_id = phone.create("follow_ups", kind="revisit", due_at=now_ms() + 86_400_000, status="scheduled")
    visit_id = phone.create("visits", **new_visit(outcome="interested", is_mock_location=True))
    first = synced(phone.sync())
    assert "&migration=null" in first["exchanges"][0]["url"]
    pushed = first["exchanges"][1]["response"]["results"]["enrollments"]
    assert pushed[new_id]["status"] == "verified" and pushed[dup_id]["status"] == "duplicate"

    # the push response's results are not applied by WatermelonDB: the phone still has its own values
    local = phone.records("enrollments")
    assert local[new_id]["status"] is None and local[new_id]["worker_id"] is None
    assert phone.records("workers") == {}

    result = synced(phone.sync())
    assert requests(result) == [("GET", 200)]
    assert complaints(result) == []
    pulled = result["exchanges"][0]["response"]["changes"]
    assert {r["id"] for r in pulled["enrollments"]["updated"]} == {new_id, dup_id}
    assert pulled["enrollments"]["created"] == []
    assert [r["id"] for r in pulled["visits"]["updated"]] == [visit_id] and pulled["visits"]["created"] == []
    assert fu_id in {r["id"] for r in pulled["follow_ups"]["updated"]}

    state = phone.dump()
    assert state["unsynced"] is False
    local = {t: {r["id"]: r for r in state["tables"][t]} for t in TABLES}
    verified = local["enrollments"][new_id]
    assert verified["status"] == "verified" and verified["_status"] == "synced"
    assert verified["credited_agent_id"] == world.agent_a.id and verified["duplicate_of"] is None
    assert verified["status_reason"] and verified["validation_errors"] is None
    duplicate = local["enrollments"][dup_id]
    assert duplicate["status"] == "duplicate" and duplicate["duplicate_of"] == earlier["id"]
    assert duplicate["worker_id"] == first_worker and duplicate["credited_agent_id"] == world.agent_b.id
    assert local["follow_ups"][fu_id]["assigned_agent_id"] == world.agent_a.id
    enriched = local["visits"][visit_id]
    assert (enriched["province_code"], enriched["regency_code"]) == ("32", "32.15")
    assert enriched["timezone"] == "Asia/Jakarta" and enriched["regency"] == "Kabupaten Karawang"
    assert isinstance(enriched["distance_from_branch_km"], int | float) and enriched["distance_from_branch_km"] < 10
    assert "mock_location" in enriched["flags"].split(",")
    made = [r for r in local["follow_ups"].values() if r["visit_id"] == visit_id]
    assert len(made) == 1 and made[0]["id"] != fu_id and made[0]["_status"] == "synced"
    assert made[0]["kind"] == "revisit" and made[0]["status"] == "scheduled"
    assert made[0]["assigned_agent_id"] == world.agent_a.id and made[0]["due_at"] > enriched["visited_at"]
    assert made[0]["id"] in {r["id"] for r in pulled["follow_ups"]["created"]}
    assert set(local["workers"]) == {verified["worker_id"], first_worker}
    new_worker = local["workers"][verified["worker_id"]]
    assert new_worker["enrolled_by_agent_id"] == world.agent_a.id and new_worker["full_name"] == "Siti Aminah"
    assert local["workers"][first_worker]["enrolled_by_agent_id"] == world.agent_b.id
    # the phone's own clock value of updated_at is replaced by the server's
    server_version = next(r for r in pulled["enrollments"]["updated"] if r["id"] == new_id)
    assert verified["updated_at"] == server_version["updated_at"]


def test_two_phones_edit_same_record_conflict_then_column_merge(api, world, phones):
    """Phone B pulls, then phone A pushes an edit of the same enrolment before B pushes: B's push is
    refused with 409 (problem+json), synchronize() rejects and B keeps its local changes. B's retry pulls
    A's version, WatermelonDB merges per column (B's changed columns win, A's other edits are taken)
    and the push succeeds; both phones then converge on the merged record."""
    a = phones.phone("A", api.token(world.agent_a, "phone-A"))
    b = phones.phone("B", api.token(world.agent_a, "phone-B"))
    synced(a.sync())
    enrol_id = a.create("enrollments", **new_enrollment())
    synced(a.sync())
    synced(a.sync())
    first = synced(b.sync())
    assert complaints(first) == []
    assert b.record("enrollments", enrol_id)["status"] == "verified"

    b.update("enrollments", enrol_id, phone="0813-9999-0000", village="Tempuran")
    paused = b.sync(pause_before_push=True)
    assert paused["paused"], paused
    [pending] = paused["push"]["enrollments"]["updated"]
    assert set(pending["_changed"].split(",")) == {"phone", "village", "updated_at"}

    a.update("enrollments", enrol_id, village="Cilamaya Wetan", address="Jl. Baru 7")
    assert requests(synced(a.sync())) == [("GET", 200), ("POST", 200)]

    refused = b.resume()
    assert not refused["ok"] and refused["error"]["status"] == 409
    conflict = refused["exchanges"][-1]
    assert (conflict["method"], conflict["status"]) == ("POST", 409)
    assert conflict["contentType"].startswith("application/problem+json")
    assert b.dump()["unsynced"] is True
    kept = b.record("enrollments", enrol_id)
    assert kept["_status"] == "updated" and (kept["phone"], kept["village"]) == ("0813-9999-0000", "Tempuran")
    assert kept["address"] == "Jl. Pelabuhan 3"

    retry = synced(b.sync())
    assert requests(retry) == [("GET", 200), ("POST", 200)]
    merged = retry["exchanges"][1]["request"]["changes"]["enrollments"]["updated"][0]
    assert merged["phone"] == "0813-9999-0000"  # B's column
    assert merged["village"] == "Tempuran"  # changed on both: the client (B) wins
    assert merged["address"] == "Jl. Baru 7"  # A's column, merged in from the pull
    assert b.dump()["unsynced"] is False

    synced(a.sync())
    synced(b.sync())
    on_a, on_b = a.record("enrollments", enrol_id), b.record("enrollments", enrol_id)
    assert on_a == on_b
    assert (on_a["phone"], on_a["village"], on_a["address"]) == ("0813-9999-0000", "Tempuran", "Jl. Baru 7")
    assert on_a["_status"] == "synced" and on_a["status"] == "verified"
    server = api.pull(world.agent_a, device="tablet").json["changes"]["enrollments"]["created"][0]
    assert without_local_state(on_a) == server


def test_deletion_on_one_phone_reaches_the_other(api, world, phones):
    """A visit marked as deleted on phone A is pushed as a deletion; phone B's next sync destroys it
    (even though B had edited it) together with its follow-ups (the phone's own and the one the server
    made for the `interested` outcome, deleted on the server as descendants), keeps B's other records,
    and the visit is not resurrected on the server."""
    a = phones.phone("A", api.token(world.agent_a, "phone-A"))
    b = phones.phone("B", api.token(world.agent_a, "phone-B"))
    synced(a.sync())
    gone = a.create("visits", **new_visit(outcome="interested"))
    kept = a.create("visits", **new_visit(outcome="refused"))
    fu_id = a.create(
        "follow_ups", visit_id=gone, kind="document_collection", due_at=now_ms() + 86_400_000, status="scheduled"
    )
    synced(a.sync())
    synced(b.sync())
    assert set(b.records("visits")) == {gone, kept}
    children = {i for i, r in b.records("follow_ups").items() if r["visit_id"] == gone}
    assert fu_id in children  # with the revisit the server's rules made for the `interested` outcome

    a.delete("visits", gone)
    assert a.record("visits", gone)["_status"] == "deleted"
    result = synced(a.sync())
    assert result["exchanges"][1]["request"]["changes"]["visits"]["deleted"] == [gone]
    assert gone not in a.records("visits")  # destroyed once the deletion is pushed

    b.update("visits", gone, notes="edited offline")
    b.update("visits", kept, notes="still here")
    result = synced(b.sync())
    pulled = result["exchanges"][0]["response"]["changes"]
    assert pulled["visits"]["deleted"] == [gone] and set(pulled["follow_ups"]["deleted"]) == children
    assert set(b.records("visits")) == {kept} and b.records("follow_ups") == {}
    assert b.record("visits", kept)["_status"] == "synced" and b.dump()["unsynced"] is False

    synced(a.sync())  # A gets the server-side deletion of the follow-ups
    assert a.records("follow_ups") == {} and set(a.records("visits")) == {kept}
    server = api.pull(world.agent_a, device="tablet").json["changes"]
    assert [r["id"] for r in server["visits"]["created"]] == [kept]
    assert server["visits"]["created"][0]["notes"] == "still here"
    assert server["follow_ups"]["created"] == []


def test_invalid_enrollment_needs_correction_then_fixed_on_phone(api, world, phones):
    """An enrolment with a bad NIK is stored (not refused) as `needs_correction`; the phone pulls the
    status with `validation_errors` naming the NIK; the agent fixes the NIK on the phone, and after the
    next syncs the enrolment is `verified` with a worker, and nothing the agent typed was lost."""
    phone = phones.phone("A", api.token(world.agent_a, "phone-A"))
    synced(phone.sync())
    values = new_enrollment(nik="3215-0112")
    enrol_id = phone.create("enrollments", **values)
    result = synced(phone.sync())
    assert result["exchanges"][1]["response"]["results"]["enrollments"][enrol_id]["status"] == "needs_correction"
    assert result["exchanges"][1]["response"]["experimentalRejectedIds"] == {}
    assert phone.dump()["unsynced"] is False

    synced(phone.sync())
    local = phone.record("enrollments", enrol_id)
    assert local["status"] == "needs_correction" and local["_status"] == "synced"
    errors = json.loads(local["validation_errors"])
    assert list(errors) == ["nik"] and errors["nik"]
    assert local["status_reason"]
    assert local["worker_id"] is None and phone.records("workers") == {}
    assert device_values(local, values) == values

    good = valid_nik(sex="F", birth=SITI_BIRTH)
    phone.update("enrollments", enrol_id, nik=good)
    result = synced(phone.sync())
    sent = result["exchanges"][1]["request"]["changes"]["enrollments"]["updated"][0]
    assert sent["nik"] == good and "nik" in sent["_changed"].split(",")
    assert result["exchanges"][1]["response"]["results"]["enrollments"][enrol_id]["status"] == "verified"

    synced(phone.sync())
    state = phone.dump()
    fixed = next(r for r in state["tables"]["enrollments"] if r["id"] == enrol_id)
    assert fixed["status"] == "verified" and fixed["validation_errors"] is None
    assert fixed["worker_id"] and [w["id"] for w in state["tables"]["workers"]] == [fixed["worker_id"]]
    assert device_values(fixed, values) == values | {"nik": good}
    assert state["unsynced"] is False


def test_edit_racing_a_deletion_conflicts_then_deletion_wins(api, world, phones):
    """Phone B edits visit V1 and deletes V2 while phone A deletes V1 and edits V2: B's push (pulled
    before A's) is a 409. On retry B's pull destroys V1 despite B's edit, ignores A's update of the
    locally deleted V2 and pushes V2's deletion; neither visit survives anywhere, nothing resurrects."""
    a = phones.phone("A", api.token(world.agent_a, "phone-A"))
    b = phones.phone("B", api.token(world.agent_a, "phone-B"))
    synced(a.sync())
    v1 = a.create("visits", **new_visit(notes="v1"))
    v2 = a.create("visits", **new_visit(notes="v2"))
    synced(a.sync())
    synced(b.sync())

    b.update("visits", v1, notes="v1 edited on B")
    b.delete("visits", v2)
    paused = b.sync(pause_before_push=True)
    assert paused["paused"] and paused["push"]["visits"]["deleted"] == [v2]

    a.delete("visits", v1)
    a.update("visits", v2, notes="v2 edited on A")
    synced(a.sync())

    refused = b.resume()
    assert not refused["ok"] and refused["error"]["status"] == 409
    assert set(b.records("visits")) == {v1, v2}  # nothing applied, nothing lost locally

    retry = synced(b.sync())
    assert requests(retry) == [("GET", 200), ("POST", 200)]
    pulled = retry["exchanges"][0]["response"]["changes"]["visits"]
    assert pulled["deleted"] == [v1] and [r["id"] for r in pulled["updated"]] == [v2]
    assert retry["exchanges"][1]["request"]["changes"]["visits"] == {"created": [], "updated": [], "deleted": [v2]}
    assert b.records("visits") == {} and b.dump()["unsynced"] is False

    synced(a.sync())
    assert a.records("visits") == {} and a.dump()["unsynced"] is False
    server = api.pull(world.agent_a, device="tablet").json["changes"]["visits"]
    assert server["created"] == [] and server["updated"] == []


def test_push_whose_response_was_lost_is_pushed_again_as_created(api, world, phones):
    """The push is applied but its response is lost: synchronize() rejects and the enrolment stays
    `created` on the phone. The agent edits it meanwhile; the next sync pulls the server's version
    (merged under the local edit), pushes the record again as `created`, and the server upserts it:
    200, no second enrolment, no second worker, the edit kept (docs/sync.md "Push" rule 2)."""
    phone = phones.phone("A", api.token(world.agent_a, "phone-A"))
    synced(phone.sync())
    enrol_id = phone.create("enrollments", **new_enrollment())
    lost = phone.sync(drop_push_response=True)
    assert not lost["ok"] and "network lost" in lost["error"]["message"]
    first_push = lost["exchanges"][-1]
    assert (first_push["method"], first_push["status"]) == ("POST", 200)
    worker_id = first_push["response"]["results"]["enrollments"][enrol_id]["worker_id"]
    assert phone.record("enrollments", enrol_id)["_status"] == "created"

    phone.update("enrollments", enrol_id, address="Jl. Sesudah 9")
    retry = synced(phone.sync())
    assert requests(retry) == [("GET", 200), ("POST", 200)]
    assert [m for m in complaints(retry) if "enrollments#" in m] == []
    again = retry["exchanges"][1]["request"]["changes"]["enrollments"]["created"]
    assert [r["id"] for r in again] == [enrol_id] and again[0]["address"] == "Jl. Sesudah 9"
    result = retry["exchanges"][1]["response"]["results"]["enrollments"][enrol_id]
    assert result["status"] == "verified" and result["worker_id"] == worker_id
    assert phone.dump()["unsynced"] is False

    synced(phone.sync())
    local = phone.record("enrollments", enrol_id)
    assert (local["status"], local["worker_id"], local["address"]) == ("verified", worker_id, "Jl. Sesudah 9")
    server = api.pull(world.agent_a, device="tablet").json["changes"]
    assert [r["id"] for r in server["enrollments"]["created"]] == [enrol_id]
    assert [r["id"] for r in server["workers"]["created"]] == [worker_id]


def test_supervisor_plans_reschedules_and_reassigns_follow_ups(api, world, phones):
    """Follow-ups a supervisor plans reach the agent's phone as new records. A reschedule made while
    the agent marked one done offline is merged by WatermelonDB (server due_at, phone status/notes) and
    pushed without conflict; a follow-up reassigned to agent B is deleted from A's phone and created on
    B's (leaving and entering a scope, docs/sync.md "Pull")."""
    a = phones.phone("A", api.token(world.agent_a, "phone-A"))
    b = phones.phone("B", api.token(world.agent_b, "phone-B"))
    synced(a.sync())
    synced(b.sync())
    supervisor = api.headers(world.supervisor)
    planned = []
    for notes in ("bawa KTP", "tagih iuran"):
        response = api.client.post(
            "/api/v1/follow-ups",
            json={"assigned_agent_id": world.agent_a.id, "due_at": now_ms() + 2 * 86_400_000, "outcome_notes": notes},
            headers=supervisor,
        )
        assert response.status_code == 201, response.json
        planned.append(response.json["id"])
    mine, moved = planned

    result = synced(a.sync())
    assert complaints(result) == []
    assert {r["id"] for r in result["exchanges"][0]["response"]["changes"]["follow_ups"]["created"]} == set(planned)
    local = a.records("follow_ups")
    assert set(local) == set(planned) and {r["_status"] for r in local.values()} == {"synced"}
    assert local[mine]["status"] == "scheduled" and local[mine]["assigned_agent_id"] == world.agent_a.id

    done_at = now_ms()
    a.update("follow_ups", mine, status="done", outcome_notes="sudah datang", completed_at=done_at)
    response = api.client.patch(
        f"/api/v1/follow-ups/{mine}", json={"due_at": now_ms() + 5 * 86_400_000}, headers=supervisor
    )
    assert response.status_code == 200, response.json
    new_due = response.json["due_at"]
    assert new_due != local[mine]["due_at"]
    response = api.client.patch(
        f"/api/v1/follow-ups/{moved}", json={"assigned_agent_id": world.agent_b.id}, headers=supervisor
    )
    assert response.status_code == 200, response.json

    result = synced(a.sync())
    assert requests(result) == [("GET", 200), ("POST", 200)]
    pulled = result["exchanges"][0]["response"]["changes"]["follow_ups"]
    assert pulled["deleted"] == [moved] and [r["id"] for r in pulled["updated"]] == [mine]
    sent = result["exchanges"][1]["request"]["changes"]["follow_ups"]["updated"]
    assert [(r["id"], r["due_at"], r["status"]) for r in sent] == [(mine, new_due, "done")]
    merged = a.records("follow_ups")
    assert set(merged) == {mine} and merged[mine]["_status"] == "synced"
    assert (merged[mine]["due_at"], merged[mine]["status"]) == (new_due, "done")
    assert (merged[mine]["outcome_notes"], merged[mine]["completed_at"]) == ("sudah datang", done_at)

    result = synced(b.sync())
    assert complaints(result) == []
    theirs = b.records("follow_ups")
    assert set(theirs) == {moved} and theirs[moved]["assigned_agent_id"] == world.agent_b.id
    assert theirs[moved]["outcome_notes"] == "tagih iuran"

    server = api.pull(world.agent_a, device="tablet").json["changes"]["follow_ups"]["created"]
    assert [(r["id"], r["status"], r["due_at"], r["completed_at"]) for r in server] == [
        (mine, "done", new_due, done_at)
    ]


def test_editing_an_enrolment_does_not_resend_its_worker_as_created(api, world, phones):
    """After the agent edits an enrolment whose worker the phone already has, the next pull must not list
    that worker under `created` (its server_created_at is older and it never left the agent's scope),
    so WatermelonDB logs no "already exists locally" error."""
    phone = phones.phone("A", api.token(world.agent_a, "phone-A"))
    synced(phone.sync())
    enrol_id = phone.create("enrollments", **new_enrollment())
    synced(phone.sync())
    synced(phone.sync())
    worker_id = phone.record("enrollments", enrol_id)["worker_id"]
    assert set(phone.records("workers")) == {worker_id}

    phone.update("enrollments", enrol_id, address="Jl. Baru 1")
    synced(phone.sync())
    result = synced(phone.sync())
    pulled = result["exchanges"][0]["response"]["changes"]
    assert [r["id"] for r in pulled["enrollments"]["updated"]] == [enrol_id]
    assert complaints(result) == []
    assert pulled["workers"]["created"] == []
