"""Calendar overrides maintained by operators."""

from __future__ import annotations

from datetime import date

from asyncpg import Record

from app import db
from app.queries.audit import record_audit


async def load_overrides() -> dict[date, bool]:
    rows = await db.fetch("SELECT day, is_working FROM calendar_override")
    return {r["day"]: r["is_working"] for r in rows}


async def list_overrides() -> list[Record]:
    """All overrides, by day."""
    return await db.fetch(
        "SELECT id, day, is_working, note FROM calendar_override ORDER BY day")


async def add_override(user_id: int, day: date, is_working: bool, note: str) -> int | None:
    """Insert the override; None when that day already has one."""
    async with db.transaction():
        new_id = await db.fetchval(
            """INSERT INTO calendar_override (day, is_working, note) VALUES ($1, $2, $3)
               ON CONFLICT (day) DO NOTHING RETURNING id""",
            day, is_working, note,
        )
        if new_id is not None:
            await record_audit(user_id, "calendar_override_added",
                               {"day": day.isoformat(), "is_working": is_working, "note": note})
    return new_id


async def delete_override(user_id: int, override_id: int) -> Record | None:
    """Delete one override; the deleted row, or None when there was none."""
    async with db.transaction():
        row = await db.fetchrow(
            "DELETE FROM calendar_override WHERE id = $1 RETURNING day, is_working, note",
            override_id,
        )
        if row is not None:
            await record_audit(user_id, "calendar_override_deleted",
                               {"day": row["day"].isoformat(), "is_working": row["is_working"],
                                "note": row["note"]})
    return row
