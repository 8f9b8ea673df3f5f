"""The load scenarios of `make bench`; each appends its figures to bench.results.

A scenario whose route has not landed in the product yet is reported as not available
(never faked). Preparation (logins of the shared sessions, the values the users will type)
is not timed; only the closed loops are.
"""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg

from app.bench import data
from app.bench.driver import (
    DriverError,
    Result,
    VirtualUser,
    close_users,
    closed_loop,
    expect,
    make_users,
)

log = logging.getLogger("app.bench")
LOGGED_IN = "Вы успешно авторизовались!"


class NotAvailable(Exception):
    """The product has no such route (yet)."""


def record(bench, result: Result, **extra) -> Result:
    result.extra.update(extra)
    bench.results.append(result.as_dict())
    p95 = result.percentile(95)
    log.info("%-34s %6d req %8.1f req/s p95 %7s ms errors %d", result.name, result.requests,
             result.rps, f"{p95:.0f}" if p95 is not None else "-", result.errors)
    return result


async def logged_in_users(base_url: str, count: int, email: str) -> list[VirtualUser]:
    """`count` connections sharing one logged-in session (one login, many tabs)."""
    users = await make_users(base_url, count)
    await users[0].login(email, data.PASSWORD)
    users[0].share_session_with(users[1:])
    return users


# ---------------------------------------------------------------- login and home


async def scenario_login(bench) -> None:
    """POST /login with the right password (argon2id verify dominates)."""
    conns = min(8, bench.args.connections)
    users = await make_users(bench.app.url, conns)
    try:
        for vu in users:
            await vu.open_home()

        def login(vu: VirtualUser, i: int):
            return vu.client.post("/login", data={"_csrf_token": vu.csrf,
                                                  "email": data.GRID_EMAIL,
                                                  "password": data.PASSWORD})

        record(bench, await closed_loop("login (POST /login)", users, login, expect(303),
                                        duration=bench.args.duration))
    finally:
        await close_users(users)


async def scenario_home(bench) -> None:
    users = await make_users(bench.app.url, bench.args.connections)
    try:
        record(bench, await closed_loop(
            "home page, anonymous", users, lambda vu, i: vu.client.get("/"),
            expect(200, "Вход в ваш кабинет"), duration=bench.args.duration))
    finally:
        await close_users(users)
    users = await logged_in_users(bench.app.url, bench.args.connections, data.GRID_EMAIL)
    try:
        record(bench, await closed_loop(
            "home page, logged in", users, lambda vu, i: vu.client.get("/"),
            expect(200, LOGGED_IN), duration=bench.args.duration))
    finally:
        await close_users(users)


# ---------------------------------------------------------------- runner

SCENARIOS = {
    "login": scenario_login,
    "home": scenario_home,
}


async def run_all(bench) -> None:
    only = {s.strip() for s in bench.args.only.split(",") if s.strip()}
    for name, scenario in SCENARIOS.items():
        if only and name not in only:
            continue
        t = time.perf_counter()
        try:
            await scenario(bench)
        except NotAvailable as exc:
            bench.unavailable[name] = str(exc)
            log.warning("scenario %s not available: %s", name, exc)
        except (DriverError, asyncpg.PostgresError) as exc:
            bench.unavailable[name] = f"failed: {exc}"
            log.error("scenario %s failed: %s", name, exc)
        log.info("scenario %s took %.1f s", name, time.perf_counter() - t)
        await asyncio.sleep(0.5)  # let the server settle between scenarios
