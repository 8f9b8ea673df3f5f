"""`python -m app serve` and `python -m app worker` as production runs them (SPEC §12):

- both refuse to start without DATABASE_URL / REDIS_URL, saying so;
- with LOG_FORMAT=json every line either process writes is one JSON object, the request id
  (taken from X-Request-ID or made) is in the access line and returned; after a flow that
  types passwords, gets a session cookie, a CSRF token and a mailed reset token, none of
  them appears anywhere in the logs of the web processes or the worker;
- SIGTERM lets an in-flight transmit finish (200, written) and the process exit 0.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import httpx
import pytest

from tests.helpers import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    ROOT,
    VAR_DIR,
    free_port,
    load_demo_sync,
    mail_files,
    sql,
)

pytestmark = [pytest.mark.slow]


class Production:
    """`python -m app serve` (+ optionally `worker`) on a free port, logs to files."""

    def __init__(self, name: str, workers: int = 2, with_worker: bool = True, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = VAR_DIR / f"prod-{name}"
        self.dir.mkdir(parents=True, exist_ok=True)
        # As systemd starts it: no PICCOLO_CONF (the tests' conftest sets one).
        inherited = {k: v for k, v in os.environ.items() if k != "PICCOLO_CONF"}
        self.env = {**inherited, "VAR_DIR": str(VAR_DIR), "PORT": str(self.port),
                    "HOST": "127.0.0.1", "WEB_WORKERS": str(workers), "BASE_URL": self.url,
                    "PROMETHEUS_MULTIPROC_DIR": str(self.dir / "metrics"), **env}
        self.with_worker = with_worker
        self.procs: dict[str, subprocess.Popen] = {}

    def spawn(self, what: str) -> subprocess.Popen:
        log = (self.dir / f"{what}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "app", what], cwd=ROOT, env=self.env,
                                stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs[what] = proc
        return proc

    def start(self) -> Production:
        self.spawn("serve")
        if self.with_worker:
            self.spawn("worker")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.procs["serve"].poll() is None, self.log("serve")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("serve did not start:\n" + self.log("serve"))

    def log(self, what: str) -> str:
        path = self.dir / f"{what}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.parametrize(("command", "unset"), [
    ("serve", ("DATABASE_URL",)),
    ("serve", ("REDIS_URL",)),
    ("worker", ("DATABASE_URL", "REDIS_URL")),
])
def test_refuses_to_start_without_the_urls(command, unset):
    env = {k: v for k, v in os.environ.items() if k not in unset}
    done = subprocess.run([sys.executable, "-m", "app", command], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert " and ".join(unset) + " not set" in done.stderr
    assert "starts no embedded PostgreSQL/Redis" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list((VAR_DIR / "pg").glob("*")) if (VAR_DIR / "pg").exists() else True


@pytest.fixture(scope="module")
def json_deployment():
    load_demo_sync()
    for path in mail_files():
        path.unlink()
    prod = Production("json", LOG_FORMAT="json").start()
    yield prod
    prod.stop()


def wait_for_mail(subject_part: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in mail_files():
            msg = message_from_bytes(path.read_bytes(), policy=default_policy)
            if subject_part in msg["Subject"]:
                return msg.get_body(("plain",)).get_content()
        time.sleep(0.3)
    raise AssertionError(f"no mail «{subject_part}»")


def test_json_logs_carry_the_request_id_and_no_secret(json_deployment):
    prod = json_deployment
    new_password = "Nov-parol-2026-zeta"
    wrong_password = "Wr0ng-Pa55-qx7"
    secrets: dict[str, str] = {"demo password": DEMO_PASSWORD, "new password": new_password,
                               "wrong password": wrong_password}
    with httpx.Client(base_url=prod.url, timeout=30) as client:
        home = client.get("/", headers={"X-Request-ID": "trace-json-1"})
        assert home.headers["x-request-id"] == "trace-json-1"
        csrf = client.cookies["csrftoken"]
        secrets["csrf token"] = csrf
        bad = client.post("/login", data={"email": DEMO_EMAIL, "password": wrong_password,
                                          "_csrf_token": csrf})
        assert bad.status_code == 422
        ok = client.post("/login", data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD,
                                         "_csrf_token": csrf})
        assert ok.status_code == 303, ok.text[:300]
        csrf = client.cookies["csrftoken"]  # (a new one if the login rotated it)
        secrets["session cookie"] = client.cookies["sid"]
        secrets["second csrf token"] = csrf
        assert client.get("/contracts").status_code == 200
        reminded = client.post("/password/remind",
                               data={"email": DEMO_EMAIL, "_csrf_token": csrf})
        assert reminded.status_code == 200
        link = re.search(r"/password/reset/(\S+)", wait_for_mail("Смена пароля"))
        assert link, "the reset mail has no link"
        secrets["reset token"] = link.group(1)
        assert client.get(f"/password/reset/{link.group(1)}").status_code == 200
        reset = client.post(f"/password/reset/{link.group(1)}", data={
            "password": new_password, "password_confirm": new_password, "_csrf_token": csrf})
        assert reset.status_code in (200, 303), reset.text[:300]
        assert client.get(f"/password/reset/{link.group(1)}").status_code == 404  # used
        client.cookies.clear()
        client.get("/")
        again = client.post("/login", data={"email": DEMO_EMAIL, "password": new_password,
                                            "_csrf_token": client.cookies["csrftoken"]})
        assert again.status_code == 303
        secrets["second session cookie"] = client.cookies["sid"]
        secrets["third csrf token"] = client.cookies["csrftoken"]
    time.sleep(0.5)  # the queue listener thread writes asynchronously
    logs = {what: prod.log(what) for what in ("serve", "worker")}
    records = []
    for what, text in logs.items():
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise AssertionError(f"{what}: not one JSON object: {line[:200]!r}") from None
            assert {"time", "level", "event", "logger"} <= record.keys(), record
            records.append(record)
    access = [r for r in records if r["logger"] == "app.access"]
    traced = [r for r in access if r.get("request_id") == "trace-json-1"]
    assert traced and traced[0]["route"] == "/" and traced[0]["status"] == 200, traced
    resets = [r for r in access if r.get("route") == "/password/reset/{token}"]
    assert len(resets) >= 3 and all(len(r["request_id"]) == 32 for r in resets)
    assert any(r["logger"].startswith("arq") for r in records)  # the worker's lines are JSON
    for what, text in logs.items():
        for name, secret in secrets.items():
            assert secret not in text, f"the {name} is in the {what} log"


def meters_of_15303() -> list[dict]:
    return [dict(r) for r in sql(
        """SELECT m.id, (SELECT max(value) FROM reading r WHERE r.meter = m.id
                         AND r.status = 'accepted') AS prev
           FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = 15303 AND m.kind = 'cold' AND m.active ORDER BY m.id""")]


def test_sigterm_lets_an_inflight_transmit_finish():
    load_demo_sync()
    prod = Production("graceful", workers=2, with_worker=False).start()
    import asyncpg

    from app.domain.calendar import month_start, period_value
    from app.settings import today
    from tests.helpers import in_thread

    try:
        client = httpx.Client(base_url=prod.url, timeout=60)
        client.get("/")
        csrf = client.cookies["csrftoken"]
        assert client.post("/login", data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD,
                                           "_csrf_token": csrf}).status_code == 303
        csrf = client.cookies["csrftoken"]  # (a new one if the login rotated it)
        contract = sql("SELECT id FROM contract WHERE billing_id = 15303")[0]["id"]
        meters = meters_of_15303()
        data = {"action": "transmit", "contract": str(contract), "_csrf_token": csrf,
                "period": period_value(month_start(today()))}
        for m in meters:
            data[f"value-{m['id']}"] = str(int(m["prev"] or 0) + 5)
            data[f"date-{m['id']}"] = today().strftime("%d.%m.%Y")
        outcome: dict = {}
        locked = threading.Event()
        release = threading.Event()

        async def hold_lock():
            conn = await asyncpg.connect(os.environ["DATABASE_URL"])
            try:
                tx = conn.transaction()
                await tx.start()
                await conn.execute("LOCK TABLE reading_audit IN EXCLUSIVE MODE")
                locked.set()
                while not release.is_set():
                    await __import__("asyncio").sleep(0.05)
                await tx.rollback()
            finally:
                await conn.close()

        holder = threading.Thread(target=in_thread, args=(hold_lock,))
        holder.start()
        assert locked.wait(30)

        def transmit():
            try:
                outcome["response"] = client.post("/readings/cold", data=data,
                                                  headers={"HX-Request": "true"})
            except Exception as exc:  # noqa: BLE001
                outcome["error"] = exc

        sender = threading.Thread(target=transmit)
        sender.start()
        deadline = time.monotonic() + 30
        while not sql("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                      "AND query LIKE '%reading_audit%' AND datname = current_database()"):
            assert time.monotonic() < deadline, "the transmit never reached its audit insert"
            time.sleep(0.1)
        prod.procs["serve"].send_signal(signal.SIGTERM)
        time.sleep(1.5)  # shutting down, the transmit still waiting inside its transaction
        assert prod.procs["serve"].poll() is None, "exited before the in-flight request ended"
        release.set()
        sender.join(60)
        holder.join(30)
        assert "error" not in outcome, outcome.get("error")
        response = outcome["response"]
        assert response.status_code == 200, response.text[:300]
        assert f"Передано строк: {len(meters)}" in response.text
        assert prod.procs["serve"].wait(timeout=40) == 0, prod.log("serve")
        written = sql("SELECT count(*) AS n FROM reading r JOIN meter m ON m.id = r.meter "
                      "WHERE m.id = ANY($1::int[]) AND r.period = $2 AND r.status = "
                      "'transmitted'", [m["id"] for m in meters], month_start(today()))
        assert written[0]["n"] == len(meters)
        with pytest.raises(httpx.ConnectError):
            httpx.get(prod.url + "/healthz", timeout=2)
        client.close()
    finally:
        prod.stop()


def test_metrics_dir_defaults_under_var(tmp_path: Path):
    """Without PROMETHEUS_MULTIPROC_DIR serve counts into VAR_DIR/metrics (shared with the
    worker on the same host)."""
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    code = ("import os, app.cli as c; c.metrics_dir(); "
            "print(os.environ['PROMETHEUS_MULTIPROC_DIR'])")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                          env={**env, "VAR_DIR": str(tmp_path)}, capture_output=True, text=True)
    assert done.stdout.strip() == str(tmp_path / "metrics")
    assert (tmp_path / "metrics").is_dir()
