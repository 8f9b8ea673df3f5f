"""Login and reminder throttling per e-mail and per IP (issue 2), through the test client.

The per-IP limits are lowered with monkeypatch so a test needs a few requests, not a hundred;
the controllers read the limits from app.throttle at call time.
"""

from __future__ import annotations

from app import throttle
from tests.helpers import create_user, post_form

REMIND_BLOCKED = "Слишком много запросов. Повторите через 15 минут."
LOGIN_BLOCKED = "Слишком много неудачных попыток входа. Повторите через 15 минут."


async def test_reminder_throttled_per_email(client, clean_db):
    for _ in range(throttle.REMIND_PER_EMAIL.max_count):
        r = await post_form(client, "/password/remind", {"email": "Who@Example.ru"})
        assert r.status_code != 429
    r = await post_form(client, "/password/remind", {"email": "who@example.ru"})
    assert r.status_code == 429
    assert REMIND_BLOCKED in r.text
    other = await post_form(client, "/password/remind", {"email": "someone.else@example.ru"})
    assert other.status_code != 429


async def test_reminder_throttled_per_ip(client, clean_db, monkeypatch):
    monkeypatch.setattr(throttle, "REMIND_PER_IP", throttle.Limit("remind:ip", 3, 900))
    for n in range(3):
        r = await post_form(client, "/password/remind", {"email": f"u{n}@example.ru"})
        assert r.status_code != 429
    r = await post_form(client, "/password/remind", {"email": "fresh@example.ru"})
    assert r.status_code == 429
    assert REMIND_BLOCKED in r.text


async def test_login_throttled_per_ip_across_emails(auth, clean_db, monkeypatch):
    monkeypatch.setattr(throttle, "LOGIN_PER_IP", throttle.Limit("login:ip", 3, 900))
    await create_user("ip@example.ru", "right-password-1")
    for n in range(3):
        r = await auth.login(f"x{n}@example.ru", "nope-1")
        assert r.status_code == 422
    # Right password, untouched e-mail, same IP: still refused, and said so.
    r = await auth.login("ip@example.ru", "right-password-1")
    assert r.status_code == 429
    assert LOGIN_BLOCKED in r.text
