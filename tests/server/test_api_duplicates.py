"""Duplicate review, workers, enrolment lists and the registry import over HTTP (docs/api.md)."""

from __future__ import annotations

from sqlalchemy import select

from sync.models import AccessLog
from tests.dedup_helpers import person
from tests.factories import changes


def twin(**overrides):
    return person(nik="3215011203850008", full_name="Muhammad Yunus", **overrides)


def _review_pair(api, world):
    """agent_a enrols the fisherman, agent_b his twin: one open candidate."""
    first, other = person(), twin()
    api.sync(world.agent_a, changes(enrollments={"created": [first]}))
    _, pushed = api.sync(world.agent_b, changes(enrollments={"created": [other]}))
    assert pushed.json["results"]["enrollments"][other["id"]]["status"] == "verified"
    return first, other


def _queue(api, user, status="open"):
    response = api.client.get("/api/v1/duplicates", query_string={"status": status}, headers=api.headers(user))
    assert response.status_code == 200, response.json
    return response.json


def test_queue_lists_both_sides_masked_with_score_and_reasons(api, world):
    """The open queue shows the pair masked (no full NIK anywhere), with score and readable reasons."""
    first, other = _review_pair(api, world)
    body = _queue(api, world.supervisor)
    (item,) = body["items"]
    assert body["next_cursor"] is None
    assert item["enrollment"]["id"] == other["id"] and item["other_enrollment"]["id"] == first["id"]
    assert item["enrollment"]["nik_masked"] == "321501********08"
    assert "NIK differs only in the serial number" in item["reasons"] and 0 < item["score"] < 1
    assert first["nik"] not in str(body) and other["nik"] not in str(body)


def test_queue_is_scoped(api, world):
    """A supervisor of another branch sees nothing; agents may not use the review API."""
    _review_pair(api, world)
    assert _queue(api, world.supervisor_makassar)["items"] == []
    assert len(_queue(api, world.admin)["items"]) == 1
    response = api.client.get("/api/v1/duplicates", headers=api.headers(world.agent_a))
    assert response.status_code == 403


