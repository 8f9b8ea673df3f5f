"""Failure counters in Redis (rule R9), shared by every web process."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis


@dataclass(frozen=True)
class Limit:
    name: str
    max_count: int
    window_seconds: int


LOGIN_PER_EMAIL = Limit("login:email", 5, 15 * 60)
LOGIN_PER_IP = Limit("login:ip", 100, 15 * 60)
REMIND_PER_EMAIL = Limit("remind:email", 5, 15 * 60)
REMIND_PER_IP = Limit("remind:ip", 100, 15 * 60)
REGISTER_PER_IP = Limit("register:ip", 30, 60 * 60)
CONNECT_PER_USER = Limit("connect:user", 10, 60 * 60)
PROFILE_PASSWORD_PER_USER = Limit("profile-password:user", 5, 15 * 60)  # wrong current password
EMAIL_CHANGE_PER_USER = Limit("email-change:user", 5, 60 * 60)  # links mailed to new addresses


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
