"""kill -9 of the real ARQ worker between queuing a mail and sending it, then a restart:
every queued mail reaches the (real, aiosmtpd) SMTP server exactly once.

The first worker is tests/reliability/paused_worker.py with PAUSE_MAIL_AT=claimed: its
sender stops after it locked and rendered a row, before SMTP, leaves a marker and waits;
the test SIGKILLs it there. The restart is the product's own worker: its startup
`queue_reminders` run queues nothing new (the outbox keys are already there) and sends
every row once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.helpers import ROOT, VAR_DIR, flush_redis, in_thread, load_demo_sync, sql
from tests.smtp import SmtpSink

pytestmark = [pytest.mark.fault, pytest.mark.slow]


def start_worker(env: dict, name: str, settings: str = "app.worker.WorkerSettings"
                 ) -> tuple[subprocess.Popen, object]:
    log = (VAR_DIR / f"worker-{name}.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "arq", settings],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, log


def outbox() -> list[dict]:
    return [dict(r) for r in sql(
        "SELECT key, sent_at, attempts, subject FROM mail_outbox ORDER BY id")]


def test_worker_killed_between_queue_and_send_then_sent_once():
    load_demo_sync()
    marker = VAR_DIR / "mail-paused-claimed"
    marker.unlink(missing_ok=True)
    with SmtpSink() as smtp:
        env = {**os.environ, "VAR_DIR": str(VAR_DIR), "SMTP_URL": smtp.url}
        worker, log = start_worker({**env, "PAUSE_MAIL_AT": "claimed"}, "mail-paused",
                                   "tests.reliability.paused_worker.Settings")
        try:
            deadline = time.monotonic() + 90
            while not marker.exists():
                assert worker.poll() is None, (VAR_DIR / "worker-mail-paused.log").read_text()
                assert time.monotonic() < deadline, "the worker never reached the sender"
                time.sleep(0.1)
            os.kill(worker.pid, signal.SIGKILL)
            assert worker.wait(timeout=30) == -signal.SIGKILL
        finally:
            if worker.poll() is None:
                worker.kill()
            log.close()
            in_thread(flush_redis)  # the killed jobs stay queued in Redis: forget them
        queued = outbox()
        assert queued and all(r["sent_at"] is None for r in queued)
        assert smtp.messages() == []  # killed before SMTP
        worker, log = start_worker(env, "mail-restarted")
        try:
            deadline = time.monotonic() + 120
            while any(r["sent_at"] is None for r in outbox()):
                assert worker.poll() is None, (VAR_DIR / "worker-mail-restarted.log").read_text()
                assert time.monotonic() < deadline, outbox()
                time.sleep(0.3)
            time.sleep(1)  # anything doubled would arrive now
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
            log.close()
            in_thread(flush_redis)
        messages = smtp.messages()
    rows = outbox()
    assert [r["key"] for r in rows] == [r["key"] for r in queued]  # nothing queued twice
    assert len(messages) == len(rows)
    assert max(Counter(m["Message-ID"] for m in messages).values()) == 1
    assert Counter(m["Subject"] for m in messages) == Counter(r["subject"] for r in rows)
    assert all(r["attempts"] == 1 for r in rows)
