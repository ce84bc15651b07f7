"""Login, tokens bound to devices, logout, revocation, roles and rate limits (docs/api.md)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.models import Token
from tests.factories import PASSWORD


def login(client, username, password=PASSWORD, device="phone-1"):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password, "device_id": device})


def test_login_returns_bearer_token_and_user(client, world, engine):
    """Login answers an opaque token; only its hash is stored."""
    response = login(client, "agen.a")
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer" and len(body["token"]) >= 40
    assert body["user"] == {
        "id": world.agent_a.id,
        "username": "agen.a",
        "role": "agent",
        "branch_id": world.karawang.id,
        "full_name": "Agen.A",
    }
    with Session(engine) as session:
        hashes = session.execute(select(Token.token_hash)).scalars().all()
    assert body["token"] not in hashes and len(hashes) == 1
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json["username"] == "agen.a"


def test_wrong_password_and_unknown_user_look_the_same(client, world):
    wrong = login(client, "agen.a", "salah")
    unknown = login(client, "nobody", "salah")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json["detail"] == unknown.json["detail"]


def test_logout_revokes_only_that_token(client, world):
    first = login(client, "agen.a", device="p1").json["token"]
    second = login(client, "agen.a", device="p2").json["token"]
    assert client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {first}"}).status_code == 204
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_supervisor_revokes_agent_device_of_own_branch_only(api, world, engine):
    """A revoked device's tokens stop working and it cannot log in again; other branches' devices are 404."""
    api.token(world.agent_a, "phone-a")
    api.token(world.agent_c, "phone-c")
    with Session(engine) as session:
        tokens = {t.user_id: t.device_id for t in session.execute(select(Token)).scalars()}
    device_a, device_c = tokens[world.agent_a.id], tokens[world.agent_c.id]
    spv = api.headers(world.supervisor, "web")
    assert api.client.delete(f"/api/v1/devices/{device_c}", headers=spv).status_code == 404
    response = api.client.delete(f"/api/v1/devices/{device_a}", headers=spv)
    assert response.status_code == 200 and response.json["revoked_at"]
    assert api.client.get("/api/v1/me", headers=api.headers(world.agent_a, "phone-a")).status_code == 401
    assert login(api.client, "agen.a", device="phone-a").status_code == 401
    assert api.client.get("/api/v1/me", headers=api.headers(world.agent_c, "phone-c")).status_code == 200
    agent = api.client.delete(f"/api/v1/devices/{device_c}", headers=api.headers(world.agent_b))
    assert agent.status_code == 403


def test_login_rate_limited_with_retry_after(make_app, world):
    """Past the per-user budget, login answers 429 with Retry-After, even with the right password."""
    app = make_app(LOGIN_RATE_LIMIT=3)
    client = app.test_client()
    statuses = [login(client, "agen.b", "salah").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    limited = login(client, "agen.b")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.mimetype == "application/problem+json"
