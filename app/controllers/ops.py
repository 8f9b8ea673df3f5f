"""Probes and metrics for operations (SPEC §12): /healthz, /readyz, /metrics.

None of them touches the session, CSRF or throttling (app/web.py excludes their paths from
the session and CSRF middleware); /metrics answers only loopback clients or a bearer token
equal to METRICS_TOKEN.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import os

from litestar import Request, Response, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusController
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from app.metrics import multiproc_dir
from app.queries.health import database_answers

# No session, no CSRF cookie, not in the request metrics (app/web.py's middleware read these).
OPS = {"skip_session": True, "exclude_from_csrf": True, "skip_metrics": True}
PROBE_TIMEOUT = 2.0  # seconds; a hung server is as unready as a stopped one
NO_CACHE = {"cache-control": "no-store"}


@get("/healthz", sync_to_thread=False, opt=OPS)
def healthz() -> Response:
    """The process serves requests (no I/O)."""
    return Response({"status": "ok"}, headers=NO_CACHE)


async def _answers(check) -> bool:
    try:
        return bool(await asyncio.wait_for(check(), PROBE_TIMEOUT))
    except Exception:  # noqa: BLE001 - any failure to answer is "unavailable"
        return False


@get("/readyz", opt=OPS)
async def readyz(request: Request) -> Response:
    """200 when PostgreSQL and Redis answer, else 503 naming the one(s) that did not."""
    postgres, redis = await asyncio.gather(_answers(database_answers),
                                           _answers(request.app.state.redis.ping))
    checks = {"postgresql": "ok" if postgres else "unavailable",
              "redis": "ok" if redis else "unavailable"}
    ready = postgres and redis
    return Response({"status": "ok" if ready else "unavailable", **checks},
                    status_code=200 if ready else 503, headers=NO_CACHE)


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def metrics_access(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Loopback, or `Authorization: Bearer <METRICS_TOKEN>`; anyone else gets a 404 (the
    endpoint is not advertised)."""
    token = os.environ.get("METRICS_TOKEN", "")
    offered = connection.headers.get("authorization", "")
    if token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return
    if _loopback(connection.client.host if connection.client else None):
        return
    raise NotFoundException()


class QueueDepth:
    """`portal_jobs_queued`: jobs waiting in ARQ's queue now, read from Redis at scrape time
    (cron runs included, whoever queued them)."""

    def __init__(self, depth: int | None) -> None:
        self.depth = depth

    def collect(self):
        if self.depth is not None:
            yield GaugeMetricFamily("portal_jobs_queued", "ARQ jobs waiting in the queue now",
                                    value=self.depth)


class MetricsController(PrometheusController):
    """Litestar's Prometheus endpoint, guarded, plus the queue depth."""

    path = "/metrics"
    guards = [metrics_access]
    opt = OPS

    @get()
    async def get(self, request: Request) -> Response:  # type: ignore[override]
        from prometheus_client import REGISTRY, multiprocess

        registry = REGISTRY
        if multiproc_dir() is not None:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        try:
            depth = await asyncio.wait_for(request.app.state.redis.zcard("arq:queue"),
                                           PROBE_TIMEOUT)
        except Exception:  # noqa: BLE001 - the scrape still answers without Redis
            depth = None
        text = generate_latest(registry)
        extra = CollectorRegistry()
        extra.register(QueueDepth(depth))
        return Response(text + generate_latest(extra),
                        headers={"content-type": CONTENT_TYPE_LATEST, **NO_CACHE})


def ops_handlers() -> list:
    return [healthz, readyz, MetricsController]
