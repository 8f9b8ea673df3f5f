"""The home page (SPEC §11): what each of the user's contracts still needs, in a fixed number
of queries whatever the number of contracts — one per block, every contract at once.

1. the contracts with their active meters per kind;
2. their stored windows (app/queries/windows.py: one read, one upsert only if missing);
3. meters transmitted / total for each row's period;
4. readings billing rejected and nobody has transmitted again yet;
5. meters whose verification is due (or overdue) and meters without readings for months.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from app import db
from app.domain.billing_checks import RejectReason
from app.domain.calendar import add_months, candidate_periods, month_start
from app.domain.dashboard import (
    WindowWords,
    dashboard_period,
    last_closed_period,
    long_without_readings,
    missing_periods,
    verification_attention,
    window_words,
)
from app.domain.grid import DEADLINE_FIELDS
from app.domain.notifications import TRANSMITTED_STATUSES, VERIFICATION_NOTICE_DAYS
from app.domain.vocabulary import MeterKind, ReadingStatus
from app.queries.windows import windows_of_contracts

KINDS = (MeterKind.cold, MeterKind.hot)
COUNTED = [str(s) for s in TRANSMITTED_STATUSES]

CONTRACTS_SQL = f"""
SELECT c.id, c.billing_id, c.deadline_day, c.discharge_deadline_day,
       cp.name AS counterparty_name,
       count(m.id) FILTER (WHERE m.kind = '{MeterKind.cold}') AS cold_meters,
       count(m.id) FILTER (WHERE m.kind = '{MeterKind.hot}') AS hot_meters
FROM contract_link l
JOIN contract c ON c.id = l.contract
JOIN counterparty cp ON cp.id = c.counterparty
LEFT JOIN connection_point p ON p.contract = c.id
LEFT JOIN meter m ON m.point = p.id AND m.active
WHERE l."user" = $1
GROUP BY c.id, cp.name
ORDER BY c.billing_id
"""

# Per (contract, kind, period): active meters, and those with a transmitted or accepted
# reading of the period (a draft or a rejected one is nothing yet, as for the last-day mail).
PROGRESS_SQL = """
SELECT w.contract, w.kind, count(*) AS total,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM reading r
           WHERE r.meter = m.id AND r.period = w.period AND r.status = ANY($4::text[])
       )) AS transmitted
FROM unnest($1::int[], $2::text[], $3::date[]) AS w(contract, kind, period)
JOIN connection_point p ON p.contract = w.contract
JOIN meter m ON m.point = p.id AND m.kind = w.kind AND m.active
GROUP BY w.contract, w.kind
"""

METER_COLUMNS = """
    m.id AS meter_id, m.serial, m.address, m.kind, p.id AS point_id,
    c.id AS contract_id, c.billing_id AS contract_billing_id
"""

# Rejected readings of the periods a grid can show, whose meter has nothing transmitted or
# accepted for that period since (a corrected value transmitted again settles it).
REJECTED_SQL = f"""
SELECT {METER_COLUMNS}, r.period, r.value, r.reject_reason, r.reject_code,
       r.reject_params::text AS reject_params
FROM contract_link l
JOIN contract c ON c.id = l.contract
JOIN connection_point p ON p.contract = c.id
JOIN meter m ON m.point = p.id AND m.active
JOIN reading r ON r.meter = m.id
WHERE l."user" = $1 AND r.period = ANY($2::date[]) AND r.status = '{ReadingStatus.rejected}'
  AND NOT EXISTS (SELECT 1 FROM reading o
                  WHERE o.meter = r.meter AND o.period = r.period
                    AND o.status = ANY($3::text[]))
