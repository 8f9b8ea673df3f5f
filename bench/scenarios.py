"""The load scenarios of `make bench`; each appends its figures to bench.results.

A scenario whose route has not landed in the product yet is reported as not available
(never faked). Preparation (logins of the shared sessions, the values the users will type)
is not timed; only the closed loops are.
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal

import asyncpg

from bench import data
from bench.api_scenario import scenario_api
from bench.billing_import import scenario_import
from bench.dashboard import scenario_dashboard
from bench.driver import (
    DriverError,
    Result,
    VirtualUser,
    close_users,
    closed_loop,
    expect,
    make_users,
)
from bench.progress import scenario_progress

log = logging.getLogger("bench")
HOME_LOGGED_IN = "Что нужно сделать"  # home of a user with contracts (SPEC §11)


class NotAvailable(Exception):
    """The product has no such route (yet)."""


def record(bench, result: Result, **extra) -> Result:
    result.extra.update(extra)
    bench.results.append(result.as_dict())
    p95 = result.percentile(95)
    log.info("%-34s %6d req %8.1f req/s p95 %7s ms errors %d", result.name, result.requests,
             result.rps, f"{p95:.0f}" if p95 is not None else "-", result.errors)
    return result


async def logged_in_users(base_url: str, count: int, email: str) -> list[VirtualUser]:
    """`count` connections sharing one logged-in session (one login, many tabs)."""
    users = await make_users(base_url, count)
    await users[0].login(email, data.PASSWORD)
    users[0].share_session_with(users[1:])
    return users


# ---------------------------------------------------------------- login and home


async def scenario_login(bench) -> None:
    """POST /login with the right password (argon2id verify dominates)."""
    conns = min(8, bench.args.connections)
    users = await make_users(bench.app.url, conns)
    try:
        for vu in users:
            await vu.open_home()

        def login(vu: VirtualUser, i: int):
            # each login rotates the CSRF token (cookie), so post the current one
            return vu.client.post("/login", data={"_csrf_token": vu.client.cookies["csrftoken"],
                                                  "email": data.GRID_EMAIL,
                                                  "password": data.PASSWORD})

        record(bench, await closed_loop("login (POST /login)", users, login, expect(303),
                                        duration=bench.args.duration, cpu=bench.cpu(bench.app)))
    finally:
        await close_users(users)


async def scenario_home(bench) -> None:
    users = await make_users(bench.app.url, bench.args.connections)
    try:
        record(bench, await closed_loop(
            "home page, anonymous", users, lambda vu, i: vu.client.get("/"),
            expect(200, "Вход в ваш кабинет"), duration=bench.args.duration,
            cpu=bench.cpu(bench.app)))
    finally:
        await close_users(users)
    users = await logged_in_users(bench.app.url, bench.args.connections, data.GRID_EMAIL)
    try:
        # home of a user with one contract of 100 meters (`dashboard`: 50 contracts)
        record(bench, await closed_loop(
            "home page, logged in (1 contract)", users, lambda vu, i: vu.client.get("/"),
            expect(200, HOME_LOGGED_IN), duration=bench.args.duration,
            cpu=bench.cpu(bench.app)))
    finally:
        await close_users(users)


# ---------------------------------------------------------------- reading grid

GRID_URL = "/readings/cold"
GRID_CONTRACT = 1  # contract 1 of every bench dataset: 100 cold meters on 10 points
TODAY_TEXT = data.BENCH_TODAY.strftime("%d.%m.%Y")
PERIOD_TEXT = data.CURRENT_PERIOD.strftime("%Y-%m")


async def require_route(vu: VirtualUser, url: str, what: str) -> None:
    response = await vu.get(url)
    if response.status_code == 404:
        raise NotAvailable(f"{what} ({url}) is not in the product yet")
    if response.status_code != 200:
        raise DriverError(f"{url}: HTTP {response.status_code}")


async def typed_values(url: str, contract_ids: list[int], kind: str = "cold"
                       ) -> dict[int, list[tuple[int, str]]]:
    """What each organization's user types: per contract, (meter id, value) for every meter.

    Cold: the last accepted value + the meter's usual monthly consumption (never a rollover
    nor an anomaly); hot: a plausible volume with three decimals, Russian comma."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            """SELECT p.contract, m.id,
                      (SELECT r.value FROM reading r WHERE r.meter = m.id
                       AND r.status = 'accepted' ORDER BY r.period DESC LIMIT 1) AS last,
                      (SELECT (max(h.value) - min(h.value)) / greatest(count(*) - 1, 1)
                       FROM (SELECT value FROM reading r WHERE r.meter = m.id
                             AND r.status = 'accepted' ORDER BY r.period DESC LIMIT 7) h
                      ) AS mean
               FROM meter m JOIN connection_point p ON p.id = m.point
               WHERE p.contract = ANY($1::int[]) AND m.kind = $2 AND m.active
               ORDER BY p.contract, m.id""", contract_ids, kind)
    finally:
        await conn.close()
    values: dict[int, list[tuple[int, str]]] = {cid: [] for cid in contract_ids}
    for row in rows:
        if kind == "cold":
            value = str(int(row["last"]) + max(1, round(row["mean"] or 1)))
        else:
            value = f"{1 + row['id'] % 9},{row['id'] % 1000:03d}"
        values[row["contract"]].append((row["id"], value))
    return values


def grid_form(contract_id: int, values: list[tuple[int, str]], action: str = "transmit",
              bump: int = 0) -> list[tuple[str, str]]:
    form = [("contract", str(contract_id)), ("period", PERIOD_TEXT), ("action", action)]
    for meter_id, value in values:
        if bump and value.isdigit():
            value = str(int(value) + bump)
        form += [(f"value-{meter_id}", value), (f"date-{meter_id}", TODAY_TEXT)]
    return form


async def grid_users(bench, base_url: str) -> list[VirtualUser]:
    users = await logged_in_users(base_url, bench.args.connections, data.GRID_EMAIL)
    await require_route(users[0], f"{GRID_URL}?contract={GRID_CONTRACT}", "the reading grid")
    return users


async def scenario_grid(bench) -> None:
    """Full page vs the bare-stack baseline, interleaved twice; then the htmx request."""
    url = f"{GRID_URL}?contract={GRID_CONTRACT}&period={PERIOD_TEXT}"
    app_users = await grid_users(bench, bench.app.url)
    base_users = await make_users(bench.baseline.url, bench.args.connections)
    base_url = f"/grid/{GRID_CONTRACT}?period={PERIOD_TEXT}"
    probe = await base_users[0].get(base_url)
    if probe.status_code != 200:
        await close_users(app_users + base_users)
        raise DriverError(f"baseline {base_url}: HTTP {probe.status_code}")
    page_check = expect(200, "Передать значения")
    app_total = Result(name="grid page, 100 meters (app)")
    base_total = Result(name="grid page, 100 meters (baseline)")
    half = bench.args.duration / 2
    try:
        for _ in range(2):  # interleaved: drift of the machine hits both sides alike
            app_total.add(await closed_loop("app", app_users, lambda vu, i: vu.get(url),
                                            page_check, duration=half,
                                            cpu=bench.cpu(bench.app)))
            base_total.add(await closed_loop("baseline", base_users,
                                             lambda vu, i: vu.get(base_url), page_check,
                                             duration=half, cpu=bench.cpu(bench.baseline)))
        app_total.connections = base_total.connections = len(app_users)
        record(bench, app_total, bytes=len((await app_users[0].get(url)).content))
        record(bench, base_total, bytes=len(probe.content))
        ratio = app_total.rps / base_total.rps if base_total.rps else 0
        bench.summary["grid page app / baseline throughput"] = (f"{ratio:.2f}", "≥ 0.70")
        if app_total.cpu_ms_per_request and base_total.cpu_ms_per_request:
            bench.summary["grid page baseline / app server CPU per request"] = (
                f"{base_total.cpu_ms_per_request / app_total.cpu_ms_per_request:.2f} "
                f"({base_total.cpu_ms_per_request:.1f} / {app_total.cpu_ms_per_request:.1f} ms)",
                "≥ 0.70 (steadier than throughput here)")
        errors = app_total.errors + base_total.errors
        bench.summary[f"errors under {len(app_users)} connections (grid)"] = (errors, "0")
        partial = await app_users[0].get(url, htmx=True)
        full = "<html" in partial.text
        name = ("grid page, htmx GET (product sends the full page)" if full
                else "grid page, htmx GET (fragment)")
        result = await closed_loop(name, app_users,
                                   lambda vu, i: vu.get(url, htmx=True), expect(200),
                                   duration=bench.args.duration, cpu=bench.cpu(bench.app))
        record(bench, result, bytes=len(partial.content))
    finally:
        await close_users(app_users + base_users)


async def scenario_check(bench) -> None:
    """The keystroke path: one row's inline check (consumption, warnings)."""
    users = await grid_users(bench, bench.app.url)
    try:
        values = (await typed_values(bench.database_url, [GRID_CONTRACT]))[GRID_CONTRACT]
        meters = [(mid, value) for mid, value in values]

        def check(vu: VirtualUser, i: int):
            mid, value = meters[i % len(meters)]
            return vu.post(f"{GRID_URL}/check?contract={GRID_CONTRACT}&period={PERIOD_TEXT}"
                           f"&meter={mid}", {f"value-{mid}": value, f"date-{mid}": TODAY_TEXT},
                           htmx=True)

        record(bench, await closed_loop("inline check of one value", users, check,
                                        expect(200, "Расход"), duration=bench.args.duration,
                                        cpu=bench.cpu(bench.app)))
    finally:
        await close_users(users)


