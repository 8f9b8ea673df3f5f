"""Prometheus metrics of the portal (SPEC §12) and the helpers that count them.

Every process (each uvicorn worker, each ARQ worker) counts into prometheus-client's default
registry. With PROMETHEUS_MULTIPROC_DIR set (`python -m app serve` / `worker` set it to
VAR_DIR/metrics when unset) each process writes its values to mmap'd files in that directory
and `/metrics` sums every file there, so one scrape of any web process on a host answers for
all the processes of that host, the ARQ worker included — and for those killed since: the
files of a dead process stay, so counters never go backwards when a process dies.

The business counters are counted by the callers of the write path from what it returned
(`count_writes`), so no rule is repeated here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Histogram

from app.domain.vocabulary import ReadingStatus
from app.domain.writes import WriteOutcome

TRANSMITTED = Counter(
    "portal_readings_transmitted",
    "Readings written as transmitted: cold-water readings (kind=cold) and hot-water discharge "
    "volumes (kind=hot); a retry that changed nothing is not counted",
    ["kind", "channel"])
RECEIPTS = Counter("portal_receipts_issued", "Receipts («Квитанция о передаче») issued")
REFRESH_RUNS = Counter("portal_archive_refresh_runs", "Archive refresh runs", ["outcome"])
REFRESH_SECONDS = Histogram(
    "portal_archive_refresh_duration_seconds", "Duration of one archive refresh run",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800))
REFRESH_READINGS = Counter(
    "portal_archive_refresh_readings", "Readings handed to billing by the refresh runs")
JOBS_ENQUEUED = Counter("portal_jobs_enqueued", "ARQ jobs queued by the web app", ["job"])
JOBS = Counter("portal_jobs", "ARQ job runs by outcome (a failed try is retried by ARQ)",
               ["job", "outcome"])
MAILS = Counter("portal_mails", "Mails handed to SMTP (sent) or refused (failed)", ["outcome"])

for _kind in ("cold", "hot"):  # present (0) before the first transmit, so rate() works
    for _channel in ("grid", "upload", "api"):
        TRANSMITTED.labels(_kind, _channel)
for _outcome in ("sent", "failed"):
    MAILS.labels(_outcome)


def count_writes(kind: Any, results: Any, channel: Any) -> None:
    """Count what one call of `write_readings` did, from its returned outcomes; `channel` is
    the one the caller gave write_readings (grid, upload, api)."""
    transmitted = sum(1 for r in results.values()
                      if r.outcome is WriteOutcome.written
                      and r.stored.status == ReadingStatus.transmitted)
    if transmitted:
        TRANSMITTED.labels(getattr(kind, "value", kind),
                           getattr(channel, "value", channel)).inc(transmitted)
    if results.receipts:
        RECEIPTS.inc(len(results.receipts))


async def enqueue(queue: Any, job: str, *args: Any, **kwargs: Any) -> Any:
    """`queue.enqueue_job(job, ...)`, counted when ARQ really queued it (not a duplicate id)."""
    queued = await queue.enqueue_job(job, *args, **kwargs)
    if queued is not None:
        JOBS_ENQUEUED.labels(job).inc()
    return queued


def count_mails(counts: dict[str, int]) -> None:
    for outcome in ("sent", "failed"):
        if counts.get(outcome):
            MAILS.labels(outcome).inc(counts[outcome])


def counted_job(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Wrap an ARQ job: each run counted as succeeded or failed (the exception re-raised)."""

    @wraps(func)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            result = await func(ctx, *args, **kwargs)
        except BaseException:
            JOBS.labels(func.__name__, "failed").inc()
            raise
        JOBS.labels(func.__name__, "succeeded").inc()
        return result

    return run


@contextmanager
def timed_refresh() -> Iterator[dict[str, int]]:
    """Count one refresh run, its duration (failed when it raised) and the readings it handed
    over (from the counts the block puts into the yielded dict)."""
    start = time.perf_counter()
    counts: dict[str, int] = {}
    try:
        yield counts
    except BaseException:
        REFRESH_RUNS.labels("failed").inc()
        raise
    finally:
        REFRESH_SECONDS.observe(time.perf_counter() - start)
    REFRESH_RUNS.labels("ok").inc()
    if counts.get("handed_over"):
        REFRESH_READINGS.inc(counts["handed_over"])


# ---------------------------------------------------------------- multiprocess directory


def multiproc_dir() -> Path | None:
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get(
        "prometheus_multiproc_dir")
    return Path(value) if value else None


def forget_dead_processes() -> None:
    """Drop the live-gauge files of processes that are gone (a kill -9 leaves them behind);
    their counters and histograms stay, so totals never go backwards."""
    directory = multiproc_dir()
    if directory is None or not directory.is_dir():
        return
    from prometheus_client import multiprocess

    pids = {path.stem.rsplit("_", 1)[-1] for path in directory.glob("gauge_live*_*.db")}
    for pid in pids:
        if pid.isdigit() and not _alive(int(pid)):
            multiprocess.mark_process_dead(int(pid), str(directory))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
