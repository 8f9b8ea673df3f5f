"""Login throttling holds across web processes (R9): the counters live in Redis.

Two real servers (`python -m app run`, each its own uvicorn process) on the same database and
Redis; five failed logins spread over both; the sixth attempt, even with the right password,
is refused by either.
"""

from __future__ import annotations

import pytest

from tests.helpers import LiveAuth, flush_redis, in_thread, sql

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def servers(live_server_factory):
    in_thread(flush_redis)  # the test Redis keeps counters between runs (RDB snapshot)
    return live_server_factory(), live_server_factory()




def make_user(email: str, password: str) -> None:
    from app.security import hash_password

    sql("DELETE FROM portal_user WHERE email = $1", email)
    sql("""INSERT INTO portal_user (email, password_hash, full_name, phone, position,
               organization, role, locale, is_active, created_at)
           VALUES ($1, $2, 'Т', '1', 'Т', 'Т', 'subscriber', 'ru', true, now())""",
        email, hash_password(password))


def test_sixth_attempt_refused_on_either_process(servers):
    a, b = (LiveAuth(s.url) for s in servers)
    assert servers[0].proc.pid != servers[1].proc.pid
    make_user("spread@example.ru", "right-password-1")
    for auth in (a, b, a, b, a):
        response = auth.login("spread@example.ru", "wrong-password-0")
        assert response.status_code == 422, response.status_code
    for auth in (b, a):
        refused = auth.login("spread@example.ru", "right-password-1")
        assert refused.status_code == 429
        assert "Повторите через 15 минут" in refused.text
        assert "sid" not in refused.cookies


def test_other_accounts_are_not_locked_out(servers):
    a, b = (LiveAuth(s.url) for s in servers)
    make_user("victim@example.ru", "right-password-1")
    make_user("bystander@example.ru", "right-password-2")
    for auth in (a, b, a, b, a, b):
        auth.login("victim@example.ru", "wrong-password-0")
    ok = b.login("bystander@example.ru", "right-password-2")
    assert ok.status_code == 303  # the per-IP limit is generous: colleagues share an address
