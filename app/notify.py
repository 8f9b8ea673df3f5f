"""The portal's mails: what each says (templates/mail/, Babel, the user's locale) and the
sender that empties the outbox (mail_outbox, app/queries/mails.py).

At most once per user and event: the event's key is stored once in the deciding
transaction; the sender locks one unsent row (FOR UPDATE SKIP LOCKED), renders it on its
first attempt (kept for the retries), hands it to SMTP and stamps sent_at in the same
transaction. SMTP down: the row stays unsent with attempts + 1, last_error and a later
next_attempt_at (backoff 1, 2, 4 … 60 minutes), and the next run tries again. The one gap
left is a crash after the SMTP server accepted the message and before the commit: the mail
is sent again on the next run, with the same Message-ID (derived from the key), so a
receiving system can drop the duplicate.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import smtplib
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app import db, i18n
from app.domain import N_
from app.domain.billing_checks import RejectReason
from app.domain.notifications import MAIL_FLAGS, METER_KIND_NAMES
from app.domain.receipts import LINE_STATUS_LABELS
from app.domain.unsubscribe import make_token
from app.domain.vocabulary import MailKind
from app.mail import MESSAGE_ID_DOMAIN, build_message, deliver
from app.queries import mails as q
from app.settings import ROOT, get_settings

# Test seam: called with "claimed" after a row is locked and rendered, before SMTP (the
# reliability test's worker pauses there to be killed). The product passes none.
SendHook = Callable[[str], Awaitable[None] | None]

log = logging.getLogger("app.notify")

SUBJECTS = {
    MailKind.window_open: N_("Открыто окно передачи: {what}, договор №{contract}, {period}"),
    MailKind.last_day: N_("Сегодня последний день передачи: {what}, договор №{contract}, "
                          "{period}"),
    MailKind.results: N_("Результат обработки переданных показаний"),
    MailKind.verification: N_("Срок поверки прибора учёта {serial}: {due}"),
    MailKind.receipt: N_("Квитанция о передаче № {number}"),
    MailKind.new_user: N_("К договору №{contract} подключён новый пользователь: {email}"),
}
# Network-level failures: SMTP is down, stop this run (the rows wait for the next one).
SMTP_DOWN = (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(ROOT / "templates" / "mail")),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        extensions=["jinja2.ext.i18n"],
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    env.filters.update(date=i18n.format_date, m3=i18n.format_m3, period=i18n.format_period,
                       datetime=i18n.format_datetime, reason=i18n.format_reason)
    return env


def base_url() -> str:
    return get_settings().public_url


def unsubscribe_url(user_id: int, kind: str) -> str | None:
    if kind not in MAIL_FLAGS:
        return None
    return f"{base_url()}/unsubscribe/{make_token(get_settings().secret_key, user_id, kind)}"


def message_id(key: str) -> str:
    """Derived from the event key: a resend after a crash carries the same Message-ID."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{MESSAGE_ID_DOMAIN}>"


def _parsed(payload: dict[str, Any]) -> dict[str, Any]:
    """ISO dates back to dates, values back to Decimals (JSON keeps strings)."""
    out: dict[str, Any] = {}
    for name, value in payload.items():
        if name in ("period", "opens", "closes", "due", "read_on") and isinstance(value, str):
            value = date.fromisoformat(value)
        elif name == "created_at" and isinstance(value, str):
            value = datetime.fromisoformat(value)
        elif name == "value" and isinstance(value, str):
            value = Decimal(value)
        elif name == "lines":
            value = [_parsed(line) for line in value]
        elif name == "reason":  # billing's reject reason: code + params, else its text
            value = RejectReason.of(payload.get("reason_code"), payload.get("reason_params"),
                                    value)
        out[name] = value
    return out


def render(kind: str, payload: dict[str, Any], user_id: int, locale: str
           ) -> tuple[str, str, str]:
    """(subject, text, html) of one mail in the user's locale."""
    token = i18n.current_locale.set(i18n.pick_locale(locale))
    try:
        m = _parsed(payload)
        _ = i18n.gettext
        fields = {k: v for k, v in m.items() if not isinstance(v, list)}
        for name in ("period",):
            if name in fields:
                fields[name] = i18n.format_period(fields[name])
        if "due" in fields:
            fields["due"] = i18n.format_date(fields["due"])
        what = _(METER_KIND_NAMES[m["kind"]]) if m.get("kind") in METER_KIND_NAMES else ""
        subject = _(SUBJECTS[kind]).format(what=what, **fields)
        context = {
            "m": m, "kind": kind, "subject": subject, "base_url": base_url(),
            "unsubscribe_url": unsubscribe_url(user_id, kind), "what": what,
            "kind_names": {str(k): _(v) for k, v in METER_KIND_NAMES.items()},
            "line_status": {str(k): _(v) for k, v in LINE_STATUS_LABELS.items()},
        }
        env = environment()
        text = env.get_template(f"{kind}.txt").render(context)
        html = env.get_template(f"{kind}.html").render(context)
        return subject, text, html
    finally:
        i18n.current_locale.reset(token)


def compose(mail: q.OutgoingMail):
    headers = {}
    if url := unsubscribe_url(mail.user_id, mail.kind):
        headers = {"List-Unsubscribe": f"<{url}>",
                   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return build_message(mail.email, mail.subject or "", mail.body_text or "",
                         html=mail.body_html, headers=headers, message_id=message_id(mail.key))


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: 1, 2, 4, … minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


async def send_pending(limit: int = 500, *, hook: SendHook | None = None) -> dict[str, int]:
    """Send the outbox's due rows, one transaction per row; stops early when SMTP is down."""
    counts = {"sent": 0, "failed": 0}
    for _ in range(limit):
        async with db.transaction():
            mail = await q.claim_next()
            if mail is None:
                break
            try:
                if mail.subject is None:
                    subject, text, html = render(mail.kind, mail.payload, mail.user_id,
                                                 mail.locale)
                    await q.store_rendered(mail.id, subject, text, html)
                    mail = q.OutgoingMail(**{**mail.__dict__, "subject": subject,
                                             "body_text": text, "body_html": html})
                if hook is not None and inspect.isawaitable(result := hook("claimed")):
                    await result
                where = await asyncio.to_thread(deliver, compose(mail))
            except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
                delay = retry_delay(mail.attempts + 1)
                await q.mark_failed(mail.id, f"{type(exc).__name__}: {exc}", delay)
                counts["failed"] += 1
                log.warning("mail %s to %s not sent (%s), next attempt in %s", mail.key,
                            mail.email, exc, delay)
                if isinstance(exc, SMTP_DOWN):
                    break
                continue
            await q.mark_sent(mail.id)
            counts["sent"] += 1
            log.info("mail %s to %s sent via %s", mail.key, mail.email, where)
    return counts
