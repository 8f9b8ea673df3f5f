"""Receipts «Квитанция о передаче № …»: written by the transmit's own transaction, read by
their user (R8: only the user who transmitted, only while the contract is linked)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app import db
from app.domain.billing_checks import RejectReason
from app.domain.notifications import event_key, wants
from app.domain.receipts import line_status
from app.domain.vocabulary import MailKind
from app.queries.mails import FLAG_COLUMNS, Mail, queue

MAX_NUMBER = 2**62  # larger path values cannot be a receipt (and would not fit int8)


async def create_receipts(user_id: int, period: date, reading_ids: Sequence[int]) -> list[int]:
    """In the transmit's transaction: one receipt per contract and kind of these freshly
    transmitted readings, numbered from receipt_number_seq; queued for mail when the user's
    notify_receipt is on. Returns the numbers."""
    if not reading_ids:
        return []
    rows = await db.fetch(
        """SELECT r.id, r.meter, r.value, r.read_on, m.kind, m.serial, m.address,
                  p.contract, c.billing_id, c.number
           FROM reading r JOIN meter m ON m.id = r.meter
           JOIN connection_point p ON p.id = m.point JOIN contract c ON c.id = p.contract
           WHERE r.id = ANY($1::int[])
           ORDER BY p.contract, m.kind, p.address, m.billing_id, m.id""",
        list(reading_ids))
    groups: dict[tuple[int, str], list] = {}
    for r in rows:
        groups.setdefault((r["contract"], r["kind"]), []).append(r)
    user = await db.fetchrow(
        f"SELECT u.email, u.full_name, {FLAG_COLUMNS} FROM portal_user u WHERE u.id = $1",
        user_id)
    numbers, mails = [], []
    for (contract_id, kind), lines in groups.items():
        receipt = await db.fetchrow(
            """INSERT INTO receipt (number, "user", contract, kind, period, created_at)
               VALUES (nextval('receipt_number_seq'), $1, $2, $3, $4, now())
               RETURNING id, number, created_at""",
            user_id, contract_id, kind, period)
        await db.execute(
            """INSERT INTO receipt_line (receipt, reading, meter, value, read_on)
               SELECT $1, * FROM unnest($2::int[], $3::int[], $4::numeric[], $5::date[])""",
            receipt["id"], [r["id"] for r in lines], [r["meter"] for r in lines],
            [r["value"] for r in lines], [r["read_on"] for r in lines])
        numbers.append(receipt["number"])
        if user is not None and wants(user, MailKind.receipt):
            mails.append(Mail(event_key(MailKind.receipt, receipt["number"]), user_id,
                              MailKind.receipt, {
                "number": receipt["number"], "contract": lines[0]["billing_id"],
                "contract_number": lines[0]["number"], "kind": kind,
                "period": period.isoformat(), "created_at": receipt["created_at"].isoformat(),
                "email": user["email"], "full_name": user["full_name"],
                "lines": [{"serial": r["serial"], "address": r["address"],
                           "value": str(r["value"]), "read_on": r["read_on"].isoformat()}
                          for r in lines]}))
    await queue(mails)
    return numbers


@dataclass(frozen=True)
class ReceiptSummary:
    number: int
    contract_id: int
    contract: int  # billing id, shown as «№»
    kind: str
    period: date
    created_at: datetime
    lines: int


@dataclass(frozen=True)
class ReceiptLineView:
    serial: str
    model: str
    address: str
    value: Decimal
    read_on: date
    status: str
    reason: RejectReason | None


@dataclass(frozen=True)
class ReceiptView:
    summary: ReceiptSummary
    email: str
    full_name: str
    lines: list[ReceiptLineView]


SUMMARY_SQL = """
SELECT rc.number, rc.contract AS contract_id, c.billing_id AS contract, rc.kind, rc.period,
       rc.created_at, (SELECT count(*) FROM receipt_line l WHERE l.receipt = rc.id) AS lines
FROM receipt rc
JOIN contract c ON c.id = rc.contract
JOIN contract_link cl ON cl.contract = rc.contract AND cl."user" = rc."user"
WHERE rc."user" = $1
"""


async def user_receipts(user_id: int, limit: int = 200) -> list[ReceiptSummary]:
    """The user's own receipts on contracts still linked, newest first."""
    rows = await db.fetch(SUMMARY_SQL + " ORDER BY rc.number DESC LIMIT $2", user_id, limit)
    return [ReceiptSummary(**dict(r)) for r in rows]


async def receipt_for_user(user_id: int, number: int) -> ReceiptView | None:
    """Receipt `number` if this user made it and still holds its contract; else None (even
    for a colleague on the same contract: a receipt is its sender's proof)."""
    if not 0 < number < MAX_NUMBER:
        return None
    head = await db.fetchrow(SUMMARY_SQL + " AND rc.number = $2", user_id, number)
    if head is None:
        return None
    user = await db.fetchrow("SELECT email, full_name FROM portal_user WHERE id = $1", user_id)
    rows = await db.fetch(
        """SELECT m.serial, m.model, m.address, l.value, l.read_on,
                  r.value AS now_value, r.read_on AS now_read_on, r.status, r.reject_reason,
                  r.reject_code, r.reject_params::text AS reject_params
           FROM receipt rc JOIN receipt_line l ON l.receipt = rc.id
           JOIN meter m ON m.id = l.meter JOIN connection_point p ON p.id = m.point
           JOIN reading r ON r.id = l.reading
           WHERE rc.number = $1
           ORDER BY p.address, m.billing_id, m.id""", number)
    lines = []
    for r in rows:
        status = line_status(r["value"], r["read_on"], r["now_value"], r["now_read_on"],
                             r["status"])
        lines.append(ReceiptLineView(r["serial"], r["model"], r["address"], r["value"],
                                     r["read_on"], status,
                                     RejectReason.from_row(r) if status == "rejected"
                                     else None))
    return ReceiptView(ReceiptSummary(**dict(head)), user["email"], user["full_name"], lines)
