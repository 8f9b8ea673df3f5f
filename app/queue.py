"""The ARQ queue as the web process opens it: Redis settings and the connection pool."""

from __future__ import annotations

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings


def redis_settings(url: str | None) -> RedisSettings:
    return RedisSettings.from_dsn(url or "redis://127.0.0.1:6379/0")


async def open_queue(url: str | None) -> ArqRedis:
    return await create_pool(redis_settings(url))
