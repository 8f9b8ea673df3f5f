"""Scenario `nginx`: the production shape — deploy/'s nginx site in front of 1, then 2
`python -m app serve` processes started from deploy/'s web unit — under the month-end
surge, and the grid page at 16 connections through nginx.

Reported per process count: surge throughput (requests/s) and server CPU per request (the
serve processes, nginx, PostgreSQL and Redis), p95 of the grid page; the summary gives the
2 : 1 throughput ratio. On a 2-core machine shared with the driver, PostgreSQL and Redis, a
second process cannot double anything: the ratio shows how much of one core the first
process left idle, and CPU per request shows what the second process costs.
"""

from __future__ import annotations

import asyncio
import logging

from bench import data
from bench.driver import Result, close_users, closed_loop, expect
from bench.runner import CpuMeter, free_port
from bench.scenarios import (
    GRID_CONTRACT,
    GRID_URL,
    PERIOD_TEXT,
    TODAY_TEXT,
    logged_in_users,
    record,
    surge_organizations,
    typed_values,
)
from bench.surge import check_readings, login_users, run_surge
from devstack.deploy import ROOT, WEB_UNIT, Nginx, UnitProcess, wait_http

log = logging.getLogger("bench")
GRID_CONNECTIONS = 16


def start_front(bench, processes: int, work) -> tuple[Nginx, list[UnitProcess]]:
    """`processes` serve processes from the web unit, nginx's site in front of them."""
    work.mkdir(parents=True, exist_ok=True)
    ports = [free_port() for _ in range(processes)]
    listen = f"127.0.0.1:{free_port()}"
    env_file = work / "env"
    env = bench.app_env
    env_file.write_text("\n".join([
        f"DATABASE_URL={bench.database_url}", f"REDIS_URL={env['REDIS_URL']}",
        f"APP_TODAY={env['APP_TODAY']}", "HOST=127.0.0.1", "WEB_WORKERS=1",
        "FORWARDED_ALLOW_IPS=127.0.0.1", "SECRET_KEY=bench-nginx-secret",
        f"BASE_URL=http://{listen}", "LOG_FORMAT=json"]) + "\n")
    values = {"PORTAL_USER": "root", "PORTAL_ROOT": str(ROOT),
              "PORTAL_ENV_FILE": str(env_file), "PORTAL_VAR_DIR": str(work / "var"),
              "PORTAL_METRICS_DIR": str(work / "metrics"),
              "PORTAL_LISTEN": listen,
              # one process: both upstream lines name it
              "PORTAL_WEB_1": f"127.0.0.1:{ports[0]}", "PORTAL_WEB_2": f"127.0.0.1:{ports[-1]}"}
    base_env = {k: v for k, v in env.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    webs = [UnitProcess(WEB_UNIT, values, str(port), work / f"web-{port}.log", base_env).start()
            for port in ports]
    for web, port in zip(webs, ports, strict=True):
        wait_http(f"http://127.0.0.1:{port}/healthz", 120, web.proc, web.log)
    return Nginx(work / "nginx", values).start(), webs


async def one_shape(bench, processes: int) -> dict:
    work = bench.out_dir / f"nginx-{processes}"
    await data.reset_portal_data(bench.database_url)
    nginx, webs = await asyncio.to_thread(start_front, bench, processes, work)
    meter = CpuMeter(*(w.pid for w in webs), nginx.proc.pid, bench.pg_pid, bench.redis_pid)
    try:
        orgs = await surge_organizations(bench.database_url, bench.args.surge)
        contracts = [cid for _, cid in orgs]
        values = {"cold": await typed_values(bench.database_url, contracts, "cold"),
                  "hot": await typed_values(bench.database_url, contracts, "hot")}
        users = await login_users(nginx.url, [email for email, _ in orgs], data.PASSWORD)
        cpu_before = meter()
        report = await run_surge(users, orgs, values, period_text=PERIOD_TEXT,
                                 today_text=TODAY_TEXT,
                                 connections=min(bench.args.connections, len(orgs)))
        cpu = meter() - cpu_before
        await close_users(list(users.values()))
        checked = await check_readings(bench.database_url, data.CURRENT_PERIOD, values)
        surge = Result(name=f"nginx surge, {processes} serve process(es)",
                       requests=report.attempts, seconds=report.seconds,
                       connections=min(bench.args.connections, len(orgs)),
                       errors=len(report.unrecovered), cpu_seconds=cpu,
                       latencies=report.latencies["grid"] + report.latencies["post"],
                       error_samples=report.unrecovered[:5])
        record(bench, surge, **checked, retried=report.retried)

        grid_users = await logged_in_users(nginx.url, GRID_CONNECTIONS, data.GRID_EMAIL)
        url = f"{GRID_URL}?contract={GRID_CONTRACT}&period={PERIOD_TEXT}"
        try:
            grid = await closed_loop(f"nginx grid page, {processes} serve process(es)",
                                     grid_users, lambda vu, i: vu.get(url),
                                     expect(200, "Передать значения"),
                                     duration=bench.args.duration, cpu=meter)
        finally:
            await close_users(grid_users)
        record(bench, grid)
        return {"surge": surge, "grid": grid, "checked": checked}
    finally:
        nginx.stop()
        for web in webs:
            web.stop(timeout=40)


async def scenario_nginx(bench) -> None:
    """The surge and the grid through nginx with 1 and with 2 serve processes."""
    one = await one_shape(bench, 1)
    two = await one_shape(bench, 2)
    for what in ("surge", "grid"):
        a, b = one[what], two[what]
        ratio = b.rps / a.rps if a.rps else 0
        cpu = (f"; server CPU/request {a.cpu_ms_per_request:.1f} → "
               f"{b.cpu_ms_per_request:.1f} ms" if a.cpu_ms_per_request
               and b.cpu_ms_per_request else "")
        bench.summary[f"nginx {what}: 2 / 1 serve processes throughput"] = (
            f"{ratio:.2f} ({a.rps:.1f} → {b.rps:.1f} req/s{cpu})",
            "2.0 with spare cores; well under on 2 shared cores")
    bench.summary[f"nginx grid p95 at {GRID_CONNECTIONS} connections, 1 / 2 processes"] = (
        f"{one['grid'].percentile(95):.0f} / {two['grid'].percentile(95):.0f} ms", "–")
    lost = [one["checked"], two["checked"]]
    bench.summary["nginx surge: errors / lost / doubled / wrong (1 and 2 processes)"] = (
        " ; ".join(f"{r.errors} / {c['lost']} / {c['doubled']} / {c['wrong']}"
                   for r, c in ((one["surge"], lost[0]), (two["surge"], lost[1]))),
        "0 / 0 / 0 / 0")
