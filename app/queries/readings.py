"""The reading grid of a contract (cold readings and hot volumes alike) and writing it back.

One query draws the whole grid; one transaction writes it: an upsert on the live-reading
index (so double clicks, retries and two tabs collapse onto one row) plus its audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from app import db
from app.domain.billing_checks import RejectReason
from app.domain.grid import MeterHistory
from app.domain.notifications import verification_overdue
from app.domain.readings import MAX_HISTORY, PreviousReading
from app.domain.vocabulary import AuditChannel, ReadingSource, ReadingStatus
from app.domain.writes import WRITABLE_SQL, StoredReading, WriteOutcome, may_write, refusal
from app.queries.receipts import create_receipts

ACCEPTED, REJECTED = ReadingStatus.accepted, ReadingStatus.rejected
TRANSMITTED = ReadingStatus.transmitted

# Accepted values of earlier periods: MAX_HISTORY + 1 values give MAX_HISTORY consumptions.
def _grid_sql(where: str, period: str) -> str:
    return f"""
SELECT m.id AS meter_id, m.billing_id AS code, m.serial, m.model, m.address,
       m.verification_due, m.digits,
       hist.values AS history, hist.last_read_on AS previous_read_on,
       cur.id AS reading_id, cur.value, cur.read_on, cur.status, cur.reject_reason,
       cur.reject_code, cur.reject_params::text AS reject_params,
       cur.rollover_confirmed, cur.anomaly_confirmed, cur.batch
FROM meter m
JOIN connection_point p ON p.id = m.point
LEFT JOIN LATERAL (
    SELECT array_agg(h.value ORDER BY h.period DESC) AS values,
           (array_agg(h.read_on ORDER BY h.period DESC))[1] AS last_read_on
    FROM (SELECT r.value, r.read_on, r.period FROM reading r
          WHERE r.meter = m.id AND r.status = '{ACCEPTED}' AND r.period < {period}
          ORDER BY r.period DESC LIMIT {MAX_HISTORY + 1}) h
) hist ON true
LEFT JOIN LATERAL (
    SELECT r.id, r.value, r.read_on, r.status, r.reject_reason, r.reject_code, r.reject_params,
           r.rollover_confirmed, r.anomaly_confirmed, r.batch
    FROM reading r WHERE r.meter = m.id AND r.period = {period}
    ORDER BY (r.status <> '{REJECTED}') DESC, r.updated_at DESC, r.id DESC LIMIT 1
) cur ON true
WHERE {where}
-- billing order within a point: natural («кв 2» before «кв 10»), unlike the address text
ORDER BY p.address, m.billing_id, m.id
"""


GRID_SQL = _grid_sql(
    "p.contract = $1 AND m.kind = $2 AND m.active AND ($4::int IS NULL OR m.id = $4)", "$3")
# The same rows for meters of any contracts and kinds (the API's items), in one round trip.
METERS_GRID_SQL = _grid_sql("m.id = ANY($1::int[]) AND m.active", "$2")


@dataclass(frozen=True)
class GridRow:
    meter_id: int
    code: int  # the meter's billing id, «Код прибора» of the spreadsheet template
    serial: str
    model: str
    address: str
    verification_due: date | None
    digits: int
    history: list[Decimal] | None
    previous_read_on: date | None
    reading_id: int | None
    value: Decimal | None
    read_on: date | None
    status: str | None
    reject_reason: RejectReason | None
    rollover_confirmed: bool | None
    anomaly_confirmed: bool | None
    batch: int | None

    @property
    def previous(self) -> PreviousReading | None:
        if not self.history:
            return None
        return PreviousReading(self.history[0], self.previous_read_on)

    @property
    def meter_history(self) -> MeterHistory:
        return MeterHistory(self.digits, self.previous, tuple(self.history or ()))

    @property
    def stored(self) -> StoredReading | None:
        """This period's live reading, if any (what app.domain.grid.plan_row weighs)."""
        if self.reading_id is None or self.status == REJECTED:
            return None
        return StoredReading(self.reading_id, self.value, self.read_on, self.status, self.batch)

    @property
    def read_only(self) -> bool:
        """Not writable from the portal now (app.domain.writes.may_write)."""
        return not may_write(self.status, self.batch)

    def settled(self, stored: StoredReading) -> GridRow:
        """This row showing `stored`, the reading a write left in the database."""
        return replace(self, reading_id=stored.reading_id, value=stored.value,
                       read_on=stored.read_on, status=stored.status, batch=stored.batch,
                       reject_reason=None)

    def overdue(self, today: date) -> bool:
        return verification_overdue(today, self.verification_due)


