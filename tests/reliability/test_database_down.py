"""PostgreSQL stopped under a running web process: a friendly 503, never a stack trace; the
app recovers by itself when the database is back; an htmx form keeps what the user typed.

The database is a dedicated embedded server started here in a tmp dir (not the shared test
server, which the other tests keep using), stopped and started with pg_ctl through
devstack.embedded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.helpers import ROOT, VAR_DIR, LiveAuth

pytestmark = [pytest.mark.fault, pytest.mark.slow, pytest.mark.e2e]

TRACE = ("Traceback", 'File "', "asyncpg", "ConnectionRefused", "Errno")
UNAVAILABLE = "Сервис временно недоступен"


class OwnPostgres:
    def __init__(self) -> None:
        # A short path: the unix socket lives in the data directory.
        self.base = Path(tempfile.mkdtemp(prefix="pgdown-", dir="/tmp"))
        self.embedded = None
        self.url = ""

    def start(self) -> OwnPostgres:
        from devstack.embedded import ensure_database, start_embedded

        self.embedded = start_embedded(self.base, need_redis=False)
        self.url = ensure_database(self.embedded.database_url, "portal_pgdown")
        return self

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="module")
def pg():
    own = OwnPostgres().start()
    env = {**os.environ, "DATABASE_URL": own.url, "VAR_DIR": str(VAR_DIR)}
    for command in (["migrate"], ["demo-data"]):
        subprocess.run([sys.executable, "-m", "app", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=180)
    yield own
    own.cleanup()


@pytest.fixture(scope="module")
def server(pg, live_server_factory):
    return live_server_factory(DATABASE_URL=pg.url)


def http_login(url: str) -> httpx.Client:
    auth = LiveAuth(url)
    response = auth.login()
    assert response.status_code == 303, response.text[:300]
    return auth.client


def wait_until_served(client: httpx.Client, path: str, deadline_s: float = 60) -> list[int]:
    """Poll until the page is served again; returns the statuses seen meanwhile."""
    seen: list[int] = []
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        response = client.get(path)
        seen.append(response.status_code)
        if response.status_code == 200 and "Иванова Мария Петровна" in response.text:
            return seen
        assert response.status_code == 503, (response.status_code, response.text[:300])
        time.sleep(0.3)
    raise AssertionError(f"not recovered; statuses {seen[-10:]}")


def test_pages_fail_politely_while_postgres_is_down_and_recover(server, pg):
    client = http_login(server.url)
    assert "Иванова Мария Петровна" in client.get("/").text
    pg.stop()
    try:
        for path in ("/", "/archive", "/contracts", "/connect"):
            response = client.get(path)
            assert response.status_code == 503, (path, response.status_code)
            assert UNAVAILABLE in response.text, path
            for needle in TRACE:
                assert needle not in response.text, (path, needle)
            assert response.headers.get("content-security-policy")
        # A request that writes (login of another browser) fails the same polite way.
        failed = LiveAuth(server.url).login()
        assert failed.status_code == 503 and UNAVAILABLE in failed.text
    finally:
        pg.start()
    wait_until_served(client, "/")
    assert client.get("/archive").status_code == 200
    assert server.proc.poll() is None  # the same web process recovered; nobody restarted it


def test_htmx_form_keeps_typed_values_and_says_so(server, pg, page: Page):
    page.goto(server.url + "/")
    page.get_by_label("Адрес электронной почты").fill("demo@izhvodokanal.example")
    page.get_by_label("Пароль").fill("demopass2026")
    pg.stop()
    try:
        with page.expect_response(lambda r: r.url.endswith("/login")) as response:
            page.get_by_role("button", name="Войти").click()
        assert response.value.status == 503
        alert = page.locator("#request-error")
        expect(alert).to_be_visible()
        expect(alert).to_contain_text("введённые данные остались на экране")
        expect(page.get_by_label("Адрес электронной почты")).to_have_value(
            "demo@izhvodokanal.example")
        expect(page.get_by_label("Пароль")).to_have_value("demopass2026")
    finally:
        pg.start()
    wait_until_served(http_login(server.url), "/")
    with page.expect_response(lambda r: r.url.endswith("/login")):
        page.get_by_role("button", name="Войти").click()
    expect(page.get_by_text("Вы успешно авторизовались!")).to_be_visible()
    expect(page.locator("#request-error")).to_be_hidden()


def test_network_failure_message_is_translated(server, pg, page: Page):
    """The message comes from the template (Babel), so English users read English."""
    page.goto(server.url + "/")
    page.get_by_role("button", name="EN").click()
    page.get_by_label("E-mail address").fill("demo@izhvodokanal.example")
    page.get_by_label("Password").fill("demopass2026")
    page.route("**/login", lambda route: route.abort("connectionrefused"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#request-error")).to_contain_text("No connection to the server")
    expect(page.get_by_label("E-mail address")).to_have_value("demo@izhvodokanal.example")
