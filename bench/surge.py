"""The month-end surge as a deployment sees it: organizations logged in, each opening its
grids and transmitting every meter (one in five double-submitting), with retries the way a
user retries — a request that failed with a retryable status (502/503/504, or the connection
dropped) is sent again and must then succeed. Used by the scale-out test
(tests/reliability/test_scale_out.py) and the `nginx` bench scenario.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import asyncpg
import httpx

from bench.driver import VirtualUser

COLD_URL, HOT_URL = "/readings/cold", "/readings/hot"
RETRYABLE = {502, 503, 504}
TRIES = 6


@dataclass
class SurgeReport:
    organizations: int = 0
    done: int = 0  # organizations finished (live: a test acts on it mid-surge)
    requests: int = 0  # logical requests (a retried one counts once)
    attempts: int = 0
    retried: int = 0  # logical requests that needed more than one attempt
    retryable_failures: Counter = field(default_factory=Counter)  # status / exception name
    unrecovered: list[str] = field(default_factory=list)  # failed for good, or not retryable
    # Readings in POST attempts that failed retryably: an upper bound of what a killed process
    # may have committed without counting it (its commit reached PostgreSQL, its reply never
    # reached the process).
    failed_post_rows: int = 0
    failed_posts: int = 0
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"grid": [], "post": []})

    def as_dict(self) -> dict:
        return {"organizations": self.organizations, "requests": self.requests,
                "attempts": self.attempts, "retried": self.retried,
                "retryable_failures": dict(self.retryable_failures),
                "unrecovered": self.unrecovered[:5], "failed_post_rows": self.failed_post_rows,
                "seconds": round(self.seconds, 2)}


Check = Callable[[httpx.Response], bool]


async def attempt(report: SurgeReport, kind: str, send, ok: Check, what: str,
                  rows: int = 0) -> None:
    """One logical request with a user's retries; the outcome goes into the report."""
    report.requests += 1
    for tries in range(1, TRIES + 1):
        report.attempts += 1
        t0 = time.perf_counter()
        try:
            response = await send()
        except httpx.TransportError as exc:
            failure = type(exc).__name__
        else:
            report.latencies[kind].append(time.perf_counter() - t0)
            if ok(response):
                if tries > 1:
                    report.retried += 1
                return
            if response.status_code not in RETRYABLE:
                report.unrecovered.append(
                    f"{what}: HTTP {response.status_code} {response.text[:200]!r}")
                return
            failure = str(response.status_code)
        report.retryable_failures[failure] += 1
        report.failed_post_rows += rows
        report.failed_posts += 1 if rows else 0
        await asyncio.sleep(0.2 * tries)
    report.unrecovered.append(f"{what}: still failing after {TRIES} tries")


def grid_form(contract_id: int, period_text: str, today_text: str,
              values: list[tuple[int, str]]) -> list[tuple[str, str]]:
    form = [("contract", str(contract_id)), ("period", period_text), ("action", "transmit")]
    for meter_id, value in values:
        form += [(f"value-{meter_id}", value), (f"date-{meter_id}", today_text)]
    return form


async def login_users(base_url: str, emails: list[str], password: str,
                      concurrency: int = 8) -> dict[str, VirtualUser]:
    gate = asyncio.Semaphore(concurrency)
    users = {email: VirtualUser(base_url) for email in emails}

    async def log_in(email: str) -> None:
        async with gate:
            await users[email].login(email, password)

    await asyncio.gather(*(log_in(email) for email in emails))
    return users


async def run_surge(users: dict[str, VirtualUser], orgs: list[tuple[str, int]],
                    values: dict[str, dict[int, list[tuple[int, str]]]], *,
                    period_text: str, today_text: str, connections: int,
                    report: SurgeReport | None = None) -> SurgeReport:
    """Every organization (email, contract): per kind with meters, GET the grid, then POST
    the transmit (twice at once for every fifth organization). At most `connections`
    organizations are in flight, each on its own connection; a user with several
    organizations has one tab per organization (the same session)."""
    report = report or SurgeReport()
    report.organizations = len(orgs)
    gate = asyncio.Semaphore(connections)
    tabs = []
    for email, _ in orgs:
        tab = VirtualUser(users[email].base_url)
        users[email].share_session_with([tab])
        tabs.append(tab)

    async def transmit(vu: VirtualUser, url: str, form, rows: int, what: str) -> None:
        done = f"Передано строк: {rows}"
        await attempt(report, "post", lambda: vu.post(url, form, htmx=True),
                      lambda r: r.status_code == 200 and done in r.text, what, rows)

    async def organization(index: int, vu: VirtualUser, contract: int) -> None:
        async with gate:
            for kind, url in (("cold", COLD_URL), ("hot", HOT_URL)):
                rows = values.get(kind, {}).get(contract)
                if not rows:
                    continue
                what = f"{url} contract {contract}"
                await attempt(report, "grid", lambda u=url: vu.get(f"{u}?contract={contract}"),
                              lambda r: r.status_code == 200 and "Передать значения" in r.text,
                              "GET " + what)
                form = grid_form(contract, period_text, today_text, rows)
                sends = 2 if index % 5 == 0 else 1  # a double click: the same form twice
                await asyncio.gather(*(transmit(vu, url, form, len(rows), "POST " + what)
                                       for _ in range(sends)))
        report.done += 1

    t = time.perf_counter()
    try:
        await asyncio.gather(*(organization(i, tab, cid)
                               for i, (tab, (_, cid)) in enumerate(zip(tabs, orgs, strict=True))))
    finally:
        report.seconds = time.perf_counter() - t
        await asyncio.gather(*(tab.aclose() for tab in tabs))
    return report


async def check_readings(database_url: str, period, values) -> dict[str, int]:
    """Every typed value in the database exactly once: lost / doubled / wrong counts."""
    sent = {mid: value for per in values.values() for rows in per.values()
            for mid, value in rows}
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            """SELECT m.id, count(r.id) AS n, min(r.value) AS value
               FROM meter m LEFT JOIN reading r ON r.meter = m.id AND r.period = $2
                    AND r.source = 'portal' AND r.status <> 'draft'
               WHERE m.id = ANY($1::int[]) GROUP BY m.id""", list(sent), period)
    finally:
        await conn.close()
    return {
        "readings": len(sent),
        "lost": sum(1 for r in rows if r["n"] == 0),
        "doubled": sum(1 for r in rows if r["n"] > 1),
        "wrong": sum(1 for r in rows if r["n"] == 1
                     and r["value"] != Decimal(sent[r["id"]].replace(",", "."))),
    }
