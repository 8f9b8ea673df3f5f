"""`python -m app COMMAND`: migrate, import-billing, demo-data, window, create-operator, run, ...

Commands that need the database start the embedded PostgreSQL/Redis under var/ when
DATABASE_URL / REDIS_URL are unset, exactly as `make run` does.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from app.settings import ROOT, get_settings

DB_NAME = "water_portal"
log = logging.getLogger("app")


class Environment:
    """DATABASE_URL / REDIS_URL in os.environ; embedded servers started when unset."""

    def __init__(self, need_pg: bool = True, need_redis: bool = True) -> None:
        self.embedded = None
        self.stop_on_exit = False
        need_pg = need_pg and not os.environ.get("DATABASE_URL")
        need_redis = need_redis and not os.environ.get("REDIS_URL")
        if need_pg or need_redis:
            from devstack.embedded import ensure_database, start_embedded

            var_dir = get_settings().var_dir
            was_running = (var_dir / "pg" / "postmaster.pid").exists()
            self.embedded = start_embedded(var_dir, need_pg=need_pg, need_redis=need_redis)
            self.stop_on_exit = not was_running
            if need_pg:
                os.environ["DATABASE_URL"] = ensure_database(self.embedded.database_url, DB_NAME)
            if need_redis:
                os.environ["REDIS_URL"] = self.embedded.redis_url
        get_settings.cache_clear()
        os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")

    def close(self, force: bool = False) -> None:
        if self.embedded is not None and (self.stop_on_exit or force):
            self.embedded.stop()
            self.embedded = None


def run_async(factory: Callable[[], Awaitable[int | None]], *, pool: bool = True) -> int:
    async def main() -> int | None:
        from app import db

        if pool:
            await db.open_pool(max_size=4)
        try:
            return await factory()
        finally:
            if pool:
                await db.close_pool()

    return asyncio.run(main()) or 0


async def migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    response = await run_forwards(app_name="portal", migration_id="all", fake=False)
    if not response.success:
        raise SystemExit(f"migration failed: {response.message}")


def cmd_migrate(args: argparse.Namespace) -> int:
    env = Environment(need_redis=False)
    try:
        run_async(migrate, pool=False)
        print("migrations applied")
    finally:
        env.close()
    return 0


def cmd_import_billing(args: argparse.Namespace) -> int:
    from app.billing.directory import ImportFailed, import_billing

    env = Environment(need_redis=False)
    try:
        run_async(migrate, pool=False)

        async def go() -> int:
            try:
                report = await import_billing(Path(args.directory))
            except ImportFailed as exc:
                for line in exc.errors:
                    print(line, file=sys.stderr)
                print(f"import failed: {len(exc.errors)} error(s), nothing imported",
                      file=sys.stderr)
                return 1
            for line in report.lines():
                print(line)
            return 0

        return run_async(go)
    finally:
        env.close()


def cmd_demo_data(args: argparse.Namespace) -> int:
    env = Environment(need_redis=False)
    try:
        run_async(migrate, pool=False)
        from app.demo import load_demo_data

        async def go() -> None:
            report = await load_demo_data(get_settings().var_dir / "demo-billing")
            for line in report.lines():
                print(line)

        run_async(go)
        print_logins()
    finally:
        env.close()
    return 0


def cmd_window(args: argparse.Namespace) -> int:
    from app.domain.calendar import WorkingCalendar, parse_period, submission_window

    try:
        period = parse_period(args.period)
        overrides = load_overrides_if_available()
        opens, closes = submission_window(period, args.deadline_day, WorkingCalendar(overrides))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{opens.isoformat()} {closes.isoformat()}")
    return 0


def load_overrides_if_available() -> dict:
    """Operator overrides from the database when one is configured or already running."""
    if not os.environ.get("DATABASE_URL") and not (
        get_settings().var_dir / "pg" / "postmaster.pid"
    ).exists():
        return {}
    env = Environment(need_redis=False)
    try:
        from app.queries.calendar import load_overrides

        return asyncio.run(_with_pool(load_overrides))
    except Exception as exc:  # the window rule still works on the bare calendar
        log.warning("calendar overrides unavailable: %s", exc)
        return {}
    finally:
        env.close()


async def _with_pool(fn):
    from app import db

    await db.open_pool(max_size=2)
    try:
        return await fn()
    finally:
        await db.close_pool()


def cmd_create_operator(args: argparse.Namespace) -> int:
    from app.domain.passwords import password_problems
    from app.i18n import gettext

    password = os.environ.get("OPERATOR_PASSWORD") or getpass.getpass("Password: ")
    confirm = os.environ.get("OPERATOR_PASSWORD") or getpass.getpass("Repeat password: ")
    problems = password_problems(password, confirm)
    if problems:
        for problem in problems:
            print(problem.text(gettext), file=sys.stderr)
        return 2
    env = Environment(need_redis=False)
    try:
        run_async(migrate, pool=False)

        async def go() -> None:
            from app.queries.users import create_operator
            from app.security import hash_password

            email = args.email.strip().lower()
            password_hash = await asyncio.to_thread(hash_password, password)  # once
            uid = await create_operator(email, args.name or email, password_hash)
            print(f"operator {email} ready (id {uid})")

        run_async(go)
    finally:
        env.close()
    return 0


def print_logins() -> None:
    from app.demo import DEMO_OPERATOR, DEMO_SUBSCRIBER

    print(f"  subscriber: {DEMO_SUBSCRIBER[0]} / {DEMO_SUBSCRIBER[1]}")
    print(f"  operator:   {DEMO_OPERATOR[0]} / {DEMO_OPERATOR[1]}")


def spawn_processes(settings, workers: int) -> list[subprocess.Popen]:
    python = sys.executable
    web = [python, "-m", "uvicorn", "app.asgi:app", "--host", settings.host,
           "--port", str(settings.port), "--workers", str(workers),
           "--no-access-log", "--timeout-graceful-shutdown", "5"]
    worker = [python, "-m", "arq", "app.worker.WorkerSettings"]
    env = dict(os.environ)
    return [
        subprocess.Popen(web, cwd=ROOT, env=env),
        subprocess.Popen(worker, cwd=ROOT, env=env),
    ]


def cmd_run(args: argparse.Namespace) -> int:
    """Everything `make run` needs: services, migrations, demo data, web + worker."""
    env = Environment()
    children: list[subprocess.Popen] = []
    stopping = False

    def stop(signum=None, frame=None):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        run_async(migrate, pool=False)
        if not args.no_demo:
            from app.demo import load_demo_data

            async def demo() -> None:
                await load_demo_data(get_settings().var_dir / "demo-billing")

            run_async(demo)
        settings = get_settings()
        children = spawn_processes(settings, args.workers or settings.web_workers)
        print(f"\nПортал: http://{settings.host}:{settings.port}/", flush=True)
        print("Demo logins:")
        print_logins()
        print("Press Ctrl+C to stop.\n", flush=True)
        while not stopping:
            if any(child.poll() is not None for child in children):
                log.error("a child process exited; stopping")
                break
            time.sleep(0.3)
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.time() + 10
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                child.kill()
        env.close(force=True)
        print("stopped", flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
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
    p = sub.add_parser("run", help="serve web + worker (what `make run` does)")
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--no-demo", action="store_true")
    p.set_defaults(func=cmd_run)
    from app.commands import register_extra_commands

    register_extra_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
