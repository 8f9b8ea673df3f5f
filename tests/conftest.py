"""Test set-up shared by unit, integration and e2e tests.

Before anything from `app` is imported: a fresh PostgreSQL database for this run (on the
embedded server under var/test, or on DATABASE_URL's server when it is set), Redis (embedded,
or REDIS_URL), and a private VAR_DIR (mail, outbox). The database is dropped at the end.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import logging  # noqa: E402

logging.getLogger("pgserver").setLevel(logging.WARNING)
RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"
# pytest's tmp_path lives under one /tmp/pytest-of-USER shared by every checkout on the machine,
# and each session prunes the older numbered dirs: parallel runs deleted each other's embedded
# servers. One temp root per checkout (short: unix socket paths under it must stay < 108 bytes).
_TEMPROOT = Path("/tmp") / f"pt-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]}"
_TEMPROOT.mkdir(exist_ok=True)
os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", str(_TEMPROOT))
VAR_DIR = ROOT / "var" / f"test-run-{RUN_ID}"
os.environ["VAR_DIR"] = str(VAR_DIR)
os.environ["PICCOLO_CONF"] = "app.piccolo_conf"
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + RUN_ID)
os.environ.pop("APP_TODAY", None)

_embedded = None
if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
    from devstack.embedded import start_embedded

    _embedded = start_embedded(
        ROOT / "var" / "test",
        need_pg=not os.environ.get("DATABASE_URL"),
        need_redis=not os.environ.get("REDIS_URL"),
    )
ADMIN_DATABASE_URL = os.environ.get("DATABASE_URL") or _embedded.database_url
os.environ.setdefault("REDIS_URL", _embedded.redis_url if _embedded else "")
TEST_DB = f"wp_test_{RUN_ID}"

from devstack.embedded import drop_database, ensure_database  # noqa: E402

os.environ["DATABASE_URL"] = ensure_database(ADMIN_DATABASE_URL, TEST_DB)

from app.settings import get_settings  # noqa: E402

get_settings.cache_clear()

TABLES = [
    "reading_audit", "reading", "billing_batch", "submission_window", "contract_link",
    "connection_request", "audit_event", "password_reset", "portal_user", "meter",
    "connection_point", "contract", "counterparty", "calendar_override",
]


def _migrate() -> None:
    subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=ROOT, check=True,
                   env=dict(os.environ), capture_output=True)


_migrate()


def pytest_sessionfinish(session, exitstatus):
    try:
        drop_database(ADMIN_DATABASE_URL, TEST_DB)
    finally:
        shutil.rmtree(VAR_DIR, ignore_errors=True)
        if _embedded is not None:
            _embedded.stop()


# ---------------------------------------------------------------- database fixtures


@pytest.fixture(scope="session")
async def pool():
    from app import db

    await db.open_pool(max_size=20)
    yield
    await db.close_pool()


async def truncate_all() -> None:
    from app import db

    await db.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


@pytest.fixture
async def clean_db(pool):
    await truncate_all()
    await flush_redis()
    yield


async def flush_redis() -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(os.environ["REDIS_URL"])
    try:
        keys = [k async for k in redis.scan_iter("throttle:*")]
        keys += [k async for k in redis.scan_iter("arq:*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


@pytest.fixture
async def demo_db(clean_db):
    """The demo dataset (the same `make run` loads); returns its key ids."""
    from app import db
    from app.demo import load_demo_data

    await load_demo_data(VAR_DIR / "demo-billing")
    ids = {
        "subscriber": await db.fetchval(
            "SELECT id FROM portal_user WHERE email = 'demo@izhvodokanal.example'"),
        "operator": await db.fetchval(
            "SELECT id FROM portal_user WHERE email = 'operator@izhvodokanal.example'"),
        "linked_contract": await db.fetchval("SELECT id FROM contract WHERE billing_id = 15303"),
        "unlinked_contract": await db.fetchval("SELECT id FROM contract WHERE billing_id = 15304"),
        "foreign_contract": await db.fetchval("SELECT id FROM contract WHERE billing_id = 16010"),
    }
    return ids


DEMO_PASSWORD = "demopass2026"


# ---------------------------------------------------------------- in-process web client


@pytest.fixture
async def client(pool):
    """httpx on the ASGI app in this event loop (Litestar's AsyncTestClient runs the app in
    a portal thread with its own loop, which the session-wide asyncpg pool cannot serve)."""
    import httpx

    from app.settings import get_settings
    from app.web import create_app

    app = create_app(get_settings(), manage_pool=False)
    for hook in app.on_startup:
        await hook(app)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local",
                                     follow_redirects=False) as c:
            c.app = app
            yield c
    finally:
        for hook in app.on_shutdown:
            await hook(app)


def csrf_of(client) -> str:
    return client.cookies.get("csrftoken", "")


async def post_form(client, url: str, data: dict | None = None, **kwargs):
    """POST a form with the CSRF token (fetching a page first if no token yet)."""
    if not client.cookies.get("csrftoken"):
        await client.get("/")
    payload = {"_csrf_token": csrf_of(client), **(data or {})}
    return await client.post(url, data=payload, **kwargs)


async def login(client, email: str = "demo@izhvodokanal.example",
                password: str = DEMO_PASSWORD) -> None:
    response = await post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code in (200, 303), response.text
    home = await client.get("/")
    assert "Вы успешно авторизовались!" in home.text


async def create_user(email: str, password: str = "secret-pass-123", role: str = "subscriber",
                      contract_billing_ids: tuple[int, ...] = ()) -> int:
    from app import db
    from app.demo import ensure_user

    uid = await ensure_user(email, password, "Тестовый Пользователь", role, "ООО «Тест»")
    for bid in contract_billing_ids:
        await db.execute(
            """INSERT INTO contract_link ("user", contract, created_at)
               SELECT $1, id, now() FROM contract WHERE billing_id = $2
               ON CONFLICT DO NOTHING""",
            uid, bid,
        )
    return uid


# ---------------------------------------------------------------- sync DB access (e2e)


def _in_thread(coro_factory):
    """Run a coroutine to completion on a fresh loop in another thread (sync e2e code runs
    beside Playwright's loop, which owns the main thread)."""
    outcome: dict = {}

    def runner():
        try:
            outcome["result"] = asyncio.run(coro_factory())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            outcome["error"] = exc

    thread = threading.Thread(target=runner)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def sql(query: str, *args):
    """Run one query on a fresh connection from sync code (e2e assertions)."""
    import asyncpg

    async def go():
        conn = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    return _in_thread(go)


def run_sync(coro_factory):
    """Run an async function (e.g. truncate_all + load_demo_data) from a sync e2e fixture."""

    async def main():
        from app import db
        from app.piccolo_conf import DB

        # The session pool belongs to the (idle) pytest-asyncio loop: park it, use our own.
        parked, DB.pool = DB.pool, None
        await db.open_pool(max_size=2)
        try:
            return await coro_factory()
        finally:
            await db.close_pool()
            DB.pool = parked

    return _in_thread(main)


def load_demo_sync() -> None:
    async def go():
        from app.demo import load_demo_data

        await truncate_all()
        await flush_redis()
        await load_demo_data(VAR_DIR / "demo-billing")

    run_sync(go)


def browser_login(page, url: str, email: str = "demo@izhvodokanal.example",
                  password: str = DEMO_PASSWORD) -> None:
    """Log in through the «Вход в ваш кабинет» block in Chromium; waits for the success text."""
    from playwright.sync_api import expect

    page.goto(url + "/")
    page.get_by_label("Адрес электронной почты").fill(email)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_text("Вы успешно авторизовались!")).to_be_visible()