async def scenario_transmit(bench) -> None:
    """Transmit 100 readings in one request (a correction of the same 100 each time)."""
    users = await grid_users(bench, bench.app.url)
    # One connection: concurrent corrections of the same 100 rows with different values
    # would (rightly) answer 422 to the loser; the surge measures concurrency.
    conns = 1
    await close_users(users[conns:])
    users = users[:conns]
    try:
        values = (await typed_values(bench.database_url, [GRID_CONTRACT]))[GRID_CONTRACT]
        forms = [grid_form(GRID_CONTRACT, values, bump=b) for b in (0, 1)]

        def transmit(vu: VirtualUser, i: int):
            return vu.post(GRID_URL, forms[i % 2], htmx=True)

        record(bench, await closed_loop("transmit 100 readings (htmx POST, #grid back)", users,
                                        transmit, expect(200, "Передано строк: 100"),
                                        duration=bench.args.duration, cpu=bench.cpu(bench.app)))
    finally:
        await close_users(users)


# ---------------------------------------------------------------- archive

ARCHIVE_URL = "/archive"
ARCHIVE_POINT = 1  # the first connection point of contract 1 (10 meters) in every dataset


def archive_query() -> str:
    two_years_ago = data.BENCH_TODAY.replace(year=data.BENCH_TODAY.year - 2)
    # as the filter form sends it (input type="date": ISO dates)
    return (f"{ARCHIVE_URL}?contract={GRID_CONTRACT}&point={ARCHIVE_POINT}&kind=cold"
            f"&date_from={two_years_ago.isoformat()}&date_to={data.BENCH_TODAY.isoformat()}")


