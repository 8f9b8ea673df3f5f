"""The bare-stack baseline: what the grid page costs with nothing but Litestar, one raw
asyncpg query and the same Jinja template. Only the bench serves it (its own uvicorn);
it is not part of the product's routing.

    DATABASE_URL=<bench db> uvicorn bench.baseline:app --workers N

No middleware, no session, no CSRF, no current-user query, no stored-window lookup (the
window is computed from the pure rule): the contract comes from the URL, the contract and
its grid rows from one query (the product's own grid SQL as a lateral join), and the page
from the product's own template and row views. `app / baseline` throughput of the grid
page is the figure the bench steers by.
"""

from __future__ import annotations

import os

import asyncpg
from litestar import Litestar, Response, get
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException

from app.controllers.readings import TEMPLATE, Screen, page_context, stored_view
from app.domain.calendar import (
    WorkingCalendar,
    candidate_periods,
    parse_period,
    period_for_windows,
    submission_window,
    window_state,
)
from app.domain.grid import GRIDS
from app.queries.contracts import CONTRACT_COLUMNS, ContractView
from app.queries.readings import GRID_SQL, GridRow
from app.render import environment
from app.security import CurrentUser
from app.settings import today

CONTRACT_FIELDS = tuple(ContractView.__dataclass_fields__)
ROW_FIELDS = tuple(GridRow.__dataclass_fields__)
BASELINE_SQL = f"""
SELECT {CONTRACT_COLUMNS}, g.*
FROM contract c JOIN counterparty cp ON cp.id = c.counterparty
LEFT JOIN LATERAL ({GRID_SQL}) g ON true
WHERE c.id = $1
"""  # one contract row: the rows come in the grid query's own ORDER BY
CALENDAR = WorkingCalendar({})

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


@get("/grid/{contract_id:int}")
async def grid(contract_id: int, period: str) -> Response:
    """The cold-reading grid page of `contract_id` for `period` (YYYY-MM)."""
    kind = GRIDS["cold"]
    try:
        chosen = parse_period(period)
    except ValueError:
        raise NotFoundException() from None
    async with pool.acquire() as conn:
        records = await conn.fetch(BASELINE_SQL, contract_id, kind.kind, chosen, None)
    if not records:
        raise NotFoundException()
    first = records[0]
    contract = ContractView(**{name: first[name] for name in CONTRACT_FIELDS})
    rows = [GridRow(**{name: r[name] for name in ROW_FIELDS})
            for r in records if r["meter_id"] is not None]
    now = today()
    periods = candidate_periods(now)
    windows = {p: submission_window(p, kind.deadline_day(contract), CALENDAR) for p in periods}
    if chosen not in windows:
        chosen = period_for_windows(now, windows)
    screen = Screen(kind, contract, [contract], periods, chosen, windows[chosen],
                    window_state(now, windows[chosen]), rows)
    user = CurrentUser(id=0, email="", full_name=contract.counterparty_name,
                       role="subscriber", locale="ru", contract_ids=[contract.id])
    context = {"request": None, "user": user, "csrf_token": "", "locale": "ru",
               "path": "/readings/cold", "today": now, "flashes": [],
               **page_context(screen, [stored_view(kind, row) for row in rows])}
    html = environment().get_template(TEMPLATE).render(context)
    return Response(html, media_type=MediaType.HTML)


app = Litestar(route_handlers=[health, grid], on_startup=[open_pool],
               on_shutdown=[close_pool], debug=False)
