"""What every test needs: a private VAR_DIR, a SECRET_KEY, the fixtures, system Chromium.

PostgreSQL and Redis come from the `tests.servers` plugin, only when the run selects tests
outside tests/unit; the helpers tests import live in tests/helpers.py.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT as _ROOT
from tests.helpers import (
    RUN_ID,
    VAR_DIR,
    Auth,
    LiveServer,
    flush_redis,
    truncate_all,
)

pytest_plugins = ["tests.servers"]

# pytest's tmp_path lives under one /tmp/pytest-of-USER shared by every checkout on the machine,
# and each session prunes the older numbered dirs: parallel runs deleted each other's embedded
# servers. One temp root per checkout (short: unix socket paths under it must stay < 108 bytes).
_TEMPROOT = Path("/tmp") / f"pt-{hashlib.sha1(str(_ROOT).encode()).hexdigest()[:8]}"
_TEMPROOT.mkdir(exist_ok=True)
os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", str(_TEMPROOT))
os.environ["VAR_DIR"] = str(VAR_DIR)
os.environ["PICCOLO_CONF"] = "app.piccolo_conf"
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + RUN_ID)
os.environ.pop("APP_TODAY", None)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(VAR_DIR, ignore_errors=True)


# ---------------------------------------------------------------- database fixtures


@pytest.fixture(scope="session")
async def pool():
    from app import db

    await db.open_pool(max_size=20)
    yield
    await db.close_pool()


@pytest.fixture
async def clean_db(pool):
    await truncate_all()
    await flush_redis()
    yield


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


# ---------------------------------------------------------------- in-process web client


@pytest.fixture(scope="session")
async def _apps(pool):
    """The in-process apps of this run, one per distinct Settings: building the app (Litestar
    registers and deep-copies ≈ 170 handlers) took ≈ 0.1–0.3 s, in front of each of ≈ 1 000
    tests. Everything an app keeps between requests lives in PostgreSQL and Redis, which the
    tests reset; a test that needs other settings (APP_TODAY, SMTP_URL, …) gets its own app,
    because it changes the Settings the app is looked up by."""
    apps: dict = {}
    yield apps
    for app in apps.values():
        for hook in app.on_shutdown:
            await hook(app)


@pytest.fixture
async def client(_apps):
    """httpx on the ASGI app in this event loop (Litestar's AsyncTestClient runs the app in
    a portal thread with its own loop, which the session-wide asyncpg pool cannot serve)."""
    import httpx

    from app.settings import get_settings
    from app.web import create_app

    settings = get_settings()
    app = _apps.get(settings)
    if app is None:
        app = _apps[settings] = create_app(settings, manage_pool=False)
        for hook in app.on_startup:
            await hook(app)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local",
                                 follow_redirects=False) as c:
        c.app = app
        yield c


@pytest.fixture
def auth(client) -> Auth:
    """Log `client` in and out: `await auth.login_ok()`, `await auth.login(email, pw)`."""
    return Auth(client)


# ---------------------------------------------------------------- live server (e2e)


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


# pytest-playwright's fixtures: a test asking for one drives Chromium.
BROWSER_FIXTURES = {"page", "context", "browser", "new_context", "launch_browser"}


def pytest_collection_modifyitems(session, config, items):
    """End-to-end tests run last: Playwright's sync API keeps an event loop running in the
    main thread for the rest of the session, which async tests cannot share.

    Every test that drives Chromium is marked `browser` (by the fixtures it uses, so none is
    forgotten): `.ci/run`'s second pass, on the machine's PostgreSQL and Redis, deselects
    them with `-m "not browser"` — see `.ci/run` for why that loses nothing."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: "/tests/e2e/" in str(item.path).replace("\\", "/")
               or item.get_closest_marker("e2e") is not None)  # browser tests elsewhere too
