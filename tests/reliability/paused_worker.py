"""The product's ARQ worker with a pause in `refresh_archive`, for test_worker_killed.py.

    PAUSE_REFRESH_AT=<step> python -m arq tests.reliability.paused_worker.Settings

(run from the project root, so `tests` is importable). At the step boundary named by
PAUSE_REFRESH_AT (`claimed`, `handed_over`, `written`, `answers_applied`, `applied`; see
`app.billing.refresh.CrashHook`) the job touches VAR_DIR/refresh-paused-<step> and sleeps, so
the test can kill -9 the worker exactly there. The seam is the job's
`ctx["refresh_crash_hook"]`, which this subclass's `on_startup` fills; the product's
`WorkerSettings` leaves it empty, and nothing in `app/` reads the variable.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from app.settings import get_settings
from app.worker import WorkerSettings, startup


def pause_at(step: str):
    async def pause(name: str) -> None:
        if name == step:
            (get_settings().var_dir / f"refresh-paused-{name}").touch()
            await asyncio.sleep(3600)

    return pause


async def paused_startup(ctx: dict[str, Any]) -> None:
    await startup(ctx)
    ctx["refresh_crash_hook"] = pause_at(os.environ["PAUSE_REFRESH_AT"])


class Settings(WorkerSettings):
    # arq reads only a settings class's own __dict__ (arq.worker.get_kwargs), not inherited
    # attributes: copy the product's settings in, then replace on_startup.
    locals().update({k: v for k, v in vars(WorkerSettings).items() if not k.startswith("__")})
    on_startup = paused_startup
