"""A real SMTP server for the mail tests: aiosmtpd in its own thread, keeping what it got."""

from __future__ import annotations

import threading
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.helpers import free_port


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.sink.lock:
            self.sink.envelopes.append(
                (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


class SmtpSink:
    """`with SmtpSink() as sink:` → sink.url for SMTP_URL, sink.messages() once received."""

    def __init__(self, port: int | None = None, auth: bool = False) -> None:
        self.port = port or free_port()
        self.lock = threading.Lock()
        self.envelopes: list[tuple[str, list[str], bytes]] = []
        self.logins: list[tuple[str, bytes, bytes]] = []
        kwargs = {}
        if auth:
            kwargs = {"authenticator": self._accept_any, "auth_require_tls": False}
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     **kwargs)

    def _accept_any(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.logins.append((mechanism, auth_data.login, auth_data.password))
        return AuthResult(success=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [message_from_bytes(raw, policy=default_policy)
                    for _, _, raw in self.envelopes]

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
