"""Helpers the tests import (`from tests.helpers import ...`); the fixtures live in conftest.py."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date
from email import message_from_bytes
from email.policy import default as default_policy
from graphlib import TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# One id per pytest process: names this run's VAR_DIR and database, so parallel runs never meet.
RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"
VAR_DIR = ROOT / "var" / f"test-run-{RUN_ID}"
DEMO_PASSWORD = "demopass2026"
DEMO_EMAIL = "demo@izhvodokanal.example"


# ---------------------------------------------------------------- database and Redis


_EMPTY_ALL: list[str] = []


async def _empty_all_statements() -> list[str]:
    """DELETE of every table of ours, children before parents (by the foreign keys the
    catalog lists), then every owned sequence back to 1 — found once per run, so a new table
    is emptied without anyone listing it."""
    from app import db

    tables = [r["relname"] for r in await db.fetch(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'migration'""")]
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for r in await db.fetch(
            """SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k
               JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
               WHERE k.contype = 'f' AND c.relname <> p.relname"""):
        if r["child"] in parents and r["parent"] in parents:
            parents[r["child"]].add(r["parent"])
    # parents before children, reversed: children first (a cycle raises graphlib.CycleError)
    order = list(TopologicalSorter(parents).static_order())[::-1]
    sequences = [r["seq"] for r in await db.fetch(
        """SELECT s.relname AS seq FROM pg_class s JOIN pg_depend d ON d.objid = s.oid
           JOIN pg_class t ON t.oid = d.refobjid
           WHERE s.relkind = 'S' AND d.deptype IN ('a', 'i') AND t.relname = ANY($1::text[])""",
        tables)]
    return ([f'DELETE FROM "{t}"' for t in order]
            + [f"SELECT setval('\"{q}\"', 1, false)" for q in sequences])


async def truncate_all() -> None:
    """Every table of ours empty, ids from 1 again. DELETE, not TRUNCATE: on a database of
    test-sized tables one TRUNCATE of 23 tables took 220 ms (a new file per table, fsynced),
    the DELETEs take a few ms — and almost every integration test starts here."""
    from app import db

    if not _EMPTY_ALL:
        _EMPTY_ALL.extend(await _empty_all_statements())
    async with db.connection() as conn, conn.transaction():
        await conn.execute(";\n".join(_EMPTY_ALL))


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


# ---------------------------------------------------------------- in-process web client


def csrf_of(client) -> str:
    return client.cookies.get("csrftoken", "")


async def post_form(client, url: str, data: dict | None = None, **kwargs):
    """POST a form with the CSRF token (fetching a page first if no token yet)."""
    if not client.cookies.get("csrftoken"):
        await client.get("/")
    payload = {"_csrf_token": csrf_of(client), **(data or {})}
    return await client.post(url, data=payload, **kwargs)


async def post_grid(client, url: str, data: dict | None = None, **kwargs):
    """A grid's save/transmit as the page sends it (htmx): the answer is the grid itself. A
    plain form POST is answered by a redirect to the grid (PRG, test_readings.py)."""
    kwargs.setdefault("headers", {"HX-Request": "true"})
    return await post_form(client, url, data, **kwargs)


