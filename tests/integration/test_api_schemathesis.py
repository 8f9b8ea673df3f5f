"""Property-based: schemathesis generates requests from /api/v1/openapi.json (valid and
invalid ones) and sends them with a valid submit token to the running app (a real server
process, real PostgreSQL and Redis). No 5xx; every status, content type, header and body as
the document says; invalid data never accepted. Bounded (a few examples per operation) so it
stays well under a minute."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as openapi_checks

from tests.helpers import load_demo_sync, run_sync

TOKEN: dict[str, str] = {}
CALLS = {"cases": 0}
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
]


@pytest.fixture(scope="module")
def api_server(live_server_factory):
    load_demo_sync()

    async def token() -> str:
        from app import db
        from app.controllers.profile import new_api_token
        from app.queries.api_tokens import create_token

        user = await db.fetchval(
            "SELECT id FROM portal_user WHERE email = 'demo@izhvodokanal.example'")
        value = new_api_token()
        await create_token(user, "schemathesis", "submit",
                           hashlib.sha256(value.encode()).hexdigest(),
                           datetime.now(UTC) + timedelta(days=1))
        return value

    TOKEN["value"] = run_sync(token)
    yield live_server_factory(API_RATE_LIMIT="100000")
    print(f"\nschemathesis: {CALLS['cases']} generated requests, no failure")


def _document() -> dict:
    """The document the app serves at /api/v1/openapi.json (test_api.py checks it is that)."""
    from app.web import create_app

    return create_app(manage_pool=False).openapi_schema.to_schema()


schema = schemathesis.openapi.from_dict(_document())


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case, api_server):
    CALLS["cases"] += 1
    response = case.call(base_url=api_server.url, timeout=60,
                         headers={"Authorization": f"Bearer {TOKEN['value']}"})
    case.validate_response(response, checks=CHECKS)