async def grid_rows(
    contract_id: int, kind: str, period: date, meter_id: int | None = None
) -> list[GridRow]:
    """Every active meter of this kind on the contract with its previous accepted reading,
    accepted history and this period's reading — or only `meter_id` if it belongs there."""
    rows = await db.fetch(GRID_SQL, contract_id, kind, period, meter_id)
    return [_grid_row(r) for r in rows]


async def grid_rows_of_meters(meter_ids: list[int], period: date) -> dict[int, GridRow]:
    """`grid_rows` of these active meters (already known to be the user's), by meter id."""
    rows = await db.fetch(METERS_GRID_SQL, meter_ids, period)
    return {r["meter_id"]: _grid_row(r) for r in rows}


def _grid_row(record) -> GridRow:
    row = dict(record)
    if row["reject_code"] is not None or row["reject_reason"] is not None:
        row["reject_reason"] = RejectReason.from_row(row)
    del row["reject_code"], row["reject_params"]
    return GridRow(**row)


@dataclass(frozen=True)
class ReadingWrite:
    meter_id: int
    value: Decimal
    read_on: date
    status: str  # ReadingStatus.draft or .transmitted
    rollover_confirmed: bool = False
    anomaly_confirmed: bool = False


@dataclass(frozen=True)
class WriteResult:
    """What a write did to one meter's reading, and the reading it left stored."""

    outcome: WriteOutcome
    stored: StoredReading


LIVE_SQL = f"""
SELECT id, meter, value, read_on, status, batch FROM reading
WHERE meter = ANY($1::int[]) AND period = $2 AND status <> '{REJECTED}'
"""

# The write rule (app.domain.writes.WRITABLE_SQL) decides whether a live reading is updated;
# an identical write changes nothing (and so leaves no audit row).
UPSERT_SQL = f"""
INSERT INTO reading AS r (meter, period, value, read_on, status, source, rollover_confirmed,
                          anomaly_confirmed, created_by, created_at, updated_by, updated_at,
                          transmitted_at)
SELECT s.meter, $7, s.value, s.read_on, s.status, $9::text, s.rollover, s.anomaly,
       $8, now(), $8, now(), CASE WHEN s.status = $10 THEN now() END
FROM unnest($1::int[], $2::numeric[], $3::date[], $4::text[], $5::bool[], $6::bool[])
     AS s(meter, value, read_on, status, rollover, anomaly)
ON CONFLICT (meter, period) WHERE status <> '{REJECTED}' DO UPDATE
    SET value = EXCLUDED.value, read_on = EXCLUDED.read_on, status = EXCLUDED.status,
        rollover_confirmed = EXCLUDED.rollover_confirmed,
        anomaly_confirmed = EXCLUDED.anomaly_confirmed,
        updated_by = EXCLUDED.updated_by, updated_at = now(),
        transmitted_at = CASE WHEN EXCLUDED.status = $10 THEN now()
                              ELSE r.transmitted_at END
    WHERE {WRITABLE_SQL}
      AND (r.value, r.read_on, r.status) IS DISTINCT FROM
          (EXCLUDED.value, EXCLUDED.read_on, EXCLUDED.status)
RETURNING r.id, r.meter, r.value, r.read_on, r.status, r.batch
"""

