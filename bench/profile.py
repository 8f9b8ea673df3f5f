"""`python -m bench profile [PATH]`: where one logged-in request spends its time.

Runs the app in this process (httpx ASGITransport, no network, no second process) on the
bench database, logs the grid user in, warms up, then times N sequential requests and
profiles another N with pyinstrument (statistical, async-aware). Writes
var/bench/profile-<slug>.html and prints the call tree.
"""

from __future__ import annotations

import asyncio
import os
import re
import time

from app.settings import get_settings


def register(sub) -> None:
    p = sub.add_parser("profile", help="profile one page of the app on the bench data")
    p.add_argument("path", nargs="?", default="/readings/cold?contract=1")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--htmx", action="store_true", help="send it as an htmx request")
    p.add_argument("--email", default=None,
                   help="log in as this bench user (default the grid's; the dashboard "
                        "scenario's 50-contract user: bench-dashboard@bench.example)")
    p.add_argument("--upload", action="store_true",
                   help="profile the upload scenario instead: a 10 000-row XLSX posted to "
                        "the 10 000-meter contract's grid (PATH ignored; use --requests 3)")
    p.set_defaults(func=cmd_bench_profile)


def cmd_bench_profile(args) -> int:
    from bench import data
    from bench.runner import redis_url_for_bench

    url, _ = data.create_bench_database(args.scale, 8, force=False)
    settings = get_settings()
    redis_url, handle = redis_url_for_bench(settings.var_dir)
    os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")
    os.environ.update(DATABASE_URL=url, REDIS_URL=redis_url,
                      APP_TODAY=data.BENCH_TODAY.isoformat())
    get_settings.cache_clear()
    try:
        return asyncio.run(profile(args))
    finally:
        if handle is not None:
            handle.stop()


async def profile(args) -> int:
    import logging

    import httpx
    from pyinstrument import Profiler

    from app.web import create_app
    from bench import data
    from bench.driver import VirtualUser

    app = create_app(pool_size=4)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for hook in app.on_startup:
        await hook(app)
    vu = VirtualUser("http://bench.local",
                     transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 40000)))
    send = await upload_request(vu) if args.upload else None
    if send is None:
        async def send() -> httpx.Response:
            return await vu.get(args.path, htmx=args.htmx)
    else:
        args.path = "/readings/cold/upload (10 000-row XLSX)"
    warmup = 1 if args.upload else 10
    try:
        if not args.upload:
            await vu.login(args.email or data.GRID_EMAIL, data.PASSWORD)
        for _ in range(warmup):
            response = await send()
            if response.status_code != 200:
                print(f"{args.path}: HTTP {response.status_code}")
                return 1
        t, cpu = time.perf_counter(), time.process_time()
        with StatementCounter() as statements:
            for _ in range(args.requests):
                await send()
        per_request = (time.perf_counter() - t) / args.requests * 1000
        cpu_per_request = (time.process_time() - cpu) / args.requests * 1000
        profiler = Profiler(interval=0.0005 if not args.upload else 0.002,
                            async_mode="enabled")
        with profiler:
            for _ in range(args.requests):
                await send()
    finally:
        await vu.aclose()
        for hook in app.on_shutdown:
            await hook(app)
    slug = re.sub(r"[^a-z0-9]+", "-", args.path.lower()).strip("-") or "root"
    out = get_settings().var_dir / "bench" / f"profile-{slug}{'-htmx' if args.htmx else ''}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(profiler.output_html())
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    print(f"{args.path}: {per_request:.1f} ms per request in-process "
          f"({cpu_per_request:.1f} ms CPU of this process, client included), "
          f"{statements.count / args.requests:.1f} SQL statements per request "
          f"({len(response.content)} bytes); profile written to {out}")
    return 0


class StatementCounter:
    """Counts the SQL statements asyncpg sends (fetch*/execute with arguments go through
    Connection._execute; a plain execute is counted unless it is the pool's reset query)."""

    def __enter__(self) -> StatementCounter:
        from asyncpg.connection import Connection

        self.count = 0
        self._saved = saved_execute, saved_plain = Connection._execute, Connection.execute

        async def _execute(conn, query, *args, **kwargs):
            self.count += 1
            return await saved_execute(conn, query, *args, **kwargs)

        async def execute(conn, query, *args, **kwargs):
            if not args and query != conn.get_reset_query():
                self.count += 1
            return await saved_plain(conn, query, *args, **kwargs)

        Connection._execute, Connection.execute = _execute, execute
        return self

    def __exit__(self, *exc) -> None:
        from asyncpg.connection import Connection

        Connection._execute, Connection.execute = self._saved


async def upload_request(vu):
    """The upload scenario's request (bench.scenarios.scenario_upload), logged in as the
    10 000-meter contract's user; returns a coroutine function sending it."""
    from bench import data, scenarios

    url = os.environ["DATABASE_URL"]
    contract_id, _uid = await data.ensure_upload_contract(url)
    meters = await scenarios.upload_meters(url, contract_id)
    content = scenarios.upload_workbook(meters)
    await vu.login(data.UPLOAD_EMAIL, data.PASSWORD)
    query = f"?contract={contract_id}&period={scenarios.PERIOD_TEXT}"
    fields = {"_csrf_token": vu.csrf, "contract": str(contract_id),
              "period": scenarios.PERIOD_TEXT}
    for m in meters:
        fields[f"value-{m['id']}"] = ""
        fields[f"date-{m['id']}"] = scenarios.TODAY_TEXT

    async def send():
        return await vu.client.post(
            f"{scenarios.GRID_URL}/upload{query}", data=fields,
            files={"file": ("readings.xlsx", content)},
            headers={"x-csrftoken": vu.csrf, "hx-request": "true"})

    return send
