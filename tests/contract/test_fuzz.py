"""Schemathesis fuzzes every documented route: no input may cause a 5xx, and errors are problem+json."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.factories import ApiHelper

FUZZ_SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)


def test_no_server_errors(app, client, world):
    """Whatever the generated input, sent as an agent and as an admin, the answer is below 500 and every error
    is a problem document."""
    helper = ApiHelper(client, world)
    tokens = [helper.token(user, "fuzz") for user in (world.agent_a, world.admin)]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @FUZZ_SETTINGS
        def check(case):
            for token in tokens:
                response = case.call(headers={"Authorization": f"Bearer {token}"})
                where = (case.method, case.formatted_path, response.text[:300])
                # /readyz documents its 503 (the test database is built without Alembic's version stamp)
                assert response.status_code < 500 or case.formatted_path == "/readyz", where
                if response.status_code >= 400 and case.formatted_path != "/readyz":
                    content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"]
                    assert "application/problem+json" in str(content_type), where

        check()
