"""One-click unsubscribe links (RFC 8058): a token signed over user id + mail kind."""

from __future__ import annotations

import base64
import hashlib
import hmac

from app.domain.notifications import MAIL_FLAGS


def _signature(secret: str, user_id: int, kind: str) -> str:
    mac = hmac.new(secret.encode(), f"unsubscribe:{user_id}:{kind}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:18]).decode().rstrip("=")


def make_token(secret: str, user_id: int, kind: str) -> str:
    if kind not in MAIL_FLAGS:
        raise ValueError(f"mail kind {kind!r} has no unsubscribe switch")
    return f"{user_id}.{kind}.{_signature(secret, user_id, kind)}"


def read_token(secret: str, token: str) -> tuple[int, str] | None:
    """(user id, kind) of a genuine token, None for anything forged or malformed."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 10:
        return None
    user_id, kind, signature = int(parts[0]), parts[1], parts[2]
    if user_id >= 2**31 or kind not in MAIL_FLAGS or not signature.isascii():
        return None
    if not hmac.compare_digest(signature, _signature(secret, user_id, kind)):
        return None
    return user_id, kind
