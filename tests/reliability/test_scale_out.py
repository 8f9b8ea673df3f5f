"""The production shape under the month-end surge (issue 17, SPEC §12).

Debian's nginx with deploy/nginx-portal.conf in front of two `python -m app serve`
processes and two ARQ workers, started from deploy/systemd's units (their ExecStart with
their Environment=, the ${PORTAL_*} placeholders filled as an operator's envsubst would) on
this run's PostgreSQL (through a TCP proxy the test can cut) and Redis. A few hundred
organizations transmit through nginx, one in five double-submitting; in the middle one web
process is kill -9ed and restarted, and a worker is kill -9ed inside an archive refresh
(the second worker is the product's WorkerSettings with a pause at `handed_over`, on its own
queue, so the kill lands inside the refresh for certain). Then:

- every typed value is in the database once (0 lost, 0 doubled, 0 wrong), every receipt
  once (one per organization and kind, each reading on one receipt line);
- every request succeeded, or failed with a retryable status (502/503/504 or a dropped
  connection) and succeeded when retried;
- after the surviving worker's refresh, every reading reached billing once with one answer;
- the metrics' transmitted and receipt counters (summed over every process of the host,
  the killed one included) equal the database's counts;
- /readyz: 200, then 503 naming PostgreSQL while the proxy is cut, then 200 by itself.
"""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench import data
from bench.scenarios import typed_values
from bench.surge import SurgeReport, check_readings, login_users, run_surge
from devstack.deploy import WEB_UNIT, WORKER_UNIT, Nginx, UnitProcess, wait_http
from tests.helpers import ROOT, RUN_ID, VAR_DIR, free_port

pytestmark = [pytest.mark.slow, pytest.mark.fault]

SCALE = 0.02  # 200 contracts, 800 meters (bench/data.py's skew), 24 months of history
USERS = 8  # each logged-in user transmits for several organizations (logins cost argon2)
CONNECTIONS = 16
PERIOD_TEXT = data.CURRENT_PERIOD.strftime("%Y-%m")
TODAY_TEXT = data.BENCH_TODAY.strftime("%d.%m.%Y")
PAUSED_QUEUE = f"arq:paused:{RUN_ID}"  # job ids and queues of earlier runs stay in Redis
FIGURES = VAR_DIR.parent / "scale-out-figures.txt"  # the last run's figures, for the record


def proxy_target(url: str) -> tuple[str, str]:
    """(what the proxy connects to, the URL through the proxy minus its port)."""
    parts = urlsplit(url)
    socket_dir = parse_qs(parts.query).get("host", [""])[0]
    port = parts.port or 5432
    if socket_dir.startswith("/"):
        return f"{socket_dir}/.s.PGSQL.{port}", parts.username or "postgres"
    return f"{parts.hostname or '127.0.0.1'}:{port}", (
        parts.username or "postgres") + (f":{parts.password}" if parts.password else "")


class CuttableProxy:
    def __init__(self, target: str, log: Path) -> None:
        self.port = free_port()
        out = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "reliability" / "tcp_proxy.py"),
             str(self.port), target], stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self.log = log
        deadline = time.monotonic() + 20
        while "ready" not in log.read_text():
            assert self.proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)

    def cut(self) -> None:
        self.proc.send_signal(signal.SIGUSR1)

    def restore(self) -> None:
        self.proc.send_signal(signal.SIGUSR2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def dataset():
    """A bench dataset in a database of its own (dropped afterwards); organizations =
    contracts 2…300, linked round-robin to USERS subscribers; mails switched off."""
    from devstack.embedded import _database_url, drop_database

    admin = os.environ["DATABASE_URL"]
    name = f"water_portal_scaleout_{RUN_ID}"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "data", "--scale", str(SCALE), "--users", str(USERS),
         "--db", name], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True,
        timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    url = _database_url(admin, name)

    async def link() -> list[tuple[str, int]]:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                """INSERT INTO contract_link ("user", contract, created_at)
                   SELECT 2 + (c.id - 2) % $1, c.id, now() FROM contract c
                   WHERE c.id > 1 ON CONFLICT DO NOTHING""", USERS)
            await conn.execute(
                "UPDATE portal_user SET notify_window_open = false, notify_last_day = false, "
                "notify_results = false, notify_verification = false, notify_receipt = false")
            rows = await conn.fetch(
                """SELECT u.email, l.contract FROM contract_link l
                   JOIN portal_user u ON u.id = l."user" WHERE l.contract > 1
                   ORDER BY l.contract""")
            return [(r["email"], r["contract"]) for r in rows]
        finally:
            await conn.close()

    orgs = asyncio.run(link())
    yield url, orgs
    drop_database(admin, name)


