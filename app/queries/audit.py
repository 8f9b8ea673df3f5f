"""Account-level audit trail (table audit_event): who did what, when."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from app import db
from app.domain.billing_checks import RejectReason
from app.queries.progress import like_pattern


async def record_audit(user_id: int | None, action: str, details: dict[str, Any]) -> None:
    """Append one audit_event row (joins the running transaction, if any)."""
    await db.execute(
        """INSERT INTO audit_event ("user", action, details, created_at)
           VALUES ($1, $2, $3::jsonb, now())""",
        user_id, action, json.dumps(details, ensure_ascii=False, default=str),
    )


# ---------------------------------------------------------------- «Журнал» (SPEC §10)

# Account events and reading changes as one list, newest first. An account event concerns a
# user (who did it, or whom it was about: details->>'user') and sometimes a contract
# (details->>'contract'); a reading change its reading's meter and contract.
JOURNAL_SQL = """
WITH f AS (
  SELECT nullif($1, '') AS who, $2::int AS contract_bid, nullif($3, '') AS meter,
         $4::date AS date_from, $5::date AS date_to
), rows AS (
  SELECT 'event' AS kind, e.id, e.created_at AS at, actor.email AS who, e.action,
         c.billing_id AS contract, NULL::int AS meter_code, NULL::text AS serial,
         NULL::int AS reading, NULL::date AS period, NULL::numeric AS old_value,
         NULL::numeric AS new_value, NULL::text AS old_status, NULL::text AS new_status,
         NULL::text AS channel, e.details::text AS note, target.email AS target
  FROM audit_event e CROSS JOIN f
  LEFT JOIN portal_user actor ON actor.id = e."user"
  LEFT JOIN portal_user target
         ON target.id = CASE WHEN e.details->>'user' ~ '^[0-9]{1,9}$'
                             THEN (e.details->>'user')::int END
  LEFT JOIN contract c
         ON c.id = CASE WHEN e.details->>'contract' ~ '^[0-9]{1,9}$'
                        THEN (e.details->>'contract')::int END
  WHERE f.meter IS NULL
    AND (f.who IS NULL OR actor.email ILIKE f.who OR target.email ILIKE f.who)
    AND (f.contract_bid IS NULL OR c.billing_id = f.contract_bid)
    AND (f.date_from IS NULL OR e.created_at >= f.date_from)
    AND (f.date_to IS NULL OR e.created_at < f.date_to + 1)
  UNION ALL
  SELECT 'reading', a.id, a.changed_at, u.email, a.action, c.billing_id, m.billing_id,
         m.serial, a.reading, r.period, a.old_value, a.new_value, a.old_status, a.new_status,
         a.channel, a.note, NULL
  FROM reading_audit a CROSS JOIN f
  JOIN reading r ON r.id = a.reading
  JOIN meter m ON m.id = r.meter
  JOIN connection_point p ON p.id = m.point
  JOIN contract c ON c.id = p.contract
  LEFT JOIN portal_user u ON u.id = a.changed_by
  WHERE (f.who IS NULL OR u.email ILIKE f.who)
    AND (f.contract_bid IS NULL OR c.billing_id = f.contract_bid)
    AND (f.meter IS NULL OR m.billing_id::text = f.meter OR m.serial = f.meter)
    AND (f.date_from IS NULL OR a.changed_at >= f.date_from)
    AND (f.date_to IS NULL OR a.changed_at < f.date_to + 1)
)
SELECT *, count(*) OVER () AS total FROM rows
ORDER BY at DESC, id DESC
LIMIT $6 OFFSET $7
"""


async def journal_page(who: str, contract_billing_id: int | None, meter: str,
                       date_from: date | None, date_to: date | None, limit: int,
                       offset: int = 0) -> tuple[int, list[dict]]:
    """(entries found, one page of them, newest first). `who` is an e-mail or a part of it
    (the actor, or the user an account event was about); `meter` a meter's code or serial."""
    rows = await db.fetch(JOURNAL_SQL, like_pattern(who) if who else "", contract_billing_id,
                          meter, date_from, date_to, limit, offset)
    return (rows[0]["total"] if rows else 0), [dict(r) for r in rows]


READING_HISTORY_SQL = """
SELECT a.id, a.changed_at, a.action, a.old_value, a.new_value, a.old_read_on, a.new_read_on,
       a.old_status, a.new_status, a.channel, a.note, u.email AS who
FROM reading_audit a LEFT JOIN portal_user u ON u.id = a.changed_by
WHERE a.reading = $1 ORDER BY a.changed_at, a.id
"""

READING_SQL = """
SELECT r.id, r.period, r.value, r.read_on, r.status, r.source, r.reject_reason, r.reject_code,
       r.reject_params::text AS reject_params, m.billing_id AS meter_code, m.serial, m.kind,
       m.address, c.billing_id AS contract, cp.name
FROM reading r JOIN meter m ON m.id = r.meter JOIN connection_point p ON p.id = m.point
JOIN contract c ON c.id = p.contract JOIN counterparty cp ON cp.id = c.counterparty
WHERE r.id = $1
"""


async def reading_history(reading_id: int) -> tuple[dict | None, list[dict]]:
    """The reading (meter, contract, its value now) and every change of it, oldest first."""
    reading = await db.fetchrow(READING_SQL, reading_id)
    if reading is None:
        return None, []
    found = dict(reading)
    found["reject_reason"] = RejectReason.from_row(found)
    return found, [dict(r) for r in await db.fetch(READING_HISTORY_SQL, reading_id)]
