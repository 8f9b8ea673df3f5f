"""The hand-off to billing (R7): claiming, locking and applying batches, what billing knows.

Each function runs inside the caller's transaction where the refresh needs one
(app/billing/refresh.py says which step holds which lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from app import db
from app.domain.billing_checks import BatchItem, BillingMeterState, HandedOver
from app.domain.vocabulary import BatchState, ReadingStatus

ACCEPTED, TRANSMITTED = ReadingStatus.accepted, ReadingStatus.transmitted


async def meter_states_before(items: Sequence[HandedOver]) -> dict[int, BillingMeterState]:
    """Per reading id: its meter's status and last accepted reading of an earlier period."""
    rows = await db.fetch(
        """SELECT i.rid, m.active, m.digits, last.value, last.read_on, last.period
           FROM unnest($1::int[], $2::int[], $3::date[]) AS i(rid, mbid, period)
           JOIN meter m ON m.billing_id = i.mbid
           LEFT JOIN LATERAL (
               SELECT r.value, r.read_on, r.period FROM reading r
               WHERE r.meter = m.id AND r.status = $4 AND r.period < i.period
               ORDER BY r.period DESC, r.read_on DESC LIMIT 1) last ON true""",
        [i.reading_id for i in items], [i.meter_billing_id for i in items],
        [i.period for i in items], ACCEPTED,
    )
    states = {
        r["rid"]: BillingMeterState(r["active"], r["digits"], r["value"], r["read_on"], r["period"])
        for r in rows
    }
    unknown = BillingMeterState(active=False, digits=5)  # a meter billing no longer lists
    return {i.reading_id: states.get(i.reading_id, unknown) for i in items}


async def batch_items(batch_id: int) -> list[BatchItem]:
    """The readings claimed into a batch, with the billing ids billing needs, by reading id."""
    rows = await db.fetch(
        """SELECT r.id AS reading_id, c.billing_id AS contract_billing_id,
                  m.billing_id AS meter_billing_id, m.serial, m.kind, r.period, r.value,
                  r.read_on, r.rollover_confirmed, r.transmitted_at, u.email AS user_email
           FROM reading r
           JOIN meter m ON m.id = r.meter
           JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract
           LEFT JOIN portal_user u ON u.id = coalesce(r.updated_by, r.created_by)
           WHERE r.batch = $1
           ORDER BY r.id""",
        batch_id,
    )
    return [BatchItem(**dict(r)) for r in rows]


async def unfinished_batch_ids() -> list[int]:
    return [r["id"] for r in await db.fetch(
        "SELECT id FROM billing_batch WHERE state <> $1 ORDER BY id", BatchState.applied)]


async def claim_batch(limit: int) -> tuple[int, str, int] | None:
    """Tie up to `limit` unclaimed transmitted readings to a new `prepared` batch:
    (batch id, uid, readings claimed), or None if there were none. Rows locked by another
    claim are skipped, so two workers never claim the same reading."""
    async with db.transaction():
        batch_id = await db.fetchval(
            "SELECT nextval(pg_get_serial_sequence('billing_batch', 'id'))")
        uid = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{batch_id:06d}"
        await db.execute(
            """INSERT INTO billing_batch (id, uid, state, item_count, accepted_count,
                   rejected_count, file_name, created_at, applied_at)
               VALUES ($1, $2, $3, 0, 0, 0, NULL, now(), NULL)""",
            batch_id, uid, BatchState.prepared,
        )
        claimed = await db.fetchval(
            """WITH picked AS (
                   SELECT id FROM reading
                   WHERE status = $3 AND batch IS NULL
                   ORDER BY id LIMIT $2
                   FOR UPDATE SKIP LOCKED)
               , tied AS (
                   UPDATE reading r SET batch = $1 FROM picked
                   WHERE r.id = picked.id AND r.batch IS NULL AND r.status = $3
                   RETURNING r.id)
               SELECT count(*) FROM tied""",
            batch_id, limit, TRANSMITTED,
        )
        if not claimed:
            await db.execute("DELETE FROM billing_batch WHERE id = $1", batch_id)
            return None
        await db.execute("UPDATE billing_batch SET item_count = $2 WHERE id = $1",
                         batch_id, claimed)
    return batch_id, uid, claimed


