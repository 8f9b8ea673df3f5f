"""Outgoing mail: through SMTP_URL when set, else as .eml files under var/mail/."""

from __future__ import annotations

import smtplib
import time
import uuid
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from app.settings import get_settings

FROM_ADDRESS = "noreply@izhvodokanal.example"


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = FROM_ADDRESS
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@portal>"
    msg.set_content(body)
    return msg


def send_mail(to: str, subject: str, body: str) -> str:
    """Deliver one message; returns where it went (SMTP host or the .eml path)."""
    settings = get_settings()
    msg = build_message(to, subject, body)
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

