"""The audit trail (docs/api.md "Audit"): what is recorded, by whom, in the action's own transaction, and
``GET /audit`` for admins with its filters and pages."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync import audit
from sync.models import AccessLog, User
from sync.models.visit_reviews import VisitFlagReview
from tests.factories import PASSWORD, changes, enrollment, follow_up, valid_nik, visit

V = "/api/v1"


def entries(engine, action: str | None = None) -> list[AccessLog]:
    with Session(engine) as session:
        query = select(AccessLog).order_by(AccessLog.id)
        if action:
            query = query.where(AccessLog.action == action)
        return list(session.execute(query).scalars())


def detail(entry: AccessLog) -> dict:
    return json.loads(entry.detail) if entry.detail else {}


def trail(api, world, **params) -> dict:
    response = api.client.get(f"{V}/audit", query_string=params, headers=api.headers(world.admin, "web"))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.json


def test_the_trail_is_the_admins_alone(api, world):
    for user, device in ((world.agent_a, "phone-1"), (world.supervisor, "web")):
        response = api.client.get(f"{V}/audit", headers=api.headers(user, device))
        assert response.status_code == 403 and response.mimetype == "application/problem+json"


def test_logins_and_failed_logins(api, world, engine):
    api.headers(world.agent_a)  # logs in over the API
    [login] = entries(engine, audit.LOGIN)
    assert login.user_id == world.agent_a.id and login.subject_table == "devices" and login.subject_id
    assert detail(login)["via"] == "api" and "ip" in detail(login)

    wrong = api.client.post(f"{V}/auth/login", json={"username": world.supervisor.username, "password": "salah-123"})
    unknown = api.client.post(f"{V}/auth/login", json={"username": "kata-sandi-rahasia", "password": "salah-123"})
    assert wrong.status_code == unknown.status_code == 401
    failed = entries(engine, audit.LOGIN_FAILED)
    assert [(e.user_id, e.subject_id) for e in failed] == [
        (world.supervisor.id, world.supervisor.id),
        (audit.ANONYMOUS, None),
    ]
    assert "kata-sandi-rahasia" not in json.dumps([e.detail for e in failed])  # what was typed is not kept
    listed = trail(api, world, action="login.failed")["items"]
    assert [item["actor_username"] for item in listed] == [None, world.supervisor.username]


def web_login(client, username: str, password: str):
    with client.session_transaction() as session:
        session["csrf_token"] = "t"
    return client.post("/login", data={"csrf_token": "t", "username": username, "password": password})


def test_web_logins_are_recorded(client, world, engine):
    assert web_login(client, world.supervisor.username, PASSWORD).status_code in (302, 303)
    assert web_login(client, world.supervisor.username, "x" * 9).status_code == 401
    assert web_login(client, world.agent_a.username, PASSWORD).status_code == 403  # no login: not for agents
    assert [detail(e)["via"] for e in entries(engine, audit.LOGIN)] == ["web"]
    assert [(e.user_id, detail(e)["via"]) for e in entries(engine, audit.LOGIN_FAILED)] == [
        (world.supervisor.id, "web")
    ]


def test_logins_refused_by_the_rate_limit_are_not_recorded_one_by_one(make_app, world, engine):
    client = make_app(LOGIN_RATE_LIMIT=1).test_client()
    statuses = [
        client.post(f"{V}/auth/login", json={"username": world.agent_a.username, "password": "salah-123"}).status_code
        for _ in range(4)
    ]
    assert statuses[0] == 401 and statuses[-1] == 429
    assert len(entries(engine, audit.LOGIN_FAILED)) == statuses.count(401)


def twins(first: str, second: str, year: int, serial: int) -> tuple[dict, dict]:
    """Two people a reviewer must tell apart: NIKs one serial apart, given names close, same birth date."""
    birth = dt.date(year, 5, 17)
    common = {"birth_date": birth.isoformat(), "sex": "M", "village": f"Desa {year}", "phone": None}
    a = enrollment(nik=valid_nik(serial, birth=birth), full_name=first, **common)
    b = enrollment(nik=valid_nik(serial + 1, birth=birth), full_name=second, **common)
    return a, b


def open_candidate(api, world, names: tuple[str, str], year: int, serial: int) -> tuple[str, str]:
    """Two near-identical people pushed by A1 and A2: the open candidate and the second enrolment's worker."""
    a, b = twins(*names, year, serial)
    assert api.push(world.agent_a, changes(enrollments={"created": [a]}), 1).status_code == 200
    pushed = api.push(world.agent_b, changes(enrollments={"created": [b]}), 1)
    worker_id = pushed.json["results"]["enrollments"][b["id"]]["worker_id"]
    listed = api.client.get(f"{V}/duplicates", headers=api.headers(world.supervisor, "web")).json["items"]
    [candidate] = [
        c["id"] for c in listed if b["id"] in (c["enrollment"]["id"], (c["other_enrollment"] or {}).get("id"))
    ]
    return candidate, worker_id


