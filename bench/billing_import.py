"""Scenario `import`: the scale's dataset as billing's six CSV files, zipped and uploaded on
«Загрузка данных биллинга» into an empty database, imported by the real worker; the time to
100 %, and how fast the page answers meanwhile (the progress poll every second, and the
operator's other page «Ход передачи показаний») — the import must not stall the web."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import statistics
import time
import zipfile

import asyncpg

from bench import data
from bench.driver import close_users, make_users

log = logging.getLogger("bench")
DATABASE = "water_portal_bench_import"
OPERATOR_EMAIL = "operator-import@izhvodokanal.example"


def _fresh_database() -> str:
    from devstack.embedded import _database_url, drop_database, ensure_database

    admin = data.admin_database_url()
    drop_database(admin, DATABASE)
    ensure_database(admin, DATABASE)
    url = _database_url(admin, DATABASE)
    data.migrate_database(url)
    return url


async def _operator(url: str) -> None:
    from app.security import hash_password

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """INSERT INTO portal_user (email, password_hash, full_name, phone, position,
                   organization, role, locale, is_active, created_at)
               VALUES ($1, $2, 'Оператор', '', 'Оператор', 'МУП «Ижводоканал»', 'operator',
                       'ru', true, now())""", OPERATOR_EMAIL, hash_password(data.PASSWORD))
    finally:
        await conn.close()


def _zipped(directory) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(directory.glob("*.csv")):
            z.write(path, path.name)
    return out.getvalue()


async def scenario_import(bench) -> None:
    directory = bench.out_dir / "billing-directory"
    rows = await asyncio.to_thread(data.write_directory, directory, bench.args.scale)
    archive = await asyncio.to_thread(_zipped, directory)
    url = await asyncio.to_thread(_fresh_database)
    await _operator(url)
    # A Redis of its own: the main bench server's worker (another database) shares the bench
    # Redis and would take the import's job.
    from devstack.embedded import start_embedded

    redis = await asyncio.to_thread(start_embedded, bench.out_dir / "import", False, True)
    saved_env = bench.app_env
    bench.app_env = {**saved_env, "REDIS_URL": redis.redis_url}
    try:
        server = bench.app_server(url, name="app-import")
    finally:
        bench.app_env = saved_env
    users = await make_users(server.url, 2)
    try:
        poller, other = users
        await poller.login(OPERATOR_EMAIL, data.PASSWORD)
        poller.share_session_with([other])
        started = time.perf_counter()
        answer = await poller.client.post(
            "/operator/imports", data={"_csrf_token": poller.csrf},
            files=[("files", ("billing.zip", archive, "application/zip"))])
        upload_seconds = time.perf_counter() - started
        if answer.status_code != 303:
            raise RuntimeError(f"upload: HTTP {answer.status_code}")
        page = await poller.client.get("/operator/imports")
        import_id = re.search(r'hx-get="/operator/imports/(\d+)"', page.text).group(1)
        polls: list[float] = []
        others: list[float] = []
        state, progress = "queued", 0
        while time.perf_counter() - started < 1800:
            t = time.perf_counter()
            block = await poller.client.get(f"/operator/imports/{import_id}",
                                            headers={"HX-Request": "true"})
            polls.append(time.perf_counter() - t)
            progress = int(re.search(r'<progress max="100" value="(\d+)"', block.text).group(1))
            if "every 1s" not in block.text:
                state = "done" if "import-done" in block.text else "failed"
                break
            t = time.perf_counter()
            await other.client.get("/operator/users")
            others.append(time.perf_counter() - t)
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - t)))
        seconds = time.perf_counter() - started
    finally:
        await close_users(users)
        server.stop()
        redis.stop()

    def ms(values: list[float], q: float) -> float:
        return round(1000 * statistics.quantiles(values, n=100)[int(q) - 1], 1) \
            if len(values) >= 2 else round(1000 * (values or [0])[0], 1)

    result = {
        "rows_total": sum(rows.values()), "zip_mb": round(len(archive) / 2**20, 1),
        "state": state, "progress": progress, "seconds": round(seconds, 1),
        "upload_seconds": round(upload_seconds, 2), "rows": rows,
        "poll_ms_p50": ms(polls, 50), "poll_ms_p95": ms(polls, 95),
        "poll_ms_max": round(1000 * max(polls or [0]), 1),
        "other_page_ms_p50": ms(others, 50),
        "other_page_ms_max": round(1000 * max(others or [0]), 1),
        "polls": len(polls),
    }
    # Not a closed loop: its figures go to the summary table (and the log), not the results.
    bench.summary[f"billing import through the web, scale {bench.args.scale:g} "
                  f"({result['rows_total']} rows, zip {result['zip_mb']} MB)"] = (
        f"{state} {progress} % in {seconds:.0f} s; poll p50 {result['poll_ms_p50']} ms, "
        f"max {result['poll_ms_max']} ms; «Пользователи» meanwhile p50 "
        f"{result['other_page_ms_p50']} ms, max {result['other_page_ms_max']} ms",
        "done, page responsive (< 1 s)")
    log.info("%s", result)
