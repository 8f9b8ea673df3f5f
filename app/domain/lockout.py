"""Login throttling rules that lock out neither the owner nor a colleague (issue 18, F3).

Three counters (app/throttle.py keeps them in Redis):
- per (account, client address): strict, 5 failures in 15 minutes, then that pair waits;
- per account, from browsers it does not know: generous — never a lockout, a growing delay
  after the account's last failure (1, 2, 4 … seconds, at most 5 minutes);
- per device cookie (OWASP "device cookies"): a browser in which the account logged in
  before carries a signed cookie; it is judged only by its own failures, so strangers'
  failures elsewhere neither delay nor lock it out.
"""

from __future__ import annotations

import hashlib
import hmac

FREE_FAILURES = 5  # account failures before unknown browsers are delayed at all
MAX_DELAY_SECONDS = 300


def account_delay(failures: int) -> int:
    """Seconds an unknown browser waits after the account's last failure, given how many
    failures the account has had in the window."""
    if failures < FREE_FAILURES:
        return 0
    return min(2 ** min(failures - FREE_FAILURES, 16), MAX_DELAY_SECONDS)


def _signature(secret: str, email: str, nonce: str) -> str:
    message = f"device|{email.lower()}|{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def device_cookie(secret: str, email: str, nonce: str) -> str:
    """The cookie value that marks this browser as one the account logged in from."""
    return f"{nonce}.{_signature(secret, email, nonce)}"


def device_nonce(secret: str, email: str, cookie: str | None) -> str | None:
    """The cookie's nonce when it was issued to this account by this app, else None."""
    if not cookie or not cookie.isascii() or cookie.count(".") != 1:
        return None
    nonce, signature = cookie.split(".")
    if not nonce or len(nonce) > 64:
        return None
    return nonce if hmac.compare_digest(signature, _signature(secret, email, nonce)) else None
