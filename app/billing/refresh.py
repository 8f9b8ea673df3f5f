"""The archive refresh (R7): hand transmitted readings to billing, record its answer on each.

Exactly-once in effect, in three steps per batch, each resumable from `billing_batch.state`:

1. claim (one transaction): transmitted readings with no batch are locked with
   FOR UPDATE SKIP LOCKED and tied to a new batch in state `prepared`. Two workers never
   claim the same row; a crash rolls the claim back.
2. hand over (batch row locked): the adapter writes the batch file once (an existing file for
   the batch is kept), then the state becomes `written`. A crash before that commit leaves
   `prepared` + the file; the rerun keeps the file and moves on.
3. apply (one transaction, batch row locked): billing's answer sets status, reject_reason,
   processed_at and an audit row on each reading; the batch becomes `applied`. A crash rolls
   all of it back; the rerun applies it once.

A run first resumes unfinished batches, then claims new ones until none is left.

Corrections (R4): a reading tied to a batch is frozen in the grid until billing's answer is
applied (`reading_is_editable`: the grid's write requires batch IS NULL). Should one change
anyway (or be detached from its batch), billing's answer about the old value is not applied to
it: it is released (batch = NULL, audit note) and handed over with its new value in the next
batch, where a later line for the same reading id supersedes the earlier one.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from app import db
from app.billing.adapter import BillingAdapter, BillingUnavailable, default_adapter
from app.queries.billing import batch_items, unfinished_batch_ids

log = logging.getLogger("app.billing")

BATCH_LIMIT = 10_000

# Test hook: called with the name of each step boundary; raising (or exiting the process)
# there simulates a crash at that point.
#   "claimed"          after the claim committed
#   "handed_over"      file written, state `written` not yet committed
#   "written"          after `written` committed
#   "answers_applied"  statuses updated, transaction not yet committed
#   "applied"          after `applied` committed
CrashHook = Callable[[str], Awaitable[None] | None]


async def _checkpoint(hook: CrashHook | None, name: str) -> None:
    if hook is not None:
        result = hook(name)
        if inspect.isawaitable(result):
            await result


def _counts() -> dict[str, int]:
    return {"batches": 0, "resumed": 0, "handed_over": 0, "accepted": 0, "rejected": 0,
            "released": 0}


async def refresh_archive(
    adapter: BillingAdapter | None = None,
    *,
    crash_hook: CrashHook | None = None,
    batch_limit: int = BATCH_LIMIT,
) -> dict[str, int]:
    """Resume unfinished batches, then hand over everything transmitted; returns counts."""
    adapter = adapter or default_adapter()
    counts = _counts()
    for batch_id in await unfinished_batch_ids():
        if await _advance(batch_id, adapter, counts, crash_hook):
            counts["resumed"] += 1
    while (batch_id := await claim_batch(batch_limit)) is not None:
        counts["batches"] += 1
        await _checkpoint(crash_hook, "claimed")
        await _advance(batch_id, adapter, counts, crash_hook)
    log.info("archive refresh: %s", counts)
    return counts


async def claim_batch(limit: int = BATCH_LIMIT) -> int | None:
    """Tie up to `limit` unclaimed transmitted readings to a new `prepared` batch."""
    async with db.transaction():
        batch_id = await db.fetchval(
            "SELECT nextval(pg_get_serial_sequence('billing_batch', 'id'))")
        uid = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{batch_id:06d}"
        await db.execute(
            """INSERT INTO billing_batch (id, uid, state, item_count, accepted_count,
                   rejected_count, file_name, created_at, applied_at)
               VALUES ($1, $2, 'prepared', 0, 0, 0, NULL, now(), NULL)""",
            batch_id, uid,
        )
        claimed = await db.fetchval(
            """WITH picked AS (
                   SELECT id FROM reading
                   WHERE status = 'transmitted' AND batch IS NULL
                   ORDER BY id LIMIT $2
                   FOR UPDATE SKIP LOCKED)
               , tied AS (
                   UPDATE reading r SET batch = $1 FROM picked
                   WHERE r.id = picked.id AND r.batch IS NULL AND r.status = 'transmitted'
                   RETURNING r.id)
               SELECT count(*) FROM tied""",
            batch_id, limit,
        )
        if not claimed:
            await db.execute("DELETE FROM billing_batch WHERE id = $1", batch_id)
            return None
        await db.execute("UPDATE billing_batch SET item_count = $2 WHERE id = $1",
                         batch_id, claimed)
    log.info("batch %s claimed %d reading(s)", uid, claimed)
    return batch_id


async def _lock_batch(batch_id: int):
    """The batch row, locked for this transaction; None if another worker holds it."""
    return await db.fetchrow(
        "SELECT id, uid, state FROM billing_batch WHERE id = $1 FOR UPDATE SKIP LOCKED",
        batch_id,
    )


async def _advance(batch_id: int, adapter: BillingAdapter, counts: dict[str, int],
                   hook: CrashHook | None) -> bool:
    """Move one batch through hand-over and apply as far as it goes; True if it moved."""
    moved = False
    try:
        async with db.transaction():
            batch = await _lock_batch(batch_id)
            if batch is not None and batch["state"] == "prepared":
                items = await batch_items(batch_id)
                name = await adapter.hand_over(batch["uid"], items)
                await _checkpoint(hook, "handed_over")
                await db.execute(
                    "UPDATE billing_batch SET state = 'written', file_name = $2 WHERE id = $1",
                    batch_id, name,
                )
                counts["handed_over"] += len(items)
                moved = True
        if moved:
            await _checkpoint(hook, "written")
        async with db.transaction():
            batch = await _lock_batch(batch_id)
            if batch is None or batch["state"] != "written":
                return moved
            answers = await adapter.fetch_answers(batch["uid"])
            if answers is None:
                log.info("batch %s: billing has not answered yet", batch["uid"])
                return moved
            await _apply_answers(batch_id, batch["uid"], answers, counts)
            await _checkpoint(hook, "answers_applied")
        await _checkpoint(hook, "applied")
        return True
    except BillingUnavailable as exc:
        log.error("batch %s left for the next run: %s", batch_id, exc)
        return moved


async def _apply_answers(batch_id: int, uid: str, answers, counts: dict[str, int]) -> None:
    current = {
        r["id"]: r for r in await db.fetch(
            "SELECT id, value, read_on, status FROM reading WHERE batch = $1 FOR UPDATE",
            batch_id)
    }
    ids, statuses, reasons, values = [], [], [], []
    for answer in answers:
        row = current.pop(answer.reading_id, None)
        if row is None:
            continue  # not (or no longer) in this batch
        if (row["status"], row["value"], row["read_on"]) != (
                "transmitted", answer.value, answer.read_on):
            current[answer.reading_id] = row  # changed after hand-over: released below
            continue
        ids.append(answer.reading_id)
        statuses.append("accepted" if answer.accepted else "rejected")
        reasons.append(None if answer.accepted else (answer.reason or "Отклонено биллингом"))
        values.append(row["value"])
    await db.execute(
        """UPDATE reading r SET status = a.status, reject_reason = a.reason, processed_at = now()
           FROM unnest($1::int[], $2::text[], $3::text[]) AS a(id, status, reason)
           WHERE r.id = a.id""",
        ids, statuses, reasons,
    )
    await db.execute(
        """INSERT INTO reading_audit (reading, changed_by, changed_at, action, old_value,
               new_value, old_read_on, new_read_on, old_status, new_status, note)
           SELECT a.id, NULL, now(), 'billing_' || a.status, a.value, a.value, NULL, NULL,
                  'transmitted', a.status, $4 || coalesce(': ' || a.reason, '')
           FROM unnest($1::int[], $2::text[], $3::text[], $5::numeric[])
                AS a(id, status, reason, value)""",
        ids, statuses, reasons, f"Пакет {uid}", values,
    )
    released = list(current)
    if released:
        # Changed (or unanswered) after hand-over: hand the current value over next time.
        await db.execute("UPDATE reading SET batch = NULL WHERE id = ANY($1::int[])", released)
        await db.execute(
            """INSERT INTO reading_audit (reading, changed_by, changed_at, action, old_status,
                   new_status, note)
               SELECT r.id, NULL, now(), 'billing_released', r.status, r.status, $2
               FROM reading r WHERE r.id = ANY($1::int[])""",
            released,
            f"Пакет {uid}: изменено после передачи в биллинг, ответ не применён",
        )
        log.warning("batch %s: %d reading(s) changed after hand-over, released", uid,
                    len(released))
    accepted = statuses.count("accepted")
    rejected = len(statuses) - accepted
    await db.execute(
        """UPDATE billing_batch SET state = 'applied', accepted_count = $2, rejected_count = $3,
               applied_at = now() WHERE id = $1""",
        batch_id, accepted, rejected,
    )
    counts["accepted"] += accepted
    counts["rejected"] += rejected
    counts["released"] += len(released)
