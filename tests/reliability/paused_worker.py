"""The product's ARQ worker with a pause in `refresh_archive` (test_worker_killed.py) or in
the mail sender (test_mail_worker_killed.py).

    PAUSE_REFRESH_AT=<step> python -m arq tests.reliability.paused_worker.Settings
    PAUSE_MAIL_AT=claimed python -m arq tests.reliability.paused_worker.Settings

(run from the project root, so `tests` is importable). At the step boundary named by
PAUSE_REFRESH_AT (`claimed`, `handed_over`, `written`, `answers_applied`, `applied`; see
`app.billing.refresh.CrashHook`) the job touches VAR_DIR/refresh-paused-<step> and sleeps, so
the test can kill -9 the worker exactly there. The seam is the job's
`ctx["refresh_crash_hook"]`, which this subclass's `on_startup` fills; the product's
`WorkerSettings` leaves it empty, and nothing in `app/` reads the variable. PAUSE_MAIL_AT
works the same through `ctx["mail_send_hook"]` (`app.notify.send_pending`): the sender stops
after it locked and rendered a row, before SMTP, touching VAR_DIR/mail-paused-claimed.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from app.settings import get_settings
from app.worker import WorkerSettings, startup


def pause_at(step: str, marker: str = "refresh-paused"):
    async def pause(name: str) -> None:
        if name == step:
            (get_settings().var_dir / f"{marker}-{name}").touch()
            await asyncio.sleep(3600)

    return pause


async def paused_startup(ctx: dict[str, Any]) -> None:
    await startup(ctx)
    if step := os.environ.get("PAUSE_REFRESH_AT"):
        ctx["refresh_crash_hook"] = pause_at(step)
    if step := os.environ.get("PAUSE_MAIL_AT"):
        ctx["mail_send_hook"] = pause_at(step, "mail-paused")


class Settings(WorkerSettings):
    # arq reads only a settings class's own __dict__ (arq.worker.get_kwargs), not inherited
    # attributes: copy the product's settings in, then replace on_startup.
    locals().update({k: v for k, v in vars(WorkerSettings).items() if not k.startswith("__")})
    on_startup = paused_startup


class OwnQueue(Settings):
    """The paused worker on a queue of its own (PAUSED_QUEUE, default `arq:paused`), beside
    the product's workers: a test picks the worker that runs a refresh by the queue it
    enqueues the job on (test_scale_out.py kills this one inside a refresh while the others
    keep serving)."""

    locals().update({k: v for k, v in vars(Settings).items() if not k.startswith("__")})
    queue_name = os.environ.get("PAUSED_QUEUE", "arq:paused")
