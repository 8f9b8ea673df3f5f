"""Further `python -m app` commands, registered by each area (archive, bench, ...)."""

from __future__ import annotations

import argparse
import json


def register_extra_commands(sub: argparse._SubParsersAction) -> None:
    """Each area adds its subcommands here."""
    p = sub.add_parser("refresh-archive",
                       help="hand transmitted readings to billing and record its answers")
    p.set_defaults(func=cmd_refresh_archive)
    from app.bench import data, profile, runner

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
