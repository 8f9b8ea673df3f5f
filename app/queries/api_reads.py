"""What the API (SPEC §8) reads by billing ids: a contract's meters with the last accepted
reading, and the user's meters by «Код прибора». Every query is scoped by the user's contract
links (R8): another organization's id finds nothing. The user's contract by its «№» is read
through app.queries.contracts, like the web's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app import db
from app.domain.vocabulary import ReadingStatus

ACCEPTED = ReadingStatus.accepted
MAX_ID = 2**31 - 1  # int4: asyncpg refuses larger ints, and no such id exists


@dataclass(frozen=True)
class MeterRow:
    code: int  # billing id, «Код прибора»
    kind: str
    serial: str
    model: str
    address: str
    verification_due: date | None
    digits: int
    previous_period: date | None
    previous_value: Decimal | None
    previous_read_on: date | None


async def contract_meters(contract_id: int) -> list[MeterRow]:
    """Active meters of the contract in the grid's order, each with its last accepted reading."""
    rows = await db.fetch(
        f"""SELECT m.billing_id AS code, m.kind, m.serial, m.model, m.address,
                   m.verification_due, m.digits, last.period AS previous_period,
                   last.value AS previous_value, last.read_on AS previous_read_on
            FROM meter m
            JOIN connection_point p ON p.id = m.point
            LEFT JOIN LATERAL (
                SELECT r.period, r.value, r.read_on FROM reading r
                WHERE r.meter = m.id AND r.status = '{ACCEPTED}'
                ORDER BY r.period DESC LIMIT 1
            ) last ON true
            WHERE p.contract = $1 AND m.active
            ORDER BY m.kind, p.address, m.billing_id""",
        contract_id,
    )
    return [MeterRow(**dict(r)) for r in rows]


@dataclass(frozen=True)
class OwnedMeter:
    meter_id: int
    code: int
    contract_id: int
    kind: str


async def meters_by_codes(user_id: int, codes: list[int]) -> dict[int, OwnedMeter]:
    """The user's active meters among these «Код прибора», by code (others are left out)."""
    codes = [c for c in codes if 0 < c <= MAX_ID]
    if not codes:
        return {}
    rows = await db.fetch(
        """SELECT m.id AS meter_id, m.billing_id AS code, p.contract AS contract_id, m.kind
           FROM meter m
           JOIN connection_point p ON p.id = m.point
           JOIN contract_link l ON l.contract = p.contract AND l."user" = $1
           WHERE m.billing_id = ANY($2::int[]) AND m.active""",
        user_id, codes,
    )
    return {r["code"]: OwnedMeter(**dict(r)) for r in rows}
