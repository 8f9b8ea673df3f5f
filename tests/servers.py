"""pytest plugin: PostgreSQL and Redis for a run that selects anything outside tests/unit.

Started in `pytest_configure`, i.e. before any test module imports `app` (Piccolo's engine reads
DATABASE_URL when the tables are first imported): a fresh database named after the run on the
embedded server under var/test, or on DATABASE_URL's server when it is set; Redis embedded, or
REDIS_URL. The whole suite makes ONE database per run and drops it at the end. A run of
tests/unit alone starts nothing (tests/unit/conftest.py keeps it that way).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, RUN_ID

UNIT_DIR = ROOT / "tests" / "unit"
TEST_DB = f"wp_test_{RUN_ID}"
# Where a unit-only run points the URLs (even when the environment sets real ones): Piccolo's
# engine connects once when the tables are first imported, and that must reach nothing.
NOWHERE_DATABASE_URL = "postgresql://unit-tests-use-no-database@/none?host=/nonexistent"
NOWHERE_REDIS_URL = "unix:///nonexistent/unit-tests-use-no-redis.sock"


class _State:
    started = False
    embedded = None
    admin_url: str | None = None


state = _State()


def selects_only_unit_tests(config: pytest.Config) -> bool:
    """True when every path given to pytest (or its testpaths) lies inside tests/unit."""
    here = config.invocation_params.dir
    paths = [Path(here, arg.split("::", 1)[0]).resolve() for arg in config.args]
    return bool(paths) and all(path.is_relative_to(UNIT_DIR) for path in paths)


def pytest_configure(config: pytest.Config) -> None:
    if selects_only_unit_tests(config):
        os.environ["DATABASE_URL"] = NOWHERE_DATABASE_URL
        os.environ["REDIS_URL"] = NOWHERE_REDIS_URL
        return
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    from devstack.embedded import ensure_database, start_embedded

    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        state.embedded = start_embedded(
            ROOT / "var" / "test",
            need_pg=not os.environ.get("DATABASE_URL"),
            need_redis=not os.environ.get("REDIS_URL"),
        )
    state.admin_url = os.environ.get("DATABASE_URL") or state.embedded.database_url
    os.environ.setdefault("REDIS_URL", state.embedded.redis_url if state.embedded else "")
    os.environ["DATABASE_URL"] = ensure_database(state.admin_url, TEST_DB)
    state.started = True
    from app.settings import get_settings

    get_settings.cache_clear()
    subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=ROOT, check=True,
                   env=dict(os.environ), capture_output=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    if not state.started:
        return
    from devstack.embedded import drop_database

    try:
        drop_database(state.admin_url, TEST_DB)
    finally:
        if state.embedded is not None:
            state.embedded.stop()
