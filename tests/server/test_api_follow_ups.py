"""Follow-ups and reminders over HTTP: scoping (404 outside), reassign, overdue list, retry, opt-out."""

from __future__ import annotations

import json

from sync.protocol.clock import now_ms
from sync.reminders.channels import signed_headers
from tests.factories import changes, enrollment, visit, webhook_secret


def spv(api, world, **extra):
    return api.headers(world.supervisor, "web", **extra)


def test_create_list_patch_follow_up(api, world):
    _, pushed = api.sync(world.agent_a, changes(visits={"created": [visit(outcome="interested")]}))
    listed = api.client.get("/api/v1/follow-ups", headers=spv(api, world))
    assert listed.status_code == 200 and len(listed.json["items"]) == 1
    fid = listed.json["items"][0]["id"]
    other = api.client.get("/api/v1/follow-ups", headers=api.headers(world.supervisor_makassar, "web"))
    assert other.json["items"] == []
    assert (
        api.client.patch(
            f"/api/v1/follow-ups/{fid}", json={"status": "done"}, headers=api.headers(world.supervisor_makassar, "web")
        ).status_code
        == 404
    )
    moved = api.client.patch(
        f"/api/v1/follow-ups/{fid}", json={"assigned_agent_id": world.agent_b.id}, headers=spv(api, world)
    )
    assert moved.status_code == 200 and moved.json["assigned_agent_id"] == world.agent_b.id
    assert api.client.patch(f"/api/v1/follow-ups/{fid}", json={}, headers=spv(api, world)).status_code == 422
    created = api.client.post(
        "/api/v1/follow-ups",
        json={
            "assigned_agent_id": world.agent_a.id,
            "due_at": now_ms() - 3 * 86_400_000,
            "kind": "document_collection",
        },
        headers=spv(api, world),
    )
    assert created.status_code == 201 and created.json["overdue"] is True
    overdue = api.client.get("/api/v1/follow-ups?overdue=true", headers=spv(api, world))
    assert [f["id"] for f in overdue.json["items"]] == [created.json["id"]]
    mine = api.client.get("/api/v1/follow-ups", headers=api.headers(world.agent_a))
    assert {f["assigned_agent_id"] for f in mine.json["items"]} == {world.agent_a.id}
    bad = api.client.post(
        "/api/v1/follow-ups", json={"assigned_agent_id": world.agent_c.id, "due_at": now_ms()}, headers=spv(api, world)
    )
    assert bad.status_code == 422 and "assigned_agent_id" in bad.json["errors"]


def test_supervisor_message_retry_and_scope(api, world):
    _, pushed = api.sync(world.agent_a, changes(enrollments={"created": [enrollment()]}))
    worker_id = next(iter(pushed.json["results"]["enrollments"].values()))["worker_id"]
    sent = api.client.post(
        "/api/v1/reminders", json={"worker_id": worker_id, "text": "Rapat RW jam 19.00"}, headers=spv(api, world)
    )
    assert sent.status_code == 201 and sent.json["status"] == "pending" and sent.json["recipient_type"] == "worker"
    outside = api.client.post(
        "/api/v1/reminders",
        json={"worker_id": worker_id, "text": "x"},
        headers=api.headers(world.supervisor_makassar, "web"),
    )
    assert outside.status_code == 404
    both = api.client.post(
        "/api/v1/reminders",
        json={"worker_id": worker_id, "agent_id": world.agent_a.id, "text": "x"},
        headers=spv(api, world),
    )
    assert both.status_code == 422
    to_agent = api.client.post(
        "/api/v1/reminders", json={"agent_id": world.agent_b.id, "text": "Briefing"}, headers=spv(api, world)
    )
    assert to_agent.status_code == 201
    listed = api.client.get("/api/v1/reminders?status=pending", headers=spv(api, world))
    assert {r["id"] for r in listed.json["items"]} == {sent.json["id"], to_agent.json["id"]}
    assert (
        api.client.get("/api/v1/reminders", headers=api.headers(world.supervisor_makassar, "web")).json["items"] == []
    )
    assert api.client.get("/api/v1/reminders", headers=api.headers(world.agent_a)).status_code == 403
    assert api.client.post(f"/api/v1/reminders/{sent.json['id']}/retry", headers=spv(api, world)).status_code == 409


def test_opt_out_needs_the_webhook_signature(api, world, app):
    with webhook_secret(app, "s3cret"):
        body = json.dumps({"phone": "0812-1111-2222"}).encode()
        unsigned = api.client.post("/api/v1/reminders/opt-out", data=body, content_type="application/json")
        assert unsigned.status_code == 401
        signed = api.client.post(
            "/api/v1/reminders/opt-out",
            data=body,
            content_type="application/json",
            headers=signed_headers(body, "s3cret"),
        )
        assert signed.status_code == 200 and signed.json == {"opted_out": True, "phone_masked": "+62812*****222"}
        bad = json.dumps({"phone": "0062812"}).encode()
        invalid = api.client.post(
            "/api/v1/reminders/opt-out",
            data=bad,
            content_type="application/json",
            headers=signed_headers(bad, "s3cret"),
        )
        assert invalid.status_code == 422
