"""Scenario `api`: an accounting system transmits 1 000 cold readings in one POST
/api/v1/readings (SPEC §8), timed like the grid's `transmit` of 100 readings, so the cost per
reading of the two channels (same rules, same write function) can be compared.
"""

from __future__ import annotations

import hashlib
import json
import secrets

import asyncpg
import httpx

from bench import data
from bench.driver import Result, closed_loop, expect

API_EMAIL = "bench-api@bench.example"
API_ITEMS = 1000


async def api_user_and_items(url: str) -> tuple[str, list[tuple[int, int]]]:
    """A subscriber linked to just enough contracts (from the last one down, away from the
    surge's and the export's) to hold API_ITEMS active cold meters, a fresh submit token of
    it, and (meter billing id, a plausible next value) per meter."""
    token = "wp_" + secrets.token_urlsafe(32)
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            uid = await data.clone_grid_user(conn, API_EMAIL, "Учётная система")
            await conn.execute('DELETE FROM contract_link WHERE "user" = $1', uid)
            await conn.execute(
                """WITH per AS (
                       SELECT p.contract AS id, count(*) AS n FROM connection_point p
                       JOIN meter m ON m.point = p.id
                       WHERE m.kind = 'cold' AND m.active GROUP BY p.contract),
                   running AS (SELECT id, sum(n) OVER (ORDER BY id DESC) - n AS before
                               FROM per)
                   INSERT INTO contract_link (id, "user", contract, created_at)
                   SELECT (SELECT max(id) FROM contract_link) + row_number() OVER (ORDER BY id),
                          $1, id, now()
                   FROM running WHERE before < $2""", uid, API_ITEMS)
            await conn.execute(
                """INSERT INTO api_token ("user", name, token_hash, scope, created_at,
                                          expires_at)
                   VALUES ($1, 'bench', $2, 'submit', now(), now() + interval '1 day')""",
                uid, hashlib.sha256(token.encode()).hexdigest())
        rows = await conn.fetch(
            """SELECT m.billing_id,
                      (SELECT r.value FROM reading r WHERE r.meter = m.id
                       AND r.status = 'accepted' ORDER BY r.period DESC LIMIT 1) AS last,
                      (SELECT (max(h.value) - min(h.value)) / greatest(count(*) - 1, 1)
                       FROM (SELECT value FROM reading r WHERE r.meter = m.id
                             AND r.status = 'accepted' ORDER BY r.period DESC LIMIT 7) h
                      ) AS mean
               FROM contract_link l JOIN connection_point p ON p.contract = l.contract
               JOIN meter m ON m.point = p.id
               WHERE l."user" = $1 AND m.kind = 'cold' AND m.active
               ORDER BY m.billing_id LIMIT $2""", uid, API_ITEMS)
    finally:
        await conn.close()
    items = [(r["billing_id"], int(r["last"] or 0) + max(1, round(r["mean"] or 1)))
             for r in rows]
    return token, items


def api_body(items: list[tuple[int, int]], bump: int) -> bytes:
    return json.dumps({
        "period": data.CURRENT_PERIOD.strftime("%Y-%m"), "transmit": True,
        "items": [{"meter_id": code, "value": value + bump,
                   "date": data.BENCH_TODAY.isoformat()} for code, value in items],
    }).encode()


async def scenario_api(bench) -> None:
    """1 000 cold readings per POST, each a correction of the previous request's values (so
    every request writes all of them, like the grid's transmit scenario)."""
    from bench.scenarios import NotAvailable, record

    token, items = await api_user_and_items(bench.database_url)
    if len(items) < API_ITEMS:
        raise NotAvailable(f"the dataset has only {len(items)} cold meters for the API user")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bodies = [api_body(items, bump) for bump in (0, 1)]
    client = httpx.AsyncClient(base_url=bench.app.url, timeout=httpx.Timeout(300.0))
    try:
        probe = await client.post("/api/v1/readings", content=bodies[1], headers=headers)
        if probe.status_code == 404:
            raise NotAvailable("POST /api/v1/readings is not in the product yet")

        def transmit(vu, i: int):
            return client.post("/api/v1/readings", content=bodies[i % 2], headers=headers)

        result: Result = await closed_loop(
            # One connection like the grid's transmit; the loop only needs a user per
            # connection. At least 20 s: one request carries 1 000 readings.
            f"API POST {API_ITEMS} readings (transmit)", [None], transmit,
            expect(200, '"status":"transmitted"'), duration=max(20.0, bench.args.duration),
            cpu=bench.cpu(bench.app))
        record(bench, result, readings_per_request=API_ITEMS)
        grid = next((r for r in bench.results
                     if r.get("name", "").startswith("transmit 100 readings")), None)
        api_ms = result.cpu_ms_per_request
        if api_ms:
            per_api = api_ms / API_ITEMS
            text = f"{per_api:.2f} ms"
            if grid and grid.get("server_cpu_ms_per_request"):
                per_grid = grid["server_cpu_ms_per_request"] / 100
                text += f" vs grid {per_grid:.2f} ms ({per_api / per_grid:.2f}×)"
            bench.summary["server CPU per reading: API 1 000 vs grid 100"] = (
                text, "API ≤ grid")
    finally:
        await client.aclose()
