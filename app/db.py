"""Thin raw-SQL helpers on Piccolo's asyncpg pool; they join Piccolo's current transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from app.piccolo_conf import DB

transaction = DB.transaction


@asynccontextmanager
async def connection() -> AsyncIterator[asyncpg.Connection]:
    """The connection of the running Piccolo transaction, else one from the pool."""
    tx = DB.current_transaction.get()
    if tx is not None:
        yield tx.connection
        return
    if DB.pool is None:
        conn = await DB.get_new_connection()
        try:
            yield conn
        finally:
            await conn.close()
        return
    async with DB.pool.acquire() as conn:
        yield conn


async def fetch(sql: str, *args: Any) -> list[asyncpg.Record]:
    async with connection() as conn:
        return await conn.fetch(sql, *args)


async def fetchrow(sql: str, *args: Any) -> asyncpg.Record | None:
    async with connection() as conn:
        return await conn.fetchrow(sql, *args)


async def fetchval(sql: str, *args: Any) -> Any:
    async with connection() as conn:
        return await conn.fetchval(sql, *args)


async def execute(sql: str, *args: Any) -> str:
    async with connection() as conn:
        return await conn.execute(sql, *args)


async def execute_outside(sql: str, *args: Any) -> str:
    """Execute on a connection of its own, outside the running transaction: for what others
    must see while that transaction is still open (an import's progress)."""
    if DB.pool is None:
        conn = await DB.get_new_connection()
        try:
            return await conn.execute(sql, *args)
        finally:
            await conn.close()
    async with DB.pool.acquire() as conn:
        return await conn.execute(sql, *args)


async def keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset of a released connection: nothing to send.

    asyncpg's default reset is one more round trip per acquire (`SELECT
    pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`), as many as the statements
    themselves. The portal leaves no session state on a pool connection for it to undo: its
    advisory locks are pg_advisory_xact_lock, its settings SET LOCAL, its cursors live inside
    a transaction, nothing LISTENs (tests/unit/test_pool_session_state.py keeps it so). What
    does need undoing asyncpg still does before calling this: an open transaction is rolled
    back and listeners are dropped (Connection._reset)."""


async def open_pool(max_size: int = 10) -> None:
    await DB.start_connection_pool(min_size=1, max_size=max_size, reset=keep_session)


async def close_pool() -> None:
    await DB.close_connection_pool()
