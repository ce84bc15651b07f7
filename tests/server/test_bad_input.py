"""Bad input is answered with problem+json naming the field, never a 5xx, never a partial write."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.factories import changes, enrollment, visit


def assert_problem(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == status and body["title"] and body["type"]
    if field:
        assert field in body["errors"], body


def nothing_stored(api, user):
    pulled = api.pull(user, device="checker")
    return all(not pulled.json["changes"][t]["created"] for t in ("enrollments", "visits", "follow_ups"))


def test_missing_and_bad_tokens(client, world):
    """No token, a malformed header or an unknown token → 401 problem naming Authorization."""
    assert_problem(client.get("/api/v1/sync/pull"), 401, "Authorization")
    assert_problem(client.get("/api/v1/sync/pull", headers={"Authorization": "Basic abc"}), 401, "Authorization")
    assert_problem(client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}), 401)


def test_malformed_json(api, world):
    response = api.client.post(
        "/api/v1/sync/push?last_pulled_at=1",
        data=b'{"changes": {',
        headers=api.headers(world.agent_a, **{"Content-Type": "application/json"}),
    )
    assert_problem(response, 400, "body")
    assert nothing_stored(api, world.agent_a)


def test_wrong_content_type(api, world):
    response = api.client.post(
        "/api/v1/sync/push?last_pulled_at=1",
        data=b"changes=1",
        headers=api.headers(world.agent_a, **{"Content-Type": "text/plain"}),
    )
    assert_problem(response, 415, "Content-Type")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"changes": []}, "changes"),
        ({"changes": {"payments": {"created": [], "updated": [], "deleted": []}}}, "changes.payments"),
        ({"changes": {"visits": []}}, "changes.visits"),
        ({"changes": {"visits": {"created": {}, "updated": [], "deleted": []}}}, "changes.visits.created"),
        ({"changes": {"visits": {"created": [], "updated": [], "deleted": [7]}}}, "changes.visits.deleted[0]"),
        ({"changes": {"visits": {"created": [], "updated": [], "deleted": [], "moved": []}}}, "changes.visits.moved"),
        ({"changes": {}, "extra": 1}, "extra"),
        ([1, 2], "body"),
    ],
)
def test_envelope_errors_name_the_field(api, world, body, field):
    """Structural problems refuse the whole push with 422 and the path of the offending field."""
    good = visit()
    if isinstance(body, dict) and isinstance(body.get("changes"), dict):
        body["changes"].setdefault("enrollments", {"created": [enrollment()], "updated": [], "deleted": []})
    response = api.client.post("/api/v1/sync/push?last_pulled_at=1", json=body, headers=api.headers(world.agent_a))
    assert_problem(response, 422, field)
    assert good and nothing_stored(api, world.agent_a)


def test_unknown_column_is_refused_with_its_path(api, world):
    """A column the schema does not know is refused, naming it; nothing of the push is written."""
    body = changes(visits={"created": [visit(), dict(visit(), colour="red")]}, enrollments={"created": [enrollment()]})
    response = api.push(world.agent_a, body, 1)
    assert_problem(response, 422, "changes.visits.created[1].colour")
    assert nothing_stored(api, world.agent_a)


def test_wrong_value_types_are_sanitised_or_reported_per_record(api, world):
    """Coercible values are converted; impossible ones are dropped and reported on that record only."""
    ok = visit(latitude="-6.3227", longitude=107.3376, accuracy_m="12", is_mock_location=0)
    bad = visit(latitude={"x": 1}, visited_at="yesterday")
    e = enrollment(monthly_income="banyak", sex="l")
    response = api.push(world.agent_a, changes(visits={"created": [ok, bad]}, enrollments={"created": [e]}), 1)
    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert results["visits"][ok["id"]]["status"] == "accepted"
    assert set(results["visits"][bad["id"]]["errors"]) >= {"latitude", "visited_at"}
    assert results["enrollments"][e["id"]]["status"] == "needs_correction"
    assert "monthly_income" in results["enrollments"][e["id"]]["errors"]
    pulled = api.pull(world.agent_a, device="x").json["changes"]
    stored = {r["id"]: r for r in pulled["visits"]["created"]}
    assert stored[ok["id"]]["latitude"] == -6.3227 and stored[ok["id"]]["is_mock_location"] is False
    assert pulled["enrollments"]["created"][0]["sex"] == "M"


def test_bad_ids_are_rejected_per_record(api, world):
    """Records with an invalid id or that are not objects are rejected alone; the rest is stored."""
    good = visit()
    body = changes(visits={"created": [good, dict(visit(), id="bad/id"), "not-a-record"]})
    response = api.push(world.agent_a, body, 1)
    assert response.status_code == 200
    assert response.json["experimentalRejectedIds"] == {"visits": ["bad/id"]}
    assert response.json["results"]["visits"]["#created[2]"]["status"] == "rejected"
    assert response.json["results"]["visits"][good["id"]]["status"] == "accepted"


@pytest.mark.parametrize("value", ["abc", "-5", "1.5e3x"])
def test_bad_last_pulled_at(api, world, value):
    assert_problem(api.pull(world.agent_a, value), 422, "last_pulled_at")
    assert_problem(api.push(world.agent_a, changes(), value), 422, "last_pulled_at")


def test_bad_migration_parameter(api, world):
    response = api.pull(world.agent_a, migration='{"from": "x"')
    assert_problem(response, 422, "migration")


def test_gzip_body_accepted(api, world):
    """A gzip-compressed push (Content-Encoding: gzip) is decoded and applied."""
    v = visit()
    raw = gzip.compress(json.dumps({"changes": changes(visits={"created": [v]})}).encode())
    response = api.client.post(
        "/api/v1/sync/push?last_pulled_at=1",
        data=raw,
        headers=api.headers(world.agent_a, **{"Content-Type": "application/json", "Content-Encoding": "gzip"}),
    )
    assert response.status_code == 200, response.json
    assert response.json["results"]["visits"][v["id"]]["status"] == "accepted"


def test_gzip_bomb_and_bad_gzip(api, world, app):
    """A body that inflates past the limit is 413 without being expanded; broken gzip is 400."""
    bomb = gzip.compress(b" " * (app.config["MAX_BODY_BYTES"] + 10))
    headers = api.headers(world.agent_a, **{"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert len(bomb) < 100_000
    assert_problem(api.client.post("/api/v1/sync/push?last_pulled_at=1", data=bomb, headers=headers), 413, "body")
    assert_problem(api.client.post("/api/v1/sync/push?last_pulled_at=1", data=b"not gzip", headers=headers), 400)
    login_bomb = api.client.post(
        "/api/v1/auth/login", data=bomb, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    assert_problem(login_bomb, 413)
    assert_problem(
        api.client.post(
            "/api/v1/sync/push?last_pulled_at=1", data=b"{}", headers={**headers, "Content-Encoding": "br"}
        ),
        415,
        "Content-Encoding",
    )


def test_too_many_records(api, world):
    """More than 5,000 records in one push is 413."""
    body = changes(visits={"deleted": [f"id{n}" for n in range(5001)]})
    assert_problem(api.push(world.agent_a, body, 1), 413)


def test_unknown_route_and_wrong_method(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    assert_problem(client.delete("/api/v1/sync/pull"), 405)


def test_login_bad_input_names_fields(client):
    assert_problem(client.post("/api/v1/auth/login", json={"username": "x"}), 422, "password")
    assert_problem(
        client.post("/api/v1/auth/login", json={"username": "x", "password": "y", "role": "admin"}), 422, "role"
    )


def test_supervisors_do_not_sync(api, world):
    """Only agents sync: a supervisor's pull or push is 403, not a crash."""
    assert_problem(api.pull(world.supervisor), 403)
    assert_problem(api.push(world.supervisor, changes(), 1), 403)