def scale_label(scale: float, meta: dict) -> str:
    return f"scale {scale:g}: {meta['readings']:,} readings".replace(",", " ")


async def archive_run(bench, server, label: str) -> Result:
    conns = min(8, bench.args.connections)
    users = await logged_in_users(server.url, conns, data.GRID_EMAIL)
    url = archive_query()
    try:
        await require_route(users[0], url, "the archive")
        probe = await users[0].get(url)
        return record(bench, await closed_loop(
            f"archive filter, one address, 2 years ({label})", users,
            lambda vu, i: vu.get(url), expect(200, "Результаты поиска"),
            duration=bench.args.duration, cpu=bench.cpu(server)), bytes=len(probe.content))
    finally:
        await close_users(users)


async def scenario_archive(bench) -> None:
    """The archive filter at the main scale, then on a server over the compare dataset."""
    first = await archive_run(bench, bench.app, scale_label(bench.args.scale, bench.meta))
    if not bench.compare_url:
        return
    server = bench.app_server(bench.compare_url, name="app-compare")
    try:
        other = await archive_run(bench, server,
                                  scale_label(bench.args.compare_scale, bench.compare_meta))
    finally:
        server.stop()
    small, large = (first, other) if bench.args.compare_scale > bench.args.scale \
        else (other, first)
    p50_small, p50_large = small.percentile(50), large.percentile(50)
    if p50_small and p50_large:
        bench.summary["archive filter time, larger / smaller archive (p50)"] = (
            f"{p50_large / p50_small:.2f}", "≤ 1.5 (index-bound)")


