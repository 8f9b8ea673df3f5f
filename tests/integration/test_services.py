"""Embedded PostgreSQL + Redis (devstack/embedded.py): start, use, stop without orphans, restart.

Self-contained: every test gets its own var dir under pytest's tmp_path.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
from pathlib import Path

import asyncpg
import psutil
import pytest
import redis.asyncio as aredis

from devstack.embedded import (
    Embedded,
    _database_url,
    drop_database,
    ensure_database,
    start_embedded,
)


def alive(pid: int | None) -> bool:
    """Process exists and is not a zombie (PID 1 here may reap exited daemons late)."""
    try:
        return bool(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def pid_from_file(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def wait_dead(pids: list[int], timeout: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


async def _write(emb: Embedded) -> None:
    conn = await asyncpg.connect(emb.database_url)
    try:
        await conn.execute("CREATE TABLE kept (id int PRIMARY KEY, note text)")
        await conn.execute("INSERT INTO kept VALUES (1, 'показания')")
    finally:
        await conn.close()
    r = aredis.Redis.from_url(emb.redis_url)
    try:
        assert await r.ping()
        await r.set("session:abc", "x")
    finally:
        await r.aclose()


async def _read(emb: Embedded) -> tuple[str | None, bytes | None]:
    conn = await asyncpg.connect(emb.database_url)
    try:
        note = await conn.fetchval("SELECT note FROM kept WHERE id = 1")
    finally:
        await conn.close()
    r = aredis.Redis.from_url(emb.redis_url)
    try:
        value = await r.get("session:abc")
    finally:
        await r.aclose()
    return note, value


def test_start_use_stop_restart(tmp_path: Path) -> None:
    var = tmp_path / "does" / "not" / "exist"
    emb = start_embedded(var)
    try:
        assert emb.database_url and emb.database_url.startswith("postgresql://")
        assert emb.redis_url == f"unix://{var / 'redis' / 'redis.sock'}"
        asyncio.run(_write(emb))

        pg_pid = pid_from_file(var / "pg" / "postmaster.pid")
        redis_pid = pid_from_file(var / "redis" / "redis.pid")
        assert pg_pid == emb.postgres_pid and alive(pg_pid)
        assert redis_pid == emb.redis_pid and alive(redis_pid)
        # The postmaster's backends, checkpointer, ...
        pg_children = [child.pid for child in psutil.Process(pg_pid).children()]
        assert pg_children, "postmaster should have auxiliary processes"
    finally:
        emb.stop()

    assert wait_dead([pg_pid, redis_pid, *pg_children]) == []
    assert not (var / "pg" / "postmaster.pid").exists()
    assert not (var / "redis" / "redis.pid").exists()
    assert not (var / "redis" / "redis.sock").exists()
    emb.stop()  # idempotent

    t0 = time.monotonic()
    emb = start_embedded(var)
    restart = time.monotonic() - t0
    try:
        note, value = asyncio.run(_read(emb))
        assert note == "показания"  # data dir reused
        assert value == b"x"  # RDB snapshot reloaded: sessions survive a restart
        assert restart < 3, f"restart took {restart:.2f}s"
        pids = [emb.postgres_pid, emb.redis_pid]
    finally:
        emb.stop()
    assert wait_dead(pids) == []


def test_concurrent_starts_share_servers(tmp_path: Path) -> None:
    var = tmp_path / "var"
    barrier = threading.Barrier(2)
    handles: list[Embedded] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait()
            handles.append(start_embedded(var))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors
        a, b = handles
        assert (a.database_url, a.redis_url) == (b.database_url, b.redis_url)
        assert a.postgres_pid == b.postgres_pid and a.redis_pid == b.redis_pid
        pids = [a.postgres_pid, a.redis_pid]

        a.stop()  # the other handle still uses the servers
        assert all(alive(p) for p in pids)
        assert asyncio.run(_ping_both(b))
    finally:
        for h in handles:
            h.stop()
    assert wait_dead(pids) == []


async def _ping_both(emb: Embedded) -> bool:
    conn = await asyncpg.connect(emb.database_url)
    try:
        ok = await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()
    r = aredis.Redis.from_url(emb.redis_url)
    try:
        return ok and await r.ping()
    finally:
        await r.aclose()


def test_stale_redis_pid_file_and_socket(tmp_path: Path) -> None:
    var = tmp_path / "var"
    rdir = var / "redis"
    rdir.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    (rdir / "redis.pid").write_text(f"{dead.pid}\n")
    (rdir / "redis.sock").write_text("")  # not a socket: nothing answers on it

    emb = start_embedded(var, need_pg=False)
    try:
        assert emb.database_url is None
        assert emb.redis_url == f"unix://{rdir / 'redis.sock'}"
        assert pid_from_file(rdir / "redis.pid") == emb.redis_pid != dead.pid
        assert asyncio.run(aredis.Redis.from_url(emb.redis_url).ping())
        # A second start while it runs reuses it (here: as another process would).
        import devstack.embedded as services

        again = services._Redis(var)
        assert again.start() == emb.redis_url and again.pid == emb.redis_pid
    finally:
        emb.stop()
    assert wait_dead([emb.redis_pid]) == []


def test_restart_after_servers_were_killed(tmp_path: Path) -> None:
    var = tmp_path / "var"
    first = start_embedded(var)
    second = None
    try:
        asyncio.run(_write(first))
        asyncio.run(aredis.Redis.from_url(first.redis_url).save())
        killed = [first.postgres_pid, first.redis_pid]
        for pid in killed:
            os.kill(pid, 9)  # crash: pid files, socket and socket lock files stay behind
        assert wait_dead(killed) == []

        # Dead servers registered in this process are started again.
        second = start_embedded(var)
        assert second.postgres_pid not in killed and second.redis_pid not in killed
        assert asyncio.run(_read(second)) == ("показания", b"x")
        pids = [second.postgres_pid, second.redis_pid]
    finally:
        first.stop()
        if second is not None:
            second.stop()
    assert wait_dead(pids) == []

    # Same after a crash of the whole process (nothing registered; files left behind).
    third = start_embedded(var)
    try:
        for pid in [third.postgres_pid, third.redis_pid]:
            os.kill(pid, 9)
        assert wait_dead([third.postgres_pid, third.redis_pid]) == []
    finally:
        third.stop()  # servers already dead: no error
    fourth = start_embedded(var)
    try:
        assert asyncio.run(_read(fourth)) == ("показания", b"x")
        pids = [fourth.postgres_pid, fourth.redis_pid]
    finally:
        fourth.stop()
    assert wait_dead(pids) == []


def test_ensure_and_drop_database(tmp_path: Path) -> None:
    emb = start_embedded(tmp_path / "var", need_redis=False)
    try:
        assert emb.redis_url is None
        url = ensure_database(emb.database_url, "portal_test")
        assert url == _database_url(emb.database_url, "portal_test")
        assert ensure_database(emb.database_url, "portal_test") == url  # idempotent

        async def use_and_keep_open() -> asyncpg.Connection:
            conn = await asyncpg.connect(url)
            assert await conn.fetchval("SELECT current_database()") == "portal_test"
            return conn

        async def scenario() -> None:
            conn = await use_and_keep_open()
            # Works from inside a running event loop, and with a connection still open.
            drop_database(emb.database_url, "portal_test")
            assert conn.is_closed() or not await _alive_conn(conn)
            admin = await asyncpg.connect(emb.database_url)
            try:
                n = await admin.fetchval(
                    "SELECT count(*) FROM pg_database WHERE datname = 'portal_test'"
                )
            finally:
                await admin.close()
            assert n == 0

        asyncio.run(scenario())
        drop_database(emb.database_url, "portal_test")  # missing: no error
    finally:
        emb.stop()


async def _alive_conn(conn: asyncpg.Connection) -> bool:
    try:
        await conn.fetchval("SELECT 1")
        return True
    except (asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError, OSError):
        return False


@pytest.mark.parametrize(
    ("admin", "expected"),
    [
        (
            "postgresql://postgres:@/postgres?host=/srv/var/pg",
            "postgresql://postgres:@/portal_test?host=/srv/var/pg",
        ),
        (
            "postgresql://postgres@127.0.0.1:5432/postgres",
            "postgresql://postgres@127.0.0.1:5432/portal_test",
        ),
        (
            "postgresql://u:p%40ss@db.example:6543/postgres?sslmode=disable",
            "postgresql://u:p%40ss@db.example:6543/portal_test?sslmode=disable",
        ),
    ],
)
def test_database_url_forms(admin: str, expected: str) -> None:
    assert _database_url(admin, "portal_test") == expected
