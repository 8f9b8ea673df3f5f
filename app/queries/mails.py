"""The mail outbox (table mail_outbox): queuing events once, and the sender's claim.

Queuing is an INSERT … ON CONFLICT (key) DO NOTHING run in the transaction that decides the
event (the reminder cron, billing's answers, the transmit's receipt, a connection request),
so the key is stored iff the event is: a rerun, a second worker or a crash never queue a
second mail. The sender claims one unsent row at a time with FOR UPDATE SKIP LOCKED and
holds that lock while it talks SMTP, so two senders never send the same row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from app import db
from app.domain.notifications import (
    MAIL_FLAGS,
    TRANSMITTED_STATUSES,
    VERIFICATION_NOTICE_DAYS,
    WindowToday,
    event_key,
    verification_due_soon,
    wants,
    window_mails,
)
from app.domain.vocabulary import MailKind

FLAG_COLUMNS = ", ".join(f"u.{flag}" for flag in MAIL_FLAGS.values())
MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Mail:
    """One event to queue: the key makes it once-only."""

    key: str
    user_id: int
    kind: str
    payload: dict


INSERT_SQL = """
INSERT INTO mail_outbox (key, "user", kind, payload, created_at, next_attempt_at, attempts)
SELECT m.key, m.usr, m.kind, m.payload::jsonb, now(), now(), 0
FROM unnest($1::text[], $2::int[], $3::text[], $4::text[]) AS m(key, usr, kind, payload)
ON CONFLICT (key) DO NOTHING
RETURNING id
"""


async def queue(mails: Sequence[Mail]) -> int:
    """Insert the mails not queued before; how many were new. Runs in the caller's transaction."""
    if not mails:
        return 0
    rows = await db.fetch(
        INSERT_SQL, [m.key for m in mails], [m.user_id for m in mails],
        [str(m.kind) for m in mails],
        [json.dumps(m.payload, ensure_ascii=False, default=str) for m in mails])
    return len(rows)


async def _recipients(contract_ids: Sequence[int]) -> dict[int, list[dict]]:
    """Per contract, its linked active users with their notify_* flags."""
    rows = await db.fetch(
        f"""SELECT l.contract, u.id, u.email, {FLAG_COLUMNS}
            FROM contract_link l JOIN portal_user u ON u.id = l."user"
            WHERE l.contract = ANY($1::int[]) AND u.is_active
            ORDER BY l.contract, u.id""",
        list(contract_ids))
    result: dict[int, list[dict]] = {}
    for r in rows:
        result.setdefault(r["contract"], []).append(dict(r))
    return result


# ---------------------------------------------------------------- the daily reminders

WINDOWS_SQL = """
SELECT w.contract, w.kind, w.period, w.opens, w.closes, c.billing_id, c.number,
       count(m.id) AS meters,
       count(m.id) FILTER (WHERE NOT EXISTS (
           SELECT 1 FROM reading r WHERE r.meter = m.id AND r.period = w.period
                                     AND r.status = ANY($2::text[]))) AS missing,
       (array_agg(m.serial ORDER BY p.address, m.billing_id) FILTER (WHERE NOT EXISTS (
           SELECT 1 FROM reading r WHERE r.meter = m.id AND r.period = w.period
                                     AND r.status = ANY($2::text[]))))[1:20] AS missing_serials
FROM submission_window w
JOIN contract c ON c.id = w.contract
JOIN connection_point p ON p.contract = w.contract
JOIN meter m ON m.point = p.id AND m.kind = w.kind AND m.active
WHERE w.opens <= $1 AND w.closes >= $1
  AND EXISTS (SELECT 1 FROM contract_link l WHERE l.contract = w.contract)
GROUP BY w.contract, w.kind, w.period, w.opens, w.closes, c.billing_id, c.number
"""

VERIFICATION_SQL = """
SELECT m.id, m.serial, m.model, m.address, m.verification_due, m.kind, c.id AS contract,
       c.billing_id, c.number
FROM meter m
JOIN connection_point p ON p.id = m.point
JOIN contract c ON c.id = p.contract
WHERE m.active AND m.verification_due BETWEEN $1 AND $2
  AND EXISTS (SELECT 1 FROM contract_link l WHERE l.contract = c.id)
ORDER BY c.billing_id, m.billing_id
"""


async def queue_reminders(today: date) -> dict[str, int]:
    """Queue today's window-open, last-day and verification mails (each once per user and
    event, whatever reruns); returns how many of each kind were new."""
    counts = {MailKind.window_open.value: 0, MailKind.last_day.value: 0,
              MailKind.verification.value: 0}
    async with db.transaction():
        windows = await db.fetch(WINDOWS_SQL, today, list(TRANSMITTED_STATUSES))
        meters = await db.fetch(VERIFICATION_SQL, today,
                                today + timedelta(days=VERIFICATION_NOTICE_DAYS))
        users = await _recipients({r["contract"] for r in windows}
                                  | {r["contract"] for r in meters})
        mails: list[Mail] = []
        for w in windows:
            facts = WindowToday(w["contract"], w["kind"], w["period"], w["opens"], w["closes"],
                                w["meters"], w["missing"])
            for kind in window_mails(today, facts):
                payload = {"contract_id": w["contract"], "contract": w["billing_id"],
                           "contract_number": w["number"], "kind": w["kind"],
                           "period": w["period"].isoformat(), "opens": w["opens"].isoformat(),
                           "closes": w["closes"].isoformat(), "missing": w["missing"],
                           "meters": w["meters"], "missing_serials": w["missing_serials"] or []}
                for user in users.get(w["contract"], []):
                    if wants(user, kind):
                        mails.append(Mail(event_key(kind, w["contract"], w["kind"],
                                                    w["period"], user["id"]),
                                          user["id"], kind, payload))
        for m in meters:
            if not verification_due_soon(today, m["verification_due"]):
                continue
            payload = {"contract_id": m["contract"], "contract": m["billing_id"],
                       "contract_number": m["number"], "meter_id": m["id"],
                       "serial": m["serial"], "model": m["model"], "address": m["address"],
                       "kind": m["kind"], "due": m["verification_due"].isoformat()}
            for user in users.get(m["contract"], []):
                if wants(user, MailKind.verification):
                    mails.append(Mail(event_key(MailKind.verification, m["id"],
                                                m["verification_due"], user["id"]),
                                      user["id"], MailKind.verification, payload))
        new = await db.fetch(
            INSERT_SQL.replace("RETURNING id", "RETURNING kind"),
            [m.key for m in mails], [m.user_id for m in mails], [str(m.kind) for m in mails],
            [json.dumps(m.payload, ensure_ascii=False) for m in mails]) if mails else []
    for r in new:
        counts[r["kind"]] += 1
    return counts