async def lock_batch(batch_id: int) -> dict | None:
    """The batch row (id, uid, state), locked for this transaction; None if another worker
    holds it."""
    row = await db.fetchrow(
        "SELECT id, uid, state FROM billing_batch WHERE id = $1 FOR UPDATE SKIP LOCKED",
        batch_id,
    )
    return dict(row) if row else None


async def mark_written(batch_id: int, file_name: str) -> None:
    await db.execute(
        "UPDATE billing_batch SET state = $3, file_name = $2 WHERE id = $1",
        batch_id, file_name, BatchState.written,
    )


async def lock_batch_readings(batch_id: int) -> dict[int, dict]:
    """The readings of a batch as they are now (value, date, status), locked, by id."""
    return {
        r["id"]: dict(r) for r in await db.fetch(
            "SELECT id, value, read_on, status FROM reading WHERE batch = $1 FOR UPDATE",
            batch_id)
    }


async def apply_verdicts(ids: list[int], statuses: list[str], reasons: list[str | None],
                         values: list[Decimal], note: str,
                         codes: list[str | None] | None = None,
                         params: list[str | None] | None = None) -> None:
    """Billing's verdict on each transmitted reading: status, reason (text, code and the
    code's parameters as JSON text), processed_at, audit."""
    codes = codes if codes is not None else [None] * len(ids)
    params = params if params is not None else [None] * len(ids)
    await db.execute(
        """UPDATE reading r SET status = a.status, reject_reason = a.reason,
               reject_code = a.code, reject_params = a.params::jsonb, processed_at = now()
           FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[])
                AS a(id, status, reason, code, params)
           WHERE r.id = a.id""",
        ids, statuses, reasons, codes, params,
    )
    await db.execute(
        """INSERT INTO reading_audit (reading, changed_by, changed_at, action, old_value,
               new_value, old_read_on, new_read_on, old_status, new_status, note, channel)
           SELECT a.id, NULL, now(), 'billing_' || a.status, a.value, a.value, NULL, NULL,
                  $6, a.status, $4 || coalesce(': ' || a.reason, ''), 'billing'
           FROM unnest($1::int[], $2::text[], $3::text[], $5::numeric[])
                AS a(id, status, reason, value)""",
        ids, statuses, reasons, note, values, TRANSMITTED,
    )


async def release_readings(ids: list[int], note: str) -> None:
    """Detach readings from their batch (to be handed over again), with an audit note."""
    await db.execute("UPDATE reading SET batch = NULL WHERE id = ANY($1::int[])", ids)
    await db.execute(
        """INSERT INTO reading_audit (reading, changed_by, changed_at, action, old_status,
               new_status, note, channel)
           SELECT r.id, NULL, now(), 'billing_released', r.status, r.status, $2, 'billing'
           FROM reading r WHERE r.id = ANY($1::int[])""",
        ids, note,
    )


async def mark_applied(batch_id: int, accepted: int, rejected: int) -> None:
    await db.execute(
        """UPDATE billing_batch SET state = $4, accepted_count = $2, rejected_count = $3,
               applied_at = now() WHERE id = $1""",
        batch_id, accepted, rejected, BatchState.applied,
    )


async def recent_batches(limit: int = 50, offset: int = 0) -> list[dict]:
    """Billing batches, newest first (operator screen)."""
    rows = await db.fetch(
        """SELECT id, uid, state, item_count, accepted_count, rejected_count, file_name,
                  created_at, applied_at
           FROM billing_batch ORDER BY id DESC LIMIT $1 OFFSET $2""",
        limit, offset,
    )
    return [dict(r) for r in rows]


async def batch_by_uid(uid: str) -> dict | None:
    row = await db.fetchrow(
        """SELECT id, uid, state, item_count, accepted_count, rejected_count, file_name,
                  created_at, applied_at
           FROM billing_batch WHERE uid = $1""",
        uid,
    )
    return dict(row) if row else None