@pytest.fixture(scope="module")
def deployment(dataset):
    url, orgs = dataset
    work = VAR_DIR / "scale-out"
    work.mkdir(parents=True, exist_ok=True)
    target, credentials = proxy_target(url)
    proxy = CuttableProxy(target, work / "proxy.log")
    db_name = urlsplit(url).path.lstrip("/")
    ports = [free_port(), free_port()]
    listen = f"127.0.0.1:{free_port()}"
    env_file = work / "env"
    env_file.write_text("\n".join([
        f"DATABASE_URL=postgresql://{credentials}@127.0.0.1:{proxy.port}/{db_name}",
        f"REDIS_URL={os.environ['REDIS_URL']}",
        "SECRET_KEY=scale-out-" + RUN_ID,
        "HOST=127.0.0.1",
        f"BASE_URL=http://{listen}",  # the address users reach: nginx's
        "WEB_WORKERS=1",
        "FORWARDED_ALLOW_IPS=127.0.0.1",
        "APP_TODAY=" + data.BENCH_TODAY.isoformat(),
        "ARCHIVE_REFRESH_MINUTES=1440",  # no cron refresh in the middle: the test runs them
        "METRICS_TOKEN=scale-out-token",
    ]) + "\n")
    values = {"PORTAL_USER": "root", "PORTAL_ROOT": str(ROOT), "PORTAL_ENV_FILE": str(env_file),
              "PORTAL_VAR_DIR": str(work / "var"), "PORTAL_METRICS_DIR": str(work / "metrics"),
              "PORTAL_LISTEN": listen,
              "PORTAL_WEB_1": f"127.0.0.1:{ports[0]}", "PORTAL_WEB_2": f"127.0.0.1:{ports[1]}"}
    base_env = {k: v for k, v in os.environ.items()
                if k not in ("DATABASE_URL", "REDIS_URL", "VAR_DIR", "SECRET_KEY", "PICCOLO_CONF")}
    webs = [UnitProcess(WEB_UNIT, values, str(port), work / f"web-{port}.log", base_env)
            for port in ports]
    worker = UnitProcess(WORKER_UNIT, values, "1", work / "worker-1.log", base_env)
    # The second worker: the same unit's environment, the paused variant's command.
    paused = UnitProcess(WORKER_UNIT, values, "2", work / "worker-2.log", base_env)
    paused.argv = [sys.executable, "-m", "arq", "tests.reliability.paused_worker.OwnQueue"]
    paused.env["PAUSE_REFRESH_AT"] = "handed_over"
    paused.env["PAUSED_QUEUE"] = PAUSED_QUEUE
    paused.cwd = ROOT
    nginx = Nginx(work / "nginx", values)
    everything = [*webs, worker, paused]
    try:
        for process in everything:
            process.start()
        for web, port in zip(webs, ports, strict=True):
            wait_http(f"http://127.0.0.1:{port}/healthz", 90, web.proc, web.log)
        nginx.start()
        yield {"nginx": nginx, "webs": webs, "ports": ports, "worker": worker,
               "paused": paused, "proxy": proxy, "url": url, "orgs": orgs, "work": work,
               "values": values}
    finally:
        nginx.stop()
        for process in everything:
            process.stop(timeout=20)
        proxy.stop()


