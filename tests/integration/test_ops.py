"""/healthz, /readyz, /metrics and X-Request-ID on the in-process app (real PostgreSQL and
Redis). The deployed shape (serve processes behind nginx, multiprocess metrics, PostgreSQL cut
off) is tests/reliability/test_scale_out.py; serve/worker and JSON logs tests/integration/
test_serve.py."""

from __future__ import annotations

import re

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from tests.helpers import login, post_form, post_grid
from tests.integration.test_receipts import cold_meters, form


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of a Prometheus text exposition."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    wanted = tuple(sorted(labels.items()))
    return sum(v for (n, lab), v in samples(text).items()
               if n == name and set(wanted) <= set(lab))


async def test_healthz_answers_without_session_or_csrf_cookie(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "set-cookie" not in response.headers
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_readyz_ok_then_names_redis_when_it_does_not_answer(client):
    ok = await client.get("/readyz")
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"status": "ok", "postgresql": "ok", "redis": "ok"}
    assert "set-cookie" not in ok.headers
    real = client.app.state.redis
    client.app.state.redis = Redis.from_url("unix:///nonexistent/redis.sock")
    try:
        down = await client.get("/readyz")
    finally:
        await client.app.state.redis.aclose()
        client.app.state.redis = real
    assert down.status_code == 503
    assert down.json() == {"status": "unavailable", "postgresql": "ok", "redis": "unavailable"}
    assert (await client.get("/readyz")).status_code == 200


@pytest.mark.parametrize(("sent", "kept"), [
    ("abc-123.def:42", True),
    ("f" * 128, True),
    ("f" * 129, False),  # too long
    ("bad id", False),  # a space
    ("x\r\nforged: 1", False),  # a forged log line / header
    ("", False),
])
async def test_request_id_is_kept_only_when_well_formed(client, sent, kept):
    response = await client.get("/healthz", headers={"X-Request-ID": sent})
    returned = response.headers["x-request-id"]
    if kept:
        assert returned == sent
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", returned), returned


async def test_request_id_on_pages_and_router_404s(client):
    for path in ("/", "/no/such/page", "/static/app.css"):
        response = await client.get(path, headers={"X-Request-ID": "probe-1"})
        assert response.headers["x-request-id"] == "probe-1", path


async def test_metrics_only_from_loopback_or_with_the_token(client, monkeypatch):
    assert (await client.get("/metrics")).status_code == 200  # the fixture's client: 127.0.0.1
    transport = httpx.ASGITransport(app=client.app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as outside:
        assert (await outside.get("/metrics")).status_code == 404
        monkeypatch.delenv("METRICS_TOKEN", raising=False)
        no_token = await outside.get("/metrics", headers={"Authorization": "Bearer "})
        assert no_token.status_code == 404  # no METRICS_TOKEN set: an empty one opens nothing
        monkeypatch.setenv("METRICS_TOKEN", "s3cret-scrape-token")
        wrong = await outside.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 404
        right = await outside.get("/metrics",
                                  headers={"Authorization": "Bearer s3cret-scrape-token"})
        assert right.status_code == 200
        assert right.headers["content-type"].startswith("text/plain")
        assert "set-cookie" not in right.headers


async def test_metrics_count_requests_per_route_template_and_transmits(client, demo_db):
    before = (await client.get("/metrics")).text
    await login(client)
    contract = demo_db["linked_contract"]
    meters = (await cold_meters(contract))[:3]
    first = await post_grid(client, "/readings/cold", form(contract, meters, 4))
    assert first.status_code == 200, first.text[:300]
    again = await post_grid(client, "/readings/cold", form(contract, meters, 4))  # a retry
    assert again.status_code == 200
    for token in ("a" * 43, "b" * 43):  # two feeds: one series, the template's
        await client.get(f"/calendar/{token}.ics")
    after = (await client.get("/metrics")).text

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("portal_readings_transmitted_total", kind="cold") == 3  # the retry: nothing
    assert grew("portal_readings_transmitted_total", kind="hot") == 0
    assert grew("portal_receipts_issued_total") == 1
    assert grew("portal_http_requests_total", path="/readings/cold", method="POST") == 2
    assert grew("portal_http_requests_total", path="/calendar/{name}") == 2
    assert "a" * 43 not in after and "b" * 43 not in after  # no raw path, no token
    assert 'path="/healthz"' not in after and 'path="/metrics"' not in after  # probes skipped
    assert "portal_http_request_duration_seconds_bucket" in after
    assert "portal_jobs_queued" in after  # read from Redis at scrape time


async def test_queued_jobs_are_counted(client, demo_db):
    before = (await client.get("/metrics")).text
    response = await post_form(client, "/password/remind",
                               {"email": "demo@izhvodokanal.example"})
    assert response.status_code in (200, 303)
    after = (await client.get("/metrics")).text
    # the reminder's work happens in the worker (issue 18, F4): one job per request
    assert (value(after, "portal_jobs_enqueued_total", job="password_reminder")
            - value(before, "portal_jobs_enqueued_total", job="password_reminder")) == 1