# ---------------------------------------------------------------- month-end surge

HOT_URL = "/readings/hot"


async def surge_organizations(url: str, count: int) -> list[tuple[str, int]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            """SELECT u.email, l.contract FROM portal_user u
               JOIN contract_link l ON l."user" = u.id
               WHERE u.email LIKE 'bench____@bench.example' ORDER BY u.email LIMIT $1""", count)
    finally:
        await conn.close()
    return [(r["email"], r["contract"]) for r in rows]


async def scenario_surge(bench) -> None:
    """N organizations, already logged in, each opens its grid and transmits every meter
    inside the same window; one in five double-submits. Then the database is checked."""
    orgs = await surge_organizations(bench.database_url, bench.args.surge)
    probe = await logged_in_users(bench.app.url, 1, data.GRID_EMAIL)
    try:
        await require_route(probe[0], f"{GRID_URL}?contract={GRID_CONTRACT}", "the reading grid")
        hot = (await probe[0].get(f"{HOT_URL}?contract={GRID_CONTRACT}")).status_code == 200
    finally:
        await close_users(probe)
    contract_ids = [cid for _, cid in orgs]
    cold = await typed_values(bench.database_url, contract_ids, "cold")
    volumes = await typed_values(bench.database_url, contract_ids, "hot") if hot else {}

    users = await make_users(bench.app.url, len(orgs))
    t = time.perf_counter()
    gate = asyncio.Semaphore(8)

    async def log_in(vu: VirtualUser, email: str) -> None:
        async with gate:
            await vu.login(email, data.PASSWORD)

    await asyncio.gather(*(log_in(vu, email) for vu, (email, _) in zip(users, orgs, strict=True)))
    login_seconds = time.perf_counter() - t

    result = Result(name=f"month-end surge: {len(orgs)} organizations", connections=min(
        bench.args.connections, len(orgs)))
    connections = asyncio.Semaphore(result.connections)

    async def timed(coro, check) -> None:
        t0 = time.perf_counter()
        try:
            error = check(await coro)
        except Exception as exc:  # noqa: BLE001
            error = f"{type(exc).__name__}: {exc}"
        result.latencies.append(time.perf_counter() - t0)
        result.requests += 1
        if error:
            result.errors += 1
            if len(result.error_samples) < 5:
                result.error_samples.append(error)

    async def organization(index: int, vu: VirtualUser, cid: int) -> None:
        async with connections:
            for url, values in ((GRID_URL, cold.get(cid)), (HOT_URL, volumes.get(cid))):
                if not values:
                    continue
                await timed(vu.get(f"{url}?contract={cid}"), expect(200, "Передать значения"))
                form = grid_form(cid, values)
                done = expect(200, f"Передано строк: {len(values)}")
                if index % 5 == 0:  # a double click: the same form twice at once
                    await asyncio.gather(timed(vu.post(url, form, htmx=True), done),
                                         timed(vu.post(url, form, htmx=True), done))
                else:
                    await timed(vu.post(url, form, htmx=True), done)

    meter = bench.cpu(bench.app)
    cpu_before = meter()
    t = time.perf_counter()
    try:
        await asyncio.gather(*(organization(i, vu, cid)
                               for i, (vu, cid) in enumerate(zip(users, contract_ids,
                                                                 strict=True))))
    finally:
        result.seconds = time.perf_counter() - t
        result.cpu_seconds = meter() - cpu_before
        await close_users(users)

    sent = {mid: value for per in (cold, volumes) for values in per.values()
            for mid, value in values}
    conn = await asyncpg.connect(bench.database_url)
    try:
        rows = await conn.fetch(
            """SELECT m.id, count(r.id) AS n, min(r.status) AS status, min(r.value) AS value
               FROM meter m LEFT JOIN reading r ON r.meter = m.id AND r.period = $2
               WHERE m.id = ANY($1::int[]) GROUP BY m.id""",
            list(sent), data.CURRENT_PERIOD)
    finally:
        await conn.close()
    lost = sum(1 for r in rows if r["n"] == 0)
    doubled = sum(1 for r in rows if r["n"] > 1)
    wrong = sum(1 for r in rows if r["n"] == 1 and (
        r["status"] != "transmitted" or r["value"] != Decimal(sent[r["id"]].replace(",", "."))))
    record(bench, result, readings=len(sent), lost=lost, doubled=doubled, wrong=wrong,
           login_seconds=round(login_seconds, 1), hot_included=hot)
    bench.summary["surge: total time"] = (
        f"{result.seconds:.1f} s for {len(orgs)} organizations, {len(sent)} readings"
        + ("" if hot else " (cold only: /readings/hot not available)"), "–")
    bench.summary["surge: errors / lost / doubled / wrong readings"] = (
        f"{result.errors} / {lost} / {doubled} / {wrong}", "0 / 0 / 0 / 0")