def metric(text: str, name: str, **labels: str) -> float:
    return sum(s.value for family in text_string_to_metric_families(text)
               for s in family.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


async def enqueue_refresh(queue_name: str, job_id: str) -> None:
    from arq import create_pool

    from app.queue import redis_settings

    pool = await create_pool(redis_settings(os.environ["REDIS_URL"]))
    try:
        await pool.enqueue_job("refresh_archive", _job_id=job_id, _queue_name=queue_name)
    finally:
        await pool.aclose()


async def surge_with_chaos(dep) -> tuple[SurgeReport, dict]:
    nginx, webs = dep["nginx"], dep["webs"]
    orgs = dep["orgs"]
    contracts = [cid for _, cid in orgs]
    values = {"cold": await typed_values(dep["url"], contracts, "cold"),
              "hot": await typed_values(dep["url"], contracts, "hot")}
    t = time.perf_counter()
    users = await login_users(nginx.url, sorted({email for email, _ in orgs}), data.PASSWORD)
    events = {"login_seconds": round(time.perf_counter() - t, 1)}
    report = SurgeReport()
    surge = asyncio.create_task(run_surge(users, orgs, values, period_text=PERIOD_TEXT,
                                          today_text=TODAY_TEXT, connections=CONNECTIONS,
                                          report=report))

    async def at(fraction: float) -> None:
        while report.done < fraction * len(orgs) and not surge.done():
            await asyncio.sleep(0.05)

    await at(0.25)
    victim = webs[0]
    victim.kill9()  # in the middle of whatever it was serving
    events["web_killed_at"] = report.done
    await asyncio.sleep(1.0)
    victim.start()
    events["web_restarted"] = True
    await at(0.5)
    marker = Path(dep["values"]["PORTAL_VAR_DIR"]) / "refresh-paused-handed_over"
    await enqueue_refresh(PAUSED_QUEUE, f"scale-out-refresh-paused-{RUN_ID}")
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline, dep["paused"].log.read_text()[-3000:]
        await asyncio.sleep(0.05)
    dep["paused"].kill9()  # inside refresh_archive, its batch handed over, no answer applied
    events["worker_killed_at"] = report.done
    await surge
    await asyncio.gather(*(vu.aclose() for vu in users.values()))
    wait_http(f"http://127.0.0.1:{dep['ports'][0]}/healthz", 90, victim.proc, victim.log)
    return report, {**events, "values": values}


def outbox_rows(var_dir: Path) -> list[dict]:
    rows = []
    for path in sorted((var_dir / "outbox").glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            rows += list(csv.DictReader(fh, delimiter=";"))
    return rows


def test_month_end_surge_through_nginx_survives_kills(deployment):
    dep = deployment
    report, events = asyncio.run(surge_with_chaos(dep))
    values = events.pop("values")
    db = asyncio.run(check_readings(dep["url"], data.CURRENT_PERIOD, values))
    figures = {**report.as_dict(), **events, **db}
    FIGURES.write_text(repr(figures) + "\n")
    print("scale-out figures:", figures)
    assert not report.unrecovered, report.unrecovered
    assert report.done == len(dep["orgs"]) == report.organizations
    assert set(report.retryable_failures) <= {"502", "503", "504", "RemoteProtocolError",
                                              "ReadError", "ConnectError", "WriteError"}
    assert (db["lost"], db["doubled"], db["wrong"]) == (0, 0, 0), db
    assert db["readings"] > 600

    async def receipts_check() -> dict:
        conn = await asyncpg.connect(dep["url"])
        try:
            return dict(await conn.fetchrow(
                """SELECT (SELECT count(*) FROM receipt) AS receipts,
                          (SELECT count(DISTINCT (contract, kind)) FROM receipt) AS pairs,
                          (SELECT count(*) FROM receipt_line) AS lines,
                          (SELECT count(DISTINCT reading) FROM receipt_line) AS readings,
                          (SELECT count(*) FROM reading_audit a JOIN reading r ON r.id =
                             a.reading JOIN meter m ON m.id = r.meter
                           WHERE a.new_status = 'transmitted' AND m.kind = 'cold') AS cold,
                          (SELECT count(*) FROM reading_audit a JOIN reading r ON r.id =
                             a.reading JOIN meter m ON m.id = r.meter
                           WHERE a.new_status = 'transmitted' AND m.kind = 'hot') AS hot"""))
        finally:
            await conn.close()

    counts = asyncio.run(receipts_check())
    pairs = sum(1 for per in values.values() for rows in per.values() if rows)
    assert counts["receipts"] == counts["pairs"] == pairs, counts  # every receipt once
    assert counts["lines"] == counts["readings"] == db["readings"], counts
    assert counts["cold"] + counts["hot"] == db["readings"]  # each written once

    # The metrics of every process of this host (the killed web process's too). Counted after
    # the commit, so the only readings a counter can miss are those a process committed and
    # was killed before it heard back: at most the rows of the POSTs that failed retryably
    # (usually none; equal in most runs). Never more than the database: nothing rolled back
    # is counted.
    scrape = httpx.get(f"http://127.0.0.1:{dep['ports'][1]}/metrics", timeout=10).text
    counted = {kind: metric(scrape, "portal_readings_transmitted_total", kind=kind)
               for kind in ("cold", "hot")}
    figures["metrics_transmitted"] = counted
    figures["db_transmitted"] = {"cold": counts["cold"], "hot": counts["hot"]}
    FIGURES.write_text(repr(figures) + "\n")
    missed = counts["cold"] + counts["hot"] - sum(counted.values())
    assert counted["cold"] <= counts["cold"] and counted["hot"] <= counts["hot"], figures
    assert 0 <= missed <= report.failed_post_rows, figures
    receipts_missed = counts["receipts"] - metric(scrape, "portal_receipts_issued_total")
    assert 0 <= receipts_missed <= report.failed_posts, figures
    assert httpx.get(dep["nginx"].url + "/metrics").status_code == 404  # never via nginx

    # The surviving worker resumes the killed refresh's batch and hands over the rest.
    asyncio.run(enqueue_refresh("arq:queue", f"scale-out-refresh-final-{RUN_ID}"))
    deadline = time.monotonic() + 90

    async def pending() -> int:
        conn = await asyncpg.connect(dep["url"])
        try:
            return await conn.fetchval(
                """SELECT (SELECT count(*) FROM reading WHERE source = 'portal'
                           AND status = 'transmitted')
                        + (SELECT count(*) FROM billing_batch WHERE state <> 'applied')""")
        finally:
            await conn.close()

    while asyncio.run(pending()):
        assert time.monotonic() < deadline, dep["worker"].log.read_text()[-3000:]
        time.sleep(0.5)
    var_dir = Path(dep["values"]["PORTAL_VAR_DIR"])
    in_files = Counter(r["reading_id"] for r in outbox_rows(var_dir))
    assert len(in_files) == db["readings"] and set(in_files.values()) == {1}
    scrape = httpx.get(f"http://127.0.0.1:{dep['ports'][1]}/metrics", timeout=10).text
    assert metric(scrape, "portal_archive_refresh_runs_total", outcome="ok") >= 1
    assert metric(scrape, "portal_jobs_total", job="refresh_archive", outcome="succeeded") >= 1
    figures["metrics_sample"] = [line for line in scrape.splitlines()
                                 if line.startswith(("portal_readings", "portal_receipts",
                                                     "portal_archive_refresh_runs"))]
    FIGURES.write_text(repr(figures) + "\n")


def test_readyz_names_postgresql_while_it_is_cut_and_recovers_by_itself(deployment):
    dep = deployment
    nginx_url = dep["nginx"].url
    ok = httpx.get(nginx_url + "/readyz", timeout=10)
    assert ok.status_code == 200 and ok.json()["postgresql"] == "ok", ok.text
    assert ok.headers["x-request-id"]
    dep["proxy"].cut()
    try:
        seen = []
        deadline = time.monotonic() + 20
        while True:
            answers = [httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
                       for port in dep["ports"]]
            seen.append([a.status_code for a in answers])
            if all(a.status_code == 503 for a in answers):
                break
            assert time.monotonic() < deadline, seen
            time.sleep(0.2)
        assert all(a.json() == {"status": "unavailable", "postgresql": "unavailable",
                                "redis": "ok"} for a in answers)
        assert httpx.get(nginx_url + "/healthz").status_code == 200  # alive, not ready
    finally:
        dep["proxy"].restore()
    deadline = time.monotonic() + 30
    while True:  # nobody restarts anything: the pools reconnect on their own
        answers = [httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
                   for port in dep["ports"]]
        if all(a.status_code == 200 for a in answers):
            break
        assert time.monotonic() < deadline, [a.text for a in answers]
        time.sleep(0.2)
    assert httpx.get(nginx_url + "/readyz").status_code == 200
    assert all(web.proc.poll() is None for web in dep["webs"])
