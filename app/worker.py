"""ARQ worker: WorkerSettings and the jobs it runs. Jobs are thin and return counts."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from arq import cron, func

from app import db
from app.mail import send_mail
from app.metrics import count_mails, counted_job, forget_dead_processes, timed_refresh
from app.queue import redis_settings
from app.settings import get_settings, today

log = logging.getLogger("app.worker")


async def send_mails(ctx: dict[str, Any]) -> dict[str, int]:
    """Every minute: send what the outbox holds (app/notify.py says how it stays once-only).
    `ctx["mail_send_hook"]` is the reliability tests' seam (tests/reliability/paused_worker.py);
    the product sets none."""
    from app.notify import send_pending

    counts = await send_pending(hook=ctx.get("mail_send_hook"))
    count_mails(counts)
    return counts


async def queue_reminders(ctx: dict[str, Any]) -> dict[str, int]:
    """Daily: queue the window-open, last-day and verification mails of today (SPEC §9), then
    send them. The windows are stored first, so a fresh worker does not miss today's."""
    from app.notify import send_pending
    from app.queries.mails import queue_reminders as queue_today
    from app.queries.windows import compute_windows as store_windows

    now = today()
    await store_windows(now)
    counts = await queue_today(now)
    log.info("reminders queued for %s: %s", now, counts)
    sent = await send_pending(hook=ctx.get("mail_send_hook"))
    count_mails(sent)
    return {**counts, **sent}


async def send_email(ctx: dict[str, Any], to: str, subject: str, body: str) -> dict[str, int]:
    where = await asyncio.to_thread(send_mail, to, subject, body)
    log.info("mail to %s sent via %s", to, where)
    count_mails({"sent": 1})
    return {"sent": 1}


async def password_reminder(ctx: dict[str, Any], email: str) -> dict[str, int]:
    """«Забыли пароль?»: the reset link, if the address is an account's (app/account_mails)."""
    from app.account_mails import password_reminder as remind

    return {"sent": await remind(email)}


async def registration_mail(ctx: dict[str, Any], user_id: int, created: bool
                            ) -> dict[str, int]:
    """The answer to a registration, mailed to its address (app/account_mails)."""
    from app.account_mails import registration_mail as answer

    return {"sent": await answer(user_id, created)}


async def refresh_archive(ctx: dict[str, Any]) -> dict[str, int]:
    """Hand transmitted readings to billing and record its answers (R7).

    `ctx["refresh_crash_hook"]`, if an `on_startup` put one there, is called at each step
    boundary of the refresh (see `app.billing.refresh.CrashHook`). The product sets none; the
    reliability tests run a `WorkerSettings` subclass that does
    (tests/reliability/paused_worker.py)."""
    from app.billing.refresh import refresh_archive as run_refresh

    with timed_refresh() as counts:
        counts.update(await run_refresh(crash_hook=ctx.get("refresh_crash_hook")))
    return counts


def refresh_schedule(every_minutes: int) -> dict[str, set[int] | None]:
    """arq cron fields for "every N minutes", aligned to midnight.

    arq's cron is a product of hour × minute sets, so it expresses exactly the intervals that
    divide an hour (1, 2, …, 30) or a day in whole hours (60, 120, …, 720, 1440). Any other N
    is rounded down to the nearest such interval, so billing is asked at least as often as
    configured. A cron beats a self-rescheduling job here: arq enqueues each cron run under a
    job id made of its time, so several workers never double a run, and a crashed or
    restarted worker cannot lose the chain.
    """
    if every_minutes < 1:
        raise ValueError("ARCHIVE_REFRESH_MINUTES must be at least 1")
    if every_minutes < 60:
        step = max(d for d in range(1, 61) if 60 % d == 0 and d <= every_minutes)
        return {"hour": None, "minute": set(range(0, 60, step))}
    hours = min(every_minutes // 60, 24)
    step = max(d for d in range(1, 25) if 24 % d == 0 and d <= hours)
    return {"hour": set(range(0, 24, step)), "minute": {0}}


async def compute_windows(ctx: dict[str, Any]) -> dict[str, int]:
    """Daily: store the submission windows of the current and next period of every contract."""
    from app.queries.windows import compute_windows as store_windows

    counts = await store_windows(today())
    log.info("submission windows: %s", counts)
    return counts


async def import_billing_upload(ctx: dict[str, Any], import_id: int) -> dict[str, int]:
    """«Загрузка данных биллинга»: the uploaded directory through the import-billing code,
    progress stored on the import row (app.billing.directory.run_upload)."""
    from app.billing.directory import run_upload

    return await run_upload(import_id)


async def purge_idempotency_keys(ctx: dict[str, Any]) -> dict[str, int]:
    """Daily: forget the API's stored answers older than 24 hours (SPEC §8)."""
    from app.queries.api_tokens import purge_idempotency_keys as purge

    return {"deleted": await purge()}


async def startup(ctx: dict[str, Any]) -> None:
    forget_dead_processes()
    await db.open_pool(max_size=4)


async def shutdown(ctx: dict[str, Any]) -> None:
    await db.close_pool()


# Every run of every job counted as succeeded / failed (portal_jobs_total, app/metrics.py).
(send_email, send_mails, queue_reminders, refresh_archive, compute_windows,
 import_billing_upload, purge_idempotency_keys, password_reminder, registration_mail) = map(
    counted_job, (send_email, send_mails, queue_reminders, refresh_archive, compute_windows,
                  import_billing_upload, purge_idempotency_keys, password_reminder,
                  registration_mail))


class WorkerSettings:
    functions = [send_email, send_mails, queue_reminders, refresh_archive, compute_windows,
                 purge_idempotency_keys, func(import_billing_upload, timeout=3600, max_tries=2),
                 password_reminder, registration_mail]
    cron_jobs = [
        cron(refresh_archive, name="refresh_archive", timeout=1800,
             **refresh_schedule(get_settings().archive_refresh_minutes)),
        cron(compute_windows, name="compute_windows", hour={0}, minute={5}, run_at_startup=True,
             unique=True),
        # 08:00 server time, and at start (a worker that was down catches up; the outbox keys
        # make a second run the same day queue nothing).
        cron(queue_reminders, name="queue_reminders", hour={8}, minute={0}, run_at_startup=True,
             unique=True, timeout=600),
        cron(send_mails, name="send_mails", minute=set(range(60)), unique=True, timeout=600),
        cron(purge_idempotency_keys, name="purge_idempotency_keys", hour={3}, minute={15},
             unique=True),
    ]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings(get_settings().redis_url)
    max_tries = 5
    job_timeout = 600
