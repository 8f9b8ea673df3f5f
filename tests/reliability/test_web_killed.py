"""kill -9 of the web process in the middle of a transmit, restart: the user's transmit
happened once or not at all — never a partial batch — and retrying it gives one reading per
meter.

The web process is held inside the transmit's transaction by the test itself, with nothing in
the product for it: a transaction of the test holds `LOCK TABLE reading_audit IN EXCLUSIVE
MODE`. A transmit (app/queries/readings.py write_readings) upserts its reading rows, then
inserts their audit rows in the same transaction, so it stops on that lock with the readings
written and uncommitted. The test waits until pg_stat_activity shows that backend waiting on
the lock (and pg_locks shows it holding its write lock on `reading`), SIGKILLs uvicorn there,
then releases the lock. Never seeing that wait fails the test: the kill point was not reached.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import threading
import time

import asyncpg
import httpx
import psutil
import pytest

from tests.helpers import load_demo_sync, sql

pytestmark = [pytest.mark.fault, pytest.mark.slow]

LOCKED_TABLE = "reading_audit"  # written last in a transmit's transaction


def web_pid(server) -> int:
    """The uvicorn process under `python -m app run` (the ARQ worker is its sibling)."""
    for child in psutil.Process(server.proc.pid).children():
        if "uvicorn" in " ".join(child.cmdline()):
            return child.pid
    raise AssertionError("no uvicorn child")


HTMX = {"HX-Request": "true"}  # the grid's own request: answered with the grid (no PRG)


def signed_in(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=120)
    client.get("/")
    response = client.post("/login", data={
        "email": "demo@izhvodokanal.example", "password": "demopass2026",
        "_csrf_token": client.cookies["csrftoken"]})
    assert response.status_code == 303
    return client


def transmit_form(client: httpx.Client) -> dict[str, str]:
    page = client.get("/readings/cold")
    assert page.status_code == 200, page.text[:300]
    form = {"_csrf_token": client.cookies["csrftoken"], "action": "transmit"}
    for name in ("contract", "period"):
        form[name] = re.search(rf'name="{name}" value="([^"]*)"', page.text).group(1)
    today = time.strftime("%d.%m.%Y")  # demo data: "today" is the real date
    meters = re.findall(r'name="value-(\d+)"', page.text)
    for meter in meters:
        previous = sql("SELECT max(value) AS v FROM reading WHERE meter = $1 "
                       "AND status = 'accepted'", int(meter))[0]["v"]
        form[f"value-{meter}"] = str(int(previous) + 4)
        form[f"date-{meter}"] = today
        form[f"rollover-{meter}"] = "yes"
        form[f"anomaly-{meter}"] = "yes"
    assert len(meters) == 12
    return form


def transmitted(period: str) -> list:
    return sql("""SELECT meter, count(*) AS n FROM reading
                  WHERE period = to_date($1, 'YYYY-MM') AND source = 'portal'
                    AND status = 'transmitted' GROUP BY meter""", period[:7])


class TableLock:
    """`LOCK TABLE <table> IN EXCLUSIVE MODE` held in an open transaction on a connection of its
    own (own thread and event loop) from __enter__ until __exit__ rolls it back. EXCLUSIVE lets
    plain reads through and stops every INSERT/UPDATE/DELETE on the table."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.backend_pid: int | None = None
        self._locked = threading.Event()
        self._release = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._hold())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            self._error = exc
            self._locked.set()

    async def _hold(self) -> None:
        conn = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            self.backend_pid = conn.get_server_pid()
            transaction = conn.transaction()
            await transaction.start()
            await conn.execute(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE")
            self._locked.set()
            await asyncio.to_thread(self._release.wait)
            await transaction.rollback()
        finally:
            await conn.close()

    def __enter__(self) -> TableLock:
        self._thread.start()
        assert self._locked.wait(timeout=30), "could not lock " + self.table
        if self._error:
            raise self._error
        return self

    def __exit__(self, *exc_info) -> None:
        self._release.set()
        self._thread.join(timeout=30)
        if self._error and not exc_info[0]:
            raise self._error


def blocked_writer(lock: TableLock) -> int | None:
    """pid of a backend of this database waiting on `lock` to write the audit rows, while
    holding its write lock on `reading` (the reading rows of its transaction are written)."""
    rows = sql("""SELECT a.pid FROM pg_stat_activity a
                  WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'
                    AND $1 = ANY(pg_blocking_pids(a.pid))
                    AND a.query LIKE '%INSERT INTO reading_audit%'
                    AND EXISTS (SELECT 1 FROM pg_locks l
                                WHERE l.pid = a.pid AND l.granted
                                  AND l.relation = 'reading'::regclass
                                  AND l.mode = 'RowExclusiveLock')""", lock.backend_pid)
    return rows[0]["pid"] if rows else None


def backend_alive(pid: int) -> bool:
    return bool(sql("SELECT 1 FROM pg_stat_activity WHERE pid = $1", pid))


def test_web_killed_mid_transmit_then_retry(live_server_factory):
    load_demo_sync()
    first = live_server_factory()
    client = signed_in(first.url)
    form = transmit_form(client)
    outcome: dict = {}

    def post():
        try:
            outcome["response"] = client.post("/readings/cold", data=form, headers=HTMX)
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    with TableLock(LOCKED_TABLE) as lock:
        thread = threading.Thread(target=post)
        thread.start()
        deadline = time.monotonic() + 120
        while (writer := blocked_writer(lock)) is None:
            assert time.monotonic() < deadline and thread.is_alive(), (
                f"the transmit never waited on the {LOCKED_TABLE} lock: {outcome}")
            time.sleep(0.1)
        os.kill(web_pid(first), signal.SIGKILL)
        thread.join(timeout=60)
        assert "error" in outcome, outcome  # the browser saw the connection drop
        first.stop()
    # Lock released: the orphaned backend finds its client gone and rolls back.
    deadline = time.monotonic() + 60
    while backend_alive(writer):
        assert time.monotonic() < deadline, "the killed transmit's backend lives on"
        time.sleep(0.1)
    # The transaction died with the process: nothing, not a part of the batch.
    assert transmitted(form["period"]) == []

    server = live_server_factory()  # restarted
    client = signed_in(server.url)
    retry = transmit_form(client)
    for _ in range(2):  # the user retries, and once more (double click)
        response = client.post("/readings/cold", data=retry, headers=HTMX)
        assert response.status_code == 200, response.text[:300]
    rows = transmitted(form["period"])
    assert len(rows) == 12 and all(r["n"] == 1 for r in rows)
