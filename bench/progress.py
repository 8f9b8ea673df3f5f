"""Scenario `progress`: the operator's «Ход передачи показаний» over every contract of the
dataset (10 000 at scale 1) — one aggregate query per page; first page, a state filter and a
search, each a closed loop of its own."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from bench import data
from bench.driver import close_users, closed_loop, expect

OPERATOR_EMAIL = "operator-bench@izhvodokanal.example"


async def bench_operator(url: str) -> None:
    """An operator account with the bench users' password (idempotent)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """INSERT INTO portal_user (id, email, password_hash, full_name, phone, position,
                   organization, role, locale, is_active, created_at)
               SELECT (SELECT max(id) + 1 FROM portal_user), $1, password_hash, 'Оператор',
                      phone, position, organization, 'operator', locale, true, now()
               FROM portal_user WHERE email = $2
               ON CONFLICT (email) DO NOTHING""", OPERATOR_EMAIL, data.GRID_EMAIL)
    finally:
        await conn.close()


async def scenario_progress(bench) -> None:
    from bench.scenarios import logged_in_users, record, require_route

    await bench_operator(bench.database_url)
    period = data.CURRENT_PERIOD.strftime("%Y-%m")
    last = (data.CURRENT_PERIOD - timedelta(days=1)).strftime("%Y-%m")
    pages = {
        "first page": f"/operator/progress?period={period}&kind=cold",
        "last month, every meter accepted":
            f"/operator/progress?period={last}&kind=cold",
        "state filter, page 5": f"/operator/progress?period={period}&kind=cold&state=none&page=5",
        "search by name": f"/operator/progress?period={period}&kind=cold&q=%D0%A1%D1%82%D0%BE",
    }
    # One operator, one request at a time: the figure is the response time of the page.
    users = await logged_in_users(bench.app.url, 1, OPERATOR_EMAIL)
    try:
        await require_route(users[0], pages["first page"], "«Ход передачи показаний»")
        for label, url in pages.items():
            record(bench, await closed_loop(
                f"operator progress, {label} ({bench.meta.get('contracts', '?')} contracts)",
                users, lambda vu, i, url=url: vu.get(url), expect(200, "Ход передачи показаний"),
                duration=bench.args.duration, cpu=bench.cpu(bench.app)))
    finally:
        await close_users(users)
