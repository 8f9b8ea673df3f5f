"""Scenario `dashboard`: home (SPEC §11) of a subscriber linked to 50 contracts.

Home reads every linked contract at once, one query per block; this measures what a big
organization's home costs: throughput at the bench's connections, and with one connection
the server time per request (latency p50) and the PostgreSQL transactions per request,
from pg_stat_database: every statement outside a transaction is one, and so is the pool's
reset query each time a connection goes back to the pool (asyncpg resets on release).
"""

from __future__ import annotations

import asyncpg

from bench import data
from bench.driver import close_users, closed_loop, expect, make_users

DASHBOARD_EMAIL = "bench-dashboard@bench.example"
DASHBOARD_CONTRACTS = 50


async def dashboard_user(url: str, contracts: int = DASHBOARD_CONTRACTS) -> int:
    """A subscriber linked to the `contracts` contracts with the highest ids (beyond the
    surge's users and the export's), created once; its links are rebuilt each run."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            uid = await data.clone_grid_user(conn, DASHBOARD_EMAIL, "Пятьдесят Договоров")
            await conn.execute('DELETE FROM contract_link WHERE "user" = $1', uid)
            await conn.execute(
                """INSERT INTO contract_link (id, "user", contract, created_at)
                   SELECT (SELECT max(id) FROM contract_link) + row_number() OVER (ORDER BY id),
                          $1, id, now()
                   FROM (SELECT id FROM contract ORDER BY id DESC LIMIT $2) c""",
                uid, contracts)
        return uid
    finally:
        await conn.close()


async def transactions(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(
            """SELECT xact_commit + xact_rollback FROM pg_stat_database
               WHERE datname = current_database()""")
    finally:
        await conn.close()


async def scenario_dashboard(bench) -> None:
    from bench.scenarios import record  # (scenarios registers this module: no cycle at load)

    await dashboard_user(bench.database_url)
    check = expect(200, "Что нужно сделать")
    users = await make_users(bench.app.url, bench.args.connections)
    try:
        await users[0].login(DASHBOARD_EMAIL, data.PASSWORD)
        users[0].share_session_with(users[1:])
        first = await users[0].get("/")  # stores any missing window: not measured
        rows = first.text.count('<tr id="row-')
        record(bench, await closed_loop(
            f"home, {DASHBOARD_CONTRACTS} contracts ({rows} rows)", users,
            lambda vu, i: vu.get("/"), check, duration=bench.args.duration,
            cpu=bench.cpu(bench.app)), contracts=DASHBOARD_CONTRACTS, rows=rows)
        # one connection: latency ≈ server time; the database's transactions per request
        before = await transactions(bench.database_url)
        single = await closed_loop(
            f"home, {DASHBOARD_CONTRACTS} contracts, 1 connection", users[:1],
            lambda vu, i: vu.get("/"), check, duration=bench.args.duration, warmup=0.0,
            cpu=bench.cpu(bench.app))
        after = await transactions(bench.database_url)
        # the stats collector reports at transaction end: a few of ours may land late,
        # the worker's own (rare, cron) are in it too — a ceiling, not an exact count
        per_request = (after - before) / single.requests if single.requests else 0
        record(bench, single, pg_transactions_per_request=round(per_request, 1))
        p50 = single.percentile(50)
        bench.summary[f"home of {DASHBOARD_CONTRACTS} contracts: p50 at 1 connection, "
                      "PostgreSQL transactions per request"] = (
            f"{p50:.0f} ms, {per_request:.1f}" if p50 is not None else "-",
            "few, not growing with contracts")
    finally:
        await close_users(users)