# ---------------------------------------------------------------- billing's answers


async def queue_results(batch_uid: str, reading_ids: Sequence[int]) -> int:
    """In the transaction that applied billing's answers: one mail per user (linked to the
    readings' contracts, notify_results on) and batch, listing their contracts' answers."""
    if not reading_ids:
        return 0
    rows = await db.fetch(
        """SELECT c.id AS contract, c.billing_id, m.serial, m.kind, m.address, r.period,
                  r.value, r.read_on, r.status, r.reject_reason, r.reject_code,
                  r.reject_params::text AS reject_params
           FROM reading r JOIN meter m ON m.id = r.meter
           JOIN connection_point p ON p.id = m.point JOIN contract c ON c.id = p.contract
           WHERE r.id = ANY($1::int[])
           ORDER BY c.billing_id, m.kind, p.address, m.billing_id""",
        list(reading_ids))
    users = await _recipients({r["contract"] for r in rows})
    per_user: dict[int, list[dict]] = {}
    for r in rows:
        line = {"contract": r["billing_id"], "serial": r["serial"], "kind": r["kind"],
                "address": r["address"], "period": r["period"].isoformat(),
                "value": str(r["value"]), "read_on": r["read_on"].isoformat(),
                "status": r["status"], "reason": r["reject_reason"],
                "reason_code": r["reject_code"], "reason_params": r["reject_params"]}
        for user in users.get(r["contract"], []):
            if wants(user, MailKind.results):
                per_user.setdefault(user["id"], []).append(line)
    return await queue([Mail(event_key(MailKind.results, batch_uid, uid), uid,
                             MailKind.results, {"batch": batch_uid, "lines": lines})
                        for uid, lines in per_user.items()])


# ---------------------------------------------------------------- a new user on a contract


async def queue_new_user(link_id: int, contract_id: int, new_user_id: int) -> int:
    """In the linking transaction: tell every other user of the contract who joined it."""
    row = await db.fetchrow(
        """SELECT c.billing_id, c.number, u.email FROM contract c, portal_user u
           WHERE c.id = $1 AND u.id = $2""", contract_id, new_user_id)
    users = await _recipients([contract_id])
    return await queue([
        Mail(event_key(MailKind.new_user, link_id, user["id"]), user["id"], MailKind.new_user,
             {"contract_id": contract_id, "contract": row["billing_id"],
              "contract_number": row["number"], "email": row["email"]})
        for user in users.get(contract_id, []) if user["id"] != new_user_id])


# ---------------------------------------------------------------- the sender


@dataclass(frozen=True)
class OutgoingMail:
    id: int
    key: str
    kind: str
    payload: dict
    subject: str | None
    body_text: str | None
    body_html: str | None
    attempts: int
    user_id: int
    email: str
    locale: str


async def claim_next() -> OutgoingMail | None:
    """Lock the next unsent row due for an attempt (in the caller's transaction); rows another
    sender holds are skipped, so two senders never send one row."""
    row = await db.fetchrow(
        """SELECT o.id, o.key, o.kind, o.payload::text AS payload, o.subject, o.body_text,
                  o.body_html, o.attempts, u.id AS user_id, u.email, u.locale
           FROM mail_outbox o JOIN portal_user u ON u.id = o."user"
           WHERE o.sent_at IS NULL AND o.next_attempt_at <= now() AND o.attempts < $1
           ORDER BY o.next_attempt_at, o.id
           LIMIT 1
           FOR UPDATE OF o SKIP LOCKED""", MAX_ATTEMPTS)
    if row is None:
        return None
    return OutgoingMail(**{**dict(row), "payload": json.loads(row["payload"])})


async def store_rendered(mail_id: int, subject: str, text: str, html: str) -> None:
    await db.execute(
        "UPDATE mail_outbox SET subject = $2, body_text = $3, body_html = $4 WHERE id = $1",
        mail_id, subject, text, html)


async def mark_sent(mail_id: int) -> None:
    await db.execute(
        "UPDATE mail_outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL "
        "WHERE id = $1", mail_id)


async def mark_failed(mail_id: int, error: str, retry_in: timedelta) -> None:
    await db.execute(
        """UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2,
                  next_attempt_at = now() + $3::interval WHERE id = $1""",
        mail_id, error[:1000], retry_in)


async def unsubscribe(user_id: int, kind: str) -> bool:
    """Turn the user's switch of this kind off; False when there is no such user."""
    flag = MAIL_FLAGS[kind]  # a fixed column name, never user input
    done = await db.fetchval(
        f"UPDATE portal_user SET {flag} = false WHERE id = $1 RETURNING id", user_id)
    return done is not None


async def user_exists(user_id: int) -> bool:
    return await db.fetchval("SELECT 1 FROM portal_user WHERE id = $1", user_id) is not None
