"""Failure counters in Redis (rule R9, issue 18 F3), shared by every web process."""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from app.domain.lockout import account_delay


@dataclass(frozen=True)
class Limit:
    name: str
    max_count: int
    window_seconds: int


# Login (app/domain/lockout.py says why three counters): the (account, client) pair strictly,
# a trusted browser (device cookie) by its own failures, the account by growing delays.
LOGIN_PER_PAIR = Limit("login:pair", 5, 15 * 60)
LOGIN_PER_DEVICE = Limit("login:device", 5, 15 * 60)
LOGIN_PER_ACCOUNT = Limit("login:account", 10_000, 60 * 60)  # a count, refused by delay only
LOGIN_PER_IP = Limit("login:ip", 100, 15 * 60)
REMIND_PER_EMAIL = Limit("remind:email", 5, 15 * 60)
REMIND_PER_IP = Limit("remind:ip", 100, 15 * 60)
REGISTER_PER_IP = Limit("register:ip", 30, 60 * 60)
CONNECT_PER_USER = Limit("connect:user", 10, 60 * 60)
PROFILE_PASSWORD_PER_USER = Limit("profile-password:user", 5, 15 * 60)  # wrong current password
EMAIL_CHANGE_PER_USER = Limit("email-change:user", 5, 60 * 60)  # links mailed to new addresses

_clock = time.time  # the account delay's clock (a test moves it)


def _key(limit: Limit, subject: str) -> str:
    return f"throttle:{limit.name}:{subject.lower()}"


async def is_blocked(redis: Redis, *checks: tuple[Limit, str]) -> bool:
    """True when any (limit, subject) has reached its count in the current window."""
    if not checks:
        return False
    values = await redis.mget([_key(limit, subject) for limit, subject in checks])
    return any(
        value is not None and int(value) >= limit.max_count
        for (limit, _), value in zip(checks, values, strict=True)
    )


async def hit(redis: Redis, *checks: tuple[Limit, str]) -> None:
    """Count one event; the window starts at the first event (fixed window)."""
    async with redis.pipeline(transaction=True) as pipe:
        for limit, subject in checks:
            key = _key(limit, subject)
            # SET NX EX starts the window (EXPIRE NX needs Redis 7; the embedded one is 6.2).
            pipe.set(key, 0, ex=limit.window_seconds, nx=True)
            pipe.incr(key)
        await pipe.execute()


async def clear(redis: Redis, limit: Limit, subject: str) -> None:
    await redis.delete(_key(limit, subject))


def _last_key(email: str) -> str:
    return _key(LOGIN_PER_ACCOUNT, email) + ":last"


async def account_wait(redis: Redis, email: str) -> int:
    """Seconds an unknown browser must still wait before trying this account (0: go on)."""
    count, last = await redis.mget([_key(LOGIN_PER_ACCOUNT, email), _last_key(email)])
    if count is None or last is None:
        return 0
    left = float(last) + account_delay(int(count)) - _clock()
    return max(0, int(left + 0.999))


async def hit_account(redis: Redis, email: str) -> None:
    """Count one failure on the account and remember when it happened."""
    await hit(redis, (LOGIN_PER_ACCOUNT, email))
    await redis.set(_last_key(email), repr(_clock()), ex=LOGIN_PER_ACCOUNT.window_seconds)
