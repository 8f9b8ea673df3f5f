"""`python -m bench data --scale N`: a realistic billing dataset in its own database.

Scale 1 = 10 000 contracts, 40 000 meters, 24 months of accepted history (≈ 960 000
readings). Contract sizes are skewed like a real utility's: most have 1–5 meters, ~3 % have
6–60, ~0.3 % have 100–500. Contract 0 of every dataset has exactly 100 cold meters on 10
connection points (the grid and archive scenarios use it); contracts 1..users are linked to
one subscriber each (the month-end surge). Every contract's deadline day is 25–27 so that
BENCH_TODAY (Wed 25.11.2026) is inside everyone's window — the month-end crunch.

Rows go in by COPY (asyncpg copy_records_to_table) with the reading indexes dropped and
FK triggers off (session_replication_role = replica), then indexes are rebuilt and the
tables VACUUM ANALYZEd. One argon2 hash is computed and reused for every bench user.
The database is never the dev or test one: `bench_database_name(scale)` →
water_portal_bench_<scale>, created on the embedded server (or DATABASE_URL's server).

One more contract is added on demand, not by the build: `ensure_upload_contract` (the
`upload` scenario calls it; idempotent, ≈ 1 s) gives a dataset of any scale a contract with
UPLOAD_METERS cold meters, one accepted reading each for the previous month, and a user of
its own — so the common build is not slowed and existing datasets need no rebuild.
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
from stdnum.ru import inn as stdnum_inn

from app.domain.calendar import add_months, month_start
from app.domain.inn import normalize_contract_number
from app.settings import ROOT

log = logging.getLogger("bench")

GENERATOR_VERSION = 1
BENCH_TODAY = date(2026, 11, 25)  # a Wednesday; windows of deadline days 25, 26, 27 all open
CURRENT_PERIOD = month_start(BENCH_TODAY)
HISTORY_MONTHS = 24
PASSWORD = "benchpass2026"
GRID_EMAIL = "bench-grid@bench.example"
CONTRACTS_PER_SCALE = 10_000
METERS_PER_SCALE = 40_000
GRID_METERS = 100
UPLOAD_EMAIL = "bench-upload@bench.example"
UPLOAD_METERS = 10_000
UPLOAD_CONTRACT_NUMBER = "Д-УПЛ/10000"

STREETS = [
    "ул. Ленина", "ул. Пушкинская", "ул. Карла Маркса", "ул. Удмуртская", "ул. Горького",
    "ул. Кирова", "ул. Холмогорова", "ул. 10 лет Октября", "ул. Ворошилова",
    "ул. Воткинское шоссе", "ул. Молодёжная", "ул. Коммунаров", "ул. Советская",
    "ул. 40 лет Победы", "ул. Петрова", "ул. Автозаводская", "ул. Клубная", "ул. Баранова",
]
MODELS = ["VLF-R-1.5", "ВСХ-15", "СГВ-15", "ВСКМ 90-20", "ЭКО НОМ-20", "ВМХ-50", "ОСВХ-25"]
WORDS = ["Ромашка", "Камский берег", "Ижсталь", "Удмуртагро", "Альфа", "Вектор", "Прогресс",
         "Северный", "Техсервис", "Молочный двор", "Кама", "Лидер", "Экопром", "Ижмаш-Сервис"]
FORMS = ["ООО", "АО", "ПАО", "МБОУ", "МУП", "ТСЖ"]
SURNAMES = ["Петров", "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов"]

READING_COLUMNS = ("id", "meter", "period", "value", "read_on", "status", "source",
                   "rollover_confirmed", "anomaly_confirmed", "created_at", "updated_at",
                   "processed_at")


def scale_tag(scale: float) -> str:
    return f"{scale:g}".replace(".", "_").replace("-", "m")


def bench_database_name(scale: float) -> str:
    return f"water_portal_bench_{scale_tag(scale)}"


def company_inn(n: int) -> str:
    base = f"18{n:07d}"
    return base + stdnum_inn.calc_company_check_digit(base)


def personal_inn(n: int) -> str:
    base = f"18{n:08d}"
    return base + stdnum_inn.calc_personal_check_digits(base)


def contract_sizes(n_contracts: int, n_meters: int, rng: random.Random) -> list[int]:
    """Meters per contract: [100] (the grid contract) + a skewed, shuffled rest.

    The small contracts (1–5 meters) are nudged so the total hits `n_meters` when that is
    reachable (at tiny scales the 100-meter grid contract alone exceeds it)."""
    rest = max(0, n_contracts - 1)
    n_big = round(rest * 0.003)
    n_medium = round(rest * 0.03)
    sizes = [rng.randint(100, 500) for _ in range(n_big)]
    sizes += [int(round(6 * 10 ** rng.uniform(0, 1))) for _ in range(n_medium)]
    n_small = rest - len(sizes)
    small = rng.choices([1, 2, 3, 4, 5], weights=[35, 25, 17, 13, 10], k=n_small)
    target = min(max(n_meters - GRID_METERS - sum(sizes), n_small), 5 * n_small)
    total = sum(small)
    while total != target:
        i = rng.randrange(n_small)
        step = 1 if total < target else -1
        if 1 <= small[i] + step <= 5:
            small[i] += step
            total += step
    sizes += small
    rng.shuffle(sizes)
    return [GRID_METERS, *sizes]


@dataclass
class Counts:
    counterparties: int = 0
    contracts: int = 0
    points: int = 0
    meters: int = 0
    readings: int = 0
    users: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class Dataset:
    """Rows of the small tables (all in memory) and the meters needed to stream readings."""

    counterparties: list[tuple] = field(default_factory=list)
    contracts: list[tuple] = field(default_factory=list)
    points: list[tuple] = field(default_factory=list)
    meters: list[tuple] = field(default_factory=list)
    # per meter: (meter id, kind, digits, deadline day)
    history_plan: list[tuple[int, str, int, int]] = field(default_factory=list)


def build_dataset(scale: float, seed: int = 2026) -> Dataset:
    rng = random.Random(seed)
    n_contracts = max(2, round(CONTRACTS_PER_SCALE * scale))
    n_meters = max(1, round(METERS_PER_SCALE * scale))
    sizes = contract_sizes(n_contracts, n_meters, rng)
    ds = Dataset()
    counterparty_id = point_id = meter_id = 0
    for index, size in enumerate(sizes):
        contract_id = index + 1
        # ~10 % of counterparties hold two or more contracts.
        if counterparty_id == 0 or index < 2 or rng.random() > 0.1:
            counterparty_id += 1
            if rng.random() < 0.15:
                name = (f"ИП {rng.choice(SURNAMES)} {chr(0x410 + rng.randrange(30))}. "
                        f"{chr(0x410 + rng.randrange(30))}.")
                inn = personal_inn(counterparty_id)
            else:
                name = f"{rng.choice(FORMS)} «{rng.choice(WORDS)}-{counterparty_id}»"
                inn = company_inn(counterparty_id)
            if index == 0:
                name, inn = "ООО «Сто приборов»", company_inn(counterparty_id)
            ds.counterparties.append((counterparty_id, 100_000 + counterparty_id, name, inn))
        deadline = 25 if index <= 1 or rng.random() < 0.6 else rng.choice((26, 27))
        number = f"Д-{200_000 + contract_id}/{2015 + contract_id % 10}"
        signed = date(2015 + contract_id % 10, 1 + contract_id % 12, 1 + contract_id % 28)
        ds.contracts.append((contract_id, 200_000 + contract_id, number,
                             normalize_contract_number(number), counterparty_id, signed,
                             deadline, deadline))
        n_points = max(1, math.ceil(size / 10))
        points = []
        for p in range(n_points):
            point_id += 1
            street = STREETS[(contract_id * 7 + p) % len(STREETS)]
            address = f"г Ижевск, {street}, дом {1 + (contract_id * 13 + p * 5) % 240}"
            ds.points.append((point_id, 300_000 + point_id, contract_id, address))
            points.append((point_id, address))
        n_hot = 0 if index == 0 or size < 3 else sum(rng.random() < 0.1 for _ in range(size))
        for m in range(size):
            meter_id += 1
            kind = "hot" if m >= size - n_hot else "cold"
            pid, address = points[m % n_points]
            digits = 6 if m % 17 == 16 else 5
            due = date(2025, 1, 1).toordinal() + rng.randrange(2200)
            place = address + (f", кв/оф {m + 1}" if size > n_points else "")
            serial = f"{rng.randint(10, 99)} {rng.randint(100000, 999999)}"
            ds.meters.append((meter_id, 1_000_000 + meter_id, pid, serial,
                              MODELS[m % len(MODELS)], place, date.fromordinal(due), digits,
                              kind, True))
            ds.history_plan.append((meter_id, kind, digits, deadline))
    return ds


def history_records(ds: Dataset, seed: int = 2026) -> Iterator[tuple]:
    """24 months of accepted readings per meter, streamed (10 M rows at scale 10)."""
    rng = random.Random(seed + 1)
    stamp = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
    periods = [add_months(CURRENT_PERIOD, -back) for back in range(HISTORY_MONTHS, 0, -1)]
    rid = 0
    for meter_id, kind, digits, deadline in ds.history_plan:
        read_days = [p.replace(day=min(deadline, 28) - meter_id % 3) for p in periods]
        if kind == "cold":
            limit = 10 ** digits
            value = rng.randrange(limit // 2)
            mean = rng.choice((2, 3, 5, 8, 12, 20, 40, 60))
            for period, read_on in zip(periods, read_days, strict=True):
                value = (value + mean + int(mean * (rng.random() - 0.5) * 0.6)) % limit
                rid += 1
                yield (rid, meter_id, period, Decimal(value), read_on, "accepted", "billing",
                       False, False, stamp, stamp, stamp)
        else:
            for period, read_on in zip(periods, read_days, strict=True):
                rid += 1
                yield (rid, meter_id, period, Decimal(rng.randrange(500, 15000)).scaleb(-3),
                       read_on, "accepted", "billing", False, False, stamp, stamp, stamp)


# ---------------------------------------------------------------- database


# The embedded server's admin URL, set by `python -m bench` (which starts and stops it).
EMBEDDED_ADMIN_URL: str | None = None


def admin_database_url() -> str:
    """DATABASE_URL's server, else the embedded PostgreSQL that `python -m bench` started."""
    url = os.environ.get("DATABASE_URL") or EMBEDDED_ADMIN_URL
    if not url:
        raise SystemExit("no database: set DATABASE_URL or run through `python -m bench`")
    return url


