"""kill -9 of the real ARQ worker in the middle of refresh_archive, then a rerun: every
transmitted reading reaches billing once and gets exactly one answer (nothing lost or doubled).

The worker is `python -m arq tests.reliability.paused_worker.Settings`, the product's
WorkerSettings whose on_startup hands the refresh job a crash hook: at the step boundary given
by PAUSE_REFRESH_AT the job leaves a marker file and waits, and the test SIGKILLs the process
there (no marker within 90 s fails the test, so the kill point is proven reached).
tests/integration/test_billing_refresh.py covers every step in-process and with os._exit;
this adds the real worker, killed from outside.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.helpers import ROOT, VAR_DIR, flush_redis, in_thread, load_demo_sync, sql

pytestmark = [pytest.mark.fault, pytest.mark.slow]

PAUSED_WORKER = "tests.reliability.paused_worker.Settings"  # importable from cwd=ROOT


def outbox_rows() -> list[dict]:
    rows = []
    for path in sorted((VAR_DIR / "outbox").glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            rows += list(csv.DictReader(fh, delimiter=";"))
    return rows


def transmit_all_cold_readings_of_15303() -> list[int]:
    """A transmitted reading for the current period on every cold meter of contract 15303."""
    rows = sql(
        """INSERT INTO reading (meter, period, value, read_on, status, source, rollover_confirmed,
               anomaly_confirmed, created_at, updated_at, transmitted_at)
           SELECT m.id, date_trunc('month', now())::date,
                  (SELECT max(value) FROM reading r WHERE r.meter = m.id
                     AND r.period < date_trunc('month', now())::date) + 3,
                  now()::date, 'transmitted', 'portal', false, false, now(), now(), now()
           FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = 15303 AND m.kind = 'cold'
           ON CONFLICT DO NOTHING
           RETURNING id""")
    return [r["id"] for r in rows]


def enqueue_refresh() -> None:
    async def go():
        from arq import create_pool

        from app.queue import redis_settings

        pool = await create_pool(redis_settings(os.environ["REDIS_URL"]))
        try:
            await pool.enqueue_job("refresh_archive")
        finally:
            await pool.aclose()

    in_thread(go)


def assert_each_once(reading_ids: list[int]) -> None:
    in_files = Counter(int(r["reading_id"]) for r in outbox_rows())
    assert {rid: in_files[rid] for rid in reading_ids} == {rid: 1 for rid in reading_ids}
    rows = sql(
        """SELECT r.id, r.status,
                  (SELECT count(*) FROM reading_audit a
                   WHERE a.reading = r.id AND a.action LIKE 'billing_%') AS answers
           FROM reading r WHERE r.id = ANY($1::int[])""", reading_ids)
    assert len(rows) == len(reading_ids)
    assert all(r["status"] in ("accepted", "rejected") for r in rows), rows
    assert all(r["answers"] == 1 for r in rows), rows
    assert sql("SELECT count(*) AS n FROM billing_batch WHERE state <> 'applied'")[0]["n"] == 0


@pytest.mark.parametrize("step", ["claimed", "handed_over", "answers_applied"])
def test_worker_killed_mid_refresh_then_rerun(step):
    load_demo_sync()
    shutil.rmtree(VAR_DIR / "outbox", ignore_errors=True)
    readings = transmit_all_cold_readings_of_15303()
    assert len(readings) == 12
    marker = VAR_DIR / f"refresh-paused-{step}"
    marker.unlink(missing_ok=True)
    env = {**os.environ, "VAR_DIR": str(VAR_DIR), "PAUSE_REFRESH_AT": step}
    log = (VAR_DIR / f"worker-{step}.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "arq", PAUSED_WORKER],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        enqueue_refresh()
        deadline = time.monotonic() + 90
        while not marker.exists():
            assert worker.poll() is None, (VAR_DIR / f"worker-{step}.log").read_text()
            assert time.monotonic() < deadline, "the worker never reached " + step
            time.sleep(0.1)
        os.kill(worker.pid, signal.SIGKILL)
        assert worker.wait(timeout=30) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
        log.close()
        in_thread(flush_redis)  # the killed job stays queued in Redis: forget it
    done = sql("SELECT count(*) AS n FROM reading WHERE id = ANY($1::int[]) "
               "AND status IN ('accepted', 'rejected')", readings)[0]["n"]
    assert done == 0  # killed before its answers were committed
    rerun = subprocess.run([sys.executable, "-m", "app", "refresh-archive"], cwd=ROOT,
                           env={**os.environ, "VAR_DIR": str(VAR_DIR)},
                           capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr
    assert_each_once(readings)
