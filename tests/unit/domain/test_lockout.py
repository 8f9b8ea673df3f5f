"""Login throttling rules (issue 18, F3): the account's growing delay and the device cookie."""

import pytest

from app.domain.lockout import (
    FREE_FAILURES,
    MAX_DELAY_SECONDS,
    account_delay,
    device_cookie,
    device_nonce,
)


@pytest.mark.parametrize(
    ("failures", "delay", "why"),
    [
        (0, 0, "no failures"),
        (FREE_FAILURES - 1, 0, "a few typos cost nothing"),
        (FREE_FAILURES, 1, "then one second"),
        (FREE_FAILURES + 1, 2, "doubling"),
        (FREE_FAILURES + 3, 8, "doubling"),
        (FREE_FAILURES + 8, 256, "doubling"),
        (FREE_FAILURES + 9, MAX_DELAY_SECONDS, "capped: never a lockout"),
        (10_000, MAX_DELAY_SECONDS, "capped, however many"),
    ],
)
def test_account_delay(failures, delay, why):
    assert account_delay(failures) == delay, why


SECRET = "s3cret"


@pytest.mark.parametrize(
    ("email", "cookie", "nonce", "why"),
    [
        ("a@b.ru", device_cookie(SECRET, "a@b.ru", "n1"), "n1", "issued to this account"),
        ("A@B.RU", device_cookie(SECRET, "a@b.ru", "n1"), "n1", "the login is case-blind"),
        ("c@b.ru", device_cookie(SECRET, "a@b.ru", "n1"), None, "another account's cookie"),
        ("a@b.ru", device_cookie("other", "a@b.ru", "n1"), None, "not signed by this app"),
        ("a@b.ru", "n1." + "0" * 64, None, "forged signature"),
        ("a@b.ru", "", None, "no cookie"),
        ("a@b.ru", None, None, "no cookie"),
        ("a@b.ru", "n1", None, "no signature"),
        ("a@b.ru", "a.b.c", None, "malformed"),
        ("a@b.ru", "ж." + "0" * 64, None, "not ASCII"),
        ("a@b.ru", device_cookie(SECRET, "a@b.ru", "x" * 65), None, "nonce too long"),
    ],
)
def test_device_nonce(email, cookie, nonce, why):
    assert device_nonce(SECRET, email, cookie) == nonce, why
