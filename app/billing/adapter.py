"""The billing adapter: where the portal hands readings to billing and gets its answer.

`BillingAdapter` is the seam a real billing integration plugs into. The built-in
`OutboxAdapter` writes each batch as one CSV file under var/outbox/ for the utility's billing
to pick up (and for operators to download), and answers with the acceptance checks of
app/domain/billing_checks.py run against the portal's copy of billing data, which it is given
(`meter_states`) rather than querying itself.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from app.domain.billing_checks import (
    BatchItem,
    BillingMeterState,
    HandedOver,
    ItemAnswer,
    judge_batch,
)
from app.settings import get_settings

OUTBOX_COLUMNS = [
    "batch", "reading_id", "contract_id", "meter_id", "serial", "kind", "period", "value",
    "read_on", "rollover", "transmitted_at", "user_email",
]

# Per reading id of the handed-over items: billing's state of its meter before the batch.
MeterStates = Callable[[Sequence[HandedOver]], Awaitable[Mapping[int, BillingMeterState]]]


class BillingUnavailable(RuntimeError):
    """Billing could not take or answer a batch now; the refresh retries on its next run."""


class BillingAdapter(Protocol):
    async def hand_over(self, batch_uid: str, items: Sequence[BatchItem]) -> str:
        """Deliver the batch; idempotent per uid (a repeated call keeps the first delivery).
        Returns the delivery's reference (the outbox file name)."""
        ...

    async def fetch_answers(self, batch_uid: str) -> list[ItemAnswer] | None:
        """Billing's answer per item of a delivered batch, or None while it has not answered."""
        ...


def outbox_dir() -> Path:
    return get_settings().var_dir / "outbox"


def batch_file_name(batch_uid: str) -> str:
    return f"batch-{batch_uid}.csv"


def render_batch_csv(batch_uid: str, items: Sequence[BatchItem]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(OUTBOX_COLUMNS)
    for item in items:
        writer.writerow([
            batch_uid, item.reading_id, item.contract_billing_id, item.meter_billing_id,
            item.serial, item.kind, item.period.strftime("%Y-%m"),
            f"{item.value:.3f}", item.read_on.isoformat(), int(item.rollover_confirmed),
            item.transmitted_at.isoformat() if item.transmitted_at else "",
            item.user_email or "",
        ])
    return buffer.getvalue()


def parse_batch_csv(text: str) -> list[HandedOver]:
    rows = csv.DictReader(io.StringIO(text), delimiter=";")
    return [
        HandedOver(
            reading_id=int(row["reading_id"]),
            meter_billing_id=int(row["meter_id"]),
            kind=row["kind"],
            period=date.fromisoformat(row["period"] + "-01"),
            value=Decimal(row["value"]),
            read_on=date.fromisoformat(row["read_on"]),
            rollover_confirmed=row["rollover"] == "1",
        )
        for row in rows
    ]


def write_once(path: Path, text: str) -> bool:
    """Write `path` atomically unless it exists; True if this call created it.

    The content goes to a private temp file, is fsynced, then hard-linked into place:
    the link fails if the file already exists, so a rerun or a second worker never replaces
    a file billing may already have picked up, and a reader never sees half a file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return False
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return True
    finally:
        tmp.unlink(missing_ok=True)


class OutboxAdapter:
    """Built-in billing: CSV files in var/outbox/, answered by the portal's acceptance checks."""

    def __init__(self, meter_states: MeterStates, directory: Path | None = None) -> None:
        self.meter_states = meter_states
        self.directory = directory or outbox_dir()

    async def hand_over(self, batch_uid: str, items: Sequence[BatchItem]) -> str:
        name = batch_file_name(batch_uid)
        text = render_batch_csv(batch_uid, items)
        await asyncio.to_thread(write_once, self.directory / name, text)
        return name

    async def fetch_answers(self, batch_uid: str) -> list[ItemAnswer] | None:
        path = self.directory / batch_file_name(batch_uid)
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except FileNotFoundError:
            raise BillingUnavailable(f"outbox file {path.name} is missing") from None
        items = parse_batch_csv(text)
        verdicts = judge_batch(items, await self.meter_states(items))
        return [
            ItemAnswer(item.reading_id, item.value, item.read_on,
                       verdicts[item.reading_id].accepted, verdicts[item.reading_id].reason)
            for item in items
        ]