class Auth:
    """Log the httpx client in and out through the real forms (flaskr's AuthActions)."""

    def __init__(self, client) -> None:
        self.client = client

    async def login(self, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD, **kwargs):
        """POST /login (kwargs such as headers go to httpx); returns the response unjudged."""
        return await post_form(self.client, "/login", {"email": email, "password": password},
                               **kwargs)

    async def login_ok(self, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
        """Log in and assert the portal greets the user."""
        response = await self.login(email, password)
        assert response.status_code in (200, 303), response.text
        home = await self.client.get("/")
        assert "Вы успешно авторизовались!" in home.text

    async def logout(self):
        return await post_form(self.client, "/logout")


async def login(client, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
    """Log `client` in and assert success (for tests that juggle several clients)."""
    await Auth(client).login_ok(email, password)


class LiveAuth:
    """Auth for a live server (`LiveServer.url`): a sync httpx client with its CSRF cookie."""

    def __init__(self, url: str) -> None:
        import httpx

        self.client = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
        self.client.get("/")  # the CSRF cookie

    def login(self, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD):
        """POST /login; returns the response unjudged."""
        return self.client.post("/login", data={
            "email": email, "password": password,
            "_csrf_token": self.client.cookies["csrftoken"]})


# ---------------------------------------------------------------- mail written under VAR_DIR


def mail_files() -> list[Path]:
    from app.settings import get_settings

    return sorted((get_settings().var_dir / "mail").glob("*.eml"))


def read_mail(path: Path) -> tuple[str, str, str]:
    """(to, subject, text body) of a written .eml file; a text + HTML mail gives its text part."""
    msg = message_from_bytes(path.read_bytes(), policy=default_policy)
    return msg["To"], msg["Subject"], msg.get_body(preferencelist=("plain",)).get_content()


# ---------------------------------------------------------------- sync DB access (e2e)


def in_thread(coro_factory):
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

    return in_thread(go)


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

    return in_thread(main)


def load_demo_sync() -> None:
    async def go():
        from app.demo import load_demo_data

        await truncate_all()
        await flush_redis()
        await load_demo_data(VAR_DIR / "demo-billing")

    run_sync(go)


def demo_contract_of_demo_user(billing_id: int, today: date) -> int:
    """The demo data loaded as of `today`, and the contract with this «№» linked to the demo
    subscriber: its id (the e2e grids' setup)."""
    from unittest import mock

    with mock.patch("app.demo.today", lambda: today):
        load_demo_sync()
    [row] = sql("SELECT id FROM contract WHERE billing_id = $1", billing_id)
    sql("""INSERT INTO contract_link ("user", contract, created_at)
           SELECT id, $1, now() FROM portal_user WHERE email = $2""", row["id"], DEMO_EMAIL)
    return row["id"]


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


# ---------------------------------------------------------------- counting SQL statements


class QueryCounter:
    """Every SQL statement the app sends while active (`with QueryCounter() as q: ...;
    q.statements`): asyncpg's fetch/fetchrow/fetchval/execute, whatever pool connection runs
    them. Not counted: asyncpg's one-off type introspection of a new connection; the pool's
    reset query on release, if one is sent, is listed apart (`q.resets`)."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.resets: list[str] = []

    def __enter__(self) -> QueryCounter:
        from asyncpg.connection import Connection

        self._saved = (Connection._execute, Connection.execute)
        saved_execute, saved_plain = self._saved
        statements, resets = self.statements, self.resets

        async def _execute(conn, query, *args, **kwargs):
            statements.append(query)
            return await saved_execute(conn, query, *args, **kwargs)

        async def execute(conn, query, *args, **kwargs):
            if not args:  # with args: via _execute
                (resets if query == conn.get_reset_query() else statements).append(query)
            return await saved_plain(conn, query, *args, **kwargs)

        Connection._execute, Connection.execute = _execute, execute
        return self

    def __exit__(self, *exc) -> None:
        from asyncpg.connection import Connection

        Connection._execute, Connection.execute = self._saved


# ---------------------------------------------------------------- the demo world with an API token


async def demo_with_api_token(name: str) -> tuple[int, str]:
    """An empty database and Redis, the demo data loaded, and a `submit` token (one day) of the
    demo user: (the user's id, the token)."""
    import hashlib
    from datetime import UTC, datetime, timedelta

    from app import db
    from app.controllers.profile import new_api_token
    from app.demo import load_demo_data
    from app.queries.api_tokens import create_token

    await truncate_all()
    await flush_redis()
    await load_demo_data(VAR_DIR / "demo-billing")
    user = await db.fetchval("SELECT id FROM portal_user WHERE email = 'demo@izhvodokanal.example'")
    token = new_api_token()
    await create_token(user, name, "submit", hashlib.sha256(token.encode()).hexdigest(),
                       datetime.now(UTC) + timedelta(days=1))
    return user, token