# ---------------------------------------------------------------- archive export

EXPORT_EMAIL = "bench-export@bench.example"
EXPORT_ROWS = (10_000, 100_000)
EXPORT_FIRST_CONTRACT = 1_001  # beyond the surge's users: contracts nobody else looks at


async def export_user(url: str, most: int) -> int:
    """A subscriber linked to just enough contracts to hold `most` accepted cold readings
    (idempotent: its links are rebuilt each run); returns its id."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            uid = await data.clone_grid_user(conn, EXPORT_EMAIL, "Выгрузка Архива")
            await conn.execute('DELETE FROM contract_link WHERE "user" = $1', uid)
            await conn.execute(
                """WITH per AS (
                       SELECT c.id, count(*) AS n FROM contract c
                       JOIN connection_point p ON p.contract = c.id
                       JOIN meter m ON m.point = p.id JOIN reading r ON r.meter = m.id
                       WHERE c.id >= $2 AND m.kind = 'cold' AND r.status = 'accepted'
                         AND c.number <> $4  -- the upload scenario's contract
                       GROUP BY c.id),
                   running AS (SELECT id, sum(n) OVER (ORDER BY id) - n AS before FROM per)
                   INSERT INTO contract_link (id, "user", contract, created_at)
                   SELECT (SELECT max(id) FROM contract_link) + row_number() OVER (ORDER BY id),
                          $1, id, now()
                   FROM running WHERE before < $3""", uid, EXPORT_FIRST_CONTRACT, most,
                data.UPLOAD_CONTRACT_NUMBER)
        return uid
    finally:
        await conn.close()


async def export_filters(url: str, uid: int) -> list[tuple[int, str]]:
    """(rows, query) for each of EXPORT_ROWS: the newest readings back to a day where the
    count first reaches the target, or all of them for the largest."""
    conn = await asyncpg.connect(url)
    try:
        days = await conn.fetch(
            """SELECT r.read_on, count(*) AS n FROM contract_link l
               JOIN connection_point p ON p.contract = l.contract
               JOIN meter m ON m.point = p.id JOIN reading r ON r.meter = m.id
               WHERE l."user" = $1 AND m.kind = 'cold' AND r.status = 'accepted'
               GROUP BY r.read_on ORDER BY r.read_on DESC""", uid)
    finally:
        await conn.close()
    out = []
    for target in EXPORT_ROWS:
        total = 0
        for row in days:
            total += row["n"]
            if total >= target:
                break
        query = "kind=cold" if row is days[-1] else f"kind=cold&date_from={row['read_on']}"
        out.append((total, query))
    return out


def thousands(n: int) -> str:
    return f"{n:,}".replace(",", " ")


class RssPeak:
    """Peak resident memory of a server's processes, sampled every 10 ms (psutil)."""

    def __init__(self, pid: int) -> None:
        import psutil  # installed with pgserver

        self.root = psutil.Process(pid)
        self.before: dict[int, int] = self.sample()
        self.peak: dict[int, int] = dict(self.before)

    def sample(self) -> dict[int, int]:
        import psutil

        rss = {}
        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                rss[process.pid] = process.memory_info().rss
            except psutil.Error:
                continue
        return rss

    async def watch(self) -> None:
        while True:
            for pid, rss in self.sample().items():
                self.peak[pid] = max(self.peak.get(pid, 0), rss)
            await asyncio.sleep(0.01)

    def serving(self) -> tuple[float, float]:
        """(MB before, peak MB) of the process whose memory grew most: the web worker that
        served the export."""
        pid = max(self.peak, key=lambda p: self.peak[p] - self.before.get(p, self.peak[p]))
        return self.before.get(pid, 0) / 2**20, self.peak[pid] / 2**20


