"""The guard of tests/unit/conftest.py: a unit test that reaches for PostgreSQL or Redis fails."""

from __future__ import annotations

import pytest


async def test_a_query_fails_with_the_advice_to_move_the_test():
    from app import db

    with pytest.raises(pytest.fail.Exception, match="move .* to tests/integration"):
        await db.fetchval("SELECT 1")


async def test_redis_fails_with_the_advice_to_move_the_test():
    from redis.asyncio import Redis

    client = Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        with pytest.raises(pytest.fail.Exception, match="move .* to tests/integration"):
            await client.ping()
    finally:
        await client.aclose()


def test_sync_redis_fails_too():
    from redis import Redis

    with pytest.raises(pytest.fail.Exception, match="tests/integration"):
        Redis.from_url("redis://127.0.0.1:6379/15").ping()
