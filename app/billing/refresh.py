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
applied (`app.domain.writes.may_write`: the grid's write requires batch IS NULL). Should one change
anyway (or be detached from its batch), billing's answer about the old value is not applied to
it: it is released (batch = NULL, audit note) and handed over with its new value in the next
batch, where a later line for the same reading id supersedes the earlier one.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

from app import db
from app.billing.adapter import BillingAdapter, BillingUnavailable, OutboxAdapter
from app.domain.billing_checks import ItemAnswer, RejectReason
from app.domain.vocabulary import BatchState, ReadingStatus
from app.queries import billing as q
from app.queries.mails import queue_results

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


def default_adapter() -> BillingAdapter:
    """The built-in billing, judging against the portal's copy of billing data."""
    return OutboxAdapter(meter_states=q.meter_states_before)


async def refresh_archive(
    adapter: BillingAdapter | None = None,
    *,
    crash_hook: CrashHook | None = None,
    batch_limit: int = BATCH_LIMIT,
) -> dict[str, int]:
    """Resume unfinished batches, then hand over everything transmitted; returns counts."""
    adapter = adapter or default_adapter()
    counts = _counts()
    for batch_id in await q.unfinished_batch_ids():
        if await _advance(batch_id, adapter, counts, crash_hook):
            counts["resumed"] += 1
    while (claimed := await q.claim_batch(batch_limit)) is not None:
        batch_id, uid, n = claimed
        log.info("batch %s claimed %d reading(s)", uid, n)
        counts["batches"] += 1
        await _checkpoint(crash_hook, "claimed")
        await _advance(batch_id, adapter, counts, crash_hook)
    log.info("archive refresh: %s", counts)
    return counts


async def _advance(batch_id: int, adapter: BillingAdapter, counts: dict[str, int],
                   hook: CrashHook | None) -> bool:
    """Move one batch through hand-over and apply as far as it goes; True if it moved."""
    moved = False
    try:
        async with db.transaction():
            batch = await q.lock_batch(batch_id)
            if batch is not None and batch["state"] == BatchState.prepared:
                items = await q.batch_items(batch_id)
                name = await adapter.hand_over(batch["uid"], items)
                await _checkpoint(hook, "handed_over")
                await q.mark_written(batch_id, name)
                counts["handed_over"] += len(items)
                moved = True
        if moved:
            await _checkpoint(hook, "written")
        async with db.transaction():
            batch = await q.lock_batch(batch_id)
            if batch is None or batch["state"] != BatchState.written:
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


async def _apply_answers(batch_id: int, uid: str, answers: list[ItemAnswer],
                         counts: dict[str, int]) -> None:
    """Record billing's answers on the batch's unchanged readings; release the changed ones."""
    current = await q.lock_batch_readings(batch_id)
    ids, statuses, reasons, codes, params, values = [], [], [], [], [], []
    for answer in answers:
        row = current.pop(answer.reading_id, None)
        if row is None:
            continue  # not (or no longer) in this batch
        if (row["status"], row["value"], row["read_on"]) != (
                ReadingStatus.transmitted, answer.value, answer.read_on):
            current[answer.reading_id] = row  # changed after hand-over: released below
            continue
        ids.append(answer.reading_id)
        statuses.append(ReadingStatus.accepted if answer.accepted else ReadingStatus.rejected)
        reason = None if answer.accepted else (answer.reason or RejectReason.coded("rejected"))
        reasons.append(reason.text if reason else None)
        codes.append(reason.code if reason else None)
        params.append(reason.json_params if reason else None)
        values.append(row["value"])
    await q.apply_verdicts(ids, statuses, reasons, values, f"Пакет {uid}", codes, params)
    # Same transaction: the answers and the mails about them commit (or roll back) together,
    # one per user and batch (mail_outbox key results:<uid>:<user>).
    await queue_results(uid, ids)
    released = list(current)
    if released:
        # Changed (or unanswered) after hand-over: hand the current value over next time.
        await q.release_readings(
            released, f"Пакет {uid}: изменено после передачи в биллинг, ответ не применён")
        log.warning("batch %s: %d reading(s) changed after hand-over, released", uid,
                    len(released))
    accepted = statuses.count(ReadingStatus.accepted)
    rejected = len(statuses) - accepted
    await q.mark_applied(batch_id, accepted, rejected)
    counts["accepted"] += accepted
    counts["rejected"] += rejected
    counts["released"] += len(released)
