"""Billing batches and what the built-in billing knows: queries of the hand-off (R7)."""

from __future__ import annotations

from collections.abc import Sequence

from app import db
from app.billing.adapter import BatchItem
from app.domain.billing_checks import HandedOver, MeterState


async def meter_states_before(items: Sequence[HandedOver]) -> dict[int, MeterState]:
    """Per reading id: its meter's status and last accepted reading of an earlier period."""
    rows = await db.fetch(
        """SELECT i.rid, m.active, m.digits, last.value, last.read_on, last.period
           FROM unnest($1::int[], $2::int[], $3::date[]) AS i(rid, mbid, period)
           JOIN meter m ON m.billing_id = i.mbid
           LEFT JOIN LATERAL (
               SELECT r.value, r.read_on, r.period FROM reading r
               WHERE r.meter = m.id AND r.status = 'accepted' AND r.period < i.period
               ORDER BY r.period DESC, r.read_on DESC LIMIT 1) last ON true""",
        [i.reading_id for i in items], [i.meter_billing_id for i in items],
        [i.period for i in items],
    )
    states = {
        r["rid"]: MeterState(r["active"], r["digits"], r["value"], r["read_on"], r["period"])
        for r in rows
    }
    unknown = MeterState(active=False, digits=5)  # a meter billing no longer lists
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
        "SELECT id FROM billing_batch WHERE state <> 'applied' ORDER BY id")]


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
