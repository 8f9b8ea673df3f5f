"""`python -m bench run|data|profile`: the benchmark's own command line (`make bench` runs `run`).

Every subcommand runs inside one `embedded_unless_set`: without DATABASE_URL it starts the
embedded PostgreSQL under var/ and stops it at the end if it started it (a server that was
already running, e.g. under `make run`, is left running).
"""

from __future__ import annotations

import argparse
import logging
import sys

from app.settings import get_settings
from bench import data, profile, runner
from devstack.embedded import embedded_unless_set


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    runner.register(sub)
    data.register(sub)
    profile.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    with embedded_unless_set(get_settings().var_dir, redis=False) as emb:
        data.EMBEDDED_ADMIN_URL = emb.database_url
        return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