ORDER BY c.billing_id, r.period DESC, p.address, m.billing_id
"""

# Meters whose verification is due by $2 (or overdue), or whose latest transmitted/accepted
# reading is of period $3 or older: the candidates; the domain rules decide.
ATTENTION_SQL = f"""
SELECT {METER_COLUMNS}, m.verification_due, last.period AS last_period
FROM contract_link l
JOIN contract c ON c.id = l.contract
JOIN connection_point p ON p.contract = c.id
JOIN meter m ON m.point = p.id AND m.active
LEFT JOIN LATERAL (
    SELECT r.period FROM reading r
    WHERE r.meter = m.id AND r.status = ANY($4::text[])
    ORDER BY r.period DESC LIMIT 1
) last ON true
WHERE l."user" = $1 AND (m.verification_due <= $2 OR last.period <= $3)
ORDER BY c.billing_id, p.address, m.billing_id
"""


@dataclass(frozen=True)
class DashboardContract:
    id: int
    billing_id: int
    deadline_day: int
    discharge_deadline_day: int
    counterparty_name: str
    cold_meters: int
    hot_meters: int

    def meters(self, kind: str) -> int:
        return self.cold_meters if kind == MeterKind.cold else self.hot_meters


@dataclass
class KindRow:
    """One contract and kind: its period's window and what is left to do."""

    contract: DashboardContract
    kind: str
    words: WindowWords
    total: int = 0
    transmitted: int = 0
    rejected: int = 0
    verification: int = 0
    missing: int = 0

    @property
    def period(self) -> date:
        return self.words.period


@dataclass(frozen=True)
class MeterNote:
    """A meter listed on home, with why (rejected value, verification, missing readings)."""

    meter_id: int
    serial: str
    address: str
    kind: str
    point_id: int
    contract_id: int
    contract_billing_id: int
    period: date | None = None  # rejected: its period; missing: the last one read
    value: object = None
    reject_reason: RejectReason | None = None
    verification_due: date | None = None
    attention: str | None = None  # verification: "overdue" / "soon"
    missing: int | None = None  # periods without a reading


@dataclass
class Dashboard:
    contracts: list[DashboardContract]
    rows: list[KindRow]
    rejected: list[MeterNote] = field(default_factory=list)
    verification: list[MeterNote] = field(default_factory=list)
    missing: list[MeterNote] = field(default_factory=list)


def _note(r, **extra) -> MeterNote:
    return MeterNote(r["meter_id"], r["serial"], r["address"], r["kind"], r["point_id"],
                     r["contract_id"], r["contract_billing_id"], **extra)


async def load_dashboard(user_id: int, today: date) -> Dashboard:
    """Home for this user on `today`: five queries (the windows' upsert only when some are
    missing), however many contracts are linked."""
    contracts = [DashboardContract(**dict(r)) for r in await db.fetch(CONTRACTS_SQL, user_id)]
    current = month_start(today)
    items = [(c.id, kind, getattr(c, DEADLINE_FIELDS[kind]))
             for c in contracts for kind in KINDS if c.meters(kind)]
    periods = [add_months(current, -1), current, add_months(current, 1)]
    windows = await windows_of_contracts(items, periods)
    by_id = {c.id: c for c in contracts}
    rows: dict[tuple[int, str], KindRow] = {}
    last_due: dict[tuple[int, str], date] = {}
    for contract_id, kind, _ in items:
        stored = windows[(contract_id, str(kind))]
        words = window_words(today, stored, dashboard_period(today, stored))
        rows[(contract_id, str(kind))] = KindRow(by_id[contract_id], str(kind), words)
        last_due[(contract_id, str(kind))] = last_closed_period(today, stored)
    if not rows:
        return Dashboard(contracts, [])
    keys = list(rows)
    for r in await db.fetch(PROGRESS_SQL, [k[0] for k in keys], [k[1] for k in keys],
                            [rows[k].period for k in keys], COUNTED):
        row = rows[(r["contract"], r["kind"])]
        row.total, row.transmitted = r["total"], r["transmitted"]
    board = Dashboard(contracts, list(rows.values()))
    for r in await db.fetch(REJECTED_SQL, user_id, candidate_periods(today), COUNTED):
        board.rejected.append(_note(r, period=r["period"], value=r["value"],
                                    reject_reason=RejectReason.from_row(r)))
        if (row := rows.get((r["contract_id"], r["kind"]))) is not None:
            row.rejected += 1
    for r in await db.fetch(ATTENTION_SQL, user_id,
                            today + timedelta(days=VERIFICATION_NOTICE_DAYS),
                            add_months(current, -3), COUNTED):
        key = (r["contract_id"], r["kind"])
        row = rows.get(key)
        if (attention := verification_attention(today, r["verification_due"])) is not None:
            board.verification.append(_note(r, verification_due=r["verification_due"],
                                            attention=attention))
            if row is not None:
                row.verification += 1
        missing = missing_periods(r["last_period"], last_due.get(key, current))
        if long_without_readings(missing):
            board.missing.append(_note(r, period=r["last_period"], missing=missing))
            if row is not None:
                row.missing += 1
    return board
