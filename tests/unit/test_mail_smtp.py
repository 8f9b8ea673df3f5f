"""Mail goes through a real SMTP conversation when SMTP_URL is set (issue 2), not to var/mail."""

from __future__ import annotations

import socket
import socketserver
import threading

import pytest

from app import mail
from app.settings import get_settings


class FakeSmtp(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    def handle(self):
        self.wfile.write(b"220 fake ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line.split(b" ", 1)[0].strip().upper()
            self.server.log.append(line.decode().strip())
            if verb == b"EHLO":
                self.wfile.write(b"250-fake\r\n250 AUTH PLAIN\r\n")
            elif verb == b"AUTH":
                self.wfile.write(b"235 ok\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go\r\n")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    data += self.rfile.readline()
                self.server.messages.append(data.decode())
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server(monkeypatch, tmp_path):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), FakeSmtp)
    server.daemon_threads = True
    server.messages, server.log = [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    monkeypatch.setenv("SMTP_URL", f"smtp://mailer:s%40cret@127.0.0.1:{port}")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield server
    server.shutdown()
    server.server_close()
    get_settings.cache_clear()


def test_send_mail_speaks_smtp_when_smtp_url_is_set(smtp_server, tmp_path):
    where = mail.send_mail("user@example.ru", "Смена пароля", "Ссылка: https://x/reset/abc")
    assert where == "smtp://127.0.0.1"
    [message] = smtp_server.messages
    assert "To: user@example.ru" in message and "https://x/reset/abc" in message
    assert any(line.upper().startswith("RCPT TO:<USER@EXAMPLE.RU>") for line in smtp_server.log)
    assert any(line.upper().startswith("AUTH PLAIN") for line in smtp_server.log)
    assert not (tmp_path / "mail").exists()  # nothing written as .eml


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
