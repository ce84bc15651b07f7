"""Users, devices and branches (docs/api.md "Users, devices and branches"): who may do what, and bad input.

Every refusal is a problem document naming the field; nothing here may answer 5xx.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.models import Branch, Device, Token, User
from sync.models.contest import UserBranchHistory
from tests.factories import PASSWORD, make_user

V = "/api/v1"
NEW_PASSWORD = "kata-sandi-baru-1"


def problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:400])
    assert response.mimetype == "application/problem+json"
    if field:
        assert field in response.json["errors"], response.json
    return response.json


def call(api, user, method: str, path: str, device: str = "web", **kwargs):
    return api.client.open(f"{V}{path}", method=method, headers=api.headers(user, device), **kwargs)


def login(api, username: str, password: str = PASSWORD, device: str = "phone-9"):
    return api.client.post(f"{V}/auth/login", json={"username": username, "password": password, "device_id": device})


def listed(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return [item["username"] for item in response.json["items"]]


# --- users ------------------------------------------------------------------------------------------


def test_users_are_listed_by_scope(api, world):
    everyone = listed(call(api, world.admin, "GET", "/users"))
    assert everyone == sorted(u.username for u in vars(world).values() if isinstance(u, User))
    branch = listed(call(api, world.supervisor, "GET", "/users"))
    assert branch == ["agen.a", "agen.b", "spv.karawang"]
    assert listed(call(api, world.supervisor, "GET", "/users", query_string={"role": "agent"})) == ["agen.a", "agen.b"]
    assert listed(call(api, world.supervisor, "GET", "/users", query_string={"branch_id": world.makassar.id})) == []
    problem(call(api, world.agent_a, "GET", "/users", "phone-1"), 403)


def test_users_are_paginated(api, world):
    first = call(api, world.admin, "GET", "/users", query_string={"limit": 4})
    second = call(api, world.admin, "GET", "/users", query_string={"limit": 4, "cursor": first.json["next_cursor"]})
    assert len(listed(first)) == 4 and len(listed(second)) == 2 and second.json["next_cursor"] is None
    assert listed(first) + listed(second) == sorted(listed(first) + listed(second))
    problem(call(api, world.admin, "GET", "/users", query_string={"cursor": "bm90LWEtY3Vyc29y"}), 422, "cursor")


def test_admin_creates_users_who_can_log_in(api, world):
    body = {"username": "agen.baru", "password": NEW_PASSWORD, "role": "agent", "branch_id": world.makassar.id}
    created = call(api, world.admin, "POST", "/users", json=body | {"full_name": "Agen Baru"})
    assert created.status_code == 201, created.json
    assert created.json["branch_code"] == world.makassar.code and created.json["disabled"] is False
    assert "password" not in created.json and "password_hash" not in created.json
    assert login(api, "agen.baru", NEW_PASSWORD).status_code == 200
    admin = call(
        api, world.admin, "POST", "/users", json={"username": "admin2", "password": NEW_PASSWORD, "role": "admin"}
    )
    assert admin.status_code == 201 and admin.json["branch_id"] is None


def test_a_supervisor_creates_agents_of_their_own_branch_only(api, world):
    own = call(
        api, world.supervisor, "POST", "/users", json={"username": "agen.c2", "password": NEW_PASSWORD, "role": "agent"}
    )
    assert own.status_code == 201 and own.json["branch_id"] == world.karawang.id
    body = {"username": "spv.x", "password": NEW_PASSWORD, "role": "supervisor"}
    problem(call(api, world.supervisor, "POST", "/users", json=body), 403, "role")
    body = {"username": "agen.x", "password": NEW_PASSWORD, "role": "agent", "branch_id": world.makassar.id}
    problem(call(api, world.supervisor, "POST", "/users", json=body), 403, "branch_id")
    problem(call(api, world.agent_a, "POST", "/users", "phone-1", json=body), 403)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "agen.a", "password": NEW_PASSWORD, "role": "agent"}, "username"),  # taken
        ({"username": "Agen Besar", "password": NEW_PASSWORD, "role": "agent"}, "username"),
        ({"username": "agen.z", "password": "pendek", "role": "agent"}, "password"),
        ({"username": "agen.z", "password": NEW_PASSWORD, "role": "boss"}, "role"),
        ({"username": "agen.z", "password": NEW_PASSWORD, "role": "agent", "branch_id": "NOPE"}, "branch_id"),
        ({"username": "agen.z", "password": NEW_PASSWORD, "role": "agent", "branch_id": None}, "branch_id"),
        ({"username": 5, "password": NEW_PASSWORD, "role": "agent"}, "username"),
        ({"username": "agen.z", "password": ["x"], "role": "agent"}, "password"),
        ({"username": "agen.z", "password": NEW_PASSWORD, "role": "agent", "full_name": "x" * 201}, "full_name"),
        ({"username": "agen.z", "password": NEW_PASSWORD, "role": "agent", "full_name": "a\x01b"}, "full_name"),
        ({"username": "agen.z", "password": NEW_PASSWORD, "role": "agent", "is_admin": True}, "is_admin"),
        ({"username": "u" * 101, "password": NEW_PASSWORD, "role": "agent"}, "username"),
        ({"password": NEW_PASSWORD, "role": "agent"}, "username"),
    ],
)
def test_bad_new_users_are_refused_naming_the_field(api, world, body, field):
    problem(call(api, world.admin, "POST", "/users", json=body), 422, field)


def test_a_nul_byte_is_refused_at_the_edge(api, world):
    body = {"username": "agen\u0000z", "password": NEW_PASSWORD, "role": "agent", "branch_id": world.karawang.id}
    problem(call(api, world.admin, "POST", "/users", json=body), 400)


def test_moving_a_branch_revokes_no_token_and_keeps_history(api, world, engine):
    headers = api.headers(world.agent_a)  # a phone token from before the move
    moved = call(api, world.admin, "PATCH", f"/users/{world.agent_a.id}", json={"branch_id": world.makassar.id})
    assert moved.status_code == 200 and moved.json["branch_code"] == world.makassar.code
    me = api.client.get(f"{V}/me", headers=headers)
    assert me.status_code == 200 and me.json["branch_id"] == world.makassar.id
    with Session(engine) as session:
        history = session.execute(
            select(UserBranchHistory.branch_id).where(UserBranchHistory.user_id == world.agent_a.id)
            .order_by(UserBranchHistory.since, UserBranchHistory.id)
        ).scalars().all()  # fmt: skip
    assert history == [world.karawang.id, world.makassar.id]
    # The Karawang supervisor no longer manages A1.
    problem(call(api, world.supervisor, "PATCH", f"/users/{world.agent_a.id}", json={"full_name": "X"}), 404)


def test_disable_enable_and_reset_a_password(api, world):
    headers = api.headers(world.agent_a)
    path = f"/users/{world.agent_a.id}"
    assert call(api, world.supervisor, "PATCH", path, json={"disabled": True}).json["disabled"] is True
    problem(api.client.get(f"{V}/me", headers=headers), 401)
    problem(login(api, world.agent_a.username), 401)
    assert call(api, world.supervisor, "PATCH", path, json={"disabled": False}).json["disabled"] is False
    assert api.client.get(f"{V}/me", headers=headers).status_code == 200
    reset = call(api, world.supervisor, "PATCH", path, json={"password": NEW_PASSWORD, "full_name": "  Agus  "})
    assert reset.status_code == 200 and reset.json["full_name"] == "Agus"
    problem(login(api, world.agent_a.username), 401)
    assert login(api, world.agent_a.username, NEW_PASSWORD).status_code == 200


def test_a_supervisor_never_touches_supervisors_admins_or_other_branches(api, world, session):
    peer = make_user(session, "spv2.karawang", "supervisor", world.karawang)
    session.commit()
    for target in (peer, world.admin, world.agent_c, world.supervisor_makassar):
        problem(call(api, world.supervisor, "PATCH", f"/users/{target.id}", json={"full_name": "X"}), 404)
    path = f"/users/{world.agent_a.id}"
    problem(call(api, world.supervisor, "PATCH", path, json={"role": "supervisor"}), 403, "role")
    problem(call(api, world.supervisor, "PATCH", path, json={"branch_id": world.makassar.id}), 403, "branch_id")
    assert call(api, world.supervisor, "PATCH", path, json={"role": "agent"}).status_code == 200
    problem(call(api, world.agent_b, "PATCH", path, "phone-1", json={"full_name": "X"}), 403)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"role": "boss"}, "role"),
        ({"role": 3}, "role"),
        ({"disabled": "maybe"}, "disabled"),
        ({"disabled": None}, "disabled"),
        ({"password": "short"}, "password"),
        ({"branch_id": "NOPE"}, "branch_id"),
        ({"branch_id": None}, "branch_id"),  # an agent belongs to a branch
        ({"branch_id": 12345678901234567890}, "branch_id"),
        ({"username": "renamed"}, "username"),
    ],
)
def test_bad_changes_are_refused_naming_the_field(api, world, body, field):
    problem(call(api, world.admin, "PATCH", f"/users/{world.agent_a.id}", json=body), 422, field)


def test_nobody_demotes_or_disables_themselves(api, world):
    path = f"/users/{world.admin.id}"
    problem(call(api, world.admin, "PATCH", path, json={"role": "agent", "branch_id": world.karawang.id}), 422, "role")
    problem(call(api, world.admin, "PATCH", path, json={"disabled": True}), 422, "disabled")
    assert call(api, world.admin, "PATCH", path, json={"full_name": "Admin Pusat"}).status_code == 200


def test_unknown_users_are_404(api, world):
    problem(call(api, world.admin, "PATCH", "/users/no-such-user", json={"full_name": "X"}), 404)
    problem(call(api, world.admin, "PATCH", "/users/" + "x" * 300, json={"full_name": "X"}), 404)


def test_a_promotion_needs_nothing_more_and_a_demotion_to_agent_needs_a_branch(api, world, session):
    boss = make_user(session, "boss", "admin", None)
    session.commit()
    problem(call(api, world.admin, "PATCH", f"/users/{boss.id}", json={"role": "agent"}), 422, "branch_id")
    ok = call(api, world.admin, "PATCH", f"/users/{boss.id}", json={"role": "agent", "branch_id": world.karawang.id})
    assert ok.status_code == 200 and ok.json["role"] == "agent"
    promoted = call(api, world.admin, "PATCH", f"/users/{world.agent_b.id}", json={"role": "supervisor"})
    assert promoted.status_code == 200 and promoted.json["role"] == "supervisor"


# --- devices ----------------------------------------------------------------------------------------


def device_of(engine, user: User, client_id: str = "phone-1") -> Device:
    with Session(engine) as session:
        return session.execute(
            select(Device).where(Device.user_id == user.id, Device.client_device_id == client_id)
        ).scalar_one()


def test_devices_are_listed_revoked_and_restored(api, world, engine):
    headers = api.headers(world.agent_a)
    api.headers(world.agent_c)
    device = device_of(engine, world.agent_a)
    listed_ids = [d["id"] for d in call(api, world.supervisor, "GET", "/devices").json["items"]]
    assert listed_ids == [device.id]
    mine = call(api, world.admin, "GET", "/devices", query_string={"user_id": world.agent_a.id}).json["items"]
    assert [d["id"] for d in mine] == [device.id]
    assert (
        call(api, world.supervisor, "GET", "/devices", query_string={"user_id": world.agent_c.id}).json["items"] == []
    )

    revoked = call(api, world.supervisor, "DELETE", f"/devices/{device.id}")
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    problem(api.client.get(f"{V}/me", headers=headers), 401)
    problem(login(api, world.agent_a.username, device="phone-1"), 401)

    restored = call(api, world.supervisor, "POST", f"/devices/{device.id}/restore")
    assert restored.status_code == 200 and restored.json["revoked_at"] is None
    problem(api.client.get(f"{V}/me", headers=headers), 401)  # its old token stays revoked
    assert login(api, world.agent_a.username, device="phone-1").status_code == 200
    again = call(api, world.supervisor, "POST", f"/devices/{device.id}/restore")
    assert again.status_code == 200  # restoring a device in use changes nothing
    with Session(engine) as session:
        live = session.execute(select(Token).where(Token.device_id == device.id, Token.revoked_at.is_(None))).all()
    assert len(live) == 1


def test_device_routes_are_scoped(api, world, engine):
    api.headers(world.agent_c)
    other = device_of(engine, world.agent_c)
    problem(call(api, world.supervisor, "DELETE", f"/devices/{other.id}"), 404)
    problem(call(api, world.supervisor, "POST", f"/devices/{other.id}/restore"), 404)
    problem(call(api, world.admin, "POST", "/devices/no-such-device/restore"), 404)
    problem(call(api, world.agent_a, "GET", "/devices", "phone-1"), 403)
    problem(call(api, world.admin, "GET", "/devices", query_string={"user_id": "bad id!"}), 422, "user_id")


# --- branches ---------------------------------------------------------------------------------------

BRANCH = {"code": "KC-INDRAMAYU", "name": "KC Indramayu", "kind": "KC", "latitude": -6.33, "longitude": 108.32}


def test_branches_are_listed_created_and_changed(api, world, engine):
    codes = [b["code"] for b in call(api, world.supervisor, "GET", "/branches").json["items"]]
    assert codes == ["KCU-KARAWANG", "KCU-MAKASSAR"]
    created = call(api, world.admin, "POST", "/branches", json=BRANCH | {"region": "Jawa Barat"})
    assert created.status_code == 201 and created.json["code"] == "KC-INDRAMAYU"
    changed = call(api, world.admin, "PATCH", f"/branches/{created.json['id']}", json={"name": "KC Indramayu Kota"})
    assert changed.status_code == 200 and changed.json["name"] == "KC Indramayu Kota"
    same_code = call(api, world.admin, "PATCH", f"/branches/{created.json['id']}", json={"code": "KC-INDRAMAYU"})
    assert same_code.status_code == 200  # its own code is not a duplicate
    with Session(engine) as session:
        assert session.execute(select(Branch.name).where(Branch.code == "KC-INDRAMAYU")).scalar_one() == (
            "KC Indramayu Kota"
        )
    first = call(api, world.admin, "GET", "/branches", query_string={"limit": 2})
    rest = call(api, world.admin, "GET", "/branches", query_string={"cursor": first.json["next_cursor"]})
    assert [b["code"] for b in first.json["items"] + rest.json["items"]] == [
        "KC-INDRAMAYU",
        "KCU-KARAWANG",
        "KCU-MAKASSAR",
    ]


def test_only_admins_change_branches(api, world):
    problem(call(api, world.supervisor, "POST", "/branches", json=BRANCH), 403)
    problem(call(api, world.supervisor, "PATCH", f"/branches/{world.karawang.id}", json={"name": "X"}), 403)
    problem(call(api, world.agent_a, "GET", "/branches", "phone-1"), 403)
    problem(call(api, world.admin, "PATCH", "/branches/no-such-branch", json={"name": "X"}), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (BRANCH | {"code": "KCU-KARAWANG"}, "code"),  # taken
        (BRANCH | {"code": "kc lower"}, "code"),
        (BRANCH | {"kind": "KANTOR"}, "kind"),
        (BRANCH | {"latitude": 50}, "latitude"),
        (BRANCH | {"longitude": 1e308}, "longitude"),
        (BRANCH | {"latitude": "utara"}, "latitude"),
        (BRANCH | {"latitude": True}, "latitude"),
        (BRANCH | {"longitude": None}, "longitude"),
        (BRANCH | {"name": "   "}, "name"),
        (BRANCH | {"name": 7}, "name"),
        (BRANCH | {"region": "x" * 201}, "region"),
        ({k: v for k, v in BRANCH.items() if k != "kind"}, "kind"),
    ],
)
def test_bad_branches_are_refused_naming_the_field(api, world, body, field):
    problem(call(api, world.admin, "POST", "/branches", json=body), 422, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"code": "KCU-MAKASSAR"}, "code"),
        ({"latitude": -90}, "latitude"),
        ({"longitude": 10**400}, "longitude"),
        ({"kind": ["KC"]}, "kind"),
    ],
)
def test_bad_branch_changes_are_refused_naming_the_field(api, world, body, field):
    problem(call(api, world.admin, "PATCH", f"/branches/{world.karawang.id}", json=body), 422, field)
