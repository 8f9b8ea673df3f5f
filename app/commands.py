"""Further `python -m app` commands, registered by each area (archive, bench, ...)."""

from __future__ import annotations

import argparse


def register_extra_commands(sub: argparse._SubParsersAction) -> None:
    """Each area adds its subcommands here."""
