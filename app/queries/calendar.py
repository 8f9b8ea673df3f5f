"""Calendar overrides maintained by operators."""

from __future__ import annotations

from datetime import date

from app import db


async def load_overrides() -> dict[date, bool]:
    rows = await db.fetch("SELECT day, is_working FROM calendar_override")
    return {r["day"]: r["is_working"] for r in rows}
