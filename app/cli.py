"""`python -m app COMMAND`: migrate, import-billing, demo-data, window, create-operator, run,
serve, worker, ...

Commands that need the database start the embedded PostgreSQL/Redis under var/ when
DATABASE_URL / REDIS_URL are unset, exactly as `make run` does.

The fix for "import-billing connects to 127.0.0.1:5432": the CLI sets the environment before
any app import. Piccolo's engine reads DATABASE_URL once, when `app.piccolo_conf` is first
imported (i.e. by the first import of the tables), so every module that touches the tables is
imported inside `services()`, after it has set the URL; `services()` refuses to run if the
engine was configured earlier (a command importing a query module at the top would fail loudly
instead of talking to the wrong server).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from app.settings import ROOT, get_settings

DB_NAME = "water_portal"
log = logging.getLogger("app")


@asynccontextmanager
async def services(
    *, redis: bool = False, migrate: bool = True, pool: bool = True, always_stop: bool = False
) -> AsyncIterator[None]:
    """DATABASE_URL (and REDIS_URL) set, embedded servers started under var/ where unset.

    Then migrations applied and the pool opened, as asked. On exit the pool is closed and the
    servers this call started are stopped (`always_stop`: also servers found running).
    """
    async with AsyncExitStack() as stack:
        if not os.environ.get("DATABASE_URL") or (redis and not os.environ.get("REDIS_URL")):
            if "app.piccolo_conf" in sys.modules:
                raise RuntimeError("the tables were imported before DATABASE_URL was set")
            from devstack.embedded import aensure_database, embedded_unless_set

            emb = stack.enter_context(embedded_unless_set(
                get_settings().var_dir, redis=redis, always_stop=always_stop))
            if emb.database_url:
                os.environ["DATABASE_URL"] = await aensure_database(emb.database_url, DB_NAME)
            if emb.redis_url:
                os.environ["REDIS_URL"] = emb.redis_url
            get_settings.cache_clear()
        os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")
        if migrate:
            await apply_migrations()
        if pool:
            from app import db

            await db.open_pool(max_size=4)
            stack.push_async_callback(db.close_pool)
        yield


async def apply_migrations() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    response = await run_forwards(app_name="portal", migration_id="all", fake=False)
    if not response.success:
        raise SystemExit(f"migration failed: {response.message}")


async def cmd_migrate(args: argparse.Namespace) -> int:
    async with services(pool=False):
        print("migrations applied")
    return 0


async def cmd_import_billing(args: argparse.Namespace) -> int:
    async with services():
        from app.billing.directory import ImportFailed, import_billing

        try:
            report = await import_billing(Path(args.directory))
        except ImportFailed as exc:
            for line in exc.errors:
                print(line, file=sys.stderr)
            print(f"import failed: {len(exc.errors)} error(s), nothing imported", file=sys.stderr)
            return 1
    for line in report.lines():
        print(line)
    return 0


async def cmd_demo_data(args: argparse.Namespace) -> int:
    async with services():
        from app.demo import load_demo_data

        report = await load_demo_data(get_settings().var_dir / "demo-billing")
    for line in report.lines():
        print(line)
    print_logins()
    return 0


async def cmd_window(args: argparse.Namespace) -> int:
    from app.domain.calendar import WorkingCalendar, parse_period, submission_window

    try:
        period = parse_period(args.period)
        overrides = await load_overrides_if_available()
        opens, closes = submission_window(period, args.deadline_day, WorkingCalendar(overrides))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{opens.isoformat()} {closes.isoformat()}")
    return 0


async def load_overrides_if_available() -> dict:
    """Operator overrides from the database when one is configured or already running."""
    if not os.environ.get("DATABASE_URL") and not (
        get_settings().var_dir / "pg" / "postmaster.pid"
    ).exists():
        return {}
    try:
        async with services(migrate=False):
            from app.queries.calendar import load_overrides

            return await load_overrides()
    except Exception as exc:  # the window rule still works on the bare calendar
        log.warning("calendar overrides unavailable: %s", exc)
        return {}


async def cmd_create_operator(args: argparse.Namespace) -> int:
    from app.domain.passwords import password_problems
    from app.i18n import gettext

    password = os.environ.get("OPERATOR_PASSWORD") or getpass.getpass("Password: ")
    confirm = os.environ.get("OPERATOR_PASSWORD") or getpass.getpass("Repeat password: ")
    problems = password_problems(password, confirm)
    if problems:
        for problem in problems:
            print(problem.text(gettext), file=sys.stderr)
        return 2
    async with services():
        from app.queries.users import create_operator
        from app.security import hash_password

        email = args.email.strip().lower()
        password_hash = await asyncio.to_thread(hash_password, password)  # once
        uid = await create_operator(email, args.name or email, password_hash)
    print(f"operator {email} ready (id {uid})")
    return 0


async def cmd_refresh_archive(args: argparse.Namespace) -> int:
    """Run the archive refresh once (what the worker does every ARCHIVE_REFRESH_MINUTES)."""
    async with services(migrate=False):
        from app.billing.refresh import refresh_archive

        counts = await refresh_archive()
    print(json.dumps(counts, sort_keys=True))
    return 0


async def cmd_compute_windows(args: argparse.Namespace) -> int:
    """What the daily worker job does, once, now; prints the counts."""
    async with services():
        from app.queries.windows import compute_windows
        from app.settings import today

        counts = await compute_windows(today())
    print(" ".join(f"{key}={value}" for key, value in counts.items()))
    return 0


def print_logins() -> None:
    from app.demo import DEMO_OPERATOR, DEMO_SUBSCRIBER

    print(f"  subscriber: {DEMO_SUBSCRIBER[0]} / {DEMO_SUBSCRIBER[1]}")
    print(f"  operator:   {DEMO_OPERATOR[0]} / {DEMO_OPERATOR[1]}")


def web_command(settings, workers: int) -> list[str]:
    """uvicorn as `make run` starts it. --forwarded-allow-ips from FORWARDED_ALLOW_IPS (empty:
    X-Forwarded-For/-Proto believed from nobody; uvicorn's own default trusts 127.0.0.1)."""
    return [sys.executable, "-m", "uvicorn", "app.asgi:app", "--host", settings.host,
            "--port", str(settings.port), "--workers", str(workers),
            "--forwarded-allow-ips", settings.forwarded_allow_ips,
            "--no-access-log", "--timeout-graceful-shutdown", "5"]


def spawn_processes(settings, workers: int) -> list[subprocess.Popen]:
    python = sys.executable
    web = web_command(settings, workers)
    worker = [python, "-m", "arq", "app.worker.WorkerSettings"]
    env = dict(os.environ)
    return [
        subprocess.Popen(web, cwd=ROOT, env=env),
        subprocess.Popen(worker, cwd=ROOT, env=env),
    ]


async def cmd_run(args: argparse.Namespace) -> int:
    """Everything `make run` needs: services, migrations, demo data, web + worker."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    # `make run` owns the servers: it stops them even when it found them running.
    async with services(redis=True, pool=not args.no_demo, always_stop=True):
        if not args.no_demo:
            from app.demo import load_demo_data

            await load_demo_data(get_settings().var_dir / "demo-billing")
        settings = get_settings()
        children = spawn_processes(settings, args.workers or settings.web_workers)
        try:
            print(f"\nПортал: http://{settings.host}:{settings.port}/", flush=True)
            print("Demo logins:")
            print_logins()
            print("Press Ctrl+C to stop.\n", flush=True)
            while not stopping.is_set():
                if any(child.poll() is not None for child in children):
                    log.error("a child process exited; stopping")
                    break
                try:
                    await asyncio.wait_for(stopping.wait(), 0.3)
                except TimeoutError:
                    pass
        finally:
            await asyncio.to_thread(stop_children, children)
    print("stopped", flush=True)
    return 0


def stop_children(children: list[subprocess.Popen], timeout: float = 10) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()


# ---------------------------------------------------------------- production processes

GRACEFUL_SHUTDOWN_SECONDS = 30  # in-flight requests get this long after SIGTERM
PRODUCTION_URLS = ("DATABASE_URL", "REDIS_URL")


def require_production_urls(command: str) -> None:
    """`serve` and `worker` start no embedded servers: refuse to run without the URLs."""
    missing = [name for name in PRODUCTION_URLS if not os.environ.get(name)]
    if missing:
        raise SystemExit(
            f"python -m app {command}: {' and '.join(missing)} not set. This command runs "
            f"production processes only and starts no embedded PostgreSQL/Redis; set "
            f"DATABASE_URL (postgresql://user:password@host:5432/db) and REDIS_URL "
            f"(redis://host:6379/0), or use `python -m app run` (what `make run` does).")


def metrics_dir() -> Path:
    """PROMETHEUS_MULTIPROC_DIR, by default VAR_DIR/metrics: every web and worker process of
    one host counts into it, so one scrape of any web process answers for the host (must be
    set before prometheus_client is first imported, i.e. before the app is)."""
    path = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR")
                or get_settings().var_dir / "metrics")
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def cmd_serve(args: argparse.Namespace) -> int:
    """Web processes only (uvicorn, WEB_WORKERS of them) on HOST:PORT; SIGTERM or Ctrl+C stops
    accepting and lets in-flight requests finish (up to GRACEFUL_SHUTDOWN_SECONDS)."""
    require_production_urls("serve")
    metrics_dir()
    os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")  # Piccolo's table queries
    import uvicorn

    settings = get_settings()
    workers = args.workers or settings.web_workers
    log.info("serving on %s:%s with %d web process(es)", settings.host, settings.port, workers)
    uvicorn.run(
        "app.asgi:app", host=settings.host, port=settings.port, workers=workers,
        log_config=None,  # our handlers (app/logs.py): LOG_FORMAT=json applies to uvicorn too
        access_log=False,  # app.access logs each request with its route template instead
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,  # empty: believe no proxy
        server_header=False,
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """One ARQ worker (the product's WorkerSettings); SIGTERM stops it (arq retries a job it
    interrupted; every job is safe to run twice)."""
    require_production_urls("worker")
    metrics_dir()
    os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")  # Piccolo's table queries
    from arq.worker import run_worker

    from app.worker import WorkerSettings

    run_worker(WorkerSettings)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply migrations").set_defaults(func=cmd_migrate)
    p = sub.add_parser("import-billing", help="upsert the billing directory from DIR")
    p.add_argument("directory")
    p.set_defaults(func=cmd_import_billing)
    sub.add_parser("demo-data", help="load the demo dataset").set_defaults(func=cmd_demo_data)
    p = sub.add_parser("window", help="print the submission window of a period")
    p.add_argument("--deadline-day", type=int, required=True)
    p.add_argument("--period", required=True, help="YYYY-MM")
    p.set_defaults(func=cmd_window)
    p = sub.add_parser("create-operator", help="create an operator account")
    p.add_argument("email")
    p.add_argument("--name", default="")
    p.set_defaults(func=cmd_create_operator)
    sub.add_parser(
        "refresh-archive", help="hand transmitted readings to billing and record its answers",
    ).set_defaults(func=cmd_refresh_archive)
    sub.add_parser(
        "compute-windows",
        help="store the submission windows of the current and next period of every contract",
    ).set_defaults(func=cmd_compute_windows)
    p = sub.add_parser("run", help="serve web + worker (what `make run` does)")
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--no-demo", action="store_true")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("serve", help="production web processes only (needs DATABASE_URL, "
                                     "REDIS_URL; WEB_WORKERS, HOST, PORT)")
    p.add_argument("--workers", type=int, default=0, help="default: WEB_WORKERS")
    p.set_defaults(func=cmd_serve)
    sub.add_parser("worker", help="one production ARQ worker only (needs DATABASE_URL, "
                                  "REDIS_URL)").set_defaults(func=cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    from app.logs import configure_logging

    configure_logging()  # text, or one JSON object a line with LOG_FORMAT=json
    args = build_parser().parse_args(argv)
    if not asyncio.iscoroutinefunction(args.func):  # serve/worker run their own event loop
        return args.func(args) or 0
    return asyncio.run(args.func(args)) or 0