def migrate_database(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "PICCOLO_CONF": "app.piccolo_conf"}
    subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


async def dataset_meta(url: str) -> dict | None:
    """The bench_meta row of a complete dataset, else None (missing, partial or other version)."""
    try:
        conn = await asyncpg.connect(url)
    except (asyncpg.InvalidCatalogNameError, OSError):
        return None
    try:
        raw = await conn.fetchval("SELECT value FROM bench_meta WHERE key = 'dataset'")
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await conn.close()
    meta = json.loads(raw) if raw else None
    if not meta or meta.get("version") != GENERATOR_VERSION:
        return None
    return meta


async def _copy(conn: asyncpg.Connection, table: str, columns: tuple[str, ...], records) -> None:
    await conn.copy_records_to_table(table, records=records, columns=list(columns))
    await conn.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)")


async def load_dataset(url: str, scale: float, users: int, seed: int = 2026) -> Counts:
    """Fill an empty, migrated database; returns the counts and the time of each step."""
    from argon2 import PasswordHasher  # the same defaults as app.security's hasher

    counts = Counts()
    t0 = time.perf_counter()
    ds = build_dataset(scale, seed)
    counts.seconds["build"] = time.perf_counter() - t0
    conn = await asyncpg.connect(url)
    try:
        try:  # skip FK triggers during the load (superuser only; still correct, just slower)
            await conn.execute("SET session_replication_role = replica")
        except asyncpg.InsufficientPrivilegeError:
            log.warning("not a superuser: loading with FK checks on")
        t = time.perf_counter()
        await _copy(conn, "counterparty", ("id", "billing_id", "name", "inn"), ds.counterparties)
        await _copy(conn, "contract", ("id", "billing_id", "number", "number_norm",
                                       "counterparty", "signed_on", "deadline_day",
                                       "discharge_deadline_day"), ds.contracts)
        await _copy(conn, "connection_point", ("id", "billing_id", "contract", "address"),
                    ds.points)
        await _copy(conn, "meter", ("id", "billing_id", "point", "serial", "model", "address",
                                    "verification_due", "digits", "kind", "active"), ds.meters)
        counts.seconds["directory"] = time.perf_counter() - t
        counts.counterparties, counts.contracts = len(ds.counterparties), len(ds.contracts)
        counts.points, counts.meters = len(ds.points), len(ds.meters)

        t = time.perf_counter()
        indexes = await conn.fetch(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.tablename = 'reading' AND i.indexname NOT IN (
                   SELECT conname FROM pg_constraint WHERE conrelid = 'reading'::regclass)""")
        for row in indexes:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')
        await _copy(conn, "reading", READING_COLUMNS, history_records(ds, seed))
        counts.seconds["copy_readings"] = time.perf_counter() - t
        t = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '256MB'")
        for row in indexes:
            await conn.execute(row["indexdef"])
        counts.seconds["indexes"] = time.perf_counter() - t
        counts.readings = await conn.fetchval("SELECT count(*) FROM reading")

        t = time.perf_counter()
        password_hash = await asyncio.to_thread(PasswordHasher().hash, PASSWORD)  # once, reused
        n_users = min(users, len(ds.contracts) - 1)
        stamp = datetime.now(UTC)
        user_rows = [(1, GRID_EMAIL, "Сто Приборов")]
        user_rows += [(i + 1, f"bench{i:04d}@bench.example", f"Пользователь {i}")
                      for i in range(1, n_users + 1)]
        await _copy(conn, "portal_user",
                    ("id", "email", "password_hash", "full_name", "phone", "position",
                     "organization", "role", "locale", "is_active", "created_at"),
                    [(uid, email, password_hash, name, "+7 3412 00-00-00", "Главный энергетик",
                      "Бенч", "subscriber", "ru", True, stamp) for uid, email, name in user_rows])
        # user 1 → contract 1 (100 meters); user i+1 → contract i+1
        await _copy(conn, "contract_link", ("id", "user", "contract", "created_at"),
                    [(uid, uid, uid, stamp) for uid, _, _ in user_rows])
        counts.users = len(user_rows)
        counts.seconds["users"] = time.perf_counter() - t

        await conn.execute("RESET session_replication_role")
        t = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE)")
        counts.seconds["vacuum_analyze"] = time.perf_counter() - t
        counts.seconds["total"] = time.perf_counter() - t0
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
        meta = {"version": GENERATOR_VERSION, "scale": scale, "seed": seed,
                "bench_today": BENCH_TODAY.isoformat(), **counts.as_dict()}
        await conn.execute(
            """INSERT INTO bench_meta VALUES ('dataset', $1::jsonb)
               ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value""", json.dumps(meta))
    finally:
        await conn.close()
    return counts


async def ensure_upload_contract(url: str, meters: int = UPLOAD_METERS) -> tuple[int, int]:
    """A contract of `meters` cold meters (on 100-meter connection points) with the previous
    month accepted, linked to UPLOAD_EMAIL only; built once per database (by COPY, ids after
    the existing ones), found again afterwards. Returns (contract id, user id)."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE contract IN SHARE ROW EXCLUSIVE MODE")
            found = await conn.fetchrow(
                """SELECT c.id, l."user" FROM contract c
                   JOIN contract_link l ON l.contract = c.id
                   JOIN portal_user u ON u.id = l."user" AND u.email = $2
                   WHERE c.number = $1""", UPLOAD_CONTRACT_NUMBER, UPLOAD_EMAIL)
            if found:
                return found["id"], found["user"]
            return await _insert_upload_contract(conn, meters)
    finally:
        await conn.close()


