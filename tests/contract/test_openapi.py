"""The OpenAPI document covers every API route with its request and response schemas."""

from __future__ import annotations

from schemas.sync import RECORD_SCHEMAS
from sync.tables import TABLES


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


def test_record_schemas_match_the_engine_whitelist():
    """The documented records and the columns the engine emits are the same, column for column."""
    for table, columns in TABLES.items():
        documented = set(RECORD_SCHEMAS[table]().fields) - {"id"}
        assert documented == {c.name for c in columns}, table


def test_visit_enums_match_the_engine():
    """schemas/ may not import the engine, so its copies of the flag and outcome lists are checked here."""
    from schemas import visits as visit_schemas
    from sync.geo.flags import FLAGS
    from sync.validation.visit import OUTCOMES

    assert visit_schemas.FLAGS == FLAGS
    assert visit_schemas.OUTCOMES == OUTCOMES