async def export_once(bench, server, fmt: str, rows: int, query: str) -> dict:
    users = await logged_in_users(server.url, 1, EXPORT_EMAIL)
    vu = users[0]
    try:
        # the probe: a filter that finds nothing (the measured run is the first real one)
        await require_route(vu, f"/archive/export.{fmt}?date_from=2100-01-01",
                            "the archive export")
        meter = RssPeak(server.proc.pid)
        watcher = asyncio.create_task(meter.watch())
        size, t = 0, time.perf_counter()
        content = bytearray() if fmt == "csv" else None
        try:
            async with vu.client.stream("GET", f"/archive/export.{fmt}?{query}") as response:
                if response.status_code != 200:
                    raise DriverError(f"export.{fmt}: HTTP {response.status_code}")
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if content is not None:
                        content += chunk
        finally:
            seconds = time.perf_counter() - t
            watcher.cancel()
        before_mb, peak_mb = meter.serving()
    finally:
        await close_users(users)
    if content is not None:  # the file holds every row of the filter, no more, no less
        lines = content.count(b"\r\n") - 1
        if lines != rows:
            raise DriverError(f"export.csv: {lines} rows, expected {rows}")
    result = Result(f"archive export {fmt.upper()}, {thousands(rows)} rows",
                    requests=1, seconds=seconds, connections=1, latencies=[seconds])
    record(bench, result, bytes=size, rss_before_mb=round(before_mb, 1),
           rss_peak_mb=round(peak_mb, 1))
    log.info("export %s %d rows: %.1f s, %.1f MB, RSS %.0f → peak %.0f MB", fmt, rows, seconds,
             size / 2**20, before_mb, peak_mb)
    return {"seconds": seconds, "peak": peak_mb, "before": before_mb}


