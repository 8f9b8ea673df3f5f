"""The bare-stack baseline: what the grid page costs with nothing but Litestar, one raw
asyncpg query and the same Jinja template. Only the bench serves it (its own uvicorn);
it is not part of the product's routing.

    uvicorn app.bench.baseline:app --workers N     (DATABASE_URL = the bench database)

No middleware, no session, no CSRF, no current-user query: the contract is taken from the
URL. `app / baseline` throughput of the grid page is the figure the bench steers by.
"""

from __future__ import annotations

import os

import asyncpg
from litestar import Litestar, get
from litestar.enums import MediaType

pool: asyncpg.Pool | None = None


async def open_pool(app: Litestar) -> None:
    global pool
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=10)


async def close_pool(app: Litestar) -> None:
    if pool is not None:
        await pool.close()


@get("/health", media_type=MediaType.TEXT)
async def health() -> str:
    """200 once the pool is open."""
    return "ok"


app = Litestar(route_handlers=[health], on_startup=[open_pool], on_shutdown=[close_pool],
              debug=False)
