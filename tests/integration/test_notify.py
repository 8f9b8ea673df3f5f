"""Reminder mails through the outbox on real PostgreSQL, delivered to a real SMTP server
(aiosmtpd): once per user and event whatever reruns, headers, unsubscribe, SMTP down."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlparse

import pytest

from app import db
from app.billing.refresh import refresh_archive
from app.domain.calendar import month_start
from app.domain.unsubscribe import make_token
from app.notify import message_id, send_pending
from app.queries.mails import queue_reminders
from app.queries.readings import ReadingWrite, write_readings
from app.queries.windows import compute_windows
from app.settings import get_settings, today
from tests.helpers import create_user, free_port, login, post_form
from tests.smtp import SmtpSink


@pytest.fixture
def sink(monkeypatch):
    with SmtpSink() as smtp:
        monkeypatch.setenv("SMTP_URL", smtp.url)
        get_settings.cache_clear()
        yield smtp
    get_settings.cache_clear()


@pytest.fixture
async def world(demo_db):
    """The demo dataset plus a colleague on №15303, a colleague who switched the window
    mails off, and an outsider who holds only №16010."""
    ids = dict(demo_db)
    ids["colleague"] = await create_user("colleague@example.ru", contract_billing_ids=(15303,))
    ids["muted"] = await create_user("muted@example.ru", contract_billing_ids=(15303,))
    await db.execute("UPDATE portal_user SET notify_window_open = false, notify_last_day = false "
                     "WHERE id = $1", ids["muted"])
    ids["outsider"] = await create_user("outsider@example.ru", contract_billing_ids=(16010,))
    await compute_windows(today())
    ids["window"] = dict(await db.fetchrow(
        """SELECT opens, closes FROM submission_window
           WHERE contract = $1 AND kind = 'cold' AND period = $2""",
        ids["linked_contract"], month_start(today())))
    return ids


async def outbox(**where) -> list[dict]:
    rows = await db.fetch(
        """SELECT o.key, o.kind, u.email, o.sent_at, o.attempts, o.last_error, o.next_attempt_at
           FROM mail_outbox o JOIN portal_user u ON u.id = o."user" ORDER BY o.id""")
    return [dict(r) for r in rows if all(r[k] == v for k, v in where.items())]


def by_recipient(messages) -> Counter:
    return Counter((m["To"], m["Subject"]) for m in messages)


async def test_cron_twice_and_two_workers_at_once_send_each_mail_once(world, sink):
    window = world["window"]
    queued = Counter()
    for day in (window["opens"], window["closes"]):
        first = await queue_reminders(day)
        again = await queue_reminders(day)                      # the cron rerun
        both = await asyncio.gather(queue_reminders(day), queue_reminders(day))  # two workers
        queued.update(first)
        assert sum(again.values()) == 0 and all(sum(b.values()) == 0 for b in both)
    rows = await outbox()
    assert queued["window_open"] > 0 and queued["last_day"] > 0
    assert len(rows) == sum(queued.values())
    # two senders at once, then a third run: every row sent exactly once
    results = await asyncio.gather(send_pending(), send_pending())
    assert sum(r["sent"] for r in results) == len(rows)
    assert (await send_pending())["sent"] == 0
    messages = sink.messages()
    assert len(messages) == len(rows)
    assert max(by_recipient(messages).values()) == 1
    assert len({m["Message-ID"] for m in messages}) == len(messages)
    assert all(r["sent_at"] is not None and r["attempts"] == 1 for r in await outbox())
    # who got what about №15303's cold window
    about_15303 = [m for m in messages if "№15303" in m["Subject"]]
    opened = {m["To"] for m in about_15303 if m["Subject"].startswith("Открыто окно")}
    last = {m["To"] for m in about_15303 if m["Subject"].startswith("Сегодня последний")}
    assert {"demo@izhvodokanal.example", "colleague@example.ru"} <= opened
    assert {"demo@izhvodokanal.example", "colleague@example.ru"} <= last
    assert "muted@example.ru" not in opened | last
    assert "outsider@example.ru" not in {m["To"] for m in about_15303}
    print(f"\nfigures: queued {len(rows)} mails over 2 days × (1 + 1 rerun + 2 concurrent) "
          f"cron runs; 2 concurrent senders + 1 rerun sent {len(messages)} messages, "
          f"max per (recipient, subject) = {max(by_recipient(messages).values())}; "
          f"kinds {dict(queued)}")


async def test_headers_multipart_and_message_id_from_the_key(world, sink):
    await queue_reminders(world["window"]["opens"])
    await send_pending()
    [row] = [r for r in await outbox(email="demo@izhvodokanal.example", kind="window_open")
             if ":cold:" in r["key"]]
    [message] = [m for m in sink.messages() if m["Message-ID"] == message_id(row["key"])]
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "№15303" in text and "№15303" in html and "<a href=" in html
    unsubscribe = message["List-Unsubscribe"]
    assert re.fullmatch(r"<https?://[^/]+/unsubscribe/[0-9]+\.window_open\.[A-Za-z0-9_-]+>",
                        unsubscribe), unsubscribe
    raw = sink.envelopes[[m["Message-ID"] for m in sink.messages()].index(message["Message-ID"])]
    assert f"List-Unsubscribe: {unsubscribe}".encode() in raw[2]  # one plain header line
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe[1:-1] in text


async def test_mails_in_the_users_locale(world, sink):
    await db.execute("UPDATE portal_user SET locale = 'en' WHERE id = $1", world["colleague"])
    await queue_reminders(world["window"]["opens"])
    await send_pending()
    mine = [m for m in sink.messages() if m["To"] == "colleague@example.ru"
            and "15303" in m["Subject"]]
    assert mine and all(m["Subject"].startswith("Submission window open") for m in mine)
    assert "Отписаться" not in mine[0].get_body(("plain",)).get_content()


async def test_one_click_unsubscribe_without_login_or_csrf_and_forgeries(world, sink, client):
    await queue_reminders(world["window"]["opens"])
    await send_pending()
    [message] = [m for m in sink.messages() if m["To"] == "demo@izhvodokanal.example"
                 and m["Subject"].startswith("Открыто окно") and "№15303" in m["Subject"]
                 and "ХВС" in m["Subject"]]
    path = urlparse(message["List-Unsubscribe"][1:-1]).path
    flags = "SELECT notify_window_open, notify_last_day FROM portal_user WHERE id = $1"
    # GET (a mail scanner's prefetch) only asks
    page = await client.get(path)
    assert page.status_code == 200 and 'method="post"' in page.text
    assert tuple(await db.fetchrow(flags, world["subscriber"])) == (True, True)
    # forged: another user's id with this signature, another kind, a made-up signature
    token = path.rsplit("/", 1)[1]
    uid, kind, signature = token.split(".")
    for forged in (f"{world['colleague']}.{kind}.{signature}", f"{uid}.last_day.{signature}",
                   f"{uid}.{kind}.{'A' * len(signature)}", "1.window_open",
                   make_token("not-the-secret", world["colleague"], "window_open")):
        assert (await client.post(f"/unsubscribe/{forged}",
                                  data={"List-Unsubscribe": "One-Click"})).status_code == 404
        assert (await client.get(f"/unsubscribe/{forged}")).status_code == 404
    assert tuple(await db.fetchrow(flags, world["subscriber"])) == (True, True)
    assert tuple(await db.fetchrow(flags, world["colleague"])) == (True, True)
    # the genuine one-click POST: no session, no CSRF token, the RFC 8058 body
    client.cookies.clear()
    done = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "отключено" in done.text
    assert tuple(await db.fetchrow(flags, world["subscriber"])) == (False, True)
    # ... and it holds: no more window-open mails for that user on the next window
    await db.execute("DELETE FROM mail_outbox")
    await queue_reminders(world["window"]["opens"])
    assert not await outbox(email="demo@izhvodokanal.example", kind="window_open")
    assert await outbox(email="colleague@example.ru", kind="window_open")


async def test_smtp_down_keeps_rows_with_attempts_then_sends_once(world, monkeypatch):
    port = free_port()  # nobody listens there yet
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
    get_settings.cache_clear()
    try:
        await queue_reminders(world["window"]["opens"])
        total = len(await outbox())
        assert total > 1
        down = await send_pending()
        assert down == {"sent": 0, "failed": 1}  # the run stops at the first refused connection
        rows = await outbox()
        assert all(r["sent_at"] is None for r in rows)
        [failed] = [r for r in rows if r["attempts"] == 1]
        assert "Connection refused" in failed["last_error"] or "Errno" in failed["last_error"]
        assert failed["next_attempt_at"] > min(r["next_attempt_at"] for r in rows)
        again = await send_pending()  # still down: the others fail one at a time, no loss
        assert again["sent"] == 0 and len(await outbox(sent_at=None)) == total
        with SmtpSink(port=port) as smtp:
            # the backoff: rows that failed wait; bring their retry time forward
            await db.execute("UPDATE mail_outbox SET next_attempt_at = now()")
            up = await send_pending()
            assert up["sent"] == total and (await send_pending())["sent"] == 0
            messages = smtp.messages()
        assert len(messages) == total and max(by_recipient(messages).values()) == 1
        assert all(r["sent_at"] is not None for r in await outbox())
    finally:
        get_settings.cache_clear()


async def test_billing_answers_one_mail_per_user_and_refresh(world, sink):
    meters = await db.fetch(
        """SELECT m.id, (SELECT max(value) FROM reading r WHERE r.meter = m.id) AS prev
           FROM meter m JOIN connection_point p ON p.id = m.point
           WHERE p.contract = $1 AND m.kind = 'cold' ORDER BY m.id LIMIT 3""",
        world["linked_contract"])
    writes = [ReadingWrite(m["id"], (m["prev"] or Decimal(0)) + 4, today(), "transmitted")
              for m in meters]
    await write_readings(world["subscriber"], month_start(today()), writes)
    counts = await refresh_archive()
    assert counts["accepted"] + counts["rejected"] == 3
    assert (await refresh_archive())["batches"] == 0
    results = await outbox(kind="results")
    assert sorted(r["email"] for r in results) == sorted(
        ["demo@izhvodokanal.example", "colleague@example.ru", "muted@example.ru"])
    assert len({r["key"] for r in results}) == 3
    # the transmit itself: one receipt mail, to the one who transmitted
    assert [r["email"] for r in await outbox(kind="receipt")] == ["demo@izhvodokanal.example"]
    await send_pending()
    [answer] = [m for m in sink.messages() if m["To"] == "demo@izhvodokanal.example"
                and m["Subject"] == "Результат обработки переданных показаний"]
    text = answer.get_body(("plain",)).get_content()
    assert text.count("Договор №15303") == 3
    assert ("принято" in text) or ("отклонено" in text)


async def test_receipt_mail_only_when_its_switch_is_on(world, sink):
    [meter] = await db.fetch(
        """SELECT m.id FROM meter m JOIN connection_point p ON p.id = m.point
           WHERE p.contract = $1 AND m.kind = 'cold' ORDER BY m.id LIMIT 1""",
        world["linked_contract"])
    period = month_start(today())
    await db.execute("UPDATE portal_user SET notify_receipt = false WHERE id = $1",
                     world["colleague"])
    a = await write_readings(world["colleague"], period,
                             [ReadingWrite(meter["id"], Decimal(77777), today(), "transmitted")])
    b = await write_readings(world["subscriber"], period,
                             [ReadingWrite(meter["id"], Decimal(77778), today(), "transmitted")])
    assert len(a.receipts) == len(b.receipts) == 1
    assert [r["email"] for r in await outbox(kind="receipt")] == ["demo@izhvodokanal.example"]
    await send_pending()
    [mail] = [m for m in sink.messages() if m["Subject"].startswith("Квитанция о передаче №")]
    assert mail["Subject"] == f"Квитанция о передаче № {b.receipts[0]}"
    assert "77 778,000" in mail.get_body(("plain",)).get_content().replace("\xa0", " ")
    assert mail["List-Unsubscribe"] and ".receipt." in mail["List-Unsubscribe"]


async def test_new_user_on_a_contract_is_told_to_its_other_users(world, sink, client):
    contract = await db.fetchrow(
        """SELECT c.number, cp.inn FROM contract c JOIN counterparty cp ON cp.id = c.counterparty
           WHERE c.billing_id = 15303""")
    await create_user("newcomer@example.ru")
    await login(client, "newcomer@example.ru", "secret-pass-123")
    response = await post_form(client, "/connect",
                               {"inn": contract["inn"], "number": contract["number"]})
    assert response.status_code in (200, 201, 303), response.text[:300]
    notices = await outbox(kind="new_user")
    assert sorted(r["email"] for r in notices) == sorted(
        ["demo@izhvodokanal.example", "colleague@example.ru", "muted@example.ru"])
    await send_pending()
    told = [m for m in sink.messages() if "новый пользователь" in m["Subject"]]
    assert len(told) == 3
    assert told[0]["Subject"] == ("К договору №15303 подключён новый пользователь: "
                                  "newcomer@example.ru")
    assert told[0]["List-Unsubscribe"] is None  # a security notice: no switch to turn it off


async def test_verification_within_30_days_once_per_meter_and_date(world, sink):
    meter = await db.fetchval(
        """SELECT m.id FROM meter m JOIN connection_point p ON p.id = m.point
           WHERE p.contract = $1 ORDER BY m.id LIMIT 1""", world["linked_contract"])
    await db.execute("UPDATE meter SET verification_due = NULL")
    await db.execute("UPDATE meter SET verification_due = $2 WHERE id = $1", meter,
                     today() + timedelta(days=30))
    await queue_reminders(today())
    await queue_reminders(today())
    rows = await outbox(kind="verification")
    assert sorted(r["email"] for r in rows) == sorted(
        ["demo@izhvodokanal.example", "colleague@example.ru", "muted@example.ru"])
    # a new planned date is a new event
    await db.execute("UPDATE meter SET verification_due = $2 WHERE id = $1", meter,
                     today() + timedelta(days=10))
    await queue_reminders(today())
    assert len(await outbox(kind="verification")) == 6


async def test_last_day_mail_only_while_some_meter_has_nothing_transmitted(world, sink):
    """Drafts of every meter still count as nothing; once every active meter of the kind is
    transmitted, the contract's users get no last-day mail for it."""
    contract, closes = world["linked_contract"], world["window"]["closes"]
    period = month_start(today())
    meters = await db.fetch(
        """SELECT m.id, (SELECT max(value) FROM reading r WHERE r.meter = m.id) AS prev
           FROM meter m JOIN connection_point p ON p.id = m.point
           WHERE p.contract = $1 AND m.kind = 'cold' AND m.active""", contract)

    def writes(status: str) -> list[ReadingWrite]:
        return [ReadingWrite(m["id"], (m["prev"] or Decimal(0)) + 1, today(), status)
                for m in meters]

    def about_15303_cold(rows: list[dict]) -> list[str]:
        return sorted(r["email"] for r in rows if f":{contract}:cold:" in r["key"])

    await write_readings(world["subscriber"], period, writes("draft"))
    await queue_reminders(closes)
    assert about_15303_cold(await outbox(kind="last_day")) == sorted(
        ["demo@izhvodokanal.example", "colleague@example.ru"])
    await db.execute("DELETE FROM mail_outbox")
    await write_readings(world["subscriber"], period, writes("transmitted"))
    await queue_reminders(closes)
    assert about_15303_cold(await outbox(kind="last_day")) == []
    assert await outbox(kind="last_day")  # other contracts and kinds are still reminded
