"""Outgoing mail: through SMTP_URL when set, else as .eml files under var/mail/."""

from __future__ import annotations

import smtplib
import time
import uuid
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import formatdate
from urllib.parse import unquote, urlparse

from app.settings import get_settings

FROM_ADDRESS = "noreply@izhvodokanal.example"
# Header lines up to RFC 5322's 998 characters: a long List-Unsubscribe URL must stay one
# plain token (the default 78 would fold it into RFC 2047 encoded words mail clients ignore).
POLICY = default_policy.clone(max_line_length=998)
MESSAGE_ID_DOMAIN = "izhvodokanal.example"


def build_message(to: str, subject: str, body: str, *, html: str | None = None,
                  headers: dict[str, str] | None = None,
                  message_id: str | None = None) -> EmailMessage:
    """A plain-text message, or multipart/alternative (text, then HTML) when `html` is given."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = FROM_ADDRESS
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@{MESSAGE_ID_DOMAIN}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def deliver(msg: EmailMessage) -> str:
    """Hand one message over; returns where it went (SMTP host or the .eml path). Raises
    OSError / smtplib.SMTPException when the SMTP server does not take it."""
    settings = get_settings()
    if settings.smtp_url:
        url = urlparse(settings.smtp_url)
        smtp_cls = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
        with smtp_cls(url.hostname or "localhost", url.port or 25, timeout=30) as smtp:
            if url.scheme == "smtp+starttls":
                smtp.starttls()
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.send_message(msg)
        return f"smtp://{url.hostname}"
    outbox = settings.var_dir / "mail"
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(bytes(msg))
    tmp.rename(path)  # readers never see a half-written file
    return str(path)


def send_mail(to: str, subject: str, body: str) -> str:
    """Deliver one plain-text message; returns where it went (SMTP host or the .eml path)."""
    return deliver(build_message(to, subject, body))