def test_duplicate_decisions_and_unmerges(api, world, engine):
    spv = api.headers(world.supervisor, "web")
    distinct, _ = open_candidate(api, world, ("Bambang Sutrisno", "Bambang Sutrisna"), 1969, 41)
    resolved = api.client.post(
        f"{V}/duplicates/{distinct}/resolve", json={"decision": "distinct", "note": "beda"}, headers=spv
    )
    assert resolved.status_code == 200, resolved.json
    merged, worker_id = open_candidate(api, world, ("Ahmad Fauzi", "Ahmad Fauzan"), 1979, 31)
    resolved = api.client.post(f"{V}/duplicates/{merged}/resolve", json={"decision": "merge"}, headers=spv)
    assert resolved.status_code == 200, resolved.json
    undone = api.client.post(f"{V}/workers/{worker_id}/unmerge", headers=spv)
    assert undone.status_code == 200, undone.json
    decisions = [
        (e.action, e.user_id, e.subject_id)
        for e in entries(engine)
        if e.action in (audit.DUPLICATE_DISTINCT, audit.DUPLICATE_MERGE, audit.WORKER_UNMERGE)
    ]
    assert decisions == [
        (audit.DUPLICATE_DISTINCT, world.supervisor.id, distinct),
        (audit.DUPLICATE_MERGE, world.supervisor.id, merged),
        (audit.WORKER_UNMERGE, world.supervisor.id, undone.json["merge_id"]),
    ]
    assert "beda" not in json.dumps([e.detail for e in entries(engine)])  # notes stay in their own rows


def test_flag_reviews_and_reassignments(api, world, engine):
    flagged = visit(is_mock_location=True)
    planned = follow_up()
    body = changes(visits={"created": [flagged]}, follow_ups={"created": [planned]})
    assert api.push(world.agent_a, body, 1).status_code == 200
    spv = api.headers(world.supervisor, "web")
    review = api.client.post(
        f"{V}/visits/{flagged['id']}/flags/mock_location/review",
        json={"decision": "dismiss", "note": "GPS"},
        headers=spv,
    )
    assert review.status_code == 201, review.json
    reassigned = api.client.patch(
        f"{V}/follow-ups/{planned['id']}", json={"assigned_agent_id": world.agent_b.id}, headers=spv
    )
    assert reassigned.status_code == 200, reassigned.json
    rescheduled = api.client.patch(f"{V}/follow-ups/{planned['id']}", json={"outcome_notes": "dicek"}, headers=spv)
    assert rescheduled.status_code == 200
    same_agent = api.client.patch(
        f"{V}/follow-ups/{planned['id']}", json={"assigned_agent_id": world.agent_b.id}, headers=spv
    )
    assert same_agent.status_code == 200
    [dismissed] = entries(engine, audit.FLAG_DISMISS)
    assert (dismissed.subject_id, detail(dismissed)) == (flagged["id"], {"flag": "mock_location"})
    [moved] = entries(engine, audit.FOLLOW_UP_REASSIGN)  # a change that moves nobody is no reassignment
    assert (moved.subject_id, detail(moved)) == (planned["id"], {"from": world.agent_a.id, "to": world.agent_b.id})


def test_imports_are_recorded_with_their_counts(api, world, engine):
    body = "nik,name,birth_date,membership_status\n" + f"{valid_nik()},Budi,1985-03-12,active\nrusak\n"
    response = api.client.post(
        f"{V}/registry/import", data=body, headers=api.headers(world.admin, "web", **{"Content-Type": "text/csv"})
    )
    assert response.status_code == 200, response.json
    [entry] = entries(engine, audit.IMPORT_REGISTRY)
    assert entry.user_id == world.admin.id
    assert detail(entry) == {"lines": 2, "imported": 1, "updated": 0, "members_found": 0, "rejected": 1}
    payments = "nik,contribution_month,amount,paid_at\n" + f"{valid_nik()},2025-06,16800,2025-06-10\n"
    response = api.client.post(
        f"{V}/payments/import",
        data=payments,
        headers=api.headers(world.supervisor, "web", **{"Content-Type": "text/csv"}),
    )
    assert response.status_code == 200, response.json
    [entry] = entries(engine, audit.IMPORT_PAYMENTS)
    assert entry.user_id == world.supervisor.id and detail(entry) == {"lines": 1, "imported": 0, "rejected": 1}


