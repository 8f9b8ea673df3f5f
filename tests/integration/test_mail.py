"""Mail goes through a real SMTP conversation when SMTP_URL is set (issue 2), not to var/mail:
a real SMTP server (aiosmtpd) receives it."""

from __future__ import annotations

import socket

import pytest

from app import mail
from app.settings import get_settings
from tests.smtp import SmtpSink


@pytest.fixture
def smtp_server(monkeypatch, tmp_path):
    with SmtpSink(auth=True) as sink:
        monkeypatch.setenv("SMTP_URL", f"smtp://mailer:s%40cret@127.0.0.1:{sink.port}")
        monkeypatch.setenv("VAR_DIR", str(tmp_path))
        get_settings.cache_clear()
        yield sink
    get_settings.cache_clear()


def test_send_mail_speaks_smtp_when_smtp_url_is_set(smtp_server, tmp_path):
    where = mail.send_mail("user@example.ru", "Смена пароля", "Ссылка: https://x/reset/abc")
    assert where == "smtp://127.0.0.1"
    [(mail_from, rcpt_tos, _)] = smtp_server.envelopes
    assert rcpt_tos == ["user@example.ru"] and mail_from == mail.FROM_ADDRESS
    [message] = smtp_server.messages()
    assert message["To"] == "user@example.ru" and message["Subject"] == "Смена пароля"
    assert "https://x/reset/abc" in message.get_content()
    assert not (tmp_path / "mail").exists()  # nothing written as .eml


def test_smtp_login_is_used_when_the_url_has_credentials(smtp_server):
    mail.send_mail("user@example.ru", "s", "b")
    assert [(login, password) for _, login, password in smtp_server.logins] == [
        (b"mailer", b"s@cret")]


def test_unreachable_smtp_raises_instead_of_pretending(monkeypatch, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        with pytest.raises(OSError):
            mail.send_mail("user@example.ru", "s", "b")
    finally:
        get_settings.cache_clear()
