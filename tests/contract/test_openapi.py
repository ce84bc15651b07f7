"""The OpenAPI document covers every API route with its request and response schemas."""

from __future__ import annotations


def test_every_route_is_documented(app, client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static",) or not rule.rule.startswith("/api/v1") or "openapi" in rule.rule:
            continue
        path = rule.rule.replace("<string:", "{").replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)


def test_push_and_pull_are_described(client):
    spec = client.get("/api/v1/openapi.json").json
    pull = spec["paths"]["/api/v1/sync/pull"]["get"]
    assert {p["name"] for p in pull["parameters"]} >= {"last_pulled_at", "schema_version", "migration"}
    push = spec["paths"]["/api/v1/sync/push"]["post"]
    assert "application/json" in push["requestBody"]["content"]
    assert {"200", "409", "413", "422"} <= set(push["responses"])
    assert "Problem" in str(spec["components"]["schemas"].keys()) or "Error" in str(spec["components"])