async def scenario_export(bench) -> None:
    """«Выгрузить в Excel» / «Выгрузить CSV» of 10 000 vs 100 000 archive rows, one at a time:
    time and the serving process's peak RSS, each format on a fresh server (so that one
    format's leftovers do not flatter the other's ratio)."""
    uid = await export_user(bench.database_url, EXPORT_ROWS[-1])
    (small_rows, small_q), (large_rows, large_q) = await export_filters(bench.database_url, uid)
    for fmt in ("csv", "xlsx"):
        server = bench.app_server(bench.database_url, name=f"app-export-{fmt}")
        try:
            small = await export_once(bench, server, fmt, small_rows, small_q)
            large = await export_once(bench, server, fmt, large_rows, large_q)
        finally:
            server.stop()
        key = f"export {fmt.upper()} peak RSS, {thousands(large_rows)} / {thousands(small_rows)}"
        bench.summary[key + " rows"] = (
            f"{large['peak'] / small['peak']:.2f} ({small['peak']:.0f} → {large['peak']:.0f} MB;"
            f" {small['seconds']:.1f} s → {large['seconds']:.1f} s)", "≤ 1.2")


# ---------------------------------------------------------------- spreadsheet upload

UPLOAD_REPEATS = 5  # measured uploads (after one warm-up); each takes seconds


async def upload_meters(url: str, contract_id: int) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(
            """SELECT m.id, m.billing_id, m.serial, m.address, r.value AS previous, r.read_on
               FROM meter m JOIN connection_point p ON p.id = m.point
               LEFT JOIN reading r ON r.meter = m.id AND r.status = 'accepted'
               WHERE p.contract = $1 AND m.kind = 'cold' AND m.active
               ORDER BY p.address, m.billing_id, m.id""", contract_id)
    finally:
        await conn.close()


def upload_workbook(meters: list[asyncpg.Record]) -> bytes:
    """What a user sends back: the template's columns, every current value and date typed
    (the previous reading + a plausible consumption, today's date as an Excel date)."""
    import io
    from datetime import datetime

    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Показания")
    day = book.add_format({"num_format": "dd.mm.yyyy"})
    sheet.write_row(0, 0, ["Код прибора", "Номер прибора учёта", "Адрес установки прибора учёта",
                           "Предыдущее показание", "Дата предыдущего показания",
                           "Текущее показание", "Дата текущего показания"])
    today = datetime.combine(data.BENCH_TODAY, datetime.min.time())
    for r, m in enumerate(meters, start=1):
        sheet.write_row(r, 0, [m["billing_id"], m["serial"], m["address"], float(m["previous"])])
        sheet.write_datetime(r, 4, datetime.combine(m["read_on"], datetime.min.time()), day)
        sheet.write_number(r, 5, int(m["previous"]) + 1 + m["id"] % 17)
        sheet.write_datetime(r, 6, today, day)
    book.close()
    return out.getvalue()


def web_cpu(server):
    """CPU of the server's web processes only (uvicorn and its workers): the upload's parse +
    check + render, without the ARQ worker's cron runs or PostgreSQL's share."""
    import psutil

    from bench.runner import CpuMeter

    web = [p.pid for p in psutil.Process(server.proc.pid).children()
           if "uvicorn" in " ".join(p.cmdline())]
    return CpuMeter(*web)


