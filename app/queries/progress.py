"""«Ход передачи показаний»: per contract, how many of its active meters of one kind have a
reading transmitted (or accepted) for a period, and how many were rejected by billing.

One query: the per-meter verdicts, the per-contract counts and state, the counts of every
state over the search (for the summary) and one page of contracts (or all of them, for the
export) — with a summary row even when the page is empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app import db
from app.domain.vocabulary import ReadingStatus

# A contract's state, in the order the screen lists the filters.
STATES = ("all", "some", "none", "rejected")


@dataclass(frozen=True)
class ProgressQuery:
    period: date
    kind: str
    state: str = ""  # one of STATES, or "" for every contract
    search: str = ""  # №, INN or a part of the counterparty's name


def like_pattern(text: str) -> str:
    """`text` as a literal inside ILIKE '%…%': its own % _ and \\ match only themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


PROGRESS_SQL = f"""
WITH per_meter AS (  -- the readings of the period, few next to the meters: one row per meter
  SELECT meter,
         bool_or(status IN ('{ReadingStatus.transmitted}', '{ReadingStatus.accepted}')) AS sent,
         bool_or(status = '{ReadingStatus.rejected}') AS rejected
  FROM reading WHERE period = $1 GROUP BY meter
), per_contract AS (
  SELECT p.contract, count(*) AS meters,
         count(*) FILTER (WHERE r.sent) AS sent,
         count(*) FILTER (WHERE r.rejected AND NOT r.sent) AS rejected
  FROM meter m
  JOIN connection_point p ON p.id = m.point
  LEFT JOIN per_meter r ON r.meter = m.id
  WHERE m.active AND m.kind = $2
  GROUP BY p.contract
), found AS (
  SELECT c.id, c.billing_id, c.number, cp.name, cp.inn, pc.meters, pc.sent, pc.rejected,
         CASE WHEN pc.rejected > 0 THEN 'rejected' WHEN pc.sent = pc.meters THEN 'all'
              WHEN pc.sent = 0 THEN 'none' ELSE 'some' END AS state
  FROM per_contract pc
  JOIN contract c ON c.id = pc.contract
  JOIN counterparty cp ON cp.id = c.counterparty
  WHERE $3 = '' OR c.billing_id::text = $3 OR left(cp.inn, length($3)) = $3
        OR cp.name ILIKE $4 OR c.number ILIKE $4
), summary AS (
  SELECT count(*) FILTER (WHERE state = 'all') AS n_all,
         count(*) FILTER (WHERE state = 'some') AS n_some,
         count(*) FILTER (WHERE state = 'none') AS n_none,
         count(*) FILTER (WHERE state = 'rejected') AS n_rejected,
         count(*) FILTER (WHERE $5 = '' OR state = $5) AS total
  FROM found
), page AS (
  SELECT * FROM found WHERE $5 = '' OR state = $5
  ORDER BY name, billing_id LIMIT $6 OFFSET $7
)
SELECT s.n_all, s.n_some, s.n_none, s.n_rejected, s.total, page.*
FROM summary s LEFT JOIN page ON true
ORDER BY page.name, page.billing_id
"""


async def progress_page(q: ProgressQuery, limit: int | None, offset: int = 0
                        ) -> tuple[dict[str, int], int, list[dict]]:
    """(contracts per state, contracts matching the filter, one page of them); limit None:
    every contract of the filter (the export)."""
    search = q.search.strip()
    rows = await db.fetch(PROGRESS_SQL, q.period, q.kind, search, like_pattern(search),
                          q.state, limit, offset)
    first = rows[0]
    counts = {state: first[f"n_{state}"] for state in STATES}
    page = [dict(r) for r in rows if r["id"] is not None]
    return counts, first["total"], page
