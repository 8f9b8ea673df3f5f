"""Further `python -m app` commands, registered by each area (archive, bench, ...)."""

from __future__ import annotations

import argparse
import json


def register_extra_commands(sub: argparse._SubParsersAction) -> None:
    """Each area adds its subcommands here."""
    p = sub.add_parser("refresh-archive",
                       help="hand transmitted readings to billing and record its answers")
    p.set_defaults(func=cmd_refresh_archive)
    sub.add_parser(
        "compute-windows",
        help="store the submission windows of the current and next period of every contract",
    ).set_defaults(func=cmd_compute_windows)
    from bench import data, profile, runner

    data.register(sub)
    runner.register(sub)
    profile.register(sub)


def cmd_refresh_archive(args: argparse.Namespace) -> int:
    """Run the archive refresh once (what the worker does every ARCHIVE_REFRESH_MINUTES)."""
    from app.__main__ import Environment, run_async

    env = Environment(need_redis=False)
    try:
        from app.billing.refresh import refresh_archive

        async def go() -> int:
            counts = await refresh_archive()
            print(json.dumps(counts, sort_keys=True))
            return 0

        return run_async(go)
    finally:
        env.close()


def cmd_compute_windows(args: argparse.Namespace) -> int:
    """What the daily worker job does, once, now; prints the counts."""
    from app.__main__ import Environment, migrate, run_async
    from app.queries.windows import compute_windows
    from app.settings import today

    env = Environment(need_redis=False)
    try:
        run_async(migrate, pool=False)

        async def go() -> None:
            counts = await compute_windows(today())
            print(" ".join(f"{key}={value}" for key, value in counts.items()))

        run_async(go)
    finally:
        env.close()
    return 0
