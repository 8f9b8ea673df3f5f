"""ARQ worker: WorkerSettings and the jobs it runs. Jobs are thin and return counts."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from app import db
from app.jobs import redis_settings
from app.mail import send_mail
from app.settings import get_settings

log = logging.getLogger("app.worker")


async def send_email(ctx: dict[str, Any], to: str, subject: str, body: str) -> dict[str, int]:
    where = await asyncio.to_thread(send_mail, to, subject, body)
    log.info("mail to %s sent via %s", to, where)
    return {"sent": 1}


async def startup(ctx: dict[str, Any]) -> None:
    await db.open_pool(max_size=4)


async def shutdown(ctx: dict[str, Any]) -> None:
    await db.close_pool()


class WorkerSettings:
    functions = [send_email]
    cron_jobs: list = []
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings(get_settings().redis_url)
    max_tries = 5
    job_timeout = 600
