"""From billing: the directory import's statements (counterparties … meters, accepted history).

Each upsert takes arrays (one per column) and answers, per row it touched, whether it inserted.
"""

from __future__ import annotations

from app import db
from app.domain.vocabulary import MeterKind, ReadingSource, ReadingStatus


async def lock_imports() -> None:
    """Serialize imports (inside the import's transaction): two at once would race on the same
    billing ids."""
    await db.execute("SELECT pg_advisory_xact_lock(hashtext('import-billing'))")


async def known_ids() -> dict[str, set[int]]:
    """The billing ids already stored, per kind of directory entry (as check_references wants)."""
    known: dict[str, set[int]] = {}
    for key, table in (("counterparties", "counterparty"), ("contracts", "contract"),
                       ("points", "connection_point")):
        known[key] = {r[0] for r in await db.fetch(f"SELECT billing_id FROM {table}")}
    for key, kind in (("meters", MeterKind.cold), ("hot_meters", MeterKind.hot)):
        known[key] = {r[0] for r in await db.fetch(
            "SELECT billing_id FROM meter WHERE kind = $1", kind)}
    return known


# Each upsert takes arrays (one per column), joins billing ids to our ids, and touches a row
# only when something changed; RETURNING tells inserts from updates.
UPSERTS: dict[str, tuple[str, list[str]]] = {
    "counterparties.csv": (
        """WITH src AS (SELECT * FROM unnest($1::int[], $2::text[], $3::text[])
                     AS s(bid, name, inn))
        INSERT INTO counterparty (billing_id, name, inn) SELECT bid, name, inn FROM src
        ON CONFLICT (billing_id) DO UPDATE SET name = EXCLUDED.name, inn = EXCLUDED.inn
        WHERE (counterparty.name, counterparty.inn) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.inn)
        RETURNING (xmax = 0) AS inserted""",
        ["id", "name", "inn"],
    ),
    "contracts.csv": (
        """WITH src AS (SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[],
                $5::date[], $6::int[], $7::int[])
                AS s(bid, number, number_norm, cp, signed_on, dday, hday))
        INSERT INTO contract (billing_id, number, number_norm, counterparty, signed_on,
                              deadline_day, discharge_deadline_day)
        SELECT s.bid, s.number, s.number_norm, c.id, s.signed_on, s.dday, s.hday
        FROM src s JOIN counterparty c ON c.billing_id = s.cp
        ON CONFLICT (billing_id) DO UPDATE SET number = EXCLUDED.number,
            number_norm = EXCLUDED.number_norm, counterparty = EXCLUDED.counterparty,
            signed_on = EXCLUDED.signed_on, deadline_day = EXCLUDED.deadline_day,
            discharge_deadline_day = EXCLUDED.discharge_deadline_day
        WHERE (contract.number, contract.counterparty, contract.signed_on, contract.deadline_day,
               contract.discharge_deadline_day)
          IS DISTINCT FROM (EXCLUDED.number, EXCLUDED.counterparty, EXCLUDED.signed_on,
               EXCLUDED.deadline_day, EXCLUDED.discharge_deadline_day)
        RETURNING (xmax = 0) AS inserted""",
        ["id", "number", "number_norm", "counterparty_id", "signed_on", "deadline_day",
         "discharge_deadline_day"],
    ),
    "points.csv": (
        """WITH src AS (SELECT * FROM unnest($1::int[], $2::int[], $3::text[])
                     AS s(bid, ct, address))
        INSERT INTO connection_point (billing_id, contract, address)
        SELECT s.bid, c.id, s.address FROM src s JOIN contract c ON c.billing_id = s.ct
        ON CONFLICT (billing_id) DO UPDATE SET contract = EXCLUDED.contract,
            address = EXCLUDED.address
        WHERE (connection_point.contract, connection_point.address)
          IS DISTINCT FROM (EXCLUDED.contract, EXCLUDED.address)
        RETURNING (xmax = 0) AS inserted""",
        ["id", "contract_id", "address"],
    ),
    "meters.csv": (
        """WITH src AS (SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::text[],
                $5::text[], $6::date[], $7::int[], $8::text[])
                AS s(bid, pt, serial, model, address, due, digits, kind))
        INSERT INTO meter (billing_id, point, serial, model, address, verification_due, digits,
                           kind, active)
        SELECT s.bid, p.id, s.serial, s.model, s.address, s.due, s.digits, s.kind, true
        FROM src s JOIN connection_point p ON p.billing_id = s.pt
        ON CONFLICT (billing_id) DO UPDATE SET point = EXCLUDED.point, serial = EXCLUDED.serial,
            model = EXCLUDED.model, address = EXCLUDED.address,
            verification_due = EXCLUDED.verification_due, digits = EXCLUDED.digits,
            kind = EXCLUDED.kind
        WHERE (meter.point, meter.serial, meter.model, meter.address, meter.verification_due,
               meter.digits, meter.kind)
          IS DISTINCT FROM (EXCLUDED.point, EXCLUDED.serial, EXCLUDED.model, EXCLUDED.address,
               EXCLUDED.verification_due, EXCLUDED.digits, EXCLUDED.kind)
        RETURNING (xmax = 0) AS inserted""",
        ["id", "point_id", "serial", "model", "address", "verification_due", "digits", "kind"],
    ),
}

# Accepted history: only billing's own rows are updated; a portal reading for the same
# period is left to the archive refresh, never overwritten here.
HISTORY_UPSERT = f"""
WITH src AS (SELECT * FROM unnest($1::int[], $2::date[], $3::numeric[], $4::date[])
             AS s(mid, period, value, read_on))
INSERT INTO reading (meter, period, value, read_on, status, source, rollover_confirmed,
                     anomaly_confirmed, created_at, updated_at, processed_at)
SELECT m.id, s.period, s.value, s.read_on, $5::text, $6::text, false, false, now(), now(), now()
FROM src s JOIN meter m ON m.billing_id = s.mid
ON CONFLICT (meter, period) WHERE status <> '{ReadingStatus.rejected}' DO UPDATE
    SET value = EXCLUDED.value, read_on = EXCLUDED.read_on, updated_at = now()
    WHERE reading.source = $6::text
      AND (reading.value, reading.read_on) IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.read_on)
RETURNING (xmax = 0) AS inserted
"""


# The columns each file's upsert takes, in parameter order.
UPSERT_COLUMNS = {name: names for name, (_, names) in UPSERTS.items()}


async def upsert_file(filename: str, columns: list[list]) -> list[bool]:
    """Upsert one directory file's rows; per row touched, True if inserted."""
    return [r["inserted"] for r in await db.fetch(UPSERTS[filename][0], *columns)]


async def upsert_history(columns: list[list]) -> list[bool]:
    """Upsert billing's accepted readings (meter id, period, value, date); True if inserted."""
    rows = await db.fetch(HISTORY_UPSERT, *columns, ReadingStatus.accepted, ReadingSource.billing)
    return [r["inserted"] for r in rows]