AUDIT_SQL = """
INSERT INTO reading_audit (reading, changed_by, changed_at, action, old_value, new_value,
                           old_read_on, new_read_on, old_status, new_status, channel)
SELECT a.reading, $1, now(), a.action, a.old_value, a.new_value, a.old_read_on, a.new_read_on,
       a.old_status, a.new_status, $10
FROM unnest($2::int[], $3::text[], $4::numeric[], $5::numeric[], $6::date[], $7::date[],
            $8::text[], $9::text[])
     AS a(reading, action, old_value, new_value, old_read_on, new_read_on, old_status, new_status)
"""


def _action(old_status: str | None, new_status: str) -> str:
    if old_status == TRANSMITTED:
        return "correct"
    return "transmit" if new_status == TRANSMITTED else "save"


class WriteResults(dict[int, WriteResult]):
    """Per meter, what a write did; `receipts`: the numbers of the receipts it made (one per
    contract and kind whose readings it transmitted; none when it changed nothing)."""

    receipts: list[int]

    def __init__(self, *args, receipts: list[int] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.receipts = receipts or []


def _stored(row) -> StoredReading:
    return StoredReading(row["id"], row["value"], row["read_on"], row["status"], row["batch"])


async def write_readings(user_id: int, period: date, writes: list[ReadingWrite],
                         channel: str = AuditChannel.grid) -> WriteResults:
    """Upsert the rows and audit every change in one transaction; per meter, what happened.
    `channel` (grid, upload, api: the caller's door) is recorded on each audit row.
    Rows it actually wrote as transmitted get a receipt in the same transaction (none when
    the write changed nothing: a retry or a double click).

    The meters must already be known to belong to the user's contract (see grid_rows)."""
    if not writes:
        return WriteResults()
    meters = [w.meter_id for w in writes]
    async with db.transaction():
        # Writers of the same meters queue here, so the "old" side of the audit (and the
        # reason a write was refused) is exact; the unique index alone already guarantees a
        # single live reading.
        await db.execute(
            "SELECT pg_advisory_xact_lock(hashtext('reading-grid'), m) "
            "FROM unnest($1::int[]) AS m", sorted(set(meters)))
        old = {r["meter"]: r for r in await db.fetch(LIVE_SQL, meters, period)}
        changed = await db.fetch(
            UPSERT_SQL, meters, [w.value for w in writes], [w.read_on for w in writes],
            [w.status for w in writes], [w.rollover_confirmed for w in writes],
            [w.anomaly_confirmed for w in writes], period, user_id, ReadingSource.portal,
            TRANSMITTED,
        )
        if changed:
            before = [old.get(r["meter"]) for r in changed]
            await db.execute(
                AUDIT_SQL, user_id,
                [r["id"] for r in changed],
                [_action(b["status"] if b else None, r["status"])
                 for r, b in zip(changed, before, strict=True)],
                [b["value"] if b else None for b in before],
                [r["value"] for r in changed],
                [b["read_on"] if b else None for b in before],
                [r["read_on"] for r in changed],
                [b["status"] if b else None for b in before],
                [r["status"] for r in changed],
                channel,
            )
        written = {r["meter"] for r in changed}
        unseen = [m for m in meters if m not in written and m not in old]
        if unseen:  # a live reading appeared without the grid's lock (the billing import)
            old.update({r["meter"]: r for r in await db.fetch(LIVE_SQL, unseen, period)})
        receipts = await create_receipts(
            user_id, period, [r["id"] for r in changed if r["status"] == TRANSMITTED])
    results = WriteResults(
        {r["meter"]: WriteResult(WriteOutcome.written, _stored(r)) for r in changed},
        receipts=receipts)
    for w in writes:
        if w.meter_id not in results:  # not written: a live reading refused it
            stored = _stored(old[w.meter_id])
            results[w.meter_id] = WriteResult(
                refusal(stored, w.status, w.value, w.read_on), stored)
    return results