def test_resolve_merge_then_phone_pulls_the_outcome(api, world):
    """A merge makes the later enrolment duplicate, credited to the first agent, and the phone pulls it."""
    first, other = _review_pair(api, world)
    before = api.pull(world.agent_b).json["timestamp"]
    cid = _queue(api, world.supervisor)["items"][0]["id"]
    response = api.client.post(
        f"/api/v1/duplicates/{cid}/resolve",
        json={"decision": "merge", "note": "KTP checked"},
        headers=api.headers(world.supervisor),
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "merged" and response.json["decided_by"] == world.supervisor.id
    pulled = api.pull(world.agent_b, before).json
    (record,) = pulled["changes"]["enrollments"]["updated"]
    assert record["status"] == "duplicate" and record["duplicate_of"] == first["id"]
    assert record["credited_agent_id"] == world.agent_a.id
    assert len(pulled["changes"]["workers"]["deleted"]) == 1
    again = api.client.post(
        f"/api/v1/duplicates/{cid}/resolve", json={"decision": "distinct"}, headers=api.headers(world.supervisor)
    )
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert len(_queue(api, world.supervisor, "merged")["items"]) == 1


def test_resolve_distinct_and_bad_input(api, world):
    """`distinct` closes the pair; a bad decision is a 422 naming the field; unknown or out-of-scope ids are 404."""
    _review_pair(api, world)
    cid = _queue(api, world.supervisor)["items"][0]["id"]
    bad = api.client.post(
        f"/api/v1/duplicates/{cid}/resolve", json={"decision": "maybe"}, headers=api.headers(world.supervisor)
    )
    assert bad.status_code == 422 and "decision" in bad.json["errors"]
    hidden = api.client.post(
        f"/api/v1/duplicates/{cid}/resolve",
        json={"decision": "distinct"},
        headers=api.headers(world.supervisor_makassar),
    )
    assert hidden.status_code == 404
    ok = api.client.post(
        f"/api/v1/duplicates/{cid}/resolve",
        json={"decision": "distinct", "note": "twins"},
        headers=api.headers(world.supervisor),
    )
    assert ok.status_code == 200 and ok.json["status"] == "distinct"
    assert _queue(api, world.supervisor)["items"] == []
    assert len(_queue(api, world.supervisor, "distinct")["items"]) == 1


def test_unmerge_restores_state(api, world):
    """POST /workers/{id}/unmerge undoes the merge: the twin is verified again with its own person."""
    _, other = _review_pair(api, world)
    item = _queue(api, world.supervisor)["items"][0]
    api.client.post(
        f"/api/v1/duplicates/{item['id']}/resolve", json={"decision": "merge"}, headers=api.headers(world.supervisor)
    )
    wid = item["worker"]["id"]
    response = api.client.post(
        f"/api/v1/workers/{wid}/unmerge", json={"note": "wrong"}, headers=api.headers(world.supervisor)
    )
    assert response.status_code == 200, response.json
    assert response.json["restored_worker_ids"] == [wid]
    detail = api.client.get(f"/api/v1/workers/{wid}", headers=api.headers(world.supervisor)).json
    assert [(e["id"], e["status"]) for e in detail["enrollments"]] == [(other["id"], "verified")]
    assert detail["deleted_at"] is None
    none_left = api.client.post(f"/api/v1/workers/{wid}/unmerge", headers=api.headers(world.supervisor))
    assert none_left.status_code == 404


def test_worker_detail_scoping_and_audited_full_nik(api, world):
    """Agents see their own people, other branches get 404, only admins get the full NIK, and that is logged."""
    first, _ = _review_pair(api, world)
    wid = _queue(api, world.admin)["items"][0]["other_worker"]["id"]
    own = api.client.get(f"/api/v1/workers/{wid}", headers=api.headers(world.agent_a))
    assert own.status_code == 200 and own.json["nik"] is None and own.json["nik_masked"] == "321501********07"
    assert api.client.get(f"/api/v1/workers/{wid}", headers=api.headers(world.agent_b)).status_code == 404
    assert api.client.get(f"/api/v1/workers/{wid}", headers=api.headers(world.supervisor_makassar)).status_code == 404
    admin = api.client.get(f"/api/v1/workers/{wid}", headers=api.headers(world.admin))
    assert admin.json["nik"] == first["nik"]
    from server.extensions import db

    with api.client.application.app_context():
        logged = db.session.execute(
            select(AccessLog.user_id, AccessLog.subject_id).where(AccessLog.action == "view_nik")
        ).all()
    assert logged == [(world.admin.id, wid)]


def test_enrollment_list_filters_and_scope(api, world):
    """GET /enrollments: agents see their own, supervisors their branch, filters combine, pages chain."""
    first, other = _review_pair(api, world)
    api.sync(world.agent_c, changes(enrollments={"created": [person(nik="7371014506900003", full_name="Sri")]}))

    def ids(user, **query):
        response = api.client.get("/api/v1/enrollments", query_string=query, headers=api.headers(user))
        assert response.status_code == 200, response.json
        return [e["id"] for e in response.json["items"]]

    assert ids(world.agent_a) == [first["id"]]
    assert set(ids(world.supervisor)) == {first["id"], other["id"]}
    assert len(ids(world.admin)) == 3
    assert ids(world.supervisor, agent_id=world.agent_b.id) == [other["id"]]
    assert ids(world.supervisor, branch_id=world.makassar.id) == []
    page = api.client.get("/api/v1/enrollments", query_string={"limit": 1}, headers=api.headers(world.admin)).json
    second = api.client.get(
        "/api/v1/enrollments",
        query_string={"limit": 1, "cursor": page["next_cursor"]},
        headers=api.headers(world.admin),
    ).json
    assert page["items"][0]["id"] != second["items"][0]["id"]
    bad = api.client.get("/api/v1/enrollments", query_string={"status": "nope"}, headers=api.headers(world.admin))
    assert bad.status_code == 422 and "status" in bad.json["errors"]


def test_registry_import_reports_bad_lines_and_marks_members(api, world):
    """Bad registry lines are reported by line number and field; good ones make new enrolments duplicates."""
    csv_text = (
        "nik,name,birth_date,membership_status\n"
        "3215011203850007,Muhammad Yusuf,1985-03-12,active\n"
        "12345,Short Nik,1985-03-12,active\n"
        "3215015203850011,Siti Aminah,12/03/1985,maybe\n"
    )
    response = api.client.post(
        "/api/v1/registry/import", data=csv_text, content_type="text/csv", headers=api.headers(world.admin)
    )
    assert response.status_code == 200, response.json
    assert response.json["imported"] == 1 and response.json["rejected"] == 2
    assert [(e["line"], sorted(e["errors"])) for e in response.json["errors"]] == [
        (3, ["nik"]),
        (4, ["birth_date", "membership_status"]),
    ]
    member = person()
    _, pushed = api.sync(world.agent_a, changes(enrollments={"created": [member]}))
    assert pushed.json["results"]["enrollments"][member["id"]]["status"] == "duplicate"
    forbidden = api.client.post(
        "/api/v1/registry/import", data=csv_text, content_type="text/csv", headers=api.headers(world.supervisor)
    )
    assert forbidden.status_code == 403


def test_registry_import_marks_people_already_enrolled(api, world):
    """Enrolled before the import: the person becomes a member and its enrolments duplicates without credit."""
    first, second = person(), person(full_name="M. Yusuf")
    _, pushed = api.sync(world.agent_a, changes(enrollments={"created": [first, second]}))
    assert pushed.json["results"]["enrollments"][first["id"]]["status"] == "verified"
    pulled = api.pull(world.agent_a).json["timestamp"]
    response = api.client.post(
        "/api/v1/registry/import",
        data="nik,name,birth_date,membership_status\n3215011203850007,Muhammad Yusuf,1985-03-12,aktif\n",
        content_type="text/csv",
        headers=api.headers(world.admin),
    )
    assert response.status_code == 200 and response.json["members_found"] == 1, response.json
    changed = api.pull(world.agent_a, pulled).json["changes"]
    enrolments = {r["id"]: r for r in changed["enrollments"]["updated"]}
    assert set(enrolments) == {first["id"], second["id"]}
    for record in enrolments.values():
        assert record["status"] == "duplicate" and record["credited_agent_id"] is None
        assert "already a BPU member" in record["status_reason"]
    (worker,) = changed["workers"]["updated"]
    assert worker["membership_status"] == "active"
    again = api.client.post(
        "/api/v1/registry/import",
        data="nik,name,birth_date,membership_status\n3215011203850007,Muhammad Yusuf,1985-03-12,active\n",
        content_type="text/csv",
        headers=api.headers(world.admin),
    )
    assert again.json["members_found"] == 0 and again.json["updated"] == 1
