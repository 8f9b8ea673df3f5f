"""The readiness probe's question to PostgreSQL."""

from __future__ import annotations

from app import db


async def database_answers() -> bool:
    """True when a connection from the pool runs a query."""
    return await db.fetchval("SELECT 1") == 1
