"""One meter as its organization's users see it (R8), and its readings for the history page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app import db
from app.domain.billing_checks import RejectReason
from app.domain.history import PeriodReading
from app.domain.notifications import TRANSMITTED_STATUSES
from app.domain.readings import MAX_HISTORY
from app.domain.vocabulary import ReadingStatus

METER_SQL = """
SELECT m.id, m.billing_id, m.serial, m.model, m.address, m.kind, m.digits,
       m.verification_due, m.active, p.id AS point_id, c.id AS contract_id,
       c.billing_id AS contract_billing_id, cp.name AS counterparty_name
FROM meter m
JOIN connection_point p ON p.id = m.point
JOIN contract c ON c.id = p.contract
JOIN counterparty cp ON cp.id = c.counterparty
WHERE m.id = $1
  AND EXISTS (SELECT 1 FROM contract_link l WHERE l.contract = c.id AND l."user" = $2)
"""

# Three parts in one round trip:
#   shown    — per period of the range, the reading it shows: the live one, else the latest
#              rejected;
#   before   — the latest transmitted/accepted reading before the range (the first month's
#              consumption is measured from it);
#   accepted — the latest MAX_HISTORY + 1 accepted readings, as the grid's anomaly check
#              reads them (app/queries/readings.py GRID_SQL).
READINGS_SQL = f"""
(SELECT DISTINCT ON (r.period) 'shown' AS part, r.period, r.value, r.read_on, r.status,
        r.reject_reason, r.reject_code, r.reject_params::text AS reject_params
 FROM reading r WHERE r.meter = $1 AND r.period BETWEEN $2 AND $3
 ORDER BY r.period, (r.status <> '{ReadingStatus.rejected}') DESC, r.updated_at DESC,
          r.id DESC)
UNION ALL
(SELECT 'before', r.period, r.value, r.read_on, r.status, r.reject_reason, r.reject_code,
        r.reject_params::text
 FROM reading r WHERE r.meter = $1 AND r.period < $2 AND r.status = ANY($4::text[])
 ORDER BY r.period DESC LIMIT 1)
UNION ALL
(SELECT 'accepted', r.period, r.value, r.read_on, r.status, r.reject_reason, r.reject_code,
        r.reject_params::text
 FROM reading r WHERE r.meter = $1 AND r.status = '{ReadingStatus.accepted}'
 ORDER BY r.period DESC LIMIT {MAX_HISTORY + 1})
"""


@dataclass(frozen=True)
class MeterView:
    id: int
    billing_id: int
    serial: str
    model: str
    address: str
    kind: str
    digits: int
    verification_due: date | None
    active: bool
    point_id: int
    contract_id: int
    contract_billing_id: int
    counterparty_name: str


@dataclass(frozen=True)
class MeterReadings:
    shown: list[PeriodReading]  # the range's periods that have a reading, plus the one before
    accepted: list[PeriodReading]  # newest first, for the anomaly baseline


async def meter_for_user(user_id: int, meter_id: int) -> MeterView | None:
    """The meter if it is on a contract linked to the user, else None (another's or none)."""
    row = await db.fetchrow(METER_SQL, meter_id, user_id)
    return MeterView(**dict(row)) if row else None


async def meter_readings(meter_id: int, first: date, last: date) -> MeterReadings:
    """The readings the history of periods first..last is drawn from (one query)."""
    rows = await db.fetch(READINGS_SQL, meter_id, first, last,
                          [str(s) for s in TRANSMITTED_STATUSES])
    shown, accepted = [], []
    for r in rows:
        reading = PeriodReading(r["period"], r["value"], r["read_on"], r["status"],
                                RejectReason.from_row(r))
        (accepted if r["part"] == "accepted" else shown).append(reading)
    return MeterReadings(shown, accepted)