# ---------------------------------------------------------------- live server (e2e)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`python -m app run --no-demo` on a free port: the real web process + ARQ worker."""

    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PORT": str(self.port), "HOST": "127.0.0.1",
                    "BASE_URL": self.url, **env}
        self.log = VAR_DIR / f"server-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> LiveServer:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        self._log_fh = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "run", "--no-demo", "--workers", "1"],
            cwd=ROOT, env=self.env, stdout=self._log_fh, stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log.read_text(errors="replace"))
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start:\n" + self.log.read_text(errors="replace"))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log_fh.close()


@pytest.fixture(scope="module")
def live_server_factory() -> Iterator:
    """Start servers with given env (e.g. APP_TODAY); all are stopped after the module."""
    servers: list[LiveServer] = []

    def start(**env: str) -> LiveServer:
        server = LiveServer(**env).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def live_server(live_server_factory) -> LiveServer:
    return live_server_factory()


# ---------------------------------------------------------------- Playwright (system Chromium)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "ru-RU"}


def pytest_collection_modifyitems(session, config, items):
    """End-to-end tests run last: Playwright's sync API keeps an event loop running in the
    main thread for the rest of the session, which async tests cannot share."""
    items.sort(key=lambda item: "/tests/e2e/" in str(item.path).replace("\\", "/")
               or item.get_closest_marker("e2e") is not None)  # browser tests elsewhere too
