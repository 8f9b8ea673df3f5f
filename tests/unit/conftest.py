"""Unit tests stay pure: no PostgreSQL, no Redis, no embedded launcher — a test that needs one
of them is an integration test and belongs in tests/integration.

Enforced, not hoped for: a unit test asking for a database fixture fails before it runs, and
any attempt to connect to PostgreSQL or Redis during a unit test fails with this advice (the
session pool of a whole-suite run is hidden while a unit test runs, so even a test that finds
it open cannot use it).
"""

from __future__ import annotations

import sys

import asyncpg
import pytest
import redis.asyncio.connection
import redis.connection

from tests import servers

SERVER_FIXTURES = {"pool", "clean_db", "demo_db", "client", "auth", "live_server",
                   "live_server_factory"}
ADVICE = "unit tests use no PostgreSQL or Redis: move {} to tests/integration"


def pytest_configure(config: pytest.Config) -> None:
    # A unit-only run points DATABASE_URL nowhere (tests/servers.py); Piccolo's engine still
    # tries its version check when the tables are first imported, and says so in a warning.
    config.addinivalue_line("filterwarnings", "ignore:.*Unable to fetch server version")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if used := SERVER_FIXTURES.intersection(item.fixturenames):
        pytest.fail(f"{ADVICE.format(item.nodeid)} (it asks for {', '.join(sorted(used))})",
                    pytrace=False)
    if not servers.state.started and "devstack.embedded" in sys.modules:
        pytest.fail("something under tests/unit imported the embedded PostgreSQL/Redis "
                    "launcher (devstack.embedded)", pytrace=False)


@pytest.fixture(autouse=True)
def _no_servers(request, monkeypatch):
    def refuse(*args, **kwargs):
        pytest.fail(ADVICE.format(request.node.nodeid), pytrace=False)

    async def refuse_async(*args, **kwargs):
        refuse()

    monkeypatch.setattr(asyncpg, "connect", refuse_async)
    monkeypatch.setattr(asyncpg, "create_pool", refuse)
    monkeypatch.setattr(redis.asyncio.connection.AbstractConnection, "connect", refuse_async)
    monkeypatch.setattr(redis.connection.AbstractConnection, "connect", refuse)
    if piccolo_conf := sys.modules.get("app.piccolo_conf"):
        monkeypatch.setattr(piccolo_conf.DB, "pool", None)
