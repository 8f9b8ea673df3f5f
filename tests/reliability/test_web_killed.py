"""kill -9 of the web process in the middle of a transmit, restart: the user's transmit
happened once or not at all — never a partial batch — and retrying it gives one reading per
meter.

The web process is held inside the transmit's transaction by TEST_SLOW_TRANSMIT=<seconds>
(app/queries/readings.py, tests only): after the rows are written and before the commit it
leaves VAR_DIR/transmit-paused and sleeps, and the test SIGKILLs uvicorn there.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import VAR_DIR, load_demo_sync, sql

pytestmark = [pytest.mark.fault, pytest.mark.slow]

MARKER = VAR_DIR / "transmit-paused"


def children(pid: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(proc.name))
    return found


def web_pid(server) -> int:
    """The uvicorn process under `python -m app run` (the ARQ worker is its sibling)."""
    for pid in children(server.proc.pid):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"uvicorn" in cmdline:
            return pid
    raise AssertionError("no uvicorn child")


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


def test_web_killed_mid_transmit_then_retry(live_server_factory):
    load_demo_sync()
    MARKER.unlink(missing_ok=True)
    slow = live_server_factory(TEST_SLOW_TRANSMIT="120")
    client = signed_in(slow.url)
    form = transmit_form(client)
    outcome: dict = {}

    def post():
        try:
            outcome["response"] = client.post("/readings/cold", data=form)
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=post)
    thread.start()
    deadline = time.monotonic() + 120
    while not MARKER.exists():
        assert time.monotonic() < deadline and thread.is_alive(), outcome
        time.sleep(0.1)
    os.kill(web_pid(slow), signal.SIGKILL)
    thread.join(timeout=60)
    assert "error" in outcome, outcome  # the browser saw the connection drop
    slow.stop()
    # The transaction died with the process: nothing, not a part of the batch.
    assert transmitted(form["period"]) == []

    server = live_server_factory()  # restarted, without the hook
    client = signed_in(server.url)
    retry = transmit_form(client)
    for _ in range(2):  # the user retries, and once more (double click)
        response = client.post("/readings/cold", data=retry)
        assert response.status_code == 200, response.text[:300]
    rows = transmitted(form["period"])
    assert len(rows) == 12 and all(r["n"] == 1 for r in rows)
