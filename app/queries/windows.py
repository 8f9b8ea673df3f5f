"""Stored submission windows (R1) per contract, kind and period.

The daily job stores the current and next period of every contract; a page that finds a
window missing (job not run yet) computes and stores it. After an operator changes a
calendar override, `recompute_windows()` refreshes every stored window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from app import db
from app.domain.calendar import WorkingCalendar, add_months, month_start, submission_window
from app.domain.grid import DEADLINE_FIELDS
from app.domain.vocabulary import MeterKind
from app.queries.calendar import load_overrides

Window = tuple[date, date]

UPSERT_SQL = """
INSERT INTO submission_window (contract, kind, period, deadline_day, opens, closes, computed_at)
SELECT * , now() FROM unnest($1::int[], $2::text[], $3::date[], $4::int[], $5::date[], $6::date[])
ON CONFLICT (contract, kind, period) DO UPDATE
    SET deadline_day = EXCLUDED.deadline_day, opens = EXCLUDED.opens, closes = EXCLUDED.closes,
        computed_at = now()
    WHERE (submission_window.deadline_day, submission_window.opens, submission_window.closes)
          IS DISTINCT FROM (EXCLUDED.deadline_day, EXCLUDED.opens, EXCLUDED.closes)
RETURNING (xmax = 0) AS inserted
"""


async def _store(
    items: Iterable[tuple[int, str, date, int]], calendar: WorkingCalendar
) -> dict[str, int]:
    """Compute and upsert windows for (contract, kind, period, deadline day) items."""
    cols: list[list] = [[], [], [], [], [], []]
    for contract, kind, period, deadline_day in items:
        opens, closes = submission_window(period, deadline_day, calendar)
        for col, value in zip(cols, (contract, kind, period, deadline_day, opens, closes),
                              strict=True):
            col.append(value)
    result = await db.fetch(UPSERT_SQL, *cols) if cols[0] else []
    inserted = sum(1 for r in result if r["inserted"])
    return {"windows": len(cols[0]), "inserted": inserted, "updated": len(result) - inserted,
            "unchanged": len(cols[0]) - len(result)}


async def compute_windows(today: date) -> dict[str, int]:
    """Store the windows of the current and next period of every contract, both kinds."""
    contracts = await db.fetch("SELECT id, deadline_day, discharge_deadline_day FROM contract")
    periods = (month_start(today), add_months(month_start(today), 1))
    items = [
        (c["id"], kind, period, c[field])
        for c in contracts for kind, field in DEADLINE_FIELDS.items() for period in periods
    ]
    counts = await _store(items, WorkingCalendar(await load_overrides()))
    return {"contracts": len(contracts), **counts}


async def recompute_windows(today: date) -> dict[str, int]:
    """After a calendar override changed: refresh every stored window, then current/next."""
    rows = await db.fetch(
        f"""SELECT w.contract, w.kind, w.period,
                   CASE w.kind WHEN '{MeterKind.cold}' THEN c.{DEADLINE_FIELDS[MeterKind.cold]}
                               ELSE c.{DEADLINE_FIELDS[MeterKind.hot]} END AS day
            FROM submission_window w JOIN contract c ON c.id = w.contract"""
    )
    stored = await _store(
        [(r["contract"], r["kind"], r["period"], r["day"]) for r in rows],
        WorkingCalendar(await load_overrides()),
    )
    current = await compute_windows(today)
    return {"recomputed": stored["windows"], "changed": stored["updated"] + current["updated"],
            "inserted": current["inserted"]}


async def windows_for(
    contract_id: int, kind: str, deadline_day: int, periods: Sequence[date]
) -> dict[date, Window]:
    """The stored windows of these periods; missing or stale ones are computed and stored."""
    rows = await db.fetch(
        """SELECT period, deadline_day, opens, closes FROM submission_window
           WHERE contract = $1 AND kind = $2 AND period = ANY($3::date[])""",
        contract_id, kind, list(periods),
    )
    windows = {r["period"]: (r["opens"], r["closes"]) for r in rows
               if r["deadline_day"] == deadline_day}
    missing = [p for p in periods if p not in windows]
    if missing:
        calendar = WorkingCalendar(await load_overrides())
        await _store([(contract_id, kind, p, deadline_day) for p in missing], calendar)
        windows.update({p: submission_window(p, deadline_day, calendar) for p in missing})
    return windows


async def windows_of_contracts(
    items: Sequence[tuple[int, str, int]], periods: Sequence[date]
) -> dict[tuple[int, str], dict[date, Window]]:
    """`windows_for` for many (contract id, kind, deadline day) at once, in one read: the
    stored windows of these periods, missing or stale ones computed and stored in one upsert."""
    if not items:
        return {}
    rows = await db.fetch(
        """SELECT contract, kind, period, deadline_day, opens, closes FROM submission_window
           WHERE contract = ANY($1::int[]) AND period = ANY($2::date[])""",
        sorted({contract for contract, _, _ in items}), list(periods),
    )
    days = {(contract, str(kind)): day for contract, kind, day in items}
    found: dict[tuple[int, str], dict[date, Window]] = {key: {} for key in days}
    for r in rows:
        key = (r["contract"], r["kind"])
        if days.get(key) == r["deadline_day"]:
            found[key][r["period"]] = (r["opens"], r["closes"])
    missing = [(contract, kind, p, day) for (contract, kind), day in days.items()
               for p in periods if p not in found[(contract, kind)]]
    if missing:
        calendar = WorkingCalendar(await load_overrides())
        await _store(missing, calendar)
        for contract, kind, p, day in missing:
            found[(contract, kind)][p] = submission_window(p, day, calendar)
    return found