async def _insert_upload_contract(conn: asyncpg.Connection, n_meters: int) -> tuple[int, int]:
    async def next_id(table: str) -> int:
        return await conn.fetchval(f'SELECT coalesce(max(id), 0) + 1 FROM "{table}"')

    rng = random.Random(10_000)
    stamp = datetime.now(UTC)
    party, contract = await next_id("counterparty"), await next_id("contract")
    point0, meter0 = await next_id("connection_point"), await next_id("meter")
    reading0 = await next_id("reading")
    user, link = await next_id("portal_user"), await next_id("contract_link")
    await _copy(conn, "counterparty", ("id", "billing_id", "name", "inn"),
                [(party, 900_000 + party, "АО «Десять тысяч приборов»", company_inn(party))])
    await _copy(conn, "contract", ("id", "billing_id", "number", "number_norm", "counterparty",
                                   "signed_on", "deadline_day", "discharge_deadline_day"),
                [(contract, 900_000 + contract, UPLOAD_CONTRACT_NUMBER,
                  normalize_contract_number(UPLOAD_CONTRACT_NUMBER), party, date(2020, 1, 1),
                  25, 25)])
    n_points = math.ceil(n_meters / 100)
    points = [(point0 + p, 900_000 + point0 + p, contract,
               f"г Ижевск, {STREETS[p % len(STREETS)]}, дом {1 + p}") for p in range(n_points)]
    await _copy(conn, "connection_point", ("id", "billing_id", "contract", "address"), points)
    previous = add_months(CURRENT_PERIOD, -1)
    meters, readings = [], []
    for m in range(n_meters):
        mid = meter0 + m
        _pid, _billing, _contract, address = points[m // 100]
        meters.append((mid, 5_000_000 + mid, point0 + m // 100, f"У-{m + 1:05d}",
                       MODELS[m % len(MODELS)], f"{address}, кв/оф {m % 100 + 1}",
                       date(2029, 1, 1), 5, "cold", True))
        readings.append((reading0 + m, mid, previous, Decimal(rng.randrange(1000, 50_000)),
                         previous.replace(day=25), "accepted", "billing", False, False, stamp,
                         stamp, stamp))
    await _copy(conn, "meter", ("id", "billing_id", "point", "serial", "model", "address",
                                "verification_due", "digits", "kind", "active"), meters)
    await _copy(conn, "reading", READING_COLUMNS, readings)
    await conn.execute(
        """INSERT INTO portal_user (id, email, password_hash, full_name, phone, position,
               organization, role, locale, is_active, created_at)
           SELECT $1, $2, password_hash, 'Десять Тысяч', phone, position, organization, role,
                  locale, true, now()
           FROM portal_user WHERE email = $3""", user, UPLOAD_EMAIL, GRID_EMAIL)
    await conn.execute(
        """INSERT INTO contract_link (id, "user", contract, created_at)
           VALUES ($1, $2, $3, now())""", link, user, contract)
    for table in ("portal_user", "contract_link"):
        await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT max(id) FROM {table}) + 1, false)")
    await conn.execute("ANALYZE meter; ANALYZE reading; ANALYZE connection_point")
    return contract, user


