"""Figures for the operator page."""

from __future__ import annotations

from app import db

SUMMARY_SQL = """
SELECT
  (SELECT count(*) FROM counterparty) AS counterparties,
  (SELECT count(*) FROM contract) AS contracts,
  (SELECT count(DISTINCT contract) FROM contract_link) AS linked_contracts,
  (SELECT count(*) FROM meter WHERE active AND kind = 'cold') AS cold_meters,
  (SELECT count(*) FROM meter WHERE active AND kind = 'hot') AS hot_meters,
  (SELECT count(*) FROM portal_user WHERE is_active AND role = 'subscriber') AS subscribers,
  (SELECT count(*) FROM portal_user WHERE is_active AND role = 'operator') AS operators
"""

STATUSES = ("draft", "transmitted", "accepted", "rejected")


async def portal_summary() -> dict:
    """Counts of contracts, meters and users; readings per status and meter kind (zero-filled):
    summary["readings"]["accepted"] == {"cold": n, "hot": m, "total": n + m}."""
    summary: dict = dict(await db.fetchrow(SUMMARY_SQL))
    rows = await db.fetch(
        """SELECT r.status, m.kind, count(*) AS n
           FROM reading r JOIN meter m ON m.id = r.meter GROUP BY r.status, m.kind""")
    readings = {status: {"cold": 0, "hot": 0, "total": 0} for status in STATUSES}
    for r in rows:
        cell = readings.setdefault(r["status"], {"cold": 0, "hot": 0, "total": 0})
        cell[r["kind"]] += r["n"]
        cell["total"] += r["n"]
    summary["readings"] = readings
    return summary