def test_admin_changes_and_device_revocations(api, world, engine):
    api.headers(world.agent_a)
    admin = api.headers(world.admin, "web")
    [device_id] = [e.subject_id for e in entries(engine, audit.LOGIN) if e.user_id == world.agent_a.id]
    assert api.client.delete(f"{V}/devices/{device_id}", headers=admin).status_code == 200
    assert api.client.post(f"{V}/devices/{device_id}/restore", headers=admin).status_code == 200
    created = api.client.post(
        f"{V}/users",
        json={"username": "agen.baru", "password": "kata-sandi-1", "role": "agent", "branch_id": world.karawang.id},
        headers=admin,
    ).json
    api.client.patch(
        f"{V}/users/{created['id']}", json={"password": "kata-sandi-2", "branch_id": world.makassar.id}, headers=admin
    )
    branch = api.client.post(
        f"{V}/branches",
        json={"code": "KC-BARU", "name": "KC Baru", "kind": "KC", "latitude": -6, "longitude": 107},
        headers=admin,
    ).json
    api.client.patch(f"{V}/branches/{branch['id']}", json={"name": "KC Baru Sekali"}, headers=admin)
    recorded = [(e.action, e.subject_id, detail(e)) for e in entries(engine) if e.user_id == world.admin.id]
    assert recorded[0][0] == audit.LOGIN
    assert recorded[1:] == [
        (audit.DEVICE_REVOKE, device_id, {"user_id": world.agent_a.id}),
        (audit.DEVICE_RESTORE, device_id, {"user_id": world.agent_a.id}),
        (audit.USER_CREATE, created["id"], {"role": "agent", "branch_id": world.karawang.id}),
        (
            audit.USER_UPDATE,
            created["id"],
            {"branch_id": {"from": world.karawang.id, "to": world.makassar.id}, "password": "reset"},
        ),
        (audit.BRANCH_CREATE, branch["id"], {}),
        (audit.BRANCH_UPDATE, branch["id"], {"fields": ["name"]}),
    ]
    assert "kata-sandi" not in json.dumps([e.detail for e in entries(engine)])


def test_an_admins_view_of_a_full_nik_is_listed(api, world):
    person = enrollment()
    pushed = api.push(world.agent_a, changes(enrollments={"created": [person]}), 1).json
    worker_id = pushed["results"]["enrollments"][person["id"]]["worker_id"]
    assert api.client.get(f"{V}/workers/{worker_id}", headers=api.headers(world.admin, "web")).status_code == 200
    [item] = trail(api, world, action=audit.VIEW_NIK)["items"]
    assert (item["actor_id"], item["actor_username"], item["subject_id"]) == (world.admin.id, "admin", worker_id)
    assert item["detail"] == {"note": "GET /api/v1/workers/{id}"}


def test_filters_and_pages(api, world, engine):
    for user in (world.agent_a, world.agent_b, world.agent_c):
        api.headers(user)
    api.headers(world.admin, "web")
    everything = trail(api, world, limit=500)["items"]
    assert [e["action"] for e in everything] == [audit.LOGIN] * 4
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)  # newest first
    mine = trail(api, world, actor_id=world.agent_b.id)["items"]
    assert [e["actor_username"] for e in mine] == ["agen.b"]
    first = trail(api, world, limit=3)
    rest = trail(api, world, limit=3, cursor=first["next_cursor"])
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in everything]
    assert rest["next_cursor"] is None
    at = everything[1]["at"]
    assert {e["id"] for e in trail(api, world, to=at)["items"]} == {e["id"] for e in everything if e["at"] <= at}
    assert {e["id"] for e in trail(api, world, **{"from": at})["items"]} == {
        e["id"] for e in everything if e["at"] >= at
    }
    assert trail(api, world, action="export.visits")["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "WzEsIjIiXQ"}, "cursor"),  # [1, "2"]: not a cursor this list made
        ({"cursor": "not a cursor"}, "cursor"),
        ({"action": "DROP TABLE"}, "action"),
        ({"actor_id": "x" * 65}, "actor_id"),
        ({"from": "5", "to": "4"}, "to"),
        ({"from": str(2**70)}, "from"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
    ],
)
def test_bad_filters_are_problems_naming_the_field(api, world, params, field):
    response = api.client.get(f"{V}/audit", query_string=params, headers=api.headers(world.admin, "web"))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.json["errors"]


def test_an_entry_rolls_back_with_its_action(api, world, engine, monkeypatch):
    """An action that fails after its entry was written leaves neither behind: one transaction."""
    flagged = visit(is_mock_location=True)
    assert api.push(world.agent_a, changes(visits={"created": [flagged]}), 1).status_code == 200
    spv = api.headers(world.supervisor, "web")
    real = audit.record

    def record_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(audit, "record", record_then_fail)
    review = api.client.post(
        f"{V}/visits/{flagged['id']}/flags/mock_location/review", json={"decision": "confirm"}, headers=spv
    )
    assert review.status_code == 500
    patched = api.client.patch(f"{V}/users/{world.agent_a.id}", json={"full_name": "Nama Baru"}, headers=spv)
    assert patched.status_code == 500
    monkeypatch.undo()
    assert [e.action for e in entries(engine)] == [audit.LOGIN, audit.LOGIN]
    with Session(engine) as session:
        assert session.execute(select(VisitFlagReview)).first() is None
        assert session.get(User, world.agent_a.id).full_name == world.agent_a.full_name
    refused = api.client.patch(f"{V}/users/{world.agent_a.id}", json={"password": "pendek"}, headers=spv)
    assert refused.status_code == 422
    assert [e.action for e in entries(engine)] == [audit.LOGIN, audit.LOGIN]


def test_unknown_actions_are_a_programming_error(session, world):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(session, world.admin.id, "coffee.break", table="users")