async def scenario_upload(bench) -> None:
    """«Загрузить из файла» of a 10 000-row XLSX into a 10 000-meter contract: the file is
    read, every row matched and checked like a typed one, and the whole grid drawn. One
    upload at a time (it is one user's action, not a load): the time of each request, the
    server's CPU for it, and once the template download of the same grid."""
    contract_id, _uid = await data.ensure_upload_contract(bench.database_url)
    meters = await upload_meters(bench.database_url, contract_id)
    content = upload_workbook(meters)
    query = f"?contract={contract_id}&period={PERIOD_TEXT}"
    # The upload button posts the grid form itself: every row's (empty) value and its date.
    fields: list[tuple[str, str]] = [("contract", str(contract_id)), ("period", PERIOD_TEXT)]
    for m in meters:
        fields += [(f"value-{m['id']}", ""), (f"date-{m['id']}", TODAY_TEXT)]
    users = await logged_in_users(bench.app.url, 1, data.UPLOAD_EMAIL)
    vu = users[0]
    cpu = web_cpu(bench.app)
    try:
        t = time.perf_counter()
        template = await vu.get(f"{GRID_URL}/template{query}")
        template_seconds = time.perf_counter() - t
        if template.status_code == 404:
            raise NotAvailable("the grid's spreadsheet template is not in the product yet")
        done = expect(200, f"Из файла заполнено строк: {len(meters)}")

        async def upload_once() -> tuple[float, float, str | None, int]:
            cpu_before, t0 = cpu(), time.perf_counter()
            response = await vu.client.post(
                f"{GRID_URL}/upload{query}", data={"_csrf_token": vu.csrf, **dict(fields)},
                files={"file": ("readings.xlsx", content)},
                headers={"x-csrftoken": vu.csrf, "hx-request": "true"})
            return (time.perf_counter() - t0, cpu() - cpu_before, done(response),
                    len(response.content))

        _seconds, _cpu, error, _size = await upload_once()  # warm-up (imports, caches)
        if error:
            raise DriverError(f"upload: {error}")
        result = Result(f"upload a {thousands(len(meters))}-row XLSX into the grid",
                        connections=1, cpu_seconds=0.0)
        size = 0
        for _ in range(UPLOAD_REPEATS):
            seconds, cpu_seconds, error, size = await upload_once()
            result.requests += 1
            result.seconds += seconds
            result.latencies.append(seconds)
            result.cpu_seconds += cpu_seconds
            if error:
                result.errors += 1
                result.error_samples.append(error)
    finally:
        await close_users(users)
    record(bench, result, file_bytes=len(content), response_bytes=size,
           template_seconds=round(template_seconds, 2), template_bytes=len(template.content))
    key = f"upload {thousands(len(meters))}-row XLSX (parse + check + render), p50 / max"
    bench.summary[key] = (
        f"{result.percentile(50) / 1000:.2f} s / {max(result.latencies):.2f} s "
        f"(web process CPU {result.cpu_ms_per_request / 1000:.2f} s; template download "
        f"{template_seconds:.2f} s)", "≤ 3 s")


# ---------------------------------------------------------------- runner


async def scenario_nginx(bench) -> None:
    from bench.scale_out import scenario_nginx as run  # imports this module: load it late

    await run(bench)


SCENARIOS = {
    "login": scenario_login,
    "home": scenario_home,
    "grid": scenario_grid,
    "check": scenario_check,
    "transmit": scenario_transmit,
    "api": scenario_api,
    "archive": scenario_archive,
    "export": scenario_export,
    "upload": scenario_upload,
    "dashboard": scenario_dashboard,
    "surge": scenario_surge,
    "progress": scenario_progress,
    "nginx": scenario_nginx,  # bench/scale_out.py: deploy/'s nginx + 1 and 2 serve processes
    "import": scenario_import,
}


async def run_all(bench) -> None:
    only = {s.strip() for s in bench.args.only.split(",") if s.strip()}
    for name, scenario in SCENARIOS.items():
        if only and name not in only:
            continue
        t = time.perf_counter()
        try:
            await scenario(bench)
        except NotAvailable as exc:
            bench.unavailable[name] = str(exc)
            log.warning("scenario %s not available: %s", name, exc)
        except (DriverError, asyncpg.PostgresError) as exc:
            bench.unavailable[name] = f"failed: {exc}"
            log.error("scenario %s failed: %s", name, exc)
        log.info("scenario %s took %.1f s", name, time.perf_counter() - t)
        await asyncio.sleep(0.5)  # let the server settle between scenarios
