"""The archive of accepted readings (R7) as one user may see it (R8): filter, page, export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app import db

PAGE_SIZE = 50
EXPORT_BATCH = 2_000  # rows fetched from the server-side cursor at a time


@dataclass(frozen=True)
class ArchiveFilter:
    """What the archive shows; ids are already checked to belong to the user."""

    user_id: int
    contract_id: int | None = None
    point_id: int | None = None
    kind: str = "cold"
    date_from: date | None = None
    date_to: date | None = None
    serial: str = ""  # part of a meter's serial, spaces ignored


@dataclass(frozen=True)
class ArchiveRow:
    contract_id: int
    contract_billing_id: int
    counterparty_name: str
    meter_id: int
    serial: str
    address: str
    value: Decimal
    read_on: date
    source: str
    reading_id: int = 0
    digits: int = 5
    # the meter's accepted reading before this one: on the screen's page only, not compared
    previous_value: Decimal | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PointOption:
    id: int
    contract_id: int
    contract_billing_id: int
    address: str


def _where(f: ArchiveFilter) -> tuple[str, list]:
    """WHERE clause with only the conditions in use: each shape gets its own plan, rather
    than one generic plan full of `$n IS NULL OR ...`."""
    args: list = [f.user_id, f.kind]
    conditions = ['l."user" = $1', "m.kind = $2", "r.status = 'accepted'"]
    for column, value in (("c.id", f.contract_id), ("p.id", f.point_id)):
        if value is not None:
            args.append(value)
            conditions.append(f"{column} = ${len(args)}")
    if f.date_from is not None:
        args.append(f.date_from)
        conditions.append(f"r.read_on >= ${len(args)}")
    if f.date_to is not None:
        args.append(f.date_to)
        conditions.append(f"r.read_on <= ${len(args)}")
    if f.serial:
        pattern = f.serial.replace(" ", "")
        pattern = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        args.append(f"%{pattern}%")
        conditions.append(f"replace(m.serial, ' ', '') ILIKE ${len(args)}")
    return " AND ".join(conditions), args


FROM = """
FROM contract_link l
JOIN contract c ON c.id = l.contract
JOIN connection_point p ON p.contract = c.id
JOIN meter m ON m.point = p.id
JOIN reading r ON r.meter = m.id
"""


# The meter's accepted reading before a row's (for «Расход»): one probe of the partial index.
PREVIOUS = """
        LEFT JOIN LATERAL (
            SELECT r2.value FROM reading r2
            WHERE r2.meter = m.id AND r2.status = 'accepted' AND r2.read_on < r.read_on
            ORDER BY r2.read_on DESC LIMIT 1) prev ON true"""


def archive_rows_sql(f: ArchiveFilter, previous: bool = False) -> tuple[str, list]:
    """Every row of the filter in the screen's order (the page query and the export); with
    `previous`, each row's previous accepted reading too (the export's «Расход, м³»)."""
    where, args = _where(f)
    sql = f"""
        SELECT c.id AS contract_id, c.billing_id AS contract_billing_id,
               cp.name AS counterparty_name, m.id AS meter_id, m.serial, m.address, r.value,
               r.read_on, r.source, m.digits, r.id AS reading_id
               {", prev.value AS previous_value" if previous else ""}
        {FROM}
        JOIN counterparty cp ON cp.id = c.counterparty{PREVIOUS if previous else ""}
        WHERE {where}
        ORDER BY c.billing_id, r.read_on DESC, m.serial, r.id DESC"""
    return sql, args


def archive_page_sql(f: ArchiveFilter, page: int) -> tuple[str, list]:
    """The page query (exposed for the EXPLAIN test), with each row's previous accepted
    reading of its meter (for «Расход»; the same partial index, 50 probes a page)."""
    sql, args = archive_rows_sql(f)
    args += [PAGE_SIZE, (page - 1) * PAGE_SIZE]
    return f"""
        SELECT page.*, prev.value AS previous_value
        FROM ({sql}
              LIMIT ${len(args) - 1} OFFSET ${len(args)}) page
        LEFT JOIN LATERAL (
            SELECT r2.value FROM reading r2
            WHERE r2.meter = page.meter_id AND r2.status = 'accepted'
              AND r2.read_on < page.read_on
            ORDER BY r2.read_on DESC LIMIT 1) prev ON true
        ORDER BY page.contract_billing_id, page.read_on DESC, page.serial,
                 page.reading_id DESC""", args


def archive_count_sql(f: ArchiveFilter) -> tuple[str, list]:
    where, args = _where(f)
    return f"SELECT count(*) {FROM} WHERE {where}", args


async def archive_page(f: ArchiveFilter, page: int) -> tuple[list[ArchiveRow], int, int]:
    """One page of accepted readings (grouped by contract, newest first), the total, and the
    page number shown (a page past the end shows the last one)."""
    count_sql, count_args = archive_count_sql(f)
    total = await db.fetchval(count_sql, *count_args)
    if total == 0:
        return [], 0, 1
    page = min(page, -(-total // PAGE_SIZE))
    sql, args = archive_page_sql(f, page)
    return [ArchiveRow(**dict(r)) for r in await db.fetch(sql, *args)], total, page


async def archive_batches(f: ArchiveFilter,
                          batch: int = EXPORT_BATCH) -> AsyncIterator[list[ArchiveRow]]:
    """Every row of the filter, `batch` rows at a time, from a server-side cursor: the
    export of 100 000 rows never holds more than one batch in this process.

    The cursor lives in a read-only transaction on one pool connection, held until the
    caller has consumed (or closed) the generator."""
    # «Расход, м³» is a column of the cold archive only (as on the screen)
    sql, args = archive_rows_sql(f, previous=f.kind == "cold")
    async with db.connection() as conn, conn.transaction(readonly=True):
        # a cursor is planned for its first rows (cursor_tuple_fraction 0.1); this one is
        # read to the end, so plan it like the plain query
        await conn.execute("SET LOCAL cursor_tuple_fraction = 1")
        cursor = await conn.cursor(sql, *args)
        while records := await cursor.fetch(batch):
            yield [ArchiveRow(**dict(r)) for r in records]


async def user_points(user_id: int, contract_id: int | None = None) -> list[PointOption]:
    """Connection points of the user's contracts (or of one of them), by contract, address."""
    rows = await db.fetch(
        """SELECT p.id, c.id AS contract_id, c.billing_id AS contract_billing_id, p.address
           FROM contract_link l
           JOIN contract c ON c.id = l.contract
           JOIN connection_point p ON p.contract = c.id
           WHERE l."user" = $1 AND ($2::int IS NULL OR c.id = $2)
           ORDER BY c.billing_id, p.address, p.id""",
        user_id, contract_id,
    )
    return [PointOption(**dict(r)) for r in rows]
