"""Account-level audit trail (table audit_event): who did what, when."""

from __future__ import annotations

import json
from typing import Any

from app import db


async def record_audit(user_id: int | None, action: str, details: dict[str, Any]) -> None:
    """Append one audit_event row (joins the running transaction, if any)."""
    await db.execute(
        """INSERT INTO audit_event ("user", action, details, created_at)
           VALUES ($1, $2, $3::jsonb, now())""",
        user_id, action, json.dumps(details, ensure_ascii=False, default=str),
    )
