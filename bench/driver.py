"""The load driver: virtual users on asyncio + httpx, run in the bench process.

Why not wrk: no extra binary to install, and each virtual user needs what a browser does —
log in through the real form, carry its session and CSRF cookies, send the CSRF token in
forms and the htmx headers on partial requests — which is a few lines here and a Lua
script there. The cost is the driver's own CPU (≈ 1 ms per request), which this 2-core
machine shares with the server; the bare-stack baseline is driven by the same code, so
the app/baseline ratio is not skewed by it (it is compressed towards 1, if anything).
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


class DriverError(Exception):
    pass


@dataclass
class Result:
    """One scenario's figures: throughput, latency percentiles (ms) and errors."""

    name: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    connections: int = 0
    latencies: list[float] = field(default_factory=list, repr=False)
    error_samples: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    cpu_seconds: float | None = None  # server side (web + PostgreSQL + Redis), if measured

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float | None:
        if not self.latencies:
            return None
        if len(self.latencies) == 1:
            return self.latencies[0] * 1000
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[int(q) - 1] * 1000

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.cpu_seconds is None or not self.requests:
            return None
        return self.cpu_seconds / self.requests * 1000

    def add(self, other: Result) -> None:
        if other.cpu_seconds is not None:
            self.cpu_seconds = (self.cpu_seconds or 0.0) + other.cpu_seconds
        self.requests += other.requests
        self.errors += other.errors
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.error_samples = (self.error_samples + other.error_samples)[:5]

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "connections": self.connections,
            "rps": round(self.rps, 2),
            "p50_ms": _round(self.percentile(50)),
            "p95_ms": _round(self.percentile(95)),
            "p99_ms": _round(self.percentile(99)),
            "server_cpu_ms_per_request": _round(self.cpu_ms_per_request),
            "error_samples": self.error_samples,
            **self.extra,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


class VirtualUser:
    """One browser: its own connection, cookie jar (session + CSRF) and CSRF token."""

    def __init__(self, base_url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url
        self.client = httpx.AsyncClient(
            base_url=base_url, transport=transport, follow_redirects=False,
            timeout=httpx.Timeout(120.0),
            limits=httpx.Limits(max_connections=2, max_keepalive_connections=2),
            headers={"accept-language": "ru-RU,ru;q=0.9"},
        )
        self.csrf = ""

    async def aclose(self) -> None:
        await self.client.aclose()

    async def open_home(self) -> httpx.Response:
        response = await self.client.get("/")
        self._take_csrf(response)
        return response

    def _take_csrf(self, response: httpx.Response) -> None:
        if match := CSRF_INPUT.search(response.text):
            self.csrf = match.group(1)
        elif token := self.client.cookies.get("csrftoken"):
            self.csrf = token

    async def login(self, email: str, password: str) -> None:
        """The login form as a browser without JavaScript posts it: 303 and a session cookie."""
        if not self.csrf:
            await self.open_home()
        response = await self.client.post(
            "/login", data={"_csrf_token": self.csrf, "email": email, "password": password})
        if response.status_code != 303 or not self.client.cookies.get("sid"):
            raise DriverError(f"login of {email} failed: {response.status_code}")
        await self.open_home()  # the CSRF token of the logged-in session

    def share_session_with(self, others: list[VirtualUser]) -> None:
        """Copy this user's cookies to other connections (one login, many tabs)."""
        for other in others:
            other.client.cookies = httpx.Cookies(self.client.cookies)
            other.csrf = self.csrf

    async def get(self, url: str, *, htmx: bool = False, params: dict | None = None
                  ) -> httpx.Response:
        headers = {"hx-request": "true", "hx-current-url": self.base_url + url} if htmx else None
        return await self.client.get(url, params=params, headers=headers)

    async def post(self, url: str, data: dict | list, *, htmx: bool = False) -> httpx.Response:
        headers = {"x-csrftoken": self.csrf}
        if htmx:
            headers["hx-request"] = "true"
        form = {"_csrf_token": self.csrf, **dict(data)}  # field names are unique
        return await self.client.post(url, data=form, headers=headers)


Request = Callable[[VirtualUser, int], Awaitable[httpx.Response]]
Check = Callable[[httpx.Response], str | None]  # None = fine, else the error text


def expect(status: int = 200, contains: str | None = None) -> Check:
    def check(response: httpx.Response) -> str | None:
        if response.status_code != status:
            return f"HTTP {response.status_code} (expected {status}): {response.text[:160]!r}"
        if contains is not None and contains not in response.text:
            return f"HTTP {response.status_code} without {contains!r}"
        return None

    return check


async def closed_loop(name: str, users: list[VirtualUser], request: Request, check: Check, *,
                      duration: float, warmup: float = 1.0,
                      cpu: Callable[[], float] | None = None) -> Result:
    """Each virtual user sends its next request as soon as the previous one answered.

    Requests finishing during the warm-up are not counted; the throughput is the requests
    completed in the measured `duration` over that duration. `cpu` (seconds used so far by
    the server's processes) is sampled when the measurement starts and when it ends: CPU
    per request barely moves with the machine's other load, unlike throughput."""
    result = Result(name=name, connections=len(users))
    t_start = time.perf_counter()
    t_measure = t_start + warmup
    t_end = t_measure + duration
    counter = 0
    cpu_start: list[float] = []

    async def sample_cpu() -> None:
        await asyncio.sleep(max(0.0, t_measure - time.perf_counter()))
        cpu_start.append(cpu())

    sampler = asyncio.create_task(sample_cpu()) if cpu else None

    async def loop(vu: VirtualUser) -> None:
        nonlocal counter
        while True:
            now = time.perf_counter()
            if now >= t_end:
                return
            counter += 1
            t0 = now
            try:
                response = await request(vu, counter)
                error = check(response)
            except Exception as exc:  # noqa: BLE001 - a failed request is a counted error
                error = f"{type(exc).__name__}: {exc}"
            t1 = time.perf_counter()
            if t1 < t_measure or t0 > t_end:
                continue
            result.requests += 1
            result.latencies.append(t1 - t0)
            if error:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(error)

    await asyncio.gather(*(loop(vu) for vu in users))
    result.seconds = max(time.perf_counter(), t_end) - t_measure
    if sampler is not None:
        await sampler
        result.cpu_seconds = cpu() - cpu_start[0]
    return result


async def make_users(base_url: str, count: int) -> list[VirtualUser]:
    return [VirtualUser(base_url) for _ in range(count)]


async def close_users(users: list[VirtualUser]) -> None:
    await asyncio.gather(*(vu.aclose() for vu in users))
