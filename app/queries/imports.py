"""«Загрузка данных биллинга»: the billing_import rows (who, when, state, progress, counts,
errors) and the uploaded files the worker reads.

One import at a time: the partial unique index billing_import_one_active refuses a second
queued/running row, so two operators uploading at once cannot both start one.
"""

from __future__ import annotations

import json

import asyncpg

from app import db
from app.domain.vocabulary import ImportState
from app.queries.audit import record_audit

MAX_STORED_ERRORS = 1000
# A queued or running import that has not moved for this long lost its worker (killed,
# Redis flushed): the next upload marks it failed instead of waiting for it forever.
STALE_AFTER = "15 minutes"

COLUMNS = """i.id, i.created_at, i.started_at, i.finished_at, i.updated_at, i.state, i.files,
             i.progress, i.step, i.inserted, i.updated, i.unchanged, i.counts, i.error_count,
             i.errors, u.email AS created_by_email, u.full_name AS created_by_name"""


def _row(record: asyncpg.Record | None) -> dict | None:
    if record is None:
        return None
    row = dict(record)
    for key in ("files", "counts", "errors"):
        if isinstance(row[key], str):
            row[key] = json.loads(row[key])
    row["active"] = row["state"] in (ImportState.queued, ImportState.running)
    return row


async def start_import(user_id: int, files: dict[str, bytes]) -> int | None:
    """Store the upload and its files as a queued import; its id, or None when another import
    is queued or running (then nothing is stored)."""
    meta = [{"name": name, "size": len(data)} for name, data in files.items()]
    try:
        async with db.transaction():
            await db.execute(
                f"""UPDATE billing_import SET state = $1, step = 'interrupted',
                        finished_at = now()
                    WHERE state IN ($2, $3) AND updated_at < now() - interval '{STALE_AFTER}'""",
                ImportState.failed, ImportState.queued, ImportState.running)
            import_id = await db.fetchval(
                """INSERT INTO billing_import (created_by, created_at, updated_at, state, files,
                       progress, step, inserted, updated, unchanged, counts, error_count, errors)
                   VALUES ($1, now(), now(), $2, $3::jsonb, 0, '', 0, 0, 0, '{}', 0, '[]')
                   RETURNING id""",
                user_id, ImportState.queued, json.dumps(meta))
            await db.execute(
                """INSERT INTO billing_import_file (billing_import, name, content)
                   SELECT $1, n, c FROM unnest($2::text[], $3::bytea[]) AS f(n, c)""",
                import_id, list(files), list(files.values()))
            await record_audit(user_id, "billing_import_started",
                               {"import": import_id, "files": meta})
    except asyncpg.UniqueViolationError:
        return None
    return import_id


async def import_by_id(import_id: int) -> dict | None:
    return _row(await db.fetchrow(
        f"""SELECT {COLUMNS} FROM billing_import i LEFT JOIN portal_user u ON u.id = i.created_by
            WHERE i.id = $1""", import_id))


async def recent_imports(limit: int = 20) -> list[dict]:
    """The history, newest first."""
    rows = await db.fetch(
        f"""SELECT {COLUMNS} FROM billing_import i LEFT JOIN portal_user u ON u.id = i.created_by
            ORDER BY i.created_at DESC, i.id DESC LIMIT $1""", limit)
    return [_row(r) for r in rows]


async def claim_import(import_id: int) -> dict[str, bytes] | None:
    """Mark the import running and return its files; None when it is finished already (a
    rerun of a crashed job picks a running import up again: its transaction rolled back)."""
    claimed = await db.fetchval(
        """UPDATE billing_import SET state = $2, started_at = coalesce(started_at, now()),
               updated_at = now(), step = 'start'
           WHERE id = $1 AND state IN ($3, $2) RETURNING id""",
        import_id, ImportState.running, ImportState.queued)
    if claimed is None:
        return None
    rows = await db.fetch(
        "SELECT name, content FROM billing_import_file WHERE billing_import = $1 ORDER BY id",
        import_id)
    return {r["name"]: bytes(r["content"]) for r in rows}


async def set_progress(import_id: int, percent: int, step: str) -> None:
    """Store the progress on a connection of its own: the import's transaction is still open
    and the page must see the bar move."""
    await db.execute_outside(
        "UPDATE billing_import SET progress = $2, step = $3, updated_at = now() WHERE id = $1",
        import_id, max(0, min(100, percent)), step[:40])


async def finish_import(import_id: int, *, counts: dict[str, dict[str, int]] | None = None,
                        errors: list[str] | None = None, step: str = "") -> None:
    """Done (with per-file counts) or failed (with the errors, or a step naming why);
    the files are deleted either way; audited for the operator who uploaded."""
    failed = counts is None
    totals = {k: sum(c[k] for c in (counts or {}).values())
              for k in ("inserted", "updated", "unchanged")}
    errors = errors or []
    async with db.transaction():
        user_id = await db.fetchval(
            """UPDATE billing_import SET state = $2, finished_at = now(), updated_at = now(),
                   progress = CASE WHEN $3 THEN progress ELSE 100 END, step = $4,
                   inserted = $5, updated = $6, unchanged = $7, counts = $8::jsonb,
                   error_count = $9, errors = $10::jsonb
               WHERE id = $1 RETURNING created_by""",
            import_id, ImportState.failed if failed else ImportState.done, failed, step,
            totals["inserted"], totals["updated"], totals["unchanged"],
            json.dumps(counts or {}), len(errors), json.dumps(errors[:MAX_STORED_ERRORS],
                                                              ensure_ascii=False))
        await db.execute("DELETE FROM billing_import_file WHERE billing_import = $1", import_id)
        await record_audit(user_id, "billing_import_failed" if failed else "billing_import_done",
                           {"import": import_id, "errors": len(errors), **totals})