async def reset_portal_data(url: str) -> None:
    """Forget what a previous bench run transmitted: back to billing's history only."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("DELETE FROM receipt_line")  # receipts point at the readings
            await conn.execute("DELETE FROM receipt")
            await conn.execute("DELETE FROM api_idempotency")
            await conn.execute("DELETE FROM api_token")  # the api scenario makes its own
            await conn.execute("DELETE FROM reading_audit")
            await conn.execute("DELETE FROM reading WHERE source <> 'billing'")
            await conn.execute("DELETE FROM billing_batch")
    finally:
        await conn.close()


def create_bench_database(scale: float, users: int, *, name: str | None = None,
                          force: bool = True) -> tuple[str, dict]:
    """Drop/create/migrate/load the bench database of `scale`; returns (url, meta).

    With force=False an existing complete dataset of the same scale and version is reused,
    after the migrations it has not seen yet are applied (a dataset built before a schema
    change otherwise ran the new code against the old tables).
    """
    from devstack.embedded import _database_url, drop_database, ensure_database

    admin = admin_database_url()
    name = name or bench_database_name(scale)
    if name in ("water_portal",) or name.startswith("wp_test_"):
        raise SystemExit(f"refusing to use {name} for the benchmark")
    url = _database_url(admin, name)
    if not force:
        meta = asyncio.run(dataset_meta(url))
        wanted_users = min(users, meta["contracts"] - 1) + 1 if meta else 0
        if meta and meta.get("scale") == scale and meta.get("users", 0) >= wanted_users:
            log.info("reusing bench dataset %s (%s readings)", name, meta["readings"])
            migrate_database(url)
            return url, meta
    drop_database(admin, name)
    ensure_database(admin, name)
    migrate_database(url)
    counts = asyncio.run(load_dataset(url, scale, users))
    return url, {"scale": scale, **counts.as_dict()}


def write_directory(directory: Path, scale: float, seed: int = 2026) -> dict[str, int]:
    """The same dataset as billing's six CSV files (SPEC §6), for importing it the way an
    operator would (`import-billing DIR`, «Загрузка данных биллинга»); rows per file."""
    ds = build_dataset(scale, seed)
    directory.mkdir(parents=True, exist_ok=True)
    counterparty = {cid: bid for cid, bid, _name, _inn in ds.counterparties}
    contract = {c[0]: c[1] for c in ds.contracts}
    point = {p[0]: p[1] for p in ds.points}
    meter = {m[0]: m[1] for m in ds.meters}
    rows: dict[str, list[list]] = {
        "counterparties.csv": [[bid, name, inn] for _cid, bid, name, inn in ds.counterparties],
        "contracts.csv": [[c[1], c[2], counterparty[c[4]], c[5].isoformat(), c[6], c[7]]
                          for c in ds.contracts],
        "points.csv": [[p[1], contract[p[2]], p[3]] for p in ds.points],
        "meters.csv": [[m[1], point[m[2]], m[3], m[4], m[5], m[6].isoformat(), m[7], m[8]]
                       for m in ds.meters],
        "readings.csv": [], "volumes.csv": [],
    }
    kinds = {m[0]: m[8] for m in ds.meters}
    for record in history_records(ds, seed):
        _rid, mid, period, value, read_on = record[:5]
        name = "readings.csv" if kinds[mid] == "cold" else "volumes.csv"
        rows[name].append([meter[mid], f"{period:%Y-%m}", f"{value}", read_on.isoformat()])
    headers = {"counterparties.csv": "id;name;inn",
               "contracts.csv": "id;number;counterparty_id;signed_on;deadline_day;"
                                "discharge_deadline_day",
               "points.csv": "id;contract_id;address",
               "meters.csv": "id;point_id;serial;model;address;verification_due;digits;kind",
               "readings.csv": "meter_id;period;value;read_on",
               "volumes.csv": "meter_id;period;volume;read_on"}
    for name, lines in rows.items():
        with (directory / name).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter=";", lineterminator="\n")
            fh.write(headers[name] + "\n")
            writer.writerows(lines)
    return {name: len(lines) for name, lines in rows.items()}


def register(sub) -> None:
    p = sub.add_parser("data", help="generate the benchmark dataset (its own database)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="1 = 10 000 contracts, 40 000 meters, ≈1 M readings (fractions allowed)")
    p.add_argument("--users", type=int, default=200, help="subscriber users linked to contracts")
    p.add_argument("--db", default=None, help="database name (default water_portal_bench_<scale>)")
    p.add_argument("--csv", type=Path, default=None, metavar="DIR",
                   help="write the dataset as billing's six CSV files into DIR instead")
    p.set_defaults(func=cmd_bench_data)


def cmd_bench_data(args) -> int:
    if args.scale <= 0:
        print("error: --scale must be > 0", file=sys.stderr)
        return 2
    if args.csv is not None:
        counts = write_directory(args.csv, args.scale)
        print(f"{args.csv}: " + ", ".join(f"{name} {n}" for name, n in counts.items()))
        return 0
    url, meta = create_bench_database(args.scale, args.users, name=args.db)
    from devstack.embedded import _database_of

    name = _database_of(url)
    print(f"database {name}: {meta['contracts']} contracts, {meta['meters']} meters, "
          f"{meta['readings']} readings, {meta['users']} users "
          f"(password {PASSWORD}) in {meta['seconds']['total']:.1f} s")
    print("  " + ", ".join(f"{k} {v:.1f} s" for k, v in meta["seconds"].items()))
    return 0


async def clone_grid_user(conn, email: str, full_name: str) -> int:
    """The id of a bench subscriber `email`, created once as a copy of the grid user (ids were
    COPYed into the dataset, so the sequence knows nothing of them: max(id) + 1)."""
    uid = await conn.fetchval("SELECT id FROM portal_user WHERE email = $1", email)
    if uid is None:
        uid = await conn.fetchval(
            """INSERT INTO portal_user (id, email, password_hash, full_name, phone,
                   position, organization, role, locale, is_active, created_at)
               SELECT (SELECT max(id) + 1 FROM portal_user), $1, password_hash,
                      $3, phone, position, organization, role, locale, true, now()
               FROM portal_user WHERE email = $2
               RETURNING id""", email, GRID_EMAIL, full_name)
    return uid
